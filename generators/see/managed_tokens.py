"""Tokens bought from managed models (Amazon Bedrock and other per-token APIs), read from the billing rows.

A row is a token row when it names a direction, in one of the forms the exports use:

- FOCUS 1.3 and later (and the FOCUS specification's AI model billing samples): `SkuPriceDetails`,
  a JSON object, holds `TokenDirection` (Input or Output) and, for input, `TokenCacheAction`
  (Read, Write or Uncached); the count is `ConsumedQuantity` in `ConsumedUnit` Tokens.
- AWS: the usage type ends in `-input-tokens`, `-output-tokens`, `-cache-read-input-token-count`
  or `-cache-write-input-token-count` (Bedrock's "Understanding your Cost and Usage Report data":
  all four count, or totals do not reconcile). AWS's FOCUS 1.2 export carries the usage type as
  `SkuMeter` ("x_UsageType (This is now the SkuMeter column)",
  https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-migrating.html),
  its FOCUS 1.0 export as `x_UsageType`.

The count is ConsumedQuantity times its unit (Tokens, or thousands or millions of them); a token row
whose quantity is not such a count is an error naming the file, never a silent zero. Who provides a
service: FOCUS 1.3's `ServiceProviderName` and `HostProviderName` (a marketplace model served by a
cloud), else 1.2's `ProviderName` for both.
"""

from __future__ import annotations

from generators.plan.bedrock_prices import USAGE_TYPE_SUFFIXES

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")
# ConsumedUnit spellings of a token count, lower-cased, and what one unit is in tokens.
TOKEN_UNITS = {
    "tokens": 1, "token": 1,
    "1k tokens": 1_000, "1000 tokens": 1_000, "1,000 tokens": 1_000, "thousand tokens": 1_000,
    "1m tokens": 1_000_000, "1000000 tokens": 1_000_000, "1,000,000 tokens": 1_000_000, "million tokens": 1_000_000,
}


def _detail(key: str, types: dict[str, str]) -> str:
    """One key of SkuPriceDetails: a map lookup where Parquet holds a MAP, else a JSON path."""
    if types.get("SkuPriceDetails", "").startswith("MAP"):
        return f"SkuPriceDetails['{key}']"
    return f"CASE WHEN json_valid(SkuPriceDetails) THEN json_extract_string(SkuPriceDetails, '$.{key}') END"


def token_columns_sql(types: dict[str, str]) -> list[str]:
    """The select items `token_kind`, `tokens`, `provider` and `host` over a reader whose columns
    have `types` (a missing column is NULL, so its CASE costs nothing)."""
    have = set(types)
    kinds = []
    if "SkuPriceDetails" in have:
        direction, cache = f"lower({_detail('TokenDirection', types)})", f"lower({_detail('TokenCacheAction', types)})"
        kinds.append(f"WHEN {direction} = 'output' THEN 'output' WHEN {direction} = 'input' THEN "
                     f"(CASE {cache} WHEN 'read' THEN 'cache_read' WHEN 'write' THEN 'cache_write' ELSE 'input' END)")
    for column in ("SkuMeter", "x_UsageType"):
        if column in have:
            # LIKE, which Trino (Athena) has as DuckDB does; the suffixes hold no _ or % wildcard.
            # One cheap test first ("oken" is in Token and token alike): most rows are not tokens,
            # and lower() with four LIKEs on every row cost the 10 M-row query a second.
            suffixes = " ".join(f"WHEN lower({column}) LIKE '%{suffix}' THEN '{kind}'" for suffix, kind in USAGE_TYPE_SUFFIXES)
            kinds.append(f"WHEN {column} LIKE '%oken%' THEN (CASE {suffixes} END)")
    kind = f"CASE {' '.join(kinds)} END" if kinds else "CAST(NULL AS VARCHAR)"
    if "ConsumedQuantity" in have and "ConsumedUnit" in have:
        # the count in tokens wherever the unit is one of tokens (a token row whose unit is not is
        # found by the row checks, billing_files.check_rows); not conditioned on token_kind, which
        # would evaluate the kind's CASE again on every row
        factor = "CASE lower(trim(ConsumedUnit)) " + " ".join(f"WHEN '{unit}' THEN {n}" for unit, n in TOKEN_UNITS.items()) + " END"
        quantity = "ConsumedQuantity" if types["ConsumedQuantity"] == "DOUBLE" else "TRY_CAST(ConsumedQuantity AS DOUBLE)"
        tokens = f"CASE WHEN ConsumedUnit LIKE '%oken%' THEN {quantity} * {factor} END"
    else:
        tokens = "CAST(NULL AS DOUBLE)"
    provider = "ProviderName" if "ProviderName" in have else "CAST(NULL AS VARCHAR)"
    service = f"coalesce(ServiceProviderName, {provider})" if "ServiceProviderName" in have else provider
    host = f"coalesce(HostProviderName, {provider})" if "HostProviderName" in have else provider
    return [f"{kind} AS token_kind", f"{tokens} AS tokens", f"{service} AS provider", f"{host} AS host"]


BAD_TOKENS = "token_kind IS NOT NULL AND (tokens IS NULL OR NOT isfinite(tokens) OR tokens < 0)"


def bad_tokens_message(unit: str | None, quantity: str | None) -> str:
    from generators.safe_text import message

    def shown(value: str | None) -> str:
        return "empty" if value is None or value == "" else repr(message(value, 60))

    return (f"a token row (its SkuMeter, x_UsageType or SkuPriceDetails names a token direction) has ConsumedQuantity "
            f"{shown(quantity)} in ConsumedUnit {shown(unit)}, which is not a count of tokens: expected a number >= 0 of "
            f"{', '.join(sorted({u.title() for u in TOKEN_UNITS}))}")


# The columns of AWS's FOCUS 1.2 table that token counting reads
# (https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-2-aws-columns.html): the
# Athena engine's expressions over that table. SkuPriceDetails is left out there: AWS writes the
# direction in the usage type (SkuMeter), and the column's Athena type is not documented as JSON text.
AWS_FOCUS_1_2_TYPES = {"SkuMeter": "VARCHAR", "ConsumedQuantity": "DOUBLE", "ConsumedUnit": "VARCHAR", "ProviderName": "VARCHAR"}


def athena_token_sql() -> dict[str, str]:
    """token_kind, tokens, provider and host as expressions over AWS's FOCUS 1.2 table."""
    items = token_columns_sql(AWS_FOCUS_1_2_TYPES)
    return {item.rsplit(" AS ", 1)[1]: item.rsplit(" AS ", 1)[0] for item in items}
