"""Binding limits, shadow values by re-solving, and the smallest relaxation of an infeasible request."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import pytest

from optimizer.explain import explain, explain_infeasible, relaxed, solve_explained
from optimizer.highs import Infeasible
from optimizer.problem_types import ModelDemand, Stage, UnitOption
from optimizer.solve import solve
from tests.test_optimizer_instances import AIR8, best_plan, enumerate_plans, small_problem

EXACT = 1e-9
CHAT_8 = (ModelDemand("chat", 8e12), ModelDemand("reason"))


def _fixed_cdu_in_hall_b() -> dict:
    """Hall B keeps two 150 kW CDUs at N+1: 150 kW of liquid heat, one NVL72-class rack."""
    a, b = small_problem().halls
    cdu = Stage("cdu", "liquid_heat", (UnitOption("cdu-150", 150, 40e3, 5e3, "N+1", installed=2),))
    return {"halls": (a, replace(b, stages=(b.stages[0], cdu, b.stages[2])))}


@pytest.mark.parametrize(
    ("changes", "binding"),
    [
        ({}, {"positions:hall-a", "positions:hall-b"}),
        ({"utility_kw": 330}, {"utility", "positions:hall-b"}),
        ({"capex_budget_usd": 9e6}, {"budget", "positions:hall-b"}),
        (_fixed_cdu_in_hall_b(), {"positions:hall-a", "capacity:hall-b/cdu"}),
    ],
)
def test_binding_limits(changes, binding):
    p = small_problem(objective="cost-per-token", **changes)
    why = explain(p, solve(p, rel_gap=EXACT), rel_gap=EXACT)
    assert {lim.key for lim in why.binding} == binding
    assert {v.limit.key for v in why.shadow_values} == binding


@pytest.mark.parametrize(
    ("changes", "key"),
    [({}, "positions:hall-b"), ({"utility_kw": 330}, "utility"), (_fixed_cdu_in_hall_b(), "capacity:hall-b/cdu")],
)
def test_shadow_value_is_the_enumerated_change_for_one_more_unit(changes, key):
    p = small_problem(objective="cost-per-token", **changes)
    why = explain(p, solve(p, rel_gap=EXACT), rel_gap=EXACT)
    (value,) = [v for v in why.shadow_values if v.limit.key == key]
    looser, _ = relaxed(p, value.limit)
    expected = best_plan(looser, "cost-per-token").ratio - best_plan(p, "cost-per-token").ratio
    assert value.cost_per_mtok_change_usd == pytest.approx(expected, rel=1e-7, abs=1e-12)
    assert value.cost_per_mtok_change_usd < 0  # each of these limits holds the plan back


def test_infeasible_demand_names_the_megawatts_it_needs():
    p = small_problem(objective="min-cost", utility_kw=200, models=CHAT_8)
    with pytest.raises(Infeasible) as caught:
        solve_explained(p, rel_gap=EXACT)
    (relax,) = caught.value.relaxations
    unlimited = small_problem(objective="min-cost", models=CHAT_8)
    assert relax.limit.key == "utility"
    needed_kw = min(q.design_facility_kw for q in enumerate_plans(unlimited))
    assert relax.needed == pytest.approx(needed_kw, rel=1e-9)
    # three significant figures, rounded up so that a need is never understated (it is between 0.1 and 1 MW)
    assert 100 < needed_kw < 1000
    assert caught.value.reason == f"the demand needs {math.ceil(needed_kw) / 1000:.3f} MW at this site; the interconnect is 0.2 MW"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"models": (ModelDemand("chat", 20e12), ModelDemand("reason"))}, "the demand needs 4 rack positions in hall-b; it has 2"),
        (
            {"systems": (AIR8,), "models": (ModelDemand("chat"), ModelDemand("reason", 1e12))},
            "no candidate system can serve reason within the site's limits",
        ),
    ],
)
def test_infeasible_request_gets_the_smallest_relaxation_in_words(changes, message):
    p = small_problem(objective="min-cost", **changes)
    with pytest.raises(Infeasible, match=message.replace("$", r"\$")):
        solve_explained(p, rel_gap=EXACT)


def test_a_budget_shortfall_quotes_the_least_budget_that_suffices():
    p = small_problem(objective="min-cost", capex_budget_usd=5e6, models=CHAT_8)
    with pytest.raises(Infeasible) as caught:
        solve_explained(p, rel_gap=EXACT)
    least = min(q.capex_usd for q in enumerate_plans(small_problem(objective="min-cost", models=CHAT_8)))
    (relax,) = caught.value.relaxations
    assert relax.needed == pytest.approx(least, rel=1e-9)
    # to $0.1M, rounded up so that a need is never understated
    assert caught.value.reason == f"the demand needs ${math.ceil(least / 1e5) / 10:.1f}M of capex; the budget is $5.0M"


def test_the_relaxation_makes_the_request_feasible():
    p = small_problem(objective="min-cost", utility_kw=200, capex_budget_usd=5e6, models=CHAT_8)
    needs = {r.limit.key: r.needed for r in explain_infeasible(p)}
    assert set(needs) == {"utility", "budget"}
    plan = solve(replace(p, utility_kw=needs["utility"] * (1 + 1e-9), capex_budget_usd=needs["budget"] * (1 + 1e-9)), rel_gap=EXACT)
    assert plan.tokens_per_year_by_model["chat"] >= 8e12 * (1 - 1e-9)


def test_more_utility_never_makes_cost_per_token_worse():
    ratios = [solve(small_problem(utility_kw=kw), rel_gap=EXACT).cost_per_mtok_usd for kw in (150, 250, 330, 450, 600, 1000)]
    assert all(later <= earlier * (1 + 1e-9) for earlier, later in pairwise(ratios))
    assert ratios[-1] < ratios[0]
