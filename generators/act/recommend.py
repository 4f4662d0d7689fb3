"""`genai-finops recommend`: manifest changes, each with the measured evidence it rests on and the
saving the estimator confirms.

The saving of a change `--write` makes is the team's expected estimate before minus the expected
estimate of the edited file, parsed as `cost` parses it and priced by `plan.estimate` (the same
code), so the pull request's cost diff is exactly what was promised. A recommendation is made only
where its evidence holds; a kind that needs what was not given (Prometheus) is listed in `skipped`
with the reason, as is a saving under the org's `recommend.min_monthly_saving_usd`.

From the billing data: `spot`, and `schedule` from the hours its instances were billed in. With
Prometheus (generators/act/sizing.py): `pool-size`, `idle-training`, `gpu-fit` and `calibrate`,
and `schedule` from the hours its GPUs were busy. `commitment` is not built (it needs a cited
Savings Plan rate in the catalog) and is listed as skipped, saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from generators.act import sizing
from generators.act.edits import Edit, apply_all
from generators.act.items import Evidence, Kind, Pricing, Recommendation, Recommendations, Skipped
from generators.errors import ManifestError
from generators.model import ManifestSet, OrgPolicy
from generators.months import Month
from generators.plan.pricing import MissingPrice, PriceCatalog
from generators.see.hourly import Measured
from generators.yaml_source import FieldPath

# The kinds that read GPU or token series: without --prometheus they are skipped, with the reason.
NEEDS_PROMETHEUS: tuple[Kind, ...] = ("pool-size", "idle-training", "gpu-fit", "calibrate")
NOT_BUILT: tuple[Kind, ...] = ("commitment",)
# A proposed schedule starts an hour before the first billed hour and stops an hour after the last.
MARGIN_HOURS = 1


def recommend(manifests: ManifestSet, catalog: PriceCatalog, month: Month, spend: dict[tuple[str, str], float], billing_rows: int,
              hourly: Measured | None, only: set[str] | None = None, busy: dict[str, dict[tuple[int, int], int]] | None = None) -> Recommendations:
    """Every recommendation for the teams of `manifests` (or `only` those), from the month's
    spend per (model_id, team) in the billing data, per team the hours of the week its instances
    were billed in (ISO weekday, hour, in org.yaml recommend.timezone), and, with Prometheus,
    the hourly GPU and token figures of its pools and jobs."""
    found = Recommendations(str(month))
    org = manifests.org
    minimum = org.recommend.min_monthly_saving_usd
    timezone = org.recommend.timezone
    for loaded in manifests.teams:
        team = loaded.manifest
        if only and team.team not in only:
            continue
        pricing = Pricing(loaded, org.max_team_monthly_usd, catalog, month)
        items: list[Recommendation | Skipped] = list(_spot(pricing, month, spend, billing_rows, org))
        if hourly is not None:
            profile, source = sizing.busy_profile(hourly, team, timezone), f"{sizing.DCGM}, hours a GPU was {sizing.IDLE_SHARE:.0%} busy or more"
        else:
            profile, source = (busy or {}).get(team.team, {}), "billing export, hourly EffectiveCost of its instances"
        items += _schedule(pricing, profile, timezone, source)
        if hourly is not None:
            items += [*sizing.pool_size(pricing, hourly, org), *sizing.idle_training(pricing, hourly), *sizing.gpu_fit(pricing, hourly, org),
                      *sizing.calibrate(pricing, hourly)]
        else:
            found.skipped += [Skipped(kind, team.team, "team", "needs GPU or token series: pass --prometheus") for kind in NEEDS_PROMETHEUS]
        for item in items:
            _keep(found, item, minimum)
        written = [Edit(r.path, r.proposed) for r in found.items if r.team == team.team and r.writes]
        if written:
            found.total_monthly_saving_usd += pricing.written(written)
        found.skipped += [Skipped(kind, team.team, "team", "not built yet: needs a cited Savings Plan rate in the catalog (issue 25)")
                          for kind in NOT_BUILT]
    return found


def from_measured(manifests: ManifestSet, catalog: PriceCatalog, month: Month, measured: Any, hourly: Measured | None,
                  only: set[str] | None = None) -> Recommendations:
    """The recommendations for a showback measured with the org's recommend.timezone profile
    (see/measure.measure(..., profile_tz=...)): what `recommend` and `report` show."""
    spend = {(m["model_id"], m["team"]): m["actual_usd"] for m in measured.models}
    return recommend(manifests, catalog, month, spend, measured.rows, hourly, only, measured.busy_hours)


def _keep(found: Recommendations, item: Recommendation | Skipped, minimum: float) -> None:
    if isinstance(item, Skipped):
        found.skipped.append(item)
    elif item.for_saving and (item.monthly_saving_usd < minimum or item.monthly_saving_usd <= 0):
        found.skipped.append(Skipped(item.kind, item.team, item.target,
                                     f"saves ${item.monthly_saving_usd:,.2f} a month, under recommend.min_monthly_saving_usd (${minimum:,.2f})"))
    else:
        found.items.append(item)


def _spot(pricing: Pricing, month: Month, spend: dict[tuple[str, str], float], billing_rows: int,
          org: OrgPolicy) -> list[Recommendation | Skipped]:
    """On-demand training jobs and pools to spot, where the org allows spot for the team's
    environment and every type's family has an observed spot discount in the catalog."""
    loaded, catalog = pricing.loaded, pricing.catalog
    team = loaded.manifest
    out: list[Recommendation | Skipped] = []
    entries: list[tuple[Literal["training", "inference"], int, str, list[str], str]] = [
        ("training", i, job.name, [job.instance_type], job.model_id) for i, job in enumerate(team.training) if job.market == "on-demand"
    ] + [
        ("inference", i, pool.name, list(pool.instance_types), pool.model_id) for i, pool in enumerate(team.inference) if pool.market == "on-demand"
    ]
    for section, index, name, types, model_id in entries:
        target = f"{section}/{name}"
        if not org.allows_spot(team.environment, section):
            out.append(Skipped("spot", team.team, target, f"org.yaml prod.allow_spot_{section} is false"))
            continue
        try:
            discounts = {t: catalog.spot_discount(t) for t in types}
        except MissingPrice as missing:
            out.append(Skipped("spot", team.team, target, str(missing)))
            continue
        path: FieldPath = (section, index, "market")
        edits = [Edit(path, "spot")]
        usd = pricing.saving(edits)
        evidence = [Evidence("spot discount", ", ".join(f"{t} {d.low:.0%}-{d.high:.0%}" for t, d in sorted(discounts.items())),
                             f"{catalog.path}, spot_discount (observed range)")]
        billed = spend.get((model_id, team.team))
        if billed is not None:
            evidence.append(Evidence(f"spend of {model_id} (team {team.team}) in {month}", f"${billed:,.2f}",
                                     f"billing export, EffectiveCost of {billing_rows:,} rows, Team={team.team} ModelID={model_id}"))
        line = loaded.source.locate(path)[0] if loaded.source is not None else 1
        note = ("training must checkpoint: spot capacity can be interrupted (the instance stops and resumes)" if section == "training"
                else "serving on spot: keep min_nodes enough for interruptions, or mix with on-demand")
        out.append(Recommendation("spot", team.team, target, loaded.path, line, path, "on-demand", "spot", usd, tuple(evidence), note=note))
    return out


