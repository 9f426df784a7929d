"""The throughput-interactivity frontier and the operating point at a workload's SLA.

For every replica layout the model sweeps B, the sequences in flight on a replica.
Aggregated serving interleaves each new prompt's prefill with the decode steps: the GPU
spends `t_step(B) + B * T_prefill / OSL` per step, and a user waits through the prefills of
the other B - 1 (its own is in its TTFT). Disaggregated serving keeps decode steps clean
and counts the prefill pool's GPUs in the throughput per GPU. Speculative decoding yields
`accepted_tokens_per_step` tokens per step. Both SLA limits tighten as B grows, so each
layout's best point is the largest B that meets them, found by bisection. Every serving
configuration the workload leaves open (`twin.perf.serving.candidates`: aggregated or
disaggregated, speculative drafts where the model has MTP) is evaluated, and the frontier
and operating point are taken over all of them; each point names its configuration. On a
system with a prefill-only part (Rubin CPX) each disaggregated configuration is also searched
with its prefill on the parts (`twin.perf.prefill_part`).
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
from twin.perf.prefill_part import gpu_power_share, idle_parts, part_pool, with_parts
from twin.perf.prompts import Prompt, prompt_of, reload_s
from twin.perf.serving import ServingConfig, candidates
from twin.perf.step import Hardware, decode_parts, hardware, kv_transfer_s, prefill_s, weights_per_gpu
from twin.spec import Serving, WorkloadModel

GRID_POINTS = 32  # batch sizes per layout on the frontier
BISECTIONS = 12  # halvings of a grid step in log(B): below 0.01% in B


@dataclass(frozen=True)
class _Case:
    """Everything fixed for one (system, model, workload): hardware, sizes, layouts, prefill."""

    system: SystemEntry
    hw: Hardware
    sz: ModelSizes
    wm: WorkloadModel
    cfg: ServingConfig
    prompt: Prompt
    context_tokens: float
    layouts: Layouts
    replica_prefill_s: np.ndarray  # aggregated: one prompt's prefill on each layout's replica
    pool: PrefillPool | None  # disaggregated: the prefill pool (a PartPool on a system's prefill parts)
    kv_transfer_s: np.ndarray  # one prompt's KV cache reloaded from CPU memory and, disaggregated, moved to each decode layout
    power_share: float  # the GPUs' share of the system's board power where its prefill parts idle (1 without parts)

    @property
    def accepted(self) -> float:
        return self.cfg.accepted


def speculation(serving: Serving) -> tuple[float, int]:
    """(accepted tokens per step a, tokens verified per sequence per step) of pinned options: floor(a) drafts plus one."""
    if not serving.speculative or serving.accepted_tokens_per_step is None:
        return 1.0, 1
    a = serving.accepted_tokens_per_step
    return a, int(math.floor(a)) + 1


def _case(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, cal: Calibration, max_gpus: int | None,
          max_batch: float | None, min_gpus: int | None, cfg: ServingConfig) -> _Case:
    if wm.precision not in model.precisions:
        raise PerfError(f"{model.id} is not served in {wm.precision}; its precisions: {', '.join(model.precisions)}")
    prompt = prompt_of(wm)
    if prompt.last_context > model.max_context:
        what = "ISL + OSL" if wm.turns == 1 else f"the last of {wm.turns} turns' context"
        raise PerfError(f"{what} = {prompt.last_context} exceeds {model.id}'s context of {model.max_context} tokens")
    hw = hardware(system, wm.precision, cal)
    sz = model_sizes(model, wm.precision)
    ctx = prompt.tokens + wm.osl / 2.0  # mean context over a request's decode, and the mean KV it holds
    reload = reload_s(system, prompt, sz.kv_bytes_per_token)
    sizes = [g for g in replica_sizes(system, sz, cfg.wide_ep, max_gpus or cal.max_gpus_per_replica) if g >= (min_gpus or 1)]
    if not sizes:
        raise PerfError(f"no replica of {model.id} on {system.id} has between {min_gpus} and {max_gpus} GPUs")
    if not cfg.disaggregated:  # an aggregated engine runs at most its concurrency cap per replica
        cap = cal.engine_max_concurrency(system.family)
        max_batch = cap if max_batch is None else min(max_batch, cap)
    lay = decode_layouts(hw, sz, sizes, ctx, cal.max_seqs_per_rank, max_batch)
    if lay.gpus.size == 0:
        raise PerfError(_no_fit_message(system, model, wm, hw, sz, sizes))
    pool, kv_s = None, np.zeros_like(lay.gpus)  # aggregated: the KV stays where it was computed
    if cfg.prefill_on_parts:
        pool, handoff = part_pool(system, hw, sz, prompt, wm.sla.max_ttft_s, cal, wm.precision, reload, model.id)
        kv_s = np.full_like(lay.gpus, handoff)
    elif cfg.disaggregated:
        pool = prefill_pool(hw, sz, sizes, prompt, wm.sla.max_ttft_s, cal.prefill_pool_max_utilization, reload)
        if pool is None:
            best = min_prefill_ttft(hw, sz, sizes, prompt) + reload
            raise PerfError(
                f"no prefill replica of {model.id} on {system.id} meets TTFT <= {wm.sla.max_ttft_s:g} s: "
                f"the fastest prefill of a {prompt.tokens:.0f}-token prompt takes {best:.3g} s"
            )
        kv_s = kv_transfer_s(hw, sz, prompt.tokens, pool.gpus, lay.gpus, lay.attention_dp)
    return _Case(system, hw, sz, wm, cfg, prompt, ctx, lay, prefill_s(hw, sz, lay.gpus, prompt.computed, prompt.cached),
                 pool, kv_s + reload, 1.0 if cfg.prefill_on_parts else gpu_power_share(system))


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
    parts = decode_parts(c.hw, c.sz, g, dp, batch, c.context_tokens, c.cfg.tokens_per_seq)
    t = parts.total_s
    if c.pool is None:
        tp = c.replica_prefill_s[:, None]
        per_request = a * tp / osl  # prefill time per step that one sequence's successor brings
        period = t + batch * per_request  # GPU time per step, the interleaved prefills included
        rho = batch * per_request / period
        out = {
            "tput": batch * a / (g * period),
            "tpot_step": t + (batch - 1.0) * per_request,  # a sequence's own prefill is in its TTFT, not its TPOT
            "ttft": tp + rho * tp / (2.0 * (1.0 - rho)) + t + c.kv_transfer_s[:, None],
            "util": (t * parts.busy_fraction + batch * per_request) / period * c.power_share,
            "prefill_gpus": np.zeros_like(t),
        }
    else:
        prefill_gpus = c.pool.gpus_for(batch * a / (osl * t))  # each sequence ends after OSL / a steps
        out = {
            "tput": c.pool.tokens_per_gpu(batch * a / t, g, prefill_gpus),
            "tpot_step": t,
            "ttft": np.broadcast_to(c.pool.ttft_s + c.kv_transfer_s[:, None], t.shape),
            "util": c.pool.busy_share(g, parts.busy_fraction, prefill_gpus) * c.power_share,
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
    isl, osl = c.prompt.tokens, c.wm.osl
    pts = []
    for flat in rows:
        i, j = np.unravel_index(flat, batch.shape)
        tput = float(v["tput"][i, j])
        util = float(np.clip(v["util"][i, j], 0.0, 1.0))
        prefill = float(v["prefill_gpus"][i, j])
        part = c.pool.describe(int(c.layouts.gpus[i]), prefill) if c.cfg.prefill_on_parts else idle_parts(c.system)
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
            prefill_gpus_per_replica=0.0 if c.cfg.prefill_on_parts else prefill,  # parts are not GPUs: in `prefill_part`
            layout=c.layouts.label(int(i)),
            disaggregated=c.cfg.disaggregated,
            speculative_tokens=c.cfg.accepted,
            drafts=c.cfg.drafts,
            prefill_part=part,
        ))
    return pts


@dataclass(frozen=True)
class _Front:
    """One configuration's Pareto candidates, kept as arrays until the envelope over all is known."""

    case: _Case
    batch: np.ndarray
    v: dict[str, np.ndarray]
    flat: np.ndarray  # flat indices into batch / v, descending in interactivity

    @property
    def inter(self) -> np.ndarray:
        return self.v["inter"].ravel()[self.flat]

    @property
    def tput(self) -> np.ndarray:
        return self.v["tput"].ravel()[self.flat]


