"""`aift perf`: the token production model's operating point and frontier, or all systems compared."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import InputError, out, print_json, table

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.perf import OperatingPoint
    from twin.spec import WorkloadModel

# Options left out take the spec's defaults (twin.spec.WorkloadModel, Sla): imported when the command runs, not at start-up.
_SPEC_DEFAULT = " [default: as in a spec]"


def perf(
    system: str | None = typer.Option(None, "--system", help="Catalog system id (not needed with --compare)."),
    model: str = typer.Option(..., "--model", help="Catalog model id."),
    precision: str | None = typer.Option(None, "--precision", help="Weight precision: bf16, fp8, fp4 or int4 (weight-only)." + _SPEC_DEFAULT),
    isl: int | None = typer.Option(None, "--isl", help="Input tokens per request." + _SPEC_DEFAULT),
    osl: int | None = typer.Option(None, "--osl", help="Output tokens per request." + _SPEC_DEFAULT),
    min_interactivity: float | None = typer.Option(None, "--min-interactivity", help="SLA: minimum output tokens/s per user." + _SPEC_DEFAULT),
    max_ttft: float | None = typer.Option(None, "--max-ttft", help="SLA: maximum time to first token, s." + _SPEC_DEFAULT),
    disaggregated: bool | None = typer.Option(None, "--disaggregated/--aggregated",
                                              help="Pin separate (or shared) prefill and decode GPUs; default: the better at the SLA."),
    wide_ep: bool = typer.Option(True, "--wide-ep/--no-wide-ep", help="MoE: expert parallelism across the NVLink domain and beyond."),
    speculative: float | None = typer.Option(None, "--speculative", min=1.0, max=8.0,
                                             help="Pin speculative decoding at this many accepted tokens per step; default: the "
                                                  "model's MTP where it has one, if it helps."),
    no_speculative: bool = typer.Option(False, "--no-speculative", help="Pin decoding without speculation."),
    max_gpus: int | None = typer.Option(None, "--max-gpus-per-replica", min=1, help="Largest replica to consider."),
    max_batch: float | None = typer.Option(None, "--max-batch", min=1,
                                           help="Most sequences in flight per replica (an engine limit, a benchmark's concurrency)."),
    turns: int | None = typer.Option(None, "--turns", min=1, max=1000,
                                     help="Agentic: requests per session, each resending the context so far." + _SPEC_DEFAULT),
    context_growth: int | None = typer.Option(None, "--context-growth", min=0,
                                              help="Agentic: new input tokens per turn after the first." + _SPEC_DEFAULT),
    cache_hit: float | None = typer.Option(None, "--cache-hit", min=0.0, max=1.0,
                                           help="Agentic: share of the resent context found in the prefix cache." + _SPEC_DEFAULT),
    compare: bool = typer.Option(False, "--compare", help="Every system for this model at this SLA, against --baseline."),
    baseline: str = typer.Option("hgx-h100", "--baseline", help="System the --compare ratios are relative to."),
    native: bool = typer.Option(False, "--native-precision", help="With --compare: each system at the narrowest precision "
                                "its tensor cores and the model have (FP4 on Blackwell, FP8 on Hopper), as published comparisons run."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    catalog_file: Path | None = typer.Option(None, "--catalog", help="YAML with more `models:` or `systems:`, added to the "
                                             "shipped catalog (same format; see docs/adding-a-model.md)."),
) -> None:
    """Output tokens/s per GPU at the SLA, with the throughput-interactivity frontier it lies on."""
    from pydantic import ValidationError

    from twin.perf import PerfError, operating_point
    from twin.spec import Serving, Sla, WorkloadModel
    cat = _catalog(catalog_file)
    if no_speculative and speculative is not None:
        raise InputError("give --speculative N or --no-speculative, not both")
    _known("model", model, cat.models)
    try:
        given = {"precision": precision, "isl": isl, "osl": osl, "turns": turns, "context_growth_tokens": context_growth,
                 "prefix_cache_hit": cache_hit}
        sla = {"min_tokens_per_s_per_user": min_interactivity, "max_ttft_s": max_ttft}
        wm = WorkloadModel(
            model=model, **{k: v for k, v in given.items() if v is not None},
            sla=Sla(**{k: v for k, v in sla.items() if v is not None}),
            serving=Serving(disaggregated=disaggregated, wide_ep=wide_ep,
                            speculative=False if no_speculative else (True if speculative is not None else None),
                            accepted_tokens_per_step=None if no_speculative else speculative),
        )
    except ValidationError as exc:
        raise InputError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    if compare:
        _known("system", baseline, cat.systems)
        _compare(cat, wm, baseline, max_gpus, max_batch, as_json, native)
        return
    if system is None:
        raise InputError("give --system ID, or --compare for every system")
    _known("system", system, cat.systems)
    try:
        op = operating_point(cat.systems[system], cat.models[model], wm, max_gpus=max_gpus, max_batch=max_batch)
    except PerfError as exc:
        raise InputError(str(exc)) from None
    if as_json:
        print_json({"system": system, "model": model, "workload": wm.model_dump(mode="json"), **op.as_json()})
        return
    _show(system, wm, op)


def _catalog(path: Path | None) -> Catalog:
    """The shipped catalog, plus the entries of `path` (validated; errors name FILE:LINE:COL)."""
    from twin.catalog import CatalogSections
    from twin.loader import shipped_catalog
    from twin.validation import validate
    from twin.yamlio import load_yaml

    if path is None:
        return shipped_catalog()
    return shipped_catalog().merged(validate(load_yaml(path), CatalogSections))


def _known(kind: str, key: str, entries: dict) -> None:
    if key not in entries:
        near = difflib.get_close_matches(key, list(entries), n=1)
        hint = f" (did you mean {near[0]}?)" if near else f"; known: {', '.join(entries)}"
        raise InputError(f"unknown {kind} {key!r}{hint}")


def _sla_text(wm: WorkloadModel) -> str:
    s = wm.sla
    return f"ISL {wm.isl}, OSL {wm.osl}, SLA >= {s.min_tokens_per_s_per_user:g} tok/s/user and TTFT <= {s.max_ttft_s:g} s"


def _show(system: str, wm: WorkloadModel, op: OperatingPoint) -> None:
    rows = [
        ["output tokens/s per GPU", op.tokens_per_s_per_gpu],
        ["input+output tokens/s per GPU", op.total_tokens_per_s_per_gpu],
        ["tokens/s per user", op.tokens_per_s_per_user],
        ["TTFT s", op.ttft_s],
        ["sequences in flight per replica", op.batch_size],
        ["GPUs per replica (+ prefill GPUs)", f"{op.gpus_per_replica} + {op.prefill_gpus_per_replica:.1f}"
         if op.prefill_gpus_per_replica else str(op.gpus_per_replica)],
        ["layout", op.layout],
        ["serving", op.serving["mode"]],
        *([["prefill parts", _parts_text(op.prefill_part)]] if op.prefill_part else []),
        ["tokens per decode step (speculative)", op.speculative_tokens],
        ["system power kW", op.system_power_kw],
        ["tokens per joule", op.tokens_per_joule],
        ["method", op.method],
    ]
    out.print(table(f"{wm.model} on {system} ({wm.precision}; {_sla_text(wm)})", ["operating point", "value"], rows))
    out.print(table("Frontier (throughput per GPU against interactivity)",
                    ["tok/s/user", "out tok/s/GPU", "total tok/s/GPU", "in flight", "GPUs", "layout", "serving", "tok/step",
                     "TTFT s", "kW", "tok/J"],
                    [[p.tokens_per_s_per_user, p.tokens_per_s_per_gpu, p.total_tokens_per_s_per_gpu, p.batch_size,
                      p.gpus_per_replica, p.layout, p.serving["mode"], p.speculative_tokens, p.ttft_s, p.system_power_kw,
                      p.tokens_per_joule] for p in op.frontier]))


def _parts_text(part: dict) -> str:
    """A system's prefill parts at a point: how many a decode replica needs, which pool limits, what idles."""
    if not part["parts_per_decode_replica"]:
        return f"{part['name']}: idle (prefill on the GPUs)"
    return (f"{part['parts_per_decode_replica']:.1f} {part['name']} per decode replica, pipelines of "
            f"{part['parts_per_prefill_replica']}; limited by {part['limited_by']}; idle: "
            f"{part['gpus_idle_share']:.0%} of GPUs, {part['parts_idle_share']:.0%} of parts")


