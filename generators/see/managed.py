"""Managed models in showback: their tokens and $ per million from the billing rows, and build or buy.

- Each model entry says whether it is `managed` (a `managed_models` entry of its team: tokens
  bought per call, from Bedrock) or `self-hosted` (a pool's or training job's model_id). A managed
  entry carries the tokens its rows billed, by direction (input, output, cache read, cache
  write: all four count), and its actual $ per million tokens: its spend over all of them.
- Build or buy, for each self-hosted model whose pool names a `managed_alternative` and whose
  tokens Prometheus measured: what the same input (prompt) and output (generation) tokens would
  have cost on that model at its on-demand prices in the team's region (`managed_usd`), the
  difference (self-hosted actual - managed: above zero, buying would have been cheaper), and the
  monthly token volume at which the two cost the same. The self-hosted spend is capacity paid
  whatever it serves, the managed one grows with the tokens (at this month's mix of input and
  output), so break-even = tokens x self-hosted / managed: below it buying is cheaper, above it
  running the pool is. Every output that shows these figures takes them from `build_or_buy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generators.see.managed_tokens import TOKEN_KINDS

if TYPE_CHECKING:
    from generators.model import ManifestSet
    from generators.plan.estimate import Estimate


def kinds(manifests: ManifestSet) -> dict[tuple[str, str], str]:
    """(model_id, team) -> managed | self-hosted, from the manifests."""
    out: dict[tuple[str, str], str] = {}
    for loaded in manifests.teams:
        team = loaded.manifest
        for model_id in [job.model_id for job in team.training] + [pool.model_id for pool in team.inference]:
            out[(model_id, team.team)] = "self-hosted"
        for managed in team.managed_models:
            out.setdefault((managed.model_id, team.team), "managed")
    return out


def token_totals(rows: list[tuple[Any, Any, str, float, float]]) -> dict[str, float]:
    """Every token row of the month by direction (attributed or not)."""
    totals = dict.fromkeys(TOKEN_KINDS, 0.0)
    for _model, _team, kind, count, _cost in rows:
        totals[kind] += count
    return totals


def add_managed(models: list[dict[str, Any]], manifests: ManifestSet, rows: list[tuple[Any, Any, str, float, float]],
                estimated: dict[tuple[str, str], float]) -> None:
    """Kind, billed tokens by direction and actual $ per million tokens of each model entry, in place."""
    by_model: dict[tuple[str, str], dict[str, float]] = {}
    for model, team, kind, count, _cost in rows:
        if model is not None and team is not None:
            by_model.setdefault((model, team), dict.fromkeys(TOKEN_KINDS, 0.0))[kind] += count
    known = kinds(manifests)
    for entry in models:
        key = (entry["model_id"], entry["team"])
        entry["kind"] = known.get(key, "unknown")
        billed = by_model.get(key)
        if billed is None:
            continue
        entry["billed_tokens"] = {kind: int(round(count)) for kind, count in billed.items()}
        total = sum(billed.values())
        if entry["kind"] == "managed":
            entry["usd_per_million_tokens"] = round(entry["actual_usd"] / total * 1e6, 4) if total else None
            entry["estimated_usd_per_million_tokens"] = estimated.get(key)
            entry["tokens_note"] = None if total else "its billing rows count no tokens"


def build_or_buy(models: list[dict[str, Any]], estimate: Estimate) -> list[dict[str, Any]]:
    """One row per self-hosted (model, team) with measured tokens and a pool naming a managed alternative."""
    out = []
    entries = {(m["model_id"], m["team"]): m for m in models}
    for team in estimate.teams:
        seen: set[str] = set()
        for component in team.components:
            alternative = component.alternative
            if alternative is None or component.model_id is None or component.model_id in seen:
                continue
            seen.add(component.model_id)
            entry = entries.get((component.model_id, team.team))
            if entry is None or not entry.get("prompt_tokens") and not entry.get("generation_tokens"):
                continue
            prompt, generation = entry["prompt_tokens"] or 0, entry["generation_tokens"] or 0
            managed = alternative.cost(prompt, generation)
            self_hosted = entry["actual_usd"]
            tokens = prompt + generation
            out.append({
                "team": team.team, "model_id": component.model_id, "managed_alternative": alternative.model,
                "input_tokens": prompt, "output_tokens": generation,
                "self_hosted_usd": round(self_hosted, 2), "managed_usd": round(managed, 2),
                "difference_usd": round(self_hosted - managed, 2),
                "cheaper": "managed" if managed < self_hosted else "self-hosted",
                "break_even_tokens_per_month": int(round(tokens * self_hosted / managed)) if managed > 0 else None,
                "prices": {"input": alternative.input, "output": alternative.output},
            })
    return out
