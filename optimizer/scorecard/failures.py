"""Failure modes: what is lost, and for how long, when an endpoint fails, a node goes offline, latency rises or demand spikes.

The single events are worked from the twin's figures at the peak hour: a failed share of
capacity costs only what the spare capacity cannot absorb, `max(0, failed - (A - peak))`
of the stream's capacity at SLA, for the repair time of the system that failed. The
yearly figures come from the fleet simulation (`twin.sim`): failures, repairs and demand
spikes (x1.5 for six hours, once a month) over simulated years.
"""

from __future__ import annotations

import numpy as np

from twin.demand import hourly_demand
from twin.production import Stream
from twin.reliability import availability
from twin.sim.montecarlo import monte_carlo
from twin.sim.options import SimOptions
from twin.spec import Spec

SPIKES_PER_YEAR = 12.0
SIM_REPLICATIONS = 3


def failure_modes(spec: Spec, ss: list[Stream], seed: int = 0) -> dict:
    """The failure table (one row per scenario) and the simulated year's losses."""
    peak = float(hourly_demand(spec.workload.demand).max())
    avail = availability(spec)
    options = SimOptions(spike_rate_per_year=SPIKES_PER_YEAR)
    mc = monte_carlo(spec, seed, SIM_REPLICATIONS, options, keep_series=True)
    ev = mc.events
    per_year = (lambda event: float((ev["event"] == event).sum()) / SIM_REPLICATIONS) if ev is not None else (lambda event: 0.0)
    rows = []
    biggest = max(ss, key=lambda s: s.capacity_tokens_per_s)
    spare = max(0.0, avail.groups[biggest.deployment].availability - peak)
    system = spec.cat.systems[biggest.system]

    def lost(share: float) -> float:
        return max(0.0, share - spare) * biggest.capacity_tokens_per_s

    replica_gpus = biggest.point.gpus_per_replica + biggest.point.prefill_gpus_per_replica
    rows.append(_row("A model endpoint fails", f"one {biggest.model} replica ({replica_gpus:g} GPUs) on {biggest.hall}/{biggest.system}",
                     lost(replica_gpus / biggest.gpus), system.mttr_h, None))
    rows.append(_row("A GPU node goes offline", f"one {biggest.system} system ({system.gpus_per_system} GPUs) in {biggest.hall}",
                     lost(1.0 / biggest.systems), system.mttr_h, per_year("system failed")))
    headroom = spare / peak if peak else 0.0
    rows.append({"scenario": "Latency rises", "what": f"demand above {1 + headroom:.0%} of the peak hour pushes replicas past the SLA batch: "
                 "requests queue and TTFT grows without bound", "lost_tokens_per_s": 0.0, "hours": None, "tokens_lost": 0.0,
                 "per_year": None, "headroom": headroom})
    over = max(0.0, options.spike_magnitude * peak - min(g.availability for g in avail.groups))
    capacity = sum(s.capacity_tokens_per_s for s in ss)
    rows.append(_row("Demand spikes", f"x{options.spike_magnitude:g} for {options.spike_mean_h:g} h at the peak hour",
                     over * capacity, options.spike_mean_h, per_year("demand spike started")))
    rows.append({"scenario": "Power or cooling unit fails", "what": "a unit of a redundant group (UPS, CDU, chiller, generator...)",
                 "lost_tokens_per_s": None, "hours": None, "tokens_lost": None, "per_year": per_year("unit failed"), "headroom": None})
    year = {k: mc.bands[k] for k in ("tokens_lost_to_failures", "tokens_lost_beyond_capacity", "availability") if k in mc.bands}
    return {"rows": rows, "simulated": year, "replications": SIM_REPLICATIONS, "seed": seed,
            "output_tokens_per_year": float(np.mean(mc.runs["output_tokens_per_year"]))}


def _row(scenario: str, what: str, lost_per_s: float, hours: float, per_year: float | None) -> dict:
    return {"scenario": scenario, "what": what, "lost_tokens_per_s": lost_per_s, "hours": hours,
            "tokens_lost": lost_per_s * hours * 3600.0, "per_year": per_year, "headroom": None}