def _serving_text(p) -> str:
    """'disaggregated 16+11.3, MTP 1.70': mode, decode + prefill GPUs (or prefill parts), tokens per step when speculative."""
    parts = p.prefill_part["parts_per_decode_replica"] if p.prefill_part else 0.0
    gpus = (f" {p.gpus_per_replica}+{parts:.1f} parts" if parts
            else f" {p.gpus_per_replica}+{p.prefill_gpus_per_replica:.1f}" if p.disaggregated else "")
    spec = f", MTP {p.speculative_tokens:.2f}" if p.drafts else ""
    return f"{p.serving['mode']}{gpus}{spec}"


def _compare(cat, wm: WorkloadModel, baseline: str, max_gpus: int | None, max_batch: float | None, as_json: bool,
             native: bool) -> None:
    from twin.perf.compare import compare_systems
    rows = compare_systems(cat, wm, baseline, max_gpus=max_gpus, max_batch=max_batch, native=native)
    if as_json:
        print_json({
            "model": wm.model, "baseline": baseline, "workload": wm.model_dump(mode="json"),
            "systems": [{
                "system": r.system, "precision": r.precision, "error": r.error,
                "tokens_per_s_per_mw": r.tokens_per_s_per_mw, "usd_per_million_tokens": r.usd_per_million_tokens,
                "tokens_per_mw_vs_baseline": r.tokens_per_mw_vs_baseline, "cost_per_token_vs_baseline": r.cost_per_token_vs_baseline,
                **({k: v for k, v in r.point.as_json().items() if k != "frontier"} if r.point else {}),
            } for r in rows],
        })
        return
    out.print(table(
        f"{wm.model} ({wm.precision}; {_sla_text(wm)}) on every system, against {baseline}",
        ["system", "precision", "out tok/s/GPU", "tok/s/user", "serving", "layout", "system kW", "tok/s per MW IT", "USD/M tok",
         f"tok/MW vs {baseline}", f"cost/tok vs {baseline}"],
        [[r.system, r.precision, r.point.tokens_per_s_per_gpu, r.point.tokens_per_s_per_user, _serving_text(r.point), r.point.layout,
          r.point.system_power_kw, r.tokens_per_s_per_mw, r.usd_per_million_tokens, r.tokens_per_mw_vs_baseline,
          r.cost_per_token_vs_baseline]
         if r.point else [r.system, r.precision, None, None, "-", "-", None, None, None, None, None] for r in rows],
    ))
    for r in rows:
        if r.error:
            out.print(f"{r.system}: {r.error}", markup=False, highlight=False)
    out.print("Cost per token: system price over its IT life at the cost of capital, plus IT energy at the default tariff; "
              "no facility overheads.", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(perf)
