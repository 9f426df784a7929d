"""`aift runs`: list, show, compare and export stored runs, and rank what moves a KPI."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from optimizer.cli.output import FORCE, InputError, check_output, out, print_json, table, write_atomic

runs_app = typer.Typer(help="Results of sweeps: list, show, compare, export, sensitivity.", no_args_is_help=True)

RUNS_DIR = typer.Option(Path("runs"), "--runs", help="Runs folder (results store) written by `aift sweep --out`.")
AS_JSON = typer.Option(False, "--json", help="One JSON document on stdout.")


class ExportFormat(StrEnum):
    """File formats of `aift runs export`."""

    csv = "csv"
    parquet = "parquet"


@contextmanager
def _store(root: Path) -> Iterator:
    """The store in `root`, read-only; a missing or damaged store or an unknown id is bad input (exit 2)."""
    from optimizer.store import Store, StoreError, UnknownId

    if not (root / "index.sqlite").exists():
        raise InputError(f"no results store in {root}; run `aift sweep` first or pass --runs DIR")
    try:
        with Store(root, read_only=True) as store:
            yield store
    except (UnknownId, StoreError) as exc:
        raise InputError(str(exc)) from None


@runs_app.command("list")
def list_runs(
    sweep: str | None = typer.Option(None, "--sweep", help="Only the runs of this sweep (id or id prefix)."),
    runs: Path = RUNS_DIR,
    as_json: bool = AS_JSON,
) -> None:
    """List sweeps and their runs."""
    with _store(runs) as store:
        sweeps, rows = store.sweeps(sweep), store.runs(sweep)
    if as_json:
        print_json({"sweeps": sweeps, "runs": rows})
        return
    out.print(table("Sweeps", ["id", "name", "job", "mode", "scenarios", "ok", "failed", "created"],
                    [[s["id"], s["name"], s["job"], s["mode"], s["scenarios"], s["ok"], s["failed"], s["created"]] for s in sweeps]))
    out.print(table("Runs", ["id", "sweep", "scenario", "job", "status", "stored", "seconds"],
                    [[r["id"], r["sweep_id"], r["scenario"], r["job"], r["status"], r["time"], r["duration_s"]] for r in rows]))


@runs_app.command()
def show(run_id: str = typer.Argument(..., help="Run id or id prefix."), runs: Path = RUNS_DIR, as_json: bool = AS_JSON) -> None:
    """Show one run: its scenario, KPIs, series and error (a run whose series are gone still shows its KPIs)."""
    from optimizer.store import SeriesUnavailable

    series_error = None
    with _store(runs) as store:
        run = store.run(run_id)
        try:
            series = {name: {"rows": len(f), "columns": list(f.columns)} for name, f in store.series(run).items()}
        except SeriesUnavailable as exc:
            series, series_error = {}, str(exc)
    if as_json:
        print_json(run | {"series": series} | ({"series_error": series_error} if series_error else {}))
        return
    out.print(f"run [bold]{escape(run['id'])}[/bold]  {escape(run['scenario'])}  [{'green' if run['status'] == 'ok' else 'red'}]{run['status']}[/]")
    seconds = f"{run['duration_s']:.3f} s" if isinstance(run["duration_s"], int | float) else "? s"
    out.print(escape(f"  sweep {run['sweep_id']} · job {run['job']} · seed {run['seed']} · spec {run['spec_hash']} · "
                     f"stored {run['time']} · {seconds}"), highlight=False)
    if run["parameters"]:
        out.print(table("Parameters", ["path", "value"], [[p, v] for p, v in run["parameters"].items()]))
    if run["kpis"]:
        out.print(table("KPIs", ["kpi", "value"], [[k, v] for k, v in run["kpis"].items()]))
    if series:
        out.print(table("Series", ["name", "rows", "columns"], [[n, s["rows"], ", ".join(s["columns"])] for n, s in series.items()]))
    if series_error:
        out.print(f"[yellow]series:[/yellow] {escape(series_error)}", highlight=False)
    if run["plan_yaml"]:
        out.print(f"plan: {len(run['plan_yaml'].splitlines())} lines of facility YAML (--json to get it)")
    if run["error"]:
        out.print("[red]error:[/red]")
        out.print(run["error"], markup=False, highlight=False)


@runs_app.command()
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids (or prefixes); the first is the reference."),
    runs: Path = RUNS_DIR,
    as_json: bool = AS_JSON,
) -> None:
    """Compare runs: parameters that differ, and each KPI's difference from the first run."""
    from optimizer.compare import compare_runs
    if len(run_ids) < 2:
        raise InputError("compare needs at least two run ids")
    with _store(runs) as store:
        c = compare_runs([store.run(i) for i in run_ids])
    if as_json:
        print_json(c.to_json())
        return
    short = [i[:8] for i in c.ids]
    if c.parameters:
        out.print(table("Parameters that differ", ["path", *short], [[p, *v] for p, v in c.parameters.items()]))
    columns = ["kpi", short[0]] + [col for s in short[1:] for col in (s, "Δ", "Δ%")]
    body = []
    for k, v in c.kpis.items():
        cells = [k, v[0]]
        for x, d, rel in zip(v[1:], c.delta(k), c.relative(k), strict=True):
            cells += [x, d, "-" if rel is None else f"{rel:+.1%}"]
        body.append(cells)
    out.print(table(f"KPIs against {short[0]}", columns, body))


