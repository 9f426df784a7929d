"""The throughput-interactivity frontier and the operating point at a workload's SLA.

For every replica layout the model sweeps B, the sequences in flight on a replica.
Aggregated serving interleaves each new prompt's prefill with the decode steps: the GPU
spends `t_step(B) + B * T_prefill / OSL` per step, and a user waits through the prefills of
the other B - 1 (its own is in its TTFT). Disaggregated serving keeps decode steps clean
and counts the prefill pool's GPUs in the throughput per GPU. Speculative decoding yields
`accepted_tokens_per_step` tokens per step. Both SLA limits tighten as B grows, so each
layout's best point is the largest B that meets them, found by bisection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.catalog import ModelEntry, SystemEntry
from twin.perf.calibration import Calibration, shipped_calibration
from twin.perf.layouts import Layouts, PrefillPool, decode_layouts, min_prefill_ttft, prefill_pool, replica_sizes
from twin.perf.memory import ModelSizes, model_sizes
from twin.perf.points import OperatingPoint, PerfError, ServingPoint
from twin.perf.power import system_power_kw, tokens_per_joule
from twin.perf.step import Hardware, decode_parts, hardware, prefill_s, weights_per_gpu
from twin.spec import Serving, WorkloadModel

GRID_POINTS = 32  # batch sizes per layout on the frontier
BISECTIONS = 16  # halvings of a grid step in log(B): far below 0.1% in B


@dataclass(frozen=True)
class _Case:
    """Everything fixed for one (system, model, workload): hardware, sizes, layouts, prefill."""

    system: SystemEntry
    hw: Hardware
    sz: ModelSizes
    wm: WorkloadModel
    context_tokens: float
    accepted: float  # output tokens per decode step per sequence
    tokens_per_seq: int  # tokens each sequence carries through a step (1 + drafts)
    layouts: Layouts
    replica_prefill_s: np.ndarray  # aggregated: one prompt's prefill on each layout's replica
    pool: PrefillPool | None  # disaggregated: the prefill pool


def speculation(serving: Serving) -> tuple[float, int]:
    """(accepted tokens per step a, tokens verified per sequence per step): floor(a) drafts plus one."""
    if not serving.speculative:
        return 1.0, 1
    a = serving.accepted_tokens_per_step
    return a, int(math.floor(a)) + 1


def _case(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, cal: Calibration, max_gpus: int | None,
          max_batch: float | None = None) -> _Case:
    if wm.precision not in model.precisions:
        raise PerfError(f"{model.id} is not served in {wm.precision}; its precisions: {', '.join(model.precisions)}")
    if wm.isl + wm.osl > model.max_context:
        raise PerfError(f"ISL + OSL = {wm.isl + wm.osl} exceeds {model.id}'s context of {model.max_context} tokens")
    hw = hardware(system, wm.precision, cal)
    sz = model_sizes(model, wm.precision)
    ctx = wm.isl + wm.osl / 2.0  # mean context over a request's decode, and the mean KV it holds
    sizes = replica_sizes(system, sz, wm.serving.wide_ep, max_gpus or cal.max_gpus_per_replica)
    lay = decode_layouts(hw, sz, sizes, ctx, cal.max_seqs_per_rank, max_batch)
    if lay.gpus.size == 0:
        raise PerfError(_no_fit_message(system, model, wm, hw, sz, sizes))
    accepted, per_seq = speculation(wm.serving)
    pool = None
    if wm.serving.disaggregated:
        pool = prefill_pool(hw, sz, sizes, wm.isl, wm.sla.max_ttft_s, cal.prefill_pool_max_utilization)
        if pool is None:
            best = min_prefill_ttft(hw, sz, sizes, wm.isl)
            raise PerfError(
                f"no prefill replica of {model.id} on {system.id} meets TTFT <= {wm.sla.max_ttft_s:g} s: "
                f"the fastest prefill of a {wm.isl}-token prompt takes {best:.3g} s"
            )
    return _Case(system, hw, sz, wm, ctx, accepted, per_seq, lay, prefill_s(hw, sz, lay.gpus, wm.isl), pool)


def _no_fit_message(system, model, wm, hw, sz, sizes) -> str:
    g = max(sizes)
    why = ("tensor parallel inside one NVLink domain" if not sz.experts
           else "expert parallel" + ("" if wm.serving.wide_ep else ", wide_ep off"))
    return (
        f"{model.id} in {wm.precision} does not fit {system.id}: its weights take {sz.weight_bytes / 1e9:,.0f} GB, and the "
        f"largest replica allowed ({g} GPUs, {why}) has {hw.usable_hbm_bytes * g / 1e9:,.0f} GB usable of "
        f"{system.gpu.hbm_gb * g:,.0f} GB HBM, before any KV cache; try a lower precision or a system with more HBM"
    )


def _evaluate(c: _Case, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Per layout (rows) and batch (columns): throughputs, interactivity, TTFT, busy share."""
    g = c.layouts.gpus[:, None]
    dp = c.layouts.attention_dp[:, None]
    osl, a = c.wm.osl, c.accepted
    parts = decode_parts(c.hw, c.sz, g, dp, batch, c.context_tokens, c.tokens_per_seq)
    t = parts.total_s
    if c.pool is None:
        tp = c.replica_prefill_s[:, None]
        per_request = a * tp / osl  # prefill time per step that one sequence's successor brings
        period = t + batch * per_request  # GPU time per step, the interleaved prefills included
        rho = batch * per_request / period
        out = {
            "tput": batch * a / (g * period),
            "tpot_step": t + (batch - 1.0) * per_request,  # a sequence's own prefill is in its TTFT, not its TPOT
            "ttft": tp + rho * tp / (2.0 * (1.0 - rho)) + t,
            "util": (t * parts.busy_fraction + batch * per_request) / period,
            "prefill_gpus": np.zeros_like(t),
        }
    else:
        prefill_gpus = batch * a / (osl * t) * c.pool.gpu_s_per_request
        out = {
            "tput": batch * a / t / (g + prefill_gpus),
            "tpot_step": t,
            "ttft": np.full_like(t, c.pool.ttft_s),
            "util": (g * parts.busy_fraction + prefill_gpus * c.pool.utilization) / (g + prefill_gpus),
            "prefill_gpus": prefill_gpus,
        }
    out["inter"] = a / out["tpot_step"]
    return out


