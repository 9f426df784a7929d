"""Monte Carlo over simulated years: R replications with independent seeds spawned from one seed.

Replication r runs on child r of `SeedSequence(seed).spawn(R)`, so its result does not depend
on how many replications run or on how they are spread over worker processes. Reported per
KPI: the mean over replications, its standard error, and the 5th, 50th and 95th percentiles.

Replications are streamed: each one's KPIs are kept as it finishes and its hourly series and
event log dropped, except those of the first `KEPT_SERIES` when series are asked for, so
memory does not grow with the number of replications; `progress(done, total)` is called as
they finish.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

import twin
from twin.sim.options import SimOptions
from twin.sim.rng import seed_sequence
from twin.sim.year import SimulatedYear, YearSetup, prepare, simulate_year
from twin.spec import Spec

PERCENTILES = (5, 50, 95)


@dataclass(frozen=True)
class MonteCarlo:
    """Mean KPIs over replications with their bands; per-replication KPIs; series and logs when kept."""

    seed: int
    replications: int
    kpis: dict[str, float]
    bands: dict[str, dict[str, float | None]]  # KPI -> p5, p50, p95, std_error (None with one replication)
    runs: pd.DataFrame = field(repr=False)  # one row of KPIs per replication
    hourly: pd.DataFrame | None = field(default=None, repr=False)  # with a `replication` column
    events: pd.DataFrame | None = field(default=None, repr=False)
    cost_breakdown_usd: dict[str, float] = field(default_factory=dict)  # replication 0's
    models: list[dict] = field(default_factory=list)  # replication 0's
    spec_hash: str = ""
    version: str = twin.__version__

    def to_json(self) -> dict:
        return {"seed": self.seed, "replications": self.replications, "kpis": self.kpis, "bands": self.bands,
                "cost_breakdown_usd": self.cost_breakdown_usd, "models": self.models,
                "spec_hash": self.spec_hash, "version": self.version}


KEPT_SERIES = 20  # replications whose hourly series and event log are kept when asked for
CHUNKS_PER_WORKER = 4  # with several workers, replications go out in this many pieces each (for progress)


def _run_chunk(spec: Spec, first: int, children: list, options: SimOptions, setup: YearSetup | None, keep: int) -> list[SimulatedYear]:
    """Years `first`, `first + 1`, ...; the series of those from `keep` on are dropped before they leave the worker."""
    setup = setup or prepare(spec)
    years = []
    for r, child in enumerate(children, start=first):
        y = simulate_year(spec, child, options, setup)
        years.append(y if r < keep else replace(y, hourly=_EMPTY, events=_EMPTY))
    return years


_EMPTY = pd.DataFrame()


def monte_carlo(spec: Spec, seed: int = 0, replications: int = 10, options: SimOptions | None = None, *,
                workers: int = 1, keep_series: bool = False, setup: YearSetup | None = None,
                progress: Callable[[int, int], None] | None = None) -> MonteCarlo:
    """Simulate `replications` years of `spec`; `workers` > 1 spreads them over processes (same result)."""
    if replications < 1 or workers < 1:
        raise ValueError("replications and workers must be at least 1")
    options = options or SimOptions()
    workers = min(workers, replications)  # a process per replication at most: more would sit idle
    children = seed_sequence(seed).spawn(replications)
    keep = KEPT_SERIES if keep_series else 0
    kpis: list[dict] = []
    kept: list[SimulatedYear] = []
    first: SimulatedYear | None = None

    def take(years: list[SimulatedYear]) -> None:
        nonlocal first
        first = first or years[0]
        for y in years:
            kpis.append(y.kpis)
            if len(kept) < keep:
                kept.append(y)
        if progress:
            progress(len(kpis), replications)

    if workers == 1:
        setup = setup or prepare(spec)
        for r, child in enumerate(children):
            take(_run_chunk(spec, r, [child], options, setup, keep))
    else:
        size = max(1, math.ceil(replications / (workers * CHUNKS_PER_WORKER)))
        starts = range(0, replications, size)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run_chunk, spec, i, children[i:i + size], options, None, keep) for i in starts]
            for future in futures:  # in order, so the result is the same for any number of workers
                take(future.result())
    runs = pd.DataFrame(kpis)
    bands = {k: _band(runs[k].to_numpy(dtype=float)) for k in runs.columns}
    hourly = events = None
    if keep_series:
        hourly = pd.concat([y.hourly.assign(replication=r) for r, y in enumerate(kept)], ignore_index=True)
        events = pd.concat([y.events.assign(replication=r) for r, y in enumerate(kept)], ignore_index=True)
    return MonteCarlo(seed, replications, {k: float(runs[k].mean()) for k in runs.columns}, bands, runs, hourly, events,
                      first.cost_breakdown_usd, first.models, first.spec_hash)


def _band(x: np.ndarray) -> dict[str, float | None]:
    p = np.percentile(x, PERCENTILES)
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else None
    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, p, strict=True)} | {"std_error": se}
