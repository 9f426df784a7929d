"""Token production model against hand-worked numbers: bytes over bandwidth, FLOPs over compute, KV limits.

Every expected figure is computed here from the catalog's datasheet and architecture
figures and the calibration's factors, not copied from the model's output. A calibration
without fixed latencies isolates the roofline terms.
"""

from __future__ import annotations

import dataclasses

import pytest

from twin.catalog import BYTES_PER_PARAM
from twin.loader import shipped_catalog
from twin.perf import decode_step_time, operating_point, prefill_time
from twin.perf.calibration import shipped_calibration
from twin.spec import Serving, Sla, WorkloadModel

CAT = shipped_catalog()
H200, B200 = CAT.systems["hgx-h200"], CAT.systems["hgx-b200"]
LLAMA, DSR1 = CAT.models["llama-3.3-70b"], CAT.models["deepseek-r1"]


@pytest.fixture(scope="module")
def roofline():
    """The shipped calibration with every fixed latency set to zero."""
    cal = shipped_calibration()
    fams = {k: dataclasses.replace(f, layer_overhead_us=0.0) for k, f in cal.families.items()}
    return dataclasses.replace(cal, families=fams, nvlink_latency_us=0.0, scale_out_latency_us=0.0, all_to_all_latency_us=0.0)


def _bw(system, cal) -> float:
    return system.gpu.hbm_tbps * 1e12 * cal.family(system.family).hbm_efficiency


def _flops(system, precision, cal) -> float:
    return system.gpu.dense_tflops[precision] * 1e12 * cal.family(system.family).compute_efficiency


def test_dense_batch_one_decode_step_is_weight_bytes_over_achieved_bandwidth(roofline):
    weight_bytes = LLAMA.params_total_b * 1e9 * BYTES_PER_PARAM["fp8"]
    t = decode_step_time(H200, LLAMA, "fp8", 1, 1, 0.0, Serving(), cal=roofline)
    assert t == pytest.approx(weight_bytes / _bw(H200, roofline), rel=1e-9)
    assert 2 * LLAMA.params_active_b * 1e9 / _flops(H200, "fp8", roofline) < t  # memory-bound


def test_kv_cache_read_adds_bytes_per_token_of_context(roofline):
    weight_bytes = LLAMA.params_total_b * 1e9
    kv_per_token = LLAMA.layers * 2 * LLAMA.kv_heads * LLAMA.head_dim * 1.0  # FP8 KV cache
    batch, ctx = 16, 4096
    t = decode_step_time(H200, LLAMA, "fp8", 1, batch, ctx, Serving(), cal=roofline)
    assert t == pytest.approx((weight_bytes + batch * ctx * kv_per_token) / _bw(H200, roofline), rel=1e-9)


def test_large_batch_decode_is_compute_bound_and_linear_in_batch(roofline):
    batch = 8192
    flops = 2 * LLAMA.params_active_b * 1e9 * batch
    t = decode_step_time(B200, LLAMA, "fp8", 1, batch, 0.0, Serving(), cal=roofline)
    assert t == pytest.approx(flops / _flops(B200, "fp8", roofline), rel=1e-9)
    assert t > LLAMA.params_total_b * 1e9 / _bw(B200, roofline)
    assert decode_step_time(B200, LLAMA, "fp8", 1, 2 * batch, 0.0, Serving(), cal=roofline) == pytest.approx(2 * t, rel=1e-9)


def test_fp4_weights_on_hopper_compute_at_fp8(roofline):
    batch = 8192
    t = decode_step_time(H200, LLAMA, "fp4", 1, batch, 0.0, Serving(), cal=roofline)
    assert t == pytest.approx(2 * LLAMA.params_active_b * 1e9 * batch / _flops(H200, "fp8", roofline), rel=1e-9)


def test_moe_step_reads_the_experts_its_tokens_route_to(roofline):
    gpt = CAT.models["gpt-oss-120b"]
    k_over_e = gpt.experts_per_token / gpt.experts
    experts_b = (gpt.params_total_b - gpt.params_active_b) / (1 - k_over_e)  # total = shared + E x expert
    shared_b = gpt.params_total_b - experts_b
    for batch in (1, 256):
        touched = 1 - (1 - k_over_e) ** batch  # expected share of experts some token picks, uniform routing
        weight_bytes = (shared_b + experts_b * touched) * 1e9  # FP8: one byte per parameter
        t = decode_step_time(H200, gpt, "fp8", 1, batch, 0.0, Serving(), cal=roofline)
        assert t == pytest.approx(weight_bytes / _bw(H200, roofline), rel=1e-9)


