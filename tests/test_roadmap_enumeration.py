"""Roadmaps of small campuses against their optimum found by enumerating every rack schedule, for both objectives."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from optimizer.roadmap.problem import roadmap_problem
from optimizer.roadmap.schedule import read_roadmap
from optimizer.roadmap.solve import shadow_values, solve_roadmap
from tests.roadmap_support import enumerate_schedules, small_roadmap

# Rates at the small spec's SLA: a GB300 NVL72 rack serves ~0.33 M output tokens/s over the year,
# a Vera Rubin rack ~0.76 M. Demand of 0.3 M then 0.6 M tokens/s takes a rack in 2026 and two
# GB300 or one Vera Rubin (shipping 2026Q3, so serving from 2027) in 2027.
TWO_YEARS_ONE_HALL = {
    "roadmap.years": 2,
    "roadmap.demand": {"gpt-oss-120b": {"tokens_per_s": {2026: 0.3e6, 2027: 0.6e6}}},
    "halls[0].positions": 2,
    "plan": {"equipment": "all", "halls": [{"hall": "hall-2", "systems": []}]},  # hall-2 takes no racks
}
# Three years, two halls of one position each, the second from 2027: every cohort is a yes or no.
THREE_YEARS_TWO_HALLS = {
    "roadmap.demand": {"gpt-oss-120b": {"tokens_per_s": {2026: 0.3e6, 2027: 0.6e6, 2028: 1.0e6}}},
    "halls[0].positions": 1,
    "halls[1].positions": 1,
}


@pytest.mark.parametrize("instance", [TWO_YEARS_ONE_HALL, THREE_YEARS_TWO_HALLS], ids=["2y-1hall", "3y-2halls"])
@pytest.mark.parametrize("objective", ["min-cost", "levelized-cost-per-token"])
def test_the_roadmap_is_the_best_of_every_schedule(instance, objective):
    rp = roadmap_problem(small_roadmap(**instance), objective)
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    schedules = enumerate_schedules(rp)
    assert len(schedules) > 3  # the instance leaves real choices
    if objective == "min-cost":
        best = min(cost for _, cost, _ in schedules)
        assert found.pv_cost_usd == pytest.approx(best, rel=1e-7)
    else:
        best = min(cost / tokens for _, cost, tokens in schedules)
        assert found.levelized_usd_per_mtok == pytest.approx(best, rel=1e-7)


def test_systems_serve_from_their_first_year_and_never_past_their_life():
    # A one-year life forces a fresh cohort every year; Vera Rubin ships in 2026Q3, so not in 2026.
    rp = roadmap_problem(small_roadmap(**{"roadmap.system_life_years": 1}), "min-cost")
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    assert not any(v == "vr-nvl72" for (_, v) in found.years[0].plan.racks)
    for y in found.years:
        assert y.installed == y.plan.racks  # every rack in service was installed this very year
    assert rp.variants["vr-nvl72"].first_year == 1
    assert all(b - a + 1 <= 1 for (_, _, a, b) in build_cohorts(rp))


def build_cohorts(rp):
    from optimizer.roadmap.problem import cohorts

    return cohorts(rp, [(h.id, s.id) for h in rp.plans[0].halls for s in rp.plans[0].systems])


def test_lead_times_hold_racks_and_units_back():
    # Racks ordered now arrive in a year: 2026 asks for nothing and gets nothing.
    demand = {"gpt-oss-120b": {"tokens_per_s": {2026: 0.0, 2027: 1.0e6}}}
    rp = roadmap_problem(small_roadmap(**{"roadmap.demand": demand, "roadmap.lead_time_years.systems": 1}), "min-cost")
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    assert found.years[0].plan.racks == {}
    assert found.years[1].plan.racks
    # 3 M tokens/s in 2027 takes four Vera Rubin racks (0.76 M each), so hall-2 and its units: without a lead
    # time 2027 adds them; with equipment two years out, 2027 has only 2026's units (the first year's are those
    # on order already), so 2026 buys hall-2's.
    demand = {"gpt-oss-120b": {"tokens_per_s": {2026: 0.3e6, 2027: 3.0e6}}}
    rp = roadmap_problem(small_roadmap(**{"roadmap.demand": demand}), "min-cost")
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    assert "hall-2" in found.years[1].new_halls
    assert ("hall-2", "ups-2") in found.years[1].plan.equipment
    assert ("hall-2", "ups-2") not in found.years[0].plan.equipment
    rp = roadmap_problem(small_roadmap(**{"roadmap.demand": demand, "roadmap.lead_time_years.equipment": 2}), "min-cost")
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    first, second = ({k: c.installed_units for k, c in y.plan.equipment.items()} for y in found.years[:2])
    assert ("hall-2", "ups-2") in first
    assert first == second


def test_a_budget_caps_each_years_spending_at_a_price():
    # Unconstrained, the least-cost roadmap spends ~$15.9M in 2027 (two Vera Rubin racks); cap 2027 on at $14M.
    free = roadmap_problem(small_roadmap(), "min-cost")
    unconstrained = solve_roadmap(free, rel_gap=1e-9)
    assert max(pyo.value(unconstrained.model.capex_usd[t]) for t in (1, 2)) > 14.0e6  # $15.9M in 2027, $22.3M in 2028
    capped = roadmap_problem(small_roadmap(**{"roadmap.capex_budget_usd": {2027: 14.0e6}}), "min-cost")
    run = solve_roadmap(capped, rel_gap=1e-9)
    assert pyo.value(run.model.capex_usd[0]) > 14.0e6  # 2026 is before the first listed year: no limit
    assert all(pyo.value(run.model.capex_usd[t]) <= 14.0e6 * (1 + 1e-9) for t in (1, 2))
    assert pyo.value(run.model.pv_cost_usd) > pyo.value(unconstrained.model.pv_cost_usd)
    budgets = [b for b in shadow_values(capped, run) if b.kind == "budget"]
    assert [b.year for b in budgets] == [2027, 2028]
    assert any(b.dual < 0 for b in budgets)  # more budget somewhere lowers the discounted cost
