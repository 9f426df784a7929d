"""`evaluate` on the three example facilities: cold (operating points computed) and warm (cached)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.perf import frontier as perf_frontier

TITLE = "Analytic year (`evaluate`, 8760 h): compute time per facility (goal: reference under 1 s)"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["reference-100mw-gb300", "pilot-2mw-h100", "retrofit-mixed-gen"]
RUNS = 7


def _clear_operating_points() -> None:
    """Forget memoized operating points, so a 'cold' run computes them as a first call does."""
    sys.modules[perf_frontier.__module__]._CACHE.clear()


def run() -> list[dict]:
    rows = []
    for name in EXAMPLES:
        path = ROOT / "facility_specs" / f"{name}.yaml"
        spec = load_spec(path)
        _clear_operating_points()
        t0 = time.perf_counter()
        result = evaluate(spec)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            evaluate(spec)
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer.cli", "evaluate", str(path), "--json"], check=True, capture_output=True)
        whole = time.perf_counter() - t0
        rows.append({
            "facility": name,
            "GPUs": round(result.kpis["gpus"]),
            "cold compute ms": round(cold * 1000, 1),
            "warm compute ms (median)": round(statistics.median(warm) * 1000, 1),
            "whole `aift evaluate` process s": round(whole, 2),
            "PUE": round(result.kpis["pue"], 3),
            "USD per M tokens": round(result.kpis["cost_per_million_tokens_usd"], 4),
        })
    return rows
