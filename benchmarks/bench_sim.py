"""Simulation speed: a fleet year of the 100 MW reference, serving requests per second, event skipping's gain.

- Fleet: one simulated year with facility and GPU-system failures, setup (graph, weather,
  operating points) included, and each further replication of a Monte Carlo after it.
- Serving: requests simulated per wall-second with event skipping, for each kind of traffic,
  on the reference's llama-3.3-70b replicas at 80 % of their capacity (step-time tables warm).
- Event skipping against the token-by-token reference on the same run (identical results).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from twin.loader import load_spec
from twin.production import streams
from twin.sim.latency import default_max_batch, replica_rate_per_s
from twin.sim.montecarlo import monte_carlo
from twin.sim.options import SimOptions
from twin.sim.serving import ServingOptions, simulate_serving
from twin.sim.steps import PerfSteps
from twin.sim.year import prepare, simulate_year

TITLE = "Simulation: fleet year of the 100 MW reference (goal < 10 s), serving requests per second (goal >= 20,000)"
REFERENCE = Path(__file__).resolve().parent.parent / "facility_specs" / "reference-100mw-gb300.yaml"
MODEL = "llama-3.3-70b"
RUNS = 3


def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _fleet_rows(spec) -> list[dict]:
    year_s, _ = _timed(lambda: simulate_year(spec, 0, SimOptions()))
    setup = prepare(spec)
    reps = 10
    mc_s, mc = _timed(lambda: monte_carlo(spec, 0, reps, SimOptions(), setup=setup))
    events = len(simulate_year(spec, 1, SimOptions(), setup).events)
    return [
        {"measurement": "fleet: one year of the 100 MW reference with failures, setup included", "value": year_s, "unit": "s", "goal": "< 10 s"},
        {"measurement": f"fleet: one more replication (mean of {reps}, setup shared)", "value": mc_s / reps, "unit": "s", "goal": ""},
        {"measurement": "fleet: events logged in one year (failures, repairs)", "value": float(events), "unit": "events", "goal": ""},
        {"measurement": "fleet: mean availability over the replications", "value": mc.kpis["availability"], "unit": "", "goal": ""},
    ]


def _serving_case(spec):
    stream = next(s for s in streams(spec) if s.model == MODEL)
    wm = next(w for w in spec.workload.models if w.model == MODEL)
    steps = PerfSteps(spec, stream)
    max_batch = default_max_batch(stream)
    for b in range(1, max_batch + 1):
        steps.coefficients(b)  # warm the step-time table: it is built once per stream, not per run
    options = ServingOptions(requests=20_000)
    rate = 0.8 * options.replicas * replica_rate_per_s(stream, wm.osl)
    kw = dict(max_batch=max_batch, input_tokens=wm.isl, output_tokens=wm.osl, interleaved=not wm.serving.disaggregated)
    return steps, options, rate, kw


def _serving_rows(spec) -> list[dict]:
    steps, options, rate, kw = _serving_case(spec)
    rows = []
    for arrivals in ("poisson", "bursty", "agentic"):
        o = replace(options, arrivals=arrivals)
        best = min(_timed(lambda o=o, s=seed: simulate_serving(steps, o, rate, s, **kw))[0] for seed in range(RUNS))
        rows.append({"measurement": f"serving: {arrivals} requests per wall-second, event skipping ({MODEL}, {o.replicas} replicas "
                                    f"of batch {kw['max_batch']}, {o.requests:,} requests)",
                     "value": o.requests / best, "unit": "req/s", "goal": ">= 20,000"})
    small = replace(options, requests=1000)
    for batch in (kw["max_batch"], 8):  # fewer sequences per replica: longer stretches between batch changes
        k = dict(kw, max_batch=batch)
        r = rate * batch / kw["max_batch"]
        skip_s, _ = _timed(lambda k=k, r=r: simulate_serving(steps, small, r, 0, **k))
        token_s, _ = _timed(lambda k=k, r=r: simulate_serving(steps, replace(small, mode="token"), r, 0, **k))
        rows.append({"measurement": f"serving: token-by-token reference at batch {batch}, {small.requests:,} requests",
                     "value": small.requests / token_s, "unit": "req/s", "goal": ""})
        rows.append({"measurement": f"serving: speed-up of event skipping over token-by-token at batch {batch} (same run)",
                     "value": token_s / skip_s, "unit": "x", "goal": ""})
    return rows


def run() -> list[dict]:
    spec = load_spec(REFERENCE)
    return _fleet_rows(spec) + _serving_rows(spec)
