"""The reviewed suppression file: what it accepts, every way it refuses an entry, and address matching."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generators.errors import ManifestError
from generators.scan.suppressions import Suppression, load_suppressions

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 26)
REASON = "the off-hours function only calls public AWS APIs; a VPC would add NAT cost"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suppressions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_suppressions(write(tmp_path, text), "suppressions.yaml", today=TODAY)
    return [str(p) for p in caught.value.problems]


def test_shipped_suppression_file_is_valid_today():
    load_suppressions(REPO / "policies" / "suppressions.yaml")


def test_valid_entry_is_loaded_with_its_line_and_expiry(tmp_path):
    path = write(
        tmp_path,
        "suppressions:\n"
        "  - check: CKV_AWS_117\n"
        "    resource: '*/aws_lambda_function.*offhours*'\n"
        f"    reason: {REASON}\n"
        "    expires: 2027-06-30\n"
        "  - check: CKV2_AWS_41\n"
        "    resource: alpha/aws_instance.*\n"
        "    reason: '  training instances get their role from the node profile  '\n",
    )
    entries = load_suppressions(path, today=TODAY)
    assert entries == [
        Suppression("CKV_AWS_117", "*/aws_lambda_function.*offhours*", REASON, dt.date(2027, 6, 30), 2),
        Suppression("CKV2_AWS_41", "alpha/aws_instance.*", "training instances get their role from the node profile", None, 6),
    ]


def test_quoted_expiry_date_means_the_same_day(tmp_path):
    path = write(tmp_path, f"suppressions:\n  - check: CKV_AWS_1\n    resource: '*'\n    reason: {REASON}\n    expires: '2026-11-26'\n")
    assert load_suppressions(path, today=TODAY)[0].expires == TODAY


def test_missing_reason_is_an_error_at_the_entry(tmp_path):
    found = problems(tmp_path, "suppressions:\n  - check: CKV_AWS_117\n    resource: '*'\n")
    assert found == [
        "suppressions.yaml:2:5: suppressions[0].reason: missing; every suppression needs a reason a reviewer would accept (at least 10 characters)"
    ]


def test_reason_shorter_than_ten_characters_is_refused(tmp_path):
    found = problems(tmp_path, "suppressions:\n  - check: CKV_AWS_117\n    resource: '*'\n    reason: 'fine    '\n")
    assert found == [
        "suppressions.yaml:4:13: suppressions[0].reason: got 'fine    '; every suppression needs a reason a reviewer would accept (at least 10 characters)"
    ]


def test_past_expiry_is_an_error_naming_the_date(tmp_path):
    found = problems(tmp_path, f"suppressions:\n  - check: CKV_AWS_117\n    resource: '*'\n    reason: {REASON}\n    expires: 2026-11-25\n")
    assert len(found) == 1
    assert found[0].startswith("suppressions.yaml:5:14: suppressions[0].expires: expired on 2026-11-25;")


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path):
    found = problems(tmp_path, f"suppresions: []\nsuppressions:\n  - check: CKV_AWS_117\n    resource: '*'\n    reason: {REASON}\n    expiry: 2027-01-01\n")
    assert found == [
        "suppressions.yaml:1:1: suppresions: unknown field 'suppresions'; did you mean 'suppressions'? Allowed fields: suppressions",
        "suppressions.yaml:6:5: suppressions[0].expiry: unknown field 'expiry'; did you mean 'expires'? Allowed fields: check, resource, construct, reason, expires",
    ]


def test_malformed_check_id_and_expiry_and_missing_resource_are_all_reported(tmp_path):
    found = problems(tmp_path, f"suppressions:\n  - check: AWS_117\n    reason: {REASON}\n    expires: next year\n")
    assert sorted(p.split(": ")[1] for p in found) == ["suppressions[0].check", "suppressions[0].expires", "suppressions[0].resource"]


def test_duplicate_entry_names_the_first_line(tmp_path):
    entry = f"  - check: CKV_AWS_117\n    resource: '*'\n    reason: {REASON}\n"
    found = problems(tmp_path, "suppressions:\n" + entry + entry)
    assert found == ["suppressions.yaml:5:5: suppressions[1]: duplicate of the entry on line 2 (CKV_AWS_117 on *)"]


def test_entries_that_are_not_mappings_are_refused(tmp_path):
    found = problems(tmp_path, "suppressions:\n  - CKV_AWS_117\n")
    assert found == ["suppressions.yaml:2:5: suppressions[0]: got text 'CKV_AWS_117'; expected a mapping of fields"]


@pytest.mark.parametrize(
    ("pattern", "address", "matches"),
    [
        ("aws_lambda_function.*offhours*", "governance/aws_lambda_function.offhours_function_1A2B", True),
        ("aws_lambda_function.*offhours*", "alpha/aws_lambda_function.offhours_function_1A2B", True),
        ("*/aws_sqs_queue.*", "alpha/aws_sqs_queue.dlq", True),
        ("alpha/aws_instance.*", "bravo/aws_instance.train", False),
        ("alpha/aws_instance.*", "alpha/aws_instance.train", True),
        ("aws_instance.*", "alpha/aws_eks_node_group.pool", False),
        ("*/stack.alpha", "alpha/stack.alpha", True),
    ],
)
def test_resource_pattern_matches_addresses(pattern, address, matches):
    suppression = Suppression("CKV_AWS_1", pattern, REASON, None, 1)
    assert suppression.matches("CKV_AWS_1", address) is matches


def test_suppression_covers_only_its_own_check():
    suppression = Suppression("CKV_AWS_117", "*", REASON, None, 1)
    assert not suppression.matches("CKV_AWS_116", "governance/aws_lambda_function.offhours")


@pytest.mark.parametrize(
    ("pattern", "construct_path", "matches"),
    [
        ("*/offhours/function", "alpha/offhours/function", True),
        ("*/offhours/function", "alpha/offhours/function/role", False),
        ("governance/billing-export/bucket", "governance/billing-export/bucket", True),
        ("governance/billing-export/bucket", "governance/config/bucket", False),
        ("*/offhours/function", "", False),  # stack-level results have no construct path
    ],
)
def test_construct_pattern_matches_construct_paths_whatever_the_hash(pattern, construct_path, matches):
    suppression = Suppression("CKV_AWS_117", "", REASON, None, 1, construct=pattern)
    # The address is irrelevant to a construct entry: any hash cdktf appends must not matter.
    for address in ("alpha/aws_lambda_function.offhours_function_DF9A2680", "alpha/aws_lambda_function.offhours_function_00000000"):
        assert suppression.matches("CKV_AWS_117", address, construct_path) is matches
    assert not suppression.matches("CKV_AWS_116", "alpha/x.y", construct_path)


def test_a_construct_entry_loads_and_names_its_construct(tmp_path):
    text = f"suppressions:\n  - check: CKV_AWS_117\n    construct: '*/offhours/function'\n    reason: {REASON}\n"
    [entry] = load_suppressions(write(tmp_path, text), "suppressions.yaml", today=TODAY)
    assert (entry.resource, entry.construct) == ("", "*/offhours/function")
    assert entry.describe() == "CKV_AWS_117 on construct */offhours/function"


def test_an_entry_with_both_resource_and_construct_is_refused(tmp_path):
    text = f"suppressions:\n  - check: CKV_AWS_117\n    resource: '*'\n    construct: '*/offhours/function'\n    reason: {REASON}\n"
    assert problems(tmp_path, text) == [
        "suppressions.yaml:4:5: suppressions[0].construct: give resource or construct, not both: one entry covers one kind of name"
    ]


def test_an_entry_with_neither_resource_nor_construct_is_refused(tmp_path):
    [found] = problems(tmp_path, f"suppressions:\n  - check: CKV_AWS_117\n    reason: {REASON}\n")
    assert found.startswith("suppressions.yaml:2:5: suppressions[0].resource: missing; expected an address glob")
    assert "(or construct: a construct path glob)" in found


def test_shipped_suppressions_name_constructs_not_hashes():
    """The shipped file uses construct paths, so a changed cdktf hash cannot orphan an entry."""
    shipped = load_suppressions(REPO / "policies" / "suppressions.yaml")
    assert shipped and all(s.construct and not s.resource for s in shipped)
