"""The interconnect to buy: its MW is a choice of the plan, priced per MW, and written as the site's `utility_mw`."""

from __future__ import annotations

import pytest

from tests.plan_support import plan, small_spec
from twin.economics import capital_recovery_factor


def test_a_priced_interconnect_is_bought_to_the_plans_peak():
    usd_per_mw = 2e6
    spec = small_spec(**{"plan.interconnect": {"max_mw": 10, "capex_usd_per_mw": usd_per_mw}})
    _, sol, _, written = plan(spec, rel_gap=1e-6)
    assert sol.utility_kw == pytest.approx(sol.design_facility_kw, rel=1e-6)  # not a kW more than the plan's peak
    assert written.site.utility_mw == pytest.approx(sol.utility_kw / 1000, abs=1e-3)
    econ = spec.economics
    crf = capital_recovery_factor(econ.discount_rate, econ.life_years.power)
    assert sol.utility_annual_usd == pytest.approx(sol.utility_kw / 1000 * usd_per_mw * crf, rel=1e-9)
    assert written.economics.other_opex_usd_per_year == pytest.approx(econ.other_opex_usd_per_year + sol.utility_annual_usd)


def test_a_free_interconnect_gives_the_plan_of_its_largest_size():
    _, free, _, _ = plan(small_spec(**{"plan.interconnect": {"max_mw": 0.45, "capex_usd_per_mw": 0}}), rel_gap=1e-6)
    _, fixed, _, _ = plan(small_spec(**{"site.utility_mw": 0.45}), rel_gap=1e-6)
    assert free.racks == fixed.racks
    assert free.cost_per_mtok_usd == pytest.approx(fixed.cost_per_mtok_usd, rel=1e-6)
