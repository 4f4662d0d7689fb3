"""The price catalog: the shipped file covers the catalog's types, and missing or bad figures are loud."""

from __future__ import annotations

import copy
import json

import pytest

from generators import catalog
from generators.errors import ToolError
from generators.pricing import DEFAULT_PATH, MissingPrice, PriceCatalog, check_catalog, load_catalog
from tests.manifest_helpers import example


def shipped() -> dict:
    return json.loads(DEFAULT_PATH.read_text())


def test_shipped_catalog_is_valid_and_every_figure_cites_a_dated_source():
    data = shipped()
    assert check_catalog(data) == []
    for source in data["sources"].values():
        assert source["url"].startswith("https://") and len(source["read"]) == 10


def test_every_us_region_prices_every_known_type_except_p5e_which_is_not_sold_on_demand():
    data = shipped()
    for region in ("us-east-1", "us-west-2"):
        priced = set(data["regions"][region]["on_demand_hourly_usd"])
        assert set(catalog.GPU_INSTANCE_TYPES) - priced == {"p5e.48xlarge"}, region


def test_every_family_has_a_spot_discount_between_zero_and_one():
    spot = shipped()["spot_discount"]
    assert set(catalog.FAMILIES) <= set(spot)
    assert all(0 < entry["value"] < 1 for entry in spot.values())


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


def test_missing_type_in_a_region_raises_with_the_catalog_field():
    prices = load_catalog()
    with pytest.raises(MissingPrice) as caught:
        prices.on_demand_hourly("eu-west-1", "p5e.48xlarge")
    assert caught.value.field == "regions.eu-west-1.on_demand_hourly_usd.p5e.48xlarge"
    assert "prices refresh --region eu-west-1" in str(caught.value)


def test_unknown_region_and_missing_gp3_raise_instead_of_pricing_zero():
    prices = load_catalog()
    with pytest.raises(MissingPrice, match="no prices for that region"):
        prices.on_demand_hourly("ap-south-1", "g5.xlarge")
    with pytest.raises(MissingPrice, match="gp3"):
        prices.gp3_gb_month("ap-south-1")


def test_missing_spot_family_raises():
    data = shipped()
    del data["spot_discount"]["g5"]
    with pytest.raises(MissingPrice, match="g5 family"):
        PriceCatalog("prices.json", data).spot_discount("g5.xlarge")


@pytest.mark.parametrize("value", [0, -1.0, "1.006", None, True])
def test_a_zero_negative_or_non_numeric_price_is_refused(tmp_path, value):
    data = shipped()
    data["regions"]["us-east-1"]["on_demand_hourly_usd"]["g5.xlarge"]["usd"] = value
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ToolError, match=r"regions\.us-east-1\.on_demand_hourly_usd\.g5\.xlarge\.usd: expected a number > 0"):
        load_catalog(path)


def test_a_figure_citing_an_unknown_source_is_refused():
    data = copy.deepcopy(shipped())
    data["spot_discount"]["g5"]["source"] = "a-blog"
    assert check_catalog(data) == ["spot_discount.g5.source: 'a-blog' is not a key of sources"]


def test_a_spot_discount_of_one_or_more_is_refused():
    data = shipped()
    data["spot_discount"]["g6"]["value"] = 1.0
    assert check_catalog(data) == ["spot_discount.g6.value: expected a number < 1, got 1.0"]


def test_invalid_json_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"format": 1,\n  "sources": }')
    with pytest.raises(ToolError, match=r"prices\.json:2:14: invalid JSON"):
        load_catalog(path)


def test_a_malformed_catalog_names_file_line_and_column_of_each_problem(tmp_path):
    """Like manifests: every problem at file:line:col, the line found in the file the test wrote."""
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["spot_discount"]["g5"]["value"] = 1.5
    region = next(iter(data["regions"]))
    instance_type = next(iter(data["regions"][region]["on_demand_hourly_usd"]))
    data["regions"][region]["on_demand_hourly_usd"][instance_type]["usd"] = 0
    path = tmp_path / "prices.json"
    text = json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    spot_line = next(i for i, line in enumerate(lines, 1) if line.strip() == '"value": 1.5,')
    usd_line = next(i for i, line in enumerate(lines, 1) if line.strip() in ('"usd": 0,', '"usd": 0'))

    with pytest.raises(ToolError) as caught:
        load_catalog(path)

    reported = str(caught.value).splitlines()
    assert reported[0].startswith(f"{path}:{spot_line}:") and ": spot_discount.g5.value: expected a number < 1, got 1.5" in reported[0]
    assert reported[1].startswith(f"{path}:{usd_line}:")
    assert f": regions.{region}.on_demand_hourly_usd.{instance_type}.usd: expected a number > 0, got 0" in reported[1]