def test_prefill_is_linear_and_attention_flops_over_compute(roofline):
    tokens = 8192
    heads = LLAMA.attention_heads
    linear = 2 * LLAMA.params_active_b * 1e9 * tokens / _flops(H200, "fp8", roofline)
    attention = 2 * heads * LLAMA.head_dim * LLAMA.layers * tokens**2 / _flops(H200, "bf16", roofline)
    assert prefill_time(H200, LLAMA, "fp8", 1, tokens, cal=roofline) == pytest.approx(linear + attention, rel=1e-9)


def test_kv_cache_limits_the_batch_to_the_hbm_left_after_weights():
    cal = shipped_calibration()
    wm = WorkloadModel(model=LLAMA.id, precision="fp8", isl=8192, osl=1024, sla=Sla(min_tokens_per_s_per_user=0.0, max_ttft_s=1e4))
    free = H200.gpu.hbm_gb * 1e9 * cal.usable_hbm_fraction - LLAMA.params_total_b * 1e9
    per_sequence = (wm.isl + wm.osl / 2) * LLAMA.layers * 2 * LLAMA.kv_heads * LLAMA.head_dim  # mean context, FP8
    op = operating_point(H200, LLAMA, wm, max_gpus=1)
    assert op.gpus_per_replica == 1
    assert op.batch_size == pytest.approx(free / per_sequence, rel=1e-6)
    assert free / per_sequence < cal.max_seqs_per_rank  # the KV cache binds, not the engine cap


def test_one_sequence_in_flight_alternates_prefill_and_decode():
    """Aggregated, one request at a time: OSL tokens per (prefill + OSL decode steps)."""
    wm = WorkloadModel(model=LLAMA.id, precision="fp8", isl=2048, osl=512, sla=Sla(min_tokens_per_s_per_user=0.0, max_ttft_s=1e4))
    op = operating_point(H200, LLAMA, wm, max_gpus=1, max_batch=1)
    step = decode_step_time(H200, LLAMA, "fp8", 1, 1, wm.isl + wm.osl / 2, Serving())
    prefill = prefill_time(H200, LLAMA, "fp8", 1, wm.isl)
    assert op.batch_size == pytest.approx(1.0)
    assert op.tokens_per_s_per_user == pytest.approx(1 / step, rel=1e-9)
    assert op.tokens_per_s_per_gpu == pytest.approx(wm.osl / (prefill + wm.osl * step), rel=1e-9)
    assert op.total_tokens_per_s_per_gpu == pytest.approx(op.tokens_per_s_per_gpu * (wm.isl + wm.osl) / wm.osl, rel=1e-12)


def test_speculative_decoding_multiplies_interactivity_by_accepted_tokens(roofline):
    base = WorkloadModel(model=LLAMA.id, precision="fp8", isl=1024, osl=1024, sla=Sla(min_tokens_per_s_per_user=0.0, max_ttft_s=1e4))
    spec = base.model_copy(update={"serving": Serving(speculative=True, accepted_tokens_per_step=2.0)})
    plain = operating_point(H200, LLAMA, base, max_gpus=1, max_batch=1, cal=roofline)
    fast = operating_point(H200, LLAMA, spec, max_gpus=1, max_batch=1, cal=roofline)
    # At one sequence the step is weight-bound: verifying 3 tokens costs what decoding 1 does.
    assert fast.tokens_per_s_per_user == pytest.approx(2 * plain.tokens_per_s_per_user, rel=1e-3)


def test_power_interpolates_between_idle_and_max_and_gives_tokens_per_joule():
    wm = WorkloadModel(model=LLAMA.id, precision="fp8")
    op = operating_point(H200, LLAMA, wm)
    assert 0 < op.gpu_utilization <= 1
    assert op.system_power_kw == pytest.approx(H200.idle_kw + (H200.max_kw - H200.idle_kw) * op.gpu_utilization)
    assert op.tokens_per_joule == pytest.approx(op.tokens_per_s_per_gpu * H200.gpus_per_system / (op.system_power_kw * 1e3))


def test_disaggregated_counts_prefill_gpus_and_keeps_decode_steps_clean():
    wm = WorkloadModel(model=DSR1.id, precision="fp4", serving=Serving(disaggregated=True))
    op = operating_point(CAT.systems["gb200-nvl72"], DSR1, wm)
    assert op.prefill_gpus_per_replica > 0
    assert op.tpot_s == pytest.approx(1 / op.tokens_per_s_per_user)
    per_gpu_if_no_prefill = op.batch_size / op.tpot_s / op.gpus_per_replica
    assert op.tokens_per_s_per_gpu == pytest.approx(
        per_gpu_if_no_prefill * op.gpus_per_replica / (op.gpus_per_replica + op.prefill_gpus_per_replica), rel=1e-9)