def _schedule(pricing: Pricing, busy: dict[tuple[int, int], int], timezone: str, source: str) -> list[Recommendation | Skipped]:
    """A non-prod team without a schedule: the weekdays its instances were billed on and the
    window from the first billed hour to the last, with a margin, so off-hours stops the rest."""
    from generators.model import WEEKDAYS, Schedule
    from generators.months import longest_month_hours

    loaded, month = pricing.loaded, pricing.month
    team = loaded.manifest
    if team.schedule is not None or not (team.training or team.inference):
        return []
    if team.environment == "prod":
        return [Skipped("schedule", team.team, "team", "a prod team: off-hours never stops prod capacity")]
    if not busy:
        return [Skipped("schedule", team.team, "team", f"no busy hours of its instances in the data ({source})")]
    days = sorted({day for day, _ in busy})
    start = max(min(hour for _, hour in busy) - MARGIN_HOURS, 0)
    stop = max(hour for _, hour in busy) + 1 + MARGIN_HOURS
    if len(days) == 7 and start == 0 and stop >= 24:
        return [Skipped("schedule", team.team, "team", f"its instances were busy around the clock every day ({timezone}; {source}): no hours to stop")]
    window = {"timezone": timezone, "weekdays": [WEEKDAYS[day - 1] for day in days], "start": f"{start:02d}:00",
              "stop": "23:59" if stop >= 24 else f"{stop:02d}:00"}
    longest = longest_month_hours(Schedule.model_validate(window))
    too_long = [job.name for job in team.training if job.hours_per_month is not None and job.hours_per_month > longest]
    if too_long:
        return [Skipped("schedule", team.team, "team", f"training {', '.join(too_long)} plans more hours_per_month than the window allows ({longest:g})")]
    edits = [Edit(("schedule",), window)]
    usd = pricing.saving(edits)
    slots = len(busy)
    evidence = (Evidence("hours of the week its instances were busy in", f"{slots} of 168, on {', '.join(window['weekdays'])}, "
                         f"{min(h for _, h in busy):02d}:00-{max(h for _, h in busy) + 1:02d}:00 {timezone}",
                         f"{source}, Team={team.team}, {month}"),)
    note = f"proposed window: the busy hours with {MARGIN_HOURS} h on each side; off-hours stops training and scales pools to zero outside it"
    line = len(Path(loaded.path).read_text(encoding="utf-8").splitlines()) + 1  # where --write adds it
    return [Recommendation("schedule", team.team, "team", loaded.path, line, ("schedule",), None, window, usd, evidence, note=note)]


def write(manifests: ManifestSet, items: list[Recommendation]) -> list[str]:
    """Make every written recommendation's edit, validate the edited set as a whole, and only
    then replace the files (atomically, one by one). Nothing is written if any file would be
    invalid: the ManifestError names each problem in the edited files."""
    import shutil
    import tempfile

    from generators.files import write_atomically
    from generators.manifest.loading import load_manifest_set

    by_file: dict[str, list[Edit]] = {}
    for item in items:
        if item.writes:
            by_file.setdefault(item.file, []).append(Edit(item.path, item.proposed))
    texts = {path: apply_all(Path(path).read_text(encoding="utf-8"), edits) for path, edits in by_file.items()}
    org_path = Path(manifests.org_path)
    with tempfile.TemporaryDirectory(prefix="genai-finops-recommend-") as scratch:
        trial = Path(scratch)
        (trial / "teams").mkdir()
        shutil.copyfile(org_path, trial / "org.yaml")
        for loaded in manifests.teams:
            name = Path(loaded.path).name
            text = texts.get(loaded.path)
            if text is None:
                shutil.copyfile(loaded.path, trial / "teams" / name)
            else:
                (trial / "teams" / name).write_text(text, encoding="utf-8")
        try:
            load_manifest_set([str(trial)])
        except ManifestError as error:
            raise ManifestError([p.__class__(p.path.replace(str(trial), str(org_path.parent)), p.line, p.column, p.field, p.message)
                                 for p in error.problems]) from None
    for path, text in texts.items():
        write_atomically(Path(path), text)
    return sorted(texts)
