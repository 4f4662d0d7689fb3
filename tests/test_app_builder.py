"""The stack plan: order, dependencies, --only, and one state key (so one lock) per stack."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators.errors import UsageError
from generators.manifest.loading import load_manifest_set
from generators.model import LoadedTeam, ManifestSet
from generators.provision.app_builder import plan_app
from policies.gfo_facts import TEAM_NAME_PATTERN
from tests.manifest_helpers import REPO, example, write_manifests


@pytest.fixture(scope="module")
def examples() -> ManifestSet:
    return load_manifest_set(["manifests"])


def with_s3_state(manifests: ManifestSet) -> ManifestSet:
    state = manifests.org.state.model_copy(update={"backend": "s3", "bucket": "acme-genai-tfstate", "region": "us-east-1"})
    return manifests.model_copy(update={"org": manifests.org.model_copy(update={"state": state})})


def test_governance_comes_first_and_every_team_depends_on_it(examples):
    plan = plan_app(examples)
    assert plan.names == ["governance", "alpha", "bravo", "charlie"]
    assert plan.stacks[0].depends_on == ()
    assert all(stack.depends_on == ("governance",) for stack in plan.stacks[1:])
    assert [stack.region for stack in plan.stacks] == ["us-east-1", "us-east-1", "us-east-1", "us-west-2"]


def test_only_selects_a_subset_in_plan_order(examples):
    assert plan_app(examples, ["charlie", "alpha"]).names == ["alpha", "charlie"]
    assert plan_app(examples, ["governance"]).names == ["governance"]


def test_only_with_an_unknown_stack_is_a_usage_error_listing_known_ones(examples):
    with pytest.raises(UsageError, match="no stack named delta; known: governance, alpha, bravo, charlie"):
        plan_app(examples, ["alpha", "delta"])


def test_local_state_is_one_file_per_stack(examples):
    paths = [stack.state.path for stack in plan_app(examples).stacks]
    assert paths == ["state/governance.tfstate", "state/alpha.tfstate", "state/bravo.tfstate", "state/charlie.tfstate"]


def test_s3_state_keys_are_per_stack_in_the_org_bucket(examples):
    plan = plan_app(with_s3_state(examples))
    assert {stack.state.bucket for stack in plan.stacks} == {"acme-genai-tfstate"}
    assert plan.stacks[1].state.path == "genai-finops/alpha/terraform.tfstate"


team_names = st.from_regex(TEAM_NAME_PATTERN, fullmatch=True).filter(lambda name: name != "governance")


@functools.lru_cache(maxsize=1)
def s3_examples() -> ManifestSet:
    return with_s3_state(load_manifest_set(["manifests"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(team_names, min_size=1, max_size=40, unique=True))
def test_no_two_stacks_share_a_state_key_whatever_the_team_names(names):
    """Names that differ only in separators (a-b-c, ab-c, abc) still get distinct keys."""
    squashed = {name.replace("-", "") for name in names}
    names = sorted(set(names) | {name for name in squashed if len(name) >= 3})
    base = s3_examples()
    template = base.teams[0].manifest
    teams = tuple(LoadedTeam(path=f"{name}.yaml", manifest=template.model_copy(update={"team": name})) for name in names)
    plan = plan_app(base.model_copy(update={"teams": teams}))
    keys = [stack.state.path for stack in plan.stacks]
    assert len(keys) == len(set(keys)) == len(names) + 1


def test_stacks_command_prints_a_matrix_for_ci():
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "stacks", "--format", "json", "--only", "alpha,governance"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    stacks = json.loads(result.stdout)["stacks"]
    assert [(s["name"], s["depends_on"]) for s in stacks] == [("governance", []), ("alpha", ["governance"])]
    assert stacks[1]["state"] == {"backend": "local", "path": "state/alpha.tfstate"}


def test_stacks_command_on_invalid_manifests_exits_one(tmp_path):
    alpha = example("alpha")
    alpha["region"] = "mars-1"
    write_manifests(tmp_path, {"alpha": alpha})
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "stacks", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "alpha.yaml" in result.stderr and "Traceback" not in result.stderr


def test_only_takes_one_name_per_flag_so_a_path_after_it_stays_a_path(tmp_path):
    """`--only alpha manifests` once read `manifests` as a second stack name."""
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "stacks", "--format", "json", "--only", "alpha", "--only", "governance", "manifests"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [s["name"] for s in json.loads(result.stdout)["stacks"]] == ["governance", "alpha"]
