"""Disaggregated serving on a system with a prefill-only part (Rubin CPX): prefill on the parts, decode on the GPUs.

A rack of N GPUs carries K prefill parts, k = K / N per GPU. A decode replica of g GPUs
making r output tokens/s needs p parts of prefill (the M/D/1 pool of `layouts.prefill_pool`,
sized on the parts' own rates). The rack runs out of one pool first:

    p / g <= k: every GPU decodes, a share 1 - p / (k g) of the parts sits idle
    p / g >  k: the parts feed only k g / p of the GPUs, the rest sit idle

so a replica takes max(g, p / k) GPUs' worth of the rack, and output tokens/s per GPU
(per main GPU, the `gpus_per_system` every rack-level figure multiplies) is
r / max(g, p / k). Power places the rack between idle and max by the busy shares of both
pools, each weighted by its share of the rack's GPU and part board power.

Each disaggregated configuration is searched twice on such a system: prefill on the parts,
and prefill on the GPUs with the parts idle (as on the same rack without them); aggregated
serving runs on the GPUs alone, the parts idle. Idle parts draw their idle share of power.
The parts have no scale-up domain: a replica of several parts is a pipeline (layers split
over the parts, the prompt streamed through in chunks), the KV cache moves over their link
into a decode GPU's NIC, and they take their system's calibrated efficiencies (no part has
been measured).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from twin.catalog import GpuSpec, SystemEntry
from twin.perf.calibration import Calibration
from twin.perf.layouts import PrefillPool, cheapest_pool
from twin.perf.memory import ModelSizes
from twin.perf.points import PerfError
from twin.perf.prompts import Prompt
from twin.perf.serving import ServingConfig
from twin.perf.step import ACT_BYTES, Hardware, hardware, prefill_work_s


def with_parts(system: SystemEntry, configs: list[ServingConfig]) -> list[ServingConfig]:
    """`configs`, and on a system with prefill parts each disaggregated one again with its prefill on the parts."""
    if system.prefill_part is None:
        return configs
    return [*configs, *(replace(c, prefill_on_parts=True) for c in configs if c.disaggregated)]


def part_system(system: SystemEntry) -> SystemEntry:
    """The prefill part seen as a system of its own: one part per scale-up domain, its link as the scale-out network."""
    part = system.prefill_part
    gpu = GpuSpec(name=part.name, hbm_gb=part.memory_gb, hbm_tbps=part.memory_tbps, dense_tflops=part.dense_tflops,
                  tdp_w=part.tdp_w)
    return system.model_copy(update={
        "gpu": gpu, "gpus_per_system": part.per_system, "scale_up_gpus": 1, "scale_up_gbyte_s": part.link_gbyte_s,
        "scale_out_gbps": part.link_gbyte_s * 8.0, "prefill_part": None,
    })


def gpu_power_share(system: SystemEntry) -> float:
    """Share of the system's board power in its GPUs (1 without prefill parts): the GPUs' weight in its busy share."""
    part = system.prefill_part
    if part is None:
        return 1.0
    gpus = system.gpus_per_system * system.gpu.tdp_w
    return gpus / (gpus + part.per_system * part.tdp_w)


@dataclass(frozen=True)
class PartPool(PrefillPool):
    """A prefill pool on the system's parts: `gpus` is parts per prefill replica; the rack's fixed ratio binds one pool."""

    name: str
    per_system: int
    parts_per_gpu: float  # k: parts per main GPU in one system
    gpu_share: float  # the GPUs' share of board power (`gpu_power_share`)

    def _fed(self, g, prefill):
        """Share of the GPUs the parts keep busy: min(1, k g / p)."""
        return np.minimum(1.0, self.parts_per_gpu * np.asarray(g, dtype=float) / np.maximum(prefill, 1e-30))

    def tokens_per_gpu(self, tokens_per_s, g, prefill):
        """Per main GPU: the replica takes max(g, p / k) GPUs' worth of the rack."""
        return tokens_per_s / np.maximum(g, prefill / self.parts_per_gpu)

    def busy_share(self, g, decode_busy, prefill):
        """GPUs fed at their decode busy share, parts in use at the pool's utilization, weighted by board power."""
        fed = self._fed(g, prefill)
        parts_used = fed * prefill / (self.parts_per_gpu * np.asarray(g, dtype=float))
        return self.gpu_share * decode_busy * fed + (1.0 - self.gpu_share) * self.utilization * parts_used

    def describe(self, g: int, prefill: float) -> dict:
        """The point's `serving.prefill_part`: parts per replica, which pool limits, the idle shares of both."""
        fed = float(self._fed(g, prefill))
        return {
            "name": self.name,
            "parts_per_system": self.per_system,
            "parts_per_prefill_replica": self.gpus,
            "parts_per_decode_replica": prefill,
            "limited_by": "prefill parts" if fed < 1.0 else "decode GPUs",
            "gpus_idle_share": 1.0 - fed,
            "parts_idle_share": 1.0 - fed * prefill / (self.parts_per_gpu * g),
        }


