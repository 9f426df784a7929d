"""What the telemetry commands share: read files and a mapping, stop on errors (exit 2), print notes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import InputError, err

if TYPE_CHECKING:
    from twin.spec import Spec
    from twin.telemetry.mapping import Mapping
    from twin.telemetry.read import Telemetry

MAPPING = typer.Option(None, "--mapping", help="YAML file saying which series belong to which deployment, hall or tenant.")
STRICT = typer.Option(False, "--strict", help="Treat every note (reset, gap, NaN, unknown metric, unmapped series) as an error: exit 2.")
STEP = typer.Option(3600.0, "--step-s", min=60.0, help="Seconds per time bin for rates and fits.")


def telemetry_inputs(files: list[Path], mapping_path: Path | None) -> list[Path]:
    """Every file a telemetry command reads (each file inside a folder given, and the mapping): never an output."""
    from twin.telemetry.findings import Findings
    from twin.telemetry.read import telemetry_files

    return [*telemetry_files(files, Findings()), *([mapping_path] if mapping_path is not None else [])]


def read_inputs(spec: Spec, files: list[Path], mapping_path: Path | None) -> tuple[Telemetry, Mapping | None]:
    """Telemetry and mapping, or exit 2 with every file problem listed (file:line: what: message)."""
    from twin.telemetry.mapping import load_mapping  # pandas: imported when a command reads telemetry
    from twin.telemetry.read import read_telemetry

    mapping = load_mapping(mapping_path, spec) if mapping_path is not None else None
    tm = read_telemetry(files)
    halls = {h.id for h in spec.halls}
    for r in tm.meters[~tm.meters["hall"].isin(halls | {""})].drop_duplicates(["file", "hall"]).itertuples():
        tm.findings.error(r.file, r.line, "hall", f"unknown hall {r.hall!r}; the spec has {', '.join(sorted(halls))} (leave it empty for the whole site)")
    tm.findings.raise_errors()
    if tm.samples.empty and tm.meters.empty:
        raise InputError(f"no telemetry samples or meter readings in {', '.join(map(str, files))}")
    return tm, mapping


def report_notes(tm: Telemetry, unmapped: list[tuple[str, str]], strict: bool) -> None:
    """Print the notes on stderr; with `strict`, notes and unmapped series are errors (exit 2)."""
    for sid, why in unmapped:
        tm.findings.note("<mapping>", None, sid, f"unmapped: {why}")
    if strict:
        tm.findings.raise_errors(strict=True)
    for line in tm.findings.note_lines():
        err.print(f"note: {line}", markup=False, highlight=False)
