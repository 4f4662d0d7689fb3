"""One home for each fact (issue 18): policies/gfo_facts.py, and parity wherever a copy is unavoidable."""

from __future__ import annotations

import pytest

from generators import catalog
from lambdas.offhours import handler
from policies import gfo_facts


def test_the_lambda_copies_of_the_team_and_region_patterns_equal_the_facts():
    # The function's archive holds lambdas/offhours only, so it keeps copies.
    assert handler.TEAM_PATTERN.pattern == gfo_facts.TEAM_NAME_PATTERN
    assert handler.REGION_PATTERN.pattern == gfo_facts.REGION_PATTERN


def test_every_type_the_catalog_knows_is_an_accelerated_type():
    assert [t for t in catalog.INSTANCE_TYPES if not gfo_facts.is_accelerated_instance_type(t)] == []


@pytest.mark.parametrize(
    ("instance_type", "accelerated"),
    [
        ("g4dn.xlarge", True), ("g4ad.xlarge", True), ("p3.2xlarge", True), ("p5en.48xlarge", True),
        ("gr6.4xlarge", True), ("g6e.2xlarge", True), ("p6-b200.48xlarge", True), ("g7e.2xlarge", True),
        ("trn1.32xlarge", True), ("trn1n.32xlarge", True), ("trn2.48xlarge", True), ("inf1.xlarge", True),
        ("inf2.xlarge", True), ("f1.2xlarge", False), ("dl1.24xlarge", False), ("m5.large", False),
        ("c7g.xlarge", False), ("i4i.large", False), ("t3.micro", False), ("g5", False), ("gpu.large", False),
    ],
)  # fmt: skip
def test_accelerated_types_and_the_iam_globs_agree(instance_type, accelerated):
    """The regex the checks use and the StringLike list the deny-new-gpu policy uses are one set."""
    assert gfo_facts.is_accelerated_instance_type(instance_type) is accelerated
    in_globs = any(gfo_facts.glob_match(glob, instance_type) for glob in gfo_facts.ACCELERATED_INSTANCE_TYPE_GLOBS)
    # A glob cannot tell a family from a bare name ("g5"); every real type has a dot.
    assert in_globs is accelerated or "." not in instance_type


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-5", "us-isob-east-1"])
def test_region_codes_match_in_both_places(region):
    assert handler.REGION_PATTERN.match(region) and __import__("re").match(gfo_facts.REGION_PATTERN, region)


def test_the_checks_use_the_facts():
    import policies.gfo_common as common

    assert common.is_accelerated_instance_type is gfo_facts.is_accelerated_instance_type
    assert common.glob_match is gfo_facts.glob_match
