"""Time of one decode step and of one prefill on a replica of `g` GPUs.

Decode step: `max(bytes / achieved HBM bandwidth, FLOPs / achieved compute)` per GPU,
plus a fixed latency per layer and the collectives of tensor and expert parallelism
(latency-bound at decode batch sizes, so they add rather than overlap). A replica's
layout is either tensor parallel (dense models; MoE attention split by heads) or, for
mixture-of-experts models, data-parallel attention with the experts sharded across the
replica (wide expert parallelism). Every function takes NumPy arrays that broadcast
over layouts and batch sizes, so a whole frontier is a handful of array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.catalog import SystemEntry
from twin.perf.calibration import Calibration
from twin.perf.memory import ModelSizes, compute_precision, usable_hbm_bytes

ACT_BYTES = 2.0  # activations exchanged in BF16
EP_BYTES_PER_HOP = 1.5  # MoE dispatch in FP8 (1 B) and combine in BF16 (2 B): mean of the two all-to-alls


@dataclass(frozen=True)
class Hardware:
    """One GPU of a system at one precision, after its family's achieved efficiencies."""

    hbm_bytes_s: float
    linear_flops_s: float  # GEMMs at the compute precision of the weights
    attn_flops_s: float  # attention kernels compute in BF16
    layer_overhead_s: float
    moe_efficiency: float  # routed-expert grouped GEMMs reach this share of what dense GEMMs do
    usable_hbm_bytes: float
    scale_up_gpus: int
    nvlink_bytes_s: float  # achieved per GPU per direction
    scale_out_bytes_s: float
    nvlink_latency_s: float
    scale_out_latency_s: float
    all_to_all_latency_s: float  # one MoE dispatch or combine across the expert-parallel ranks, beyond the link latency


def hardware(system: SystemEntry, precision: str, cal: Calibration) -> Hardware:
    """Achieved rates of one GPU of `system` serving weights stored at `precision`."""
    fam = cal.family(system.family)
    tflops = system.gpu.dense_tflops
    computes_in = compute_precision(system, precision)
    low_precision = cal.fp4_compute_factor if computes_in == "fp4" else 1.0
    return Hardware(
        hbm_bytes_s=system.gpu.hbm_tbps * 1e12 * fam.hbm_efficiency,
        linear_flops_s=tflops[computes_in] * 1e12 * fam.compute_efficiency * low_precision,
        attn_flops_s=tflops["bf16"] * 1e12 * fam.compute_efficiency,
        layer_overhead_s=fam.layer_overhead_us * 1e-6,
        moe_efficiency=fam.moe_efficiency,
        usable_hbm_bytes=usable_hbm_bytes(system, cal.usable_hbm_fraction),
        scale_up_gpus=system.scale_up_gpus,
        nvlink_bytes_s=system.scale_up_gbyte_s * 1e9 * cal.link_efficiency,
        scale_out_bytes_s=system.scale_out_gbps / 8 * 1e9 * cal.link_efficiency,
        nvlink_latency_s=cal.nvlink_latency_us * 1e-6,
        scale_out_latency_s=cal.scale_out_latency_us * 1e-6,
        all_to_all_latency_s=cal.all_to_all_latency_us * 1e-6,
    )


def weights_per_gpu(sz: ModelSizes, g, attention_dp):
    """Weight bytes each GPU holds: experts sharded g ways; shared layers too unless attention is data-parallel."""
    return np.where(attention_dp, sz.shared_bytes, sz.shared_bytes / g) + sz.expert_bytes / g


def kv_shards(sz: ModelSizes, g, attention_dp):
    """Ways the KV cache is split: by sequence under data-parallel attention, else by KV head (MLA: not at all)."""
    return np.where(attention_dp, g, np.minimum(g, sz.kv_shards_max))


def max_batch(hw: Hardware, sz: ModelSizes, g, attention_dp, context_tokens: float, max_seqs_per_rank: int):
    """Sequences a replica holds: KV cache in the HBM left after weights, and the engine's cap per attention rank."""
    free = hw.usable_hbm_bytes - weights_per_gpu(sz, g, attention_dp)
    by_memory = free * kv_shards(sz, g, attention_dp) / (context_tokens * sz.kv_bytes_per_token)
    return np.minimum(by_memory, max_seqs_per_rank * np.where(attention_dp, g, 1))


def kv_transfer_s(hw: Hardware, sz: ModelSizes, isl: int, prefill_gpus: int, g, attention_dp):
    """Seconds to move one prompt's KV cache from its prefill replica to a decode replica of `g` GPUs.

    Over NVLink when both replicas fit in one scale-up domain, else over the scale-out NICs.
    The cache moves in parallel lanes, one per distinct shard both sides hold: KV heads under
    tensor parallelism (MLA: one, every rank holds the whole cache), one rank under attention DP.
    """
    g = np.asarray(g, dtype=float)
    same_domain = prefill_gpus + g <= hw.scale_up_gpus
    bw = np.where(same_domain, hw.nvlink_bytes_s, hw.scale_out_bytes_s)
    lat = np.where(same_domain, hw.nvlink_latency_s, hw.scale_out_latency_s)
    lanes = np.minimum(kv_shards(sz, prefill_gpus, False), np.where(attention_dp, 1, kv_shards(sz, g, False)))
    return lat + isl * sz.kv_bytes_per_token / (lanes * bw)


def kv_transfer_bound_s(hw: Hardware, sz: ModelSizes, isl: int) -> float:
    """The slowest KV transfer any layout sees: one lane over the slower fabric."""
    return max(hw.nvlink_latency_s, hw.scale_out_latency_s) + isl * sz.kv_bytes_per_token / min(hw.nvlink_bytes_s, hw.scale_out_bytes_s)


