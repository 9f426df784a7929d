"""Test-only jobs and helpers for the sweep tests.

Importing this module registers the jobs `sleepy` and `fragile`. Dask workers import it
by reference when they unpickle those jobs; a CLI subprocess imports it through `CLI`.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from optimizer.jobs import JobResult, register_job, static_job
from twin.spec import Spec

SLEEP_S = 0.2

# `python -c CLI sweep ...` runs `aift` with the test jobs registered.
CLI = "import tests.sweep_support; from optimizer.cli import main; main()"


def sleepy(spec: Spec, seed: int) -> JobResult:
    """The static job, slowly: slow enough to interrupt a sweep midway."""
    time.sleep(SLEEP_S)
    return static_job(spec, seed)


def fragile(spec: Spec, seed: int) -> JobResult:
    """The static job, except that it fails on expensive electricity."""
    if spec.site.tariff.price_usd_per_mwh > 100:
        raise RuntimeError("this test job fails above 100 USD/MWh")
    return static_job(spec, seed)


register_job("sleepy", sleepy)
register_job("fragile", fragile)


def write_grid(path: Path, body: str) -> Path:
    """A grid file on the small test facility, with `body` (job and grid lines) appended."""
    small = Path(__file__).parent / "specs" / "small.yaml"
    path.write_text(f"spec: {small}\n{body}")
    return path




def stored_rows(runs: Path) -> dict[str, dict]:
    """Rows of the runs table read by a separate read-only connection, by id ({} if none yet)."""
    db = runs / "index.sqlite"
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in con.execute("SELECT * FROM runs")}
    except sqlite3.OperationalError:  # the writer has not created the tables yet
        return {}
    finally:
        con.close()


def assert_every_row_has_its_series(runs: Path) -> None:
    """The store's promise: a row that names a series file names one that is whole."""
    import pyarrow.parquet as pq

    for row in stored_rows(runs).values():
        if row["status"] == "ok":
            assert row["series_file"], row
            pq.read_table(runs / row["series_file"])  # raises if missing or truncated
