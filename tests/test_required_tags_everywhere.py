"""Every taggable resource in every synthesized stack carries every required tag.

"Taggable" is decided by the provider itself: a resource type whose cdktf class accepts
`tags`. Effective tags are the provider's default_tags plus the resource's own, as AWS applies
them; launch-template tag specifications and instance root volumes get no default tags, so they
must carry every tag themselves.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import pytest

from generators.manifest.loading import load_manifest_set

REQUIRED = tuple(load_manifest_set(["manifests"]).org.required_tags)


@functools.lru_cache(maxsize=None)
def accepts_tags(resource_type: str) -> bool:
    provider, _, name = resource_type.partition("_")
    package = {"aws": "cdktf_cdktf_provider_aws"}.get(provider)
    if package is None:  # kubernetes objects carry labels, not AWS tags
        return False
    module = importlib.import_module(f"{package}.{name}")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass) if getattr(c, "TF_RESOURCE_TYPE", None) == resource_type]
    return "tags" in inspect.signature(cls.__init__).parameters


def missing_tags(synthesized) -> list[str]:
    problems = []
    for stack_name, stack in synthesized.stacks.items():
        # Each resource gets the default tags of the provider it names ("aws.<alias>"), or of the
        # default provider: the governance stack has one aliased provider per extra region.
        defaults_of = {
            f"aws.{p['alias']}" if "alias" in p else "aws": p.get("default_tags", [{}])[0].get("tags", {})
            for p in stack["provider"]["aws"]
        }
        for resource_type, resources in stack.get("resource", {}).items():
            for name, resource in resources.items():
                where = f"{stack_name}: {resource_type}.{name}"
                defaults = defaults_of[resource.get("provider", "aws")] if resource_type.startswith("aws_") else {}
                if accepts_tags(resource_type):
                    missing = [k for k in REQUIRED if k not in {**defaults, **resource.get("tags", {})}]
                    if missing:
                        problems.append(f"{where} lacks {missing}")
                for spec in resource.get("tag_specifications", []):
                    missing = [k for k in REQUIRED if k not in spec.get("tags", {})]
                    if missing:
                        problems.append(f"{where} tag_specifications[{spec['resource_type']}] lacks {missing}")
                root = resource.get("root_block_device")
                if isinstance(root, dict):
                    missing = [k for k in REQUIRED if k not in root.get("tags", {})]
                    if missing:
                        problems.append(f"{where} root_block_device lacks {missing}")
    return problems


def test_every_taggable_resource_has_every_required_tag(synthesized_examples):
    assert missing_tags(synthesized_examples) == []


def test_the_walker_finds_a_missing_tag(synthesized_examples):
    """The walker itself must be able to fail: drop one tag from a launch-template spec."""
    import copy

    broken = copy.deepcopy(synthesized_examples)
    template = next(iter(broken.stacks["bravo"]["resource"]["aws_launch_template"].values()))
    del template["tag_specifications"][0]["tags"]["CostCenter"]
    # A tag missing from a resource is fine while default_tags supply it, and not once they do not.
    (topic,) = broken.stacks["alpha"]["resource"]["aws_sns_topic"].values()
    del topic["tags"]["Project"]
    assert not any(p.startswith("alpha: aws_sns_topic") for p in missing_tags(broken))
    (provider,) = broken.stacks["alpha"]["provider"]["aws"]
    del provider["default_tags"][0]["tags"]["Project"]
    problems = missing_tags(broken)
    assert any("bravo: aws_launch_template" in p and "CostCenter" in p for p in problems)
    assert any(p.startswith("alpha: aws_sns_topic") and "Project" in p for p in problems)


@pytest.mark.parametrize("resource_type,taggable", [("aws_instance", True), ("aws_iam_role_policy_attachment", False), ("aws_eks_node_group", True)])
def test_taggable_is_read_from_the_provider_schema(resource_type, taggable):
    assert accepts_tags(resource_type) is taggable
