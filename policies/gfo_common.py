"""Helpers shared by the CKV_GFO_* checks: the org policy, GPU instance types, checkov's value shapes.

This module runs inside checkov's own virtualenv, so it imports the standard library only.
checkov loads every `.py` in this directory and puts the directory on `sys.path`, which is how
the checks import it as `gfo_common`.

checkov's terraform_json parser wraps every scalar in a one-element list (`"g5.xlarge"` becomes
`["g5.xlarge"]`) and every nested block in a list of dicts; `tags` maps stay plain dicts inside
a one-element list. `first` and `blocks` undo that.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

try:  # inside checkov, this directory is on sys.path; elsewhere policies is a package
    from gfo_facts import glob_match, is_accelerated_instance_type  # noqa: F401 - glob_match is re-exported for the checks
except ImportError:  # pragma: no cover - depends on how the module was imported
    from policies.gfo_facts import glob_match, is_accelerated_instance_type  # noqa: F401

POLICY_ENV = "GENAI_FINOPS_POLICY"
# Keys checkov adds to every parsed block; they are positions, not Terraform arguments.
_POSITION_KEYS = frozenset({"__startline__", "__endline__", "start_line", "end_line", "//"})


class PolicyError(RuntimeError):
    """The org policy file is missing or malformed: the checks cannot judge anything without it."""


@lru_cache(maxsize=1)
def org_policy() -> dict[str, list[str]]:
    """`{"required_tags": [...], "allowed_instance_types": [...]}` from the file $GENAI_FINOPS_POLICY names."""
    path = os.environ.get(POLICY_ENV)
    if not path:
        raise PolicyError(f"{POLICY_ENV} is not set; run these checks through `genai-finops scan`, which writes the org policy file")
    try:
        with open(path, encoding="utf-8") as handle:
            policy = json.load(handle)
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{POLICY_ENV}={path}: cannot read the org policy: {exc}") from None
    for key in ("required_tags", "allowed_instance_types"):
        value = policy.get(key) if isinstance(policy, dict) else None
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            raise PolicyError(f"{POLICY_ENV}={path}: '{key}' must be a non-empty list of strings")
    return {"required_tags": policy["required_tags"], "allowed_instance_types": policy["allowed_instance_types"]}


def first(conf: dict[str, Any], key: str) -> Any:
    """The value of `key` unwrapped from checkov's one-element list; None when absent."""
    value = conf.get(key)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def blocks(conf: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The nested blocks under `key` (e.g. every `tag_specifications`), whatever their JSON shape."""
    value = conf.get(key)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def tags_of(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The literal `tags` map of a resource or block; None when absent or a Terraform expression."""
    found = blocks(conf, "tags")
    if not found:
        return None
    return {key: value for key, value in found[0].items() if key not in _POSITION_KEYS}


def strings(value: Any) -> list[str]:
    """Every string in a scalar or a (nested) list, e.g. `instance_types`."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for element in value for item in strings(element)]
    return []


def is_expression(value: Any) -> bool:
    """A Terraform interpolation such as `${var.type}`: its value is unknown until plan."""
    return isinstance(value, str) and "${" in value


def gpu_resource(resource_type: str, conf: dict[str, Any]) -> bool | None:
    """Whether a resource is (or launches) GPU capacity; None when its type is an unresolved expression.

    A node group counts as GPU when any instance type is an accelerated type (GPU or Neuron,
    gfo_facts) or its AMI type is an accelerator AMI (AL2_x86_64_GPU, AL2023_x86_64_NVIDIA,
    AL2023_x86_64_NEURON, BOTTLEROCKET_x86_64_NVIDIA, per
    https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html#AmazonEKS-Type-Nodegroup-amiType).
    A launch template counts as GPU unless it names a non-GPU instance type: in this blueprint
    launch templates exist only for GPU node groups, and a per-resource check cannot follow the
    node group's reference back to the template.
    """
    if resource_type == "aws_eks_node_group":
        ami_type = first(conf, "ami_type")
        if isinstance(ami_type, str) and any(word in ami_type for word in ("GPU", "NVIDIA", "NEURON")):
            return True
        types = strings(first(conf, "instance_types"))
        if any(is_expression(t) for t in types):
            return None
        return any(is_accelerated_instance_type(t) for t in types)
    instance_type = first(conf, "instance_type")
    if resource_type == "aws_launch_template" and instance_type is None:
        return True
    if not isinstance(instance_type, str) or is_expression(instance_type):
        return None
    return is_accelerated_instance_type(instance_type)


def missing_tags(tags: dict[str, Any] | None, required: list[str]) -> list[str]:
    """Required keys that are absent or have an empty value."""
    tags = tags or {}
    return [key for key in required if key not in tags or tags[key] in (None, "")]
