"""The AWS Price List API query both refreshes use (instances and EBS, and Bedrock tokens)."""

from __future__ import annotations

import json
from typing import Any


def products(pricing: Any, service: str, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Every product of a paginated get_products query, TERM_MATCH on each filter in order;
    PriceList entries are JSON strings.
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html"""
    request: dict[str, Any] = {
        "ServiceCode": service,
        "Filters": [{"Type": "TERM_MATCH", "Field": key, "Value": value} for key, value in filters.items()],
        "FormatVersion": "aws_v1",
    }
    out: list[dict[str, Any]] = []
    while True:
        page = pricing.get_products(**request)
        out.extend(json.loads(item) for item in page.get("PriceList", []))
        token = page.get("NextToken")
        if not token:
            return out
        request["NextToken"] = token
