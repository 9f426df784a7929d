"""Agentic workloads: growing context, prefix-cache savings and the KV reload from CPU memory, by hand."""

from __future__ import annotations

import pytest

from twin.loader import shipped_catalog
from twin.perf import operating_point
from twin.perf.calibration import shipped_calibration
from twin.perf.memory import model_sizes
from twin.perf.prompts import Prompt, prompt_of, reload_s
from twin.perf.step import hardware, prefill_s
from twin.spec import Sla, WorkloadModel

CAT = shipped_catalog()
DSR1, LLAMA = CAT.models["deepseek-r1"], CAT.models["llama-3.3-70b"]


def test_a_session_resends_its_context_and_the_cache_saves_the_hits():
    wm = WorkloadModel(model=LLAMA.id, isl=1000, osl=100, turns=3, context_growth_tokens=200, prefix_cache_hit=0.5)
    p = prompt_of(wm)
    # Contexts: 1,000; 1,000 + 100 + 200 = 1,300; 1,600 -> mean 1,300.
    assert p.tokens == pytest.approx(1300.0)
    # Resent (all but the 200 new): 1,100 and 1,400 = 2,500; half found, over 3 turns: 416.67 per request.
    assert p.cached == pytest.approx(0.5 * 2500 / 3)
    assert p.computed == pytest.approx(1300 - 1250 / 3)  # 883.33 tokens prefilled per request
    assert p.last_context == 1000 + 2 * 300 + 100  # 1,700 tokens must fit the context


def test_one_turn_is_a_plain_request():
    p = prompt_of(WorkloadModel(model=LLAMA.id, isl=8192, osl=1024, prefix_cache_hit=0.9))
    assert (p.tokens, p.cached, p.last_context) == (8192, 0.0, 9216)  # nothing is resent, so nothing is cached


def test_cached_tokens_cost_only_their_attention_in_prefill():
    cal = shipped_calibration()
    h200 = CAT.systems["hgx-h200"]
    hw, sz = hardware(h200, "fp8", cal), model_sizes(LLAMA, "fp8")
    # 8,192 new tokens on one H200 are compute-bound (2 x 70.6e9 x 8,192 FLOPs against ~20 ms of weights).
    # After 4,096 cached tokens each new token also attends to them: 8,192 x 4,096 more pairs,
    # 2 x 8,192 x 4,096 in units of the causal square, at the attention FLOPs per unit.
    extra = 2 * 8192 * 4096 * sz.prefill_attn_flops_per_sq / hw.attn_flops_s
    assert prefill_s(hw, sz, 1, 8192, 4096) - prefill_s(hw, sz, 1, 8192) == pytest.approx(extra, rel=1e-9)
    # Whereas computing those 4,096 tokens too costs their GEMMs as well: far more than their attention.
    assert prefill_s(hw, sz, 1, 8192 + 4096) > prefill_s(hw, sz, 1, 8192, 4096) * 1.3


def test_the_cached_prefix_comes_back_over_the_cpu_link():
    gb200 = CAT.systems["gb200-nvl72"]
    kv = model_sizes(DSR1, "fp8").kv_bytes_per_token  # 61 x 576 B = 35,136 B
    # 10,000 cached tokens: 351.36 MB over NVLink-C2C at 225 GB/s per GPU = 1.5616 ms.
    assert reload_s(gb200, Prompt(tokens=12000, cached=10000, last_context=20000), kv) == pytest.approx(1.5616e-3, rel=1e-9)
    no_cpu = gb200.model_copy(update={"cpu_memory_gb": 0.0})
    assert reload_s(no_cpu, Prompt(tokens=12000, cached=10000, last_context=20000), kv) == 0.0  # kept in HBM


def test_prefix_cache_hits_raise_throughput_and_lower_ttft():
    gb200 = CAT.systems["gb200-nvl72"]
    base = dict(model=DSR1.id, precision="fp4", isl=4096, osl=512, turns=20, context_growth_tokens=1024,
                sla=Sla(min_tokens_per_s_per_user=50))
    cold = operating_point(gb200, DSR1, WorkloadModel(**base))
    warm = operating_point(gb200, DSR1, WorkloadModel(**base, prefix_cache_hit=0.9))
    assert warm.tokens_per_s_per_gpu > 2 * cold.tokens_per_s_per_gpu  # 90% of a ~18.7k-token mean prompt skipped
    assert warm.ttft_s < cold.ttft_s


def test_a_session_longer_than_the_context_is_refused():
    wm = WorkloadModel(model=LLAMA.id, isl=8192, osl=1024, turns=50, context_growth_tokens=2048)
    with pytest.raises(ValueError, match="the last of 50 turns' context"):
        operating_point(CAT.systems["hgx-h200"], LLAMA, wm)