def _meets(c: _Case, v: dict[str, np.ndarray]) -> np.ndarray:
    return (v["inter"] >= c.wm.sla.min_tokens_per_s_per_user) & (v["ttft"] <= c.wm.sla.max_ttft_s)


def _grid(c: _Case) -> np.ndarray:
    """Batch sizes per layout, log-spaced from one sequence to the most the layout holds."""
    steps = np.linspace(0.0, 1.0, GRID_POINTS)[None, :]
    return np.exp(np.log(c.layouts.max_batch)[:, None] * steps)


def _best_batch(c: _Case, grid: np.ndarray, v: dict[str, np.ndarray]) -> np.ndarray:
    """Per layout, the largest batch meeting the SLA (NaN where one sequence misses it).

    Both SLA limits tighten as the batch grows, so the grid brackets the answer and bisection refines it.
    """
    ok = _meets(c, v)
    m = grid.shape[1]
    n_ok = np.argmin(np.concatenate([ok, np.zeros((ok.shape[0], 1), dtype=bool)], axis=1), axis=1)
    rows = np.arange(grid.shape[0])
    lo = np.log(grid[rows, np.maximum(n_ok - 1, 0)])
    hi = np.log(grid[rows, np.minimum(n_ok, m - 1)])
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2.0
        good = _meets(c, _evaluate(c, np.exp(mid)[:, None]))[:, 0]
        lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
    best = np.where(n_ok == m, c.layouts.max_batch, np.exp(lo))
    return np.where(n_ok > 0, best, np.nan)


def _points(c: _Case, batch: np.ndarray, v: dict[str, np.ndarray], rows: np.ndarray) -> list[ServingPoint]:
    """ServingPoints for the flat indices of `batch` (layouts x batches)."""
    isl, osl = c.wm.isl, c.wm.osl
    pts = []
    for flat in rows:
        i, j = np.unravel_index(flat, batch.shape)
        tput = float(v["tput"][i, j])
        util = float(np.clip(v["util"][i, j], 0.0, 1.0))
        kw = system_power_kw(c.system, util)
        pts.append(ServingPoint(
            tokens_per_s_per_gpu=tput,
            total_tokens_per_s_per_gpu=tput * (isl + osl) / osl,
            tokens_per_s_per_user=float(v["inter"][i, j]),
            batch_size=float(batch[i, j]),
            gpus_per_replica=int(c.layouts.gpus[i]),
            ttft_s=float(v["ttft"][i, j]),
            system_power_kw=kw,
            tokens_per_joule=tokens_per_joule(c.system, tput, kw),
            gpu_utilization=util,
            tpot_s=float(v["tpot_step"][i, j] / c.accepted),
            prefill_gpus_per_replica=float(v["prefill_gpus"][i, j]),
            layout=c.layouts.label(int(i)),
        ))
    return pts


def _pareto(c: _Case, batch: np.ndarray, v: dict[str, np.ndarray]) -> list[ServingPoint]:
    """The upper envelope of the points meeting the TTFT limit: none beaten on both throughput and interactivity."""
    idx = np.flatnonzero((v["ttft"] <= c.wm.sla.max_ttft_s).ravel())
    order = idx[np.argsort(-v["inter"].ravel()[idx], kind="stable")]
    tput = v["tput"].ravel()[order]
    keep = np.ones(order.size, dtype=bool)
    keep[1:] = tput[1:] > np.maximum.accumulate(tput)[:-1] * (1 + 1e-9)
    return _points(c, batch, v, order[keep][::-1])


def _join(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]], axis=1) for k in a}


