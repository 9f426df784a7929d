"""Exposition text in the formats the DCGM exporter and vLLM document, and a way to run `aift` in-process."""

from __future__ import annotations

# dcgm-exporter's default counters (etc/default-counters.csv) as it exposes them: gauges, one series
# per GPU, labels gpu, UUID, device, modelName, Hostname (plus the driver version).
DCGM_LABELS = 'gpu="{g}",UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e5{g}",device="nvidia{g}",modelName="{model}",Hostname="{host}",DCGM_FI_DRIVER_VERSION="550.54.15"'


def dcgm_scrape(ms: int, power_w: float, util_pct: float, model: str = "NVIDIA H100 80GB HBM3", host: str = "node-a", gpus: int = 2) -> str:
    lines = []
    for name, help_, value in (("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", 1980),
                               ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", 61),
                               ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", power_w),
                               ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", util_pct),
                               ("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", 0)):
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} gauge"]
        lines += [f"{name}{{{DCGM_LABELS.format(g=g, model=model, host=host)}}} {value} {ms}" for g in range(gpus)]
    return "\n".join(lines) + "\n"


VLLM_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def vllm_scrape(ms: int, generation: float, prompt: float, ttft_counts: list[float], model: str = VLLM_MODEL) -> str:
    """A vLLM /metrics page (v0.6+ names, with the engine label of v1): counters, gauges, a TTFT histogram."""
    lab = f'engine="0",model_name="{model}"'
    total = ttft_counts[-1]
    lines = [
        "# HELP vllm:num_requests_running Number of requests in model execution batches.",
        "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{{{lab}}} 12.0 {ms}",
        "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
        "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{{{lab}}} 3.0 {ms}",
        "# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.",
        "# TYPE vllm:gpu_cache_usage_perc gauge", f"vllm:gpu_cache_usage_perc{{{lab}}} 0.42 {ms}",
        "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
        "# TYPE vllm:prompt_tokens_total counter", f"vllm:prompt_tokens_total{{{lab}}} {prompt} {ms}",
        "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
        "# TYPE vllm:generation_tokens_total counter", f"vllm:generation_tokens_total{{{lab}}} {generation} {ms}",
        "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.",
        "# TYPE vllm:time_to_first_token_seconds histogram",
    ]
    lines += [f'vllm:time_to_first_token_seconds_bucket{{{lab},le="{b}"}} {c} {ms}' for b, c in zip(TTFT_BUCKETS, ttft_counts, strict=False)]
    lines += [f'vllm:time_to_first_token_seconds_bucket{{{lab},le="+Inf"}} {total} {ms}',
              f"vllm:time_to_first_token_seconds_count{{{lab}}} {total} {ms}",
              f"vllm:time_to_first_token_seconds_sum{{{lab}}} {0.3 * total} {ms}"]
    return "\n".join(lines) + "\n"


