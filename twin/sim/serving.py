"""Request-level serving: a least-loaded router in front of continuous-batching replicas, on SimPy.

A replica runs decode steps over its running batch (at most `max_batch` sequences). Requests
join at step boundaries: a request routed to a replica waits in its queue until the next
boundary with room. Prefill is `interleaved` (aggregated serving, as the perf model's: the
replica stops decoding while it prefills the prompts it admits, one after another) or
`separate` (disaggregated: a prefill pool with room for every prompt delays the request by
its prefill, and the decode batch never stalls). A request's first token comes out of its
first decode step; with speculative decoding each step yields `tokens_per_step` tokens.

Two modes give the same answer:

- `skip` (event skipping): a replica computes how many steps fit until its next completion
  and sleeps through them in one timeout; an arrival that finds room interrupts it, and it
  sleeps on to the first step boundary after the arrival. Step `i` of a stretch with batch B
  takes `alpha + 2 h i` (contexts grow by `tokens_per_step` a step), so `n` steps take
  `S(n) = n alpha + h n (n - 1)`, inverted in closed form. Cost grows with requests, not tokens.
- `token`: one timeout per decode step; the reference the tests compare `skip` with.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import numpy as np
import simpy

from twin.sim.requests import Request, Traffic, draw_traffic
from twin.sim.rng import Seed, named_streams

Arrivals = Literal["poisson", "bursty", "agentic"]
Mode = Literal["skip", "token"]
Prefill = Literal["interleaved", "separate"]


class Steps(Protocol):
    """What a replica needs to know about its hardware (`twin.sim.steps`)."""

    tokens_per_step: float

    def coefficients(self, batch: int) -> tuple[float, float]: ...

    def prefill_s(self, tokens: int) -> float: ...


@dataclass(frozen=True)
class ServingOptions:
    """Traffic and serving of one simulation; rates in requests per second."""

    arrivals: Arrivals = "poisson"
    """`poisson`, `bursty` (MMPP) or `agentic` (sessions of chained steps)."""
    requests: int = 20_000
    """Requests to play (agentic: steps, rounded up to whole sessions)."""
    replicas: int = 2
    """Replicas behind the router (a facility's replicas are alike: a few stand for many)."""
    max_batch: int | None = None
    """Sequences a replica decodes at once; None takes the operating point's mean batch, rounded down."""
    prefill: Prefill | None = None
    """`interleaved` or `separate`; None follows the workload (`separate` when disaggregated)."""
    input_tokens: int | None = None
    """Prompt tokens; None takes the workload's ISL."""
    output_tokens: int | None = None
    """Mean output tokens; None takes the workload's OSL."""
    output_lengths: Literal["fixed", "geometric"] = "fixed"
    """Output lengths all at the mean, or geometric (memoryless) with that mean."""
    burst_ratio: float = 4.0
    """Bursty: arrival rate in a burst over the rate outside one."""
    burst_share: float = 0.2
    """Bursty: share of time in bursts."""
    burst_mean_s: float = 5.0
    """Bursty: mean burst length, s."""
    agent_steps: int = 4
    """Agentic: requests per session."""
    tool_delay_s: float = 2.0
    """Agentic: mean tool-call time between steps, s (exponential)."""
    tool_tokens: int = 512
    """Agentic: tokens a tool returns, added to the context and prefilled."""
    warmup_share: float = 0.2
    """Share of the arrival period left out of the statistics (the replicas start empty)."""
    sla_share: float = 0.9
    """Share of requests that must meet the SLA for a rate to count as meeting it."""
    mode: Mode = "skip"
    """`skip` (event skipping) or `token` (one event per decode step, the reference)."""

    def __post_init__(self):
        checks = {
            "arrivals": self.arrivals in get_args(Arrivals),
            "mode": self.mode in get_args(Mode),
            "prefill": self.prefill is None or self.prefill in get_args(Prefill),
            "output_lengths": self.output_lengths in ("fixed", "geometric"),
            "requests": self.requests >= 1,
            "replicas": self.replicas >= 1,
            "max_batch": self.max_batch is None or self.max_batch >= 1,
            "burst_ratio": self.burst_ratio >= 1,
            "burst_share": 0 < self.burst_share < 1,
            "burst_mean_s": self.burst_mean_s > 0,
            "agent_steps": self.agent_steps >= 1,
            "tool_delay_s": self.tool_delay_s >= 0,
            "tool_tokens": self.tool_tokens >= 1,
            "warmup_share": 0 <= self.warmup_share < 1,
            "sla_share": 0 < self.sla_share <= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid serving option(s): {', '.join(bad)}")


class _Replica:
    """One continuous-batching replica: a queue, a running batch and a SimPy process."""

    def __init__(self, server: _Server, index: int):
        self.server, self.index, self.env, self.steps = server, index, server.env, server.steps
        self.g = server.steps.tokens_per_step
        self.queue: deque[Request] = deque()
        self.running: list = []  # skip: heap of (finish step, seq, request); token: requests in admission order
        self.fresh: list[Request] = []  # admitted, first token not out yet
        self.counter = 0  # decode steps done
        self.ctx_base = 0.0  # sum over the batch of (context at admission - g x step count at admission)
        self.wake: simpy.Event | None = None
        self.interruptible = False
        self.proc = self.env.process(self.run_skip() if server.mode == "skip" else self.run_tokens())

    def offer(self, req: Request) -> None:
        """Queue a routed request; wake the replica if idle, interrupt it if its batch has room."""
        self.queue.append(req)
        if self.wake is not None:
            self.wake.succeed()
            self.wake = None
        elif self.interruptible:
            self.interruptible = False
            self.proc.interrupt()

    def _idle(self) -> simpy.Event:
        self.wake = self.env.event()
        return self.wake

    def _admit(self) -> float:
        """Move queued requests into the batch while there is room; returns the prefill stall, s."""
        s, now, stall, n = self.server, self.env.now, 0.0, 0
        while self.queue and len(self.running) < s.max_batch:
            req = self.queue.popleft()
            n += 1
            req.admitted = now
            req.finish_step = self.counter + req.steps
            s.seq += 1
            if s.mode == "skip":
                heapq.heappush(self.running, (req.finish_step, s.seq, req))
            else:
                self.running.append(req)
            self.ctx_base += req.context - self.counter * self.g
            self.fresh.append(req)
            if s.interleaved:
                stall += self.steps.prefill_s(req.prompt)
        if n:
            s.queue_changed(-n)
        return stall

    def _complete(self, req: Request) -> None:
        req.finished = self.env.now
        self.ctx_base -= req.context - (req.finish_step - req.steps) * self.g
        self.server.completed(self.index, req)

    def _first_tokens(self, t: float) -> None:
        for req in self.fresh:
            req.first_token = t
        self.fresh.clear()

    def run_skip(self):
        """Event skipping: one timeout per change of the batch (see the module docstring).

        A stretch is the prefill of the prompts just admitted, then decode steps up to the
        next completion; an arrival that finds room ends it at the first boundary after it
        (the end of the prefill, or of a step).
        """
        env, g = self.env, self.g
        while True:
            if not self.running and not self.queue:
                yield self._idle()
            start = env.now + self._admit()  # decoding starts after the prefill
            batch = len(self.running)
            a, b = self.steps.coefficients(batch)
            alpha, h = a + b * (self.ctx_base / batch + self.counter * g), b * g / 2.0
            n = self.running[0][0] - self.counter
            self.interruptible = batch < self.server.max_batch
            try:
                yield env.timeout(start - env.now + n * alpha + h * n * (n - 1))
                self.interruptible = False
            except simpy.Interrupt:
                n = 0 if env.now < start else _steps_covering(env.now - start, alpha, h, n)
                yield env.timeout(max(0.0, start + n * alpha + h * n * (n - 1) - env.now))
            if n:
                self._first_tokens(start + alpha)
                self.counter += n
                while self.running and self.running[0][0] <= self.counter:
                    self._complete(heapq.heappop(self.running)[2])

    def run_tokens(self):
        """The reference: one timeout per decode step, contexts summed request by request."""
        env, g = self.env, self.g
        while True:
            if not self.running and not self.queue:
                yield self._idle()
            stall = self._admit()
            if stall > 0.0:
                yield env.timeout(stall)
                continue  # admit what arrived during the prefill before decoding resumes
            batch = len(self.running)
            a, b = self.steps.coefficients(batch)
            context = sum(r.context + (self.counter - (r.finish_step - r.steps)) * g for r in self.running) / batch
            yield env.timeout(a + b * context)
            self.counter += 1
            self._first_tokens(env.now)
            done = [r for r in self.running if r.finish_step <= self.counter]
            if done:
                self.running = [r for r in self.running if r.finish_step > self.counter]
                for req in done:
                    self._complete(req)


def _steps_covering(elapsed: float, alpha: float, h: float, n: int) -> int:
    """The fewest steps (1..n) whose time S(m) = m alpha + h m (m - 1) reaches `elapsed`."""
    if h > 0.0:
        m = math.ceil(((h - alpha) + math.sqrt((alpha - h) ** 2 + 4.0 * h * elapsed)) / (2.0 * h))
    else:
        m = math.ceil(elapsed / alpha)
    m = max(1, min(n, m))
    while m < n and m * alpha + h * m * (m - 1) < elapsed:
        m += 1
    while m > 1 and (m - 1) * alpha + h * (m - 1) * (m - 2) >= elapsed:
        m -= 1
    return m


class _Server:
    """The router, the arrival process and the agentic sessions around the replicas."""

    def __init__(self, steps: Steps, options: ServingOptions, traffic: Traffic, max_batch: int, interleaved: bool, input_tokens: int):
        self.env = simpy.Environment()
        self.steps, self.options, self.traffic = steps, options, traffic
        self.max_batch, self.interleaved, self.input_tokens, self.mode = max_batch, interleaved, input_tokens, options.mode
        self.seq = 0
        self.records: list[Request] = []
        self.queued = 0
        self.queue_times, self.queue_depth = [0.0], [0]
        self.replicas = [_Replica(self, i) for i in range(options.replicas)]
        self.loads = [0] * options.replicas  # running + queued per replica, for the router
        self.env.process(self.arrivals())

    def _request(self, arrival: float, prompt: int, context: float, tokens: int, session: int = -1, step: int = 0) -> Request:
        req = Request(arrival, prompt, context, tokens, math.ceil(tokens / self.steps.tokens_per_step), session, step)
        self.records.append(req)
        return req

    def arrivals(self):
        """The open-loop arrivals (first steps of agentic sessions)."""
        t, agentic, env = self.traffic, self.options.arrivals == "agentic", self.env
        for i, at in enumerate(t.arrivals.tolist()):
            yield env.timeout(at - env.now)
            tokens = int(t.outputs[i, 0] if agentic else t.outputs[i])
            self.submit(self._request(at, self.input_tokens, float(self.input_tokens), tokens, i if agentic else -1))

    def submit(self, req: Request) -> None:
        if self.interleaved:
            self.route(req)
        else:  # a prefill pool with room for every prompt
            self.env.timeout(self.steps.prefill_s(req.prompt)).callbacks.append(lambda _: self.route(req))

    def route(self, req: Request) -> None:
        """Least loaded (running + queued) replica, the first on ties."""
        i = self.loads.index(min(self.loads))
        self.loads[i] += 1
        self.queue_changed(+1)
        self.replicas[i].offer(req)

    def queue_changed(self, step: int) -> None:
        self.queued += step
        if self.queue_times[-1] == self.env.now:
            self.queue_depth[-1] = self.queued
        else:
            self.queue_times.append(self.env.now)
            self.queue_depth.append(self.queued)

    def completed(self, replica: int, req: Request) -> None:
        """A request is done; an agentic step's session calls its tool, then sends the next step."""
        self.loads[replica] -= 1
        o = self.options
        if req.session < 0 or req.step + 1 >= o.agent_steps:
            return
        t = self.traffic
        delay = float(t.delays_s[req.session, req.step])
        nxt = self._request(self.env.now + delay, o.tool_tokens, req.context + req.tokens + o.tool_tokens,
                            int(t.outputs[req.session, req.step + 1]), req.session, req.step + 1)
        self.env.timeout(delay).callbacks.append(lambda _: self.submit(nxt))


@dataclass(frozen=True)
class ServingRun:
    """Every request's times (s), in the order the requests were created, and the router's queue depth over time."""

    seed: int | None
    rate_per_s: float
    max_batch: int
    arrival: np.ndarray
    admitted: np.ndarray
    first_token: np.ndarray
    finished: np.ndarray
    tokens: np.ndarray
    session: np.ndarray
    queue_times_s: np.ndarray
    queue_depth: np.ndarray
    measured_from_s: float  # warm-up end
    measured_to_s: float  # last open-loop arrival


def simulate_serving(steps: Steps, options: ServingOptions, rate_per_s: float, seed: Seed = 0, *, max_batch: int,
                     input_tokens: int, output_tokens: int, interleaved: bool = True) -> ServingRun:
    """Play `options.requests` requests at `rate_per_s` through `options.replicas` replicas of `steps`.

    A rate of zero (no demand, a valid what-if) is a run with no requests: zero load.
    """
    if rate_per_s < 0 or max_batch < 1:
        raise ValueError("the rate must not be negative and max_batch must be at least 1")
    if rate_per_s == 0:
        none = np.zeros(0)
        return ServingRun(seed if isinstance(seed, int) else None, 0.0, max_batch, none, none, none, none, none,
                          np.zeros(0, dtype=int), none, none, 0.0, 0.0)
    streams = named_streams(seed, ["arrivals", "lengths", "sessions"])
    traffic = draw_traffic(streams, options, rate_per_s, output_tokens)
    server = _Server(steps, options, traffic, max_batch, interleaved, input_tokens)
    server.env.run()
    r = server.records
    col = lambda name: np.array([getattr(q, name) for q in r], dtype=float)  # noqa: E731
    end = float(traffic.arrivals[-1])
    return ServingRun(
        seed if isinstance(seed, int) else None, rate_per_s, max_batch,
        col("arrival"), col("admitted"), col("first_token"), col("finished"), col("tokens"),
        np.array([q.session for q in r]), np.array(server.queue_times), np.array(server.queue_depth, dtype=float),
        options.warmup_share * end, end,
    )