def _sla_message(c: _Case, model: ModelEntry) -> str:
    v = _evaluate(c, np.ones((c.layouts.gpus.size, 1)))
    i = int(np.argmax(v["inter"][:, 0]))
    sla = c.wm.sla
    return (
        f"no operating point of {model.id} ({c.wm.precision}, ISL {c.wm.isl}, OSL {c.wm.osl}) on {c.system.id} meets the SLA "
        f"(>= {sla.min_tokens_per_s_per_user:g} tok/s/user, TTFT <= {sla.max_ttft_s:g} s): the best achievable is "
        f"{v['inter'][i, 0]:.1f} tok/s/user ({c.layouts.label(i)}, one sequence) and TTFT {float(np.min(v['ttft'])):.3g} s"
    )


_CACHE: dict[tuple, object] = {}
_CACHE_MAX = 4096


def _cached(kind: str, system, model, wm, limits: tuple, cal, compute):
    """Memoize on the inputs' JSON (pydantic models with dicts are not hashable) for the shipped calibration."""
    if cal is not None:
        return compute(cal)
    key = (kind, system.model_dump_json(), model.model_dump_json(), wm.model_dump_json(), limits)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        try:
            _CACHE[key] = compute(shipped_calibration())
        except PerfError as exc:
            _CACHE[key] = exc
    hit = _CACHE[key]
    if isinstance(hit, PerfError):
        raise hit
    return hit


def frontier(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, *, max_gpus: int | None = None,
             max_batch: float | None = None, cal: Calibration | None = None) -> list[ServingPoint]:
    """Throughput per GPU against interactivity, ascending in interactivity, for points meeting the TTFT limit.

    Monotone: throughput never rises as interactivity rises. `max_gpus` caps the replica
    size, `max_batch` the sequences per replica (an engine's batch limit, a benchmark's concurrency).
    """
    limits = (max_gpus, max_batch)
    return list(_cached("frontier", system, model, wm, limits, cal, lambda k: _frontier_of(_case(system, model, wm, k, *limits))))


def _frontier_of(c: _Case) -> list[ServingPoint]:
    grid = _grid(c)
    return _pareto(c, grid, _evaluate(c, grid))


def operating_point(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, *, max_gpus: int | None = None,
                    max_batch: float | None = None, cal: Calibration | None = None) -> OperatingPoint:
    """The highest output tokens/s per GPU meeting `wm.sla`; raises PerfError with the best achievable otherwise."""
    limits = (max_gpus, max_batch)
    return _cached("op", system, model, wm, limits, cal, lambda k: _operating_point(_case(system, model, wm, k, *limits), model))


def _operating_point(c: _Case, model: ModelEntry) -> OperatingPoint:
    grid = _grid(c)
    on_grid = _evaluate(c, grid)
    best = _best_batch(c, grid, on_grid)
    if np.all(np.isnan(best)):
        raise PerfError(_sla_message(c, model))
    batch = np.where(np.isnan(best), 1.0, best)[:, None]
    v = _evaluate(c, batch)
    tput = np.where(np.isnan(best), -np.inf, v["tput"][:, 0])
    chosen = _points(c, batch, v, [int(np.argmax(tput))])[0]
    fields = {k: getattr(chosen, k) for k in ServingPoint.__dataclass_fields__}
    curve = _pareto(c, np.concatenate([grid, batch], axis=1), _join(on_grid, v))
    return OperatingPoint(**fields, frontier=curve, method="model")


def decode_step_time(system: SystemEntry, model: ModelEntry, precision: str, gpus_per_replica: int, batch: int,
                     context_tokens: float, serving: Serving, *, cal: Calibration | None = None) -> float:
    """Seconds per decode step of `batch` sequences at `context_tokens` mean context, on the faster layout of that size.

    With speculative decoding a step yields `serving.accepted_tokens_per_step` tokens per sequence.
    """
    cal = cal or shipped_calibration()
    hw, sz = hardware(system, precision, cal), model_sizes(model, precision)
    g = np.array([gpus_per_replica, gpus_per_replica], dtype=float)
    dp = np.array([False, bool(sz.experts) and gpus_per_replica > 1])
    kv = batch * context_tokens * sz.kv_bytes_per_token / np.where(dp, g, np.minimum(g, sz.kv_shards_max))
    fits = weights_per_gpu(sz, g, dp) + kv <= hw.usable_hbm_bytes
    fits &= dp | (g <= system.scale_up_gpus)
    if not fits.any():
        raise PerfError(f"{model.id} in {precision} with {batch} sequences of {context_tokens:g} tokens does not fit "
                        f"{gpus_per_replica} GPUs of {system.id}")
    t = decode_parts(hw, sz, g, dp, float(batch), float(context_tokens), speculation(serving)[1]).total_s
    return float(np.min(np.where(fits, t, np.inf)))


def prefill_time(system: SystemEntry, model: ModelEntry, precision: str, gpus_per_replica: int, tokens: int,
                 *, cal: Calibration | None = None) -> float:
    """Seconds to prefill one prompt of `tokens` tokens on a tensor/expert-parallel replica."""
    cal = cal or shipped_calibration()
    hw, sz = hardware(system, precision, cal), model_sizes(model, precision)
    if weights_per_gpu(sz, gpus_per_replica, False) > hw.usable_hbm_bytes:
        raise PerfError(f"{model.id} in {precision} does not fit {gpus_per_replica} GPUs of {system.id}")
    return float(prefill_s(hw, sz, gpus_per_replica, tokens))
