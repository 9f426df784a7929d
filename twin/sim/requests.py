"""The requests a serving simulation plays: Poisson, bursty (MMPP) or agentic sessions, drawn up front.

Every length, gap and delay is drawn before the simulation starts, from streams named by
source, so the traffic does not depend on how the replicas serve it: two serving modes, or
two arrival rates (common random numbers), see the same requests.

- `poisson`: exponential gaps at the rate.
- `bursty`: a two-state Markov-modulated Poisson process; bursts at `burst_ratio` times the
  rate outside them take `burst_share` of the time, with exponential lengths.
- `agentic`: sessions arrive as a Poisson process; each is a chain of `agent_steps` requests,
  the next one sent a tool-call delay (exponential) after the previous finishes. A step's
  context is the previous context plus its output plus the tool's result; only the tool's
  result is prefilled (the rest is in the prefix cache).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class Request:
    """One request and what happens to it (times in seconds)."""

    __slots__ = ("arrival", "prompt", "context", "tokens", "steps", "session", "step", "admitted", "first_token", "finished",
                 "finish_step")

    def __init__(self, arrival: float, prompt: int, context: float, tokens: int, steps: int, session: int = -1, step: int = 0):
        self.arrival, self.prompt, self.context, self.tokens, self.steps = arrival, prompt, context, tokens, steps
        self.session, self.step = session, step  # agentic: the session and the step in it
        self.admitted = self.first_token = self.finished = math.nan
        self.finish_step = 0  # the replica's step count when the last token is out


@dataclass(frozen=True)
class Traffic:
    """Drawn traffic: open-loop arrival times (first steps for sessions) and per-request lengths.

    `outputs` is (requests,) for open loops and (sessions, steps) for agentic sessions, whose
    `delays_s` (sessions, steps - 1) are the tool-call delays between steps.
    """

    arrivals: np.ndarray
    outputs: np.ndarray
    delays_s: np.ndarray | None = None


def output_lengths(rng: np.random.Generator, mean: int, shape, kind: str) -> np.ndarray:
    """Output tokens per request: `fixed` at the mean, or `geometric` on 1, 2, ... with that mean."""
    if kind == "fixed":
        return np.full(shape, mean, dtype=np.int64)
    return rng.geometric(1.0 / mean, size=shape).astype(np.int64)


MAX_SURPLUS_ARRIVALS = 50_000_000  # arrivals drawn past the n wanted, in the last period: ~1 GB of arrays


def poisson_times(rng: np.random.Generator, rate: float, n: int) -> np.ndarray:
    return np.cumsum(rng.exponential(1.0, n)) / rate


def mmpp_times(rng: np.random.Generator, rate: float, n: int, ratio: float, share: float, mean_burst_s: float) -> np.ndarray:
    """`n` arrivals of a two-state MMPP with mean `rate`: bursts at `ratio` x the base rate for `share` of the time."""
    low = rate / (share * ratio + 1.0 - share)
    means = np.array([mean_burst_s * (1.0 - share) / share, mean_burst_s])  # quiet, burst
    rates = np.array([low, low * ratio])
    cycles = max(16, int(2 * n / (rate * means.sum())) + 16)
    while True:
        lengths = rng.exponential(np.tile(means, cycles))
        starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        counts = rng.poisson(np.tile(rates, cycles) * lengths)
        if counts.sum() >= n:
            # Periods follow one another, so the first n arrivals lie in the periods up to the one holding the
            # n-th: only those are placed (the same draws as placing all, without the memory of the rest).
            keep = int(np.searchsorted(np.cumsum(counts), n)) + 1
            counts, starts, lengths = counts[:keep], starts[:keep], lengths[:keep]
            if counts.sum() - n > MAX_SURPLUS_ARRIVALS:
                raise ValueError(f"{rate:,.4g} requests/s is too high for bursty arrivals: one period of the process "
                                 f"(~{mean_burst_s:g} s bursts) would hold {int(counts[-1]):,} arrivals; give a lower rate or poisson")
            times = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(lengths, counts)
            return np.sort(times)[:n]
        cycles *= 2


def draw_traffic(streams: dict[str, np.random.Generator], options, rate: float, osl: int) -> Traffic:
    """The traffic of a run at `rate` requests/s (sessions arrive at rate / agent_steps)."""
    o = options
    if o.arrivals == "agentic":
        sessions = math.ceil(o.requests / o.agent_steps)
        starts = poisson_times(streams["arrivals"], rate / o.agent_steps, sessions)
        outputs = output_lengths(streams["lengths"], osl, (sessions, o.agent_steps), o.output_lengths)
        delays = streams["sessions"].exponential(o.tool_delay_s, (sessions, o.agent_steps - 1))
        return Traffic(starts, outputs, delays)
    if o.arrivals == "bursty":
        times = mmpp_times(streams["arrivals"], rate, o.requests, o.burst_ratio, o.burst_share, o.burst_mean_s)
    else:
        times = poisson_times(streams["arrivals"], rate, o.requests)
    return Traffic(times, output_lengths(streams["lengths"], osl, o.requests, o.output_lengths))
