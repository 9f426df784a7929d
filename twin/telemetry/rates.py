"""Counters to rates and everything onto one time grid, the way Prometheus's `rate()` sees them.

A counter only rises; a fall means the process restarted and counts again from zero, so
the increase over that interval is the new value (Prometheus's reset rule). An interval
longer than `GAP_FACTOR` times the usual scrape interval (the median over every series of
the file, so a series missing from many scrapes is still seen) is a gap (an exporter down,
a scrape lost): it is left out rather than averaged over, and noted. On the grid, a
bin's rate is the increase of the intervals ending in it over their duration; a gauge's
value is the mean of its samples in the bin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.telemetry.findings import Findings

GAP_FACTOR = 3.0  # an interval this many times the median scrape interval is a gap


def increases(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per interval between successive samples: the counter's increase (resets counted from zero) and whether it reset."""
    d = np.diff(v)
    reset = d < 0
    return np.where(reset, v[1:], d), reset


def gaps(t: np.ndarray, usual_s: float | None = None) -> np.ndarray:
    """Per interval: True where it is longer than GAP_FACTOR times the usual interval (default: this series' median)."""
    dt = np.diff(t)
    if not dt.size:
        return np.zeros(0, dtype=bool)
    return dt > GAP_FACTOR * (usual_s if usual_s is not None else np.median(dt))


def usual_intervals(samples: pd.DataFrame) -> dict[str, float]:
    """Per file, the median interval between successive samples of a series: the scrape interval."""
    dt = samples.groupby(["file", "series", "part", "le"], dropna=False, sort=False)["t"].diff()
    return dt.groupby(samples["file"]).median().dropna().to_dict()


def grid(start: float, end: float, step_s: float) -> np.ndarray:
    """Bin edges from `start` to past `end`, `step_s` apart."""
    n = max(1, int(np.ceil((end - start) / step_s)))
    return start + step_s * np.arange(n + 1)


def counter_rates(series: pd.DataFrame, edges: np.ndarray, findings: Findings | None = None, usual_s: float | None = None) -> np.ndarray:
    """Per bin, the counter's rate (units per second); NaN where no interval ends in the bin.

    `series` holds one counter's samples (`t`, `value`, `file`, `line`), sorted by time;
    `usual_s` is the scrape interval gaps are judged by (default: the series' own median).
    """
    t, v = series["t"].to_numpy(float), series["value"].to_numpy(float)
    out = np.full(len(edges) - 1, np.nan)
    if t.size < 2:
        return out
    inc, reset = increases(t, v)
    gap = gaps(t, usual_s)
    if findings is not None:
        _note(series, reset, gap, findings)
    keep = ~gap
    b = np.searchsorted(edges, t[1:][keep], side="right") - 1
    ok = (b >= 0) & (b < len(out))
    total = np.bincount(b[ok], weights=inc[keep][ok], minlength=len(out))
    time = np.bincount(b[ok], weights=np.diff(t)[keep][ok], minlength=len(out))
    np.divide(total, time, out=out, where=time > 0)
    return out


def gauge_means(series: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """Per bin, the mean of the gauge's samples in it; NaN where it has none."""
    t, v = series["t"].to_numpy(float), series["value"].to_numpy(float)
    b = np.searchsorted(edges, t, side="right") - 1
    ok = (b >= 0) & (b < len(edges) - 1)
    n = np.bincount(b[ok], minlength=len(edges) - 1)
    s = np.bincount(b[ok], weights=v[ok], minlength=len(edges) - 1)
    return np.divide(s, n, out=np.full(len(n), np.nan), where=n > 0)


def _note(series: pd.DataFrame, reset: np.ndarray, gap: np.ndarray, findings: Findings) -> None:
    name = series["series"].iloc[0]
    for i in np.flatnonzero(reset):
        r = series.iloc[i + 1]
        findings.note(r["file"], _line(r["line"]), name, f"counter reset (from {series['value'].iloc[i]:g} to {r['value']:g}): counted from zero",
                      key=("reset", r["file"], name))
    for i in np.flatnonzero(gap):
        r = series.iloc[i + 1]
        minutes = (r["t"] - series["t"].iloc[i]) / 60.0
        findings.note(r["file"], _line(r["line"]), name, f"gap of {minutes:.0f} min before this sample: the interval is left out",
                      key=("gap", r["file"], name))


def histogram_quantile(q: float, bucket_increase: dict[float, float]) -> float:
    """Prometheus's `histogram_quantile`: linear inside the bucket holding the q-th observation; NaN when empty.

    `bucket_increase` maps each upper bound `le` (with +Inf) to the cumulative count increase.
    """
    bounds = sorted(bucket_increase)
    counts = np.maximum.accumulate([bucket_increase[b] for b in bounds])  # cumulative buckets never fall
    if not bounds or counts[-1] <= 0:
        return float("nan")
    rank = q * counts[-1]
    i = int(np.searchsorted(counts, rank, side="left"))
    if i >= len(bounds) - 1 and np.isinf(bounds[-1]):
        return float(bounds[-2]) if len(bounds) > 1 else float("nan")  # in the +Inf bucket: its lower bound, as Prometheus
    lo, lo_count = (0.0, 0.0) if i == 0 else (bounds[i - 1], counts[i - 1])
    span = counts[i] - lo_count
    return float(lo + (bounds[i] - lo) * ((rank - lo_count) / span if span > 0 else 1.0))


def _line(line) -> int | None:
    return None if line is None or pd.isna(line) else int(line)
