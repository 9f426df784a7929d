"""Monte Carlo over simulated years: R replications with independent seeds spawned from one seed.

Replication r runs on child r of `SeedSequence(seed).spawn(R)`, so its result does not depend
on how many replications run or on how they are spread over worker processes. Reported per
KPI: the mean over replications, its standard error, and the 5th, 50th and 95th percentiles.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

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


def _run_chunk(spec: Spec, children: list, options: SimOptions, setup: YearSetup | None,
               progress: Callable[[int], None] | None = None) -> list[SimulatedYear]:
    setup = setup or prepare(spec)
    years = []
    for child in children:
        years.append(simulate_year(spec, child, options, setup))
        if progress is not None:
            progress(len(years))
    return years


def monte_carlo(spec: Spec, seed: int = 0, replications: int = 10, options: SimOptions | None = None, *,
                workers: int = 1, keep_series: bool = False, setup: YearSetup | None = None,
                progress: Callable[[int], None] | None = None) -> MonteCarlo:
    """Simulate `replications` years of `spec`; `workers` > 1 spreads them over processes (same result).

    `progress(n)` is called after each of the first n years (one worker only): the app's progress bar and stop button.
    """
    if replications < 1 or workers < 1:
        raise ValueError("replications and workers must be at least 1")
    options = options or SimOptions()
    workers = min(workers, replications)  # a process per replication at most: more would sit idle
    children = seed_sequence(seed).spawn(replications)
    if workers == 1:
        years = _run_chunk(spec, children, options, setup, progress)
    else:
        chunks = [children[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_run_chunk, [spec] * workers, chunks, [options] * workers, [None] * workers))
        years = [done[r % workers][r // workers] for r in range(replications)]
    runs = pd.DataFrame([y.kpis for y in years])
    bands = {k: _band(runs[k].to_numpy(dtype=float)) for k in runs.columns}
    hourly = events = None
    if keep_series:
        hourly = pd.concat([y.hourly.assign(replication=r) for r, y in enumerate(years)], ignore_index=True)
        events = pd.concat([y.events.assign(replication=r) for r, y in enumerate(years)], ignore_index=True)
    first = years[0]
    return MonteCarlo(seed, replications, {k: float(runs[k].mean()) for k in runs.columns}, bands, runs, hourly, events,
                      first.cost_breakdown_usd, first.models, first.spec_hash)


def _band(x: np.ndarray) -> dict[str, float | None]:
    p = np.percentile(x, PERCENTILES)
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else None
    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, p, strict=True)} | {"std_error": se}