def idle_parts(system: SystemEntry) -> dict | None:
    """What an aggregated point's `serving` says of the system's parts: all idle (None without parts)."""
    part = system.prefill_part
    if part is None:
        return None
    return {"name": part.name, "parts_per_system": part.per_system, "parts_per_prefill_replica": 0,
            "parts_per_decode_replica": 0.0, "limited_by": "none: the parts idle", "gpus_idle_share": 0.0, "parts_idle_share": 1.0}


def pipeline_prefill_s(hw: Hardware, sz: ModelSizes, parts, tokens: float, cached: float = 0.0):
    """Seconds to prefill one prompt on a pipeline of `parts` parts, each holding layers / parts of the model.

    The prompt streams through the stages in chunks (chunked pipeline prefill), so compute and
    weight reads split over the parts as under tensor parallelism; what crosses the link is one
    activation per token at each stage boundary, the boundaries working at once. The pipeline's
    fill (a chunk's time per stage) is not counted: prompts run to many chunks.
    """
    parts = np.asarray(parts, dtype=float)
    compute, weights = prefill_work_s(hw, sz, parts, tokens, cached)
    handoff = np.where(parts > 1, tokens * sz.hidden * ACT_BYTES / hw.scale_out_bytes_s, 0.0)
    return np.maximum(np.maximum(compute, weights), handoff) + sz.layers * hw.layer_overhead_s + (parts - 1) * hw.scale_out_latency_s


def fits_pipeline(hw: Hardware, sz: ModelSizes, parts: np.ndarray, tokens: float) -> np.ndarray:
    """Each stage holds its layers' weights and their share of one prompt's KV cache."""
    return (sz.weight_bytes + tokens * sz.kv_bytes_per_token) / parts <= hw.usable_hbm_bytes


def kv_handoff_s(part_hw: Hardware, gpu_hw: Hardware, sz: ModelSizes, tokens: float, parts):
    """One prompt's KV cache from a pipeline of `parts` (each part sends its layers') into one decode GPU's NIC."""
    bw = np.minimum(np.asarray(parts, dtype=float) * part_hw.scale_out_bytes_s, gpu_hw.scale_out_bytes_s)
    return max(part_hw.scale_out_latency_s, gpu_hw.scale_out_latency_s) + tokens * sz.kv_bytes_per_token / bw


def require_gpu_prefill(point, system_id: str) -> None:
    """Refuse a point that prefills on a system's parts where a caller plays prefill on GPUs (the request-level simulations)."""
    if point.prefill_part and point.prefill_part["parts_per_decode_replica"]:
        raise PerfError(f"{system_id}'s operating point prefills on its {point.prefill_part['name']} parts, which the request-level "
                        "serving simulation does not model (it plays prefill on GPUs); the token model's figures hold")


def part_pool(system: SystemEntry, gpu_hw: Hardware, sz: ModelSizes, prompt: Prompt, max_ttft_s: float, cal: Calibration,
              precision: str, reload: float, model_id: str) -> tuple[PartPool, float]:
    """The cheapest prefill pool on `system`'s parts meeting `max_ttft_s`, and the KV handoff to a decode replica.

    Pipelines of 1, 2, 4, ... parts (at most the system's parts, the model's layers and the
    calibration's largest replica); the pool is sized as `layouts.prefill_pool` sizes one of GPUs.
    Raises PerfError when no pipeline holds the model or meets the TTFT limit.
    """
    part = system.prefill_part
    hw = hardware(part_system(system), precision, cal)
    top = min(part.per_system, sz.layers, cal.max_gpus_per_replica)
    p = np.array([2**i for i in range(12) if 2**i <= top], dtype=float)
    p = p[fits_pipeline(hw, sz, p, prompt.tokens)]
    if p.size == 0:
        raise PerfError(f"no prefill pipeline of {model_id} on {system.id}'s {part.name} parts holds its weights and one "
                        f"{prompt.tokens:.0f}-token prompt (at most {top} parts of {part.memory_gb:g} GB)")
    t = pipeline_prefill_s(hw, sz, p, prompt.computed, prompt.cached)
    pool = cheapest_pool(p, t, max_ttft_s, reload, kv_handoff_s(hw, gpu_hw, sz, prompt.tokens, p), cal.prefill_pool_max_utilization)
    if pool is None:
        raise PerfError(f"no prefill pipeline of {model_id} on {system.id}'s {part.name} parts meets TTFT <= {max_ttft_s:g} s: "
                        f"the fastest prefill of a {prompt.tokens:.0f}-token prompt takes {float(np.min(t)) + reload:.3g} s")
    out = PartPool(gpus=pool.gpus, prefill_s=pool.prefill_s, utilization=pool.utilization, name=part.name,
                   per_system=part.per_system, parts_per_gpu=part.per_system / system.gpus_per_system,
                   gpu_share=gpu_power_share(system))
    return out, float(kv_handoff_s(hw, gpu_hw, sz, prompt.tokens, pool.gpus))
