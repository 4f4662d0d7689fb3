"""The price catalog the cost estimate reads: `generators/prices.json`.

The file holds, per region, the on-demand Linux hourly price of each accelerated instance type,
the types the region does not offer on demand, and the EBS gp3 price per GB-month; per instance
family, the range of spot discounts observed against on-demand (low = the smallest, high = the
largest); and the hours of an always-on month (730). Every figure names one of the file's
`sources` (URL and the date it was read). `genai-finops prices refresh` rebuilds a region from
the AWS Price List API and the EC2 spot price history.

Cost must be wrong loudly: a type, family or region without a figure raises `MissingPrice`
(the estimate turns it into a manifest problem), and a malformed file raises `ToolError`.
Nothing is ever priced at zero.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generators.errors import ManifestError, ToolError, display_path, format_path
from generators.yaml_source import load_yaml

DEFAULT_PATH = Path(__file__).with_name("prices.json")
FORMAT = 2


class MissingPrice(Exception):
    """The catalog has no figure for what the manifest asks for; `field` is its path in the file."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class SpotDiscount:
    """Observed spot discounts of a family against on-demand: the smallest and the largest."""

    low: float
    high: float

    @property
    def expected(self) -> float:
        return (self.low + self.high) / 2


NO_DISCOUNT = SpotDiscount(0.0, 0.0)


@dataclass(frozen=True)
class PriceCatalog:
    path: str
    data: dict[str, Any]

    @property
    def hours_always_on(self) -> float:
        return float(self.data["hours_per_month_always_on"]["value"])

    def regions(self) -> list[str]:
        return sorted(self.data["regions"])

    def on_demand_hourly(self, region: str, instance_type: str) -> float:
        field = f"regions.{region}.on_demand_hourly_usd.{instance_type}"
        entry = self.data["regions"].get(region, {}).get("on_demand_hourly_usd", {}).get(instance_type)
        if entry is None:
            block = self.data["regions"].get(region)
            absent = (block or {}).get("not_offered_on_demand", {})
            if instance_type in absent.get("types", ()):
                source = self.data["sources"][absent["source"]]
                offered = [r for r in self.regions() if instance_type in self.data["regions"][r].get("on_demand_hourly_usd", {})]
                raise MissingPrice(field, f"AWS does not offer {instance_type} on demand in {region} (source: {source['url']}, "
                                   f"read {source['read']}); priced in: {', '.join(offered) or 'no region of the catalog'}")
            where = "no prices for that region at all" if block is None else "that type is not priced there"
            raise MissingPrice(field, f"no on-demand price for {instance_type} in {region} in {self.path} ({field}: {where}); "
                               f"run `genai-finops prices refresh --region {region}` or choose a priced type")
        return float(entry["usd"])

    def spot_discount(self, instance_type: str) -> SpotDiscount:
        family = instance_type.split(".", 1)[0]
        field = f"spot_discount.{family}"
        entry = self.data["spot_discount"].get(family)
        if entry is None:
            raise MissingPrice(field, f"no observed spot discount for the {family} family in {self.path} ({field}); "
                               f"use market: on-demand, or measure it with `genai-finops prices refresh --region R`")
        return SpotDiscount(float(entry["low"]), float(entry["high"]))

    def gp3_gb_month(self, region: str) -> float:
        field = f"regions.{region}.ebs_gp3_usd_per_gb_month"
        entry = self.data["regions"].get(region, {}).get("ebs_gp3_usd_per_gb_month")
        if entry is None:
            raise MissingPrice(field, f"no EBS gp3 price for {region} in {self.path} ({field}); "
                               f"run `genai-finops prices refresh --region {region}`")
        return float(entry["value"])


def load_catalog(path: Path | str = DEFAULT_PATH) -> PriceCatalog:
    """Read and check the catalog; every problem in the file is a ToolError naming the field."""
    path = Path(path)
    display = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"{display}: cannot read the price catalog: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ToolError(f"{display}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    problems = catalog_problems(data)
    if problems:
        raise ToolError("\n".join(_located(path, display, problems)))
    return PriceCatalog(display, data)


