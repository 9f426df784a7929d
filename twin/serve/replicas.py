"""Replica types for the serving engine, from the token model: step times, prefill cost, KV memory, links.

For one (system, model) at its operating point, in the configuration the token model chose
for it (`twin.perf` under `serving: auto` picks aggregated or disaggregated serving, the
speculative drafts and the replica layout; the replica plays exactly that point):

- decode step of B sequences at mean context c: `a_B + b_B c` (the secant of the token model's
  step time on the point's layout -- its GPUs, tensor or data-parallel attention -- with the point's
  drafts verified per sequence, between c/2 and c, with c the workload's mean context, or what the
  KV memory allows at B); each step yields the point's accepted tokens per sequence;
- prefill: the token model's prefill of the workload's mean prompt (its prefix-cache misses after
  the cached part) over the tokens it computes, per prompt token, so a step's chunk of P prompt
  tokens costs P times that, and a mean prompt costs what the token model says. Disaggregated,
  the prefill replicas are the token model's prefill pool: its replica size and prefill time;
- KV memory: the HBM left after the weights on every GPU, times the ways the cache is split,
  over the KV bytes per token (`twin.perf` memory functions, the token model's calibration);
- batch limit: the operating point's mean batch per replica (all its attention-DP ranks together,
  within the engine's concurrency cap), rounded down (it meets the SLA); token budget per step:
  2048, or twice what a full batch needs on average if more;
- KV transfer (disaggregated): KV bytes per token over the replica's NVLink domain, or the
  scale-out NICs when a replica does not fit in one domain; swap: over PCIe to host memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from twin.perf import ServingPoint
from twin.perf.calibration import shipped_calibration
from twin.perf.layouts import PrefillPool, prefill_pool, replica_sizes
from twin.perf.memory import model_sizes
from twin.perf.prefill_part import require_gpu_prefill
from twin.perf.prompts import prompt_of, reload_s
from twin.perf.step import decode_parts, hardware, kv_shards, prefill_s, weights_per_gpu
from twin.production import Stream
from twin.spec import Spec

DEFAULT_TOKEN_BUDGET = 2048  # tokens per step: vLLM's max_num_batched_tokens for online serving [E]
SWAP_GBYTE_S = 50.0  # host link per GPU: PCIe Gen5 x16 is 63 GB/s per direction, ~80 % achieved [E]


@dataclass(frozen=True)
class ReplicaType:
    """What the engine needs of one replica of a system serving a model."""

    system: str
    gpus: int
    max_seqs: int
    token_budget: int
    tokens_per_step: float
    kv_capacity_tokens: float
    coef_a: np.ndarray  # (max_seqs + 1,) seconds; index 0 unused
    coef_b: np.ndarray  # (max_seqs + 1,) seconds per token of mean context
    prefill_s_per_token: float
    xfer_s_per_token: float
    swap_s_per_token: float
    capacity_tokens_per_s: float  # output tokens/s of one replica at the operating point
    prefill_gpus: float  # disaggregated: prefill GPUs the operating point provisions per decode replica


def kv_capacity_tokens(spec: Spec, stream: Stream) -> float:
    """KV-cache tokens one replica holds: the HBM left after weights on each GPU, times the ways the cache is split."""
    wm = next(w for w in spec.workload.models if w.model == stream.model)
    system, model = spec.cat.systems[stream.system], spec.cat.models[stream.model]
    cal = shipped_calibration()
    hw, sz = hardware(system, wm.precision, cal), model_sizes(model, wm.precision)
    g = stream.point.gpus_per_replica
    dp = attention_dp(stream.point)
    free = hw.usable_hbm_bytes - float(weights_per_gpu(sz, g, dp))
    return float(free * kv_shards(sz, g, dp) / sz.kv_bytes_per_token)


def attention_dp(point: ServingPoint) -> bool:
    """Whether the point's layout runs attention data-parallel (experts sharded), as its label says."""
    return "DP attention" in point.layout


def default_token_budget(seqs: int, isl: int, osl: int) -> int:
    """2048 tokens, or twice what a full batch needs per step on average (a token each, and ISL/OSL prompt tokens each)."""
    return max(DEFAULT_TOKEN_BUDGET, math.ceil(2 * seqs * (1 + isl / osl)))


