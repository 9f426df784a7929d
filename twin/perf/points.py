"""What the token production model returns: serving points, the operating point, its errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

JSON_KEYS = (
    "tokens_per_s_per_gpu",
    "total_tokens_per_s_per_gpu",
    "tokens_per_s_per_user",
    "batch_size",
    "gpus_per_replica",
    "ttft_s",
    "system_power_kw",
    "tokens_per_joule",
)


class PerfError(ValueError):
    """The model does not fit the system, the precision is not served, or no point meets the SLA."""


@dataclass(frozen=True)
class ServingPoint:
    """One way to serve a model on a system: a replica layout at a mean running batch.

    Throughputs are per GPU of the replica, including the prefill GPUs of a
    disaggregated deployment (on a system with prefill parts: per GPU of the system, the
    parts not counted as GPUs); power is that of one catalog system (a server or an
    NVL72 rack) running every GPU at this point.
    """

    tokens_per_s_per_gpu: float  # output tokens: the product
    total_tokens_per_s_per_gpu: float  # input + output, as InferenceX counts
    tokens_per_s_per_user: float  # interactivity: 1 / time per output token
    batch_size: float  # mean sequences in flight on one replica, a time average (aggregated: with the one in prefill)
    gpus_per_replica: int  # decode GPUs of one replica (all of its GPUs when aggregated)
    ttft_s: float
    system_power_kw: float
    tokens_per_joule: float  # output tokens per joule of system IT power
    gpu_utilization: float  # busy share that places power between idle_kw and max_kw
    tpot_s: float  # time per output token seen by a user
    prefill_gpus_per_replica: float  # disaggregated prefill GPUs serving one decode replica (0 when aggregated)
    layout: str  # parallelism, e.g. "TP8" or "EP72 + DP attention"
    disaggregated: bool  # prefill on its own GPUs
    speculative_tokens: float  # mean output tokens per sequence per decode step (1: no speculation)
    drafts: int  # draft tokens verified per sequence per step
    # A system's prefill-only parts (Rubin CPX), `twin.perf.prefill_part`: which pool limits, what idles; None without parts
    prefill_part: dict | None = field(default=None, hash=False)

    @property
    def serving(self) -> dict:
        """The configuration this point runs: the `serving` key of `aift perf --json`."""
        return {
            "mode": "disaggregated" if self.disaggregated else "aggregated",
            "decode_gpus": self.gpus_per_replica,
            "prefill_gpus": self.prefill_gpus_per_replica,
            "speculative_tokens_per_step": self.speculative_tokens,
            "drafts": self.drafts,
            "layout": self.layout,
            **({"prefill_part": self.prefill_part} if self.prefill_part else {}),
        }

    def as_json(self) -> dict:
        """The issue's JSON keys first, then the rest, then the serving configuration."""
        d = asdict(self)
        d.pop("prefill_part")  # in `serving`
        return {**{k: d[k] for k in JSON_KEYS}, **{k: v for k, v in d.items() if k not in JSON_KEYS}, "serving": self.serving}


@dataclass(frozen=True)
class OperatingPoint(ServingPoint):
    """The highest output throughput per GPU that meets the SLA, with the frontier it lies on."""

    frontier: list[ServingPoint] = field(default_factory=list)
    method: str = "model"  # "model", or "measured" when interpolated from a measured table

    def as_json(self) -> dict:
        d = super().as_json()
        d["frontier"] = [p.as_json() for p in self.frontier]
        return d