@runs_app.command()
def export(
    fmt: ExportFormat = typer.Option(..., "--format", help="csv or parquet."),
    out_file: Path | None = typer.Option(None, "--out", help="File to write (never inside the runs folder); default: runs-export.FORMAT here."),
    sweep: str | None = typer.Option(None, "--sweep", help="Only the runs of this sweep."),
    runs: Path = RUNS_DIR,
    force: bool = FORCE,
) -> None:
    """Export runs as one flat table: run fields, param.<path> and kpi.<name> columns.

    The file is checked before the store is read, as every output is: never a file of the
    store, never an existing file without --force.
    """
    target = out_file or Path(f"runs-export.{fmt.value}")
    check_output("--out", target, [], force=force)
    if _is_within(target, runs):
        raise InputError(f"--out {target} is inside the runs folder {runs}; the store's files are never written over, write the export elsewhere")
    with _store(runs) as store:
        frame = store.frame(sweep)
    if fmt is ExportFormat.csv:
        data = frame.to_csv(index=False).encode()
    else:
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
    write_atomic(target, data)
    out.print(f"wrote {len(frame)} runs to {target}", markup=False, highlight=False)


def _is_within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies under it, symlinks resolved."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


@runs_app.command()
def sensitivity(
    sweep_id: str = typer.Argument(..., help="Sweep id or id prefix."),
    kpi: str = typer.Option("cost_per_million_tokens_usd", "--kpi", help="KPI to explain."),
    runs: Path = RUNS_DIR,
    as_json: bool = AS_JSON,
) -> None:
    """Tornado table: how far each varied parameter moves a KPI, largest swing first.

    A parameter's swing is read with the other parameters held at their base (or median)
    values when the sweep has such runs, else averaged over them (its main effect).
    """
    from optimizer.sensitivity import tornado
    from twin.validation import suggest

    with _store(runs) as store:
        info = store.sweeps(sweep_id)[0]
        frame = store.frame(sweep_id)
    available = sorted(c.removeprefix("kpi.") for c in frame.columns if c.startswith("kpi."))
    if kpi not in available:
        raise InputError(f"no KPI {kpi!r} in sweep {info['id']}; it has: {', '.join(available) or 'no successful runs'}" + suggest(kpi, available))
    swings = tornado(frame, kpi, info["base_values"])
    if as_json:
        print_json({"sweep": info["id"], "kpi": kpi, "swings": [vars(s) | {"swing": s.swing} for s in swings]})
        return
    widest = max((s.swing for s in swings), default=0.0) or 1.0
    rows = [[s.parameter, s.levels, s.low, s.low_at, s.high, s.high_at, s.swing, "█" * round(24 * s.swing / widest), s.method] for s in swings]
    out.print(table(f"Sensitivity of {kpi} in sweep {info['id']} ({info['name']})",
                    ["parameter", "levels", "low", "at", "high", "at", "swing", "", "method"], rows))


@runs_app.command()
def repair(runs: Path = RUNS_DIR) -> None:
    """Rebuild a damaged index from the rows it still reads and the runs' series files.

    The damaged index is kept beside the new one (index.sqlite.damaged-TIME); a sound index
    is left alone. Runs that are still missing are computed again by re-running their sweep.
    """
    from optimizer.store import StoreError
    from optimizer.store_repair import repair as rebuild

    try:
        report = rebuild(runs)
    except (StoreError, OSError) as exc:
        raise InputError(str(exc)) from None
    if report.problem is None:
        out.print(f"the index of {escape(str(runs))} is sound; nothing to repair", highlight=False)
        return
    out.print(f"found: {escape(report.problem)}", highlight=False)
    out.print(f"rebuilt {runs}/index.sqlite: {report.runs} runs ({report.from_index} from the old index, {report.from_series} "
              f"from series files) in {report.sweeps} sweeps", markup=False, highlight=False)
    if report.kept_as:
        out.print(f"the damaged index is kept as {report.kept_as}", markup=False, highlight=False)
    if report.unreadable:
        out.print(f"{len(report.unreadable)} series files could not be read: {', '.join(report.unreadable[:10])}"
                  + (" ..." if len(report.unreadable) > 10 else ""), markup=False, highlight=False)
    out.print("re-run a sweep with the same grid file to compute the runs that are still missing", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `aift runs ...` to the app."""
    app.add_typer(runs_app, name="runs")
