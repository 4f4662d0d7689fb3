"""`genai-finops prices refresh` against botocore's Stubber fed with responses in the real shape."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from generators import catalog
from generators.commands import prices as command
from generators.plan import price_refresh
from generators.plan.pricing import check_catalog

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)
REGION = "eu-west-1"
# Types the stubbed Price List offers in the region; every other catalog type returns no products.
OFFERED = {"g5.xlarge": "1.1230000000", "g5.2xlarge": "1.3530000000"}


def price_list_item(instance_type: str | None, usd: str, unit: str = "Hrs") -> str:
    """One PriceList entry as get_products returns it: a JSON document in a string.
    Shape: https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/price-changes.html"""
    sku = "8X9YQ7W5ZKZ3ZV5M"
    attributes = {"servicecode": "AmazonEC2", "regionCode": REGION, "location": "EU (Ireland)", "operatingSystem": "Linux",
                  "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}
    if instance_type:
        attributes["instanceType"] = instance_type
    return json.dumps({
        "product": {"productFamily": "Compute Instance" if instance_type else "Storage", "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": unit, "endRange": "Inf", "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
                "appliesTo": [], "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7", "beginRange": "0",
                "pricePerUnit": {"USD": usd}}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    })


def bedrock_item(model: str, usage_type: str, usd: str, unit: str = "1K tokens", feature: str = "On-demand Inference",
                 service: str = "AmazonBedrock") -> str:
    """A Bedrock PriceList entry as get_products returns it (attributes model, usagetype, inferenceType,
    feature; a price per 1K tokens), the shape AWS's Price List files have for AmazonBedrock."""
    sku = "Q5XW3KM7ZJ2D8B6A" + str(abs(hash((model, usage_type))) % 1000)
    direction = "Output tokens" if "output" in usage_type else "Input tokens"
    return json.dumps({
        "product": {"productFamily": "Amazon Bedrock", "sku": sku, "attributes": {
            "servicecode": service, "regionCode": REGION, "location": "EU (Ireland)", "model": model, "usagetype": usage_type,
            "inferenceType": direction, "feature": feature, "operation": "Usage"}},
        "serviceCode": service,
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {
            "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": unit, "endRange": "Inf", "description": f"${usd} per {unit} for {model} in EU (Ireland)",
                "appliesTo": [], "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7", "beginRange": "0", "pricePerUnit": {"USD": usd}}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z",
    })


def add_bedrock(pricing_stub, pages: dict[str, list[str]]) -> None:
    """One get_products page per Bedrock offer code, in the order the refresh asks."""
    for service in ("AmazonBedrock", "AmazonBedrockService"):
        pricing_stub.add_response("get_products", {"PriceList": pages.get(service, []), "FormatVersion": "aws_v1"}, {
            "ServiceCode": service, "FormatVersion": "aws_v1", "Filters": [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
                {"Type": "TERM_MATCH", "Field": "feature", "Value": "On-demand Inference"}]})


def stubbed_clients(bedrock: dict[str, list[str]] | None = None):
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    pricing_stub, ec2_stub = Stubber(pricing), Stubber(ec2)
    for name in catalog.INSTANCE_TYPES:
        expected = {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"}
        if name == "g5.xlarge":
            # Two pages: the refresh must follow NextToken.
            pricing_stub.add_response("get_products", {"PriceList": [], "NextToken": "page-2", "FormatVersion": "aws_v1"}, expected)
            pricing_stub.add_response("get_products", {"PriceList": [price_list_item(name, OFFERED[name])], "FormatVersion": "aws_v1"},
                                      {**expected, "NextToken": "page-2"})
        elif name in OFFERED:
            pricing_stub.add_response("get_products", {"PriceList": [price_list_item(name, OFFERED[name])], "FormatVersion": "aws_v1"}, expected)
        elif name == "p5e.48xlarge":
            # The Price List has Capacity-Block-only rows priced at zero; they must not become a price.
            pricing_stub.add_response("get_products", {"PriceList": [price_list_item(name, "0.0000000000")], "FormatVersion": "aws_v1"}, expected)
        else:
            pricing_stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"}, expected)
    pricing_stub.add_response("get_products", {"PriceList": [price_list_item(None, "0.0880000000", unit="GB-Mo")], "FormatVersion": "aws_v1"},
                              {"ServiceCode": "AmazonEC2", "Filters": [
                                  {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Storage"},
                                  {"Type": "TERM_MATCH", "Field": "volumeApiName", "Value": "gp3"},
                                  {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION}], "FormatVersion": "aws_v1"})
    if bedrock is not None:
        add_bedrock(pricing_stub, bedrock)
    history = [
        {"AvailabilityZone": "eu-west-1a", "InstanceType": "g5.xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.449200",
         "Timestamp": NOW - dt.timedelta(hours=1)},
        {"AvailabilityZone": "eu-west-1a", "InstanceType": "g5.xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.900000",
         "Timestamp": NOW - dt.timedelta(hours=20)},
        {"AvailabilityZone": "eu-west-1b", "InstanceType": "g5.2xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.676500",
         "Timestamp": NOW - dt.timedelta(hours=2)},
    ]
    ec2_stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history[:1], "NextToken": "more"}, {
        "InstanceTypes": sorted(OFFERED), "ProductDescriptions": ["Linux/UNIX"], "StartTime": NOW - dt.timedelta(days=1), "EndTime": NOW})
    ec2_stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history[1:], "NextToken": ""}, {
        "InstanceTypes": sorted(OFFERED), "ProductDescriptions": ["Linux/UNIX"], "StartTime": NOW - dt.timedelta(days=1), "EndTime": NOW,
        "NextToken": "more"})
    pricing_stub.activate()
    ec2_stub.activate()
    return pricing, ec2, pricing_stub, ec2_stub


