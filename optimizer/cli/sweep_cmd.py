"""`aift sweep`: run every scenario of a grid file on Dask and keep each result in a runs folder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from optimizer.cli.output import InputError, err, out, print_json

EXIT_INTERRUPTED = 130


def sweep(
    grid: Path = typer.Argument(..., help="Grid file: base spec, job, and a grid, scenarios or a sample."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://HOST:PORT); default: a local cluster."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes of the local cluster; default: one per core."),
    out_dir: Path = typer.Option(Path("runs"), "--out", help="Runs folder (results store)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run again the scenarios stored as failed."),
    max_scenarios: int | None = typer.Option(None, "--max-scenarios", min=1,
                                              help="Refuse a grid of more scenarios than this [default: 10,000]."),
    as_json: bool = typer.Option(False, "--json", help="One JSON summary on stdout."),
) -> None:
    """Run a sweep; re-running the same grid resumes it, skipping every scenario already stored.

    Before anything is created: the grid is counted (refused above --max-scenarios, with an
    estimate of its time and disk), every override path is checked against the base spec,
    --out must be a runs folder or a new or empty one, and a --scheduler must answer.
    """
    from optimizer.scenarios import DEFAULT_MAX_SCENARIOS, load_sweep
    from optimizer.store import StoreError

    if scheduler and workers:
        raise InputError("--workers sizes a local cluster; with --scheduler the cluster has its own workers")
    plan = load_sweep(grid, DEFAULT_MAX_SCENARIOS if max_scenarios is None else max_scenarios)
    _check_runs_folder(out_dir)
    try:
        summary, failures = _run(plan, out_dir, scheduler, workers, retry_failed)
    except StoreError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        print_json(asdict(summary) | {"name": plan.name, "job": plan.job, "remaining": summary.remaining, "out": out_dir})
    else:
        _report(summary, plan.name, failures, out_dir)
    if summary.remaining:
        err.print(
            f"interrupted: {summary.scenarios - summary.remaining} of {summary.scenarios} scenarios are stored; "
            "run the same command again to resume.",
            style="yellow",
        )
        raise typer.Exit(EXIT_INTERRUPTED)


def _check_runs_folder(out_dir: Path) -> None:
    """--out must be a folder that is a runs folder already, or new, or empty: never a file, a
    device, or a folder of other things (`/proc/self`, a home folder)."""
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise InputError(f"--out {out_dir} is not a folder; give a runs folder (new, empty, or one a sweep wrote)")
        try:
            entries = {p.name for p in out_dir.iterdir()}
        except OSError as exc:
            raise InputError(f"--out {out_dir}: cannot list it ({exc.strerror or exc})") from None
        if entries and "index.sqlite" not in entries:
            raise InputError(f"--out {out_dir} holds other files and no results index; give a new or empty folder, or a runs folder")
    ancestor = out_dir.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"--out {out_dir}: {ancestor} is not a folder")


def _run(plan, out_dir: Path, scheduler: str | None, workers: int | None, retry_failed: bool):
    """Store the sweep, run what it does not hold yet; the summary and the stored failures.

    An existing cluster is connected first, so an address that does not answer leaves no
    runs folder and no sweep behind; a local cluster starts only when there is work.
    """
    from optimizer import sweep as engine
    from optimizer.store import Store

    try:
        with engine.dask_client(scheduler, None) if scheduler else nullcontext() as remote, Store(out_dir) as store:
            store.add_sweep(plan)
            todo = engine.pending(plan, store, retry_failed)
            if todo:
                with nullcontext(remote) if remote else engine.dask_client(None, workers) as client, _progress(len(todo), plan.name) as on_stored:
                    summary = engine.execute(plan, todo, store, client, on_stored)
            else:
                summary = engine.Summary(plan.id, len(plan.scenarios), len(plan.scenarios), 0, 0, 0.0, 0)
            failures = [r for r in store.runs(plan.id) if r["status"] == "failed"]
    except engine.SchedulerUnreachable as exc:
        raise InputError(str(exc)) from None
    return summary, failures


@contextmanager
def _progress(total: int, name: str) -> Iterator[Callable]:
    """A progress bar on stderr; yields the callback that advances it as each run is stored."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ok {task.fields[ok]} · failed {task.fields[failed]} · remaining {task.fields[remaining]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    counts: Counter[str] = Counter()
    with Progress(*columns, console=err) as bar:
        task = bar.add_task(escape(name), total=total, ok=0, failed=0, remaining=total)

        def on_stored(run) -> None:
            counts[run.outcome.status] += 1
            bar.update(task, advance=1, ok=counts["ok"], failed=counts["failed"], remaining=total - counts.total())

        yield on_stored


def _report(summary, name: str, failures: list[dict], out_dir: Path) -> None:
    s = summary
    where = f" on {s.workers} worker{'s' * (s.workers != 1)} in {s.elapsed_s:.1f} s" if s.workers else ""
    out.print(f"sweep [bold]{s.sweep_id}[/bold] ({escape(name)}): {s.scenarios} scenarios{where}", highlight=False)
    out.print(f"  {s.ok} ok, {s.failed} failed, {s.skipped} already stored, {s.remaining} remaining", highlight=False)
    if failures:
        first = failures[0]
        last_line = first["error"].strip().splitlines()[-1]
        out.print(f"  {len(failures)} failed in all; first: {first['scenario']}: {last_line}", markup=False, highlight=False)
    out.print(f"  aift runs list --sweep {s.sweep_id[:8]} --runs {out_dir}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add `aift sweep` to the app."""
    app.command()(sweep)
