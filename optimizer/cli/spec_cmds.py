"""`aift validate` and `aift schema`: check facility specs, publish their JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from optimizer.cli.output import EXIT_INPUT, FORCE, check_output, err, out, print_json, write_atomic


def validate(
    specs: list[Path] = typer.Argument(..., help="Facility spec YAML files."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Validate specs: every problem of every file, each as FILE:LINE:COL: field: message."""
    from twin.errors import SpecError
    from twin.loader import load_spec
    report = []
    for path in specs:
        try:
            spec = load_spec(path)
            if spec.site.climate.file is not None:  # the weather file is input too: read it as evaluate would
                from twin.evaluate import spec_weather  # pandas and pvlib: only for specs with a weather file

                spec_weather(spec)
        except SpecError as exc:
            report.append({"file": str(path), "ok": False, "problems": [str(i) for i in exc.issues]})
            continue
        racks = sum(d.racks for d in spec.deployments)
        gpus = sum(d.racks * (d.systems_per_rack or spec.cat.systems[d.system].systems_per_rack) * spec.cat.systems[d.system].gpus_per_system for d in spec.deployments)
        report.append({"file": str(path), "ok": True, "name": spec.name, "halls": len(spec.halls), "racks": racks, "gpus": gpus})
    if as_json:
        print_json(report)
    else:
        for r in report:
            if r["ok"]:
                out.print(f"[green]ok[/green]   {escape(r['file'])}: {escape(r['name'])} ({r['halls']} halls, {r['racks']:,} racks, {r['gpus']:,} GPUs)")
            else:
                for p in r["problems"]:
                    err.print(p, markup=False, highlight=False)
                err.print(f"[red]fail[/red] {escape(r['file'])}: {len(r['problems'])} problem(s)")
    if not all(r["ok"] for r in report):
        raise typer.Exit(EXIT_INPUT)


def schema(
    out_file: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    force: bool = FORCE,
) -> None:
    """Print the JSON Schema of the facility spec, for editors to validate and autocomplete."""
    from twin.schema import spec_json_schema
    text = json.dumps(spec_json_schema(), indent=2) + "\n"
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        check_output("--out", out_file, [], force=force)
        write_atomic(out_file, text)


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
