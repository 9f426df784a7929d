"""`aift serve`: one serving experiment (no simulated year, no rate search): traffic through a fleet of replicas."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import FORCE, InputError, check_output, out, print_json, spec_inputs, table, write_atomic

if TYPE_CHECKING:
    from twin.serve.experiment import Experiment, Outcome

MAX_REPLICAS = 1024
ARRIVALS = ("poisson", "bursty", "agentic")
ROUTERS = ("round-robin", "least-loaded", "kv-aware")
LATENCIES = (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("e2e_s", "end-to-end"))
FIGURES = {
    "rate_per_s": "arrival rate (req/s)", "capacity_tokens_per_s": "fleet capacity at the operating points (tok/s)",
    "throughput_tokens_per_s": "throughput (tok/s)", "goodput_tokens_per_s": "goodput: tokens of requests meeting the SLA (tok/s)",
    "sla_attainment": "share of requests meeting the SLA", "queue_mean": "queue depth, time mean",
    "queue_max": "queue depth, max", "queue_at_end": "queue depth when the run ends", "kv_used_share_mean": "KV cache in use, time mean",
    "kv_used_share_peak": "KV cache in use, peak", "busy_share_mean": "replicas busy (share of time stepping)", "kv_cached_share_mean": "KV cache holding prefixes, time mean",
    "prefix_hit_rate": "prefix-cache hits (share of prompt tokens)", "preemptions": "preemptions",
    "requests": "requests", "finished": "finished", "unfinished": "unfinished when the run ended",
    "unfinished_waiting": "  of which never admitted", "unfinished_running": "  of which admitted, not done",
    "unfinished_not_arrived": "  of which turns never sent (session stuck)", "rejected_too_long": "  of which too long for KV memory",
    "end_s": "simulated time (s)", "wall_s": "wall time (s)", "requests_per_wall_s": "simulated requests per wall-second",
}


def _replicas(text: str) -> int | dict[str, int]:
    """`N` (of each system serving the model) or `SYSTEM=N,SYSTEM=N`."""
    try:
        if "=" not in text:
            n = int(text)
            if n < 1:
                raise ValueError
            return n
        pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
        counts = {k.strip(): int(v) for k, v in pairs}
        if not counts or "" in counts or any(v < 0 for v in counts.values()) or sum(counts.values()) < 1:
            raise ValueError
        return counts
    except ValueError:
        raise InputError(f"--replicas {text!r}: give a count of at least 1, or SYSTEM=N,SYSTEM=N (e.g. hgx-h100=4,gb200-nvl72=1)") from None


POSITIVE = "positive"  # a lower bound that excludes itself: any number above 0


def _check(bounds: dict) -> None:
    """Each flag's (value, least, most); `least` is a number (inclusive) or POSITIVE."""
    for flag, (value, least, most) in bounds.items():
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{flag} must be a finite number; got {value}")
        if (value <= 0) if least == POSITIVE else (value < least):
            raise InputError(f"{flag} must be {'positive' if least == POSITIVE else f'at least {least}'}; got {value}")
        if most is not None and value > most:
            raise InputError(f"{flag} must be at most {most:,}; got {value:g}")


