"""FOCUS rows AWS would bill for a set of manifests over one month: test, benchmark and demo data.

Hourly rows (ChargePeriodStart/End one hour apart, as the hourly AWS Data Exports FOCUS 1.2
export writes them) for every training instance and pool node while it runs (inside the team's
schedule, else all month), their root volumes, priced from the price catalog with the spot
discount. Noise a real bill has, each switchable: a training instance left running past the
schedule's stop on a few evenings (off-schedule spend), an untagged GPU instance, and a
Savings Plan (the purchase row costs nothing effective; the usage it covers is billed at the
plan's rate). Deterministic for a given seed.

    python -m generators.samples.focus_sample manifests --month 2026-11 --out cdktf.out/billing
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generators import naming
from generators.model import InferencePool, ManagedModel, ManifestSet, TeamManifest, TrainingJob
from generators.months import Month
from generators.plan.pricing import PriceCatalog
from generators.see import focus_spec
from generators.see.showback import in_schedule
from generators.tags import USER_TAG_PREFIX

EC2 = "Amazon Elastic Compute Cloud"
SAVINGS_PLAN_DISCOUNT = 0.28  # an illustrative Compute Savings Plan rate for the generated data
# Every column FOCUS 1.2 makes mandatory and the optional ones genai-finops uses: the columns
# the billing export selects (generators/see/focus_spec.py).
COLUMNS = focus_spec.EXPORT_COLUMNS
PAYER = ("111122223333", "genai-finops demo payer")  # the generated data's accounts: illustrative ids
MEMBER = ("123456789012", "genai-finops demo workloads")


_TYPED = {c.name: c.data_type for c in (*focus_spec.MANDATORY, *focus_spec.USED_OPTIONAL)}
NUMERIC = frozenset(name for name, kind in _TYPED.items() if kind == "Decimal")
TIMESTAMPS = frozenset(name for name, kind in _TYPED.items() if kind == "Date/Time")


@dataclass(frozen=True)
class Noise:
    late_evenings: int = 3  # evenings one training instance runs 2 h past the schedule's stop
    untagged_hours: int = 48  # hours an untagged g5.xlarge runs
    savings_plan: bool = True


def _resource_id(*parts: str) -> str:
    return "i-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def _tags(team: TeamManifest, model_id: str) -> str:
    values = {"Team": team.team, "Project": team.project, "Owner": team.owner, "Environment": team.environment,
              "CostCenter": team.cost_center, "ModelID": model_id, **team.tags}
    values["ModelID"] = model_id
    return json.dumps({f"{USER_TAG_PREFIX}{k}": v for k, v in sorted(values.items())}, separators=(",", ":"))


def month_hours(month: Month) -> list[dt.datetime]:
    """The start of every hour of the month, UTC."""
    return [month.start + dt.timedelta(hours=h) for h in range(int((month.end - month.start).total_seconds() // 3600))]


def running_hours(team: TeamManifest, hours: list[dt.datetime]) -> list[dt.datetime]:
    """The hours the team's capacity runs: inside its schedule, else all of them."""
    return [h for h in hours if team.schedule is None or in_schedule(team.schedule, h)]


def job_hours(job: TrainingJob, running: list[dt.datetime]) -> list[dt.datetime]:
    """The hours a training job runs: the first hours_per_month of the team's, else all of them."""
    return running[: int(job.hours_per_month)] if job.hours_per_month else running


@dataclass(frozen=True)
class Resource:
    """What a row is billed for: its region, id, name, FOCUS ResourceType, SKU and Tags (JSON)."""

    region: str
    id: str
    name: str
    kind: str
    sku: str
    tags: str


@dataclass(frozen=True)
class Charge:
    """An hour's charge: FOCUS ChargeCategory and ChargeDescription, the quantity and its unit,
    the list, effective and billed costs, and the PricingCategory."""

    category: str
    description: str
    quantity: float
    unit: str
    list_cost: float
    effective: float
    billed: float
    pricing: str = "Standard"
    meter: str | None = None  # SkuMeter: AWS writes the usage type there (…-input-tokens for Bedrock)
    service: tuple[str, str] = ("Compute", EC2)  # ServiceCategory, ServiceName


