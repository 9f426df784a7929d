"""The frontier and the operating point: monotone, meeting the SLA, never worse with more capacity."""

from __future__ import annotations

import pytest

from twin.loader import shipped_catalog
from twin.perf import PerfError, ServingPoint, decode_step_time, frontier, operating_point
from twin.perf.points import JSON_KEYS
from twin.spec import Serving, Sla, WorkloadModel

CAT = shipped_catalog()
CASES = [(s, m, p, d) for s in CAT.systems for m in CAT.models for p in ("bf16", "fp8", "fp4") for d in (False, True)]


def _frontier_or_none(system, model, wm):
    try:
        return frontier(CAT.systems[system], CAT.models[model], wm)
    except PerfError:
        return None


def test_frontier_is_monotone_for_every_system_and_model_that_fits():
    served = 0
    for system, model, precision, disagg in CASES:
        wm = WorkloadModel(model=model, precision=precision, serving=Serving(disaggregated=disagg))
        curve = _frontier_or_none(system, model, wm)
        if curve is None:
            continue
        served += 1
        inter = [p.tokens_per_s_per_user for p in curve]
        tput = [p.tokens_per_s_per_gpu for p in curve]
        assert inter == sorted(inter), (system, model, precision, disagg)
        assert all(a >= b for a, b in zip(tput, tput[1:], strict=False)), (system, model, precision, disagg)
        assert all(p.ttft_s <= wm.sla.max_ttft_s for p in curve)
    assert served > len(CASES) * 0.8


def test_operating_point_meets_the_sla_and_lies_on_its_frontier():
    for system in CAT.systems.values():
        wm = WorkloadModel(model="llama-3.3-70b", precision="fp8", sla=Sla(min_tokens_per_s_per_user=30, max_ttft_s=2))
        op = operating_point(system, CAT.models["llama-3.3-70b"], wm)
        assert op.tokens_per_s_per_user >= 30 * (1 - 1e-9)
        assert op.ttft_s <= 2
        assert op.method == "model"
        better = [p for p in op.frontier if p.tokens_per_s_per_user >= op.tokens_per_s_per_user * (1 - 1e-9)]
        assert max(p.tokens_per_s_per_gpu for p in better) == pytest.approx(op.tokens_per_s_per_gpu)


def test_a_looser_sla_never_lowers_throughput():
    model = CAT.models["deepseek-r1"]
    last = 0.0
    for min_inter in (100, 60, 30, 10):
        wm = WorkloadModel(model=model.id, precision="fp8", sla=Sla(min_tokens_per_s_per_user=min_inter))
        tput = operating_point(CAT.systems["hgx-h200"], model, wm).tokens_per_s_per_gpu
        assert tput >= last
        last = tput


def test_more_memory_and_bandwidth_never_make_things_worse():
    """H200 is H100 with more HBM and bandwidth, same compute, same family."""
    for model in CAT.models.values():
        wm = WorkloadModel(model=model.id, precision="fp8")
        try:
            h100 = operating_point(CAT.systems["hgx-h100"], model, wm).tokens_per_s_per_gpu
        except PerfError:
            continue
        assert operating_point(CAT.systems["hgx-h200"], model, wm).tokens_per_s_per_gpu >= h100


def test_decode_step_grows_with_batch_and_context():
    h100, llama = CAT.systems["hgx-h100"], CAT.models["llama-3.3-70b"]
    t = [decode_step_time(h100, llama, "fp8", 4, b, 4096, Serving()) for b in (1, 8, 64)]
    assert t == sorted(t)
    assert decode_step_time(h100, llama, "fp8", 4, 8, 8192, Serving()) > t[1]


def test_model_too_big_for_the_replica_is_a_clear_error():
    model, system = CAT.models["llama-3.1-405b"], CAT.systems["hgx-h100"]
    weights_gb = model.params_total_b * 2  # BF16
    assert weights_gb > 8 * system.gpu.hbm_gb
    with pytest.raises(PerfError, match=rf"does not fit hgx-h100: its weights take {weights_gb:,.0f} GB"):
        operating_point(system, model, WorkloadModel(model=model.id, precision="bf16"), max_gpus=8)


def test_unreachable_sla_names_the_best_achievable():
    wm = WorkloadModel(model="llama-3.1-405b", precision="fp8", sla=Sla(min_tokens_per_s_per_user=5000))
    with pytest.raises(PerfError, match=r"best achievable is [\d.]+ tok/s/user"):
        operating_point(CAT.systems["hgx-h200"], CAT.models["llama-3.1-405b"], wm)


def test_unserved_precision_is_an_error():
    only_fp8 = CAT.models["llama-3.3-70b"].model_copy(update={"precisions": ["fp8"]})
    with pytest.raises(PerfError, match="not served in bf16"):
        operating_point(CAT.systems["hgx-h200"], only_fp8, WorkloadModel(model=only_fp8.id, precision="bf16"))


def test_json_has_the_issue_keys_for_the_point_and_every_frontier_point():
    op = operating_point(CAT.systems["hgx-b200"], CAT.models["gpt-oss-120b"], WorkloadModel(model="gpt-oss-120b", precision="fp4"))
    doc = op.as_json()
    assert list(doc)[: len(JSON_KEYS)] == list(JSON_KEYS)
    assert "frontier" in doc
    assert doc["frontier"]
    assert all(set(JSON_KEYS) <= set(p) for p in doc["frontier"])
    assert isinstance(op.frontier[0], ServingPoint)