def _located(path: Path, display: str, problems: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """`file:line:col: field: message` for each problem, as manifests report theirs. JSON is YAML,
    so the YAML reader gives the positions; if it cannot, the problems keep the file name only."""
    try:
        document = load_yaml(path, display)
    except ManifestError:
        return [f"{display}: {format_path(where)}: {message}" for where, message in problems]
    return [str(document.problem(where, message)) for where, message in problems]


def check_catalog(data: Any) -> list[str]:
    """Every structural problem as `field: message`; an empty list means the catalog is usable."""
    return [f"{format_path(where)}: {message}" if where else message for where, message in catalog_problems(data)]


def catalog_problems(data: Any) -> list[tuple[tuple[str, ...], str]]:
    """Every structural problem as (field path, message); the path locates it in the file."""
    if not isinstance(data, dict):
        return [((), "the catalog must be a JSON object")]
    problems: list[tuple[tuple[str, ...], str]] = []
    if data.get("format") != FORMAT:
        problems.append((("format",), f"expected {FORMAT}, got {data.get('format')!r}"))
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        return problems + [(("sources",), "expected an object of cited sources")]

    def figure(field: tuple[str, ...], entry: Any, *keys: str, upper: float | None = None) -> None:
        if not isinstance(entry, dict):
            problems.append((field, f"expected an object with {', '.join(repr(k) for k in keys)} and 'source'"))
            return
        for key in keys:
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                problems.append(((*field, key), f"expected a number > 0, got {value!r} (a missing price is left out, never zero)"))
            elif upper is not None and value >= upper:
                problems.append(((*field, key), f"expected a number < {upper:g}, got {value!r}"))
        if entry.get("source") not in sources:
            problems.append(((*field, "source"), f"{entry.get('source')!r} is not a key of sources"))

    figure(("hours_per_month_always_on",), data.get("hours_per_month_always_on"), "value")
    spot = data.get("spot_discount")
    if not isinstance(spot, dict):
        problems.append((("spot_discount",), "expected an object keyed by instance family"))
    else:
        for family, entry in spot.items():
            before = len(problems)
            figure(("spot_discount", family), entry, "low", "high", upper=1)
            if len(problems) == before and entry["low"] > entry["high"]:
                problems.append((("spot_discount", family, "low"), f"low {entry['low']!r} is above high {entry['high']!r}"))
    regions = data.get("regions")
    if not isinstance(regions, dict) or not regions:
        return problems + [(("regions",), "expected an object keyed by region")]
    for region, block in regions.items():
        if not isinstance(block, dict):
            problems.append((("regions", region), "expected an object"))
            continue
        if "ebs_gp3_usd_per_gb_month" in block:
            figure(("regions", region, "ebs_gp3_usd_per_gb_month"), block["ebs_gp3_usd_per_gb_month"], "value")
        prices = block.get("on_demand_hourly_usd", {})
        if not isinstance(prices, dict):
            problems.append((("regions", region, "on_demand_hourly_usd"), "expected an object keyed by instance type"))
            continue
        for instance_type, entry in prices.items():
            figure(("regions", region, "on_demand_hourly_usd", instance_type), entry, "usd")
        absent = block.get("not_offered_on_demand")
        if absent is not None:
            field = ("regions", region, "not_offered_on_demand")
            types = absent.get("types") if isinstance(absent, dict) else None
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                problems.append((field, "expected an object with 'types' (a list of instance types) and 'source'"))
            else:
                if absent.get("source") not in sources:
                    problems.append(((*field, "source"), f"{absent.get('source')!r} is not a key of sources"))
                for instance_type in sorted(set(types) & set(prices)):
                    problems.append(((*field, "types"), f"{instance_type} is both priced and listed as not offered"))
    return problems
