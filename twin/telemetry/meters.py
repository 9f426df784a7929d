"""Facility meter exports (CSV or Parquet): utility, IT and cooling kW and the outdoor temperature, per hall where metered.

One row per reading: `timestamp` (ISO 8601, or Unix seconds), an optional `hall` (empty or
absent: the whole site), then any of the value columns below. A CSV problem names its
line (the header is line 1); a Parquet problem names its row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.telemetry.findings import Findings
from twin.telemetry.samples import CLOCK_RANGE, off_clock

VALUE_COLUMNS = {
    "utility_kw": "facility power drawn from the utility, kW",
    "it_kw": "IT power (racks and network), kW",
    "cooling_kw": "cooling plant, pumps and fans, kW",
    "outdoor_c": "outdoor dry-bulb temperature, C",
    "wet_bulb_c": "outdoor wet-bulb temperature, C (optional)",
}
METER_COLUMNS = ["t", "hall", *VALUE_COLUMNS, "file", "line"]


def read_meters(path: Path, findings: Findings) -> pd.DataFrame:
    """The readings of one meter file, in METER_COLUMNS; problems go to `findings`."""
    csv = path.suffix.lower() == ".csv"
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False) if csv else pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        findings.error(path, None, "", f"cannot read the meter table: {str(exc).splitlines()[0]}")
        return pd.DataFrame(columns=METER_COLUMNS)
    raw.columns = [str(c).strip() for c in raw.columns]
    row_of = (lambda i: i + 2) if csv else (lambda i: None)
    where = (lambda i: "") if csv else (lambda i: f"row {i}")
    if "timestamp" not in raw.columns:
        findings.error(path, 1 if csv else None, "timestamp", f"missing column 'timestamp' (columns: {', '.join(raw.columns)})")
        return pd.DataFrame(columns=METER_COLUMNS)
    known = set(VALUE_COLUMNS) | {"timestamp", "hall"}
    for c in raw.columns:
        if c not in known:
            findings.note(path, 1 if csv else None, c, f"unknown meter column, ignored (known: {', '.join(VALUE_COLUMNS)})")
    if not set(VALUE_COLUMNS) & set(raw.columns):
        findings.error(path, 1 if csv else None, "", f"no meter column; want any of {', '.join(VALUE_COLUMNS)}")
        return pd.DataFrame(columns=METER_COLUMNS)
    out = pd.DataFrame({"t": _timestamps(raw["timestamp"], path, findings, row_of, where)})
    out["hall"] = raw["hall"].astype(str).str.strip().replace({"nan": "", "None": ""}) if "hall" in raw.columns else ""
    for c in VALUE_COLUMNS:
        if c not in raw.columns:
            out[c] = np.nan
            continue
        text = raw[c].astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        blank = text.isin(["", "nan", "NaN", "None"])
        for i in np.flatnonzero(values.isna() & ~blank):
            findings.error(path, row_of(i), c, f"{where(i)} {text.iloc[i]!r} is not a number".strip())
        if c.endswith("_kw"):
            for i in np.flatnonzero((values < 0).to_numpy()):
                findings.error(path, row_of(i), c, f"{where(i)} {text.iloc[i]!r} kW is negative: a meter of power drawn reads 0 or more".strip())
        for i in np.flatnonzero(blank.to_numpy())[:1]:
            findings.note(path, row_of(i), c, f"{where(i)} empty or NaN reading skipped".strip(), key=("meter-nan", str(path), c))
        out[c] = values
    out["file"] = str(path)
    out["line"] = [row_of(i) for i in range(len(out))]
    return out.dropna(subset=["t"]).reset_index(drop=True)


def _timestamps(col: pd.Series, path: Path, findings: Findings, row_of, where) -> pd.Series:
    """Unix seconds from ISO 8601 text or numbers; unreadable stamps are errors."""
    text = col.astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    parsed = pd.to_datetime(text.where(numeric.isna()), utc=True, errors="coerce", format="ISO8601")
    seconds = numeric.where(numeric.notna(), _epoch(parsed))
    for i in np.flatnonzero(seconds.isna()):
        findings.error(path, row_of(i), "timestamp", f"{where(i)} {text.iloc[i]!r} is not an ISO 8601 time or Unix seconds".strip())
    for i in np.flatnonzero(seconds.notna().to_numpy() & off_clock(seconds.to_numpy(dtype=float))):
        findings.error(path, row_of(i), "timestamp", f"{where(i)} {text.iloc[i]!r} is {CLOCK_RANGE} (Unix seconds, or ISO 8601)".strip())
    return seconds.where(~off_clock(seconds.to_numpy(dtype=float)))


def _epoch(stamps: pd.Series) -> pd.Series:
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
