"""Read telemetry files of every kind into one `Telemetry`, by extension; folders are read whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.telemetry.exposition import read_exposition
from twin.telemetry.findings import Findings
from twin.telemetry.meters import METER_COLUMNS, read_meters
from twin.telemetry.promjson import read_query_range
from twin.telemetry.samples import SampleRows

EXPOSITION = {".prom", ".txt", ".om", ".metrics", ".openmetrics"}
QUERY_RANGE = {".json"}
METERS = {".csv", ".parquet"}
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class Telemetry:
    """Everything read: engine and GPU samples (`samples`, labels per series), meter readings, and what was wrong."""

    samples: pd.DataFrame
    labels: dict[str, dict[str, str]]
    meters: pd.DataFrame
    findings: Findings
    files: list[str] = field(default_factory=list)

    def _times(self) -> np.ndarray:
        return np.concatenate([self.samples["t"].to_numpy(float), self.meters["t"].to_numpy(float)])

    @property
    def start(self) -> float | None:
        times = self._times()
        return float(times.min()) if times.size else None

    @property
    def end(self) -> float | None:
        times = self._times()
        return float(times.max()) if times.size else None


def telemetry_files(paths: list[Path], findings: Findings) -> list[Path]:
    """The files to read: each file given, and every known file under each folder given."""
    known = EXPOSITION | QUERY_RANGE | METERS
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in known))
        elif not p.exists():
            findings.error(p, None, "", "no such file or directory")
        elif p.suffix.lower() not in known:
            findings.error(p, None, "", f"unknown telemetry file type {p.suffix or '(none)'}; want "
                           f"{', '.join(sorted(EXPOSITION))} (exposition), .json (query_range) or .csv/.parquet (meters)")
        else:
            out.append(p)
    return out


def read_telemetry(paths: list[Path]) -> Telemetry:
    """Read every file; problems are collected in `findings`, never raised (the caller decides)."""
    findings = Findings()
    rows = SampleRows()
    meters = []
    files = telemetry_files(paths, findings)
    for f in files:
        suffix = f.suffix.lower()
        if f.stat().st_size > MAX_FILE_BYTES:
            findings.error(f, None, "", f"file is over {MAX_FILE_BYTES >> 20} MB")
        elif suffix in METERS:
            meters.append(read_meters(f, findings))
        else:
            try:
                text = f.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError) as exc:
                findings.error(f, None, "", f"cannot read as UTF-8 text: {exc}")
                continue
            (read_query_range if suffix in QUERY_RANGE else read_exposition)(f, text, rows, findings)
    samples = rows.table(findings)
    meter_table = pd.concat(meters, ignore_index=True) if meters else pd.DataFrame(columns=METER_COLUMNS)
    return Telemetry(samples, rows.labels, meter_table.sort_values("t", kind="stable").reset_index(drop=True), findings, [str(f) for f in files])
