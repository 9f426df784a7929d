"""A system's prefill-only part (Rubin CPX): the pipeline prefill time, the pool on the parts, which pool limits the rack.

Figures are worked by hand in the comments from the test's own part and model and the
shipped calibration's named factors (read, not pasted, so a refit keeps the tests true).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cli_support import aift_captured
from twin.catalog import ModelEntry, PrefillPart
from twin.loader import shipped_catalog
from twin.perf import PerfError, operating_point
from twin.perf.calibration import shipped_calibration
from twin.perf.frontier import _case, _evaluate
from twin.perf.memory import model_sizes
from twin.perf.prefill_part import PartPool, gpu_power_share, part_system, pipeline_prefill_s, require_gpu_prefill, with_parts
from twin.perf.serving import ServingConfig, candidates
from twin.perf.step import hardware
from twin.spec import Serving, Sla, WorkloadModel

# A dense 8B model in FP8: 8 GB of weights, 32 layers x 2 (K, V) x 8 heads x 128 = 65,536 B of KV per token.
DENSE = ModelEntry(id="dense-8b", source="test model", params_total_b=8, params_active_b=8, layers=32, hidden_size=4096,
                   kv_heads=8, head_dim=128, precisions=["fp8"])
# A part: 128 GB at 2 TB/s, 10 PF FP8 and 5 PF BF16 dense, 64 GB/s link; 8 in a 72-GPU rack (k = 8 / 72).
PART = PrefillPart(name="test part", memory_gb=128, memory_tbps=2.0, dense_tflops={"bf16": 5000, "fp8": 10000}, tdp_w=800,
                   per_system=8, link_gbyte_s=64, source="test part")


@pytest.fixture
def rack():
    """vr-nvl144-cpx with the test's part: the Rubin GPUs, NVLink and power of the shipped entry."""
    return shipped_catalog().systems["vr-nvl144-cpx"].model_copy(update={"prefill_part": PART})


def _hand_prefill_s(parts: int) -> float:
    """One 8,192-token prompt of DENSE on a pipeline of `parts` test parts, worked by hand.

    GEMMs: 8,192 tokens x 2 x 8e9 FLOPs = 1.31072e14 FLOPs at 10 PF x compute efficiency ce.
    Attention: 8,192^2 x (2 x 32 heads x 128 x 32 layers = 262,144) = 1.7592e13 FLOPs at 5 PF x ce.
    Weights: 8e9 B at 2 TB/s x HBM efficiency he. Each splits over the parts.
    Handoff (parts > 1): 8,192 x 4,096 x 2 B = 67.1 MB over 64 GB/s x link efficiency le.
    Fixed: 32 layers x the layer overhead, plus one scale-out latency per stage boundary.
    """
    cal = shipped_calibration()
    fam = cal.family("blackwell")
    ce, he, le = fam.compute_efficiency, fam.hbm_efficiency, cal.link_efficiency
    compute = (1.31072e14 / (10e15 * ce) + 8192**2 * 262144 / (5e15 * ce)) / parts
    weights = 8e9 / (2e12 * he) / parts
    handoff = 8192 * 4096 * 2 / (64e9 * le) if parts > 1 else 0.0
    return max(compute, weights, handoff) + 32 * fam.layer_overhead_us * 1e-6 + (parts - 1) * cal.scale_out_latency_us * 1e-6


def test_pipeline_prefill_time_from_the_parts_rates(rack):
    hw = hardware(part_system(rack), "fp8", shipped_calibration())
    sz = model_sizes(DENSE, "fp8")
    for parts in (1, 2):
        assert float(pipeline_prefill_s(hw, sz, parts, 8192.0)) == pytest.approx(_hand_prefill_s(parts), rel=1e-12)
    # One part: compute 1.31072e14/7.141e15 + 1.7592e13/3.5705e15 = 18.4 + 4.9 = 23.3 ms at ce 0.7141 (+0.26 ms fixed), above the
    # weights' 8e9/1.2422e12 = 6.4 ms: the part is compute-bound on an 8k prompt.
    assert _hand_prefill_s(1) > 8e9 / (2e12 * shipped_calibration().family("blackwell").hbm_efficiency)


