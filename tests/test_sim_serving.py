"""The serving simulation: event skipping against the token-by-token reference, queueing theory, traffic."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import PILOT
from twin.loader import load_spec
from twin.production import streams
from twin.sim.latency import max_rate_meeting_sla, summarize
from twin.sim.requests import mmpp_times
from twin.sim.serving import ServingOptions, simulate_serving
from twin.sim.steps import FixedSteps, PerfSteps
from twin.spec import Sla

Z = 3.0  # standard errors a seeded mean may stray from its closed form
TIMES = ("admitted", "first_token", "finished")


def _both_modes(steps, options: ServingOptions, rate: float, **kw):
    return [simulate_serving(steps, replace(options, mode=m), rate, 3, **kw) for m in ("skip", "token")]


def _assert_same(skip, token):
    assert skip.arrival.size == token.arrival.size
    for name in ("arrival", *TIMES):
        np.testing.assert_allclose(getattr(skip, name), getattr(token, name), rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(skip.queue_depth, token.queue_depth)


@pytest.mark.parametrize(("arrivals", "tokens_per_step", "interleaved"), [
    ("poisson", 1.0, True),
    ("bursty", 1.0, True),
    ("agentic", 1.0, True),
    ("poisson", 1.7, False),  # speculative decoding, disaggregated prefill
])
def test_event_skipping_equals_token_by_token(arrivals, tokens_per_step, interleaved):
    steps = FixedSteps(step_s=0.01, per_context_s=2e-6, prefill_per_token_s=2e-5, tokens_per_step=tokens_per_step)
    options = ServingOptions(arrivals=arrivals, requests=400, replicas=3, output_lengths="geometric", tool_tokens=64)
    skip, token = _both_modes(steps, options, 6.0, max_batch=4, input_tokens=300, output_tokens=40, interleaved=interleaved)
    _assert_same(skip, token)
    assert np.nanmax(skip.queue_depth) > 0  # the batches were full at times: admission at step boundaries was exercised


def test_event_skipping_equals_token_by_token_on_the_perf_model():
    spec = load_spec(PILOT)
    stream = streams(spec)[0]
    options = ServingOptions(requests=150, replicas=2, output_lengths="geometric")
    skip, token = _both_modes(PerfSteps(spec, stream), options, 4.0, max_batch=6, input_tokens=2048, output_tokens=60)
    _assert_same(skip, token)


@pytest.mark.parametrize("lengths", ["geometric", "fixed"])
def test_one_replica_at_batch_one_is_an_m_g_1_queue(lengths):
    # service = tau x output tokens: geometric (mean m) or fixed; Pollaczek-Khinchine mean wait
    tau, m, rho = 0.01, 20, 0.7
    rate = rho / (tau * m)
    p = 1.0 / m
    es2 = tau**2 * (2 - p) / p**2 if lengths == "geometric" else (tau * m) ** 2
    expected = rate * es2 / (2 * (1 - rho))
    options = ServingOptions(requests=12_000, replicas=1, output_lengths=lengths)
    waits = []
    for seed in range(8):
        run = simulate_serving(FixedSteps(tau), options, rate, seed, max_batch=1, input_tokens=100, output_tokens=m)
        keep = run.arrival >= run.measured_from_s
        waits.append((run.admitted - run.arrival)[keep].mean())
        assert run.first_token - run.admitted == pytest.approx(np.full(run.arrival.size, tau))  # first token after one step
    waits = np.array(waits)
    assert abs(waits.mean() - expected) <= Z * waits.std(ddof=1) / math.sqrt(waits.size)


def test_same_seed_same_run_and_another_seed_another():
    steps, options = FixedSteps(0.01, 1e-6, 1e-5), ServingOptions(arrivals="agentic", requests=300)
    kw = dict(max_batch=8, input_tokens=200, output_tokens=30)
    a, b, c = (simulate_serving(steps, options, 20.0, s, **kw) for s in (1, 1, 2))
    for name in ("arrival", *TIMES, "queue_depth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.arrival, c.arrival)


def test_agentic_steps_follow_their_tool_calls_with_growing_context():
    # replicas enough that nothing queues: every step's times follow from its context alone
    a, b, prefill, tool, isl = 0.01, 1e-5, 1e-5, 64, 200
    steps = FixedSteps(a, b, prefill)
    options = ServingOptions(arrivals="agentic", requests=200, replicas=60, agent_steps=4, tool_tokens=tool, output_lengths="geometric")
    run = simulate_serving(steps, options, 2.0, 5, max_batch=1, input_tokens=isl, output_tokens=20)
    assert np.bincount(run.session).tolist() == [4] * 50
    for s in range(50):
        idx = np.flatnonzero(run.session == s)
        assert (run.arrival[idx[1:]] >= run.finished[idx[:-1]]).all()
        context = isl + np.concatenate([[0], np.cumsum(run.tokens[idx][:-1] + tool)])
        prompt = np.where(np.arange(4) == 0, isl, tool)
        n = run.tokens[idx]
        np.testing.assert_allclose(run.first_token[idx] - run.arrival[idx], prefill * prompt + a + b * context, rtol=1e-9)
        np.testing.assert_allclose(run.finished[idx] - run.arrival[idx], prefill * prompt + n * (a + b * context) + b * n * (n - 1) / 2, rtol=1e-9)


def test_more_replicas_never_wait_longer():
    steps, options = FixedSteps(0.01, 1e-6, 1e-5), ServingOptions(requests=3000)
    kw = dict(max_batch=4, input_tokens=200, output_tokens=30)
    ttft = [summarize(simulate_serving(steps, replace(options, replicas=r), 20.0, 0, **kw), Sla())["ttft_s_mean"] for r in (2, 3, 4)]
    assert ttft[0] > ttft[1] > ttft[2]


def test_the_highest_rate_at_sla_brackets_the_sla():
    tau, m = 0.01, 20
    sla, share = Sla(min_tokens_per_s_per_user=1.0, max_ttft_s=0.5), 0.9
    options = ServingOptions(requests=8000, replicas=1, output_lengths="geometric")

    def play(rate):
        return simulate_serving(FixedSteps(tau), options, rate, 0, max_batch=1, input_tokens=100, output_tokens=m)

    best = max_rate_meeting_sla(play, sla, share, guess=1.0 / (tau * m))
    assert summarize(play(best), sla)["sla_share"] >= share
    assert summarize(play(best * 1.05), sla)["sla_share"] < share
    # M/M/1 (geometric service is close to exponential at m = 20): P(wait > t) = rho exp(-(mu - lambda) t)
    mu, t = 1.0 / (tau * m), 0.5 - tau
    closed = max(r for r in np.linspace(0.001, 0.999, 5000) * mu if r / mu * math.exp(-(mu - r) * t) <= 1 - share)
    assert best == pytest.approx(closed, rel=0.1)


def test_bursty_arrivals_keep_their_mean_rate_and_come_in_bursts():
    rng = np.random.default_rng(0)
    rate, window_s = 50.0, 20.0
    times = mmpp_times(rng, rate, 200_000, ratio=5.0, share=0.2, mean_burst_s=5.0)
    counts = np.bincount((times // window_s).astype(int))[:-1]  # whole windows only
    per_window = counts / window_s
    assert abs(per_window.mean() - rate) <= Z * per_window.std(ddof=1) / math.sqrt(counts.size)
    assert counts.var() / counts.mean() > 5.0  # a Poisson stream has index of dispersion 1


def test_summary_counts_goodput_only_for_requests_meeting_the_sla():
    run = simulate_serving(FixedSteps(0.01), ServingOptions(requests=2000), 15.0, 0, max_batch=2, input_tokens=100, output_tokens=10)
    loose, tight = summarize(run, Sla(min_tokens_per_s_per_user=1, max_ttft_s=100)), summarize(run, Sla(min_tokens_per_s_per_user=1, max_ttft_s=0.011))
    assert loose["goodput_tokens_per_s"] == loose["throughput_tokens_per_s"] > tight["goodput_tokens_per_s"] > 0
    assert loose["sla_share"] == 1.0 > tight["sla_share"]
    assert loose["ttft_s_p50"] <= loose["ttft_s_p90"] <= loose["ttft_s_p99"]
    assert loose["queue_mean"] >= 0
    assert run.queue_depth[-1] == 0
