"""What a model weighs in HBM and how many sequences the KV cache leaves room for.

Mixture-of-experts weights are split into the part every token reads (attention,
embeddings, dense and shared layers) and the routed experts, because expert
parallelism shards only the experts and a small batch reads only the experts it routes to.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.catalog import BYTES_PER_PARAM, ModelEntry, SystemEntry

# KV cache in FP8 whenever the weights are 8 bits or fewer: the default of TensorRT-LLM,
# vLLM and SGLang recipes for FP8/FP4 checkpoints; BF16 otherwise, and for INT4 weight-only
# checkpoints (vLLM's kv_cache_dtype "auto" follows the BF16 activations).
KV_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp4": 1.0, "int4": 2.0}
# 4-bit MoE checkpoints quantize the expert FFNs only: attention and shared layers keep
# >= 8 bits in FP4 ones (NVFP4, MXFP4) and BF16 in INT4 quantization-aware ones (Kimi K2 Thinking / K2.5).
MIN_SHARED_BYTES_MOE = {"fp4": 1.0, "int4": 2.0}
# Per-head width of an MLA model that omits head_dim: DeepSeek-V2/V3's qk_nope and v head dims.
MLA_HEAD_DIM = 128
# Ways tensor parallelism splits an MLA cache: none. Every TP rank holds the whole latent (it
# is one head wide), as in vLLM, SGLang and TensorRT-LLM; their DeepSeek recipes switch to
# data-parallel attention (one rank per sequence) to avoid the copies (SGLang DP-attention docs).
MLA_KV_SHARDS_UNDER_TP = 1
# Tensor cores from narrowest to widest: a GPU without FP4 computes FP4 weights at FP8.
COMPUTE_PRECISIONS = ("fp4", "fp8", "bf16")


@dataclass(frozen=True)
class ModelSizes:
    """Per-model figures the step-time model needs, at one precision."""

    shared_bytes: float  # weights every token reads
    expert_bytes: float  # routed-expert weights (0 for a dense model)
    kv_bytes_per_token: float  # all layers
    flops_per_token: float  # linear layers: 2 x active parameters
    expert_flops_per_token: float  # the routed experts' share of it (grouped GEMMs)
    attn_flops_per_ctx: float  # decode attention FLOPs per new token per cached token
    prefill_attn_flops_per_sq: float  # causal prefill attention FLOPs per prompt-length squared
    layers: int
    hidden: int
    experts: int  # 0 for dense
    experts_per_token: int
    kv_shards_max: int  # ways tensor parallelism can split the KV cache (KV heads; 1 for MLA)

    @property
    def weight_bytes(self) -> float:
        return self.shared_bytes + self.expert_bytes


def head_dim(model: ModelEntry) -> int:
    """Per-head width (for MLA: of the uncompressed heads that prefill computes)."""
    return model.head_dim or MLA_HEAD_DIM


def query_heads(model: ModelEntry) -> int:
    """Attention (query) heads; the catalog may omit them where heads x head_dim = hidden."""
    return model.attention_heads or model.hidden_size // head_dim(model)


def expert_params_b(model: ModelEntry) -> float:
    """Routed-expert parameters, billions: from total = shared + experts, active = shared + experts * k / E."""
    if not model.is_moe:
        return 0.0
    frac = model.experts_per_token / model.experts
    return (model.params_total_b - model.params_active_b) / (1.0 - frac)


def model_sizes(model: ModelEntry, precision: str) -> ModelSizes:
    """Bytes and FLOPs of `model` served at `precision`."""
    bpp = BYTES_PER_PARAM[precision]
    expert_b = expert_params_b(model)
    shared_bpp = max(bpp, MIN_SHARED_BYTES_MOE.get(precision, bpp)) if model.is_moe else bpp
    heads = query_heads(model)
    if model.attention == "mla":
        # Decode runs MLA "absorbed": every head attends over the compressed latent (QK and V ~ kv_lora_dim).
        attn_per_ctx = 4.0 * heads * model.kv_lora_dim * model.layers
        kv_shards = MLA_KV_SHARDS_UNDER_TP
    else:
        attn_per_ctx = 4.0 * heads * model.head_dim * model.layers
        kv_shards = model.kv_heads
    return ModelSizes(
        shared_bytes=(model.params_total_b - expert_b) * 1e9 * shared_bpp,
        expert_bytes=expert_b * 1e9 * bpp,
        kv_bytes_per_token=model.kv_elems_per_token() * KV_BYTES[precision],
        flops_per_token=2.0 * model.params_active_b * 1e9,
        expert_flops_per_token=2.0 * expert_b * (model.experts_per_token or 0) / (model.experts or 1) * 1e9,
        attn_flops_per_ctx=attn_per_ctx,
        # Causal: QK^T and AV over half the square, 2 FLOPs per multiply-add, per head and layer.
        prefill_attn_flops_per_sq=2.0 * heads * head_dim(model) * model.layers,
        layers=model.layers,
        hidden=model.hidden_size,
        experts=model.experts or 0,
        experts_per_token=model.experts_per_token or 0,
        kv_shards_max=kv_shards,
    )


def compute_precision(system: SystemEntry, precision: str) -> str:
    """The narrowest tensor-core precision the GPU has that can compute `precision` weights (INT4 weight-only: BF16)."""
    start = "bf16" if precision == "int4" else precision
    for p in COMPUTE_PRECISIONS[COMPUTE_PRECISIONS.index(start):]:
        if p in system.gpu.dense_tflops:
            return p
    raise ValueError(f"{system.id} has no tensor-core rate for {precision} or wider")


def usable_hbm_bytes(system: SystemEntry, usable_fraction: float) -> float:
    """HBM per GPU the serving engine may fill with weights and KV cache."""
    return system.gpu.hbm_gb * 1e9 * usable_fraction
