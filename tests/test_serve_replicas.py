"""The simulated replica is the token model's operating point: its serving mode, layout, batch, drafts, prefill pool."""

from __future__ import annotations

import math

import pytest

from tests.conftest import PILOT, REFERENCE
from twin.loader import load_spec
from twin.perf.calibration import shipped_calibration
from twin.perf.prompts import prompt_of
from twin.serve.replicas import prefill_pool_of
from twin.serve.run import build_fleet, model_streams, pinned_stream

CASES = [
    (PILOT, "llama-3.3-70b", "hgx-h100"),  # serving: auto
    (PILOT, "gpt-oss-120b", "hgx-h100"),  # serving: auto, attention data-parallel
    (REFERENCE, "deepseek-r1", "gb300-nvl72"),  # disaggregated, speculative decoding pinned
]


def _setup(path, model, system, disaggregated=None):
    spec = load_spec(path)
    wm = next(w for w in spec.workload.models if w.model == model)
    s = pinned_stream(spec, next(s for s in model_streams(spec, model) if s.system == system), disaggregated)
    return spec, wm, s, build_fleet(spec, model, {system: 1}, disaggregated=disaggregated)


def _step_s(kind, b, ctx):
    return kind.coef_a[b] + kind.coef_b[b] * ctx


@pytest.mark.parametrize(("path", "model", "system"), CASES)
def test_the_replica_runs_the_configuration_the_token_model_chose(path, model, system):
    spec, wm, s, fleet = _setup(path, model, system)
    p, kind = s.point, fleet.pools[-1].kind
    assert [q.role for q in fleet.pools] == (["prefill", "decode"] if p.disaggregated else ["aggregated"])
    assert (kind.gpus, kind.max_seqs, kind.tokens_per_step) == (p.gpus_per_replica, math.floor(p.batch_size), p.speculative_tokens)
    # A decode step of the point's batch at mean context is the token model's (its TPOT times the tokens a step yields),
    # to the rounding of the batch down.
    b, ctx = kind.max_seqs, prompt_of(wm).tokens + wm.osl / 2.0
    assert _step_s(kind, b, ctx) == pytest.approx(p.tpot_s * p.speculative_tokens, rel=0.01)
    # The prefill pool is the one the point provisions: at the replica's rate of requests it needs the point's prefill GPUs.
    pool = prefill_pool_of(spec, s)
    assert pool.gpus_for(kind.capacity_tokens_per_s / wm.osl) == pytest.approx(p.prefill_gpus_per_replica, rel=1e-9)
    pre = fleet.pools[0].kind
    assert (pre.gpus, pre.prefill_s_per_token * prompt_of(wm).computed) == (pool.gpus, pytest.approx(pool.prefill_s, rel=1e-12))
    assert fleet.pools[0].count == math.ceil(p.prefill_gpus_per_replica / pool.gpus)


def test_a_mode_asked_for_is_the_token_models_best_point_in_that_mode():
    # gpt-oss-120b on HGX H100 is served disaggregated under serving: auto; asked aggregated, the replica is the
    # aggregated operating point: within the engine's concurrency cap, prefills interleaved with its decode steps.
    spec, wm, s, fleet = _setup(PILOT, "gpt-oss-120b", "hgx-h100", disaggregated=False)
    p, kind = s.point, fleet.pools[0].kind
    assert not p.disaggregated
    assert [q.role for q in fleet.pools] == ["aggregated"]
    assert kind.max_seqs == math.floor(p.batch_size) <= shipped_calibration().engine_max_concurrency(spec.cat.systems["hgx-h100"].family)
    assert prefill_pool_of(spec, s) is None
    # TPOT of the aggregated point: the step plus the prefills of the other B - 1 sequences' successors.
    b, ctx = kind.max_seqs, prompt_of(wm).tokens + wm.osl / 2.0
    per_request = kind.tokens_per_step * kind.prefill_s_per_token * prompt_of(wm).computed / wm.osl
    assert _step_s(kind, b, ctx) + (b - 1) * per_request == pytest.approx(p.tpot_s * p.speculative_tokens, rel=0.01)
    assert fleet.capacity_tokens_per_s() == pytest.approx(p.tokens_per_s_per_gpu * p.gpus_per_replica, rel=1e-12)
