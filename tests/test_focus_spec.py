"""FOCUS 1.2 conformance (generators/see/focus_spec.py): the generated billing data is a FOCUS 1.2
dataset, and a file that breaks the specification's MUST statements is named for each break."""

from __future__ import annotations

import duckdb
import pytest

from generators.manifest.loading import load_manifest_set
from generators.months import Month
from generators.plan.pricing import load_catalog
from generators.samples import focus_sample
from generators.see import focus_spec
from modules.billing_export import FOCUS_COLUMNS

OCTOBER = Month(2026, 10)


@pytest.fixture(scope="module")
def generated():
    return focus_sample.rows(load_manifest_set(["manifests"]), load_catalog(), OCTOBER)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_generated_billing_data_conforms_to_focus_1_2(tmp_path, generated, fmt):
    path = focus_sample.write(tmp_path, generated, fmt)
    assert focus_spec.conformance_problems(path) == []
    # Every mandatory column is there, not only the ones showback reads.
    columns = [row[0] for row in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
    assert set(focus_spec.MANDATORY_NAMES) <= set(columns)


def test_each_break_of_the_specification_is_named(tmp_path, generated):
    good = focus_sample.write(tmp_path / "good", generated, "parquet")
    bad = tmp_path / "bad.parquet"
    # Drop a mandatory column, give one row an unknown charge category, another a null billed
    # cost and a text cost, and a charge period without a time zone.
    duckdb.sql(f"""
        COPY (
            SELECT * EXCLUDE (ServiceCategory, ChargeCategory, BilledCost, ContractedCost, ChargePeriodEnd),
                   CASE WHEN n = 1 THEN 'Use' ELSE ChargeCategory END AS ChargeCategory,
                   CASE WHEN n = 2 THEN NULL ELSE BilledCost END AS BilledCost,
                   CASE WHEN n = 3 THEN 'twelve' ELSE CAST(ContractedCost AS VARCHAR) END AS ContractedCost,
                   CASE WHEN n = 4 THEN '2026-10-01 01:00:00' ELSE strftime(ChargePeriodEnd, '%Y-%m-%dT%H:%M:%SZ') END AS ChargePeriodEnd
            FROM (SELECT *, row_number() OVER () AS n FROM '{good}')
        ) TO '{bad}' (FORMAT parquet)
    """)
    problems = focus_spec.conformance_problems(bad)
    assert f"{bad}: missing mandatory column ServiceCategory" in problems
    assert any(p.startswith(f"{bad}: ChargeCategory: 1 row(s) not one of Usage, Purchase") and "'Use'" in p for p in problems)
    assert f"{bad}: BilledCost: 1 row(s) null" in problems
    assert any(p.startswith(f"{bad}: ContractedCost: 1 row(s) not a number") for p in problems)
    assert any(p.startswith(f"{bad}: ChargePeriodEnd: 1 row(s) not an ISO 8601 UTC date/time") for p in problems)
    assert len(problems) == 5, problems


def test_the_export_selects_every_mandatory_column_and_what_showback_reads():
    from generators.see.billing_files import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    assert set(focus_spec.MANDATORY_NAMES) <= set(FOCUS_COLUMNS)
    assert set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) <= set(FOCUS_COLUMNS)
