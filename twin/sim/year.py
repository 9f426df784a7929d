"""One simulated year: the fleet's failures, spikes and grid events through evaluate's hour-level accounting.

The fleet simulation (`twin.sim.fleet`) decides, per hour, which share of each deployment's
systems can serve and how much demand there is; the accounting of the analytic year
(`twin.evaluate.account_year`) turns that into power, the utility cap, tokens and cost, so
the simulation reports the same KPIs and agrees with `evaluate` wherever the two overlap.
Availability is that of power and cooling to the racks, weighted by installed IT power, as
in `twin.reliability`; `capacity_online` also counts single GPU systems down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

import twin
from twin.demand import hourly_demand
from twin.deployments import deployment_systems
from twin.evaluate import account_year, spec_weather
from twin.graph import build_graph
from twin.production import Stream, streams
from twin.sim.fleet import Fleet
from twin.sim.options import SimOptions
from twin.sim.rng import Seed
from twin.sim.series import hourly_shares
from twin.sim.shedding import requested_kw, shed_busy
from twin.spec import Spec
from twin.weather import Weather

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class YearSetup:
    """What every replication of a spec shares: graph, weather, streams at SLA, demand, installed IT power."""

    spec: Spec
    graph: nx.DiGraph
    weather: Weather
    streams: list[Stream]
    demand: np.ndarray
    max_kw: np.ndarray  # per deployment


def prepare(spec: Spec, weather: Weather | None = None) -> YearSetup:
    """Resolve the parts of a year that do not depend on the seed. Raises PerfError like `evaluate`."""
    weather = weather or spec_weather(spec)
    max_kw = np.array([deployment_systems(spec, d) * spec.cat.systems[d.system].max_kw for d in spec.deployments])
    return YearSetup(spec, build_graph(spec), weather, streams(spec), hourly_demand(spec.workload.demand, len(weather.dry_bulb_c)), max_kw)


@dataclass(frozen=True)
class SimulatedYear:
    """KPIs (evaluate's keys and a few more), cost breakdown, hourly series and event log of one seeded year."""

    seed: int | None
    kpis: dict[str, float]
    cost_breakdown_usd: dict[str, float]
    models: list[dict]
    hourly: pd.DataFrame = field(repr=False)
    events: pd.DataFrame = field(repr=False)
    spec_hash: str = ""
    version: str = twin.__version__

    def to_json(self) -> dict:
        return {"seed": self.seed, "kpis": self.kpis, "cost_breakdown_usd": self.cost_breakdown_usd, "models": self.models,
                "spec_hash": self.spec_hash, "version": self.version}


def simulate_year(spec: Spec, seed: Seed = 0, options: SimOptions | None = None, setup: YearSetup | None = None) -> SimulatedYear:
    """Simulate one year of `spec` with failures, repairs and the events `options` enable (default: failures only)."""
    options = options or SimOptions()
    su = setup or prepare(spec)
    hours = su.demand.size
    trace = Fleet(spec, su.graph, options, seed, float(hours)).run()
    shares = hourly_shares(trace, su.streams, su.demand)
    busy = shed_busy(spec, su.streams, su.weather, shares.busy, trace.grid_events, options.shed_policy)
    shed = shares.busy - busy
    availability = float(su.max_kw @ shares.racks_up.mean(axis=1) / su.max_kw.sum()) if su.max_kw.sum() else 1.0
    demand = su.demand * shares.multiplier
    ev = account_year(spec, su.streams, su.weather, demand, busy, availability, shares.available, shed=shed)

    capacity = np.array([s.capacity_tokens_per_s for s in su.streams])
    online = (capacity @ np.array([shares.available[s.deployment] for s in su.streams])) / capacity.sum() if capacity.sum() else np.full(demand.shape, np.nan)  # no racks: undefined
    hourly = ev.hourly.assign(
        demand_multiplier=shares.multiplier,
        capacity_online=online,
        lost_to_failures_tokens_per_s=capacity @ (np.minimum(demand, 1.0)[None, :] - shares.busy),
        beyond_capacity_tokens_per_s=capacity.sum() * np.maximum(demand - 1.0, 0.0),
        shed_tokens_per_s=capacity @ shed,
        shed_requested_mw=requested_kw(trace.grid_events, hours) / 1000.0,
        **{f"available_share_{d}": shares.available[d] for d in range(len(spec.deployments))},
    )
    beyond = float(hourly["beyond_capacity_tokens_per_s"].sum() * SECONDS_PER_HOUR)
    kpis = dict(ev.kpis, capacity_online=float(online.mean()), tokens_lost_beyond_capacity=beyond)
    # account_year counts all demand the fleet could not take; rounding may leave a hair below zero
    kpis["tokens_lost_to_failures"] = max(0.0, kpis["tokens_lost_to_failures"] - beyond)
    return SimulatedYear(_plain_seed(seed), kpis, ev.cost_breakdown_usd, ev.models, hourly, trace.events, ev.spec_hash)


def _plain_seed(seed: Seed) -> int | None:
    return seed if isinstance(seed, int) else None
