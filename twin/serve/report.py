"""What an operator watches in a serving run: throughput, latency percentiles, queues, KV cache, SLA and goodput.

A request meets the SLA when it finishes with TTFT within `max_ttft_s` and time per output
token (after the first) within `1 / min_tokens_per_s_per_user`. Latencies are over the requests
that arrived after the warm-up and finished; SLA attainment is over all that arrived after it,
so a request still waiting or running when the run ends counts as a miss, never as nothing.
Throughput and goodput count the output tokens emitted inside the measured window (warm-up end
to last open arrival; exact at step granularity); goodput only those of requests meeting the SLA.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twin.serve.run import ServeRun
from twin.spec import Sla

PERCENTILES = (50, 90, 99)


def latencies(run: ServeRun) -> dict[str, np.ndarray]:
    """TTFT, TPOT and end-to-end latency per request (NaN where it did not finish)."""
    out = run.traffic.output_tokens
    ttft = run.first_token - run.arrival
    tpot = np.where(out > 1, (run.finished - run.first_token) / np.maximum(out - 1, 1), 0.0)
    tpot = np.where(np.isnan(run.finished), np.nan, tpot)
    return {"ttft_s": ttft, "tpot_s": tpot, "e2e_s": run.finished - run.arrival}


def meets_sla(run: ServeRun, sla: Sla) -> np.ndarray:
    lat = latencies(run)
    max_tpot = 1.0 / sla.min_tokens_per_s_per_user if sla.min_tokens_per_s_per_user > 0 else math.inf
    with np.errstate(invalid="ignore"):
        return np.isfinite(run.finished) & (lat["ttft_s"] <= sla.max_ttft_s) & (lat["tpot_s"] <= max_tpot)


def summarize(run: ServeRun, sla: Sla) -> dict[str, float]:
    """The run's figures as one flat dict (seconds, tokens, shares 0..1)."""
    lo, hi = run.measured_from_s, run.measured_to_s
    window = max(hi - lo, 1e-12)
    arrived = np.isfinite(run.arrival) & (run.arrival >= lo)
    done = np.isfinite(run.finished)
    measured = arrived & done
    ok = meets_sla(run, sla)
    s: dict[str, float] = {
        "requests": run.traffic.size, "finished": int(done.sum()), "unfinished": int((~done).sum()),
        "unfinished_waiting": int((~done & np.isfinite(run.arrival) & np.isnan(run.admitted) & ~run.rejected).sum()),
        "unfinished_running": int((~done & np.isfinite(run.admitted)).sum()),
        "unfinished_not_arrived": int(np.isnan(run.arrival).sum()), "rejected_too_long": int(run.rejected.sum()),
        "measured_from_s": lo, "measured_to_s": hi, "end_s": run.end_s, "horizon_s": run.horizon_s,
    }
    for name, x in latencies(run).items():
        x = x[measured]
        pct = np.percentile(x, PERCENTILES) if x.size else [math.nan] * len(PERCENTILES)
        s |= {f"{name}_p{q}": float(v) for q, v in zip(PERCENTILES, pct, strict=True)}
        s[f"{name}_mean"] = float(x.mean()) if x.size else math.nan
    emitted = run.tokens_in_window
    s["throughput_tokens_per_s"] = float(emitted.sum() / window)
    s["goodput_tokens_per_s"] = float(emitted[ok].sum() / window)
    s["sla_attainment"] = float(ok[arrived].mean()) if arrived.any() else math.nan
    s["capacity_tokens_per_s"] = run.fleet.capacity_tokens_per_s()
    s |= _queue(run, lo, hi) | _kv(run)
    s["busy_share_mean"] = float(run.busy_s.sum() / (run.busy_s.size * max(run.end_s, 1e-12)))
    s["preemptions"] = int(run.preemptions.sum())
    s["requests_preempted"] = int((run.preemptions > 0).sum())
    s["wall_s"] = run.wall_s
    s["requests_per_wall_s"] = run.traffic.size / max(run.wall_s, 1e-12)
    return s


def _queue(run: ServeRun, lo: float, hi: float) -> dict[str, float]:
    """Requests waiting for admission: time-weighted mean over the window, and the maximum."""
    t = np.clip(np.append(run.queue_times_s, hi), lo, hi)
    span = t[-1] - t[0]
    mean = float((run.queue_depth * np.diff(t)).sum() / span) if span > 0 else 0.0
    return {"queue_mean": mean, "queue_max": float(run.queue_depth.max(initial=0.0)),
            "queue_at_end": float(run.queue_depth[-1]) if run.queue_depth.size else 0.0}


def _kv(run: ServeRun) -> dict[str, float]:
    """KV cache: share in use by running sequences (time mean and peak), share holding cached prefixes, prefix hits."""
    cap = run.kv_capacity_tokens
    span = max(run.end_s, 1e-12)
    admitted = np.isfinite(run.admitted)
    inputs = run.traffic.input_tokens[admitted].sum()
    return {
        "kv_used_share_mean": float(run.kv_used_token_s.sum() / (cap.sum() * span)),
        "kv_used_share_peak": float((run.kv_peak_tokens / cap).max()),
        "kv_cached_share_mean": float(run.kv_cached_token_s.sum() / (cap.sum() * span)),
        "prefix_hit_rate": float(run.prefix_hit_tokens[admitted].sum() / inputs) if inputs else 0.0,
        "requests_with_prefix_hit": int((run.prefix_hit_tokens > 0).sum()),
    }


def timeline(run: ServeRun, bins: int = 100) -> pd.DataFrame:
    """Queue depth and latencies over time: per bin of arrival time, the queue depth at its end and p50/p99 TTFT and e2e."""
    end = max(run.end_s, 1e-9)
    edges = np.linspace(0.0, end, bins + 1)
    idx = np.searchsorted(run.queue_times_s, edges[1:], side="right") - 1
    depth = run.queue_depth[np.maximum(idx, 0)]
    lat = latencies(run)
    which = np.digitize(run.arrival, edges[1:-1])
    rows = {"time_s": edges[1:], "queue_depth": depth}
    for name in ("ttft_s", "e2e_s"):
        for q in (50, 99):
            col = np.full(bins, np.nan)
            x = lat[name]
            ok = np.isfinite(x)
            for b in np.unique(which[ok]):
                col[b] = np.percentile(x[ok & (which == b)], q)
            rows[f"{name}_p{q}"] = col
    unfinished = np.isfinite(run.arrival) & np.isnan(run.finished)
    rows["unfinished_arrived"] = np.bincount(which[unfinished], minlength=bins)[:bins]
    return pd.DataFrame(rows)
