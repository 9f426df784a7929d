"""Refit the calibration on the reference points: `python -m twin.perf.fit [--dry-run] [--out PATH]`.

Minimizes the squared log(predicted / measured) over every point of
`facility_specs/reference/inference-calibration.csv` and the usable rows of
`inference-published.csv` (compared at each point's own interactivity and concurrency), plus
a pull of each parameter towards its documented default so that a family with few points
keeps physical values. Least squares in log space within each parameter's bounds. Writes
the fitted `value`s back into `twin/perf/calibration.yaml` (defaults, bounds and sources
are kept). Takes a few minutes.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import least_squares

from twin.loader import shipped_catalog
from twin.perf.calibration import CALIBRATION_FILE, FAMILY_KEYS, GLOBAL_KEYS, from_document, read_document
from twin.perf.frontier import frontier
from twin.perf.points import PerfError
from twin.perf.published import load_published
from twin.perf.reference import CALIBRATION_TTFT_S, counted, limits, load_points, predict
from twin.spec import Sla

# Log-space width of the pull towards each default: efficiencies are known to within ~1.6x,
# the fixed latencies of a software stack only to within an order of magnitude.
PRIOR_SIGMA = {"hbm_efficiency": 0.5, "compute_efficiency": 0.5, "link_efficiency": 0.5}
PRIOR_SIGMA_LATENCY = 1.5
MISS_WEIGHT = 10.0  # log-error per log of interactivity the model falls short of a point
MISS_STEP = 0.25  # and a fixed log-error for missing it at all, so the fit keeps clear of the edge
MAX_EVALUATIONS = 400
FD_STEP = 0.02  # finite-difference step in log(parameter): 2%


def fit_points(catalog) -> list:
    """Every reference point the fit uses: the calibration table and the usable published rows."""
    return load_points() + load_published(catalog)


def slots(doc: dict) -> list[tuple[str, ...]]:
    """Paths of the fitted parameters in the calibration document."""
    fams = [("families", f, k) for f in doc["families"] for k in FAMILY_KEYS]
    return fams + [("parallelism", k) for k in GLOBAL_KEYS]


def _get(doc: dict, path: tuple[str, ...]) -> dict:
    for p in path:
        doc = doc[p]
    return doc


def with_values(doc: dict, paths, x) -> dict:
    out = copy.deepcopy(doc)
    for path, v in zip(paths, x, strict=True):
        _get(out, path)["value"] = round(float(v), 4)
    return out


def log_errors(doc: dict, points, catalog) -> np.ndarray:
    """log(predicted / measured) per point.

    Where the model cannot reach a point's interactivity, the error is that of its fastest
    point less MISS_STEP and MISS_WEIGHT times the log of the shortfall, so the search sees
    which way to move and stays on the side that serves the point.
    """
    cal = from_document(doc)
    errs = []
    for p in points:
        try:
            errs.append(math.log(predict(p, catalog, cal) / p.throughput_per_gpu))
        except PerfError:
            errs.append(_miss(p, catalog, cal))
    return np.array(errs)


def _miss(p, catalog, cal) -> float:
    wm = p.workload().model_copy(update={"sla": Sla(min_tokens_per_s_per_user=0.0, max_ttft_s=CALIBRATION_TTFT_S)})
    try:
        fastest = frontier(catalog.systems[p.system], catalog.models[p.model], wm, cal=cal, **limits(p))[-1]
    except PerfError:
        return -MISS_WEIGHT
    shortfall = math.log(p.interactivity / fastest.tokens_per_s_per_user)
    return math.log(counted(p, fastest) / p.throughput_per_gpu) - MISS_STEP - MISS_WEIGHT * shortfall


def _bounds_and_prior(doc: dict, paths) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log-space bounds, prior (the documented defaults) and prior widths of the fitted parameters."""
    params = [_get(doc, s) for s in paths]
    lo = np.log([max(p["bounds"][0], 1e-3) for p in params])
    hi = np.log([p["bounds"][1] for p in params])
    prior = np.clip(np.log([max(p["default"], 1e-3) for p in params]), lo, hi)
    sigma = np.array([PRIOR_SIGMA.get(s[-1], PRIOR_SIGMA_LATENCY) for s in paths]) * math.sqrt(len(paths))
    return lo, hi, prior, sigma


