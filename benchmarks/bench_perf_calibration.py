"""Token production model against every measured reference point, and its speed.

`predicted` is the model's operating point at the point's interactivity with at most the
benchmark's concurrency in flight per replica (and its replica size where the source
gives one): like with like. `free` lets the model choose any batch at that interactivity,
as `aift perf` does; where it is far above the measurement, the benchmark's concurrency
sweep, not the hardware, set the measured figure. Targets (issue 4), on the fitted points:
median absolute error <= 20%, no point off by more than 2x. Held-out points are published
figures the fit never sees.
"""

from __future__ import annotations

import statistics
import time

from twin.loader import shipped_catalog
from twin.perf import PerfError, operating_point
from twin.perf.reference import HOLDOUT_CSV, load_points, predict

TITLE = "Token production model: predicted vs measured throughput per GPU"
TIMING_CALLS = 200


def _predict(p, cat, at_concurrency: bool) -> float | None:
    try:
        return predict(p, cat, at_concurrency=at_concurrency)
    except PerfError:
        return None


def _ratio(pred: float | None, meas: float) -> float | None:
    return None if pred is None else pred / meas


def _summary(label: str, ratios: list[float | None]) -> str:
    got = [r for r in ratios if r is not None]
    med = 100 * statistics.median(abs(r - 1) for r in got)
    worst = max(max(r, 1 / r) for r in got)
    return f"{label}: median abs error {med:.1f}%, max ratio {worst:.2f}x, {len(ratios) - len(got)} unreachable"


def _timing_ms(cat) -> float:
    """Mean wall time of operating_point over distinct workloads (the cache is bypassed by varying the ISL)."""
    points = load_points()
    t0 = time.perf_counter()
    for i in range(TIMING_CALLS):
        p = points[i % len(points)]
        wm = p.workload().model_copy(update={"isl": p.isl + 1 + i})
        try:
            operating_point(cat.systems[p.system], cat.models[p.model], wm)
        except PerfError:
            pass
    return (time.perf_counter() - t0) / TIMING_CALLS * 1e3


def run() -> list[dict]:
    cat = shipped_catalog()
    rows, ratios = [], {}
    for subset, points in (("fitted", load_points()), ("held out", load_points(HOLDOUT_CSV))):
        for p in points:
            pred, unc = _predict(p, cat, True), _predict(p, cat, False)
            ratios.setdefault(subset, []).append(_ratio(pred, p.throughput_per_gpu))
            ratios.setdefault(f"{subset}, free batch", []).append(_ratio(unc, p.throughput_per_gpu))
            rows.append({
                "point": p.point,
                "set": subset,
                "system": p.system,
                "model": p.model,
                "precision": p.precision,
                "serving": "disaggregated" if p.disaggregated else "aggregated",
                "tok/s/user": p.interactivity,
                "concurrency": p.concurrency,
                "tokens": p.tokens_counted,
                "measured tok/s/GPU": p.throughput_per_gpu,
                "predicted tok/s/GPU": pred,
                "error %": None if pred is None else 100 * (pred / p.throughput_per_gpu - 1),
                "free tok/s/GPU": unc,
                "free / measured": _ratio(unc, p.throughput_per_gpu),
                "method": "model",
            })
    lines = [_summary(label, r) for label, r in ratios.items()]
    lines.append(f"operating_point: {_timing_ms(cat):.1f} ms per call, uncached")
    rows += [{"point": f"summary: {line}"} for line in lines]
    print("\n".join(lines))
    return rows
