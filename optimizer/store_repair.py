"""Rebuild a damaged results index from what can still be read.

The damaged index (and its WAL side files) is moved aside, never deleted. The new index
holds every row that can still be read from the old one, plus a row for every series file
whose metadata names its run (each series file keeps its run's row and its sweep's). A
run that had no series (a failed run) and whose row is unreadable is lost; re-running
its sweep computes it again.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optimizer.store import INDEX, META_RUN, META_SWEEP, RUN_COLUMNS, SCHEMA, SCHEMA_VERSION, SWEEP_COLUMNS, Store, StoreError, decode_row


@dataclass
class Repair:
    """What `repair` did: `problem` is None when the index was sound and left alone."""

    problem: str | None
    kept_as: Path | None = None
    from_index: int = 0
    from_series: int = 0
    sweeps: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return self.from_index + self.from_series


def diagnose(root: Path) -> str | None:
    """What is wrong with the store's index, in words, or None when every row reads."""
    try:
        with Store(root, read_only=True) as store:
            store.sweeps()
            store.runs()
    except StoreError as exc:
        return str(exc)
    return None


def repair(root: Path) -> Repair:
    """Rebuild the index of `root` if it is damaged; the damaged one is kept beside it."""
    root = Path(root)
    index = root / INDEX
    series = root / "series"
    if not index.exists() and not series.is_dir():
        raise StoreError(f"no results store in {root} (neither {INDEX} nor series/); nothing to repair")
    problem = diagnose(root) if index.exists() else f"{index} is missing"
    if problem is None:
        return Repair(None)
    report = Repair(problem)
    sweeps: dict[str, dict] = {}
    members: set[tuple[str, str]] = set()
    runs: dict[str, dict] = {}
    if index.exists():
        report.kept_as = _move_aside(index)
        if report.kept_as.is_file():
            sweeps, members, runs = _salvage(report.kept_as)
    report.from_index = len(runs)
    for path in sorted(series.glob("*.parquet")) if series.is_dir() else []:
        found = _from_series_file(path)
        if found is None:
            report.unreadable.append(path.name)
            continue
        run, sweep = found
        if sweep and sweep["id"] not in sweeps:
            sweeps[sweep["id"]] = sweep
        members.add((run["sweep_id"], run["id"]))
        if run["id"] not in runs:
            runs[run["id"]] = run
            report.from_series += 1
    for sweep_id in {m[0] for m in members} - set(sweeps):
        sweeps[sweep_id] = _recovered_sweep(sweep_id, [r for r in runs.values() if r["sweep_id"] == sweep_id])
    report.sweeps = len(sweeps)
    _write_index(index, sweeps, members, runs)
    return report


def _move_aside(index: Path) -> Path:
    """Rename the damaged index and its WAL side files (a stale WAL must never meet the new index)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    kept = index.with_name(f"{INDEX}.damaged-{stamp}")
    os.replace(index, kept)
    for side in ("-wal", "-shm"):
        extra = index.with_name(INDEX + side)
        if extra.exists():
            os.replace(extra, kept.with_name(kept.name + side))
    return kept


def _salvage(path: Path) -> tuple[dict[str, dict], set[tuple[str, str]], dict[str, dict]]:
    """Every row of the old index that still reads and decodes; rows past a damaged page are lost."""
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    tables: dict[str, list[dict]] = {}
    for suffix in ("", "&immutable=1"):  # with its WAL (moved aside with it), else the main file alone
        tables = {"sweeps": [], "sweep_runs": [], "runs": []}
        try:
            db = sqlite3.connect(uri + suffix, uri=True)
        except sqlite3.DatabaseError:
            continue
        db.row_factory = sqlite3.Row
        try:
            for table, rows in tables.items():
                try:
                    for row in db.execute(f"SELECT * FROM {table}"):  # table names are ours
                        rows.append(dict(row))
                except (sqlite3.DatabaseError, UnicodeDecodeError):
                    continue
        finally:
            db.close()
        if any(tables.values()):
            break
    sweeps = {r["id"]: r for r in tables["sweeps"] if list(r) == SWEEP_COLUMNS and _decodes(r, "parameters", "base_values")}
    runs = {r["id"]: r for r in tables["runs"] if list(r) == RUN_COLUMNS and r["status"] in ("ok", "failed") and _decodes(r, "parameters", "kpis")}
    members = {(r["sweep_id"], r["run_id"]) for r in tables["sweep_runs"] if set(r) == {"sweep_id", "run_id"}}
    members |= {(r["sweep_id"], r["id"]) for r in runs.values()}
    return sweeps, members, runs


def _decodes(row: dict, *columns: str) -> bool:
    try:
        decode_row(row, *columns)
    except ValueError:
        return False
    return True


def _from_series_file(path: Path) -> tuple[dict, dict | None] | None:
    """The run row (and sweep row) a series file keeps in its metadata; None if unreadable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        pq.read_table(path)  # the data must read too, or the row would name a damaged file
        run, sweep = json.loads(meta[META_RUN]), json.loads(meta[META_SWEEP]) if META_SWEEP in meta else None
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None
    if not isinstance(run, dict) or run.get("id") != path.stem or not {"sweep_id", "scenario", "parameters", "job", "seed", "kpis"} <= set(run):
        return None
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="milliseconds")
    row = {
        "id": run["id"], "sweep_id": run["sweep_id"], "time": mtime, "spec_hash": run.get("spec_hash"),
        "scenario": run["scenario"], "parameters": json.dumps(run["parameters"]), "job": run["job"], "seed": run["seed"],
        "status": "ok", "error": None, "kpis": json.dumps({k: v if isinstance(v, int | float) and math.isfinite(v) else None for k, v in run["kpis"].items()}),
        "series_file": f"series/{path.name}", "plan_yaml": run.get("plan_yaml"), "duration_s": run.get("duration_s"),
    }
    if isinstance(sweep, dict) and list(sweep) != SWEEP_COLUMNS:
        sweep = {c: sweep.get(c) for c in SWEEP_COLUMNS} | {"created": sweep.get("created") or mtime}
    return row, sweep if isinstance(sweep, dict) and sweep.get("id") == run["sweep_id"] else None


def _recovered_sweep(sweep_id: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A sweep row for runs whose sweep's own row was lost: its parameters are those its runs vary."""
    parameters = sorted({p for r in runs for p in json.loads(r["parameters"])})
    return {"id": sweep_id, "name": "(recovered by aift runs repair)", "created": min((r["time"] for r in runs), default=""),
            "grid_file": "", "spec_file": None, "spec_hash": "", "job": runs[0]["job"] if runs else "", "mode": "recovered",
            "parameters": json.dumps(parameters), "base_values": "{}", "scenarios": len(runs)}


def _write_index(index: Path, sweeps: dict[str, dict], members: set[tuple[str, str]], runs: dict[str, dict]) -> None:
    """A fresh index in a temporary file, renamed into place when whole."""
    tmp = index.with_name(f".{INDEX}.rebuild.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        with db:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.executemany(f"INSERT OR IGNORE INTO sweeps VALUES ({','.join('?' * len(SWEEP_COLUMNS))})",
                           [tuple(s[c] for c in SWEEP_COLUMNS) for s in sweeps.values()])
            db.executemany("INSERT OR IGNORE INTO sweep_runs VALUES (?, ?)", sorted(members))
            db.executemany(f"INSERT OR IGNORE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({','.join('?' * len(RUN_COLUMNS))})",
                           [tuple(r[c] for c in RUN_COLUMNS) for r in runs.values()])
    finally:
        db.close()
    os.replace(tmp, index)
