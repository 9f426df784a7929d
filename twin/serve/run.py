"""One serving experiment: a fleet of replicas (one or more systems), its traffic, and the engine's answer.

The fleet is built from a spec's deployments that serve the chosen model: `replicas` of each
system (or a count per system), aggregated, or disaggregated into prefill and decode pools
whose sizes follow the operating point's prefill GPUs per decode replica unless given.
A run ends when every request is done, or at the horizon (the last arrival plus `drain_s`,
by default as long again as the arrivals took): what is unfinished then is counted, not dropped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, get_args

import numpy as np

from twin.production import Stream, streams
from twin.serve import engine
from twin.serve.replicas import ReplicaType, replica_type
from twin.serve.traffic import Traffic
from twin.spec import Spec

Router = Literal["round-robin", "least-loaded", "kv-aware"]
Preemption = Literal["recompute", "swap"]
ROUTERS = {"round-robin": engine.ROUND_ROBIN, "least-loaded": engine.LEAST_LOADED, "kv-aware": engine.KV_AWARE}
PREEMPTIONS = {"recompute": engine.RECOMPUTE, "swap": engine.SWAP}


@dataclass(frozen=True)
class Pool:
    """`count` replicas of one type in one role (`aggregated`, `prefill` or `decode`)."""

    kind: ReplicaType
    count: int
    role: Literal["aggregated", "prefill", "decode"] = "aggregated"


@dataclass(frozen=True)
class Fleet:
    """Replicas behind one router."""

    pools: tuple[Pool, ...]

    def capacity_tokens_per_s(self) -> float:
        """Output tokens/s the serving replicas give at their operating points."""
        return sum(p.count * p.kind.capacity_tokens_per_s for p in self.pools if p.role != "prefill")


def model_streams(spec: Spec, model: str) -> list[Stream]:
    """The first stream of each system serving `model` (a facility's replicas of one system are alike)."""
    first: dict[str, Stream] = {}
    for s in streams(spec):
        if s.model == model:
            first.setdefault(s.system, s)
    return list(first.values())


def build_fleet(spec: Spec, model: str, replicas: int | dict[str, int] = 2, *, disaggregated: bool | None = None,
                prefill_replicas: int | None = None, max_batch: int | None = None, token_budget: int | None = None) -> Fleet:
    """`replicas` of each system serving `model` (or a count per system id); ValueError names what is wrong."""
    ss = model_streams(spec, model)
    if not ss:
        served = sorted({s.model for s in streams(spec)})
        raise ValueError(f"no deployment serves {model!r}; served: {', '.join(served) or 'none'}")
    counts = replicas if isinstance(replicas, dict) else {s.system: replicas for s in ss}
    unknown = sorted(set(counts) - {s.system for s in ss})
    if unknown:
        raise ValueError(f"no deployment of {', '.join(unknown)} serves {model}; systems serving it: {', '.join(s.system for s in ss)}")
    pools = []
    for s in ss:
        n = counts.get(s.system, 0)
        if n < 1:
            continue
        kind = replica_type(spec, s, max_batch=max_batch, token_budget=token_budget)
        split = s.point.disaggregated if disaggregated is None else disaggregated  # as the operating point chose, unless pinned
        if not split:
            pools.append(Pool(kind, n))
            continue
        k = prefill_replicas if prefill_replicas is not None else max(1, math.ceil(n * kind.prefill_gpus / kind.gpus))
        pools += [Pool(kind, k, "prefill"), Pool(kind, n, "decode")]
    return Fleet(tuple(pools))


@dataclass(frozen=True)
class ServeRun:
    """Every request's fate (times in s; NaN where it did not happen before the run ended) and the fleet's figures."""

    seed: int | None
    router: str
    traffic: Traffic = field(repr=False)
    fleet: Fleet = field(repr=False)
    arrival: np.ndarray
    admitted: np.ndarray
    first_token: np.ndarray
    finished: np.ndarray
    tokens_out: np.ndarray  # output tokens emitted by the end of the run
    tokens_in_window: np.ndarray  # output tokens emitted inside the measured window
    replica: np.ndarray
    preemptions: np.ndarray
    prefix_hit_tokens: np.ndarray
    rejected: np.ndarray  # too long for a replica's KV memory even alone
    queue_times_s: np.ndarray
    queue_depth: np.ndarray
    kv_used_token_s: np.ndarray  # per replica: integral of running sequences' KV tokens over time
    kv_cached_token_s: np.ndarray  # per replica: integral of prefix-cache tokens over time
    kv_peak_tokens: np.ndarray
    busy_s: np.ndarray
    steps: np.ndarray
    kv_capacity_tokens: np.ndarray  # per replica
    end_s: float  # the last event played
    horizon_s: float
    measured_from_s: float
    measured_to_s: float
    wall_s: float


def replica_arrays(fleet: Fleet) -> dict[str, np.ndarray]:
    """Per-type and per-replica arrays in the engine's layout."""
    kinds = [p.kind for p in fleet.pools]
    width = max(k.max_seqs for k in kinds) + 1
    roles = {"aggregated": engine.AGGREGATED, "prefill": engine.PREFILL, "decode": engine.DECODE}
    a, b = np.zeros((len(kinds), width)), np.zeros((len(kinds), width))
    for t, k in enumerate(kinds):
        a[t, :k.coef_a.size], b[t, :k.coef_b.size] = k.coef_a, k.coef_b
    per_type = lambda name, dtype=float: np.array([getattr(k, name) for k in kinds], dtype=dtype)  # noqa: E731
    return {
        "rtype": np.repeat(np.arange(len(kinds)), [p.count for p in fleet.pools]).astype(np.int64),
        "role": np.repeat([roles[p.role] for p in fleet.pools], [p.count for p in fleet.pools]).astype(np.int64),
        "coef_a": a, "coef_b": b,
        "prefill_s_per_token": per_type("prefill_s_per_token"), "kv_cap": per_type("kv_capacity_tokens"),
        "max_seqs": per_type("max_seqs", np.int64), "budget": per_type("token_budget", np.int64),
        "tps": per_type("tokens_per_step"), "xfer_s_per_token": per_type("xfer_s_per_token"),
        "swap_s_per_token": per_type("swap_s_per_token"),
    }


@cache
def _compiled() -> None:
    """Load (or compile, the first time) the engine before any run is timed: one request on one replica."""
    one, none = np.ones(1), np.full(1, -1, dtype=np.int64)
    engine.simulate(np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1), none, one, one, none, np.zeros(1), np.zeros(1, dtype=np.int64),
                    np.zeros(1, dtype=np.int64), np.ones((1, 2)), np.zeros((1, 2)), one, 10.0 * one, np.ones(1, dtype=np.int64),
                    np.full(1, 2, dtype=np.int64), one, np.zeros(1), np.zeros(1), engine.LEAST_LOADED, engine.RECOMPUTE, 10.0,
                    np.array([0.0, 10.0]))


