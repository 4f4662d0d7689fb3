"""The FOCUS billing export in the governance stack, synthesized with real cdktf, scanned with real checkov."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generators.manifest.loading import load_manifest_set
from generators.see.billing_files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from modules.billing_export import FOCUS_COLUMNS, FOCUS_TABLE, WRITERS
from stacks.synthesis import synthesize
from tests.manifest_helpers import example, write_manifests


@pytest.fixture(scope="module")
def governance(tmp_path_factory) -> tuple[dict, Path, Path]:
    org = example("org")
    org["allowed_regions"] = ["eu-west-1", "us-east-1", "us-west-2"]  # governance in eu-west-1: the export needs us-east-1
    org["governance"]["create_billing_export"] = True
    org["billing"] = {"export_bucket": "acme-genai-cur", "export_prefix": "focus", "athena_workgroup": "genai-finops", "athena_table": "cur.focus"}
    root = write_manifests(tmp_path_factory.mktemp("m"), {name: example(name) for name in ("alpha", "bravo", "charlie")}, org)
    result = synthesize(load_manifest_set([str(root)]), tmp_path_factory.mktemp("o") / "cdktf.out", only=["governance"])
    return json.loads(result.stack_file("governance").read_text()), result.out_dir, root


def only(stack: dict, kind: str) -> dict:
    (value,) = stack["resource"][kind].values()
    return value


def test_the_export_is_hourly_focus_1_2_parquet_with_every_column_showback_reads(governance):
    stack, _, _ = governance
    export = only(stack, "aws_bcmdataexports_export")["export"][0]
    query = export["data_query"][0]
    assert query["query_statement"].endswith(f"FROM {FOCUS_TABLE}")
    assert query["table_configurations"] == {FOCUS_TABLE: {"TIME_GRANULARITY": "HOURLY"}}
    assert set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) <= set(FOCUS_COLUMNS)
    (destination,) = export["destination_configurations"][0]["s3_destination"]
    assert destination["s3_prefix"] == "focus"
    assert destination["s3_output_configurations"][0] | {} == {"compression": "PARQUET", "format": "PARQUET", "output_type": "CUSTOM", "overwrite": "OVERWRITE_REPORT"}


def test_the_export_is_created_in_us_east_1_where_data_exports_is_served(governance):
    """Data Exports' endpoint is us-east-1 only (https://docs.aws.amazon.com/general/latest/gr/billing.html)."""
    stack, _, _ = governance
    providers = {f"aws.{p['alias']}" if "alias" in p else "aws": p["region"] for p in stack["provider"]["aws"]}
    assert providers[only(stack, "aws_bcmdataexports_export")["provider"]] == "us-east-1"


def test_only_the_export_services_of_this_account_may_write_and_only_over_tls(governance):
    stack, _, _ = governance
    statements = json.loads(only(stack, "aws_s3_bucket_policy")["policy"])["Statement"]
    write, tls = statements
    assert sorted(write["Principal"]["Service"]) == sorted(WRITERS)
    assert write["Action"] == ["s3:PutObject", "s3:GetBucketPolicy"]
    assert set(write["Condition"]) == {"StringLike", "StringEquals"} and "aws:SourceAccount" in write["Condition"]["StringEquals"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_athena_results_are_encrypted_and_the_workgroup_settings_enforced(governance):
    stack, _, _ = governance
    configuration = only(stack, "aws_athena_workgroup")["configuration"]
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["result_configuration"]["encryption_configuration"] == {"encryption_option": "SSE_S3"}
    assert configuration["result_configuration"]["output_location"] == "s3://acme-genai-cur/athena-results/"


def test_the_shipped_examples_provision_the_export(synthesized_examples):
    assert len(synthesized_examples.stacks["governance"]["resource"]["aws_bcmdataexports_export"]) == 1


def test_no_export_unless_asked():
    import cdktf

    from generators.provision.app_builder import StackPlan, StateConfig
    from stacks.governance_stack import GovernanceStack

    org = load_manifest_set(["manifests"]).org
    off = org.model_copy(update={"governance": org.governance.model_copy(update={"create_billing_export": False})})

    stack = GovernanceStack(cdktf.Testing.app(), StackPlan("governance", "governance", "us-east-1", StateConfig("local", "state/g.tfstate"),
                                                            regions=("us-east-1",)), off, Path("cdktf.out/stacks/governance"))
    assert "aws_bcmdataexports_export" not in json.loads(cdktf.Testing.synth(stack)).get("resource", {})


@pytest.mark.slow
def test_the_export_stack_scans_clean_with_reviewed_suppressions(governance):
    import subprocess
    import sys

    _, out_dir, root = governance
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "scan", str(root), "--out", str(out_dir), "--format", "json"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_drift_in_the_table_configuration_never_replaces_the_export(governance):
    """AWS adds keys to table_configurations that were not set, and the attribute forces
    replacement: a provider upgrade then plans to replace the export
    (terraform-provider-aws #46402; the added keys: #43978, #42761, #48807)."""
    stack, _, _ = governance
    export = only(stack, "aws_bcmdataexports_export")
    assert export["lifecycle"] == {"ignore_changes": ["export[0].data_query[0].table_configurations"]}


# What the FOCUS 1.2 table dictionary lists as the table's configurations, written here from
# https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws.html (read 2026-12-02).
DOCUMENTED_FOCUS_1_2_CONFIGURATIONS = {"TIME_GRANULARITY": {"HOURLY", "DAILY", "MONTHLY"}}


def test_every_documented_table_configuration_is_set_so_aws_answers_what_was_sent(governance):
    """Keys left to AWS's default come back unasked and break the apply ("new element ... has
    appeared": terraform-provider-aws #43978, #42761, #48807); every configuration the table has
    is therefore set, to a documented value."""
    stack, _, _ = governance
    (query,) = only(stack, "aws_bcmdataexports_export")["export"][0]["data_query"]
    (table,) = query["table_configurations"]
    assert f"FROM {table}" in query["query_statement"]
    configured = query["table_configurations"][table]
    assert set(configured) == set(DOCUMENTED_FOCUS_1_2_CONFIGURATIONS)
    assert all(value in DOCUMENTED_FOCUS_1_2_CONFIGURATIONS[key] for key, value in configured.items())
