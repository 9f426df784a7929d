"""The analytic year: identities a planner can check by hand, and the published PUE ranges."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cli_support import aift_process
from tests.conftest import PILOT, REFERENCE, SMALL
from twin.demand import hourly_demand
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.overrides import apply_overrides
from twin.production import streams

REQUIRED_KPIS = {
    "it_power_mw", "facility_power_mw", "peak_facility_power_mw", "pue", "output_tokens_per_s", "tokens_per_joule",
    "tokens_per_s_per_mw", "cost_per_million_tokens_usd", "annual_cost_usd", "capex_usd", "availability", "utilization",
    "energy_mwh", "capped_hours", "cooling_capped_hours", "water_m3", "co2_t",
}


@pytest.fixture(scope="module")
def small():
    return load_spec(SMALL)


@pytest.fixture(scope="module")
def small_eval(small):
    return evaluate(small)


def test_all_kpis_reported(small_eval):
    assert REQUIRED_KPIS <= set(small_eval.kpis)
    assert all(np.isfinite(v) for v in small_eval.kpis.values())
    assert len(small_eval.hourly) == 8760


def test_served_tokens_follow_demand_when_nothing_limits(small, small_eval):
    # availability above the peak demand and no capped hour: every wanted token is served
    assert small_eval.kpis["capped_hours"] == 0
    assert small_eval.kpis["availability"] > small.workload.demand.level
    capacity = sum(s.gpus * s.point.tokens_per_s_per_gpu for s in streams(small))
    expected = capacity * hourly_demand(small.workload.demand).mean()
    assert small_eval.kpis["output_tokens_per_s"] == pytest.approx(expected, rel=1e-9)
    assert small_eval.kpis["tokens_per_joule"] == pytest.approx(
        small_eval.kpis["output_tokens_per_year"] / (small_eval.kpis["energy_mwh"] * 3.6e9), rel=1e-12
    )


def test_electricity_price_moves_cost_per_token_by_exactly_the_energy_share(small, small_eval):
    base = small_eval
    dearer = evaluate(apply_overrides(small, {"site.tariff.price_usd_per_mwh": 2 * small.site.tariff.price_usd_per_mwh}))
    energy_share = base.cost_breakdown_usd["energy"] / base.kpis["annual_cost_usd"]
    ratio = dearer.kpis["cost_per_million_tokens_usd"] / base.kpis["cost_per_million_tokens_usd"]
    assert ratio == pytest.approx(1 + energy_share, rel=1e-9)
    assert dearer.kpis["output_tokens_per_s"] == base.kpis["output_tokens_per_s"]


def test_cost_per_token_is_annual_cost_over_tokens(small_eval):
    k = small_eval.kpis
    assert k["annual_cost_usd"] == pytest.approx(sum(small_eval.cost_breakdown_usd.values()))
    assert k["cost_per_million_tokens_usd"] == pytest.approx(k["annual_cost_usd"] / (k["output_tokens_per_year"] / 1e6))


def test_tight_interconnect_caps_it_and_loses_tokens(small, small_eval):
    peak = small_eval.kpis["peak_facility_power_mw"]
    tight = evaluate(apply_overrides(small, {"site.utility_mw": 0.9 * peak}))
    assert tight.kpis["capped_hours"] > 0
    assert tight.kpis["tokens_lost_to_cap"] > 0
    assert tight.kpis["peak_facility_power_mw"] <= 0.9 * peak + 1e-6
    assert tight.kpis["output_tokens_per_s"] < small_eval.kpis["output_tokens_per_s"]
    # tokens served plus tokens lost to the cap is what the uncapped year served
    lost_per_s = tight.kpis["tokens_lost_to_cap"] / (8760 * 3600)
    assert tight.kpis["output_tokens_per_s"] + lost_per_s == pytest.approx(small_eval.kpis["output_tokens_per_s"], rel=1e-9)


def test_too_little_cooling_caps_it_and_loses_tokens(small, small_eval):
    one_cdu = evaluate(apply_overrides(small, {"cooling.loops[cdu-1].units": 1, "cooling.loops[cdu-1].redundancy": "N"}))
    k = one_cdu.kpis
    assert k["cooling_capped_hours"] > 0
    assert k["capped_hours"] >= k["cooling_capped_hours"]
    assert small_eval.kpis["cooling_capped_hours"] == 0
    lost_per_s = k["tokens_lost_to_cap"] / (8760 * 3600)
    assert k["output_tokens_per_s"] + lost_per_s == pytest.approx(small_eval.kpis["output_tokens_per_s"], rel=1e-9)
    assert k["cost_per_million_tokens_usd"] > small_eval.kpis["cost_per_million_tokens_usd"]


def test_more_demand_more_tokens_and_power(small, small_eval):
    busier = evaluate(apply_overrides(small, {"workload.demand.level": 1.0}))
    assert busier.kpis["output_tokens_per_s"] > small_eval.kpis["output_tokens_per_s"]
    assert busier.kpis["it_power_mw"] > small_eval.kpis["it_power_mw"]
    assert busier.kpis["cost_per_million_tokens_usd"] < small_eval.kpis["cost_per_million_tokens_usd"]


@pytest.mark.slow
def test_reference_pue_in_published_range_and_pilot_higher():
    # Liquid-cooled AI halls with warm water and dry coolers: annual PUE 1.08-1.20 (Meta 1.08,
    # Google 1.10, engineering reference 2.1); air-cooled chilled-water halls run higher.
    ref, pilot = evaluate(load_spec(REFERENCE)), evaluate(load_spec(PILOT))
    assert 1.08 <= ref.kpis["pue"] <= 1.20
    assert pilot.kpis["pue"] > ref.kpis["pue"]
    assert ref.kpis["tokens_per_joule"] > pilot.kpis["tokens_per_joule"]




def test_cli_json_and_hourly_csv(tmp_path):
    csv = tmp_path / "hourly.csv"
    r = aift_process("evaluate", str(SMALL), "--json", "--hourly", str(csv), timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert REQUIRED_KPIS <= set(doc["kpis"])
    assert "energy" in doc["cost_breakdown_usd"]
    lines = csv.read_text().splitlines()
    assert len(lines) == 8761
    assert lines[0].startswith("hour,")


def test_cli_refuses_to_overwrite_the_spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SMALL.read_text())
    r = aift_process("evaluate", str(spec), "--hourly", str(spec), timeout=300)
    assert r.returncode == 2
    assert spec.read_text() == SMALL.read_text()


def test_cli_unservable_workload_is_exit_2(tmp_path):
    text = SMALL.read_text().replace("{model: deepseek-r1, precision: fp4, isl: 8192, osl: 1024, share: 0.5}",
                                     "{model: deepseek-r1, precision: fp4, isl: 8192, osl: 1024, share: 0.5, sla: {min_tokens_per_s_per_user: 5000}}")
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    r = aift_process("evaluate", str(spec), timeout=300)
    assert r.returncode == 2, r.stderr
    assert "deepseek-r1" in r.stderr
    assert "Traceback" not in r.stderr