def linear_s_per_token(hw: Hardware, sz: ModelSizes) -> float:
    """GEMM time of one token on one GPU: dense layers at the GEMM rate, routed experts at the grouped-GEMM rate."""
    dense = sz.flops_per_token - sz.expert_flops_per_token
    return (dense + sz.expert_flops_per_token / hw.moe_efficiency) / hw.linear_flops_s


def experts_touched(sz: ModelSizes, tokens):
    """Share of routed experts a step reads when `tokens` tokens each pick k of E at random."""
    if sz.experts == 0:
        return np.zeros_like(np.asarray(tokens, dtype=float))
    return 1.0 - (1.0 - sz.experts_per_token / sz.experts) ** tokens


def _link(hw: Hardware, g):
    """Latency and achieved bandwidth of the fabric a replica of g GPUs communicates over."""
    inside = g <= hw.scale_up_gpus
    return np.where(inside, hw.nvlink_latency_s, hw.scale_out_latency_s), np.where(inside, hw.nvlink_bytes_s, hw.scale_out_bytes_s)


def collectives_s(hw: Hardware, sz: ModelSizes, g, attention_dp, tokens):
    """Per-step time of tensor-parallel all-reduces and expert-parallel all-to-alls, all layers."""
    lat, bw = _link(hw, g)
    multi = g > 1
    ring = 2.0 * (g - 1) / g  # bytes each GPU moves per byte all-reduced
    allreduce = lat + ring * tokens * sz.hidden * ACT_BYTES / bw
    if sz.experts == 0:
        per_layer = 2 * allreduce
    else:
        all_to_all = lat + hw.all_to_all_latency_s + (tokens / g) * sz.experts_per_token * sz.hidden * EP_BYTES_PER_HOP * (g - 1) / g / bw
        per_layer = 2 * all_to_all + np.where(attention_dp, 0.0, allreduce)
    return np.where(multi, sz.layers * per_layer, 0.0)


@dataclass(frozen=True)
class StepParts:
    """A decode step split into what bounds it, for the step time and the GPU's busy share."""

    memory_s: np.ndarray
    compute_s: np.ndarray
    fixed_s: np.ndarray

    @property
    def total_s(self):
        return np.maximum(self.memory_s, self.compute_s) + self.fixed_s

    @property
    def busy_fraction(self):
        """Share of the step the binding resource (HBM or tensor cores) is busy."""
        return np.maximum(self.memory_s, self.compute_s) / self.total_s


def decode_parts(hw: Hardware, sz: ModelSizes, g, attention_dp, batch, context_tokens, tokens_per_seq: int = 1) -> StepParts:
    """One decode step of `batch` sequences at mean context `context_tokens` on a replica of `g` GPUs.

    `tokens_per_seq` > 1 is a speculative step: the drafts are verified in the same pass
    (more FLOPs and experts, the same weights and KV read once), and each draft adds a layer's fixed time.
    """
    tokens = batch * tokens_per_seq
    weight_bytes = np.where(attention_dp, sz.shared_bytes, sz.shared_bytes / g) + sz.expert_bytes * experts_touched(sz, tokens) / g
    kv_bytes = batch * context_tokens * sz.kv_bytes_per_token / kv_shards(sz, g, attention_dp)
    compute = tokens * (linear_s_per_token(hw, sz) + context_tokens * sz.attn_flops_per_ctx / hw.attn_flops_s) / g
    fixed = (sz.layers + tokens_per_seq - 1) * hw.layer_overhead_s + collectives_s(hw, sz, g, attention_dp, tokens)
    return StepParts(memory_s=(weight_bytes + kv_bytes) / hw.hbm_bytes_s, compute_s=compute, fixed_s=fixed)


def prefill_work_s(hw: Hardware, sz: ModelSizes, g, tokens: float, cached: float = 0.0):
    """(compute, weight-read) seconds of prefilling `tokens` new tokens after `cached` ones, split evenly over `g` GPUs.

    Causal attention pairs each new token with the cached ones and the new ones before it:
    tokens * cached + tokens^2 / 2 pairs.
    """
    pairs_as_square = tokens**2 + 2.0 * tokens * cached  # in units of the causal square tokens^2 / 2
    compute = (tokens * linear_s_per_token(hw, sz) + pairs_as_square * sz.prefill_attn_flops_per_sq / hw.attn_flops_s) / g
    weights = (sz.shared_bytes / g + sz.expert_bytes * experts_touched(sz, tokens) / g) / hw.hbm_bytes_s
    return compute, weights


def prefill_s(hw: Hardware, sz: ModelSizes, g, tokens: float, cached: float = 0.0):
    """Time to prefill `tokens` new tokens after `cached` ones already in the KV cache, on a replica of g GPUs.

    Prompts are long enough that weights, compute and the (large-message) collectives overlap;
    the per-layer fixed time and the collective latencies add.
    """
    g = np.asarray(g, dtype=float)
    compute, weights = prefill_work_s(hw, sz, g, tokens, cached)
    lat, bw = _link(hw, g)
    if sz.experts == 0:
        moved = 2 * 2.0 * (g - 1) / g * tokens * sz.hidden * ACT_BYTES
        n_coll = 2
    else:
        moved = (2.0 * (g - 1) / g * tokens * sz.hidden * ACT_BYTES
                 + 2 * (tokens / g) * sz.experts_per_token * sz.hidden * EP_BYTES_PER_HOP * (g - 1) / g)
        n_coll = 3
    comm = np.where(g > 1, sz.layers * moved / bw, 0.0)
    fixed = sz.layers * (hw.layer_overhead_s + np.where(g > 1, n_coll * lat, 0.0))
    return np.maximum(np.maximum(compute, weights), comm) + fixed
