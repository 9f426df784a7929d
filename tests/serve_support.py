"""Hand-built replicas and requests for the serving engine's tests."""

from __future__ import annotations

import numpy as np

from twin.serve.replicas import ReplicaType
from twin.serve.traffic import Traffic


def kind(step_s=0.01, per_ctx_s=0.0, prefill_s_per_token=0.0, kv_tokens=1e12, max_seqs=64, budget=100_000, swap_s_per_token=0.0,
         xfer_s_per_token=0.0) -> ReplicaType:
    """A replica whose decode step takes `step_s + per_ctx_s * mean context` at any batch."""
    return ReplicaType("toy", 1, max_seqs, budget, 1.0, kv_tokens, np.full(max_seqs + 1, step_s), np.full(max_seqs + 1, per_ctx_s),
                       prefill_s_per_token, xfer_s_per_token, swap_s_per_token, 1.0, 0.0)


def requests(arrival, prompt, out) -> Traffic:
    n = len(prompt)
    none = np.full(n, -1, dtype=np.int64)
    return Traffic(np.asarray(arrival, float), np.zeros(n), none, np.asarray(prompt, np.int64), np.asarray(out, np.int64), none.copy(),
                   np.zeros(n, dtype=np.int64))
