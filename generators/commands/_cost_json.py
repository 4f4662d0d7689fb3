"""`cost --format json`: the estimate as the JSON document cost.py's docstring describes (a module
of the cost command, not a command: cli skips names starting with an underscore)."""

from __future__ import annotations

from generators.plan.pricing import age_note
from generators.plan.saved import SCHEMA_VERSION


def _usd(value: float) -> float:
    return round(value, 2)


def _round4(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _range6(r) -> dict:
    return {"low": round(r.low, 6), "expected": round(r.expected, 6), "high": round(r.high, 6)}


def models(est) -> list[dict]:
    """Spend and $ per million tokens per model_id, over every team and component serving it."""
    from generators.plan.unit_cost import by_model

    return [
        {
            "model_id": m.model_id,
            "teams": list(m.teams),
            "monthly_usd": _range(m.monthly_usd),
            "usd_per_million_tokens": _round4(m.usd_per_million_tokens),
            "usd_per_million_tokens_at_utilization": _round4(m.usd_per_million_tokens_at_utilization),
        }
        for m in by_model(est)
    ]


def _range(r) -> dict:
    return {"low": _usd(r.low), "expected": _usd(r.expected), "high": _usd(r.high)}


def to_json(est, changes=None, base_dir=None) -> dict:
    from generators.plan.estimate import pool_limits

    report = {
        "schema_version": SCHEMA_VERSION,
        "month": str(est.month),
        "currency": "USD",
        "prices": est.prices_path,
        "prices_read": est.prices_read,
        "prices_note": age_note(est.prices_read),
        "hours_always_on": est.hours_always_on,
        "org_cap_usd": est.org_cap_usd,
        "total_monthly_usd": _range(est.total),
        "gate": {"figure": est.gate, "passed": not est.failing, "failing": [t.team for t in est.failing]},
        "teams": [
            {
                "team": t.team,
                "path": t.path,
                "region": t.region,
                "budget_usd": t.budget_usd,
                "org_cap_usd": t.org_cap_usd,
                "total_monthly_usd": _range(t.total),
                "budget_percent": round(t.budget_percent, 1),
                "gated_usd": _usd(t.gated_usd),
                "over_budget": t.over_budget,
                "over_org_cap": t.over_org_cap,
                "savings_usd": {"schedule": _usd(t.schedule_savings_usd), "spot": _usd(t.spot_savings_usd)},
                "schedule": {"timezone": t.timezone, "hours": round(t.schedule_hours, 2)} if t.schedule_hours is not None else None,
                "components": [
                    {
                        "kind": c.kind,
                        "name": c.name,
                        "model_id": c.model_id,
                        "instance_type": c.instance_type,
                        "market": c.market,
                        "units": {"low": c.units.low, "expected": c.units.expected, "high": c.units.high},
                        "hours": round(c.hours, 2) if c.hours is not None else None,
                        "hours_basis": c.hours_basis,
                        "hourly_usd": round(c.hourly_usd, 6) if c.hourly_usd is not None else None,
                        "hourly_range_usd": _range6(c.hourly_range_usd) if c.hourly_range_usd is not None else None,
                        "on_demand_hourly_usd": c.on_demand_hourly_usd,
                        "monthly_usd": _range(c.monthly_usd),
                        "savings_usd": {"schedule": _usd(c.schedule_savings_usd), "spot": _usd(c.spot_savings_usd)},
                        "usd_per_million_tokens": _round4(c.usd_per_million_tokens),
                        "utilization_percent": c.utilization_percent,
                        "usd_per_million_tokens_at_utilization": _round4(c.usd_per_million_tokens_at_utilization),
                        "notes": list(c.notes),
                    }
                    for c in t.components
                ],
                "pool_limits": [
                    {"pool": pool, "max_nodes": top, "breaks_budget_alone": alone, "largest_fitting_max_nodes": fits}
                    for pool, top, alone, fits in (pool_limits(t) if t.gate == "high" and t.over_budget else [])
                ],
            }
            for t in est.teams
        ],
        "models": models(est),
    }
    if changes is not None:
        report["compare"] = {
            "base": base_dir,
            "teams": [
                {
                    "team": ch.team,
                    "status": ch.status,
                    "base_expected_usd": _usd(ch.base.total.expected) if ch.base else None,
                    "expected_usd": _usd(ch.head.total.expected) if ch.head else None,
                    "delta_usd": _usd(ch.delta_expected_usd),
                    "base_budget_usd": _usd(ch.base.budget_usd) if ch.base else None,
                    "budget_usd": _usd(ch.head.budget_usd) if ch.head else None,
                    "base_within_budget": ch.base.within if ch.base else None,
                    "within_budget": ch.head.within if ch.head else None,
                }
                for ch in changes
            ],
        }
    return report