class _Rows:
    """The month's rows in COLUMNS order, as AWS's FOCUS 1.2 export writes them."""

    def __init__(self, month: Month) -> None:
        self.billing = (month.start.isoformat().replace("+00:00", "Z"), month.end.isoformat().replace("+00:00", "Z"))
        self.out: list[tuple] = []

    def add(self, start: dt.datetime, resource: Resource, charge: Charge) -> None:
        end = start + dt.timedelta(hours=1)
        row = {
            "BillingAccountId": PAYER[0], "BillingAccountName": PAYER[1], "SubAccountId": MEMBER[0], "SubAccountName": MEMBER[1],
            "BillingPeriodStart": self.billing[0], "BillingPeriodEnd": self.billing[1],
            "ChargePeriodStart": start.isoformat().replace("+00:00", "Z"), "ChargePeriodEnd": end.isoformat().replace("+00:00", "Z"),
            "ChargeCategory": charge.category, "ChargeClass": None, "ChargeDescription": charge.description,
            "ChargeFrequency": "Recurring" if charge.category == "Purchase" else "Usage-Based",
            "ProviderName": "AWS", "PublisherName": "Amazon Web Services", "InvoiceIssuerName": "Amazon Web Services",
            "ServiceCategory": charge.service[0], "ServiceName": charge.service[1], "SkuMeter": charge.meter, "SkuPriceDetails": None,
            "RegionId": resource.region, "ResourceId": resource.id,
            "ResourceName": resource.name, "ResourceType": resource.kind, "SkuId": resource.sku, "PricingCategory": charge.pricing,
            "PricingQuantity": charge.quantity, "PricingUnit": charge.unit,
            "ConsumedQuantity": charge.quantity, "ConsumedUnit": charge.unit, "ListCost": round(charge.list_cost, 10),
            # No negotiated prices here: the contracted cost is what is billed before commitments apply.
            "ContractedCost": round(charge.billed, 10), "BilledCost": round(charge.billed, 10), "EffectiveCost": round(charge.effective, 10),
            "BillingCurrency": "USD", "Tags": resource.tags,
        }
        self.out.append(tuple(row[column] for column in COLUMNS))


def _volume(instance: Resource, gb: float, gp3_hour: float) -> tuple[Resource, Charge]:
    cost = gb * gp3_hour
    return (Resource(instance.region, instance.id.replace("i-", "vol-"), instance.name, "Volume", "gp3", instance.tags),
            Charge("Usage", "gp3 storage", gb, "GB-Hours", cost, cost, cost))


