"""Token production model against every measured reference point, cross-validated, and its speed.

`predicted` is the model's operating point at the point's own interactivity with at most the
benchmark's concurrency in flight per replica (and its replica size and serving mode where
the source gives them): like with like. `free` lets the model choose any batch and
configuration at that interactivity, as `aift perf` does. The fitted points are
`inference-calibration.csv` and the usable rows of `inference-published.csv`; `held out`
are published points the fit never sees. Cross-validation refits without one system (or
one model) at a time and predicts the points left out (`twin.perf.fit.cross_validate`).
Targets (issue 13): calibration median error <= 20%, cross-validation median <= 30%.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from twin.loader import shipped_catalog
from twin.perf import PerfError, operating_point
from twin.perf.calibration import read_document
from twin.perf.fit import cross_validate, fit_points, jacobian
from twin.perf.frontier import clear_cache
from twin.perf.reference import HOLDOUT_CSV, load_points, predict
from twin.spec import Sla, WorkloadModel

TITLE = "Token production model: predicted vs measured throughput per GPU, cross-validated"


def _predict(p, cat, at_concurrency: bool) -> float | None:
    try:
        return predict(p, cat, at_concurrency=at_concurrency)
    except PerfError:
        return None


def _error(pred: float | None, meas: float) -> float | None:
    return None if pred is None else pred / meas - 1


def _median(errors) -> str:
    got = [abs(e) for e in errors if e is not None]
    return f"median abs error {100 * statistics.median(got):.1f}% over {len(got)} points ({len(errors) - len(got)} unreachable)"


def _timing_ms(cat) -> tuple[float, float]:
    """Mean wall time of operating_point with `serving: auto`, cold (cache cleared) and cached."""
    models = [m for m in ("deepseek-r1", "llama-3.3-70b", "gpt-oss-120b", "kimi-k2") if m in cat.models]
    calls = [(s, m, inter) for s in ("hgx-h200", "gb200-nvl72", "hgx-b200", "mi355x") for m in models for inter in (25.0, 50.0)]
    def run() -> float:
        t0 = time.perf_counter()
        for s, m, inter in calls:
            wm = WorkloadModel(model=m, precision="fp8", sla=Sla(min_tokens_per_s_per_user=inter))
            try:
                operating_point(cat.systems[s], cat.models[m], wm)
            except PerfError:
                pass
        return (time.perf_counter() - t0) / len(calls) * 1e3
    clear_cache()
    cold = run()
    return cold, run()


def run() -> list[dict]:
    cat = shipped_catalog()
    fitted, held = fit_points(cat), load_points(HOLDOUT_CSV)
    doc = read_document()
    jac = jacobian(doc, fitted, cat)
    cv = {"system": np.exp(cross_validate(doc, fitted, cat, lambda p: p.system, jac)) - 1,
          "model": np.exp(cross_validate(doc, fitted, cat, lambda p: p.model, jac)) - 1}
    rows, errors = [], {}
    for subset, points in (("fitted", fitted), ("held out", held)):
        for i, p in enumerate(points):
            pred, free = _predict(p, cat, True), _predict(p, cat, False)
            errors.setdefault(subset, []).append(_error(pred, p.throughput_per_gpu))
            errors.setdefault(f"{subset}, free batch", []).append(_error(free, p.throughput_per_gpu))
            rows.append({
                "point": p.point,
                "set": subset,
                "system": p.system,
                "model": p.model,
                "precision": p.precision,
                "serving": {True: "disaggregated", False: "aggregated", None: "auto"}[p.disaggregated],
                "tok/s/user": p.interactivity,
                "concurrency": p.concurrency,
                "tokens": p.tokens_counted,
                "measured tok/s/GPU": p.throughput_per_gpu,
                "predicted tok/s/GPU": pred,
                "error %": None if pred is None else 100 * _error(pred, p.throughput_per_gpu),
                "leave-system-out error %": 100 * cv["system"][i] if subset == "fitted" else None,
                "leave-model-out error %": 100 * cv["model"][i] if subset == "fitted" else None,
                "free tok/s/GPU": free,
                "free error %": None if free is None else 100 * _error(free, p.throughput_per_gpu),
            })
    lines = [f"{label}: {_median(e)}" for label, e in errors.items()]
    for kind, e in cv.items():
        lines.append(f"cross-validation, leave one {kind} out: {_median(list(e))}")
        for key in dict.fromkeys(getattr(p, kind) for p in fitted):
            fold = [x for p, x in zip(fitted, e, strict=True) if getattr(p, kind) == key]
            lines.append(f"  without {key}: {_median(fold)}")
    cold, cached = _timing_ms(cat)
    lines.append(f"operating_point (serving: auto): {cold:.1f} ms per call cold, {cached:.3f} ms cached")
    rows += [{"point": f"summary: {line}"} for line in lines]
    print("\n".join(lines))
    return rows