def _pareto(c: _Case, batch: np.ndarray, v: dict[str, np.ndarray]) -> _Front:
    """The upper envelope of one configuration's points meeting the TTFT limit: none beaten on both axes."""
    idx = np.flatnonzero((v["ttft"] <= c.wm.sla.max_ttft_s).ravel())
    order = idx[np.argsort(-v["inter"].ravel()[idx], kind="stable")]
    tput = v["tput"].ravel()[order]
    keep = np.ones(order.size, dtype=bool)
    keep[1:] = tput[1:] > np.maximum.accumulate(tput)[:-1] * (1 + 1e-9)
    return _Front(c, batch, v, order[keep])


def _envelope(fronts: list[_Front]) -> list[ServingPoint]:
    """The Pareto front over several configurations, ascending in interactivity; each point names its configuration."""
    inter = np.concatenate([f.inter for f in fronts])
    tput = np.concatenate([f.tput for f in fronts])
    owner = np.concatenate([np.full(f.flat.size, k) for k, f in enumerate(fronts)])
    at = np.concatenate([np.arange(f.flat.size) for f in fronts])
    order = np.argsort(-inter, kind="stable")
    keep = np.ones(order.size, dtype=bool)
    keep[1:] = tput[order][1:] > np.maximum.accumulate(tput[order])[:-1] * (1 + 1e-9)
    out = []
    for n in order[keep][::-1]:
        f = fronts[owner[n]]
        out += _points(f.case, f.batch, f.v, [f.flat[at[n]]])
    return out


