"""Samples from every source in one tidy table, checked once whatever file format they came in.

Columns: `series` (family and labels, `le` aside), `family`, `role`, `part` (value, bucket,
sum, count), `le` (bucket bound, NaN otherwise), `t` (Unix seconds), `value`, `file`,
`line` (None where the format has no lines: JSON). Labels per series are kept apart.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from twin.telemetry.findings import Findings
from twin.telemetry.metrics import ROLES

COLUMNS = ["series", "family", "role", "part", "le", "t", "value", "file", "line"]
# Telemetry times are Unix seconds from 1970 to 2200: outside, a stamp is in the wrong unit (or garbage),
# and dates beyond pandas' and Python's calendars (2262, 9999) would fail far from the file.
LATEST_S = 7_258_118_400.0  # 2200-01-01T00:00:00Z
CLOCK_RANGE = "outside 1970-2200"


def off_clock(t: np.ndarray) -> np.ndarray:
    """Where Unix seconds are not a time from 1970 to 2200."""
    t = np.asarray(t, dtype=float)
    return ~((t >= 0.0) & (t <= LATEST_S))


_PARTS = {"_bucket": "bucket", "_sum": "sum", "_count": "count", "_created": "created"}


def series_id(family: str, labels: dict[str, str]) -> str:
    """`family{a="1",b="2"}` with the labels sorted and `le` left out: one id per series (a histogram's parts share it)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "le")
    return f"{family}{{{inner}}}"


class SampleRows:
    """Accumulates samples from the readers, then builds the checked table."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.labels: dict[str, dict[str, str]] = {}

    def series(self, family: str, role: str, name: str, labels: dict[str, str]) -> tuple | None:
        """A handle for appending samples of one sample name and label set (None for `_created`, which is skipped)."""
        part = next((p for suffix, p in _PARTS.items() if name == family + suffix), "value")
        if part == "created":
            return None
        sid = series_id(family, labels)
        self.labels.setdefault(sid, {k: v for k, v in labels.items() if k != "le"})
        le = _bound(labels.get("le")) if part == "bucket" else math.nan
        return sid, family, role, part, le

    def append(self, handle: tuple | None, file: Path | str, line: int | None, value: float, t: float) -> None:
        if handle is not None:
            self.rows.append((*handle, t, value, str(file), line))

    def table(self, findings: Findings) -> pd.DataFrame:
        """The samples sorted by series and time; NaN dropped (noted), clock and counter errors reported."""
        df = pd.DataFrame(self.rows, columns=COLUMNS)
        df["line"] = df["line"].astype("Int64")
        if df.empty:
            return df
        bad = ~np.isfinite(df["value"].to_numpy(dtype=float))
        for r in df[bad].itertuples():
            findings.note(r.file, _line(r.line), r.series, f"{r.value} sample dropped", key=("nan", r.file, r.series))
        df = df[~bad]
        clock = off_clock(df["t"].to_numpy(dtype=float))
        for r in df[clock].itertuples():
            findings.error(r.file, _line(r.line), r.series, f"timestamp {r.t:.6g} s is {CLOCK_RANGE} (Prometheus text stamps are milliseconds, OpenMetrics and JSON seconds)")
        df = df[~clock]
        negative = (df["role"].map(_is_counter)) & (df["part"] != "sum") & (df["value"] < 0)
        for r in df[negative].itertuples():
            findings.error(r.file, _line(r.line), r.series, f"counter value {r.value} is negative")
        below = df["role"].map(_never_negative) & (df["value"] < 0)  # power, utilization, queue depth, cache share
        for r in df[below].itertuples():
            findings.error(r.file, _line(r.line), r.series, f"value {r.value} is negative: a reading in {ROLES[r.role].unit} is 0 or more")
        key = ["series", "part", "le"]
        back = df.groupby([*key, "file"], dropna=False, sort=False)["t"].diff() <= 0
        for r in df[back].itertuples():
            findings.error(r.file, _line(r.line), r.series, "timestamp is not after the previous sample of this series in the file")
        df = df.sort_values([*key, "t"], kind="stable")
        dup = df.duplicated([*key, "t"], keep="first") & ~back.reindex(df.index)
        for r in df[dup].itertuples():
            findings.note(r.file, _line(r.line), r.series, "sample repeats a timestamp already read from another file; the first kept",
                          key=("dup", r.file, r.series))
        return df[~dup].reset_index(drop=True)


def _is_counter(role: str) -> bool:
    return ROLES[role].kind in ("counter", "histogram")


def _never_negative(role: str) -> bool:
    return ROLES[role].kind == "gauge" and ROLES[role].unit != "C"


def _bound(le: str | None) -> float:
    try:
        return float(le) if le is not None else math.nan
    except ValueError:
        return math.nan


def _line(line) -> int | None:
    return None if line is None or pd.isna(line) else int(line)
