"""What one request's prefill works on: its prompt, and the part of it a prefix cache already holds.

A plain workload sends prompts of ISL tokens, none cached. An agentic workload runs
sessions of `turns` requests: turn 1 sends ISL tokens; each later turn resends the whole
context so far (every earlier prompt and answer) plus `context_growth_tokens` new ones
(tool results, the next instruction). Of the resent part, `prefix_cache_hit` is found in the
prefix cache and not recomputed. Averaged over a session's turns, with context
c_i = ISL + (i - 1)(OSL + growth) at turn i and reused r_i = c_i - growth for i >= 2:

    mean prompt  = ISL + (N - 1)(OSL + growth) / 2
    mean cached  = F * sum_{i>=2} r_i / N
    computed     = mean prompt - mean cached

The cached part's KV is kept off the GPU between turns in CPU memory where the system has
it (Grace LPDDR over NVLink-C2C, host DDR over PCIe) and loaded back before the new tokens'
prefill: `reload_s` adds to the time to first token.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.catalog import SystemEntry
from twin.spec import WorkloadModel


@dataclass(frozen=True)
class Prompt:
    """A request's prompt, averaged over an agent session's turns."""

    tokens: float  # context at prefill: the KV cache the request starts decoding with
    cached: float  # of which found in the prefix cache, not recomputed
    last_context: int  # the last turn's prompt plus answer: what must fit the model's context

    @property
    def computed(self) -> float:
        """Tokens the prefill computes: the cache misses."""
        return self.tokens - self.cached


def prompt_of(wm: WorkloadModel) -> Prompt:
    """The mean prompt of `wm`'s requests (see the module docstring)."""
    n, step = wm.turns, wm.osl + wm.context_growth_tokens
    reused = sum(wm.isl + (i - 1) * step - wm.context_growth_tokens for i in range(2, n + 1))
    return Prompt(
        tokens=wm.isl + (n - 1) * step / 2.0,
        cached=wm.prefix_cache_hit * reused / n,
        last_context=wm.isl + (n - 1) * step + wm.osl,
    )


def reload_s(system: SystemEntry, prompt: Prompt, kv_bytes_per_token: float) -> float:
    """Seconds to load the cached prefix's KV back from CPU memory (0 where it stays in HBM: no CPU memory)."""
    if prompt.cached == 0 or system.cpu_memory_gb == 0:
        return 0.0
    return prompt.cached * kv_bytes_per_token / (system.cpu_link_gbyte_s * 1e9)
