"""The graph twin's static analysis of the 100 MW reference facility (goal: under one second in all)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from twin.analysis import analyze, node_loads, single_points_of_failure, stranded_capacity
from twin.graph import build_graph
from twin.loader import load_spec
from twin.network import network
from twin.reliability import availability
from twin.weather import weather_for

TITLE = "Graph twin: build and static analysis of the 100 MW reference (median of 7 runs; goal: analyze under 1,000 ms)"
REFERENCE = Path(__file__).resolve().parent.parent / "facility_specs" / "reference-100mw-gb300.yaml"
RUNS = 7


def _median_s(fn) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run() -> list[dict]:
    spec = load_spec(REFERENCE)
    weather = weather_for(spec.site.climate, REFERENCE.parent)
    graph = build_graph(spec)
    stages = {
        "build_graph": lambda: build_graph(spec),
        "node_loads (N-1 contingencies)": lambda: node_loads(spec, weather=weather, graph=graph),
        "single_points_of_failure": lambda: single_points_of_failure(graph),
        "stranded_capacity": lambda: stranded_capacity(spec, weather=weather, graph=graph),
        "availability (exact)": lambda: availability(spec, graph),
        "network": lambda: network(spec),
        "analyze, all of it (weather year included)": lambda: analyze(spec),
    }
    return [{"stage": name, "median_ms": 1000.0 * _median_s(fn)} for name, fn in stages.items()]
