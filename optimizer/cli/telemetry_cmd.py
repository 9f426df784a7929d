"""`aift telemetry check|synth|fetch`: read and map telemetry, write synthetic telemetry, save a live query_range answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from optimizer.cli.output import FORCE, InputError, check_output, out, print_json, spec_inputs, table, write_atomic
from optimizer.cli.telemetry_input import MAPPING, STEP, STRICT, read_inputs, report_notes

app = typer.Typer(help="Read, map, synthesize and fetch telemetry (Prometheus scrapes, query_range answers, meter tables).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.command("check")
def check(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    telemetry: list[Path] = typer.Argument(..., help="Telemetry files or folders.", metavar="TELEMETRY..."),
    mapping: Path | None = MAPPING,
    step_s: float = STEP,
    strict: bool = STRICT,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Read telemetry, report every problem with its file and line, and show what maps to which deployment."""
    import pandas as pd  # pandas: imported when the command runs

    from twin.deployments import deployment_keys
    from twin.loader import load_spec
    from twin.telemetry.mapping import Mapper
    from twin.telemetry.measured import measure

    spec = load_spec(spec_path)
    tm, mp = read_inputs(spec, telemetry, mapping)
    m = measure(spec, tm, Mapper(spec, mp), step_s)
    report_notes(tm, m.unmapped, strict)
    keys = deployment_keys(spec)
    counts = tm.samples.groupby("role")["series"].nunique().to_dict()
    rows = [[key, int(pd.notna(m.tokens[k]).sum()), m.gpus_seen[k], int(pd.notna(m.util[k]).sum())] for k, key in enumerate(keys)]
    summary = {"files": tm.files, "samples": len(tm.samples), "meter_rows": len(tm.meters), "series_by_role": counts,
               "start": tm.start, "end": tm.end, "deployments": [dict(zip(["deployment", "token_bins", "gpus_scraped", "util_bins"], r, strict=True)) for r in rows],
               "unmapped": [{"series": s, "why": w} for s, w in m.unmapped], "notes": tm.findings.note_lines()}
    if as_json:
        print_json(summary)
        return
    span = " to ".join(datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%d %H:%M") for x in (tm.start, tm.end)) if tm.start is not None else "-"
    out.print(f"{len(tm.files)} file(s), {len(tm.samples):,} samples, {len(tm.meters):,} meter rows, {span} UTC")
    out.print(table("Series by role", ["role", "series"], [[k, int(v)] for k, v in sorted(counts.items())]))
    out.print(table("Per deployment", ["deployment", "bins with tokens/s", "GPUs scraped", "bins with GPU util"], rows))
    if m.unmapped:
        out.print(f"{len(m.unmapped)} series unmapped (listed in the notes above).")


@app.command("synth")
def synth(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the scrape files, meters.csv and mapping.yaml into."),
    days: float = typer.Option(7.0, "--days", min=0.1, max=60.0, help="Simulated period."),
    interval_s: float = typer.Option(900.0, "--interval-s", min=10.0, help="Seconds between scrapes (and meter readings)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise."),
    start: str = typer.Option("2026-06-01T00:00:00Z", "--start", help="First scrape time, ISO 8601."),
    hall: str | None = typer.Option(None, "--fault-hall", help="Hall whose throughput is cut; default the last."),
    hall_throughput: float = typer.Option(0.85, "--fault-throughput", min=0.05, max=5.0, help="That hall's measured over predicted tokens/s."),
    deployment: str | None = typer.Option(None, "--fault-deployment", help="Deployment (HALL/SYSTEM) whose power is off; default the first."),
    deployment_power: float = typer.Option(1.10, "--fault-power", min=0.05, max=5.0, help="Its measured over predicted power."),
    pue_offset: float = typer.Option(0.05, "--fault-pue", min=-0.5, max=2.0, help="Measured minus predicted PUE."),
    fault_day: float = typer.Option(1.0, "--fault-day", min=0.0, help="Day the throughput and power faults begin."),
    force: bool = FORCE,
) -> None:
    """Write synthetic telemetry of the spec (DCGM and vLLM scrapes, site meters, a mapping) with injected faults."""
    import pandas as pd  # pandas: imported when the command runs

    from twin.deployments import deployment_keys
    from twin.loader import load_spec
    from twin.telemetry.synth import GPUS_SCRAPED, Faults, SynthOptions, synthesize

    spec = load_spec(spec_path)
    keys = deployment_keys(spec)
    if not keys:
        raise InputError(f"{spec_path}: the spec has no deployments: there is no GPU or engine to synthesize telemetry of")
    if hall is not None and hall not in {h.id for h in spec.halls}:
        raise InputError(f"--fault-hall: no hall {hall!r} in {spec_path}")
    if deployment is not None and deployment not in keys:
        raise InputError(f"--fault-deployment: no deployment {deployment!r}; the spec has {', '.join(keys)}")
    try:
        pd.Timestamp(start)
    except ValueError:
        raise InputError(f"--start: {start!r} is not an ISO 8601 time") from None
    _unix(start, "--start")  # within the telemetry clock
    names = [*(f"{p}-{k.replace('/', '-')}.prom" for k in keys for p in ("dcgm", "vllm")), "meters.csv", "mapping.yaml"]
    check_output("--out", out_dir, spec_inputs(spec), files=names, force=force)
    written = synthesize(spec, out_dir, SynthOptions(days=days, interval_s=interval_s, seed=seed, start=start),
                         Faults(hall, hall_throughput, deployment, deployment_power, pue_offset, fault_day))
    out.print(f"Wrote {len(written)} files to {out_dir} ({GPUS_SCRAPED} GPUs per deployment scraped; faults from day {fault_day:g}).")
    out.print(f"Next: aift calibrate {spec_path} {out_dir} --mapping {out_dir / 'mapping.yaml'} --out calibrated.yaml")


@app.command("fetch")
def fetch(
    url: str = typer.Argument(..., help="Prometheus server, e.g. http://prometheus:9090"),
    query: str = typer.Option(..., "--query", help="PromQL selecting series (keep __name__: e.g. '{__name__=~\"vllm:.*|DCGM_FI_DEV_.*\"}')."),
    start: str = typer.Option(..., "--start", help="ISO 8601 or Unix seconds."),
    end: str = typer.Option(..., "--end", help="ISO 8601 or Unix seconds."),
    step_s: float = typer.Option(60.0, "--step-s", min=1.0, help="Resolution, seconds."),
    timeout_s: float = typer.Option(30.0, "--timeout-s", min=1.0, help="Give up after this many seconds."),
    out_file: Path = typer.Option(..., "--out", help="Write the query_range JSON answer here (read it with calibrate or check)."),
    force: bool = FORCE,
) -> None:
    """Save a live Prometheus query_range answer as a file the other commands read."""
    from twin.telemetry.promjson import FetchError, fetch_query_range  # pandas: imported when the command runs

    check_output("--out", out_file, [], force=force)
    t0, t1 = _unix(start, "--start"), _unix(end, "--end")
    if t1 <= t0:
        raise InputError("--end must be after --start")
    try:
        text = fetch_query_range(url, query, t0, t1, step_s, timeout_s)
    except FetchError as exc:
        raise InputError(str(exc)) from None
    write_atomic(out_file, text)
    out.print(f"Wrote {out_file} ({len(text):,} bytes)")


def _unix(text: str, flag: str) -> float:
    """Unix seconds of `text` (a number or ISO 8601), a time from 1970 to 2200."""
    import pandas as pd

    from twin.telemetry.samples import CLOCK_RANGE, off_clock

    try:
        t = float(text)
    except ValueError:
        try:
            stamp = pd.Timestamp(text)
            t = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()
        except ValueError:
            raise InputError(f"{flag}: {text!r} is neither Unix seconds nor an ISO 8601 time") from None
    if off_clock(t).any():
        raise InputError(f"{flag}: {text!r} is {CLOCK_RANGE}")
    return t


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="telemetry")
