"""docs/manifest.md, the manifest reference that ships with the tool, generated from the model
(its JSON Schema, the same one `genai-finops schema` prints and validate enforces) and the rules
validation checks across fields and files. `genai-finops schema --format markdown` prints it;
tests/test_reference.py keeps docs/manifest.md equal to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generators import amis, tags
from generators.manifest.validation import MAX_EMAIL_SUBSCRIBERS, MAX_SSM_ACTION_INSTANCES
from generators.model import OrgPolicy, TeamManifest

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests"

# The rules that one field's schema cannot say, in the words of the checks that enforce them
# (generators/manifest/validation.py and schedule_rules.py; the model's own validators).
TEAM_RULES = (
    "The file is named after the team: `teams/<team>.yaml`, and `team` is unique across all manifests.",
    "`region` is one of the org's `allowed_regions`; a pool's `cluster` is a key of the org's `clusters`, in the team's region.",
    "Every instance type is a known accelerated (GPU or Neuron) type and matches one of the org's `allowed_instance_types`; "
    "training is NVIDIA-only; a pool's types are all NVIDIA or all Neuron.",
    f"`training[].root_volume_gb` is at least {amis.DLAMI_ROOT_SNAPSHOT_GB} GiB: the Deep Learning AMI's root snapshot "
    "(EC2 refuses a smaller volume).",
    "Names (`training[].name`, `inference[].name`) are unique within the manifest.",
    "`schedule`: `start` is earlier than `stop` on the same day (no windows across midnight); the time zone is an IANA name "
    "(Europe/Berlin, not UTC+2); a prod manifest has no schedule (off-hours never stops prod); `hours_per_month` fits in "
    "the hours the schedule allows in the longest month.",
    "`tags` may not redefine a tag that comes from a field (Team, Project, Owner, Environment, CostCenter, ModelID); every "
    "tag in the org's `required_tags` must come from a field or `tags`; a resource carries at most "
    f"{tags.MAX_TAGS_PER_RESOURCE} tags; keys at most {tags.TAG_KEY_MAX} and values at most {tags.TAG_VALUE_MAX} characters.",
    f"`budget.monthly_usd` is at most the org's `max_team_monthly_usd`; alerts go to at most {MAX_EMAIL_SUBSCRIBERS} e-mail "
    f"addresses; `on_exceed: deny-new-gpu` needs `action_role_names`; `stop-training` needs training instances (at most "
    f"{MAX_SSM_ACTION_INSTANCES}).",
    "Spot training and spot inference on a prod team need the org's `prod.allow_spot_training` / `prod.allow_spot_inference`.",
    "`min_nodes` <= `desired_nodes` <= `max_nodes`; `autoscaling.min_replicas` <= `max_replicas`; two pools may not autoscale "
    "the same Deployment (cluster, namespace, deployment).",
)
ORG_RULES = (
    "`org.yaml` sits beside `teams/`; every region named (clusters, networks, state) is an AWS region code, and clusters' and "
    "networks' regions are in `allowed_regions`.",
    "A team region with training instances needs a `networks` entry; `state.backend: s3` needs `bucket` and `region`.",
    "A namespace a cluster creates (`create_namespaces: true`) belongs to one team and is never `default` or `kube-*`.",
)


def _kind(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in spec:
        return " or ".join(_kind(s, defs) for s in spec["anyOf"] if s.get("type") != "null")
    if "const" in spec:
        return f"`{spec['const']}`"
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_kind(spec.get('items', {}), defs)}"
    if kind == "object" and "additionalProperties" in spec and isinstance(spec["additionalProperties"], dict):
        return f"map of {_kind(spec['additionalProperties'], defs)}"
    return str(kind)


def _limits(spec: dict[str, Any]) -> str:
    spec = next((s for s in spec.get("anyOf", []) if s.get("type") != "null"), spec)
    words = []
    for key, text in (("minimum", ">= {}"), ("exclusiveMinimum", "> {}"), ("maximum", "<= {}"), ("exclusiveMaximum", "< {}"),
                      ("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
                      ("minItems", "at least {} items"), ("maxItems", "at most {} items"), ("pattern", "matches `{}`")):
        if key in spec:
            words.append(text.format(spec[key]))
    if spec.get("type") == "array" and isinstance(spec.get("items"), dict) and "$ref" not in spec["items"]:
        inner = _limits(spec["items"])
        if inner:
            words.append(f"each {inner.replace('; ', ', ')}")
    return "; ".join(words)


def _default(name: str, spec: dict[str, Any], required: set[str]) -> str:
    if name in required:
        return "required"
    if "default" in spec:
        value = spec["default"]
        return "optional" if value is None else f"default `{str(value).lower() if isinstance(value, bool) else value}`"
    return "optional"


def _cell(text: str) -> str:
    """A table cell: a pipe in a pattern would end the cell (the enum's separators are escaped already)."""
    return text.replace("\\|", "\0").replace("|", "\\|").replace("\0", "\\|")


def _rows(model: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[str]:
    out = []
    required = set(model.get("required", []))
    for name, spec in model.get("properties", {}).items():
        path = f"{prefix}{name}"
        description = " ".join(spec.get("description", "").split())
        cells = [f"`{path}`", _kind(spec, defs), _default(name, spec, required), _limits(spec), description]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        for nested, suffix in _children(spec, defs):
            out += _rows(defs[nested], defs, f"{path}{suffix}.")
    return out


def _children(spec: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, str]]:
    """The nested models under a field: (model name, the path suffix: "", "[]" or ".<name>")."""
    found = []
    for option in spec.get("anyOf", [spec]):
        if "$ref" in option:
            found.append((option["$ref"].rsplit("/", 1)[-1], ""))
        elif option.get("type") == "array" and "$ref" in option.get("items", {}):
            found.append((option["items"]["$ref"].rsplit("/", 1)[-1], "[]"))
        elif option.get("type") == "object" and "$ref" in (option.get("additionalProperties") or {}):
            found.append((option["additionalProperties"]["$ref"].rsplit("/", 1)[-1], ".<name>"))
    return found


def _table(model: type[TeamManifest] | type[OrgPolicy]) -> list[str]:
    schema = model.model_json_schema(mode="validation")
    return ["| field | type | required or default | limits | meaning |", "| --- | --- | --- | --- | --- |",
            *_rows(schema, schema.get("$defs", {}), "")]


def _example(path: Path) -> list[str]:
    return ["```yaml", path.read_text(encoding="utf-8").rstrip("\n"), "```"]


def render() -> str:
    out = [
        "# Manifest reference (version 1)",
        "",
        "<!-- Generated by `genai-finops schema --format markdown` from generators/model.py and the",
        "     rules in generators/manifest/; tests/test_reference.py keeps this file equal to it. -->",
        "",
        "Each team keeps one file, `<manifests>/teams/<team>.yaml`; the platform team keeps one org",
        "policy, `<manifests>/org.yaml`. `genai-finops validate` checks every field and rule below and",
        "names the file, line, column and field of each problem. `genai-finops schema` prints the",
        "same model as JSON Schema for editors. Field names are a public contract: new optional",
        "fields may be added, none is renamed or changes meaning.",
        "",
        "## Team manifest",
        "",
        *_table(TeamManifest),
        "",
        "### Rules across fields and files",
        "",
        *(f"- {rule}" for rule in TEAM_RULES),
        "",
        "### Example (manifests/teams/alpha.yaml)",
        "",
        *_example(EXAMPLES / "teams" / "alpha.yaml"),
        "",
        "## Org policy",
        "",
        *_table(OrgPolicy),
        "",
        "### Rules across fields",
        "",
        *(f"- {rule}" for rule in ORG_RULES),
        "",
        "### Example (manifests/org.yaml)",
        "",
        *_example(EXAMPLES / "org.yaml"),
        "",
    ]
    return "\n".join(out)
