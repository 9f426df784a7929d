"""`aift calibrate`: fit the twin to telemetry and write the correction factors as an overlay."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import FORCE, InputError, check_output, out, print_json, spec_inputs, table, write_atomic
from optimizer.cli.telemetry_input import MAPPING, STEP, STRICT, read_inputs, report_notes, telemetry_inputs

if TYPE_CHECKING:
    from twin.telemetry.calibrate import CalibrationResult


def calibrate_cmd(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    telemetry: list[Path] = typer.Argument(..., help="Scrape files (.prom, .txt, .om), query_range answers (.json), meter tables (.csv, .parquet) or folders of them.",
                                           metavar="TELEMETRY..."),
    out_file: Path = typer.Option(..., "--out", help="Write the calibration overlay YAML here (use it with `evaluate --calibration`)."),
    mapping: Path | None = MAPPING,
    step_s: float = STEP,
    series: Path | None = typer.Option(None, "--series", help="Also write measured against predicted, per bin, to this CSV."),
    strict: bool = STRICT,
    force: bool = FORCE,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Per deployment, measured tokens/s and power against the twin at the same load; PUE at the same weather. Writes the fitted factors."""
    from twin.loader import load_spec  # the fit (pandas, scipy): imported when the command runs
    from twin.telemetry.apply import calibration_yaml
    from twin.telemetry.calibrate import calibrate

    spec = load_spec(spec_path)
    inputs = [*spec_inputs(spec), *telemetry_inputs(telemetry, mapping)]
    check_output("--out", out_file, inputs, force=force)
    if series is not None:
        if series.resolve() == out_file.resolve():
            raise InputError(f"--series {series} is the --out file too; give each its own file")
        check_output("--series", series, inputs, force=force)
    tm, mp = read_inputs(spec, telemetry, mapping)
    result = calibrate(spec, tm, mp, step_s)
    report_notes(tm, result.measured.unmapped, strict)
    header = f"Calibration of {spec.name} ({spec_path}), written by aift calibrate.\nApply it: aift evaluate {spec_path} --calibration {out_file}"
    write_atomic(out_file, calibration_yaml(result.calibration, header))
    if series is not None:
        write_atomic(series, result.series.to_csv(index=False))
    if as_json:
        print_json(_json(result, out_file))
    else:
        _print(result, out_file)


def _json(r: CalibrationResult, out_file: Path) -> dict:
    m = r.measured
    return {"calibration": r.calibration.model_dump(mode="json"), "fits": r.fits, "drift": r.drift, "out": str(out_file),
            "unmapped": [{"series": s, "why": w} for s, w in m.unmapped], "engine": m.engine, "gpu_health": m.gpu_health,
            "tenant_output_tokens": m.tenant_tokens}


def _print(r: CalibrationResult, out_file: Path) -> None:
    rows = [[f["deployment"], f["quantity"], f["value"], f["se"], f["bins"], f["since"] or "-"] for f in r.fits]
    out.print(table("Fitted factors (measured / twin at the same load; PUE: measured - twin)", ["deployment", "quantity", "value", "std error", "bins", "since"], rows))
    if r.measured.engine:
        cols = ["model", "ttft_p50_s", "ttft_p95_s", "tpot_p50_s", "tpot_p95_s", "kv_cache_usage", "requests_waiting", "prefix_cache_hit_rate", "error_rate"]
        out.print(table("Measured serving KPIs", cols, [[e.get(c) for c in cols] for e in r.measured.engine]))
    out.print("Drift report:" if r.drift else "Drift report: everything within 2 % of the twin.")
    for line in r.drift:
        out.print(f"  - {line}", markup=False, highlight=False)
    if r.measured.unmapped:
        out.print(f"{len(r.measured.unmapped)} series unmapped (see the notes above; add rules with --mapping).")
    out.print(f"Wrote {out_file}")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_cmd)