def test_refresh_rebuilds_the_region_from_the_price_list_and_spot_history():
    pricing, ec2, pricing_stub, ec2_stub = stubbed_clients()
    current = {"format": 2, "currency": "USD",
               "sources": {"old": {"url": "https://example.com", "read": "2026-01-01"}},
               "hours_per_month_always_on": {"value": 730, "source": "old"},
               "spot_discount": {"p5": {"low": 0.5, "high": 0.7, "source": "old"}},
               "regions": {"us-east-1": {"on_demand_hourly_usd": {"g5.xlarge": {"usd": 1.006, "source": "old"}}}}}
    updated = price_refresh.refresh(current, REGION, pricing, ec2, NOW)
    pricing_stub.assert_no_pending_responses()
    ec2_stub.assert_no_pending_responses()
    block = updated["regions"][REGION]
    assert {name: entry["usd"] for name, entry in block["on_demand_hourly_usd"].items()} == {"g5.xlarge": 1.123, "g5.2xlarge": 1.353}
    assert block["ebs_gp3_usd_per_gb_month"]["value"] == 0.088
    # The latest price per type and AZ: g5.xlarge 0.4492 (not the older 0.9), g5.2xlarge 0.6765.
    # Discounts 1 - 0.4492/1.123 and 1 - 0.6765/1.353; the range is their smallest and largest.
    discounts = sorted([1 - 0.4492 / 1.123, 1 - 0.6765 / 1.353])
    assert updated["spot_discount"]["g5"]["low"] == pytest.approx(discounts[0], abs=1e-4)
    assert updated["spot_discount"]["g5"]["high"] == pytest.approx(discounts[1], abs=1e-4)
    assert updated["spot_discount"]["p5"] == current["spot_discount"]["p5"]
    assert updated["regions"]["us-east-1"] == current["regions"]["us-east-1"]
    assert updated["sources"]["aws-price-list-api"]["read"] == "2026-11-26"
    assert check_catalog(updated) == []


def test_types_not_offered_or_priced_zero_are_left_out():
    pricing, ec2, *_ = stubbed_clients()
    updated = price_refresh.refresh(None, REGION, pricing, ec2, NOW)
    block = updated["regions"][REGION]
    assert "p5e.48xlarge" not in block["on_demand_hourly_usd"]
    assert "g6.xlarge" not in block["on_demand_hourly_usd"]
    # ... and listed as not offered, so the estimate says so instead of "not priced".
    assert set(block["not_offered_on_demand"]["types"]) == set(catalog.INSTANCE_TYPES) - set(OFFERED)


