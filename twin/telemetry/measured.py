"""What was measured, per deployment and time bin: tokens/s, GPU utilization and power; the site's meters; engine KPIs.

Each series is assigned (`twin.telemetry.mapping`) and binned (`twin.telemetry.rates`).
A deployment's tokens/s is the sum of its engine counters' rates (a bin missing any of
them is left out rather than under-counted); its GPU utilization and board power are
the mean over the GPUs scraped, which stand for all of its GPUs. The site's meters are
the rows without a hall, or the sum of the halls' rows where no site row exists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.spec import Spec
from twin.telemetry.findings import Findings
from twin.telemetry.mapping import Assignment, Mapper
from twin.telemetry.rates import counter_rates, gauge_means, grid, histogram_quantile, increases, usual_intervals
from twin.telemetry.read import Telemetry

METER_VALUES = ["utility_kw", "it_kw", "cooling_kw", "outdoor_c", "wet_bulb_c"]


@dataclass
class Measured:
    """Measurements on one time grid (`edges`, Unix seconds), per deployment (`tokens`, `util`, `gpu_power_w`) and site."""

    edges: np.ndarray
    tokens: np.ndarray  # (deployments, bins) output tokens/s; NaN unmeasured
    util: np.ndarray  # (deployments, bins) GPU utilization 0..1
    gpu_power_w: np.ndarray  # (deployments, bins) mean board power per GPU
    gpus_seen: list[int]
    site: pd.DataFrame  # per bin: METER_VALUES
    unmapped: list[tuple[str, str]]  # (series, why)
    engine: list[dict] = field(default_factory=list)  # per model: latency percentiles, KV cache, queue
    gpu_health: dict[str, float] = field(default_factory=dict)
    tenant_tokens: dict[str, float] = field(default_factory=dict)  # output tokens over the period, per tenant

    @property
    def times(self) -> pd.DatetimeIndex:
        """Bin starts, UTC."""
        return pd.to_datetime(self.edges[:-1], unit="s", utc=True)


def _sum_or_nan(rows: list[np.ndarray], bins: int) -> np.ndarray:
    return np.sum(rows, axis=0) if rows else np.full(bins, np.nan)


def _mean(rows: list[np.ndarray], bins: int) -> np.ndarray:
    if not rows:
        return np.full(bins, np.nan)
    with np.errstate(all="ignore"):
        return np.nanmean(np.vstack(rows), axis=0) if np.isfinite(rows).any() else np.full(bins, np.nan)


def measure(spec: Spec, tm: Telemetry, mapper: Mapper, step_s: float = 3600.0, findings: Findings | None = None) -> Measured:
    """Bin every mapped series and the meters onto one grid of `step_s` from the first to the last sample."""
    findings = findings or tm.findings
    start, end = tm.start, tm.end
    if start is None:
        start = end = 0.0
    edges = grid(np.floor(start / step_s) * step_s, end + 1e-6, step_s)
    bins, ndep = len(edges) - 1, len(spec.deployments)
    assigned: dict[str, Assignment] = {}
    unmapped = []
    s = tm.samples
    for sid, group in s.groupby("series", sort=True):
        a = mapper.assign(group["role"].iloc[0], tm.labels[sid])
        assigned[sid] = a
        if a.deployment is None:
            unmapped.append((sid, a.why))
    tokens, util, power = defaultdict(list), defaultdict(list), defaultdict(list)
    tenant_tokens: dict[str, float] = defaultdict(float)
    tenant_of_model = {wm.model: wm.tenant for wm in spec.workload.models}
    values = s[s["part"] == "value"]
    usual = usual_intervals(s)
    for sid, g in values.groupby("series", sort=True):
        a, role = assigned[sid], g["role"].iloc[0]
        scrape_s = min((usual[f] for f in g["file"].unique() if f in usual), default=None)
        if role == "output_tokens":
            rate = counter_rates(g, edges, findings, scrape_s)
            inc, _ = increases(g["t"].to_numpy(float), g["value"].to_numpy(float))
            tenant = a.tenant or tenant_of_model.get(a.model or "") or "unassigned"
            tenant_tokens[tenant] += float(inc.sum())
            if a.deployment is not None:
                tokens[a.deployment].append(rate)
        elif a.deployment is not None and role == "gpu_util_pct":
            util[a.deployment].append(gauge_means(g, edges) / 100.0)
        elif a.deployment is not None and role == "gpu_power_w":
            power[a.deployment].append(gauge_means(g, edges))
        elif role in ("prefix_cache_queries", "prefix_cache_hits", "requests_finished", "requests_aborted"):
            counter_rates(g, edges, findings, scrape_s)  # notes resets and gaps
    return Measured(
        edges=edges,
        tokens=np.array([_sum_or_nan(tokens[k], bins) for k in range(ndep)]).reshape(ndep, bins),
        util=np.array([_mean(util[k], bins) for k in range(ndep)]).reshape(ndep, bins),
        gpu_power_w=np.array([_mean(power[k], bins) for k in range(ndep)]).reshape(ndep, bins),
        gpus_seen=[len(power[k]) for k in range(ndep)],
        site=_site_meters(tm.meters, edges),
        unmapped=unmapped,
        engine=_engine_kpis(s, assigned),
        gpu_health=_gpu_health(values),
        tenant_tokens=dict(tenant_tokens),
    )


def _site_meters(meters: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    """Per bin, the mean of each site meter (site rows, else the halls' sum at each timestamp)."""
    out = pd.DataFrame(index=range(len(edges) - 1), columns=METER_VALUES, dtype=float)
    if meters.empty:
        return out
    site = meters[meters["hall"] == ""]
    if site.empty:
        power = meters.groupby("t")[["utility_kw", "it_kw", "cooling_kw"]].sum(min_count=1)
        weather = meters.groupby("t")[["outdoor_c", "wet_bulb_c"]].mean()
        site = power.join(weather).reset_index()
    for c in METER_VALUES:
        out[c] = gauge_means(site[["t", c]].rename(columns={c: "value"}).dropna(), edges)
    return out


def _engine_kpis(s: pd.DataFrame, assigned: dict[str, Assignment]) -> list[dict]:
    """Per served model: TTFT and TPOT percentiles over the period, mean KV-cache use, queue, prefix-cache hit rate."""
    by_model: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for sid, g in s.groupby("series", sort=True):
        model = assigned[sid].model or "unmapped"
        by_model[model][g["role"].iloc[0]].append(g)
    rows = []
    for model, roles in sorted(by_model.items()):
        row: dict = {"model": model}
        for role in ("ttft_s", "tpot_s"):
            buckets: dict[float, float] = defaultdict(float)
            for g in roles.get(role, []):
                for le, b in g[g["part"] == "bucket"].groupby("le"):
                    inc, _ = increases(b["t"].to_numpy(float), b["value"].to_numpy(float))
                    buckets[float(le)] += float(inc.sum())
            for q in (0.5, 0.95):
                row[f"{role[:-2]}_p{int(q * 100)}_s"] = histogram_quantile(q, dict(buckets)) if buckets else None
        for role, key in (("kv_cache_usage", "kv_cache_usage"), ("requests_running", "requests_running"), ("requests_waiting", "requests_waiting")):
            gs = roles.get(role, [])
            row[key] = float(pd.concat([g["value"] for g in gs]).mean()) if gs else None
        total = {r: sum(float(increases(g["t"].to_numpy(float), g["value"].to_numpy(float))[0].sum()) for g in roles.get(r, []))
                 for r in ("prefix_cache_queries", "prefix_cache_hits", "requests_finished", "requests_aborted")}
        row["prefix_cache_hit_rate"] = total["prefix_cache_hits"] / total["prefix_cache_queries"] if total["prefix_cache_queries"] else None
        done = total["requests_finished"] + total["requests_aborted"]
        row["error_rate"] = total["requests_aborted"] / done if done else None
        rows.append(row)
    return [r for r in rows if any(v is not None for k, v in r.items() if k != "model")]


def _gpu_health(values: pd.DataFrame) -> dict[str, float]:
    """Mean and hottest GPU temperature, and how many GPU samples reported an XID error."""
    temp = values[values["role"] == "gpu_temp_c"]["value"]
    xid = values[values["role"] == "gpu_xid"]["value"]
    out = {}
    if len(temp):
        out.update(gpu_temp_mean_c=float(temp.mean()), gpu_temp_max_c=float(temp.max()))
    if len(xid):
        out["xid_error_samples"] = float((xid > 0).sum())
    return out
