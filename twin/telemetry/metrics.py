"""The metrics the twin understands, by role, as the DCGM exporter and the serving engines name them.

A role groups the names different tools give one quantity (vLLM, SGLang and Dynamo each
name their token counters and latency histograms their own way). Any other metric in a
file is unknown: reported once, then ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "gauge", "histogram"]


@dataclass(frozen=True)
class Role:
    """One measured quantity: its kind, unit and the metric family names that carry it."""

    kind: Kind
    unit: str
    names: tuple[str, ...]


ROLES: dict[str, Role] = {
    # NVIDIA DCGM exporter (dcgm-exporter default counters), one series per GPU.
    "gpu_power_w": Role("gauge", "W", ("DCGM_FI_DEV_POWER_USAGE",)),
    "gpu_util_pct": Role("gauge", "%", ("DCGM_FI_DEV_GPU_UTIL",)),
    "gpu_temp_c": Role("gauge", "C", ("DCGM_FI_DEV_GPU_TEMP",)),
    "gpu_xid": Role("gauge", "code", ("DCGM_FI_DEV_XID_ERRORS",)),
    "gpu_energy_mj": Role("counter", "mJ", ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",)),
    # Serving engines: vLLM, SGLang, Dynamo's frontend.
    "output_tokens": Role("counter", "tokens", ("vllm:generation_tokens", "sglang:generation_tokens")),
    "prompt_tokens": Role("counter", "tokens", ("vllm:prompt_tokens", "sglang:prompt_tokens")),
    "requests_running": Role("gauge", "requests", ("vllm:num_requests_running", "sglang:num_running_reqs", "dynamo_frontend_inflight_requests")),
    "requests_waiting": Role("gauge", "requests", ("vllm:num_requests_waiting", "sglang:num_queue_reqs", "dynamo_frontend_queued_requests")),
    "ttft_s": Role("histogram", "s", ("vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds",
                                      "dynamo_frontend_time_to_first_token_seconds")),
    "tpot_s": Role("histogram", "s", ("vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds",
                                      "sglang:inter_token_latency_seconds", "dynamo_frontend_inter_token_latency_seconds")),
    "kv_cache_usage": Role("gauge", "fraction", ("vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc", "sglang:token_usage")),
    "prefix_cache_queries": Role("counter", "tokens", ("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries")),
    "prefix_cache_hits": Role("counter", "tokens", ("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits")),
    "requests_finished": Role("counter", "requests", ("vllm:request_success", "dynamo_frontend_requests")),
    "requests_aborted": Role("counter", "requests", ("sglang:num_aborted_requests",)),
}

FAMILY_ROLE: dict[str, str] = {name: role for role, r in ROLES.items() for name in r.names}
_SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum")


def family_of(sample_name: str) -> str:
    """The metric family of a sample name: `vllm:generation_tokens_total` -> `vllm:generation_tokens`."""
    if sample_name in FAMILY_ROLE:
        return sample_name
    for suffix in _SUFFIXES:
        if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in FAMILY_ROLE:
            return sample_name[: -len(suffix)]
    return sample_name