def test_on_demand_query_uses_the_linux_shared_no_software_filters():
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"PriceList": [price_list_item("g6.xlarge", "0.9025")], "FormatVersion": "aws_v1"}, {
            "ServiceCode": "AmazonEC2", "FormatVersion": "aws_v1", "Filters": [
                {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "g6.xlarge"},
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
                {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
                {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
                {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
                {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"}]})
        assert price_refresh.on_demand_price(pricing, REGION, "g6.xlarge") == 0.9025


def test_run_writes_the_file_atomically_and_keeps_other_regions(tmp_path):
    pricing, ec2, *_ = stubbed_clients(bedrock={})  # the shipped catalog has a Bedrock block for the region
    output = tmp_path / "prices.json"
    from generators.plan.pricing import DEFAULT_PATH
    output.write_text(DEFAULT_PATH.read_text())
    clients = {"pricing": pricing, "ec2": ec2}
    status = command.run(argparse.Namespace(region=REGION, output=str(output)), now=lambda: NOW,
                         client=lambda service, region_name: clients[service])
    assert status == 0
    written = json.loads(output.read_text())
    assert written["regions"][REGION]["on_demand_hourly_usd"]["g5.xlarge"]["usd"] == 1.123
    assert written["sources"]["aws-price-list-api"]["read"] == NOW.date().isoformat()  # the injected clock
    assert "us-east-1" in written["regions"] and "us-west-2" in written["regions"]
    assert [p.name for p in tmp_path.iterdir()] == ["prices.json"]


def test_bad_region_is_a_usage_error():
    from generators.errors import UsageError

    with pytest.raises(UsageError, match="not an AWS region code"):
        command.run(argparse.Namespace(region="ireland", output=None))


def test_bedrock_prices_are_measured_only_where_the_price_list_names_the_model_for_certain():
    """Llama 3 70B and Nova Pro by display name, Qwen3 32B by ID (in AmazonBedrockService); the two
    Claude 3.5 Sonnet releases share one display name, so neither is touched; a cross-region or
    batch variant is not the in-region on-demand price; a system profile keeps its figure."""
    old = {"input": 9.0, "output": 9.0}
    models = {"meta.llama3-70b-instruct-v1:0": dict(old), "amazon.nova-pro-v1:0": dict(old), "qwen.qwen3-32b-v1:0": dict(old),
              "anthropic.claude-3-5-sonnet-20240620-v1:0": dict(old), "anthropic.claude-3-5-sonnet-20241022-v2:0": dict(old),
              "eu.amazon.nova-pro-v1:0": dict(old)}
    pages = {
        "AmazonBedrock": [
            bedrock_item("Llama 3 70B Instruct", "EU-Llama3-70B-input-tokens", "0.0026500000"),
            bedrock_item("Llama 3 70B Instruct", "EU-Llama3-70B-output-tokens", "0.0035000000"),
            bedrock_item("Nova Pro", "EU-NovaPro-input-tokens", "0.0008000000"),
            bedrock_item("Nova Pro", "EU-NovaPro-output-tokens", "0.0032000000"),
            bedrock_item("Nova Pro", "EU-NovaPro-cache-read-input-token-count", "0.0002000000"),
            bedrock_item("Nova Pro", "EU-NovaPro-input-tokens-cross-region-global", "0.0007000000"),
            bedrock_item("Nova Pro", "EU-NovaPro-batch-input-tokens", "0.0004000000", feature="Batch Inference"),
            bedrock_item("Claude 3.5 Sonnet", "EU-Claude3.5Sonnet-input-tokens", "0.0030000000"),
            bedrock_item("Claude 3.5 Sonnet", "EU-Claude3.5Sonnet-output-tokens", "0.0150000000"),
            bedrock_item("Some Future Model", "EU-SomeFutureModel-input-tokens", "0.0010000000"),
        ],
        "AmazonBedrockService": [
            bedrock_item("qwen.qwen3-32b-v1:0", "EU-qwen.qwen3-32b-v1:0-input-tokens", "0.15", unit="1M tokens", service="AmazonBedrockService"),
            bedrock_item("qwen.qwen3-32b-v1:0", "EU-qwen.qwen3-32b-v1:0-output-tokens", "0.60", unit="1M tokens", service="AmazonBedrockService"),
        ],
    }
    pricing, ec2, pricing_stub, _ = stubbed_clients(bedrock=pages)
    from generators.plan.pricing import DEFAULT_PATH

    current = json.loads(DEFAULT_PATH.read_text())
    current["bedrock"] = {REGION: {"source": "litellm-1.110.2", "models": models}}
    updated = price_refresh.refresh(current, REGION, pricing, ec2, NOW)
    pricing_stub.assert_no_pending_responses()
    got = updated["bedrock"][REGION]["models"]
    source = "aws-price-list-api-bedrock"
    assert got["meta.llama3-70b-instruct-v1:0"] == {"input": 2.65, "output": 3.5, "source": source}
    assert got["amazon.nova-pro-v1:0"] == {"input": 0.8, "output": 3.2, "cache_read": 0.2, "source": source}
    assert got["qwen.qwen3-32b-v1:0"] == {"input": 0.15, "output": 0.6, "source": source}
    for untouched in ("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0", "eu.amazon.nova-pro-v1:0"):
        assert got[untouched] == old
    assert updated["sources"][source]["read"] == "2026-11-26"
    assert check_catalog(updated) == []
