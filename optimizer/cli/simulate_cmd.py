"""`aift simulate`: seeded years of failures, repairs and events (Monte Carlo), and request-level serving."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from optimizer.cli.evaluate_cmd import KPI_LABELS
from optimizer.cli.output import FORCE, InputError, check_output, err, out, print_json, spec_inputs, table, write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from twin.sim.latency import StreamServing
    from twin.sim.montecarlo import MonteCarlo

SIM_LABELS = KPI_LABELS | {
    "capacity_online": "capacity online (GPU systems up)",
    "tokens_lost_beyond_capacity": "tokens beyond installed capacity",
    "tokens_lost_to_shedding": "tokens given up to grid events",
}
SERVING_COLUMNS = {
    "system": "system", "model": "model", "rate_per_s": "req/s", "ttft_s_p50": "TTFT p50", "ttft_s_p99": "TTFT p99",
    "tpot_s_p50": "TPOT p50", "tpot_s_p99": "TPOT p99", "e2e_s_p99": "e2e p99",
    "throughput_tokens_per_s": "tok/s", "goodput_tokens_per_s": "goodput tok/s", "sla_share": "met SLA",
    "queue_mean": "queue mean", "max_rate_meeting_sla_per_s": "max req/s at SLA",
}


# Bounds that keep a run in memory: a serving run plays at least FILLS x replicas x batch requests.
MAX_REQUESTS, MAX_REPLICAS, MAX_BATCH = 1_000_000, 256, 4096
MAX_REPLICATIONS = 10_000  # simulated years; the bands settle long before
OUT_FILES = ("series.parquet", "events.parquet", "serving_requests.parquet", "serving_queue.parquet", "simulate.json")


def simulate(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    seed: int = typer.Option(0, "--seed", help="Seed of every random stream."),
    replications: int = typer.Option(10, "--replications", help="Simulated years (Monte Carlo)."),
    workers: int = typer.Option(1, "--workers", help="Processes for the replications (same result for any number)."),
    crews: int | None = typer.Option(None, "--crews", help="Facility repair crews; default ample."),
    repair: str = typer.Option("exponential", "--repair", help="Repair-time distribution: exponential or lognormal."),
    spikes: float = typer.Option(0.0, "--spikes-per-year", help="Demand spikes per year."),
    grid_events: float = typer.Option(0.0, "--grid-events-per-year", help="Grid flexibility events per year."),
    shed_mw: float = typer.Option(0.0, "--shed-mw", help="MW each grid event asks the site to shed."),
    shed_policy: str = typer.Option("proportional", "--shed-policy", help="proportional or lowest-value-first."),
    serving: bool = typer.Option(False, "--serving", help="Also simulate requests through replicas: latencies and the highest rate at SLA."),
    arrivals: str = typer.Option("poisson", "--arrivals", help="Serving traffic: poisson, bursty or agentic."),
    requests: int = typer.Option(5000, "--requests", help="Requests per serving run (at least ten batches' worth)."),
    replicas: int = typer.Option(2, "--replicas", help="Replicas behind the router in the serving runs."),
    max_batch: int | None = typer.Option(None, "--max-batch", help="Sequences per replica; default: the operating point's batch."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    out_dir: Path | None = typer.Option(None, "--out", help="Write the hourly series and event log (of the first 20 replications) and serving runs as Parquet here."),
    force: bool = FORCE,
) -> None:
    """KPIs of simulated years with 5/50/95 % bands, as `aift evaluate` reports them; serving latencies with --serving."""
    from twin.loader import load_spec
    from twin.perf import PerfError
    from twin.sim.latency import FILLS, serve_streams
    from twin.sim.montecarlo import monte_carlo
    from twin.sim.options import SimOptions
    from twin.sim.serving import ServingOptions
    from twin.weather import HOURS
    bounds = {"--seed": (seed, 0, None), "--replications": (replications, 1, MAX_REPLICATIONS), "--workers": (workers, 1, None),
              "--crews": (crews, 1, None), "--spikes-per-year": (spikes, 0, HOURS), "--grid-events-per-year": (grid_events, 0, HOURS),
              "--shed-mw": (shed_mw, 0, None), "--requests": (requests, 100, MAX_REQUESTS), "--replicas": (replicas, 1, MAX_REPLICAS),
              "--max-batch": (max_batch, 1, MAX_BATCH)}
    for flag, (value, least, most) in bounds.items():  # checked here: this typer's range errors escape run_guarded
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{flag} must be a finite number; got {value}")
        if value < least:
            raise InputError(f"{flag} must be at least {least}; got {value}")
        if most is not None and value > most:
            raise InputError(f"{flag} must be at most {most:,}" + (" (one an hour)" if most == HOURS else "") + f"; got {value:g}")
    if serving and max_batch is not None and FILLS * replicas * max_batch > MAX_REQUESTS:
        raise InputError(f"--replicas {replicas} x --max-batch {max_batch} needs {FILLS * replicas * max_batch:,} requests per run; "
                         f"the limit is {MAX_REQUESTS:,}")
    spec = load_spec(spec_path)
    if out_dir is not None:
        check_output("--out", out_dir, spec_inputs(spec), files=OUT_FILES, force=force)
    try:
        options = SimOptions(crews=crews, repair=repair, spike_rate_per_year=spikes, grid_event_rate_per_year=grid_events,
                             grid_shed_mw=shed_mw, shed_policy=shed_policy)
        serving_options = ServingOptions(arrivals=arrivals, requests=requests, replicas=replicas, max_batch=max_batch)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    try:
        with _progress(replications) as tick:
            mc = monte_carlo(spec, seed, replications, options, workers=workers, keep_series=out_dir is not None, progress=tick)
        served = serve_streams(spec, serving_options, seed) if serving else []
    except PerfError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    if out_dir is not None:
        _write(out_dir, spec_path, mc, served)
    if as_json:
        print_json(mc.to_json() | {"serving": [s.summary for s in served]})
        return
    _print(mc, served)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int, int], None]]:
    """Simulated years so far, on stderr (a year at the highest failure rates takes seconds)."""
    with Progress(TextColumn("simulated years"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("years", total=total)
        yield lambda done, _: bar.update(task, completed=done)


def _write(out_dir: Path, spec_path: Path, mc: MonteCarlo, served: list[StreamServing]) -> None:
    """Parquet files, each written atomically; none may land on the spec."""
    import pandas as pd
    files = {"series.parquet": mc.hourly, "events.parquet": mc.events}
    if served:
        files["serving_requests.parquet"] = pd.concat([_requests(s) for s in served], ignore_index=True)
        files["serving_queue.parquet"] = pd.concat([_queue(s) for s in served], ignore_index=True)
    for name, df in files.items():
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        write_atomic(out_dir / name, buf.getvalue())
    write_atomic(out_dir / "simulate.json", json.dumps(mc.to_json() | {"serving": [s.summary for s in served]}, indent=2) + "\n")


def _requests(s: StreamServing) -> pd.DataFrame:
    import pandas as pd
    r = s.run
    return pd.DataFrame({"system": s.summary["system"], "model": s.summary["model"], "arrival_s": r.arrival, "admitted_s": r.admitted,
                         "first_token_s": r.first_token, "finished_s": r.finished, "output_tokens": r.tokens, "session": r.session})


def _queue(s: StreamServing) -> pd.DataFrame:
    import pandas as pd
    return pd.DataFrame({"system": s.summary["system"], "model": s.summary["model"], "time_s": s.run.queue_times_s, "queued": s.run.queue_depth})


def _print(mc: MonteCarlo, served: list[StreamServing]) -> None:
    rows = [[label, mc.kpis[k], mc.bands[k]["p5"], mc.bands[k]["p50"], mc.bands[k]["p95"]] for k, label in SIM_LABELS.items()]
    out.print(table(f"KPIs over {mc.replications} simulated year(s), seed {mc.seed}", ["figure", "mean", "p5", "p50", "p95"], rows))
    if served:
        rows = [[s.summary.get(k) for k in SERVING_COLUMNS] for s in served]
        out.print(table("Serving at the peak demand level (latencies in s)", list(SERVING_COLUMNS.values()), rows))


def register(app: typer.Typer) -> None:
    app.command()(simulate)
