"""One serving experiment from a spec and a few choices, as `aift serve` and the app's Simulate page run it.

The rate is given (`rate_per_s`, any value: overload included) or a share of the fleet's capacity
at its operating points (`load`, any positive number); neither plays a trace as recorded, or
generated traffic at the spec's peak demand level. Lengths default to the workload's ISL/OSL.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from twin.serve.report import summarize
from twin.serve.run import Fleet, ServeRun, build_fleet, simulate
from twin.serve.trace import Trace, load_trace
from twin.serve.traffic import Lengths, Traffic, agentic, open_loop, replay
from twin.sim.rng import named_streams
from twin.spec import Spec

Arrivals = Literal["poisson", "bursty", "agentic", "trace"]
STREAMS = ["arrivals", "inputs", "outputs", "tools", "sessions"]
MAX_REQUESTS = 5_000_000  # generated requests held in memory at once


@dataclass(frozen=True)
class Experiment:
    """What to play; None means "from the spec" (model, lengths, load) or "as recorded" (a trace)."""

    model: str | None = None
    arrivals: Arrivals = "poisson"
    trace: str | None = None
    rate_per_s: float | None = None
    load: float | None = None
    requests: int | None = None
    duration_s: float | None = None
    replicas: int | dict[str, int] = 2
    router: str = "least-loaded"
    disaggregated: bool | None = None
    prefill_replicas: int | None = None
    max_batch: int | None = None
    token_budget: int | None = None
    preemption: str = "recompute"
    lengths: Literal["fixed", "lognormal", "trace"] = "fixed"
    sigma: float = 1.0
    lengths_trace: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    turns: int = 4
    tool_delay_s: float = 2.0
    tool_tokens: int = 512
    drain_s: float | None = None
    warmup_share: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class Outcome:
    """The run, its summary, and the rate that was played."""

    run: ServeRun = field(repr=False)
    summary: dict
    rate_per_s: float


def _model(spec: Spec, e: Experiment):
    wid = e.model or spec.workload.models[0].model
    wm = next((w for w in spec.workload.models if w.model == wid), None)
    if wm is None:
        raise ValueError(f"model {wid!r} is not in the workload; models: {', '.join(w.model for w in spec.workload.models)}")
    return wm


def _lengths(e: Experiment, mean: float, column: str, sample: Trace | None) -> Lengths:
    if e.lengths == "trace":
        return Lengths("trace", samples=getattr(sample, column))
    return Lengths(e.lengths, float(mean), e.sigma)


def traffic_for(spec: Spec, e: Experiment, fleet: Fleet) -> tuple[Traffic, float]:
    """The experiment's requests and the mean rate they are played at (requests/s)."""
    wm = _model(spec, e)
    if e.arrivals == "trace":
        tr = load_trace(e.trace)
        if tr.model is not None:
            keep = tr.model == wm.model
            if not keep.any():
                raise ValueError(f"{e.trace}: no request for {wm.model} in the trace's model column")
            tr = Trace(tr.path, tr.arrival_s[keep] - tr.arrival_s[keep][0], tr.input_tokens[keep], tr.output_tokens[keep], tr.session[keep], None)
        rate = e.rate_per_s
        if rate is None and e.load is not None:
            rate = e.load * fleet.capacity_tokens_per_s() / float(tr.output_tokens.mean())
        t = replay(tr, rate, e.requests, e.duration_s)
        span = t.last_open_arrival_s()
        return t, (t.size - 1) / span if span > 0 else math.inf
    sample = load_trace(e.lengths_trace) if e.lengths == "trace" else None
    inputs = _lengths(e, e.input_tokens or wm.isl, "input_tokens", sample)
    outputs = _lengths(e, e.output_tokens or wm.osl, "output_tokens", sample)
    mean_out = float(sample.output_tokens.mean()) if sample is not None else float(e.output_tokens or wm.osl)
    rate = e.rate_per_s
    if rate is None:
        load = e.load if e.load is not None else spec.workload.demand.level
        rate = load * fleet.capacity_tokens_per_s() / mean_out
    n = e.requests if e.requests is not None or e.duration_s is not None else 20_000
    if n is None and rate * e.duration_s > MAX_REQUESTS:
        raise ValueError(f"{rate:,.4g} requests/s for {e.duration_s:,.4g} s is {rate * e.duration_s:,.0f} requests; at most "
                         f"{MAX_REQUESTS:,} are generated (give a request count to cut it)")
    streams = named_streams(e.seed, STREAMS)
    if e.arrivals == "agentic":
        return agentic(streams, rate, n, e.duration_s, inputs, outputs, e.turns, e.tool_delay_s, Lengths("fixed", e.tool_tokens)), rate
    return open_loop(e.arrivals, streams, rate, n, e.duration_s, inputs, outputs), rate


def run_experiment(spec: Spec, e: Experiment) -> Outcome:
    """Build the fleet and the traffic, play them, and summarize; ValueError or SpecError for bad choices."""
    wm = _model(spec, e)
    fleet = build_fleet(spec, wm.model, e.replicas, disaggregated=e.disaggregated, prefill_replicas=e.prefill_replicas,
                        max_batch=e.max_batch, token_budget=e.token_budget)
    traffic, rate = traffic_for(spec, e, fleet)
    if traffic.size == 0:
        raise ValueError("no request to play: the duration is shorter than the first arrival")
    run = simulate(fleet, traffic, router=e.router, preemption=e.preemption, drain_s=e.drain_s, warmup_share=e.warmup_share, seed=e.seed)
    summary = {"model": wm.model, "arrivals": e.arrivals, "router": e.router, "rate_per_s": rate} | summarize(run, wm.sla)
    return Outcome(run, summary, rate)


def fleet_rows(fleet: Fleet) -> list[dict]:
    """One row per pool: system, role, replicas, GPUs, batch limit, KV tokens, token budget, capacity."""
    return [{"system": p.kind.system, "role": p.role, "replicas": p.count, "gpus_per_replica": p.kind.gpus, "max_batch": p.kind.max_seqs,
             "kv_capacity_tokens": p.kind.kv_capacity_tokens, "token_budget": p.kind.token_budget,
             "capacity_tokens_per_s": p.kind.capacity_tokens_per_s * p.count if p.role != "prefill" else None} for p in fleet.pools]


def experiment_json(e: Experiment) -> dict:
    return {k: v for k, v in asdict(e).items() if v is not None}


def per_request(run: ServeRun, meets: np.ndarray) -> dict[str, np.ndarray]:
    """Per-request columns for `--out` (times in s from the run's start; NaN where it did not happen)."""
    t = run.traffic
    systems = np.array([p.kind.system for p in run.fleet.pools for _ in range(p.count)] + [""], dtype=object)
    roles = np.array([p.role for p in run.fleet.pools for _ in range(p.count)] + [""], dtype=object)
    return {
        "arrival_s": run.arrival, "admitted_s": run.admitted, "first_token_s": run.first_token, "finished_s": run.finished,
        "input_tokens": t.input_tokens, "output_tokens": t.output_tokens, "session": t.session, "prefix_hit_tokens": run.prefix_hit_tokens,
        "replica": run.replica, "replica_system": systems[run.replica], "replica_role": roles[run.replica],
        "tokens_out": run.tokens_out, "preemptions": run.preemptions, "rejected": run.rejected, "meets_sla": meets,
    }
