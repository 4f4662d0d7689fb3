"""Bedrock on-demand token prices measured from the AWS Price List API (`prices refresh`).

The Price List names Bedrock models by display name ("Claude 3.5 Sonnet", "Nova Pro") or, for
newer ones, by ID ("qwen.qwen3-coder-next"), under two offer codes (`AmazonBedrock` and
`AmazonBedrockService`, where newer third-party models are listed), with the direction in the
usage type: `USE1-NovaPro-input-tokens`, `...-output-tokens`, `...-cache-read-input-token-count`,
`...-cache-write-input-token-count`. Only those exact endings count: batch, flex, priority and
cross-region variants end otherwise (`...-input-tokens-cross-region-global`) and are not the
standard in-region on-demand price.

A product is matched to a catalog model ID only when that is certain: its `model` attribute is
the ID, or its display name, letters and digits only, equals exactly one in-region catalog ID's
name the same way (the provider, dates and version suffix taken off: anthropic.claude-3-5-sonnet-
20240620-v1:0 -> claude35sonnet). Two IDs with one name (two releases of a model) are ambiguous
and left as they were; nothing is guessed. Measured prices replace the catalog's and cite the
Price List; every other model keeps its figure and its source.
"""

from __future__ import annotations

import json
import re
from typing import Any

from generators.plan import price_list
from generators.plan.bedrock_prices import PER_MILLION, USAGE_TYPE_SUFFIXES, split_model

# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html
SERVICE_CODES = ("AmazonBedrock", "AmazonBedrockService")
ON_DEMAND = "On-demand Inference"
SOURCE_ID = "aws-price-list-api-bedrock"
# The Price List's units for token prices, in tokens.
UNITS = {"1k tokens": 1_000, "1m tokens": 1_000_000, "tokens": 1, "token": 1}
_DATE = re.compile(r"-?\d{8}")
_VERSION = re.compile(r"-v\d+(:\d+)?$")


def name_key(text: str) -> str:
    """Letters and digits, lower-cased: "Claude 3.5 Sonnet" and "Claude3.5Sonnet" -> claude35sonnet."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def model_key(model_id: str) -> str:
    """A foundation model ID's name as the Price List would spell it, keyed: the provider, the
    release date and the version suffix taken off."""
    _, foundation = split_model(model_id)
    name = foundation.split(".", 1)[1] if "." in foundation else foundation
    return name_key(_DATE.sub("", _VERSION.sub("", name)))


def _per_million(product: dict[str, Any]) -> float | None:
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            unit = UNITS.get(str(dimension.get("unit", "")).strip().lower())
            usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
            if unit and usd > 0:
                return round(usd / unit * PER_MILLION, 6)
    return None


def _direction(usage_type: str) -> str | None:
    lowered = usage_type.lower()
    return next((kind for suffix, kind in USAGE_TYPE_SUFFIXES if lowered.endswith(suffix)), None)


def measure(pricing: Any, region: str, current: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """`current` (a region's `models`) with every price the Price List gives for certain replaced
    (cited SOURCE_ID); and the IDs measured."""
    by_key: dict[str, list[str]] = {}
    for model in current:
        if split_model(model)[0] is None:  # in-region IDs only: a system profile is priced apart
            by_key.setdefault(model_key(model), []).append(model)
    found: dict[str, dict[str, float]] = {}
    for service in SERVICE_CODES:
        for product in price_list.products(pricing, service, {"regionCode": region, "feature": ON_DEMAND}):
            attributes = product.get("product", {}).get("attributes", {})
            direction = _direction(str(attributes.get("usagetype", "")))
            price = _per_million(product)
            if direction is None or price is None or attributes.get("feature") != ON_DEMAND:
                continue
            name = str(attributes.get("model", ""))
            candidates = [name] if name in current else by_key.get(name_key(name), [])
            if len(candidates) == 1:
                found.setdefault(candidates[0], {})[direction] = price
    updated = json.loads(json.dumps(current))
    measured = []
    for model, prices in sorted(found.items()):
        if "input" in prices and "output" in prices:  # a model is priced by both, or left as it was
            updated[model] = {**prices, "source": SOURCE_ID}
            measured.append(model)
    return updated, measured