def rows(manifests: ManifestSet, catalog: PriceCatalog, month: Month, noise: Noise = Noise(), seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    hours = month_hours(month)
    out = _Rows(month)
    for loaded in manifests.teams:
        team = loaded.manifest
        running = running_hours(team, hours)
        for job in team.training:
            _training_rows(out, team, job, catalog, hours, running, noise, rng)
        for pool in team.inference:
            _pool_rows(out, team, pool, catalog, running)
        for managed in team.managed_models:
            _bedrock_rows(out, team, managed, catalog, hours)
    _noise_rows(out, manifests.org.allowed_regions[0], catalog, hours, noise)
    return out.out


def _training_rows(out: _Rows, team: TeamManifest, job: TrainingJob, catalog: PriceCatalog, hours: list[dt.datetime],
                   running: list[dt.datetime], noise: Noise, rng: random.Random) -> None:
    """Each instance's hours (the first one also a few late evenings) and its root volume, all month."""
    gp3_hour = catalog.gp3_gb_month(team.region) / catalog.hours_always_on
    on_demand = catalog.on_demand_hourly(team.region, job.instance_type)
    hourly = on_demand * (1 - catalog.spot_discount(job.instance_type).expected) if job.market == "spot" else on_demand
    tags = _tags(team, job.model_id)
    ran = job_hours(job, running)
    for index in range(job.count):
        instance = Resource(team.region, _resource_id(team.team, job.name, str(index)), naming.training_instance(team.team, job.name, index),
                            "Instance", job.instance_type, tags)
        extra = []
        if index == 0 and job is team.training[0] and team.schedule is not None and noise.late_evenings:
            # left running past the stop on a few evenings: what off-hours should have stopped
            stops = sorted({h.replace(minute=0) for h in running if not in_schedule(team.schedule, h + dt.timedelta(hours=1))})
            extra = [stop + dt.timedelta(hours=k) for stop in rng.sample(stops, min(noise.late_evenings, len(stops))) for k in (1, 2)]
        for hour in sorted(set(ran) | set(extra)):
            effective = hourly * (1 - SAVINGS_PLAN_DISCOUNT) if noise.savings_plan and job.market == "on-demand" else hourly
            covered = effective != hourly
            pricing = "Dynamic" if job.market == "spot" else "Committed" if covered else "Standard"
            out.add(hour, instance, Charge("Usage", f"{job.instance_type} {job.market}", 1.0, "Hours", on_demand, effective, hourly, pricing))
        for hour in hours:  # the root volume is billed while the instance is stopped too
            out.add(hour, *_volume(instance, job.root_volume_gb, gp3_hour))


def _pool_rows(out: _Rows, team: TeamManifest, pool: InferencePool, catalog: PriceCatalog, running: list[dt.datetime]) -> None:
    """desired_nodes nodes of the pool's first type, and their volumes, while the team runs."""
    gp3_hour = catalog.gp3_gb_month(team.region) / catalog.hours_always_on
    instance_type = sorted(pool.instance_types)[0]
    on_demand = catalog.on_demand_hourly(team.region, instance_type)
    hourly = on_demand * (1 - catalog.spot_discount(instance_type).expected) if pool.market == "spot" else on_demand
    tags = _tags(team, pool.model_id)
    for node in range(pool.desired_nodes):
        instance = Resource(team.region, _resource_id(team.team, pool.name, str(node)), f"{team.team}-{pool.name}", "Instance", instance_type, tags)
        charge = Charge("Usage", f"{instance_type} {pool.market}", 1.0, "Hours", on_demand, hourly, hourly,
                        "Dynamic" if pool.market == "spot" else "Standard")
        for hour in running:
            out.add(hour, instance, charge)
            out.add(hour, *_volume(instance, pool.node_volume_gb, gp3_hour))


BEDROCK = ("AI and Machine Learning", "Amazon Bedrock")
# The region part of an AWS usage type (illustrative: showback reads only the usage type's suffix).
USAGE_TYPE_REGION = {"us-east-1": "USE1", "us-west-2": "USW2", "eu-west-1": "EU"}


def spread(total: int, parts: int) -> list[int]:
    """`total` in `parts` whole shares that add up to it exactly."""
    return [(index + 1) * total // parts - index * total // parts for index in range(parts)]


def _bedrock_rows(out: _Rows, team: TeamManifest, managed: ManagedModel, catalog: PriceCatalog, hours: list[dt.datetime]) -> None:
    """The managed model's declared tokens, spread evenly over the month's hours, billed to its
    tagged application inference profile at the catalog's on-demand prices."""
    prices = catalog.token_prices(team.region, managed.foundation_model)
    profile = Resource(team.region, f"arn:aws:bedrock:{team.region}:{MEMBER[0]}:application-inference-profile/"
                       + hashlib.sha256(f"{team.team}/{managed.name}".encode()).hexdigest()[:12],
                       naming.inference_profile(team.team, managed.name), "ApplicationInferenceProfile", managed.foundation_model,
                       _tags(team, managed.model_id))
    stem = f"{USAGE_TYPE_REGION.get(team.region, team.region)}-{managed.foundation_model.split('.')[-1].split(':')[0]}"
    for direction, total, price in (("input", managed.input_tokens_per_month, prices.input),
                                    ("output", managed.output_tokens_per_month, prices.output)):
        for hour, tokens in zip(hours, spread(total, len(hours))):
            cost = tokens * price / 1_000_000
            out.add(hour, profile, Charge("Usage", f"{managed.foundation_model} {direction} tokens", tokens, "Tokens", cost, cost, cost,
                                          meter=f"{stem}-{direction}-tokens", service=BEDROCK))


def _noise_rows(out: _Rows, region: str, catalog: PriceCatalog, hours: list[dt.datetime], noise: Noise) -> None:
    """An untagged GPU instance and a Savings Plan purchase."""
    if noise.untagged_hours:
        price = catalog.on_demand_hourly(region, "g5.xlarge")
        untagged = Resource(region, "i-0untaggedgpu00001", "", "Instance", "g5.xlarge", "{}")
        for hour in hours[: noise.untagged_hours]:
            out.add(hour, untagged, Charge("Usage", "g5.xlarge on-demand", 1.0, "Hours", price, price, price))
    if noise.savings_plan:
        # The commitment's purchase is billed but has no effective cost: the usage it covers carries it.
        plan = Resource(region, "arn:aws:savingsplans::123456789012:savingsplan/sp-0123", "", "SavingsPlan", "ComputeSP", "{}")
        out.add(hours[0], plan, Charge("Purchase", "Compute Savings Plan, 1 year, no upfront", 1.0, "Hours", 0.0, 0.0, 500.0))


def write(out_dir: Path, data: list[tuple], fmt: str = "parquet") -> Path:
    """One file in AWS's layout (<prefix>/data/BILLING_PERIOD=YYYY-MM/...), written atomically."""
    import duckdb

    period = data[0][COLUMNS.index("BillingPeriodStart")][:7] if data else "empty"
    target_dir = out_dir / "data" / f"BILLING_PERIOD={period}"
    target_dir.mkdir(parents=True, exist_ok=True)
    name = {"parquet": "focus-00001.snappy.parquet", "csv": "focus-00001.csv.gz"}[fmt]
    target = target_dir / name
    handle, staging = tempfile.mkstemp(prefix=f".{name}.", dir=target_dir)
    os.close(handle)
    handle, plain = tempfile.mkstemp(prefix=".rows.", suffix=".csv", dir=target_dir)
    os.close(handle)
    connection = duckdb.connect()
    try:
        # Row-by-row inserts into DuckDB are slow; a plain CSV it reads in one pass is not.
        with open(plain, "w", newline="", encoding="utf-8") as handle_out:
            writer = csv.writer(handle_out)
            writer.writerow(COLUMNS)
            writer.writerows(data)
        types = ", ".join(f"'{c}': '{'DOUBLE' if c in NUMERIC else 'VARCHAR'}'" for c in COLUMNS)
        select = ", ".join(
            f"CAST({c} AS TIMESTAMPTZ) AS {c}" if c in TIMESTAMPS
            else ("json_transform(Tags, '\"MAP(VARCHAR, VARCHAR)\"') AS Tags" if c == "Tags" and fmt == "parquet" else c)
            for c in COLUMNS
        )
        options = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER true, COMPRESSION gzip)"
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"COPY (SELECT {select} FROM read_csv('{plain}', header = true, types = {{{types}}})) TO '{staging}' {options}")
        os.replace(staging, target)
    finally:
        connection.close()
        for leftover in (plain, staging):
            Path(leftover).unlink(missing_ok=True)
    return target


def main(argv: list[str] | None = None) -> int:
    from generators.manifest.loading import load_manifest_set
    from generators.plan.pricing import DEFAULT_PATH, load_catalog
    from generators.samples import sample_parser

    parser = sample_parser("python -m generators.samples.focus_sample", __doc__)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    args = parser.parse_args(argv)
    data = rows(load_manifest_set(args.paths), load_catalog(DEFAULT_PATH), Month.parse(args.month))
    path = write(Path(args.out), data, args.format)
    print(f"wrote {len(data)} FOCUS rows to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
