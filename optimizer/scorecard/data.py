"""Everything the scorecard shows, computed: cost per token, utilization plan, measured against twin, failures, scaling, allocation.

With telemetry the twin is calibrated first and every expected figure is the calibrated
twin's; the measured section compares the uncalibrated twin with what was measured, so
the reader sees the correction the overlay makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from optimizer.highs import Infeasible
from optimizer.planning import PlanInputError, plan_facility
from optimizer.problem import parse_system_id
from optimizer.scorecard.failures import failure_modes
from twin.allocation import TenantCost, tenant_costs
from twin.demand import hourly_demand
from twin.deployments import deployment_keys
from twin.evaluate import Evaluation, evaluate
from twin.production import streams
from twin.reliability import availability
from twin.spec import Spec
from twin.telemetry.apply import with_calibration
from twin.telemetry.calibrate import CalibrationResult, calibrate, fleet
from twin.telemetry.mapping import Mapping
from twin.telemetry.predict import hour_of_year, uncalibrated
from twin.telemetry.read import Telemetry

PLAN_TIME_LIMIT_S = 30.0


@dataclass
class Scorecard:
    """The report's content; `render` draws it."""

    name: str
    source: str
    generated: str
    evaluation: Evaluation
    utilization: list[dict]
    profile: pd.DataFrame  # mean by hour of day: demand and served share of capacity
    tenants: list[TenantCost]
    failures: dict
    scaling: dict
    calibration: CalibrationResult | None = None
    measured_rows: list[dict] = field(default_factory=list)


def build_scorecard(spec: Spec, source: str, telemetry: Telemetry | None = None, mapping: Mapping | None = None,
                    step_s: float = 3600.0, plan: bool = True, seed: int = 0) -> Scorecard:
    """Compute the scorecard of `spec` (read from `source`), calibrated on `telemetry` when given."""
    cal = calibrate(spec, telemetry, mapping, step_s) if telemetry is not None else None
    twin = with_calibration(spec, cal.calibration) if cal is not None else spec
    ev = evaluate(twin)
    ss = streams(twin)
    # The planner's coefficients come from the catalog, not the overlay: the scaling path compares uncalibrated figures.
    raw = uncalibrated(spec)
    return Scorecard(
        name=spec.name, source=source, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        evaluation=ev, utilization=_utilization(twin, ss), profile=_profile(ev),
        tenants=tenant_costs(twin, ev), failures=failure_modes(twin, ss, seed),
        scaling=_scaling(raw, ev if raw is twin else evaluate(raw)) if plan else {"skipped": True},
        calibration=cal, measured_rows=_measured_rows(raw, ss, cal) if cal is not None else [],
    )


def _utilization(spec: Spec, ss) -> list[dict]:
    """Per deployment: GPUs, models, capacity at SLA, and the busy share the demand profile gives it (mean, peak)."""
    demand = hourly_demand(spec.workload.demand)
    avail = availability(spec)
    rows = []
    for k, key in enumerate(deployment_keys(spec)):
        mine = [s for s in ss if s.deployment == k]
        busy = np.minimum(demand, avail.groups[k].availability)
        rows.append({"deployment": key, "gpus": sum(s.gpus for s in mine), "models": ", ".join(s.model for s in mine),
                     "capacity_tokens_per_s": sum(s.capacity_tokens_per_s for s in mine),
                     "mean_utilization": float(busy.mean()), "peak_utilization": float(busy.max()),
                     "availability": avail.groups[k].availability})
    return rows


def _profile(ev: Evaluation) -> pd.DataFrame:
    h = ev.hourly
    cap = ev.kpis["capacity_output_tokens_per_s"] or 1.0
    return pd.DataFrame({"hour": h["hour"] % 24, "demand": h["demand_output_tokens_per_s"] / cap,
                         "served": h["served_output_tokens_per_s"] / cap}).groupby("hour").mean().reset_index()


def _scaling(spec: Spec, ev: Evaluation) -> dict:
    """The planner's answer for this spec: its layout and its KPIs (scored by the twin) against the facility as built."""
    try:
        run = plan_facility(spec, None, PLAN_TIME_LIMIT_S, shadow=False, verify=True)
    except (PlanInputError, Infeasible) as exc:
        return {"error": str(getattr(exc, "reason", exc))}
    sol = run.solution
    built = {(d.hall, d.system): d.racks for d in spec.deployments}
    racks = [{"hall": h, "system": v, "racks": n, "built": built.get((h, parse_system_id(v)[0]), 0)} for (h, v), n in sorted(sol.racks.items())]
    now = {k: ev.kpis[k] for k in ("cost_per_million_tokens_usd", "output_tokens_per_s", "annual_cost_usd", "capex_usd", "pue", "gpus")}
    return {"objective": sol.objective, "racks": racks, "now": now, "plan": run.twin or run.predicted,
            "binding": [u.limit.key for u in run.uses if u.binding]}


def _measured_rows(spec: Spec, ss, cal: CalibrationResult) -> list[dict]:
    """Measured against the (uncalibrated) twin, per metric; metrics no series carried say so."""
    m, s = cal.measured, cal.series
    rows = []

    def pair(quantity: str) -> tuple[float | None, float | None]:
        both = fleet(s, quantity).dropna()
        return (float(both["measured"].mean()), float(both["predicted"].mean())) if len(both) else (None, None)

    for quantity, label in (("output tokens/s", "output tokens/s (fleet, mean)"), ("IT power kW", "GPU systems' IT power, kW (mean)"), ("PUE", "PUE (mean)")):
        meas, pred = pair(quantity)
        rows.append({"metric": label, "measured": meas, "twin": pred})
    util = np.nanmean(m.util) if np.isfinite(m.util).any() else None
    planned = hourly_demand(spec.workload.demand)[hour_of_year(m.edges[:-1])]  # the demand profile over the measured hours
    rows.append({"metric": "GPU utilization (mean)", "measured": util, "twin": float(planned.mean())})
    points = {}
    for st in ss:
        points.setdefault(st.model, st.point)
    for e in m.engine:
        p = points.get(e["model"])
        rows.append({"metric": f"{e['model']}: TTFT p50 / p95, s", "measured": e.get("ttft_p50_s"), "measured_p95": e.get("ttft_p95_s"),
                     "twin": p.ttft_s if p else None})
        rows.append({"metric": f"{e['model']}: TPOT p50 / p95, s", "measured": e.get("tpot_p50_s"), "measured_p95": e.get("tpot_p95_s"),
                     "twin": p.tpot_s if p else None})
        for key, label in (("kv_cache_usage", "KV-cache use (mean)"), ("requests_waiting", "queue depth (mean waiting)"),
                           ("prefix_cache_hit_rate", "prefix-cache hit rate"), ("error_rate", "error rate (aborted / finished)")):
            rows.append({"metric": f"{e['model']}: {label}", "measured": e.get(key), "twin": None})
    for key, label in (("gpu_temp_mean_c", "GPU temperature, mean C"), ("gpu_temp_max_c", "GPU temperature, max C"), ("xid_error_samples", "XID error samples")):
        rows.append({"metric": label, "measured": m.gpu_health.get(key), "twin": None})
    return rows
