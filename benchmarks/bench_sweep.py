"""Sweep throughput: scenarios per second on a local Dask cluster of 1 and 2 worker processes.

Each measurement runs the whole path of `aift sweep` after the cluster is up and every
worker has run the job once: submission, the job, the results coming back, and each run
written to a fresh results store. Cluster start-up is reported apart.

A job as cheap as `static` (a few ms) leaves the client (scheduler, results coming back,
store writes) as the bottleneck, so a second worker adds little; the scaling ratio says
more for `evaluate`, and on a machine whose cores are not shared with other work.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from optimizer.jobs import get_job, job_names
from optimizer.scenarios import load_sweep
from optimizer.store import Store
from optimizer.sweep import dask_client, execute, run_scenario

TITLE = "Sweep: scenarios per second on a local Dask cluster"
JOB = "evaluate"  # falls back to "static" while `evaluate` is not registered
SPEC = Path(__file__).resolve().parent.parent / "facility_specs" / "reference-100mw-gb300.yaml"
PRICES = [20 + 5 * i for i in range(20)]
OFFSETS_C = [-4.5 + i for i in range(10)]  # 20 x 10 = 200 scenarios


def run() -> list[dict]:
    job = JOB if JOB in job_names() else "static"
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        grid = Path(tmp) / "bench.yaml"
        grid.write_text(f"spec: {SPEC}\njob: {job}\ngrid:\n  site.tariff.price_usd_per_mwh: {PRICES}\n  site.climate.offset_c: {OFFSETS_C}\n")
        sweep = load_sweep(grid)
        for workers in (1, 2):
            t0 = time.perf_counter()
            with dask_client(None, workers) as client, Store(Path(tmp) / f"runs-{workers}") as store:
                startup_s = time.perf_counter() - t0
                client.run(run_scenario, sweep.spec, get_job(job), {}, 0)  # warm every worker: imports, caches
                summary = execute(sweep, list(sweep.scenarios), store, client)
            rate = summary.ok / summary.elapsed_s
            rows.append(
                {
                    "job": job,
                    "workers": workers,
                    "scenarios": summary.ok,
                    "failed": summary.failed,
                    "cluster_startup_s": startup_s,
                    "sweep_s": summary.elapsed_s,
                    "scenarios_per_s": rate,
                    "scaling_vs_1_worker": rate / rows[0]["scenarios_per_s"] if rows else 1.0,
                }
            )
    return rows
