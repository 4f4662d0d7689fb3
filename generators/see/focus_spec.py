"""FOCUS 1.2, as far as genai-finops writes and reads it: the one home of its column facts.

Transcribed from the specification's column pages at tag v1.2 of
https://github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec (specification/columns/*.md,
"Content Constraints": feature level, allows nulls, data type, allowed values), read 2026-11-27.

Used by the generated test data (generators/samples/focus_sample.py writes every mandatory column),
the billing export (modules/billing_export.py selects them) and `conformance_problems`, which
checks a FOCUS file the way the specification's MUST statements read.

Why not the FinOps Foundation's `focus-validator`: its newest release on PyPI (1.0.0) knows
FOCUS 0.5, 1.0-preview and a "1.0" whose rules still use the pre-1.0 column names (Provider,
Publisher, InvoiceIssuer, ResourceID), so it refuses every FOCUS 1.0-1.2 dataset, AWS's export
included, for missing columns that were only renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VERSION = "1.2"
SOURCE = "https://github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec/tree/v1.2/specification/columns"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # String | Decimal | Date/Time | JSON
    nullable: bool
    allowed: tuple[str, ...] = ()


# Feature level "Mandatory" in v1.2: every FOCUS dataset has these columns.
MANDATORY_NAMES: tuple[str, ...] = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
    "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "ServiceCategory", "ServiceName",
)
# Conditional or recommended columns genai-finops uses (the attribution needs ResourceId and
# Tags; the rest describe what was billed).
_USED_OPTIONAL_NAMES = (
    "SubAccountId", "SubAccountName", "ChargeFrequency", "RegionId", "ResourceId", "ResourceName", "ResourceType", "SkuId",
    "PricingCategory", "ConsumedQuantity", "ConsumedUnit", "Tags",
    # managed-model tokens: AWS writes the usage type (…-input-tokens) as SkuMeter in FOCUS 1.2;
    # FOCUS 1.3 the token direction in SkuPriceDetails (generators/see/managed_tokens.py)
    "SkuMeter", "SkuPriceDetails",
)
# "Allows nulls: False" (every other column above allows them).
_NOT_NULL = frozenset({
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ChargeFrequency",
})
# "Data type" other than String.
_TYPES = {
    **dict.fromkeys(("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity", "ConsumedQuantity"), "Decimal"),
    **dict.fromkeys(("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"), "Date/Time"),
    "Tags": "JSON", "SkuPriceDetails": "JSON",
}
# "Value format: Allowed values".
_ALLOWED = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "ServiceCategory": (
        "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools",
        "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media", "Migration",
        "Mobile", "Networking", "Security", "Storage", "Web", "Other",
    ),
}


def _columns(names: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(Column(n, _TYPES.get(n, "String"), n not in _NOT_NULL, _ALLOWED.get(n, ())) for n in names)


MANDATORY: tuple[Column, ...] = _columns(MANDATORY_NAMES)
USED_OPTIONAL: tuple[Column, ...] = _columns(_USED_OPTIONAL_NAMES)
EXPORT_COLUMNS: tuple[str, ...] = tuple(sorted({*MANDATORY_NAMES, *_USED_OPTIONAL_NAMES}))


def conformance_problems(path: Path) -> list[str]:
    """What in a FOCUS file (Parquet, or CSV with a header, gzip too) breaks v1.2's MUST
    statements for the columns above: a missing mandatory column, a null where none is allowed,
    a value outside the allowed ones, a cost that is not a number, a date/time that is not
    UTC. One line per problem, with a count and an example; [] when it conforms."""
    import duckdb

    reader = f"read_parquet('{path}')" if path.name.endswith(".parquet") else f"read_csv('{path}', header = true, all_varchar = true)"
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        present = {row[0]: str(row[1]) for row in connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        problems = [f"{path}: missing mandatory column {c.name}" for c in MANDATORY if c.name not in present]
        for column in (*MANDATORY, *USED_OPTIONAL):
            if column.name not in present:
                continue
            checks = []
            if not column.nullable:
                checks.append(("null", f"{column.name} IS NULL"))
            if column.allowed:
                values = ", ".join("'" + v.replace("'", "''") + "'" for v in column.allowed)
                checks.append((f"not one of {', '.join(column.allowed)}", f"{column.name} IS NOT NULL AND CAST({column.name} AS VARCHAR) NOT IN ({values})"))
            if column.data_type == "Decimal":
                checks.append(("not a number", f"{column.name} IS NOT NULL AND TRY_CAST({column.name} AS DOUBLE) IS NULL"))
            if column.data_type == "Date/Time":
                # FOCUS Date/Time Format: ISO 8601 in UTC (a Z or +00:00 offset, or a UTC timestamp type)
                text = f"CAST({column.name} AS VARCHAR)"
                checks.append(("not an ISO 8601 UTC date/time",
                               f"{column.name} IS NOT NULL AND NOT regexp_matches({text}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]\\d{{2}}:\\d{{2}}(:\\d{{2}}(\\.\\d+)?)?(Z|\\+00(:?00)?)$')"))  # noqa: E501 - one regular expression
            for what, condition in checks:
                row = connection.execute(
                    f"SELECT count(*), any_value(CAST({column.name} AS VARCHAR)) FROM {reader} WHERE {condition}"
                ).fetchone()
                assert row is not None, "an aggregate without GROUP BY answers one row"
                count, example = row
                if count:
                    problems.append(f"{path}: {column.name}: {count} row(s) {what}" + (f" (e.g. {example!r})" if example is not None else ""))
        return problems
    finally:
        connection.close()
