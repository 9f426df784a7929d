"""Serving configuration search and disaggregation physics, with hand-worked numbers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tests.cli_support import aift_captured
from twin.loader import shipped_catalog
from twin.perf import PerfError, operating_point
from twin.perf.calibration import shipped_calibration
from twin.perf.layouts import PrefillPool
from twin.perf.memory import model_sizes
from twin.perf.serving import accepted_tokens, candidates
from twin.perf.step import decode_parts, hardware, kv_shards, kv_transfer_s
from twin.spec import Serving, Sla, WorkloadModel

CAT = shipped_catalog()
DSR1, LLAMA = CAT.models["deepseek-r1"], CAT.models["llama-3.3-70b"]
H200 = CAT.systems["hgx-h200"]


@pytest.fixture
def ideal_links():
    """The shipped calibration with links at their datasheet rate and no latency."""
    return dataclasses.replace(shipped_calibration(), link_efficiency=1.0, nvlink_latency_us=0.0, scale_out_latency_us=0.0)


def test_speculative_acceptance_chains_the_drafts():
    # p = 0.7: one draft 1 + 0.7 = 1.7 tokens per step; three drafts 1 + 0.7 + 0.49 + 0.343 = 2.533.
    assert accepted_tokens(0.7, 1) == pytest.approx(1.7)
    assert accepted_tokens(0.7, 3) == pytest.approx(2.533)
    assert accepted_tokens(0.7, 0) == 1.0


def test_auto_searches_mtp_only_where_the_model_has_it_and_pins_what_is_given():
    # DeepSeek-R1 has MTP: {aggregated, disaggregated} x {no drafts, 1, 2, 3 drafts} = 8 configurations.
    auto = candidates(DSR1, Serving())
    assert len(auto) == 8
    assert sorted({round(c.accepted, 6) for c in auto}) == pytest.approx([1.0, 1.7, 2.19, 2.533])
    # Llama has none: aggregated or disaggregated, without drafts.
    assert [(c.disaggregated, c.drafts) for c in candidates(LLAMA, Serving())] == [(False, 0), (True, 0)]
    # Pinned: 1.8 accepted tokens per step is one draft (floor 1.8) verified per step.
    pinned = candidates(DSR1, Serving(disaggregated=True, accepted_tokens_per_step=1.8))
    assert [(c.disaggregated, c.drafts, c.accepted) for c in pinned] == [(True, 1, 1.8)]
    assert [c.drafts for c in candidates(DSR1, Serving(speculative=False))] == [0, 0]


def test_prefill_pool_is_sized_to_the_request_rate_of_the_decode_pool():
    # 8 GPUs take 0.5 s per prompt at 80% busy: 8 x 0.5 / 0.8 = 5 GPU-s per request.
    pool = PrefillPool(gpus=8, prefill_s=0.5, utilization=0.8)
    assert pool.gpu_s_per_request == pytest.approx(5.0)
    # A decode replica of 256 sequences, 50 ms steps, OSL 1,000: each ends after 1,000 steps (50 s),
    # so 256 / 50 = 5.12 requests/s arrive, needing 5.12 x 5 = 25.6 prefill GPUs.
    assert pool.gpus_for(256 / (1000 * 0.05)) == pytest.approx(25.6)


def test_disaggregated_throughput_counts_both_pools():
    wm = WorkloadModel(model=DSR1.id, precision="fp8", sla=Sla(min_tokens_per_s_per_user=20), serving=Serving(disaggregated=True))
    op = operating_point(H200, DSR1, wm)
    # Output per decode step over every GPU: batch x tokens per step / step time / (decode + prefill GPUs).
    step = op.tpot_s * op.speculative_tokens
    per_gpu = op.batch_size * op.speculative_tokens / step / (op.gpus_per_replica + op.prefill_gpus_per_replica)
    assert op.tokens_per_s_per_gpu == pytest.approx(per_gpu, rel=1e-9)
    assert op.serving["mode"] == "disaggregated"
    assert op.prefill_gpus_per_replica > 0


def test_kv_transfer_over_the_scale_out_network_between_servers(ideal_links):
    hw, sz = hardware(H200, "fp8", ideal_links), model_sizes(DSR1, "fp8")
    # MLA in FP8: 61 layers x 576 B = 35,136 B per token; 8,192 tokens = 287.8 MB. An 8-GPU prefill
    # replica and an 8-GPU decode replica are two servers: one lane at 400 Gb/s = 50 GB/s -> 5.756 ms.
    t = kv_transfer_s(hw, sz, 8192, 8, np.array([8.0]), np.array([True]))
    assert t[0] == pytest.approx(8192 * 35136 / 50e9, rel=1e-9)
    assert t[0] == pytest.approx(5.756e-3, rel=1e-3)


def test_kv_transfer_over_nvlink_in_parallel_lanes_inside_one_server(ideal_links):
    hw, sz = hardware(H200, "fp8", ideal_links), model_sizes(LLAMA, "fp8")
    # GQA in FP8: 80 layers x 2 x 8 heads x 128 = 163,840 B per token; 8,192 tokens = 1.342 GB.
    # TP4 prefill and TP4 decode share one 8-GPU NVLink domain; 4 KV-head shards move in parallel
    # at 450 GB/s each: 1.342e9 / (4 x 450e9) = 0.746 ms.
    t = kv_transfer_s(hw, sz, 8192, 4, np.array([4.0]), np.array([False]))
    assert t[0] == pytest.approx(8192 * 163840 / (4 * 450e9), rel=1e-9)
    assert t[0] == pytest.approx(0.746e-3, rel=1e-3)


def test_mla_cache_is_replicated_under_tensor_parallelism():
    cal = shipped_calibration()
    hw, mla, gqa = hardware(H200, "fp8", cal), model_sizes(DSR1, "fp8"), model_sizes(LLAMA, "fp8")
    assert kv_shards(mla, 8, False) == 1  # every TP rank holds the whole latent cache
    assert kv_shards(gqa, 8, False) == 8  # GQA splits by KV head
    assert kv_shards(mla, 8, True) == 8  # data-parallel attention splits by sequence
    # 10 sequences of 1,000 tokens: 10 x 1,000 x 35,136 B = 351.36 MB read by every TP8 rank per step,
    # against 351.36 / 8 = 43.92 MB per rank under attention DP; the difference is HBM time.
    tp = decode_parts(hw, mla, 8.0, False, 10.0, 1000.0)
    dp = decode_parts(hw, mla, 8.0, True, 10.0, 1000.0)
    shared_tp, shared_dp = mla.shared_bytes / 8, mla.shared_bytes  # DP attention keeps the shared weights whole
    kv_gap = (351.36e6 - 43.92e6) / hw.hbm_bytes_s
    assert tp.memory_s - dp.memory_s == pytest.approx(kv_gap + (shared_tp - shared_dp) / hw.hbm_bytes_s, rel=1e-9)


def test_auto_is_at_least_as_good_as_every_pinned_configuration():
    wm = WorkloadModel(model=DSR1.id, precision="fp4", isl=1024, osl=1024, sla=Sla(min_tokens_per_s_per_user=50))
    gb200 = CAT.systems["gb200-nvl72"]
    auto = operating_point(gb200, DSR1, wm)
    for disagg in (False, True):
        for spec in (False, True):
            pinned = wm.model_copy(update={"serving": Serving(disaggregated=disagg, speculative=spec)})
            assert auto.tokens_per_s_per_gpu >= operating_point(gb200, DSR1, pinned).tokens_per_s_per_gpu * (1 - 1e-9)
    assert {p.serving["mode"] for p in auto.frontier} <= {"aggregated", "disaggregated"}
    assert all(p.drafts in (0, 1, 2, 3) for p in auto.frontier)


def test_serving_auto_is_the_default_and_may_be_written_as_a_word():
    assert WorkloadModel(model="x", serving="auto").serving == Serving()
    assert Serving().disaggregated is None
    assert Serving().speculative is None


def test_an_aggregated_replica_stays_within_its_engines_concurrency():
    cal = shipped_calibration()
    cap = cal.engine_max_concurrency(H200.family)
    wm = WorkloadModel(model="gpt-oss-120b", precision="fp4", isl=1024, osl=1024, sla=Sla(min_tokens_per_s_per_user=1),
                       serving=Serving(disaggregated=False))
    op = operating_point(H200, CAT.models["gpt-oss-120b"], wm)
    assert op.batch_size <= cap * (1 + 1e-9)


def _aift_json(monkeypatch, capsys, *args: str) -> tuple[int, dict | str]:
    code, out, err = aift_captured(monkeypatch, capsys, "perf", *args)
    return code, json.loads(out) if code == 0 else err


def test_cli_flags_pin_the_configuration_on_every_frontier_point(monkeypatch, capsys):
    code, doc = _aift_json(monkeypatch, capsys, "--system", "gb200-nvl72", "--model", "deepseek-r1", "--precision", "fp4",
                           "--min-interactivity", "50", "--disaggregated", "--no-speculative", "--json")
    assert code == 0
    points = [doc, *doc["frontier"]]
    assert {p["serving"]["mode"] for p in points} == {"disaggregated"}
    assert {p["serving"]["drafts"] for p in points} == {0}
    assert all(p["serving"]["prefill_gpus"] > 0 for p in points)


def test_cli_refuses_contradicting_speculation_flags(monkeypatch, capsys):
    code, err = _aift_json(monkeypatch, capsys, "--system", "hgx-h200", "--model", "deepseek-r1", "--speculative", "1.8",
                           "--no-speculative")
    assert code == 2
    assert "not both" in err


def test_a_stated_replica_size_is_the_only_one_tried():
    wm = WorkloadModel(model=LLAMA.id, precision="fp8", sla=Sla(min_tokens_per_s_per_user=10))
    assert operating_point(H200, LLAMA, wm, min_gpus=8, max_gpus=8).gpus_per_replica == 8
    # A dense model is tensor parallel inside one 8-GPU NVLink domain: no 16-GPU replica exists.
    with pytest.raises(PerfError, match="between 16 and 16 GPUs"):
        operating_point(H200, LLAMA, wm, min_gpus=16, max_gpus=16)
