"""Step times of a replica for the serving simulation, from the token production model.

For a fixed batch `B`, a decode step's time is linear in the batch's mean context `c`: the KV
bytes read and the attention FLOPs both grow as `B * c`, and the weights and fixed latencies
do not (`twin.perf.step`). So `t(B, c) = a_B + b_B c`, with `a_B` and `b_B` taken from
`decode_step_time` at the workload's prompt length and at its mean context (the operating
point's), where memory or compute binds; this is what lets the event-skipping mode sum the
steps between two batch changes in closed form while every sequence's context grows.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.perf import decode_step_time, prefill_time
from twin.production import Stream
from twin.spec import Spec


class PerfSteps:
    """Step and prefill times of one stream's replica (`decode_step_time`, `prefill_time`), memoized."""

    def __init__(self, spec: Spec, stream: Stream):
        wm = next(w for w in spec.workload.models if w.model == stream.model)
        self.wm, self.system, self.model = wm, spec.cat.systems[stream.system], spec.cat.models[stream.model]
        self.gpus = stream.point.gpus_per_replica
        self.tokens_per_step = wm.serving.accepted_tokens_per_step if wm.serving.speculative else 1.0
        self.contexts = (float(wm.isl), wm.isl + wm.osl / 2.0)
        self._coef: dict[int, tuple[float, float]] = {}
        self._prefill: dict[int, float] = {}

    def coefficients(self, batch: int) -> tuple[float, float]:
        """(a, b): a step of `batch` sequences at mean context c takes a + b c seconds."""
        hit = self._coef.get(batch)
        if hit is None:
            c1, c2 = self.contexts
            t1, t2 = (decode_step_time(self.system, self.model, self.wm.precision, self.gpus, batch, c, self.wm.serving) for c in (c1, c2))
            b = (t2 - t1) / (c2 - c1)
            hit = self._coef[batch] = (t1 - b * c1, b)
        return hit

    def prefill_s(self, tokens: int) -> float:
        hit = self._prefill.get(tokens)
        if hit is None:
            hit = self._prefill[tokens] = prefill_time(self.system, self.model, self.wm.precision, self.gpus, tokens)
        return hit


@dataclass(frozen=True)
class FixedSteps:
    """A replica whose steps take `step_s + per_context_s * c` at any batch: for closed-form tests."""

    step_s: float
    per_context_s: float = 0.0
    prefill_per_token_s: float = 0.0
    tokens_per_step: float = 1.0

    def coefficients(self, batch: int) -> tuple[float, float]:
        return self.step_s, self.per_context_s

    def prefill_s(self, tokens: int) -> float:
        return self.prefill_per_token_s * tokens
