"""The serving engine on hand-built replicas (figures worked by hand) and on the token model (its operating point)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import PILOT, REFERENCE
from tests.serve_support import kind, requests
from twin.loader import load_spec
from twin.serve.report import summarize
from twin.serve.run import Fleet, Pool, build_fleet, simulate
from twin.serve.traffic import Lengths, Traffic, open_loop
from twin.sim.rng import named_streams

Z = 3.0  # standard errors a seeded mean may stray from its closed form


def test_chunked_prefill_stalls_a_decode_step_by_at_most_the_budget():
    # Request A (1-token prompt, 1001 tokens out) decodes alone in 10 ms steps; at 0.5 s ten 1000-token prompts
    # (one token out each) arrive. A budget of 101 tokens leaves 100 prompt tokens per step beside A's one:
    # 10 x 1000 / 100 = 100 steps each 100 x 1e-5 = 1 ms longer. A's e2e: its prefill (1e-5 s), then
    # 1000 steps of 10 ms plus 100 ms of stall = 10.1 s + 1e-5 s; no step is longer than 10 ms + 1 ms.
    traffic = requests([0.0] + [0.5] * 10, [1] + [1000] * 10, [1001] + [1] * 10)
    run = simulate(Fleet((Pool(kind(prefill_s_per_token=1e-5, budget=101), 1),)), traffic, drain_s=np.inf)
    assert run.finished[0] - run.arrival[0] == pytest.approx(10.1 + 1e-5, rel=1e-12)
    tpot_max = 0.01 + 1e-5 * 100
    assert (run.finished[0] - run.first_token[0]) / 1000 <= tpot_max
    # Prompts are prefilled 100 tokens a step, one after another: the k-th is done after 10 k steps.
    ttft = run.first_token[1:] - run.arrival[1:]
    assert np.all(np.diff(ttft) > 10 * 0.01)
    # Without a budget worth the name the ten prompts stall A's next step by the whole 10,000 tokens: 0.1 s at once.
    unbounded = simulate(Fleet((Pool(kind(prefill_s_per_token=1e-5, budget=100_000), 1),)), traffic, drain_s=np.inf)
    assert np.all(unbounded.first_token[1:] == unbounded.first_token[1])
    assert unbounded.first_token[1] - 0.5 > 0.1


@pytest.mark.parametrize("preemption", ["recompute", "swap"])
def test_kv_admission_and_preemption_on_a_hand_built_case(preemption):
    # KV memory 100 tokens; two requests of 30 prompt tokens, 50 out, at t=0, 10 ms decode steps, 1e-4 s per
    # prompt token, 1e-4 s per swapped token. Both fit (60 <= 100): one prefill step of 6 ms, first tokens at 6 ms.
    # Each decode step adds one token per sequence: after m steps 60 + 2m tokens are held; step m+1 needs 2 more,
    # which fits until m = 20 (100 held). So the 21st decode step must preempt, and not before: the newest (B).
    traffic = requests([0.0, 0.0], [30, 30], [50, 50])
    run = simulate(Fleet((Pool(kind(prefill_s_per_token=1e-4, kv_tokens=100, swap_s_per_token=1e-4), 1),)), traffic, preemption=preemption,
                   drain_s=np.inf)
    np.testing.assert_array_equal(run.preemptions, [0, 1])
    assert run.first_token == pytest.approx([0.006, 0.006], rel=1e-12)
    assert run.kv_peak_tokens[0] <= 100
    if preemption == "recompute":
        # A: 49 decode steps in all -> 0.006 + 0.49 = 0.496. B held 21 tokens out; readmitted when A is done, it
        # prefills 30 + 21 = 51 tokens again (5.1 ms, giving its 22nd token), then 28 decode steps.
        assert run.finished == pytest.approx([0.496, 0.496 + 0.0051 + 0.28], rel=1e-12)
    else:
        # Swap: the 21st step also writes B's 50 KV tokens out (+5 ms): A ends at 0.006 + 0.2 + 0.015 + 0.28 = 0.501.
        # B's 50 tokens come back in its first step (10 ms + 5 ms, its 22nd token), then 28 steps.
        assert run.finished == pytest.approx([0.501, 0.501 + 0.015 + 0.28], rel=1e-12)


def test_kv_in_use_never_exceeds_memory_under_overload():
    st = named_streams(5, ["arrivals", "inputs", "outputs"])
    traffic = open_loop("poisson", st, 50.0, 3000, None, Lengths("lognormal", 400, 1.0), Lengths("lognormal", 200, 1.0))
    cap = 20_000
    run = simulate(Fleet((Pool(kind(per_ctx_s=1e-6, prefill_s_per_token=2e-5, kv_tokens=cap, max_seqs=128), 3),)), traffic)
    assert run.kv_peak_tokens.max() <= cap
    assert run.preemptions.sum() > 0  # memory bound, not the batch
    too_long = traffic.input_tokens + traffic.output_tokens + 1 > cap
    np.testing.assert_array_equal(run.rejected, too_long)


def test_disaggregated_with_infinite_pools_and_no_transfer_is_the_ideal():
    # Every request has a prefill and a decode replica to itself: TTFT = prompt x 2e-5 s; then out - 1 decode
    # steps alone at 4 ms + 1e-6 s per token of context, which starts at the prompt and grows by one a step:
    # e2e = TTFT + (out - 1)(4e-3 + 1e-6 prompt) + 1e-6 (out - 1)(out - 2) / 2.
    st = named_streams(1, ["arrivals", "inputs", "outputs"])
    t = open_loop("poisson", st, 20.0, 400, None, Lengths("lognormal", 800, 0.8), Lengths("lognormal", 100, 0.8))
    k = kind(step_s=4e-3, per_ctx_s=1e-6, prefill_s_per_token=2e-5, budget=512)
    run = simulate(Fleet((Pool(k, t.size, "prefill"), Pool(k, t.size, "decode"))), t, drain_s=np.inf)
    p, o = t.input_tokens.astype(float), t.output_tokens.astype(float)
    ttft = p * 2e-5
    e2e = ttft + (o - 1) * (4e-3 + 1e-6 * p) + 1e-6 * (o - 1) * (o - 2) / 2
    np.testing.assert_allclose(run.first_token - run.arrival, ttft, rtol=1e-9)
    np.testing.assert_allclose(run.finished - run.arrival, e2e, rtol=1e-9)


@pytest.mark.parametrize("lengths", ["geometric", "fixed"])
def test_one_request_at_a_time_is_an_m_g_1_queue(lengths):
    # Batch 1, instant prefill: service = 10 ms x (out - 1). Geometric out (p = 1/20): out - 1 has mean
    # (1-p)/p = 19 and E[X^2] = (1-p)(2-p)/p^2 = 0.95 x 1.95 x 400 = 741; fixed out = 20: X = 19, E[X^2] = 361.
    # Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1 - rho)), lambda at rho = 0.7.
    tau, p, n = 0.01, 1 / 20, 200_000
    mean_x, ex2 = (19.0, 741.0) if lengths == "geometric" else (19.0, 361.0)
    lam = 0.7 / (tau * mean_x)
    wq = lam * tau**2 * ex2 / (2 * (1 - 0.7))
    rng = np.random.default_rng(11)
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    out = rng.geometric(p, n) if lengths == "geometric" else np.full(n, 20)
    run = simulate(Fleet((Pool(kind(step_s=tau, max_seqs=1), 1),)), requests(arrivals, np.ones(n), out), drain_s=np.inf)
    wait = (run.admitted - run.arrival)[n // 10:]
    means = np.array([b.mean() for b in np.array_split(wait, 30)])  # batch means: waits are correlated
    se = means.std(ddof=1) / np.sqrt(means.size)
    assert abs(wait.mean() - wq) <= Z * se, (wait.mean(), wq, se)


def test_more_replicas_never_wait_longer():
    st = named_streams(2, ["arrivals", "inputs", "outputs"])
    t = open_loop("poisson", st, 30.0, 4000, None, Lengths("lognormal", 500, 1.0), Lengths("lognormal", 150, 1.0))
    k = kind(step_s=0.01, per_ctx_s=1e-6, prefill_s_per_token=2e-5, max_seqs=8, budget=256)
    waits = [np.nanmean(simulate(Fleet((Pool(k, c),)), t).admitted - t.arrival_s) for c in (2, 3, 4)]
    assert waits[0] > waits[1] > waits[2]


@pytest.mark.parametrize(("path", "model", "system"), [
    (PILOT, "llama-3.3-70b", "hgx-h100"),
    (PILOT, "gpt-oss-120b", "hgx-h100"),
    (REFERENCE, "deepseek-r1", "gb300-nvl72"),  # disaggregated, speculative decoding (1.7 tokens a step)
])
def test_a_saturated_replica_serves_the_operating_points_throughput(path, model, system):
    # Far more requests than one replica serves: the batch stays full, so output tokens/s over the window
    # is the replica's capacity, which the token model's operating point gives (within 5 %).
    spec = load_spec(path)
    wm = next(w for w in spec.workload.models if w.model == model)
    fleet = build_fleet(spec, model, {system: 1})
    cap = fleet.capacity_tokens_per_s()
    st = named_streams(0, ["arrivals", "inputs", "outputs"])
    requests_per_s = 3.0 * cap / wm.osl
    t = open_loop("poisson", st, requests_per_s, int(40 * fleet.pools[-1].kind.max_seqs) + 400, None, Lengths("fixed", wm.isl), Lengths("fixed", wm.osl))
    s = summarize(simulate(fleet, t, warmup_share=0.3), wm.sla)
    assert s["throughput_tokens_per_s"] == pytest.approx(cap, rel=0.05)
    assert s["unfinished"] > 0  # overloaded: what never finished is counted


def test_same_inputs_same_arrays():
    st = lambda: named_streams(9, ["arrivals", "inputs", "outputs"])  # noqa: E731
    k = kind(per_ctx_s=1e-6, prefill_s_per_token=1e-5, kv_tokens=30_000, max_seqs=16, budget=512)
    a, b = (simulate(Fleet((Pool(k, 2),)), open_loop("bursty", st(), 40.0, 2000, None, Lengths("lognormal", 300, 1.0),
                                                       Lengths("lognormal", 100, 1.0)), router=r) for r in ("kv-aware", "kv-aware"))
    for name in ("arrival", "admitted", "first_token", "finished", "replica", "preemptions", "queue_depth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize(("router", "hit"), [("kv-aware", 1000 + 100 - 1), ("round-robin", 0)])
def test_a_sessions_next_turn_hits_its_prefix_where_it_was_served(router, hit):
    # One session on two idle replicas: turn 1 (1000 prompt, 100 out) ends holding 1000 + 100 - 1 tokens of KV
    # (the last token's KV is never written). Turn 2's prompt repeats that context (prefix 1100) plus 50 tool
    # tokens. KV-aware routing sends it back (its prefix is cached there), so only 1150 - 1099 = 51 tokens are
    # prefilled; round robin sends it to the other replica, which prefills all 1150.
    t = Traffic(np.array([0.0, np.nan]), np.array([0.0, 0.5]), np.array([1, -1]), np.array([1000, 1150]), np.array([100, 10]),
                np.array([0, 0]), np.array([0, 1100]))
    run = simulate(Fleet((Pool(kind(prefill_s_per_token=1e-4), 2),)), t, router=router, drain_s=np.inf)
    assert run.prefix_hit_tokens[1] == hit
    assert (run.replica[1] == run.replica[0]) == (router == "kv-aware")
    # TTFT of turn 2: arrives 0.5 s after turn 1 ends, prefills what is not cached at 1e-4 s a token.
    assert run.first_token[1] - run.arrival[1] == pytest.approx((1150 - hit) * 1e-4, rel=1e-12)
    # Disaggregated (a prefill replica, two decode replicas holding the caches): only the uncached tokens are
    # prefilled remotely and cross the link, at 1e-5 s a token.
    k = kind(prefill_s_per_token=1e-4, xfer_s_per_token=1e-5)
    split = simulate(Fleet((Pool(k, 1, "prefill"), Pool(k, 2, "decode"))), t, router=router, drain_s=np.inf)
    assert split.prefix_hit_tokens[1] == hit
    assert split.first_token[1] - split.arrival[1] == pytest.approx((1150 - hit) * (1e-4 + 1e-5), rel=1e-12)


def test_least_loaded_routing_weighs_replicas_by_their_batch_limit():
    # A replica of batch 4 beside one of batch 1: 5 requests at once go 4 : 1 (load = in flight / batch limit;
    # ties go to the first), so none waits for a slot.
    fleet = Fleet((Pool(kind(max_seqs=4), 1), Pool(kind(max_seqs=1), 1)))
    run = simulate(fleet, requests([0.0] * 5, [10] * 5, [20] * 5), drain_s=np.inf)
    assert sorted(np.bincount(run.replica).tolist()) == [1, 4]
    np.testing.assert_array_equal(run.admitted, 0.0)


def test_throughput_counts_the_tokens_emitted_inside_the_window():
    # One request: instant prefill, first token at 0, then ten 1-s steps, a token at the end of each: 1, 2, ..., 10 s.
    # In (5, 10] it emits 5 tokens; in (-1, 10] all 11. Cut at 4 s: 5 tokens out, unfinished, all 5 in (-1, 4].
    def play(measure, drain_s=np.inf):
        return simulate(Fleet((Pool(kind(step_s=1.0), 1),)), requests([0.0], [1], [11]), drain_s=drain_s, measure=measure)

    assert play((5.0, 10.0)).tokens_in_window[0] == 5
    assert play((-1.0, 10.0)).tokens_in_window[0] == 11
    cut = play((-1.0, 4.0), drain_s=4.0)
    assert np.isnan(cut.finished[0])
    assert cut.tokens_out[0] == 5
    assert cut.tokens_in_window[0] == 5


def test_disaggregated_requests_take_a_decode_slot_before_their_prefill():
    # As Dynamo: one decode slot, one prefill replica; two 100-token prompts, 11 tokens out, at t = 0. A takes the
    # slot and is prefilled remotely (100 x 1e-4 = 10 ms), its KV crosses in 100 x 1e-5 = 1 ms: first token at
    # 11 ms, then ten 10-ms steps: done at 111 ms. B waits for the slot, then the same: 111 + 11 = 122 ms, 222 ms.
    k = kind(step_s=0.01, prefill_s_per_token=1e-4, xfer_s_per_token=1e-5, max_seqs=1)
    run = simulate(Fleet((Pool(k, 1, "prefill"), Pool(k, 1, "decode"))), requests([0.0, 0.0], [100, 100], [11, 11]), drain_s=np.inf)
    assert run.first_token == pytest.approx([0.011, 0.122], rel=1e-12)
    assert run.finished == pytest.approx([0.111, 0.222], rel=1e-12)
    assert run.admitted == pytest.approx([0.0, 0.111], rel=1e-12)
    np.testing.assert_array_equal(run.replica, [1, 1])  # the decode replica (the prefill one is index 0)


def test_a_thrashing_replica_keeps_every_queue_change():
    # 20 requests of 10 + 1000 tokens on 2,000 tokens of KV memory: all start, then growth preempts one after
    # another, each readmitted later. That is more queue changes than the engine first makes room for (3 per
    # request and 16), so the series must grow, keep them all, and end empty.
    n = 20
    run = simulate(Fleet((Pool(kind(kv_tokens=2000, max_seqs=n, prefill_s_per_token=1e-5), 1),)),
                   requests([0.0] * n, [10] * n, [1000] * n), drain_s=np.inf)
    assert run.preemptions.sum() > n
    assert run.queue_times_s.size > 3 * n + 16
    assert np.isfinite(run.finished).all()
    assert run.queue_depth[-1] == 0
    assert run.kv_peak_tokens[0] <= 2000
