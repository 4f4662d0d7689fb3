"""The price catalog: the shipped file covers the catalog's types, and missing or bad figures are loud."""

from __future__ import annotations

import copy
import json

import pytest

from generators import catalog
from generators.errors import ManifestError, ToolError
from generators.plan.pricing import DEFAULT_PATH, MissingPrice, PriceCatalog, check_catalog, load_catalog
from tests.manifest_helpers import example


def shipped() -> dict:
    return json.loads(DEFAULT_PATH.read_text())


def test_shipped_catalog_is_valid_and_every_figure_cites_a_dated_source():
    data = shipped()
    assert check_catalog(data) == []
    for source in data["sources"].values():
        assert source["url"].startswith("https://") and len(source["read"]) == 10


def test_every_region_either_prices_each_known_type_or_says_it_is_not_offered_there():
    data = shipped()
    for region, block in data["regions"].items():
        priced = set(block["on_demand_hourly_usd"])
        absent = set(block.get("not_offered_on_demand", {}).get("types", []))
        assert priced | absent == set(catalog.INSTANCE_TYPES), region
        assert priced & absent == set(), region
        assert "ebs_gp3_usd_per_gb_month" in block, region
    # p5e is sold as Capacity Blocks only, in no region on demand.
    assert all("p5e.48xlarge" in block["not_offered_on_demand"]["types"] for block in data["regions"].values())


def test_spot_discounts_are_observed_ranges_and_cover_the_examples_spot_types():
    spot = shipped()["spot_discount"]
    assert all(0 < entry["low"] <= entry["high"] < 1 and entry["basis"] for entry in spot.values())
    spot_types = set()
    for name in ("alpha", "bravo", "charlie"):
        team = example(name)
        spot_types |= {job["instance_type"] for job in team.get("training", []) if job["market"] == "spot"}
        spot_types |= {t for pool in team.get("inference", []) if pool["market"] == "spot" for t in pool["instance_types"]}
    assert spot_types and {t.split(".")[0] for t in spot_types} <= set(spot)


def test_types_used_by_the_examples_and_the_benchmark_generator_are_priced():
    from benchmarks.generate import SERVING_TYPES, TRAINING_TYPES, ZONES

    prices = load_catalog()
    wanted = set(TRAINING_TYPES) | {t for group in SERVING_TYPES for t in group}
    for name in ("alpha", "bravo", "charlie"):
        team = example(name)
        wanted |= {job["instance_type"] for job in team.get("training", [])}
        wanted |= {pool["instance_types"][0] for pool in team.get("inference", [])}
    for region in ZONES:
        for instance_type in wanted:
            assert prices.on_demand_hourly(region, instance_type) > 0


def test_a_type_the_region_does_not_offer_says_so_and_where_it_is_offered():
    prices = load_catalog()
    with pytest.raises(MissingPrice) as caught:
        prices.on_demand_hourly("eu-west-1", "g6.xlarge")
    assert caught.value.field == "regions.eu-west-1.on_demand_hourly_usd.g6.xlarge"
    assert "AWS does not offer g6.xlarge on demand in eu-west-1" in str(caught.value)
    assert "priced in: us-east-1, us-west-2" in str(caught.value)


def test_a_type_neither_priced_nor_listed_points_at_prices_refresh():
    data = shipped()
    del data["regions"]["eu-west-1"]["on_demand_hourly_usd"]["g5.xlarge"]
    with pytest.raises(MissingPrice) as caught:
        PriceCatalog("prices.json", data).on_demand_hourly("eu-west-1", "g5.xlarge")
    assert "that type is not priced there" in str(caught.value)
    assert "prices refresh --region eu-west-1" in str(caught.value)


def test_a_type_both_priced_and_listed_as_not_offered_is_refused():
    data = shipped()
    data["regions"]["eu-west-1"]["not_offered_on_demand"]["types"].append("g5.xlarge")
    assert check_catalog(data) == ["regions.eu-west-1.not_offered_on_demand.types: g5.xlarge is both priced and listed as not offered"]


