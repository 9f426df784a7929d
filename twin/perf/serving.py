"""The serving configurations the token model searches: aggregated or disaggregated, with or without MTP.

A modern stack (Dynamo, TensorRT-LLM, SGLang, vLLM) deploys whichever of these serves the
SLA best; `candidates` lists those the workload's `serving` leaves open (all of them under
`serving: auto`), and the frontier and operating point are taken over every one. Replica
widths (TP, EP, attention DP, within and beyond the NVLink domain) are searched per
configuration in `layouts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.catalog import ModelEntry
from twin.perf.points import PerfError
from twin.spec import Serving

# Engines reuse a model's MTP module for several drafts: TensorRT-LLM and SGLang DeepSeek-R1
# recipes run num_nextn_predict_layers / speculative-num-steps of 1 to 3 with one MTP layer.
MAX_DRAFTS = 3


@dataclass(frozen=True)
class ServingConfig:
    """One way to deploy: prefill with decode or apart, and how many draft tokens each step verifies."""

    disaggregated: bool
    drafts: int  # speculative draft tokens per sequence per step (0: none)
    accepted: float  # mean output tokens per sequence per step
    wide_ep: bool
    prefill_on_parts: bool = False  # disaggregated on a system's prefill parts (Rubin CPX), not on its GPUs

    @property
    def mode(self) -> str:
        return "disaggregated" if self.disaggregated else "aggregated"

    @property
    def tokens_per_seq(self) -> int:
        """Tokens each sequence carries through a decode step: its next token plus the drafts."""
        return self.drafts + 1


def accepted_tokens(acceptance: float, drafts: int) -> float:
    """Mean tokens a step yields when each of `drafts` chained drafts is accepted with probability `acceptance`.

    The step always yields one token; draft i counts only if drafts 1..i were all accepted:
    1 + p + p^2 + ... + p^k = (1 - p^(k+1)) / (1 - p).
    """
    return sum(acceptance**i for i in range(drafts + 1))


def speculation_options(model: ModelEntry, serving: Serving) -> list[tuple[int, float]]:
    """(drafts, accepted tokens per step) pairs the serving options leave open for this model."""
    if serving.speculative is False:
        return [(0, 1.0)]
    if serving.accepted_tokens_per_step is not None:
        a = serving.accepted_tokens_per_step
        return [(int(math.floor(a)), a)]
    if model.mtp_layers == 0:
        if serving.speculative:
            raise PerfError(f"{model.id} has no multi-token prediction in the catalog: give accepted_tokens_per_step "
                            "(--speculative N) for a draft model")
        return [(0, 1.0)]
    spec = [(k, accepted_tokens(model.mtp_acceptance, k)) for k in range(1, MAX_DRAFTS + 1)]
    return spec if serving.speculative else [(0, 1.0), *spec]


def candidates(model: ModelEntry, serving: Serving) -> list[ServingConfig]:
    """Every configuration the workload's `serving` leaves open, aggregated first."""
    modes = [False, True] if serving.disaggregated is None else [serving.disaggregated]
    return [ServingConfig(d, k, a, serving.wide_ep) for d in modes for k, a in speculation_options(model, serving)]