def _join(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]], axis=1) for k in a}


def _sla_message(cases: list[_Case], model: ModelEntry) -> str:
    """Why no configuration meets the SLA: the fastest one sequence gets, and the lowest TTFT."""
    at_one = [_evaluate(c, np.ones((c.layouts.gpus.size, 1))) for c in cases]
    k = max(range(len(cases)), key=lambda n: float(np.max(at_one[n]["inter"])))
    c, v = cases[k], at_one[k]
    i = int(np.argmax(v["inter"][:, 0]))
    sla = c.wm.sla
    ttft = min(float(np.min(x["ttft"])) for x in at_one)
    return (
        f"no operating point of {model.id} ({c.wm.precision}, ISL {c.wm.isl}, OSL {c.wm.osl}) on {c.system.id} meets the SLA "
        f"(>= {sla.min_tokens_per_s_per_user:g} tok/s/user, TTFT <= {sla.max_ttft_s:g} s): the best achievable is "
        f"{v['inter'][i, 0]:.1f} tok/s/user ({c.cfg.mode}, {c.layouts.label(i)}, one sequence) and TTFT {ttft:.3g} s"
    )


_CACHE: dict[tuple, object] = {}
_CACHE_MAX = 4096


def clear_cache() -> None:
    """Forget every memoized frontier and operating point (for timing a cold call)."""
    _CACHE.clear()


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


def _cases(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, cal: Calibration, max_gpus: int | None,
           max_batch: float | None, min_gpus: int | None) -> list[_Case]:
    """One case per serving configuration the workload leaves open; if none can run, the first one's reason."""
    cases, errors = [], []
    for cfg in with_parts(system, candidates(model, wm.serving)):
        try:
            cases.append(_case(system, model, wm, cal, max_gpus, max_batch, min_gpus, cfg))
        except PerfError as exc:
            errors.append(exc)
    if not cases:
        raise errors[0]
    return cases


def frontier(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, *, max_gpus: int | None = None,
             max_batch: float | None = None, min_gpus: int | None = None, cal: Calibration | None = None) -> list[ServingPoint]:
    """Throughput per GPU against interactivity, ascending in interactivity, for points meeting the TTFT limit.

    The Pareto front over every serving configuration `wm.serving` leaves open; each point
    names its own. Monotone: throughput never rises as interactivity rises. `max_gpus` caps the
    replica size and `min_gpus` its floor (both: a stated replica), `max_batch` the sequences per
    replica (an engine's batch limit, a benchmark's concurrency).
    """
    limits = (max_gpus, max_batch, min_gpus)
    return list(_cached("frontier", system, model, wm, limits, cal, lambda k: _frontier_of(_cases(system, model, wm, k, *limits))))


def _frontier_of(cases: list[_Case]) -> list[ServingPoint]:
    fronts = []
    for c in cases:
        grid = _grid(c)
        fronts.append(_pareto(c, grid, _evaluate(c, grid)))
    return _envelope(fronts)