def test_unknown_region_and_missing_gp3_raise_instead_of_pricing_zero():
    prices = load_catalog()
    with pytest.raises(MissingPrice, match="no prices for that region"):
        prices.on_demand_hourly("ap-south-1", "g5.xlarge")
    with pytest.raises(MissingPrice, match="gp3"):
        prices.gp3_gb_month("ap-south-1")


def test_missing_spot_family_raises():
    data = shipped()
    del data["spot_discount"]["g5"]
    with pytest.raises(MissingPrice, match="no observed spot discount for the g5 family"):
        PriceCatalog("prices.json", data).spot_discount("g5.xlarge")


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "got number 0; must be greater than 0"), (-1.0, "got number -1.0; must be greater than 0"),
     ("1.006", "got text '1.006'; expected a number"), (None, "got nothing (null); expected a number"),
     (True, "got boolean true; expected a number")],
)
def test_a_zero_negative_or_non_numeric_price_is_refused(tmp_path, value, message):
    data = shipped()
    data["regions"]["us-east-1"]["on_demand_hourly_usd"]["g5.xlarge"]["usd"] = value
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as caught:
        load_catalog(path)
    [problem] = caught.value.problems
    assert (problem.field, problem.message) == ("regions.us-east-1.on_demand_hourly_usd.g5.xlarge.usd", message)


def test_a_figure_citing_an_unknown_source_is_refused():
    data = copy.deepcopy(shipped())
    data["spot_discount"]["g5"]["source"] = "a-blog"
    assert check_catalog(data) == ["spot_discount.g5.source: 'a-blog' is not a key of sources"]


def test_a_spot_discount_of_one_or_more_is_refused():
    data = shipped()
    data["spot_discount"]["g6"]["high"] = 1.0
    assert check_catalog(data) == ["spot_discount.g6.high: got number 1.0; must be less than 1"]


def test_a_spot_range_whose_low_is_above_its_high_is_refused():
    data = shipped()
    data["spot_discount"]["g6"]["low"] = data["spot_discount"]["g6"]["high"] + 0.01
    assert check_catalog(data) == [f"spot_discount.g6.low: low {data['spot_discount']['g6']['low']!r} is above high {data['spot_discount']['g6']['high']!r}"]


def test_invalid_json_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"format": 2,\n  "sources": }')
    with pytest.raises(ToolError, match=r"prices\.json:2:14: invalid JSON"):
        load_catalog(path)


def test_a_malformed_catalog_names_file_line_and_column_of_each_problem(tmp_path):
    """Like manifests: every problem at file:line:col, the line found in the file the test wrote."""
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["spot_discount"]["g5"]["high"] = 1.5
    region = next(iter(data["regions"]))
    instance_type = next(iter(data["regions"][region]["on_demand_hourly_usd"]))
    data["regions"][region]["on_demand_hourly_usd"][instance_type]["usd"] = 0
    path = tmp_path / "prices.json"
    text = json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    spot_line = next(i for i, line in enumerate(lines, 1) if line.strip() == '"high": 1.5,')
    usd_line = next(i for i, line in enumerate(lines, 1) if line.strip() in ('"usd": 0,', '"usd": 0'))

    with pytest.raises(ManifestError) as caught:
        load_catalog(path)

    reported = [str(p) for p in caught.value.problems]
    assert reported[0].startswith(f"{path}:{spot_line}:") and reported[0].endswith(": spot_discount.g5.high: got number 1.5; must be less than 1")
    assert reported[1].startswith(f"{path}:{usd_line}:")
    assert reported[1].endswith(f": regions.{region}.on_demand_hourly_usd.{instance_type}.usd: got number 0; must be greater than 0")


def test_an_unknown_key_in_the_catalog_is_named_with_a_suggestion(tmp_path):
    data = shipped()
    data["regions"]["eu-west-1"]["on_demand_hourly"] = data["regions"]["eu-west-1"].pop("on_demand_hourly_usd")
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ManifestError) as caught:
        load_catalog(path)
    [problem] = caught.value.problems
    assert problem.field == "regions.eu-west-1.on_demand_hourly"
    assert problem.message.startswith("unknown field 'on_demand_hourly'; did you mean 'on_demand_hourly_usd'?")