def current(doc: dict, paths) -> np.ndarray:
    """The document's values of the fitted parameters, in log space."""
    return np.log([max(_get(doc, s)["value"], 1e-3) for s in paths])


def fit(doc: dict, points, catalog, max_evaluations: int = MAX_EVALUATIONS) -> dict:
    """The document with fitted values: least squares on the log errors plus the pull to the defaults.

    Trust-region reflective within the bounds, from the current values, with finite
    differences wide enough (FD_STEP in log space) to step over the kinks where the best layout changes.
    """
    paths = slots(doc)
    lo, hi, prior, sigma = _bounds_and_prior(doc, paths)

    def residuals(z: np.ndarray) -> np.ndarray:
        return np.concatenate([log_errors(with_values(doc, paths, np.exp(z)), points, catalog), (z - prior) / sigma])

    start = np.clip(current(doc, paths), lo + 1e-9, hi - 1e-9)
    res = least_squares(residuals, start, bounds=(lo, hi), method="trf", diff_step=FD_STEP, max_nfev=max_evaluations,
                        xtol=1e-4, ftol=1e-5)
    return with_values(doc, paths, np.exp(res.x))


def jacobian(doc: dict, points, catalog) -> np.ndarray:
    """d log(predicted / measured) / d log(parameter) at the document's values, by forward differences."""
    paths = slots(doc)
    z = current(doc, paths)
    base = log_errors(doc, points, catalog)
    cols = []
    for k in range(len(z)):
        step = z.copy()
        step[k] += FD_STEP
        cols.append((log_errors(with_values(doc, paths, np.exp(step)), points, catalog) - base) / FD_STEP)
    return np.stack(cols, axis=1)


def cross_validate(doc: dict, points, catalog, group, jac: np.ndarray | None = None) -> np.ndarray:
    """Held-out log errors, one fold per value of `group(point)` (a system, a model).

    Each fold refits without its points by one Gauss-Newton step from the full fit (the
    Jacobian at the fit with the fold's rows removed, the same pull to the defaults), then
    predicts the fold's points with the model at the refitted parameters.
    """
    paths = slots(doc)
    lo, hi, prior, sigma = _bounds_and_prior(doc, paths)
    z = current(doc, paths)
    jac = jacobian(doc, points, catalog) if jac is None else jac
    r = log_errors(doc, points, catalog)
    keys = np.array([group(p) for p in points])
    out = np.empty(len(points))
    d = 1.0 / sigma**2
    for key in dict.fromkeys(keys):
        held = keys == key
        js, rs = jac[~held], r[~held]
        step = -np.linalg.solve(js.T @ js + np.diag(d), js.T @ rs + d * (z - prior))
        refit = with_values(doc, paths, np.exp(np.clip(z + step, lo, hi)))
        out[held] = log_errors(refit, [p for p, h in zip(points, held, strict=True) if h], catalog)
    return out


def summary(errs: np.ndarray) -> str:
    return f"median |error| {np.median(np.abs(np.exp(errs) - 1)):.1%}, max ratio {np.exp(np.abs(errs)).max():.2f}"


def write_document(doc: dict, path: Path = CALIBRATION_FILE) -> None:
    """Write atomically, keeping key order."""
    text = yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="Print the fit, do not write it.")
    ap.add_argument("--out", type=Path, default=CALIBRATION_FILE, help="Where to write the fitted calibration.")
    args = ap.parse_args(argv)
    catalog = shipped_catalog()
    doc, points = read_document(), fit_points(catalog)
    print(f"before: {summary(log_errors(doc, points, catalog))}")
    fitted = fit(doc, points, catalog)
    errs = log_errors(fitted, points, catalog)
    print(f"after:  {summary(errs)}")
    for p, e in zip(points, errs, strict=True):
        print(f"  {p.point:28s} {math.exp(e):5.2f}x")
    for s in slots(fitted):
        print(f"  {'.'.join(s):45s} {_get(fitted, s)['value']:.4g}")
    if not args.dry_run:
        write_document(fitted, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