def operating_point(system: SystemEntry, model: ModelEntry, wm: WorkloadModel, *, max_gpus: int | None = None,
                    max_batch: float | None = None, min_gpus: int | None = None,
                    cal: Calibration | None = None) -> OperatingPoint:
    """The highest output tokens/s per GPU meeting `wm.sla`; raises PerfError with the best achievable otherwise.

    With `serving: auto` (the default) this searches aggregated and disaggregated serving,
    speculative drafts where the model has MTP, and every replica layout. The result says
    which configuration won: `op.serving` is a dict {mode, decode_gpus, prefill_gpus,
    speculative_tokens_per_step, drafts, layout}; the same as attributes: `disaggregated`,
    `gpus_per_replica` (decode GPUs), `prefill_gpus_per_replica` (per decode replica,
    fractional), `speculative_tokens`, `drafts`, `layout`. A planner that needs a fixed
    configuration passes it back through `wm.serving` (disaggregated, speculative,
    accepted_tokens_per_step). Limits as for `frontier`. Cached on its inputs: a repeated
    call costs a dictionary lookup.
    """
    limits = (max_gpus, max_batch, min_gpus)
    return _cached("op", system, model, wm, limits, cal, lambda k: _operating_point(_cases(system, model, wm, k, *limits), model))


def _operating_point(cases: list[_Case], model: ModelEntry) -> OperatingPoint:
    best, curve = None, []
    for c in cases:
        grid = _grid(c)
        on_grid = _evaluate(c, grid)
        top = _best_batch(c, grid, on_grid)
        if np.all(np.isnan(top)):
            curve.append(_pareto(c, grid, on_grid))
            continue
        batch = np.where(np.isnan(top), 1.0, top)[:, None]
        v = _evaluate(c, batch)
        tput = np.where(np.isnan(top), -np.inf, v["tput"][:, 0])
        chosen = _points(c, batch, v, [int(np.argmax(tput))])[0]
        front = _pareto(c, np.concatenate([grid, batch], axis=1), _join(on_grid, v))
        if c.cfg.prefill_on_parts:
            chosen = _plateau_end(front, chosen)
        if best is None or chosen.tokens_per_s_per_gpu > best.tokens_per_s_per_gpu:
            best = chosen
        curve.append(front)
    if best is None:
        raise PerfError(_sla_message(cases, model))
    fields = {k: getattr(best, k) for k in ServingPoint.__dataclass_fields__}
    return OperatingPoint(**fields, frontier=_envelope(curve), method="model")


def _plateau_end(front: _Front, chosen: ServingPoint) -> ServingPoint:
    """The most interactive point serving as much as `chosen`: where the prefill parts limit, a bigger batch adds nothing.

    Past the batch at which the parts run out, every batch serves the same tokens per GPU
    (`prefill_part`), so the largest batch meeting the SLA is the least interactive of equals.
    """
    n = int(np.argmax(front.tput >= chosen.tokens_per_s_per_gpu * (1.0 - 1e-9)))
    return _points(front.case, front.batch, front.v, [int(front.flat[n])])[0]


def decode_step_time(system: SystemEntry, model: ModelEntry, precision: str, gpus_per_replica: int, batch: int,
                     context_tokens: float, serving: Serving, *, drafts: int | None = None,
                     cal: Calibration | None = None) -> float:
    """Seconds per decode step of `batch` sequences at `context_tokens` mean context, on the faster layout of that size.

    With speculative decoding a step yields `serving.accepted_tokens_per_step` tokens per sequence
    and verifies floor of it drafts; `drafts` (an operating point's) overrides that count.
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
    per_seq = speculation(serving)[1] if drafts is None else drafts + 1
    t = decode_parts(hw, sz, g, dp, float(batch), float(context_tokens), per_seq).total_s
    return float(np.min(np.where(fits, t, np.inf)))


def prefill_time(system: SystemEntry, model: ModelEntry, precision: str, gpus_per_replica: int, tokens: int,
                 *, cal: Calibration | None = None) -> float:
    """Seconds to prefill one prompt of `tokens` tokens on a tensor/expert-parallel replica."""
    cal = cal or shipped_calibration()
    hw, sz = hardware(system, precision, cal), model_sizes(model, precision)
    if weights_per_gpu(sz, gpus_per_replica, False) > hw.usable_hbm_bytes:
        raise PerfError(f"{model.id} in {precision} does not fit {gpus_per_replica} GPUs of {system.id}")
    return float(prefill_s(hw, sz, gpus_per_replica, tokens))