def test_part_pool_arithmetic_says_which_pool_limits():
    # A pipeline of 4 parts prefills a prompt in 0.5 s at 80 % busy: 4 x 0.5 / 0.8 = 2.5 part-seconds per request.
    pool = PartPool(gpus=4, prefill_s=0.5, utilization=0.8, name="p", per_system=144, parts_per_gpu=2.0, gpu_share=0.5)
    # Decode replica of 8 GPUs at 1,000 tok/s and OSL 1,000: 1 request/s needs 2.5 parts; the rack has k g = 16.
    # The GPUs limit: 1,000 / 8 = 125 tok/s per GPU, 1 - 2.5/16 = 84.375 % of the parts idle.
    assert pool.gpus_for(1.0) == pytest.approx(2.5)
    assert pool.tokens_per_gpu(1000.0, 8, 2.5) == pytest.approx(125.0)
    d = pool.describe(8, 2.5)
    assert (d["limited_by"], d["parts_idle_share"], d["gpus_idle_share"]) == ("decode GPUs", pytest.approx(0.84375), 0.0)
    # At 10,000 tok/s (10 requests/s) it needs 25 parts, more than 16: the parts limit. The replica takes
    # max(8, 25 / 2) = 12.5 GPUs' worth of the rack: 10,000 / 12.5 = 800 tok/s per GPU; 1 - 16/25 = 36 % of GPUs idle.
    assert pool.tokens_per_gpu(10000.0, 8, 25.0) == pytest.approx(800.0)
    d = pool.describe(8, 25.0)
    assert (d["limited_by"], d["gpus_idle_share"], d["parts_idle_share"]) == ("prefill parts", pytest.approx(0.36), pytest.approx(0.0))
    # Busy share, GPUs at decode busy 0.9: 0.5 x 0.9 x 0.64 (fed) + 0.5 x 0.8 x 1 (parts all in use) = 0.688.
    assert pool.busy_share(8, 0.9, 25.0) == pytest.approx(0.688)


def test_the_rack_is_limited_by_its_parts_at_large_batches(rack):
    cal = shipped_calibration()
    wm = WorkloadModel(model="dense-8b", precision="fp8", isl=8192, osl=1024, sla=Sla(max_ttft_s=10.0),
                       serving=Serving(disaggregated=True))
    c = _case(rack, DENSE, wm, cal, None, None, None, ServingConfig(True, 0, 1.0, True, prefill_on_parts=True))
    # TTFT 10 s leaves any pipeline a slack of hundreds of prefill times, so the pool runs at the 0.9 cap, and one part
    # is cheapest (a longer pipeline adds its handoff and latencies to the same work): 1 x t1 / 0.9 part-s per request.
    t1 = _hand_prefill_s(1)
    assert (c.pool.gpus, c.pool.utilization) == (1, cal.prefill_pool_max_utilization)
    assert c.pool.prefill_s == pytest.approx(t1, rel=1e-12)
    # Past the batch where the 8 parts run out, the rack serves what they prefill: k x OSL / (t1 / 0.9) per GPU,
    # (8 / 72) x 1,024 x 0.9 / 23.5 ms = ~4,350 tok/s per GPU. A one-GPU replica at its largest batch decodes more.
    plateau = (8 / 72) * 1024 * 0.9 / t1
    assert c.layouts.gpus[0] == 1
    big = _evaluate(c, c.layouts.max_batch[:, None])
    assert big["tput"][0, 0] == pytest.approx(plateau, rel=1e-9)
    assert np.all(big["tput"][:, 0] <= plateau * (1 + 1e-9))  # no layout serves more than the parts prefill
    d = c.pool.describe(1, float(big["prefill_gpus"][0, 0]))
    assert d["limited_by"] == "prefill parts"
    assert d["gpus_idle_share"] > 0.5
    # One sequence on one GPU decodes a token per step (a few ms: tens to hundreds of tok/s), far below the plateau.
    one = _evaluate(c, np.ones((c.layouts.gpus.size, 1)))
    assert one["tput"][0, 0] < plateau
    assert c.pool.describe(1, float(one["prefill_gpus"][0, 0]))["limited_by"] == "decode GPUs"
    # The operating point searches the parts among its options: it never serves less than their plateau.
    assert operating_point(rack, DENSE, wm).tokens_per_s_per_gpu >= plateau * (1 - 1e-9)


def test_aggregated_on_a_rack_with_parts_leaves_them_idle_at_their_idle_power():
    cat = shipped_catalog()
    cpx, vr = cat.systems["vr-nvl144-cpx"], cat.systems["vr-nvl72"]
    wm = WorkloadModel(model="llama-3.3-70b", precision="fp8", isl=1024, osl=1024, serving=Serving(disaggregated=False))
    a, b = operating_point(vr, cat.models["llama-3.3-70b"], wm), operating_point(cpx, cat.models["llama-3.3-70b"], wm)
    # The same Rubin GPUs serve the same tokens; the parts idle.
    assert b.tokens_per_s_per_gpu == a.tokens_per_s_per_gpu
    assert b.prefill_part["parts_idle_share"] == 1.0
    assert b.prefill_gpus_per_replica == 0.0
    # GPU busy share u from vr-nvl72's power: 69 + (230 - 69) u. On the CPX rack the GPUs are 72 x 1.8 kW of
    # 72 x 1.8 + 144 x 0.8 = 244.8 kW of boards, 0.5294 of its 360 - 108 = 252 kW of dynamic power.
    u = (a.system_power_kw - 69.0) / 161.0
    assert gpu_power_share(cpx) == pytest.approx(129.6 / 244.8)
    assert b.system_power_kw == pytest.approx(108.0 + 252.0 * (129.6 / 244.8) * u, rel=1e-9)


