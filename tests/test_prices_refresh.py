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


def stubbed_clients():
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
    pricing, ec2, *_ = stubbed_clients()
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