def simulate(fleet: Fleet, traffic: Traffic, *, router: Router = "least-loaded", preemption: Preemption = "recompute",
             drain_s: float | None = None, warmup_share: float = 0.1, measure: tuple[float, float] | None = None,
             seed: int | None = None) -> ServeRun:
    """Play `traffic` through `fleet`; deterministic: the same inputs give the same arrays.

    Figures are measured over (`measure`), by default from the end of the warm-up (`warmup_share`
    of the arrival period: the replicas start empty) to the last open arrival.
    """
    if router not in get_args(Router):
        raise ValueError(f"unknown router {router!r}; one of {', '.join(get_args(Router))}")
    if preemption not in get_args(Preemption):
        raise ValueError(f"unknown preemption {preemption!r}; one of {', '.join(get_args(Preemption))}")
    if traffic.size == 0:
        raise ValueError("the traffic has no requests")
    last = traffic.last_open_arrival_s()
    horizon = last + (drain_s if drain_s is not None else max(last, 1.0))
    window = measure if measure is not None else (warmup_share * last, last)
    arr = replica_arrays(fleet)
    _compiled()
    t0 = time.perf_counter()
    out = engine.simulate(
        traffic.opens(), traffic.arrival_s, traffic.delay_s, traffic.child, traffic.input_tokens.astype(float),
        traffic.output_tokens.astype(float), traffic.session, traffic.prefix.astype(float),
        arr["rtype"], arr["role"], arr["coef_a"], arr["coef_b"], arr["prefill_s_per_token"], arr["kv_cap"], arr["max_seqs"],
        arr["budget"], arr["tps"], arr["xfer_s_per_token"], arr["swap_s_per_token"], ROUTERS[router], PREEMPTIONS[preemption],
        horizon, np.array(window, dtype=float))
    wall = time.perf_counter() - t0
    (t_arr, t_adm, t_first, t_done, gen, gen_lo, gen_hi, rep, n_pre, hit, rejected, qt, qd, kv_int, cache_int, kv_peak, busy, steps,
     t_end) = out
    outs = traffic.output_tokens
    in_window = np.minimum(gen_hi, outs) - np.minimum(gen_lo, outs)
    return ServeRun(seed, router, traffic, fleet, t_arr, t_adm, t_first, t_done, np.minimum(gen, outs), in_window, rep, n_pre, hit,
                    rejected, qt, qd, kv_int, cache_int, kv_peak, busy, steps, arr["kv_cap"][arr["rtype"]], float(t_end), horizon,
                    window[0], window[1], wall)