def test_a_system_without_parts_is_served_as_before():
    cat = shipped_catalog()
    vr, model = cat.systems["vr-nvl72"], cat.models["deepseek-r1"]
    cfgs = candidates(model, Serving())
    assert with_parts(vr, cfgs) is cfgs  # no configuration added
    wm = WorkloadModel(model="deepseek-r1", precision="fp4", isl=8192, osl=1024)
    op = operating_point(vr, model, wm)
    assert op.prefill_part is None
    assert "prefill_part" not in op.as_json()["serving"]
    # The CPX rack without its parts has vr-nvl72's GPUs: the same tokens per GPU, to the bit.
    bare = cat.systems["vr-nvl144-cpx"].model_copy(update={"prefill_part": None})
    assert operating_point(bare, model, wm).tokens_per_s_per_gpu == op.tokens_per_s_per_gpu




def test_perf_json_shows_the_prefill_part_in_serving(monkeypatch, capsys):
    code, out, err = aift_captured(monkeypatch, capsys, "perf", "--system", "vr-nvl144-cpx", "--model", "deepseek-r1", "--precision", "fp4",
                           "--isl", "32768", "--osl", "1024", "--json")
    assert code == 0, err
    part = json.loads(out)["serving"]["prefill_part"]
    assert part["name"] == "Rubin CPX 128GB GDDR7"
    assert part["parts_per_system"] == 144
    assert part["limited_by"] in {"prefill parts", "decode GPUs"}  # the parts prefill (not idle)
    # DeepSeek-R1 in FP4: routed experts (671 - 37) / (1 - 8/256) = 654.5 B params at 0.5 B = 327 GB, the rest 16.5 B at
    # 1 B = 16.5 GB: 344 GB. A part holds 0.9 x 128 = 115.2 GB: two parts (172 GB each) do not, four (86 GB + 0.3 GB of
    # the 32,768 x 61 x 576 B = 1.15 GB KV) do; at a loose TTFT the shortest pipeline that fits is the cheapest.
    assert part["parts_per_prefill_replica"] == 4


BAD_PART = """\
systems:
  - id: test-cpx
    vendor: nvidia
    family: blackwell
    gpu: {name: G, hbm_gb: 288, hbm_tbps: 22.0, dense_tflops: {bf16: 8300, fp8: 16600}, tdp_w: 1800}
    gpus_per_system: 72
    scale_up_gpus: 72
    scale_up_gbyte_s: 1800
    max_kw: 360
    idle_kw: 108
    systems_per_rack: 1
    liquid_share: 1.0
    price_usd: 9000000
    mtbf_h: 450
    prefill_part:
      name: P
      memory_gb: -128
      memory_tbps: 2.0
      dense_tflops: {fp8: 9960}
      tdp_w: 800
      per_system: 144
      link_gbyte_s: 64
      source: test
    source: test
"""


def test_a_malformed_prefill_part_is_refused_at_its_line(monkeypatch, capsys, tmp_path):
    extra = tmp_path / "cpx.yaml"
    extra.write_text(BAD_PART)
    code, out, err = aift_captured(monkeypatch, capsys, "perf", "--catalog", str(extra), "--system", "test-cpx", "--model", "llama-3.3-70b")
    assert code == 2
    assert f"{extra}:17:7: systems[0].prefill_part.memory_gb" in err  # line 17, at the key
    assert f"{extra}:19:7: systems[0].prefill_part.dense_tflops: " in err
    assert "needs a bf16 rate" in err
    assert "Traceback" not in out + err


def test_the_request_level_simulations_refuse_a_point_prefilling_on_parts():
    cat = shipped_catalog()
    cpx, model = cat.systems["vr-nvl144-cpx"], cat.models["deepseek-r1"]
    on_parts = operating_point(cpx, model, WorkloadModel(model="deepseek-r1", precision="fp4", isl=32768, osl=1024))
    assert on_parts.prefill_part["parts_per_decode_replica"] > 0
    with pytest.raises(PerfError, match="prefills on its Rubin CPX 128GB GDDR7 parts"):
        require_gpu_prefill(on_parts, "vr-nvl144-cpx")
    aggregated = operating_point(cpx, model, WorkloadModel(model="deepseek-r1", precision="fp4", serving=Serving(disaggregated=False)))
    require_gpu_prefill(aggregated, "vr-nvl144-cpx")  # the parts idle: the GPUs prefill, as the simulations play it
