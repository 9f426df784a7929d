"""Extreme but valid facilities: a simulated year with every failure rate at its maximum, and 50,000 racks in 50 halls.

Each case runs in a fresh process, which reports its wall time, its CPU time (what the case
costs, whatever else the machine runs) and its peak resident memory (`resource.getrusage`,
imports included), so one case's memory never hides another's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TITLE = "Extreme facilities: a year at maximum failure rates (goal: seconds, a few hundred MB) and 50,000 racks in 50 halls"
ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import json, resource, sys, time
from benchmarks.extreme_specs import fifty_halls, max_failure_rates
from twin.loader import load_spec
from twin.sim.options import SimOptions
REFERENCE = 'facility_specs/reference-100mw-gb300.yaml'
EVERYTHING = SimOptions(spike_rate_per_year=8760, grid_event_rate_per_year=8760, grid_shed_mw=1.0)
"""

CASES = [  # (facility, what, setup code, timed code)
    ("reference 100 MW, every MTBF 1 h", "one simulated year (failures, spikes and grid events hourly)",
     "from twin.sim.year import simulate_year; spec = max_failure_rates(load_spec(REFERENCE))",
     "y = simulate_year(spec, 0, EVERYTHING); note = f'{len(y.events):,} log rows'"),
    ("reference 100 MW, every MTBF 1 h + 0.01 h repairs", "one simulated year (failures, spikes and grid events hourly)",
     "from twin.sim.year import simulate_year; spec = max_failure_rates(load_spec(REFERENCE), mttr_h=0.01)",
     "y = simulate_year(spec, 0, EVERYTHING); note = f'{len(y.events):,} log rows, availability {y.kpis[\"availability\"]:.3g}'"),
    ("reference 100 MW, every MTBF 1 h", "Monte Carlo of 5 years (streamed: memory as for one)",
     "from twin.sim.montecarlo import monte_carlo; spec = max_failure_rates(load_spec(REFERENCE))",
     "mc = monte_carlo(spec, 0, 5, SimOptions()); note = f'availability {mc.kpis[\"availability\"]:.3g}'"),
    ("50 halls, 50,000 racks", "evaluate (analytic year)", "from twin.evaluate import evaluate; spec = fifty_halls()",
     "e = evaluate(spec); note = f'PUE {e.kpis[\"pue\"]:.3f}'"),
    ("50 halls, 50,000 racks", "twin (static analysis)", "from twin.analysis import analyze; spec = fifty_halls()",
     "r = analyze(spec); note = f'{len(r.loads)} loads'"),
    ("50 halls, 50,000 racks", "one simulated year (catalog rates)", "from twin.sim.year import simulate_year; spec = fifty_halls()",
     "y = simulate_year(spec, 0, SimOptions()); note = f'{len(y.events):,} log rows'"),
    ("50 halls, 50,000 racks", "serving simulation at peak demand", "from twin.sim.latency import serve_streams; spec = fifty_halls()",
     "s = serve_streams(spec, max_rate=False); note = f'{len(s)} streams'"),
    ("50 halls, 50,000 racks", "plan (cost per token, 120 s limit)", "from optimizer.planning import plan_facility; spec = fifty_halls()",
     "p = plan_facility(spec, time_limit_s=120, shadow=False, verify=False); note = p.solution.status"),
]


def _measure(setup: str, timed: str) -> dict:
    code = PRELUDE + setup + "\ncpu0, t0 = time.process_time(), time.perf_counter()\n" + timed + """
print(json.dumps({"s": time.perf_counter() - t0, "cpu": time.process_time() - cpu0,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "note": note}))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        return {"s": None, "cpu": None, "mb": None, "note": "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    rows = []
    for facility, what, setup, timed in CASES:
        m = _measure(setup, timed)
        rows.append({"facility": facility, "case": what, "wall s": m["s"], "CPU s": m["cpu"], "peak MB (process)": m["mb"], "result": m["note"]})
    return rows
