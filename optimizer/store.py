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
keeps each series' own columns and types inside a single file per run; the file's metadata
also holds the run's row and its sweep's, so `aift runs repair` can rebuild a lost index.

Reading opens the index read-only (a read-only folder or mount reads fine) and checks its
version and integrity first; whatever is wrong is a `StoreError` that says what and how to
recover, never a database traceback. Paths read from the index stay inside `series/`.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


SWEEP_COLUMNS = ["id", "name", "created", "grid_file", "spec_file", "spec_hash", "job", "mode", "parameters", "base_values", "scenarios"]
INDEX = "index.sqlite"
META_RUN, META_SWEEP = b"aift.run", b"aift.sweep"  # keys of a series file's metadata


class UnknownId(LookupError):
    """No run or sweep has this id (or this prefix matches several)."""


class StoreError(Exception):
    """The store cannot do what was asked: the message says what is wrong and how to recover."""


class SeriesUnavailable(StoreError):
    """A run's series file is missing, unreadable, or named by a path outside the store."""


def repair_hint(root: Path) -> str:
    return (f"`aift runs repair --runs {root}` rebuilds the index from the runs' series files "
            "(keeping a copy of the damaged one); re-running a sweep then computes what is missing")


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
    def of(cls, result: JobResult, spec_hash: str, duration_s: float, meta: dict[str, Any] | None = None) -> Outcome:
        """The outcome of a job that returned; `meta` ({"run": ..., "sweep": ...}) goes into the series file."""
        series = None
        if result.series:
            run = (meta or {}).get("run", {}) | {"kpis": result.kpis, "spec_hash": spec_hash, "plan_yaml": result.plan_yaml, "duration_s": duration_s}
            series = encode_series(result.series, {META_RUN: run, META_SWEEP: (meta or {}).get("sweep")})
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
    """A runs folder: open it, record runs, read them back. Use as a context manager.

    `read_only` opens an existing store for reading only (every `aift runs` command but
    repair): nothing is created or changed, and a read-only folder works.
    """

    def __init__(self, root: str | Path, read_only: bool = False):
        self.root = Path(root)
        self.index = self.root / INDEX
        self.read_only = read_only
        self._db = self._open()
        try:
            self._check()
            if not read_only:
                with self._writing():
                    self._db.executescript(SCHEMA)
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> sqlite3.Connection:
        if self.index.is_dir():
            raise StoreError(f"{self.index} is a directory, not a results index; move it away, then {repair_hint(self.root)}")
        exists = self.index.is_file()
        if self.read_only and not exists:
            raise StoreError(f"no results store in {self.root} (no {INDEX}); run `aift sweep` first or pass --runs DIR")
        if exists and self.index.stat().st_size == 0:
            raise StoreError(f"{self.index} is empty (0 bytes), not a results index: a crash while it was created, "
                             f"or a failed copy; {repair_hint(self.root)}")
        if self.read_only:
            return self._connect_read_only()
        try:
            (self.root / "series").mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.index, timeout=30)
        except OSError as exc:
            raise self._unwritable(exc.strerror or str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise self._failure(exc) from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            # A killed process loses no committed run in WAL mode; a power cut may lose the last
            # few commits (they are recomputed on resume), never a series file a row names.
            db.execute("PRAGMA synchronous=NORMAL")
            return db
        except sqlite3.DatabaseError as exc:
            db.close()
            raise self._failure(exc) from None

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read-only; in a folder nobody can write (a read-only mount) SQLite cannot make its
        WAL side files, and the index is opened as immutable, which is then true."""
        uri = "file:" + urllib.parse.quote(str(self.index.resolve())) + "?mode=ro"
        for suffix in ("", "&immutable=1"):
            db = sqlite3.connect(uri + suffix, uri=True, timeout=30)
            db.row_factory = sqlite3.Row
            try:
                db.execute("PRAGMA user_version").fetchone()
                return db
            except sqlite3.OperationalError as exc:
                db.close()
                if suffix or os.access(self.root, os.W_OK):
                    raise self._failure(exc) from None
            except sqlite3.DatabaseError as exc:
                db.close()
                raise self._failure(exc) from None
        raise AssertionError("unreachable")

    def _check(self) -> None:
        """The index's version, integrity and tables; StoreError saying what is wrong otherwise."""
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(f"{self.index} is a results index of version {version}; this aift reads version "
                                 f"{SCHEMA_VERSION}. Use the aift that wrote it, or {repair_hint(self.root)}")
            verdict = self._db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if verdict != "ok":
                raise StoreError(f"{self.index} is damaged ({verdict}); {repair_hint(self.root)}")
            tables = {r[0]: [c[1] for c in self._db.execute(f"PRAGMA table_info({r[0]})")]
                      for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise self._failure(exc) from None
        except UnicodeDecodeError:
            raise StoreError(f"{self.index} is damaged (text that is not UTF-8); {repair_hint(self.root)}") from None
        fresh = not tables and version == 0
        if fresh and not self.read_only:
            return
        if tables.get("runs") != RUN_COLUMNS or tables.get("sweeps") != SWEEP_COLUMNS or "sweep_runs" not in tables:
            raise StoreError(f"{self.index} does not hold the tables of a version-{SCHEMA_VERSION} results index "
                             f"(another program's database, or another version); {repair_hint(self.root)}")

    def _failure(self, exc: sqlite3.DatabaseError) -> StoreError:
        """A database error in words: unwritable, full, or damaged."""
        text = str(exc)
        if "readonly" in text or "unable to open" in text:
            return self._unwritable(text)
        if "full" in text:
            return self._full()
        return StoreError(f"{self.index} is damaged ({text}); {repair_hint(self.root)}")

    def _unwritable(self, reason: str) -> StoreError:
        return StoreError(f"cannot write the results store {self.root}: {reason} (a read-only folder or mount?). "
                          "`aift runs list/show/export` still read it; write to another folder with --out")

    def _full(self) -> StoreError:
        return StoreError(f"the disk holding {self.root} is full: every run stored before is intact. Free some space, "
                          "then run the same command again to resume")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; database and disk errors become StoreError."""
        try:
            with self._db:
                yield
        except sqlite3.DatabaseError as exc:
            raise self._failure(exc) from None

    def _rows(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._failure(exc) from None
        except UnicodeDecodeError:
            raise StoreError(f"{self.index} is damaged (text that is not UTF-8); {repair_hint(self.root)}") from None

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
        row = sweep_row(sweep)
        with self._writing():
            self._db.execute("INSERT OR IGNORE INTO sweeps VALUES (?,?,?,?,?,?,?,?,?,?,?)", tuple(row[c] for c in SWEEP_COLUMNS))
            self._db.executemany("INSERT OR IGNORE INTO sweep_runs VALUES (?, ?)", [(sweep.id, s.id) for s in sweep.scenarios])

    def record(self, run: RunRecord) -> None:
        """Store one run: its series file first, durably, then its row in one transaction."""
        o = run.outcome
        series_file = None
        if o.series_parquet is not None:
            series_file = f"series/{run.id}.parquet"
            try:
                _write_durably(self.root / series_file, o.series_parquet)
            except OSError as exc:
                raise (self._full() if exc.errno == errno.ENOSPC else self._unwritable(exc.strerror or str(exc))) from None
        kpis = {k: v if math.isfinite(v) else None for k, v in o.kpis.items()}
        with self._writing():
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
        sweep = (APP_SWEEP, "scenarios saved in the app", _now(), "<app>", None, spec.spec_hash(), job, "saved", "[]", "{}", 0)
        with self._writing():
            self._db.execute("INSERT OR IGNORE INTO sweeps VALUES (?,?,?,?,?,?,?,?,?,?,?)", sweep)
            self._db.execute("INSERT OR IGNORE INTO sweep_runs VALUES (?, ?)", (APP_SWEEP, run_id))
        meta = {"run": run_meta(run_id, APP_SWEEP, name, overrides, job, 0), "sweep": dict(zip(SWEEP_COLUMNS, sweep, strict=True))}
        self.record(RunRecord(run_id, APP_SWEEP, name, overrides, job, 0, Outcome.of(result, spec.spec_hash(), 0.0, meta)))
        return run_id

    # --- reading ---------------------------------------------------------------------

    def finished(self, run_ids: Iterable[str], include_failed: bool = True) -> set[str]:
        """The ids among `run_ids` that have a stored run (only the successful ones if asked).

        A run whose series file has gone is not finished: a resumed sweep computes it again.
        """
        statuses = ("ok", "failed") if include_failed else ("ok",)
        rows = self._rows(
            f"SELECT id, series_file FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND status IN ({','.join('?' * len(statuses))})",
            (json.dumps(list(run_ids)), *statuses),
        )
        return {r["id"] for r in rows if not r["series_file"] or (self.root / r["series_file"]).is_file()}

    def sweeps(self, sweep_id: str | None = None) -> list[dict[str, Any]]:
        """Every sweep (or one, by id or unique id prefix), newest first, with counts of stored runs."""
        where, args = ("WHERE s.id = ?", (self._resolve("sweeps", sweep_id),)) if sweep_id else ("", ())
        rows = self._rows(
            f"""SELECT s.*, COUNT(r.id) AS stored, COALESCE(SUM(r.status = 'ok'), 0) AS ok, COALESCE(SUM(r.status = 'failed'), 0) AS failed
                FROM sweeps s JOIN sweep_runs m ON m.sweep_id = s.id LEFT JOIN runs r ON r.id = m.run_id
                {where} GROUP BY s.id ORDER BY s.created DESC, s.id""",
            args,
        )
        return [self._decode(r, "parameters", "base_values") for r in rows]

    def runs(self, sweep_id: str | None = None) -> list[dict[str, Any]]:
        """Stored runs in the order they were stored, all of them or those of one sweep."""
        if sweep_id is None:
            rows = self._rows("SELECT * FROM runs ORDER BY time, id")
        else:
            rows = self._rows(
                "SELECT r.* FROM runs r JOIN sweep_runs m ON m.run_id = r.id WHERE m.sweep_id = ? ORDER BY r.time, r.id",
                (self._resolve("sweeps", sweep_id),),
            )
        return [self._decode(r, "parameters", "kpis") for r in rows]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique id prefix; UnknownId if none or several match."""
        [row] = self._rows("SELECT * FROM runs WHERE id = ?", (self._resolve("runs", run_id),))
        return self._decode(row, "parameters", "kpis")

    def series_path(self, run: dict[str, Any]) -> Path:
        """Where a run's series file is; SeriesUnavailable when the index points outside `series/`."""
        folder = (self.root / "series").resolve()
        try:
            path = (self.root / str(run["series_file"])).resolve()
        except (OSError, RuntimeError, ValueError):
            path = None
        if path is None or path.parent != folder:
            raise SeriesUnavailable(f"run {run['id']}: the index names its series as {str(run['series_file'])[:80]!r}, "
                                    f"outside {self.root}/series; it is not read. The index is damaged: {repair_hint(self.root)}")
        return path

    def series(self, run: dict[str, Any]) -> dict[str, pd.DataFrame]:
        """The series of a stored run (empty if it has none); SeriesUnavailable if its file is gone or damaged."""
        if not run["series_file"]:
            return {}
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.series_path(run)
        if not path.is_file():
            raise SeriesUnavailable(f"the series of run {run['id']} are gone ({run['series_file']} is missing); its KPIs are "
                                    "kept, and running its sweep again computes the series again")
        try:
            table = pq.read_table(path)
            return {name: pa.Table.from_struct_array(table.column(name).combine_chunks().flatten()).to_pandas() for name in table.column_names}
        except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
            raise SeriesUnavailable(f"the series of run {run['id']} cannot be read ({run['series_file']} is damaged: "
                                    f"{type(exc).__name__}); delete it and run its sweep again to compute it again") from None

    def frame(self, sweep_id: str | None = None) -> pd.DataFrame:
        """Runs as one flat table: run fields, then `param.<path>` and `kpi.<name>` columns.

        A parameter that a run leaves at its base value shows that value (from the sweep
        asked for, else from the sweep that computed the run), so every row is complete.
        """
        sweeps = self.sweeps(sweep_id)
        base_of = {s["id"]: s["base_values"] for s in sweeps}
        rows = []
        for r in self.runs(sweep_id):
            base = sweeps[0]["base_values"] if sweep_id else base_of.get(r["sweep_id"], {})
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
        ids = [r[0] for r in self._rows(f"SELECT id FROM {table} WHERE id LIKE ? || '%' LIMIT 2", (prefix,))]
        kind = table.rstrip("s")
        if not ids:
            raise UnknownId(f"no {kind} with id {prefix!r} in {self.root}")
        if len(ids) > 1:
            raise UnknownId(f"{prefix!r} matches several {table}; give more of the id")
        return ids[0]

    def _decode(self, row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
        try:
            return decode_row(row, *json_columns)
        except ValueError as exc:
            raise StoreError(f"{self.index} is damaged: {exc}; {repair_hint(self.root)}") from None


# The JSON a row holds, by the columns decoded: a run's parameters and KPIs are objects, a sweep's
# parameters a list of paths and its base values an object.
_JSON_SHAPES = {("parameters", "kpis"): (dict, dict), ("parameters", "base_values"): (list, dict)}


def decode_row(row: sqlite3.Row | dict, *json_columns: str) -> dict[str, Any]:
    """A row as a dict with its JSON columns decoded and of their shape; ValueError naming the row and column otherwise."""
    out = dict(row)
    for c, shape in zip(json_columns, _JSON_SHAPES.get(json_columns, (dict | list,) * len(json_columns)), strict=True):
        try:
            out[c] = json.loads(out[c])
        except (TypeError, ValueError):
            raise ValueError(f"{out.get('id', '?')!s:.40}: its {c} is not JSON") from None
        if not isinstance(out[c], shape):
            raise ValueError(f"{out.get('id', '?')!s:.40}: its {c} is not a JSON {'list' if shape is list else 'object'}")
    if "kpis" in json_columns and not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in out["kpis"].values()):
        raise ValueError(f"{out.get('id', '?')!s:.40}: its kpis are not all numbers")
    # SQLite keeps text in a numeric column as text: a run's seed and duration must be numbers.
    if not isinstance(out.get("seed", 0), int) or not isinstance(out.get("duration_s"), int | float | None):
        raise ValueError(f"{out.get('id', '?')!s:.40}: its seed or duration is not a number")
    return out


def sweep_row(sweep: Sweep) -> dict[str, Any]:
    """The `sweeps` row of a sweep, as stored (and kept in its runs' series files)."""
    values = (sweep.id, sweep.name, _now(), sweep.grid_file, str(sweep.spec.path) if sweep.spec.path else None,
              sweep.spec.spec_hash(), sweep.job, sweep.mode, json.dumps(list(sweep.parameters)),
              json.dumps(sweep.base_values), len(sweep.scenarios))
    return dict(zip(SWEEP_COLUMNS, values, strict=True))


def run_meta(run_id: str, sweep_id: str, scenario: str, parameters: dict[str, Any], job: str, seed: int) -> dict[str, Any]:
    """What a series file keeps of its run besides the outcome, so repair can rebuild its row."""
    return {"id": run_id, "sweep_id": sweep_id, "scenario": scenario, "parameters": parameters, "job": job, "seed": seed}


def _one_type(values: pd.Series) -> pd.Series:
    """Numbers stay numbers; a column that mixes types (or holds lists) becomes text, so Parquet can hold it."""
    present = values.dropna()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present) or all(isinstance(v, str) for v in present):
        return values
    return values.map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def encode_series(series: dict[str, pd.DataFrame], metadata: dict[bytes, Any] | None = None) -> bytes:
    """One Parquet file, one column per series, each a single list of that series' rows;
    `metadata` values are kept as JSON in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for name, frame in series.items():
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()  # a meaningful index (hours, ids) is kept as a column
        rows = pa.Table.from_pandas(frame, preserve_index=False).to_struct_array().combine_chunks()
        columns[name] = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
    table = pa.table(columns)
    if metadata:
        table = table.replace_schema_metadata({k: json.dumps(v, default=str) for k, v in metadata.items() if v is not None})
    buf = io.BytesIO()
    pq.write_table(table, buf)
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
