"""Change points to hourly arrays, exactly: every piecewise-constant state is integrated over each hour.

The pieces of a year are the intervals between consecutive change points of the states
involved and the hour boundaries, so a piece lies inside one hour and every state is
constant on it. Per model, the fleet serves the lesser of the demand and what its surviving
racks produce, wherever they are (the router sends a model's requests to any deployment
serving it): on each piece, with `s_k` the share of stream k's systems up and `C_k` its
capacity, the busy share is `s_k * min(1, D m sum C / sum C s)`, D the hour's demand and m the
spike multiplier. Without failures and spikes this is evaluate's `min(D, 1)`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from twin.production import Stream
from twin.sim.fleet import FleetTrace, StateChanges

BLOCK_HOURS = 730  # hours computed at once (a month)


@dataclass(frozen=True)
class HourlyShares:
    """Hour means of a simulated year's states (deployments or streams x hours)."""

    busy: np.ndarray  # streams: share of GPUs serving, before any shedding
    multiplier: np.ndarray  # (hours,) demand spike multiplier
    racks_up: np.ndarray  # deployments: share of the hour the rack group had power and cooling
    available: np.ndarray  # deployments: share of systems able to serve (racks up and system not failed)


def value_at(c: StateChanges, t: np.ndarray) -> np.ndarray:
    """The state at each time of `t`."""
    return c.values[np.searchsorted(c.times, t, side="right") - 1]


def _pieces(lo: int, hi: int, changes: list[StateChanges]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, length, hour - lo) of the pieces of hours lo..hi between change points and hour boundaries."""
    inside = [c.times[np.searchsorted(c.times, lo, side="right"):np.searchsorted(c.times, hi)] for c in changes]
    t = np.unique(np.concatenate([np.arange(lo, hi, dtype=float), *inside]))
    return t, np.diff(np.append(t, float(hi))), t.astype(int) - lo


def _hourly(hour: np.ndarray, weights: np.ndarray, hours: int) -> np.ndarray:
    return np.bincount(hour, weights=weights, minlength=hours)[:hours]


def _share_up(trace: FleetTrace, d: int, t: np.ndarray) -> np.ndarray:
    return value_at(trace.racks_up[d], t) * (1.0 - value_at(trace.systems_down[d], t) / trace.systems[d])


def hourly_shares(trace: FleetTrace, ss: list[Stream], demand: np.ndarray) -> HourlyShares:
    """Hourly busy shares per stream, pooled per model, and availability per deployment.

    Computed a block of hours at a time, so memory stays bounded however many change points the year has.
    """
    blocks = [_block(trace, ss, demand, lo, min(lo + BLOCK_HOURS, demand.size)) for lo in range(0, demand.size, BLOCK_HOURS)]
    return HourlyShares(*(np.concatenate([getattr(b, f.name) for b in blocks], axis=-1) for f in fields(HourlyShares)))


def _block(trace: FleetTrace, ss: list[Stream], demand: np.ndarray, lo: int, hi: int) -> HourlyShares:
    """`hourly_shares` for hours lo..hi."""
    hours = hi - lo
    deps = len(trace.racks_up)
    racks_up, available = np.zeros((deps, hours)), np.zeros((deps, hours))
    for d in range(deps):
        t, length, hour = _pieces(lo, hi, [trace.racks_up[d], trace.systems_down[d]])
        racks_up[d] = _hourly(hour, value_at(trace.racks_up[d], t) * length, hours)
        available[d] = _hourly(hour, _share_up(trace, d, t) * length, hours)
    t, length, hour = _pieces(lo, hi, [trace.demand_multiplier])
    multiplier = _hourly(hour, value_at(trace.demand_multiplier, t) * length, hours)

    busy = np.zeros((len(ss), hours))
    shared: tuple = ((), None)  # models served by the same deployments share their pieces and shares up
    for model in dict.fromkeys(s.model for s in ss):
        idx = [k for k, s in enumerate(ss) if s.model == model]
        cap = np.array([ss[k].capacity_tokens_per_s for k in idx])
        deps_m = tuple(sorted({ss[k].deployment for k in idx}))
        if shared[0] != deps_m:
            t, length, hour = _pieces(lo, hi, [trace.demand_multiplier] + [c for d in deps_m for c in (trace.racks_up[d], trace.systems_down[d])])
            shared = (deps_m, (t, length, hour, {d: _share_up(trace, d, t) for d in deps_m}))
        t, length, hour, share_up = shared[1]
        up = np.array([share_up[ss[k].deployment] for k in idx])
        online = cap @ up / cap.sum()  # exactly 1.0 with every system up
        wanted = (demand[lo:hi])[hour] * value_at(trace.demand_multiplier, t)
        served = np.minimum(1.0, np.divide(wanted, online, out=np.zeros_like(online), where=online > 0))
        for row, k in enumerate(idx):
            busy[k] = _hourly(hour, up[row] * served * length, hours)
    return HourlyShares(busy, multiplier, racks_up, available)
