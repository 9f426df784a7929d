"""The results store: a SQLite index of sweeps and runs, and a Parquet file of series per run.

Layout of a runs folder:

    index.sqlite            sweeps, their scenarios (sweep_runs) and runs, in WAL mode
    series/<run id>.parquet the series of one run

Only the process that drives a sweep writes here (workers return results), and it writes
in an order that survives a crash at any point: the Parquet file goes to a temporary name,
is flushed to disk and renamed into place, and only then is the run's row committed. A
crash can leave a stray Parquet file that no row names, never a row that names no file.

A run's id is its scenario id, so a run belongs to every sweep that lists its scenario and
is computed once. Each series is stored as one column holding a list of records, which
keeps each series' own columns and types inside a single file per run.
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.jobs import JobResult
from optimizer.scenarios import Sweep, scenario_id
from twin.spec import Spec

SCHEMA_VERSION = 1
APP_SWEEP = "app-scenarios"  # the sweep that holds scenarios saved from the app

SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created     TEXT NOT NULL,   -- UTC, ISO 8601
    grid_file   TEXT NOT NULL,
    spec_file   TEXT,
    spec_hash   TEXT NOT NULL,   -- of the base spec
    job         TEXT NOT NULL,
    mode        TEXT NOT NULL,   -- grid | scenarios | sample
    parameters  TEXT NOT NULL,   -- JSON list of the varied dotted paths
    base_values TEXT NOT NULL,   -- JSON {path: value in the base spec}
    scenarios   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_runs (
    sweep_id TEXT NOT NULL REFERENCES sweeps(id),
    run_id   TEXT NOT NULL,
    PRIMARY KEY (sweep_id, run_id)
);
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,  -- the scenario id
    sweep_id    TEXT NOT NULL,     -- the sweep that computed it
    time        TEXT NOT NULL,     -- UTC, ISO 8601, when stored
    spec_hash   TEXT,              -- of the spec with overrides; NULL if they failed
    scenario    TEXT NOT NULL,
    parameters  TEXT NOT NULL,     -- JSON {dotted path: value}
    job         TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error       TEXT,
    kpis        TEXT NOT NULL,     -- JSON {name: number, or null where not finite}
    series_file TEXT,              -- relative to the runs folder; NULL when there are none
    plan_yaml   TEXT,
    duration_s  REAL
);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep_id);
"""

RUN_COLUMNS = ["id", "sweep_id", "time", "spec_hash", "scenario", "parameters", "job", "seed", "status", "error", "kpis", "series_file", "plan_yaml", "duration_s"]


class UnknownId(LookupError):
    """No run or sweep has this id (or this prefix matches several)."""


@dataclass(frozen=True)
class Outcome:
    """What running one scenario gave: KPIs, series already encoded as Parquet, or an error.

    Workers build it, so the costly encoding runs in parallel and the one process that
    writes the store only writes bytes.
    """

    kpis: dict[str, float]
    series_parquet: bytes | None
    plan_yaml: str | None
    error: str | None
    spec_hash: str | None
    duration_s: float

    @classmethod
    def of(cls, result: JobResult, spec_hash: str, duration_s: float) -> Outcome:
        """The outcome of a job that returned."""
        series = encode_series(result.series) if result.series else None
        return cls(result.kpis, series, result.plan_yaml, None, spec_hash, duration_s)

    @classmethod
    def failure(cls, error: str, spec_hash: str | None = None, duration_s: float = 0.0) -> Outcome:
        """The outcome of a scenario that failed, with its error text."""
        return cls({}, None, None, error, spec_hash, duration_s)

    @property
    def status(self) -> str:
        """`ok` or `failed`, as stored."""
        return "failed" if self.error is not None else "ok"


@dataclass(frozen=True)
class RunRecord:
    """One scenario and its outcome, ready to store."""

    id: str
    sweep_id: str
    scenario: str
    parameters: dict[str, Any]
    job: str
    seed: int
    outcome: Outcome


