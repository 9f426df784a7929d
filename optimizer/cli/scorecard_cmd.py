"""`aift scorecard`: one report on a factory, as HTML (with plots) or Markdown."""

from __future__ import annotations

from pathlib import Path

import typer

from optimizer.cli.output import FORCE, InputError, check_output, out, spec_inputs, write_atomic
from optimizer.cli.telemetry_input import MAPPING, STEP, read_inputs, report_notes, telemetry_inputs


def scorecard_cmd(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    out_file: Path = typer.Option(..., "--out", help="REPORT.html (self-contained, with plots) or REPORT.md."),
    telemetry: list[Path] | None = typer.Option(None, "--telemetry", help="Telemetry files or folders (repeat the flag): calibrate first, compare measured with the twin."),
    mapping: Path | None = MAPPING,
    step_s: float = STEP,
    plan: bool = typer.Option(True, "--plan/--no-plan", help="Run the planner for the scaling path (up to 30 s)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the failure simulation."),
    force: bool = FORCE,
) -> None:
    """Expected cost per token, utilization plan, measured against the twin, failure modes, scaling path, cost allocation."""
    # Imported here: the scorecard formats numbers with optimizer.cli.output, which loads every command.
    from optimizer.scorecard.data import build_scorecard
    from optimizer.scorecard.render import render_html, render_markdown
    from twin.loader import load_spec
    from twin.perf import PerfError

    suffix = out_file.suffix.lower()
    if suffix not in (".html", ".md"):
        raise InputError(f"--out {out_file}: want a .html or .md file")
    spec = load_spec(spec_path)
    if not spec.deployments:
        raise InputError(f"{spec_path}: the spec has no deployments: a scorecard reports on racks that serve tokens")
    check_output("--out", out_file, [*spec_inputs(spec), *telemetry_inputs(telemetry or [], mapping)], force=force)
    tm = mp = None
    if telemetry:
        tm, mp = read_inputs(spec, telemetry, mapping)
    try:
        sc = build_scorecard(spec, str(spec_path), tm, mp, step_s, plan, seed)
    except PerfError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    if tm is not None:
        report_notes(tm, sc.calibration.measured.unmapped, strict=False)
    write_atomic(out_file, render_html(sc) if suffix == ".html" else render_markdown(sc))
    out.print(f"Wrote {out_file}")


def register(app: typer.Typer) -> None:
    app.command("scorecard")(scorecard_cmd)
