"""Read a request trace (CSV or Parquet) into arrival times, lengths and sessions; every bad row is named.

Two schemas load as they are:

- the public Azure LLM inference traces: `TIMESTAMP` (a date-time), `ContextTokens`,
  `GeneratedTokens`;
- a generic one: `arrival_s` (seconds), `input_tokens`, `output_tokens`, and optionally
  `session_id` and `model`.

Arrivals are made relative to the first request. Errors are `SpecError`s whose issues name the
file, the line (CSV: the header is line 1; Parquet: the row number plus one) and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import SpecError, SpecIssue

AZURE = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
GENERIC = ("arrival_s", "input_tokens", "output_tokens")
MAX_TOKENS = 10_000_000  # beyond any model's context
MAX_ROWS = 20_000_000
MAX_BYTES = 2_000_000_000  # read whole into memory: refuse what would not fit
MAX_ISSUES = 20  # the first problems are listed; the rest are counted


@dataclass(frozen=True)
class Trace:
    """Requests of a trace in file order: arrival (s from the first), input and output tokens, session and model."""

    path: str
    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    session: np.ndarray  # -1 where the trace has none; else 0.. in order of first appearance
    model: np.ndarray | None  # object array of model ids, or None


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise SpecError([SpecIssue(str(path), None, None, "", "a directory, not a trace file" if path.is_dir() else "no such trace file")])
    if path.stat().st_size > MAX_BYTES:
        raise SpecError([SpecIssue(str(path), None, None, "", f"{path.stat().st_size:,} bytes; a trace may have at most {MAX_BYTES:,}")])
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file, reported as such
        raise SpecError([SpecIssue(str(path), None, None, "", f"cannot read as {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: {exc}")]) from None


def load_trace(path: str | Path) -> Trace:
    """The trace at `path`; SpecError lists the missing columns or the first bad rows (file:line: column: why)."""
    path = Path(path)
    df = _read(path)
    f = str(path)
    cols = AZURE if set(AZURE) <= set(df.columns) else GENERIC
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SpecError([SpecIssue(f, 1, None, "", f"missing column(s) {', '.join(missing)}; a trace needs either "
                                   f"{', '.join(AZURE)} (Azure LLM inference traces) or {', '.join(GENERIC)}")])
    if len(df) == 0:
        raise SpecError([SpecIssue(f, 1, None, "", "the trace has no requests")])
    if len(df) > MAX_ROWS:
        raise SpecError([SpecIssue(f, None, None, "", f"{len(df):,} rows; at most {MAX_ROWS:,} are played")])
    issues: list[SpecIssue] = []
    time_col, in_col, out_col = cols
    if cols == AZURE:
        stamps = pd.to_datetime(df[time_col], errors="coerce", format="mixed", utc=True)  # naive stamps as UTC: one clock for a mixed column
        seconds = (stamps - stamps.min()).dt.total_seconds().to_numpy() if stamps.notna().any() else np.full(len(df), np.nan)
        _flag(issues, f, df, time_col, stamps.isna().to_numpy(), "not a date-time")
    else:
        seconds = pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=float)
        _flag(issues, f, df, time_col, ~np.isfinite(seconds) | (seconds < 0), "not a finite number of seconds >= 0")
    lengths = {}
    for c in (in_col, out_col):
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v != np.round(v)) | (v < 1) | (v > MAX_TOKENS)
        _flag(issues, f, df, c, bad, f"not a whole number of tokens from 1 to {MAX_TOKENS:,}")
        lengths[c] = v
    if issues:
        raise SpecError(issues)
    order = np.argsort(seconds, kind="stable")
    if np.any(order != np.arange(order.size)):
        row = int(np.flatnonzero(np.diff(seconds) < 0)[0]) + 1
        raise SpecError([SpecIssue(f, _line(df, row), None, time_col, "arrivals must be in time order")])
    session = np.full(len(df), -1, dtype=np.int64)
    if "session_id" in df.columns:
        ids = df["session_id"].astype(str).to_numpy()
        named = (ids != "") & (ids != "nan") & (ids != "None")
        codes, _ = pd.factorize(ids[named])
        session[named] = codes
    model = df["model"].astype(str).to_numpy(dtype=object) if "model" in df.columns else None
    return Trace(f, seconds - seconds[0], lengths[in_col].astype(np.int64), lengths[out_col].astype(np.int64), session, model)


def _line(df: pd.DataFrame, row: int) -> int:
    return row + 2  # header on line 1; Parquet rows are numbered the same way


def _flag(issues: list[SpecIssue], f: str, df: pd.DataFrame, col: str, bad: np.ndarray, why: str) -> None:
    rows = np.flatnonzero(bad)
    for row in rows[:MAX_ISSUES]:
        issues.append(SpecIssue(f, _line(df, int(row)), None, col, f"{df[col].iloc[row]!r} is {why}"))
    if rows.size > MAX_ISSUES:
        issues.append(SpecIssue(f, _line(df, int(rows[MAX_ISSUES])), None, col, f"... and {rows.size - MAX_ISSUES:,} more rows like it"))
