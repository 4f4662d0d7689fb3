"""Running the synthesized stacks through a real Terraform with the local hashicorp/aws mirror.

The stacks pin hashicorp/aws 6.25.0 and hashicorp/kubernetes 2.38.0; this machine carries
Terraform 1.11 and a filesystem mirror of hashicorp/aws 5.100.0 only, and nothing can be
downloaded. So each stack is copied with:
- no backend (state in the working folder), the aws constraint relaxed to the mirror's version,
  a CLI config whose only installation method is the mirror;
- the Kubernetes provider and its resources set aside (no provider, no cluster to talk to);
- for apply against moto, the resources and arguments in MOTO_GAPS set aside, each with why,
  and whatever refers to them (transitively).
Nothing else is changed: validate and plan see every AWS resource and argument as synthesized.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
MIRROR = Path(os.environ.get("GENAI_FINOPS_TF_MIRROR", "/opt/tf-plugins"))
MIRROR_VERSION = "5.100.0"
PROVIDER_DIR = MIRROR / "registry.terraform.io" / "hashicorp" / "aws" / MIRROR_VERSION

# Arguments the stacks use that hashicorp/aws 5.100.0 rejects and 6.x accepts, by resource type,
# each with the changelog entry that added it. `terraform validate` runs with exactly these
# removed, so any other rejection fails the test. Today the stacks use none: validate passes on
# 5.100.0 as synthesized (checked by test_the_allow_list_holds_only_what_5_100_rejects).
ADDED_IN_6X: dict[tuple[str, str], str] = {}

# What the moto server cannot stand for at apply time (moto 5.x, server mode), so the apply and
# destroy against it set these aside. validate and plan still see them.
# Observed here (Terraform 1.11.4, hashicorp/aws 5.100.0, moto 5 in server mode): each of these
# was still creating after 5 minutes, or failed for want of Docker.
MOTO_GAPS_RESOURCES: dict[str, str] = {
    "aws_autoscaling_group_tag": "moto's EKS node groups create no Auto Scaling group, so the tag's group never appears",
    "aws_budgets_budget": "the provider's create never completes against moto's Budgets (still creating after 5 minutes)",
    "aws_lambda_invocation": "moto runs Lambda code in Docker, which this machine has not",
    # moto 5.2.5's Bedrock has custom models, customization jobs and invocation logging only; the
    # profile is planned with the rest (a plan creates nothing), and validated by Terraform.
    "aws_bedrock_inference_profile": "moto has no Bedrock CreateInferenceProfile",
}
MOTO_GAPS_ARGUMENTS: dict[tuple[str, str], str] = {
    ("aws_instance", "monitoring"): "moto's MonitorInstances never reports detailed monitoring as enabled, and the provider waits for it",
}


# Attributes moto does not read back as AWS does, so a plan right after an apply shows them
# changing (and, for aws_instance, replacing) although nothing changed. Observed here.
MOTO_READBACK_GAPS: dict[tuple[str, str], str] = {
    ("aws_instance", "associate_public_ip_address"): "moto gives an instance a public address even when the request says no",
    ("aws_instance", "instance_market_options"): "moto's DescribeInstances has no spot lifecycle or spot options",
    ("aws_lambda_function", "dead_letter_config"): "moto's GetFunction has no DeadLetterConfig",
    ("aws_eks_node_group", "remote_access"): "moto answers every node group with a remote_access key pair (eksKeypair) nobody asked for",
}


def unexplained_changes(plan: dict[str, Any]) -> list[str]:
    """Changes in a `terraform show -json` plan that neither a moto read-back gap explains nor
    follow from one (a value only known after apply because what it refers to is replaced).
    A replacement is judged by the attributes that force it (`replace_paths`), an update by the
    attributes it changes."""
    found = []
    for change in plan.get("resource_changes", []):
        body = change["change"]
        actions = body["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        before, after, unknown = body.get("before") or {}, body.get("after") or {}, body.get("after_unknown") or {}
        if "create" in actions and "delete" in actions:
            keys = sorted({path[0] for path in body.get("replace_paths") or [[]] if path})
        elif actions == ["update"]:
            keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key) and (after.get(key) is not None or key in unknown))
        else:
            found.append(f"{change['address']}: {'/'.join(actions)}")
            continue
        for key in keys or ["(no reason given)"]:
            if (change["type"], key) in MOTO_READBACK_GAPS or unknown.get(key):
                continue
            found.append(f"{change['address']}: {key} {json.dumps(before.get(key))[:100]} -> {json.dumps(after.get(key))[:100]}")
    return found


def missing() -> str | None:
    """Why the loop cannot run here, or None."""
    if not Path(TERRAFORM).exists():
        return "no terraform binary on PATH (Terraform 1.11 is expected at /usr/local/bin/terraform)"
    if not (PROVIDER_DIR / "linux_amd64").exists():
        return f"no hashicorp/aws {MIRROR_VERSION} provider mirror at {PROVIDER_DIR} (set GENAI_FINOPS_TF_MIRROR to the mirror's root)"
    return None


def cli_config(folder: Path) -> Path:
    """A Terraform CLI config whose only installation method is the local mirror."""
    path = folder / "terraform.tfrc"
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        "}\n"
    )
    return path


def _references(value: Any, addresses: set[str]) -> bool:
    text = json.dumps(value)
    return any(address in text for address in addresses)


def for_mirror(stack: dict[str, Any], *, moto: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The stack as the mirror's provider can take it; and the addresses set aside."""
    config = copy.deepcopy(stack)
    terraform = config["terraform"]
    terraform.pop("backend", None)
    terraform["required_providers"] = {"aws": {"source": "hashicorp/aws", "version": MIRROR_VERSION}}
    config.get("provider", {}).pop("kubernetes", None)
    resources: dict[str, dict[str, Any]] = config.get("resource", {})
    aside = {f"{kind}.{name}" for kind in resources if kind.startswith("kubernetes_") for name in resources[kind]}
    if moto:
        aside |= {f"{kind}.{name}" for kind in resources if kind in MOTO_GAPS_RESOURCES for name in resources[kind]}
    # whatever refers to what was set aside goes too, until nothing does
    while True:
        more = {
            f"{kind}.{name}"
            for kind, instances in resources.items()
            for name, body in instances.items()
            if f"{kind}.{name}" not in aside and _references({k: v for k, v in body.items() if k != "depends_on"}, aside)
        }
        if not more:
            break
        aside |= more
    for address in aside:
        kind, name = address.split(".", 1)
        resources[kind].pop(name, None)
    for kind in [kind for kind, instances in resources.items() if not instances]:
        resources.pop(kind)
    for kind, instances in resources.items():
        for body in instances.values():
            if "depends_on" in body:
                body["depends_on"] = [ref for ref in body["depends_on"] if ref not in aside]
            for (gap_kind, argument) in MOTO_GAPS_ARGUMENTS if moto else ():
                if kind == gap_kind:
                    body.pop(argument, None)
            for (added_kind, argument) in ADDED_IN_6X:
                if kind == added_kind:
                    body.pop(argument, None)
    for name in [name for name, output in config.get("output", {}).items() if _references(output, aside)]:
        config["output"].pop(name)
    return config, sorted(aside)


def prepare(stack_dir: Path, work: Path, *, moto: bool = False) -> tuple[Path, list[str]]:
    """A working folder for one synthesized stack (its JSON and assets)."""
    config, aside = for_mirror(json.loads((stack_dir / "cdk.tf.json").read_text()), moto=moto)
    work.mkdir(parents=True)
    (work / "main.tf.json").write_text(json.dumps(config, indent=1))
    if (stack_dir / "assets").exists():
        shutil.copytree(stack_dir / "assets", work / "assets")
    return work, aside


def run(work: Path, env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TERRAFORM, *args, "-no-color", *(["-input=false"] if args[0] in ("init", "plan", "apply", "destroy") else [])],
        cwd=work, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def environment(tfrc: Path, **extra: str) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR", "LANG") if name in os.environ}
    return {**keep, "TF_CLI_CONFIG_FILE": str(tfrc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **extra}
