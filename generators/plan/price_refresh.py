"""Rebuild one region of the price catalog from AWS (`genai-finops prices refresh`).

On-demand prices come from the AWS Price List API (`pricing` `get_products`, served from
us-east-1), one query per accelerated instance type of generators/catalog.py, filtered to
Linux, shared tenancy, no pre-installed software and used capacity. gp3 comes from the same API.
The spot discount per family is the range (smallest, largest) of 1 - spot / on-demand over the
latest spot price of each type and availability zone (`ec2` `describe_spot_price_history`,
Linux/UNIX); a zone whose spot price has reached on-demand has no spot capacity and is left out.
A type the Price List does not offer in the region is listed as not offered, never priced at zero.
"""

from __future__ import annotations

import datetime as dt
import json

from generators.plan import price_list

# The Price List API is served from us-east-1 (and ap-south-1):
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html
PRICING_API_REGION = "us-east-1"
SOURCE_ID = "aws-price-list-api"
SPOT_SOURCE_ID = "aws-spot-price-history"
# Spot prices move slowly; a day of history gives every AZ's current price.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html
SPOT_HISTORY = dt.timedelta(days=1)



def refresh(current: dict | None, region: str, pricing, ec2, now: dt.datetime) -> dict:
    """`current` with `region` and the spot discounts rebuilt from the two clients."""
    from generators import catalog

    today = now.date().isoformat()
    data = json.loads(json.dumps(current)) if current else _empty()
    data["sources"][SOURCE_ID] = {
        "url": "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html",
        "read": today,
        "what": f"AWS Price List API get_products, AmazonEC2, {region}: Linux, Shared tenancy, preInstalledSw NA, capacitystatus Used.",
    }
    prices = {name: price for name in catalog.INSTANCE_TYPES if (price := on_demand_price(pricing, region, name)) is not None}
    block: dict = {"on_demand_hourly_usd": {name: {"usd": prices[name], "source": SOURCE_ID} for name in sorted(prices)}}
    absent = sorted(set(catalog.INSTANCE_TYPES) - set(prices))
    if absent:
        block["not_offered_on_demand"] = {"types": absent, "source": SOURCE_ID}
    gp3 = gp3_price(pricing, region)
    if gp3 is not None:
        block["ebs_gp3_usd_per_gb_month"] = {"value": gp3, "source": SOURCE_ID}
    data["regions"][region] = block
    _bedrock(data, region, pricing, today)
    discounts = spot_discounts(ec2, prices, now)
    if discounts:
        data["sources"][SPOT_SOURCE_ID] = {
            "url": "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html",
            "read": today,
            "what": f"EC2 describe_spot_price_history, Linux/UNIX, {region}: latest price per type and AZ against on-demand.",
        }
        for family, (low, high, zones) in discounts.items():
            data["spot_discount"][family] = {"low": low, "high": high, "source": SPOT_SOURCE_ID,
                                             "basis": f"{zones} type-zone spot prices in {region} read {today}"}
    return data


def _bedrock(data: dict, region: str, pricing, today: str) -> None:
    """The region's Bedrock token prices re-measured where the Price List names a model for certain
    (generators/plan/bedrock_refresh.py); a region without a Bedrock block is left without one."""
    from generators.plan import bedrock_refresh

    block = data.get("bedrock", {}).get(region)
    if block is None:
        return
    models, measured = bedrock_refresh.measure(pricing, region, block["models"])
    if measured:
        data["sources"][bedrock_refresh.SOURCE_ID] = {
            "url": "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html",
            "read": today,
            "what": f"AWS Price List API get_products, {' and '.join(bedrock_refresh.SERVICE_CODES)}, {region}: feature "
                    "On-demand Inference, usage types ending -input-tokens, -output-tokens, -cache-read-input-token-count, "
                    "-cache-write-input-token-count.",
        }
    block["models"] = models


def _empty() -> dict:
    return {
        "format": 2,
        "currency": "USD",
        "sources": {"aws-730-hours": {"url": "https://github.com/infracost/infracost/issues/1556", "read": "2026-11-26",
                                      "what": "730 hours a month is the AWS convention for an always-on resource."}},
        "hours_per_month_always_on": {"value": 730, "source": "aws-730-hours"},
        "spot_discount": {},
        "regions": {},
    }


def _products(pricing, filters: dict[str, str]) -> list[dict]:
    return price_list.products(pricing, "AmazonEC2", filters)


def _hourly_usd(product: dict) -> float | None:
    """The USD price of the product's on-demand term; None when it has none or it is zero."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
            if usd > 0:
                return usd
    return None


def on_demand_price(pricing, region: str, instance_type: str) -> float | None:
    products = _products(pricing, {
        "instanceType": instance_type, "regionCode": region, "operatingSystem": "Linux",
        "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
    })
    prices = [price for product in products if (price := _hourly_usd(product)) is not None]
    return min(prices) if prices else None


def gp3_price(pricing, region: str) -> float | None:
    products = _products(pricing, {"productFamily": "Storage", "volumeApiName": "gp3", "regionCode": region})
    prices = [price for product in products if (price := _hourly_usd(product)) is not None]
    return min(prices) if prices else None


def spot_discounts(ec2, on_demand: dict[str, float], now: dt.datetime) -> dict[str, tuple[float, float, int]]:
    """Per family: the smallest and largest 1 - spot / on-demand over the latest spot price of
    each type and AZ, and how many type-AZ prices that is. Zones at or above on-demand are left out."""
    if not on_demand:
        return {}
    latest: dict[tuple[str, str], tuple[dt.datetime, float]] = {}
    request = {
        "InstanceTypes": sorted(on_demand),
        "ProductDescriptions": ["Linux/UNIX"],
        "StartTime": now - SPOT_HISTORY,
        "EndTime": now,
    }
    while True:
        page = ec2.describe_spot_price_history(**request)
        for item in page.get("SpotPriceHistory", []):
            key = (item["InstanceType"], item["AvailabilityZone"])
            stamp = item["Timestamp"]
            if key not in latest or stamp > latest[key][0]:
                latest[key] = (stamp, float(item["SpotPrice"]))
        token = page.get("NextToken")
        if not token:
            break
        request["NextToken"] = token
    discounts: dict[str, list[float]] = {}
    for (instance_type, _zone), (_stamp, spot) in latest.items():
        discount = 1 - spot / on_demand[instance_type]
        if 0 < discount < 1:
            discounts.setdefault(instance_type.split(".", 1)[0], []).append(discount)
    return {family: (round(min(values), 4), round(max(values), 4), len(values))
            for family, values in sorted(discounts.items()) if round(min(values), 4) > 0}