def replica_type(spec: Spec, stream: Stream, *, max_batch: int | None = None, token_budget: int | None = None) -> ReplicaType:
    """The replica of `stream` (a system serving a model) as the engine plays it: the decode (or aggregated) replica."""
    wm = next(w for w in spec.workload.models if w.model == stream.model)
    system, model = spec.cat.systems[stream.system], spec.cat.models[stream.model]
    p = stream.point
    require_gpu_prefill(p, stream.system)
    g, dp = p.gpus_per_replica, attention_dp(p)
    seqs = max_batch or max(1, math.floor(p.batch_size))
    cap = kv_capacity_tokens(spec, stream)
    cal = shipped_calibration()
    hw, sz = hardware(system, wm.precision, cal), model_sizes(model, wm.precision)
    prompt = prompt_of(wm)
    ctx = prompt.tokens + wm.osl / 2.0
    a, b = np.zeros(seqs + 1), np.zeros(seqs + 1)
    batch = np.arange(1, seqs + 1, dtype=float)
    c2 = np.minimum(ctx, 0.999 * cap / batch)
    t1, t2 = (decode_parts(hw, sz, g, dp, batch, c, p.drafts + 1).total_s for c in (c2 / 2.0, c2))
    b[1:] = (t2 - t1) / (c2 / 2.0)
    a[1:] = t1 - b[1:] * c2 / 2.0
    link_gbyte_s = system.scale_up_gbyte_s if g <= system.scale_up_gpus else system.scale_out_gbps / 8.0
    return ReplicaType(
        system=stream.system, gpus=g, max_seqs=seqs,
        token_budget=token_budget or default_token_budget(seqs, wm.isl, wm.osl), tokens_per_step=p.speculative_tokens,
        kv_capacity_tokens=cap, coef_a=a, coef_b=b,
        prefill_s_per_token=float(prefill_s(hw, sz, g, prompt.computed, prompt.cached)) / prompt.computed,
        xfer_s_per_token=sz.kv_bytes_per_token / (g * link_gbyte_s * 1e9 * cal.link_efficiency),
        swap_s_per_token=sz.kv_bytes_per_token / (g * SWAP_GBYTE_S * 1e9),
        capacity_tokens_per_s=p.tokens_per_s_per_gpu * (g + p.prefill_gpus_per_replica),
        prefill_gpus=p.prefill_gpus_per_replica,
    )


def prefill_pool_of(spec: Spec, stream: Stream) -> PrefillPool | None:
    """The token model's prefill pool for a disaggregated point (None when aggregated).

    As `twin.perf` provisions it: the cheapest replica size whose prefill of the workload's mean
    prompt meets the TTFT limit, run as hot as that limit allows.
    """
    if not stream.point.disaggregated:
        return None
    wm = next(w for w in spec.workload.models if w.model == stream.model)
    system, model = spec.cat.systems[stream.system], spec.cat.models[stream.model]
    cal = shipped_calibration()
    hw, sz = hardware(system, wm.precision, cal), model_sizes(model, wm.precision)
    prompt = prompt_of(wm)
    sizes = replica_sizes(system, sz, wm.serving.wide_ep, cal.max_gpus_per_replica)
    return prefill_pool(hw, sz, sizes, prompt, wm.sla.max_ttft_s, cal.prefill_pool_max_utilization,
                        reload_s(system, prompt, sz.kv_bytes_per_token))


def prefill_type(spec: Spec, stream: Stream, decode: ReplicaType) -> ReplicaType:
    """A replica of the token model's prefill pool for `stream` (`prefill_pool_of`): its size and prefill time.

    An aggregated point has no pool: its own replica (`decode`) prefills. The KV memory is the
    decode replica's: the pool's own is not limited (prompts leave it as their prefill ends).
    """
    pool = prefill_pool_of(spec, stream)
    if pool is None:
        return decode
    wm = next(w for w in spec.workload.models if w.model == stream.model)
    sz = model_sizes(spec.cat.models[stream.model], wm.precision)
    return replace(decode, gpus=pool.gpus, prefill_s_per_token=pool.prefill_s / prompt_of(wm).computed,
                   swap_s_per_token=sz.kv_bytes_per_token / (pool.gpus * SWAP_GBYTE_S * 1e9))
