"""A small results store filled as `aift sweep` fills it (series files carry their rows), without a cluster."""

from __future__ import annotations

from pathlib import Path

from optimizer.jobs import get_job
from optimizer.scenarios import load_sweep
from optimizer.store import RunRecord, Store, run_meta, sweep_row
from optimizer.sweep import run_scenario
from tests.sweep_support import write_grid

GRID = "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70]\n  deployments[0].racks: [10, 20, 99]\n"
# 6 scenarios: the 4 with 10 or 20 racks are ok (with a series file), the 2 with 99 racks fail (no series)


def fill_store(folder: Path, grid: str = GRID) -> Path:
    """A runs folder `folder/runs` holding one sweep of `grid`; returns the runs folder."""
    sweep = load_sweep(write_grid(folder / "g.yaml", grid))
    runs = folder / "runs"
    with Store(runs) as store:
        store.add_sweep(sweep)
        for s in sweep.scenarios:
            meta = {"run": run_meta(s.id, sweep.id, s.name, s.overrides, sweep.job, s.seed), "sweep": sweep_row(sweep)}
            outcome = run_scenario(sweep.spec, get_job(sweep.job), s.overrides, s.seed, meta)
            store.record(RunRecord(s.id, sweep.id, s.name, s.overrides, sweep.job, s.seed, outcome))
    return runs
