"""Which replica layouts to consider: sizes g, tensor or expert parallelism, and the prefill pool.

Dense models are tensor parallel inside one NVLink domain (tensor parallelism over the
scale-out network is never worth it). Mixture-of-experts models may also run attention
data-parallel with the experts sharded across the replica; with `wide_ep` the replica
may span the whole NVLink domain and, in whole systems, the scale-out network
(DeepSeek-R1 in FP8 needs two 8-GPU H100 servers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.catalog import SystemEntry
from twin.perf.memory import ModelSizes
from twin.perf.prompts import Prompt
from twin.perf.step import Hardware, kv_shards, kv_transfer_bound_s, max_batch, prefill_s, weights_per_gpu

NARROW_EP_GPUS = 8  # expert parallelism without wide_ep stays inside one 8-GPU board


@dataclass(frozen=True)
class Layouts:
    """Candidate decode layouts as arrays (one entry per layout)."""

    gpus: np.ndarray
    attention_dp: np.ndarray
    max_batch: np.ndarray

    def label(self, i: int) -> str:
        g = int(self.gpus[i])
        return f"EP{g} + DP attention" if self.attention_dp[i] else f"TP{g}" if g > 1 else "1 GPU"


def replica_sizes(system: SystemEntry, sz: ModelSizes, wide_ep: bool, max_gpus: int) -> list[int]:
    """Replica sizes: powers of two and the full NVLink domain, then whole domains beyond it (wide EP only)."""
    domain = system.scale_up_gpus
    if sz.experts == 0:
        limit = min(domain, max_gpus)
    elif wide_ep:
        limit = max_gpus
    else:
        limit = min(domain, NARROW_EP_GPUS, max_gpus)
    sizes = {2**i for i in range(12) if 2**i <= min(limit, domain)}
    n = 1
    while domain * n <= limit:
        sizes.add(domain * n)
        n *= 2
    return sorted(sizes)


def decode_layouts(hw: Hardware, sz: ModelSizes, sizes: list[int], context_tokens: float, max_seqs_per_rank: int,
                   max_seqs_per_replica: float | None = None) -> Layouts:
    """Every layout whose weights fit with room for at least one sequence (optionally capped per replica)."""
    gs, dps = [], []
    for g in sizes:
        gs.append(g)
        dps.append(False)
        if sz.experts and g > 1:
            gs.append(g)
            dps.append(True)
    g = np.array(gs, dtype=float)
    dp = np.array(dps, dtype=bool)
    # Tensor-parallel attention over the scale-out network is never used: beyond one domain, attention is data-parallel.
    keep = dp | (g <= hw.scale_up_gpus)
    bmax = max_batch(hw, sz, g, dp, context_tokens, max_seqs_per_rank)
    if max_seqs_per_replica is not None:
        bmax = np.minimum(bmax, max_seqs_per_replica)
    keep &= bmax >= 1.0
    return Layouts(gpus=g[keep], attention_dp=dp[keep], max_batch=bmax[keep])


def fits_prefill(hw: Hardware, sz: ModelSizes, g: np.ndarray, tokens: float) -> np.ndarray:
    """A prefill replica must hold the weights and one prompt's KV cache."""
    kv = tokens * sz.kv_bytes_per_token / kv_shards(sz, g, False)
    return weights_per_gpu(sz, g, False) + kv <= hw.usable_hbm_bytes


@dataclass(frozen=True)
class PrefillPool:
    """Disaggregated prefill: replica size, time per prompt, and how hot the pool may run."""

    gpus: int
    prefill_s: float
    utilization: float

    @property
    def gpu_s_per_request(self) -> float:
        """GPU-seconds of provisioned prefill capacity per request."""
        return self.gpus * self.prefill_s / self.utilization

    def gpus_for(self, requests_per_s):
        """Prefill GPUs that keep up with `requests_per_s` new requests (the decode replica's completions)."""
        return requests_per_s * self.gpu_s_per_request

    @property
    def ttft_s(self) -> float:
        """Queue wait plus the prompt's own prefill; the KV transfer to decode comes on top."""
        return self.prefill_s + _md1_wait(self.utilization, self.prefill_s)

    def tokens_per_gpu(self, tokens_per_s, g, prefill):
        """Output tokens/s per GPU of a decode replica of `g` GPUs fed by `prefill` pool GPUs: both count."""
        return tokens_per_s / (g + prefill)

    def busy_share(self, g, decode_busy, prefill):
        """Busy share of the replica's GPUs, decode and prefill together: what places power between idle and max."""
        return (g * decode_busy + prefill * self.utilization) / (g + prefill)

    def describe(self, g: int, prefill: float) -> dict | None:
        """What a point's `serving` says of its prefill part (`twin.perf.prefill_part`); GPUs prefill here: none."""
        return None


def _md1_wait(rho, service_s):
    """Mean queueing delay of an M/D/1 queue (Pollaczek-Khinchine with deterministic service)."""
    return rho * service_s / (2.0 * (1.0 - rho))


def prefill_pool(hw: Hardware, sz: ModelSizes, sizes: list[int], prompt: Prompt, max_ttft_s: float, max_util: float,
                 reload_s: float = 0.0) -> PrefillPool | None:
    """The cheapest prefill pool (GPU-seconds per request) whose TTFT meets `max_ttft_s`; None if none does.

    The pool runs as hot as the TTFT budget allows: an M/D/1 wait of rho*T/(2(1-rho)) must fit
    in what the prompt's own prefill, the reload of its cached prefix and the slowest KV transfer
    to decode (`kv_transfer_bound_s`) leave, capped at `max_util`. Its GPUs are provisioned for
    the request rate at that utilization.
    """
    g = np.array(sizes, dtype=float)
    g = g[fits_prefill(hw, sz, g, prompt.tokens)]
    if g.size == 0:
        return None
    t = prefill_s(hw, sz, g, prompt.computed, prompt.cached)
    return cheapest_pool(g, t, max_ttft_s, reload_s, kv_transfer_bound_s(hw, sz, prompt.tokens), max_util)


def cheapest_pool(g: np.ndarray, t: np.ndarray, max_ttft_s: float, reload_s: float, transfer_s,
                  max_util: float) -> PrefillPool | None:
    """The cheapest of replica sizes `g` (prefill `t` s, KV handoff `transfer_s` s: one, or one per size) at the TTFT (`prefill_pool`)."""
    slack = (max_ttft_s - t - reload_s - transfer_s) / t
    rho = np.minimum(max_util, 2.0 * slack / (1.0 + 2.0 * slack))
    ok = slack > 0
    if not ok.any():
        return None
    cost = np.where(ok, g * t / np.where(ok, rho, 1.0), np.inf)
    i = int(np.argmin(cost))
    return PrefillPool(gpus=int(g[i]), prefill_s=float(t[i]), utilization=float(rho[i]))


def min_prefill_ttft(hw: Hardware, sz: ModelSizes, sizes: list[int], prompt: Prompt) -> float:
    """The fastest TTFT any prefill replica reaches on an empty queue."""
    g = np.array(sizes, dtype=float)
    g = g[fits_prefill(hw, sz, g, prompt.tokens)]
    return float(np.min(prefill_s(hw, sz, g, prompt.computed, prompt.cached))) if g.size else float("inf")
