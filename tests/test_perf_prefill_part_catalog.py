"""Vera Rubin NVL144 CPX through what reads the catalog: the catalog over time, and a roadmap's rack rates."""

from __future__ import annotations

import json
import sys

import pytest

from optimizer.cli import app
from optimizer.cli.output import run_guarded
from optimizer.roadmap.problem import roadmap_problem
from tests.roadmap_support import small_roadmap
from twin.catalog_time import first_service_year, price_in_year
from twin.loader import shipped_catalog
from twin.perf import operating_point


def test_the_cpx_rack_serves_from_2027_on_its_price_path():
    cpx = shipped_catalog().systems["vr-nvl144-cpx"]
    assert cpx.projection
    assert first_service_year(cpx) == 2027  # "2026Q4": a fourth-quarter ship serves from the next whole year
    # $9.0M from 2027, -10 %/year: 9.0 x 0.9^2 = 7.29 in 2029; before 2027, its catalog price.
    assert price_in_year(cpx, 2029, 2026) == pytest.approx(7.29e6)
    assert price_in_year(cpx, 2026, 2026) == pytest.approx(9.0e6)


def test_a_roadmap_offers_the_cpx_rack_at_the_token_models_rate():
    spec = small_roadmap(**{"roadmap.systems": ["vr-nvl72", "vr-nvl144-cpx"], "halls[0].max_rack_kw": 400,
                            "halls[1].max_rack_kw": 400, "workload.models[0].isl": 32768})
    rp = roadmap_problem(spec)
    cpx = rp.variants["vr-nvl144-cpx"]
    assert cpx.first_year == 1  # 2027 on a roadmap from 2026
    assert cpx.it_usd_by_year == pytest.approx((9.0e6, 9.0e6, 8.1e6))
    # Both racks have 72 Rubin GPUs busy the same hours: their yearly tokens stand as their operating points' tokens per GPU.
    cat, wm = shipped_catalog(), spec.workload.models[0]
    op = {s: operating_point(cat.systems[s], cat.models[wm.model], wm) for s in ("vr-nvl72", "vr-nvl144-cpx")}
    assert op["vr-nvl144-cpx"].prefill_part["parts_per_decode_replica"] > 0  # 32k prompts: prefill on the CPX parts
    plan = rp.plans[0]
    ratio = plan.system("vr-nvl144-cpx").rate("gpt-oss-120b") / plan.system("vr-nvl72").rate("gpt-oss-120b")
    assert ratio == pytest.approx(op["vr-nvl144-cpx"].tokens_per_s_per_gpu / op["vr-nvl72"].tokens_per_s_per_gpu, rel=1e-12)


def test_aift_catalog_lists_the_prefill_parts(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["aift", "catalog", "systems", "--json"])
    assert run_guarded(app) == 0
    rows = {s["id"]: s for s in json.loads(capsys.readouterr().out)["systems"]}
    assert rows["vr-nvl144-cpx"]["prefill_part"]["per_system"] == 144
    assert rows["vr-nvl72"]["prefill_part"] is None
    monkeypatch.setattr(sys, "argv", ["aift", "catalog", "systems"])
    assert run_guarded(app) == 0
    assert "vr-nvl144-cpx: also 144 Rubin CPX 128GB GDDR7 prefill parts" in capsys.readouterr().out
