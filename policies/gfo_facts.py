"""Facts about AWS that several parts of genai-finops must agree on, in one stdlib-only module.

Imported by the checkov checks (as `gfo_facts`: checkov puts this directory on sys.path), by
generators/ and modules/ (as `policies.gfo_facts`), and copied into nothing: the off-hours
Lambda keeps its own team and region patterns, and tests/test_facts.py keeps them equal to these.
"""

from __future__ import annotations

import re

# Accelerated instance families: the NVIDIA and AMD GPU families of EC2's accelerated computing
# types (P2-P6, G3-G7, Gr6 today) and the AWS Neuron families, Inferentia (inf1, inf2) and
# Trainium (trn1, trn1n, trn2), whose NeuronCores are the accelerator, per
# https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html. The Gaudi (dl1), Qualcomm (dl2q)
# and FPGA (f1, f2) types are accelerated too but run nothing genai-finops provisions; they are
# not counted. A family is a prefix and a generation digit, then any suffix (g4dn, g4ad, p5en,
# p6-b200, trn1n ...). The digit ranges leave room for generations to come, so a new family is
# counted before the catalog prices it. Validation, the catalog (generators/catalog.py), the
# CKV_GFO checks and the deny-new-gpu policy all use this one definition.
ACCELERATED_FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("p", "23456789"), ("g", "3456789"), ("gr", "456789"), ("inf", "123456789"), ("trn", "123456789"),
)
ACCELERATED_INSTANCE_TYPE = re.compile(
    r"^(" + "|".join(f"{prefix}[{digits}]" for prefix, digits in ACCELERATED_FAMILY_PREFIXES) + r")[a-z0-9-]*\.[a-z0-9-]+$"
)
# The same set as IAM StringLike patterns on ec2:InstanceType (`*` matches any characters), for
# a policy that must deny every accelerated launch: g3*..g9*, p2*..p9*, gr4*..gr9*, inf1*..inf9*,
# trn1*..trn9*.
ACCELERATED_INSTANCE_TYPE_GLOBS: tuple[str, ...] = tuple(
    f"{prefix}{digit}*" for prefix, digits in ACCELERATED_FAMILY_PREFIXES for digit in digits
)


def is_accelerated_instance_type(instance_type: str) -> bool:
    return ACCELERATED_INSTANCE_TYPE.match(instance_type) is not None


def glob_match(pattern: str, value: str) -> bool:
    """org.yaml's instance type patterns (`g5.*`, `p5.?8xlarge`): `*` any characters, `?` one,
    everything else literal (unlike fnmatch, `[` is not a character class)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


# Manifest v1 team names (docs/manifest.md): lower case, digits and hyphens, 3 to 30.
TEAM_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$"
# AWS region codes (us-east-1, ap-southeast-2, us-gov-west-1, us-isob-east-1 ...), per
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"