def serve(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    model: str | None = typer.Option(None, "--model", help="Workload model to serve; default the first."),
    trace: Path | None = typer.Option(None, "--trace", help="Replay a CSV/Parquet trace (Azure LLM trace columns, or arrival_s/input_tokens/output_tokens)."),
    arrivals: str | None = typer.Option(None, "--arrivals", help="Generated traffic: poisson (default), bursty or agentic (sessions)."),
    rate: float | None = typer.Option(None, "--rate", help="Requests/s (any value, overload included)."),
    load: float | None = typer.Option(None, "--load", help="Share of the fleet's capacity (any positive number); default the spec's demand level."),
    duration: float | None = typer.Option(None, "--duration", help="Seconds of arrivals."),
    requests: int | None = typer.Option(None, "--requests", help="Requests to send (default 20,000, or the whole trace)."),
    router: str = typer.Option("least-loaded", "--router", help="round-robin, least-loaded or kv-aware (prefix affinity)."),
    replicas: str = typer.Option("2", "--replicas", help="Replicas of each system serving the model, or SYSTEM=N,SYSTEM=N."),
    disaggregated: bool | None = typer.Option(None, "--disaggregated/--aggregated", help="Separate prefill and decode pools; default as the operating point chose (serving: auto picks the better)."),
    prefill_replicas: int | None = typer.Option(None, "--prefill-replicas", help="Prefill replicas per system; default from the operating point."),
    max_batch: int | None = typer.Option(None, "--max-batch", help="Sequences a replica runs at once; default the operating point's batch."),
    token_budget: int | None = typer.Option(None, "--token-budget", help="Tokens per step (decode + prefill chunks)."),
    preemption: str = typer.Option("recompute", "--preemption", help="recompute or swap, when KV memory runs out."),
    lengths: str = typer.Option("fixed", "--lengths", help="fixed, lognormal, or a trace file to sample lengths from."),
    sigma: float = typer.Option(1.0, "--sigma", help="Lognormal lengths: sigma of the log."),
    isl: int | None = typer.Option(None, "--isl", help="Mean prompt tokens; default the workload's ISL."),
    osl: int | None = typer.Option(None, "--osl", help="Mean output tokens; default the workload's OSL."),
    turns: int = typer.Option(4, "--turns", help="Agentic: requests per session."),
    tool_delay: float = typer.Option(2.0, "--tool-delay", help="Agentic: mean tool time between turns, s."),
    tool_tokens: int = typer.Option(512, "--tool-tokens", help="Agentic: tokens a tool adds to the context."),
    drain: float | None = typer.Option(None, "--drain", help="Seconds played after the last arrival; default as long as the arrivals took."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random stream."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    out_file: Path | None = typer.Option(None, "--out", help="Write every request's times as Parquet."),
    force: bool = FORCE,
) -> None:
    """Traffic through routed replicas as engines run them: latency percentiles, queues, KV cache, SLA and goodput."""
    import pandas as pd  # pandas, numba and the engine: imported when the command runs

    from twin.loader import load_spec
    from twin.perf import PerfError
    from twin.serve.experiment import MAX_REQUESTS, Experiment, per_request, run_experiment
    from twin.serve.report import meets_sla

    if trace is not None and arrivals is not None:
        raise InputError("give --trace or --arrivals, not both")
    arrivals = arrivals or "poisson"
    if arrivals not in ARRIVALS:
        raise InputError(f"--arrivals must be one of {', '.join(ARRIVALS)}; got {arrivals!r}")
    if router not in ROUTERS:
        raise InputError(f"--router must be one of {', '.join(ROUTERS)}; got {router!r}")
    if preemption not in ("recompute", "swap"):
        raise InputError(f"--preemption must be recompute or swap; got {preemption!r}")
    if rate is not None and load is not None:
        raise InputError("give --rate or --load, not both")
    _check({"--rate": (rate, POSITIVE, None), "--load": (load, POSITIVE, 1e6), "--duration": (duration, POSITIVE, 1e9), "--requests": (requests, 1, MAX_REQUESTS),
            "--prefill-replicas": (prefill_replicas, 1, MAX_REPLICAS), "--max-batch": (max_batch, 1, 65_536), "--token-budget": (token_budget, 1, 10_000_000),
            "--sigma": (sigma, POSITIVE, 10.0), "--isl": (isl, 1, 10_000_000), "--osl": (osl, 1, 10_000_000), "--turns": (turns, 1, 1000),
            "--tool-delay": (tool_delay, 0, 1e6), "--tool-tokens": (tool_tokens, 1, 10_000_000), "--drain": (drain, 0, 1e9), "--seed": (seed, 0, None)})
    counts = _replicas(replicas)
    if (sum(counts.values()) if isinstance(counts, dict) else counts) > MAX_REPLICAS:
        raise InputError(f"--replicas: at most {MAX_REPLICAS:,} replicas")
    spec = load_spec(spec_path)
    lengths_kind, lengths_trace = (lengths, None) if lengths in ("fixed", "lognormal") else ("trace", lengths)
    if lengths_trace is not None and not Path(lengths_trace).exists():
        from twin.validation import suggest

        raise InputError(f"--lengths {lengths!r}: neither fixed, lognormal nor a trace file" + suggest(lengths, ("fixed", "lognormal")))
    if out_file is not None:
        inputs = spec_inputs(spec) + [p for p in (trace, lengths_trace) if p is not None]
        check_output("--out", out_file, [Path(p) for p in inputs], force=force)
    e = Experiment(model=model, arrivals="trace" if trace else arrivals, trace=str(trace) if trace else None, rate_per_s=rate, load=load,
                   requests=requests, duration_s=duration, replicas=counts, router=router, disaggregated=disaggregated,
                   prefill_replicas=prefill_replicas, max_batch=max_batch, token_budget=token_budget, preemption=preemption,
                   lengths=lengths_kind, sigma=sigma, lengths_trace=lengths_trace, input_tokens=isl, output_tokens=osl, turns=turns,
                   tool_delay_s=tool_delay, tool_tokens=tool_tokens, drain_s=drain, seed=seed)
    try:
        outcome = run_experiment(spec, e)
    except (ValueError, PerfError) as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    if out_file is not None:
        wm = next(w for w in spec.workload.models if w.model == outcome.summary["model"])
        buf = io.BytesIO()
        pd.DataFrame(per_request(outcome.run, meets_sla(outcome.run, wm.sla))).to_parquet(buf, index=False)
        write_atomic(out_file, buf.getvalue())
    if as_json:
        print_json(_document(e, outcome))
        return
    _print(outcome)


def _document(e: Experiment, o: Outcome) -> dict:
    from twin.serve.experiment import experiment_json, fleet_rows
    from twin.serve.report import timeline

    tl = timeline(o.run)
    return {"experiment": experiment_json(e), "fleet": fleet_rows(o.run.fleet), "summary": o.summary,
            "timeline": {c: tl[c].tolist() for c in tl.columns}}


def _print(o: Outcome) -> None:
    from twin.serve.experiment import fleet_rows
    from twin.serve.report import timeline

    s = o.summary
    rows = [[r["system"], r["role"], r["replicas"], r["gpus_per_replica"], r["max_batch"], r["kv_capacity_tokens"], r["token_budget"],
             r["capacity_tokens_per_s"]] for r in fleet_rows(o.run.fleet)]
    out.print(table(f"Fleet serving {s['model']} ({s['router']} router)", ["system", "role", "replicas", "GPUs each", "max batch", "KV tokens each",
                                                                            "token budget", "capacity tok/s"], rows))
    lat = [[label, s[f"{k}_p50"], s[f"{k}_p90"], s[f"{k}_p99"], s[f"{k}_mean"]] for k, label in LATENCIES]
    out.print(table(f"Latencies (s) of the {int(s['finished']):,} finished requests after the warm-up", ["", "p50", "p90", "p99", "mean"], lat))
    out.print(table(f"{s['arrivals']} traffic, {int(s['requests']):,} requests", ["figure", "value"], [[label, s[k]] for k, label in FIGURES.items()]))
    tl = timeline(o.run, bins=10)
    cols = ["time_s", "queue_depth", "ttft_s_p50", "ttft_s_p99", "e2e_s_p50", "e2e_s_p99", "unfinished_arrived"]
    out.print(table("Over time: queue depth at the end of each tenth of the run; latencies and unfinished of the requests arriving in it",
                    ["until (s)", "queue", "TTFT p50", "TTFT p99", "e2e p50", "e2e p99", "unfinished"],
                    [[None if v != v else float(v) for v in row] for row in tl[cols].itertuples(index=False)]))
    decode_s = s["tpot_s_p50"] * float(o.run.traffic.output_tokens.mean())  # a request's time in a batch, queueing aside
    if s["measured_to_s"] - s["measured_from_s"] < 3.0 * decode_s:
        out.print(f"[yellow]The measured window ({s['measured_to_s'] - s['measured_from_s']:,.0f} s) is short against the time a "
                  f"request spends decoding ({decode_s:,.1f} s): the batches were still filling, so throughput reads low. "
                  f"Send more requests or a longer --duration.[/yellow]")
    if s["unfinished"] > 0:
        out.print(f"[yellow]{int(s['unfinished']):,} requests had not finished when the run ended at {s['end_s']:,.1f} s: "
                  f"the fleet is overloaded or the drain too short (--drain).[/yellow]")


def register(app: typer.Typer) -> None:
    app.command()(serve)