class Store:
    """A runs folder: open it, record runs, read them back. Use as a context manager."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        (self.root / "series").mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.root / "index.sqlite", timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # A killed process loses no committed run in WAL mode; a power cut may lose the last
        # few commits (they are recomputed on resume), never a series file a row names.
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise RuntimeError(f"{self.root}: results store version {version}; this aift reads version {SCHEMA_VERSION}")
        with self._db:
            self._db.executescript(SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the index."""
        self._db.close()

    # --- writing ---------------------------------------------------------------------

    def add_sweep(self, sweep: Sweep) -> None:
        """Record a sweep and its scenarios (again, harmlessly, when it is resumed)."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO sweeps VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sweep.id, sweep.name, _now(), sweep.grid_file, str(sweep.spec.path) if sweep.spec.path else None,
                    sweep.spec.spec_hash(), sweep.job, sweep.mode, json.dumps(list(sweep.parameters)),
                    json.dumps(sweep.base_values), len(sweep.scenarios),
                ),
            )
            self._db.executemany("INSERT OR IGNORE INTO sweep_runs VALUES (?, ?)", [(sweep.id, s.id) for s in sweep.scenarios])

    def record(self, run: RunRecord) -> None:
        """Store one run: its series file first, durably, then its row in one transaction."""
        o = run.outcome
        series_file = None
        if o.series_parquet is not None:
            series_file = f"series/{run.id}.parquet"
            _write_durably(self.root / series_file, o.series_parquet)
        kpis = {k: v if math.isfinite(v) else None for k, v in o.kpis.items()}
        with self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                (
                    run.id, run.sweep_id, _now(), o.spec_hash, run.scenario, json.dumps(run.parameters), run.job, run.seed,
                    o.status, o.error, json.dumps(kpis), series_file, o.plan_yaml, o.duration_s,
                ),
            )

    def save_scenario(self, name: str, spec: Spec, overrides: dict[str, Any], result: JobResult, job: str = "evaluate") -> str:
        """Store a what-if scenario saved from the app, under the sweep `APP_SWEEP`; returns its run id."""
        run_id = scenario_id(spec.spec_hash(), job, overrides, 0)
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO sweeps VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (APP_SWEEP, "scenarios saved in the app", _now(), "<app>", None, spec.spec_hash(), job, "saved", "[]", "{}", 0),
            )
            self._db.execute("INSERT OR IGNORE INTO sweep_runs VALUES (?, ?)", (APP_SWEEP, run_id))
        self.record(RunRecord(run_id, APP_SWEEP, name, overrides, job, 0, Outcome.of(result, spec.spec_hash(), 0.0)))
        return run_id

    # --- reading ---------------------------------------------------------------------

    def finished(self, run_ids: Iterable[str], include_failed: bool = True) -> set[str]:
        """The ids among `run_ids` that have a stored run (only the successful ones if asked)."""
        statuses = ("ok", "failed") if include_failed else ("ok",)
        rows = self._db.execute(
            f"SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND status IN ({','.join('?' * len(statuses))})",
            (json.dumps(list(run_ids)), *statuses),
        )
        return {r["id"] for r in rows}

    def sweeps(self, sweep_id: str | None = None) -> list[dict[str, Any]]:
        """Every sweep (or one, by id or unique id prefix), newest first, with counts of stored runs."""
        where, args = ("WHERE s.id = ?", (self._resolve("sweeps", sweep_id),)) if sweep_id else ("", ())
        rows = self._db.execute(
            f"""SELECT s.*, COUNT(r.id) AS stored, COALESCE(SUM(r.status = 'ok'), 0) AS ok, COALESCE(SUM(r.status = 'failed'), 0) AS failed
                FROM sweeps s JOIN sweep_runs m ON m.sweep_id = s.id LEFT JOIN runs r ON r.id = m.run_id
                {where} GROUP BY s.id ORDER BY s.created DESC, s.id""",
            args,
        )
        return [_decode(r, "parameters", "base_values") for r in rows]

    def runs(self, sweep_id: str | None = None) -> list[dict[str, Any]]:
        """Stored runs in the order they were stored, all of them or those of one sweep."""
        if sweep_id is None:
            rows = self._db.execute("SELECT * FROM runs ORDER BY time, id")
        else:
            rows = self._db.execute(
                "SELECT r.* FROM runs r JOIN sweep_runs m ON m.run_id = r.id WHERE m.sweep_id = ? ORDER BY r.time, r.id",
                (self._resolve("sweeps", sweep_id),),
            )
        return [_decode(r, "parameters", "kpis") for r in rows]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique id prefix; UnknownId if none or several match."""
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (self._resolve("runs", run_id),)).fetchone()
        return _decode(row, "parameters", "kpis")

    def series(self, run: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """The series of a stored run (empty if it has none)."""
        if not run["series_file"]:
            return {}
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(self.root / run["series_file"])
        return {name: pa.Table.from_struct_array(table.column(name).combine_chunks().flatten()).to_pandas() for name in table.column_names}

    def frame(self, sweep_id: str | None = None) -> pd.DataFrame:
        """Runs as one flat table: run fields, then `param.<path>` and `kpi.<name>` columns.

        A parameter that a run leaves at its base value shows that value (from the sweep
        asked for, else from the sweep that computed the run), so every row is complete.
        """
        sweeps = self.sweeps(sweep_id)
        base_of = {s["id"]: s["base_values"] for s in sweeps}
        rows = []
        for r in self.runs(sweep_id):
            base = sweeps[0]["base_values"] if sweep_id else base_of[r["sweep_id"]]
            params = {**base, **r["parameters"]}
            rows.append(
                {c: r[c] for c in RUN_COLUMNS if c not in ("parameters", "kpis", "plan_yaml")}
                | {f"param.{p}": v for p, v in params.items()}
                | {f"kpi.{k}": v for k, v in r["kpis"].items()}
            )
        frame = pd.DataFrame(rows)
        for c in [c for c in frame.columns if c.startswith("param.")]:
            frame[c] = _one_type(frame[c])
        return frame

    def _resolve(self, table: str, prefix: str) -> str:
        ids = [r[0] for r in self._db.execute(f"SELECT id FROM {table} WHERE id LIKE ? || '%' LIMIT 2", (prefix,))]
        kind = table.rstrip("s")
        if not ids:
            raise UnknownId(f"no {kind} with id {prefix!r} in {self.root}")
        if len(ids) > 1:
            raise UnknownId(f"{prefix!r} matches several {table}; give more of the id")
        return ids[0]


def _decode(row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
    out = dict(row)
    for c in json_columns:
        out[c] = json.loads(out[c])
    return out


def _one_type(values: pd.Series) -> pd.Series:
    """Numbers stay numbers; a column that mixes types (or holds lists) becomes text, so Parquet can hold it."""
    present = values.dropna()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present) or all(isinstance(v, str) for v in present):
        return values
    return values.map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def encode_series(series: dict[str, pd.DataFrame]) -> bytes:
    """One Parquet file, one column per series, each a single list of that series' rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for name, frame in series.items():
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()  # a meaningful index (hours, ids) is kept as a column
        rows = pa.Table.from_pandas(frame, preserve_index=False).to_struct_array().combine_chunks()
        columns[name] = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def _write_durably(path: Path, data: bytes) -> None:
    """Write to a temporary file, flush it to disk, rename it into place, flush the folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
