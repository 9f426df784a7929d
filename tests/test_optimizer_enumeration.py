"""The optimizer finds the optimum that enumerating every integer choice finds, for each objective."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.problem_types import ModelDemand, Stage
from optimizer.solve import solve
from tests.test_optimizer_instances import UPS_200, best_plan, small_problem


def _retrofit() -> dict:
    """Existing air racks and a fixed UPS in hall A; hall B must stay air-cooled."""
    a, b = small_problem().halls
    a = replace(a, min_racks={"air8": 1}, stages=(Stage("ups", "it", (replace(UPS_200, installed=3),)), *a.stages[1:]))
    b = replace(b, cooling_options=frozenset({"air"}))
    return {"halls": (a, b)}


def _twin_halls() -> dict:
    """Two identical halls: the symmetry-breaking order must not cut off the optimum."""
    a = small_problem().halls[0]
    return {"halls": (a, replace(a, id="hall-a2")), "utility_kw": 400}


DEMAND = (ModelDemand("chat", 5e12), ModelDemand("reason", 1.5e12))
SCENARIOS = {
    "loose": {},
    "tight-utility": {"utility_kw": 330},
    "expensive-power": {"energy_usd_per_kw_year": 6000.0, "utility_kw": 600},
    "budget": {"capex_budget_usd": 9e6},
    "demand": {"models": DEMAND},
    "token-shares": {"models": (ModelDemand("chat", min_token_share=0.5), ModelDemand("reason", min_token_share=0.4)), "utility_kw": 500},
    "retrofit": {**_retrofit(), "models": (ModelDemand("chat", 2e12), ModelDemand("reason"))},
    "twin-halls": {**_twin_halls(), "models": (ModelDemand("chat", 3e12), ModelDemand("reason"))},
}
CASES = [
    (name, objective)
    for name, changes in SCENARIOS.items()
    for objective in ("cost-per-token", "min-cost", "max-tokens")
    if objective != "min-cost" or "models" in changes and any(d.tokens_per_year for d in changes["models"])
]


@pytest.mark.parametrize(("scenario", "objective"), CASES)
def test_optimizer_matches_enumeration(scenario, objective):
    p = small_problem(objective=objective, **SCENARIOS[scenario])
    plan = solve(p, rel_gap=1e-9)
    best = best_plan(p, objective)
    assert plan.status == "optimal"
    assert plan.annual_cost_usd == pytest.approx(best.annual_cost_usd, rel=1e-7)
    assert plan.tokens_per_year == pytest.approx(best.tokens_per_year, rel=1e-7)
    assert plan.capex_usd == pytest.approx(best.capex_usd, rel=1e-7)
    assert plan.design_facility_kw == pytest.approx(best.design_facility_kw, rel=1e-7)
    expected = {"cost-per-token": best.ratio, "min-cost": best.annual_cost_usd, "max-tokens": best.tokens_per_year}[objective]
    assert plan.objective_value == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("scenario", ["loose", "tight-utility", "token-shares"])
def test_dinkelbach_converges_to_the_enumerated_ratio(scenario):
    p = small_problem(objective="cost-per-token", **SCENARIOS[scenario])
    plan = solve(p, rel_gap=1e-9)
    prices = [s.price_usd_per_mtok for s in plan.steps]
    assert prices == sorted(prices, reverse=True)
    assert len(set(prices)) >= len(prices) - 1  # a loose step that finds nothing is proved again at its price
    assert plan.steps[-1].objective_usd == pytest.approx(0.0, abs=1e-6 * plan.annual_cost_usd)
    assert plan.objective_value == plan.cost_per_mtok_usd == pytest.approx(best_plan(p, "cost-per-token").ratio, rel=1e-9)
    assert plan.mip_gap <= 1e-6
    assert plan.solve_time_s >= sum(s.solve_time_s for s in plan.steps)


def test_retrofit_keeps_what_is_installed():
    plan = solve(small_problem(objective="cost-per-token", **SCENARIOS["retrofit"]), rel_gap=1e-9)
    assert plan.racks.get(("hall-a", "air8"), 0) >= 1
    assert plan.cooling["hall-b"] == "air"
    assert plan.equipment["hall-a", "ups"].installed_units == 3


@pytest.mark.parametrize("scenario", ["tight-utility", "token-shares", "twin-halls"])
def test_dinkelbach_reaches_the_optimum_from_a_rough_start(scenario, monkeypatch):
    """The start only sets the first price: from any plan HiGHS stops at first, the ratio is still exact."""
    monkeypatch.setattr("optimizer.solve.START_REL_GAP", 0.99)
    p = small_problem(objective="cost-per-token", **SCENARIOS[scenario])
    plan = solve(p, rel_gap=1e-9)
    assert plan.status == "optimal"
    assert plan.cost_per_mtok_usd == pytest.approx(best_plan(p, "cost-per-token").ratio, rel=1e-9)
