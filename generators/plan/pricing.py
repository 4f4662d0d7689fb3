"""The price catalog the cost estimate reads: `generators/plan/prices.json`.

The file holds, per region, the on-demand Linux hourly price of each accelerated instance type,
the types the region does not offer on demand, and the EBS gp3 price per GB-month; per instance
family, the range of spot discounts observed against on-demand (low = the smallest, high = the
largest); and the hours of an always-on month (730). Every figure names one of the file's
`sources` (URL and the date it was read). `genai-finops prices refresh` rebuilds a region from
the AWS Price List API and the EC2 spot price history.

Cost must be wrong loudly: a type, family or region without a figure raises `MissingPrice`
(the estimate turns it into a manifest problem), and a malformed file is checked with a
pydantic model (`CatalogFile`) and reported as manifests are, every problem at file:line:col.
Nothing is ever priced at zero.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from generators.errors import ManifestError, ToolError, did_you_mean, display_path, format_path
from generators.manifest.schema_errors import schema_messages  # the manifests' words for pydantic errors
from generators.plan.bedrock_prices import TokenPrices
from generators.yaml_source import load_yaml

DEFAULT_PATH = Path(__file__).with_name("prices.json")
FormatVersion = Literal[2]
FORMAT: int = get_args(FormatVersion)[0]


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


# Prices move (new types, cuts, regions): older than this, every output that shows a price says so.
MAX_AGE_DAYS = 90


def age_note(read_on: str, today: dt.date | None = None) -> str | None:
    """A warning when the catalog was read more than MAX_AGE_DAYS ago, else None."""
    age = ((today or dt.datetime.now(dt.timezone.utc).date()) - dt.date.fromisoformat(read_on)).days
    if age <= MAX_AGE_DAYS:
        return None
    return f"the price catalog was read on {read_on}, {age} days ago (more than {MAX_AGE_DAYS}): run `genai-finops prices refresh --region R`"


@dataclass(frozen=True)
class PriceCatalog:
    path: str
    data: dict[str, Any]

    @property
    def hours_always_on(self) -> float:
        return float(self.data["hours_per_month_always_on"]["value"])

    @property
    def read_on(self) -> str:
        """The catalog's date: the oldest day any of its sources was read (YYYY-MM-DD)."""
        return min(str(source["read"]) for source in self.data["sources"].values())

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

    def token_prices(self, region: str, model: str) -> TokenPrices:
        """USD per million tokens of a Bedrock model or system profile ID in `region`."""
        field = f"bedrock.{region}.models.{model}"
        block = self.data.get("bedrock", {}).get(region)
        entry = (block or {}).get("models", {}).get(model)
        if entry is None:
            priced = [r for r in sorted(self.data.get("bedrock", {})) if model in self.data["bedrock"][r]["models"]]
            if priced:
                where = f"it is priced in {', '.join(priced)}"
            elif block is None:
                where = "no Bedrock prices for that region at all"
            else:
                where = "no such text model with on-demand token prices" + did_you_mean(model, block["models"])
            raise MissingPrice(field, f"no Bedrock on-demand price for {model} in {region} in {self.path} ({field}: {where}); "
                               "name a model ID the catalog lists, or rebuild it with `genai-finops prices bedrock`")
        return TokenPrices(model, float(entry["input"]), float(entry["output"]), entry.get("cache_read"), entry.get("cache_write"))

    def gp3_gb_month(self, region: str) -> float:
        field = f"regions.{region}.ebs_gp3_usd_per_gb_month"
        entry = self.data["regions"].get(region, {}).get("ebs_gp3_usd_per_gb_month")
        if entry is None:
            raise MissingPrice(field, f"no EBS gp3 price for {region} in {self.path} ({field}); "
                               f"run `genai-finops prices refresh --region {region}`")
        return float(entry["value"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CatalogSource(_Strict):
    url: Annotated[str, StringConstraints(pattern=r"^https://")]
    read: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    what: str = ""


class CitedFigure(_Strict):
    value: Annotated[float, Field(gt=0)]
    source: str


class CitedPrice(_Strict):
    usd: Annotated[float, Field(gt=0)]
    source: str


class SpotRange(_Strict):
    low: Annotated[float, Field(gt=0, lt=1)]
    high: Annotated[float, Field(gt=0, lt=1)]
    source: str
    basis: str = ""


class NotOffered(_Strict):
    types: list[str]
    source: str


class RegionPrices(_Strict):
    ebs_gp3_usd_per_gb_month: CitedFigure | None = None
    on_demand_hourly_usd: dict[str, CitedPrice] = {}
    not_offered_on_demand: NotOffered | None = None


class TokenPrice(_Strict):
    """USD per million tokens."""

    input: Annotated[float, Field(gt=0)]
    output: Annotated[float, Field(gt=0)]
    cache_read: Annotated[float, Field(gt=0)] | None = None
    cache_write: Annotated[float, Field(gt=0)] | None = None
    source: str | None = None  # where measured apart from its region's source (prices refresh)


class BedrockRegion(_Strict):
    source: str
    models: Annotated[dict[str, TokenPrice], Field(min_length=1)]


class CatalogFile(_Strict):
    """The shape of prices.json; `_cross_problems` adds the checks across fields."""

    readme: str = Field(default="", alias="_readme")
    format: FormatVersion
    currency: Literal["USD"]
    sources: Annotated[dict[str, CatalogSource], Field(min_length=1)]
    hours_per_month_always_on: CitedFigure
    spot_discount: dict[str, SpotRange]
    regions: Annotated[dict[str, RegionPrices], Field(min_length=1)]
    bedrock: dict[str, BedrockRegion] = {}


def load_catalog(path: Path | str = DEFAULT_PATH) -> PriceCatalog:
    """Read and check the catalog; every problem in the file is reported as manifests' are,
    `file:line:col: field: message`, all at once (a ManifestError, exit 1)."""
    path = Path(path)
    display = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"{display}: cannot read the price catalog: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ToolError(f"{display}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    problems = _problems(data)
    if problems:
        # Only now is the file read for positions (JSON is YAML: the same reader gives every
        # field's line and column); a good catalog is parsed once.
        document = load_yaml(path, display)
        raise ManifestError([document.problem(where, message, key=key) for where, message, key in problems])
    return PriceCatalog(display, data)


def check_catalog(data: Any) -> list[str]:
    """Every problem as `field: message`, for a catalog held in memory (`prices refresh`)."""
    return [f"{format_path(where)}: {message}" if where else message for where, message in catalog_problems(data)]


def catalog_problems(data: Any) -> list[tuple[tuple, str]]:
    """Every problem as (field path, message): the schema's, else the checks across fields."""
    return [(where, message) for where, message, _key in _problems(data)]


def _problems(data: Any) -> list[tuple[tuple, str, bool]]:
    """(field path, message, whether it is about the key) for each problem: the schema's in the
    manifests' words, else the checks across fields."""
    try:
        CatalogFile.model_validate(data)
    except ValidationError as error:
        return schema_messages(error, CatalogFile)
    return [(where, message, False) for where, message in _cross_problems(data)]


def _cross_problems(data: dict[str, Any]) -> list[tuple[tuple, str]]:
    """What a field-by-field schema cannot see: every cited source exists, a spot range is
    ordered, and no type is both priced and listed as not offered in a region."""
    sources = data["sources"]
    problems: list[tuple[tuple, str]] = []

    def cited(field: tuple, entry: dict[str, Any]) -> None:
        if entry["source"] not in sources:
            problems.append(((*field, "source"), f"{entry['source']!r} is not a key of sources"))

    cited(("hours_per_month_always_on",), data["hours_per_month_always_on"])
    for family, entry in data["spot_discount"].items():
        cited(("spot_discount", family), entry)
        if entry["low"] > entry["high"]:
            problems.append((("spot_discount", family, "low"), f"low {entry['low']!r} is above high {entry['high']!r}"))
    for region, block in data["regions"].items():
        if "ebs_gp3_usd_per_gb_month" in block:
            cited(("regions", region, "ebs_gp3_usd_per_gb_month"), block["ebs_gp3_usd_per_gb_month"])
        prices = block.get("on_demand_hourly_usd", {})
        for instance_type, entry in prices.items():
            cited(("regions", region, "on_demand_hourly_usd", instance_type), entry)
        absent = block.get("not_offered_on_demand")
        if absent is not None:
            cited(("regions", region, "not_offered_on_demand"), absent)
            for instance_type in sorted(set(absent["types"]) & set(prices)):
                problems.append((("regions", region, "not_offered_on_demand", "types"), f"{instance_type} is both priced and listed as not offered"))
    for region, block in data.get("bedrock", {}).items():
        cited(("bedrock", region), block)
        for model, entry in block["models"].items():
            if entry.get("source") is not None:
                cited(("bedrock", region, "models", model), entry)
    return problems
