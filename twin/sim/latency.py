"""Latency figures of a serving run, the highest rate that meets the SLA, and serving a spec's streams.

A request meets the SLA when its TTFT is within `max_ttft_s` and its time per output token
(TPOT, after the first) within `1 / min_tokens_per_s_per_user`. Throughput and goodput count
the output tokens of requests finishing inside the measured window (after the warm-up, up to
the last open-loop arrival); goodput only those of requests meeting the SLA. A rate meets the
SLA when at least `sla_share` of the measured requests do; the highest such rate is found by
bisection on the rate with the same seed (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from twin.perf.prefill_part import require_gpu_prefill
from twin.production import Stream, streams
from twin.sim.rng import Seed
from twin.sim.serving import ServingOptions, ServingRun, simulate_serving
from twin.sim.steps import PerfSteps
from twin.spec import Sla, Spec

PERCENTILES = (50, 90, 99)
RATE_TOLERANCE = 0.02  # relative width of the bracket the bisection stops at
MAX_DOUBLINGS = 8
FILLS = 10  # a run sends at least this many times the requests the replicas hold at once


def summarize(run: ServingRun, sla: Sla) -> dict[str, float]:
    """TTFT, TPOT and end-to-end latency percentiles, throughput, goodput, SLA share and queue depth."""
    ttft = run.first_token - run.arrival
    tpot = np.where(run.tokens > 1, (run.finished - run.first_token) / np.maximum(run.tokens - 1, 1), 0.0)
    max_tpot = 1.0 / sla.min_tokens_per_s_per_user if sla.min_tokens_per_s_per_user > 0 else math.inf
    meets = (ttft <= sla.max_ttft_s) & (tpot <= max_tpot)
    lo, hi = run.measured_from_s, run.measured_to_s
    keep = run.arrival >= lo  # latencies of the requests sent after the warm-up
    done = (run.finished >= lo) & (run.finished <= hi)  # tokens out inside the window
    window = max(hi - lo, 1e-12)
    out = {"requests": float(keep.sum()), "rate_per_s": run.rate_per_s, "max_batch": float(run.max_batch)}
    for name, x in (("ttft_s", ttft[keep]), ("tpot_s", tpot[keep]), ("e2e_s", (run.finished - run.arrival)[keep])):
        # no request at all (zero demand): latencies are undefined (NaN, null in JSON), the load is zero
        pct = np.percentile(x, PERCENTILES) if x.size else [math.nan] * len(PERCENTILES)
        out |= {f"{name}_p{q}": float(v) for q, v in zip(PERCENTILES, pct, strict=True)}
        out[f"{name}_mean"] = float(x.mean()) if x.size else math.nan
    out["throughput_tokens_per_s"] = float(run.tokens[done].sum() / window)
    out["goodput_tokens_per_s"] = float(run.tokens[done & meets].sum() / window)
    out["sla_share"] = float(meets[keep].mean()) if keep.any() else math.nan
    out |= _queue_stats(run)
    return out


def _queue_stats(run: ServingRun) -> dict[str, float]:
    """Time-weighted mean and the maximum of the router's queue depth over the measured window."""
    t = np.clip(np.append(run.queue_times_s, run.measured_to_s), run.measured_from_s, run.measured_to_s)
    span = t[-1] - t[0]
    mean = float((run.queue_depth * np.diff(t)).sum() / span) if span > 0 else 0.0
    inside = (run.queue_times_s >= run.measured_from_s) & (run.queue_times_s <= run.measured_to_s)
    return {"queue_mean": mean, "queue_max": float(run.queue_depth[inside].max(initial=0.0))}


def meets_sla(run: ServingRun, sla: Sla, share: float) -> bool:
    return summarize(run, sla)["sla_share"] >= share


def max_rate_meeting_sla(play, sla: Sla, share: float, guess: float) -> float:
    """The highest rate (requests/s) at which `play(rate) -> ServingRun` meets the SLA, to `RATE_TOLERANCE`.

    Brackets from `guess` (doubling up to `MAX_DOUBLINGS` times; beyond, the runs are too short
    to load the replicas and the last rate that met is returned), then bisects; 0 when even
    `guess` / 1000 fails.
    """
    lo, hi = 0.0, guess
    for _ in range(MAX_DOUBLINGS):
        if not meets_sla(play(hi), sla, share):
            break
        lo, hi = hi, 2.0 * hi
    else:
        return lo
    while hi - lo > RATE_TOLERANCE * hi:
        if hi < guess * 1e-3:
            return 0.0
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if meets_sla(play(mid), sla, share) else (lo, mid)
    return lo


def default_max_batch(stream: Stream) -> int:
    """The operating point's mean batch, rounded down: it meets the SLA and its KV cache fits at the mean context."""
    return max(1, math.floor(stream.point.batch_size))


def replica_rate_per_s(stream: Stream, osl: int) -> float:
    """Requests/s one replica serves at the operating point (its prefill GPUs included when disaggregated)."""
    p = stream.point
    require_gpu_prefill(p, stream.system)
    return p.tokens_per_s_per_gpu * (p.gpus_per_replica + p.prefill_gpus_per_replica) / osl


@dataclass(frozen=True)
class StreamServing:
    """The serving figures of one (system, model) and the run they come from."""

    summary: dict
    run: ServingRun = field(repr=False)


def serve_streams(spec: Spec, options: ServingOptions | None = None, seed: Seed = 0, *,
                  max_rate: bool = True) -> list[StreamServing]:
    """Serving figures per (system, model) of the spec at its peak demand level, on `options.replicas` replicas.

    The rate is the demand level times what the replicas serve at the operating point; a
    facility's replicas are alike, so a few of them stand for the fleet. A run sends at least
    `FILLS` times the sequences the replicas hold, so that it reaches a steady state: a shorter
    one would fit in the batches and meet any SLA at any rate.
    """
    options = options or ServingOptions()
    first: dict[tuple[str, str], Stream] = {}
    for s in streams(spec):
        first.setdefault((s.system, s.model), s)
    return [_serve_stream(spec, s, options, seed, max_rate) for s in first.values()]


def _serve_stream(spec: Spec, s: Stream, options: ServingOptions, seed: Seed, max_rate: bool) -> StreamServing:
    wm = next(w for w in spec.workload.models if w.model == s.model)
    osl = options.output_tokens or wm.osl
    max_batch = options.max_batch or default_max_batch(s)
    run_options = replace(options, requests=max(options.requests, FILLS * options.replicas * max_batch))
    interleaved = (options.prefill or ("separate" if wm.serving.disaggregated else "interleaved")) == "interleaved"
    kw = dict(max_batch=max_batch, input_tokens=options.input_tokens or wm.isl, output_tokens=osl, interleaved=interleaved)
    play = partial(_play, PerfSteps(spec, s), run_options, seed, kw)
    capacity = options.replicas * replica_rate_per_s(s, osl)
    run = play(spec.workload.demand.level * capacity)
    row = {"system": s.system, "model": s.model, "replicas": options.replicas, "capacity_rate_per_s": capacity}
    row |= summarize(run, wm.sla)
    if max_rate:
        row["max_rate_meeting_sla_per_s"] = max_rate_meeting_sla(play, wm.sla, options.sla_share, capacity)
        row["max_rate_share_of_capacity"] = row["max_rate_meeting_sla_per_s"] / capacity
    return StreamServing(row, run)


def _play(steps: PerfSteps, options: ServingOptions, seed: Seed, kw: dict, rate: float) -> ServingRun:
    return simulate_serving(steps, options, rate, seed, **kw)
