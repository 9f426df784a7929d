"""Replica types for the serving engine, from the token model: step times, prefill cost, KV memory, links.

For one (system, model) at its operating point:

- decode step of B sequences at mean context c: `a_B + b_B c` (the secant of `decode_step_time`
  between c/2 and c, with c the workload's mean context, or what the KV memory allows at B);
- prefill: `prefill_time(ISL) / ISL` seconds per prompt token, so a step's chunk of P prompt
  tokens costs P times that, and a prompt of the workload's ISL costs what the token model says;
- KV memory: the HBM left after the weights on every GPU, times the ways the cache is split,
  over the KV bytes per token (`twin.perf` memory functions, the token model's calibration);
- batch limit: the operating point's mean batch, rounded down (it meets the SLA); token budget per
  step: 2048, or twice what a full batch needs on average if more;
- KV transfer (disaggregated): KV bytes per token over the replica's NVLink domain, or the
  scale-out NICs when a replica does not fit in one domain; swap: over PCIe to host memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.perf import decode_step_time, prefill_time
from twin.perf.calibration import shipped_calibration
from twin.perf.memory import model_sizes
from twin.perf.step import hardware, kv_shards, weights_per_gpu
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
    dp = "DP attention" in stream.point.layout
    free = hw.usable_hbm_bytes - float(weights_per_gpu(sz, g, dp))
    return float(free * kv_shards(sz, g, dp) / sz.kv_bytes_per_token)


def default_token_budget(seqs: int, isl: int, osl: int) -> int:
    """2048 tokens, or twice what a full batch needs per step on average (a token each, and ISL/OSL prompt tokens each)."""
    return max(DEFAULT_TOKEN_BUDGET, math.ceil(2 * seqs * (1 + isl / osl)))


def replica_type(spec: Spec, stream: Stream, *, max_batch: int | None = None, token_budget: int | None = None) -> ReplicaType:
    """The replica of `stream` (a system serving a model) as the engine plays it."""
    wm = next(w for w in spec.workload.models if w.model == stream.model)
    system, model = spec.cat.systems[stream.system], spec.cat.models[stream.model]
    p = stream.point
    g = p.gpus_per_replica
    seqs = max_batch or max(1, math.floor(p.batch_size))
    cap = kv_capacity_tokens(spec, stream)
    ctx = wm.isl + wm.osl / 2.0
    a, b = np.zeros(seqs + 1), np.zeros(seqs + 1)
    for batch in range(1, seqs + 1):
        c2 = min(ctx, 0.999 * cap / batch)
        t1, t2 = (decode_step_time(system, model, wm.precision, g, batch, c, wm.serving, drafts=p.drafts) for c in (c2 / 2.0, c2))
        b[batch] = (t2 - t1) / (c2 / 2.0)
        a[batch] = t1 - b[batch] * c2 / 2.0
    sz = model_sizes(model, wm.precision)
    cal = shipped_calibration()
    link_gbyte_s = system.scale_up_gbyte_s if g <= system.scale_up_gpus else system.scale_out_gbps / 8.0
    tps = p.speculative_tokens  # the configuration the operating point chose (serving: auto) or was pinned to
    return ReplicaType(
        system=stream.system, gpus=g, max_seqs=seqs,
        token_budget=token_budget or default_token_budget(seqs, wm.isl, wm.osl), tokens_per_step=tps, kv_capacity_tokens=cap,
        coef_a=a, coef_b=b,
        prefill_s_per_token=prefill_time(system, model, wm.precision, g, wm.isl) / wm.isl,
        xfer_s_per_token=sz.kv_bytes_per_token / (g * link_gbyte_s * 1e9 * cal.link_efficiency),
        swap_s_per_token=sz.kv_bytes_per_token / (g * SWAP_GBYTE_S * 1e9),
        capacity_tokens_per_s=p.tokens_per_s_per_gpu * (g + p.prefill_gpus_per_replica),
        prefill_gpus=p.prefill_gpus_per_replica,
    )
