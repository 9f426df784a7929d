"""The analytic year: demand, operating points, availability, weather, power and cooling caps, and cost in one pass.

Vectorized over the 8760 hours; Python loops run only over the few (deployment, model)
streams. For each stream and hour:

    wanted share of its GPUs busy   u = min(demand(h), A_d)
    served output tokens/s          C * u * cap(h)

where C is the stream's capacity at SLA (GPUs x output tokens/s/GPU at the operating
point), demand(h) the workload's hourly level and profile (a share of capacity), A_d the
static availability of the stream's rack group, and cap(h) the share of wanted IT power the
utility interconnect and the installed cooling let through at that hour's weather
(`twin.energy`). Rack power follows the
operating point: idle x A_d + (P_op - idle) x u, with P_op the system's power when serving
at the operating point; systems down (the share 1 - A_d) draw nothing. Tokens lost are counted separately to failures (demand above A_d)
and to the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import twin
from twin.demand import hourly_demand
from twin.economics import capex_from_spec, cost_breakdown, cost_per_million_tokens, hourly_price_usd_per_mwh
from twin.energy import EnergyResult, hourly_power
from twin.network import network
from twin.production import Stream, streams
from twin.reliability import availability
from twin.spec import Spec
from twin.spec_files import spec_weather
from twin.weather import Weather

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Evaluation:
    """KPIs, cost breakdown and hourly series of one analytic year, with their provenance."""

    kpis: dict[str, float]
    cost_breakdown_usd: dict[str, float]
    models: list[dict]
    hourly: pd.DataFrame = field(repr=False)
    spec_hash: str = ""
    version: str = twin.__version__

    def to_json(self) -> dict:
        return {"kpis": self.kpis, "cost_breakdown_usd": self.cost_breakdown_usd, "models": self.models,
                "spec_hash": self.spec_hash, "version": self.version}


def _stream_power_utilization(spec: Spec, ss: list[Stream], busy: np.ndarray) -> np.ndarray:
    """Per deployment and hour, the `u` of `idle + (max - idle) u` that gives the operating-point power."""
    out = np.zeros((len(spec.deployments), busy.shape[1]))
    for k, s in enumerate(ss):
        system = spec.cat.systems[s.system]
        dynamic = (s.point.system_power_kw - system.idle_kw) / (system.max_kw - system.idle_kw)
        out[s.deployment] += s.share * busy[k] * dynamic
    return np.clip(out, 0.0, 1.0)


def evaluate(spec: Spec, weather: Weather | None = None) -> Evaluation:
    """One analytic year of `spec`. Raises PerfError when a deployment cannot serve its model at SLA."""
    weather = weather or spec_weather(spec)
    ss = streams(spec)
    avail = availability(spec)
    demand = hourly_demand(spec.workload.demand, len(weather.dry_bulb_c))
    a = np.array([avail.groups[s.deployment].availability for s in ss])
    busy = np.minimum(demand[None, :], a[:, None])  # share of each stream's GPUs busy
    powered = np.array([avail.groups[k].availability for k in range(len(spec.deployments))], dtype=float)[:, None]  # (0, 1) for none
    return account_year(spec, ss, weather, demand, busy, avail.facility, powered)


def account_year(spec: Spec, ss: list[Stream], weather: Weather, demand: np.ndarray, busy: np.ndarray,
                 facility_availability: float, powered: np.ndarray, shed: np.ndarray | None = None) -> Evaluation:
    """The hour-level accounting of a year, shared with the fleet simulation (`twin.sim`).

    Args:
        demand: wanted share of each stream's capacity, (hours,) or (streams, hours).
        busy: share of each stream's GPUs serving, (streams, hours); the rest of `demand` is lost to failures.
        facility_availability: the capacity-weighted availability to report.
        powered: share of each deployment's systems up, (deployments, 1 or hours); the rest draw nothing.
        shed: share of each stream's GPUs idled by grid flexibility events, (streams, hours), counted
            apart from failures as `tokens_lost_to_shedding` (only reported when given).
    """
    hours = len(weather.dry_bulb_c)
    net = network(spec)
    demand = np.broadcast_to(demand, busy.shape)
    capacity = np.array([s.capacity_tokens_per_s for s in ss])  # tokens/s at SLA
    energy = hourly_power(spec, _stream_power_utilization(spec, ss, busy), weather, net.power_kw, powered)
    cap = energy.deployment_cap_fraction[[s.deployment for s in ss]]  # (streams, hours)

    wanted = capacity[:, None] * demand
    served = capacity[:, None] * busy * cap
    available = busy if shed is None else busy + shed
    lost_failures = capacity[:, None] * (demand - available)
    lost_cap = capacity[:, None] * busy * (1.0 - cap)

    tokens_year = served.sum() * SECONDS_PER_HOUR
    water_m3 = energy.water_l.sum() / 1000.0
    capex = capex_from_spec(spec, net.counts)
    breakdown = cost_breakdown(spec, capex, energy.facility_kw, water_m3)
    annual = sum(breakdown.values())

    gpus = np.array([s.gpus for s in ss])
    kpis = _kpis(spec, energy, served, gpus, busy, cap, tokens_year, annual, capex.total_usd, facility_availability, water_m3)
    kpis.update(
        demand_output_tokens_per_s=float(wanted.sum(axis=0).mean()),
        tokens_lost_to_failures=float(lost_failures.sum() * SECONDS_PER_HOUR),
        tokens_lost_to_cap=float(lost_cap.sum() * SECONDS_PER_HOUR),
        capacity_output_tokens_per_s=float(capacity.sum()),
    )
    if shed is not None:
        kpis["tokens_lost_to_shedding"] = float((capacity[:, None] * shed).sum() * SECONDS_PER_HOUR)
    hourly = pd.DataFrame({
        "hour": np.arange(hours),
        "dry_bulb_c": weather.dry_bulb_c,
        "wet_bulb_c": weather.wet_bulb_c,
        "demand_output_tokens_per_s": wanted.sum(axis=0),
        "served_output_tokens_per_s": served.sum(axis=0),
        "it_kw": energy.it_kw,
        "network_kw": energy.network_kw,
        "loss_kw": energy.loss_kw,
        "cooling_kw": energy.cooling_kw,
        "misc_kw": energy.misc_kw,
        "facility_kw": energy.facility_kw,
        "pue": energy.pue,
        "it_cap_fraction": energy.it_cap_fraction,
        "lost_to_cap_output_tokens_per_s": lost_cap.sum(axis=0),
        "price_usd_per_mwh": hourly_price_usd_per_mwh(spec.site.tariff, hours),
        "water_l": energy.water_l,
    })
    return Evaluation(kpis, breakdown, _model_rows(spec, ss, served), hourly, spec.spec_hash())


def _kpis(spec, energy: EnergyResult, served, gpus, busy, cap, tokens_year, annual, capex_usd, facility_availability, water_m3) -> dict[str, float]:
    facility_mw = float(energy.facility_kw.mean() / 1000.0)
    tokens_per_s = float(served.sum(axis=0).mean())
    energy_mwh = energy.energy_mwh
    return {
        "it_power_mw": float((energy.it_kw + energy.network_kw).mean() / 1000.0),
        "facility_power_mw": facility_mw,
        "peak_facility_power_mw": float(energy.facility_kw.max() / 1000.0),
        "pue": energy.annual_pue,
        "output_tokens_per_s": tokens_per_s,
        "tokens_per_joule": tokens_year / (energy_mwh * 3.6e9) if energy_mwh else 0.0,
        "tokens_per_s_per_mw": tokens_per_s / facility_mw if facility_mw else 0.0,
        "cost_per_million_tokens_usd": cost_per_million_tokens(annual, tokens_year),
        "annual_cost_usd": annual,
        "capex_usd": capex_usd,
        "availability": facility_availability,
        "utilization": float((gpus[:, None] * busy * cap).sum() / (gpus.sum() * busy.shape[1])) if gpus.sum() else 0.0,
        "energy_mwh": energy_mwh,
        "capped_hours": float(energy.capped_hours),
        "cooling_capped_hours": float(energy.cooling_capped_hours),
        "unmet_heat_hours": float(energy.unmet_heat_hours),
        "water_m3": water_m3,
        "wue_l_per_kwh": energy.wue_l_per_kwh,
        "co2_t": energy_mwh * spec.site.grid_carbon_kg_per_mwh / 1000.0,
        "output_tokens_per_year": tokens_year,
        "gpus": float(gpus.sum()),
    }


def _model_rows(spec: Spec, ss: list[Stream], served: np.ndarray) -> list[dict]:
    """Per model: tokens served and the responsiveness of its operating points (GPU-weighted)."""
    rows = []
    for wm in spec.workload.models:
        idx = [k for k, s in enumerate(ss) if s.model == wm.model]
        if not idx:
            continue
        w = np.array([ss[k].gpus for k in idx])
        rows.append({
            "model": wm.model,
            "output_tokens_per_s": float(served[idx].sum(axis=0).mean()),
            **{attr: _gpu_weighted([ss[k].point for k in idx], w, attr) for attr in ("tokens_per_s_per_user", "ttft_s", "tokens_per_s_per_gpu")},
            "gpus": float(w.sum()),
            "systems": sorted({ss[k].system for k in idx}),
        })
    return rows


def _gpu_weighted(points: list, gpus: np.ndarray, attr: str) -> float:
    """An operating-point figure averaged over streams, weighted by their GPUs."""
    return float(np.average([getattr(p, attr) for p in points], weights=gpus))
