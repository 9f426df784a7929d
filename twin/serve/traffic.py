"""The requests a serving run plays, drawn or replayed before it starts, as NumPy arrays.

- `poisson`: exponential gaps at the rate.
- `bursty`: a two-state Markov-modulated Poisson process (`twin.sim.requests.mmpp_times`).
- `agentic`: sessions arrive as a Poisson process; each is `turns` requests, the next sent a
  tool-call delay (exponential) after the previous one finishes. A turn's prompt is the
  previous prompt and output plus the tool's result, so it repeats the previous context as a
  prefix that a replica may still hold in its prefix cache.
- `trace`: a file's arrivals and lengths as they are (time-scaled when a rate is asked); turns
  of one session whose prompt starts with the previous turn's context share it as a prefix.

Lengths are `fixed` at a mean, `lognormal` with a mean and sigma, or sampled from a trace.
Every draw comes from its own named stream, so switching one option does not move the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from twin.serve.trace import Trace
from twin.sim.requests import mmpp_times

LengthKind = Literal["fixed", "lognormal", "trace"]


@dataclass(frozen=True)
class Lengths:
    """A token-length distribution: `fixed` at `mean`, `lognormal` (mean, sigma of the log), or `trace` samples."""

    kind: LengthKind = "fixed"
    mean: float = 1.0
    sigma: float = 1.0
    samples: np.ndarray | None = None

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` lengths, whole tokens, at least 1."""
        if self.kind == "fixed":
            x = np.full(n, self.mean)
        elif self.kind == "lognormal":
            x = rng.lognormal(math.log(self.mean) - self.sigma**2 / 2.0, self.sigma, n)
        else:
            x = rng.choice(self.samples, n)
        return np.maximum(1, np.rint(x)).astype(np.int64)


@dataclass(frozen=True)
class Traffic:
    """Requests as arrays. `arrival_s` is NaN for a session's later turns, which arrive `delay_s` after
    their previous turn (`child` of that turn) finishes; `prefix` is the prompt a previous turn already holds."""

    arrival_s: np.ndarray
    delay_s: np.ndarray
    child: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    session: np.ndarray
    prefix: np.ndarray

    @property
    def size(self) -> int:
        return int(self.input_tokens.size)

    def opens(self) -> np.ndarray:
        """Requests that arrive on their own (not after a previous turn), in time order."""
        idx = np.flatnonzero(~np.isnan(self.arrival_s))
        return idx[np.argsort(self.arrival_s[idx], kind="stable")]

    def last_open_arrival_s(self) -> float:
        return float(np.nanmax(self.arrival_s))


def arrival_times(kind: str, rng: np.random.Generator, rate: float, n: int | None, duration_s: float | None,
                  burst: tuple[float, float, float] = (4.0, 0.2, 5.0)) -> np.ndarray:
    """Arrival times at mean `rate` per s: `n` of them, or those before `duration_s`, whichever ends first."""

    def draw(k: int) -> np.ndarray:
        return mmpp_times(rng, rate, k, *burst) if kind == "bursty" else np.cumsum(rng.exponential(1.0, k)) / rate

    if duration_s is None:
        return draw(n)
    want = int(rate * duration_s + 10.0 * math.sqrt(rate * duration_s) + 10)
    if n is not None:
        want = min(want, n)
    t = draw(want)
    while t[-1] < duration_s and (n is None or t.size < n):  # rare: draw longer
        want = 2 * want if n is None else min(2 * want, n)
        t = draw(want)
    return t[t < duration_s]


def open_loop(kind: str, streams: dict[str, np.random.Generator], rate: float, n: int | None, duration_s: float | None,
              inputs: Lengths, outputs: Lengths, burst=(4.0, 0.2, 5.0)) -> Traffic:
    """Poisson or bursty requests, no sessions."""
    t = arrival_times(kind, streams["arrivals"], rate, n, duration_s, burst)
    m = t.size
    none = np.full(m, -1, dtype=np.int64)
    return Traffic(t, np.zeros(m), none, inputs.draw(streams["inputs"], m), outputs.draw(streams["outputs"], m), none.copy(),
                   np.zeros(m, dtype=np.int64))


def agentic(streams: dict[str, np.random.Generator], rate: float, n: int | None, duration_s: float | None, inputs: Lengths,
            outputs: Lengths, turns: int, tool_delay_s: float, tool_tokens: Lengths) -> Traffic:
    """Sessions of `turns` requests at `rate` requests/s (sessions at rate / turns); `n` requests rounds up to whole sessions."""
    starts = arrival_times("poisson", streams["arrivals"], rate / turns, None if n is None else math.ceil(n / turns), duration_s)
    s = starts.size
    first = inputs.draw(streams["inputs"], s)
    out = outputs.draw(streams["outputs"], s * turns).reshape(s, turns)
    tool = tool_tokens.draw(streams["tools"], s * turns).reshape(s, turns)
    delay = streams["sessions"].exponential(tool_delay_s, (s, turns)) if tool_delay_s > 0 else np.zeros((s, turns))
    prompt = np.empty((s, turns), dtype=np.int64)
    prefix = np.zeros((s, turns), dtype=np.int64)
    prompt[:, 0] = first
    for j in range(1, turns):
        prefix[:, j] = prompt[:, j - 1] + out[:, j - 1]
        prompt[:, j] = prefix[:, j] + tool[:, j]
    idx = np.arange(s * turns).reshape(s, turns)
    child = np.full((s, turns), -1, dtype=np.int64)
    child[:, :-1] = idx[:, 1:]
    arrival = np.full((s, turns), np.nan)
    arrival[:, 0] = starts
    delay[:, 0] = 0.0
    session = np.repeat(np.arange(s, dtype=np.int64), turns)
    return Traffic(arrival.ravel(), delay.ravel(), child.ravel(), prompt.ravel(), out.ravel(), session, prefix.ravel())


def replay(trace: Trace, rate: float | None = None, n: int | None = None, duration_s: float | None = None) -> Traffic:
    """A trace's requests as they are; `rate` rescales time to that mean rate, `n` and `duration_s` cut it."""
    t = trace.arrival_s
    if rate is not None and t.size > 1 and t[-1] > 0:
        t = t * ((t.size - 1) / t[-1]) / rate
    keep = np.ones(t.size, dtype=bool)
    if duration_s is not None:
        keep &= t < duration_s
    if n is not None:
        keep &= np.arange(t.size) < n
    t, inp, out, sess = t[keep], trace.input_tokens[keep], trace.output_tokens[keep], trace.session[keep]
    prefix = np.zeros(t.size, dtype=np.int64)
    last: dict[int, int] = {}
    for i in np.flatnonzero(sess >= 0).tolist():
        j = last.get(int(sess[i]))
        if j is not None and inp[i] > inp[j] + out[j]:
            prefix[i] = inp[j] + out[j]
        last[int(sess[i])] = i
    m = t.size
    return Traffic(t.astype(float), np.zeros(m), np.full(m, -1, dtype=np.int64), inp.astype(np.int64), out.astype(np.int64),
                   sess.astype(np.int64), prefix)
