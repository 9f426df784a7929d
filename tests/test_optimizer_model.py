"""Each constraint group of the plan MILP, read and checked on its own."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import replace
from pathlib import Path

import pyomo.environ as pyo
import pytest

from optimizer import model as model_module
from optimizer.highs import Infeasible, solve_model
from optimizer.model import build_model, minimize_cost
from optimizer.problem_types import SITE, Hall, ModelDemand, Stage, UnitOption, limits
from optimizer.solve import solve
from tests.test_optimizer_instances import AIR8, NVL, UPS_200, small_problem

EXACT = 1e-9


def _solve(**changes):
    return solve(small_problem(**changes), rel_gap=EXACT)


def _with_hall(p_changes: dict, hall: str, **hall_changes) -> dict:
    halls = tuple(replace(h, **hall_changes) if h.id == hall else h for h in small_problem().halls)
    return {**p_changes, "halls": halls}


def test_every_constraint_states_its_math_in_latex():
    tree = ast.parse(Path(model_module.__file__).read_text())
    rules = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and any("Constraint" in ast.unparse(d) for d in f.decorator_list)]
    assert len(rules) >= 12
    for f in rules:
        assert "$" in (ast.get_docstring(f) or ""), f.name


def test_every_constraint_has_a_test_of_its_own():
    m = build_model(small_problem())
    here = Path(__file__).read_text()
    for c in m.component_objects(pyo.Constraint, descend_into=True):
        assert c.local_name in here, c.name


def test_hall_positions_limit():
    plan = _solve(objective="max-tokens")
    for h in small_problem().halls:
        assert plan.positions_used(h.id) == h.positions


def test_identical_halls_filled_in_order():
    a = small_problem().halls[0]
    p = small_problem(objective="cost-per-token", utility_kw=330, halls=(a, replace(a, id="hall-a2")))
    plan = solve(p, rel_gap=EXACT)
    assert 0 < plan.positions_used("hall-a2") <= plan.positions_used("hall-a")
    assert "identical_halls_filled_in_order" in build_model(p).component_map(pyo.Constraint)


def test_existing_racks_kept():
    plan = _solve(**_with_hall({"objective": "cost-per-token"}, "hall-a", min_racks={"air8": 2}))
    assert plan.racks["hall-a", "air8"] >= 2


def test_one_cooling_type_per_hall_and_racks_only_in_chosen_cooling():
    plan = _solve(objective="max-tokens")
    assert set(plan.cooling) == {"hall-a", "hall-b"}
    assert all(c in ("air", "liquid") for c in plan.cooling.values())


def test_liquid_only_systems_stay_out_of_air_halls():
    plan = _solve(**_with_hall({"objective": "max-tokens"}, "hall-b", cooling_options=frozenset({"air"})))
    assert plan.cooling["hall-b"] == "air"
    assert not any(s == NVL.id for (_, s) in plan.racks)


def test_switch_ports_cover_rack_ports():
    p = small_problem(objective="max-tokens")
    plan = solve(p, rel_gap=EXACT)
    ports = sum(n * p.system(s).ports_per_rack for (_, s), n in plan.racks.items())
    assert plan.switches["fab"] == math.ceil(3.0 * ports / 64)


def test_design_hour_power_within_utility():
    plan = _solve(objective="max-tokens", utility_kw=330)
    assert plan.design_facility_kw <= 330 + 1e-6
    assert plan.tokens_per_year < _solve(objective="max-tokens").tokens_per_year


def test_capacity_covers_load_with_redundancy():
    """N+1 installs one spare, 2N doubles, and each stage covers its load with usable units only."""
    p = small_problem(objective="max-tokens")
    plan = solve(p, rel_gap=EXACT)
    for (scope, stage), choice in plan.equipment.items():
        option = next(o for sc, st in p.stages() if (sc, st.id) == (scope, stage) for o in st.options if o.id == choice.option)
        usable = math.ceil(choice.load_kw / option.unit_kw - 1e-9)
        expected = {"N": usable, "N+1": usable + 1, "2N": 2 * usable}[option.redundancy]
        assert choice.installed_units == expected, (scope, stage)
        assert choice.usable_kw >= choice.load_kw - 1e-6
    assert plan.equipment["hall-b", "ups"].installed_units % 2 == 0  # 2N


def test_one_option_per_stage_and_units_only_of_chosen_option():
    m = build_model(small_problem(objective="max-tokens"))
    minimize_cost(m)
    m.more_racks = pyo.Constraint(expr=sum(m.hall_racks[h, s] for (h, s) in m.HALL_SYSTEMS if h == "hall-a") >= 3)
    solve_model(m, time_limit_s=10, rel_gap=EXACT)
    b = m.hall_power
    chosen = [k for k in b.OPTIONS if k[0] == "hall-a" and round(pyo.value(b.chosen[k]))]
    assert len(chosen) == 1
    assert all(round(pyo.value(b.usable_units[k])) == 0 for k in b.OPTIONS if k[0] == "hall-a" and k not in chosen)


def test_an_empty_hall_buys_no_equipment():
    plan = _solve(**_with_hall({"objective": "cost-per-token", "utility_kw": 330}, "hall-a", max_racks={"air8": 0, "hyb": 0}))
    assert plan.positions_used("hall-a") == 0
    assert not any(scope == "hall-a" for scope, _ in plan.equipment)


def test_fixed_equipment_caps_the_hall():
    fixed = Stage("ups", "it", (replace(UPS_200, installed=2),))  # N+1: one usable 200 kW unit
    plan = _solve(**_with_hall({"objective": "max-tokens"}, "hall-a", stages=(fixed,)))
    assert plan.equipment["hall-a", "ups"].installed_units == 2
    assert plan.equipment["hall-a", "ups"].load_kw <= 200 + 1e-6


def test_racks_serve_at_most_installed_and_demand_met():
    demand = (ModelDemand("chat", 5e12), ModelDemand("reason", 1.5e12))
    plan = _solve(objective="min-cost", models=demand)
    assert plan.tokens_per_year_by_model["chat"] >= 5e12 * (1 - 1e-9)
    assert plan.tokens_per_year_by_model["reason"] >= 1.5e12 * (1 - 1e-9)
    for (h, s), n in plan.racks.items():
        assert sum(v for (hh, ss, _), v in plan.serving.items() if (hh, ss) == (h, s)) <= n + 1e-9


def test_token_share_met():
    shares = (ModelDemand("chat", min_token_share=0.5), ModelDemand("reason", min_token_share=0.4))
    plan = _solve(objective="cost-per-token", models=shares)
    assert plan.tokens_per_year_by_model["reason"] >= 0.4 * plan.tokens_per_year * (1 - 1e-9)


def test_capex_within_budget():
    plan = _solve(objective="max-tokens", capex_budget_usd=9e6)
    assert plan.capex_usd <= 9e6 + 1e-6


def test_solution_names_every_choice_a_facility_yaml_needs():
    plan = _solve(objective="cost-per-token")
    assert plan.racks
    assert plan.cooling
    assert plan.equipment
    assert plan.switches
    assert plan.serving
    assert plan.gpus == sum(n * small_problem().system(s).gpus_per_rack for (_, s), n in plan.racks.items())
    assert (SITE, "plant") in plan.equipment


def test_infeasible_model_raises_and_loads_nothing():
    m = build_model(small_problem(objective="min-cost", models=(ModelDemand("chat", 1e15), ModelDemand("reason"))))
    minimize_cost(m)
    with pytest.raises(Infeasible):
        solve_model(m, time_limit_s=10, rel_gap=EXACT)
    assert all(v.value is None for v in m.component_data_objects(pyo.Var) if not v.fixed)


def test_limits_are_keyed_for_the_model():
    p = small_problem(capex_budget_usd=1e7, models=(ModelDemand("chat", 1e12), ModelDemand("reason")))
    keys = [lim.key for lim in limits(p)]
    assert keys == ["utility", "positions:hall-a", "positions:hall-b", "budget", "demand:chat"]
    assert list(build_model(p).LIMITS) == keys


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objective": "min-cost"}, "min-cost needs a demand"),
        ({"systems": (AIR8, AIR8)}, "duplicate system ids"),
        ({"halls": (Hall("site", 1, 50),)}, "reserved"),
        ({"halls": (Hall("h", 1, 50, min_racks={"nvl": 1}),)}, "does not allow"),
        ({"models": (ModelDemand("chat", min_token_share=0.7), ModelDemand("reason", min_token_share=0.7))}, "more than 1"),
        ({"halls": (Hall("h", 1, 50, stages=(Stage("ups", "it", (replace(UPS_200, redundancy="2N", installed=3),)),)),)}, "do not fit 2N"),
        (
            {"halls": (Hall("h", 1, 50, stages=(Stage("ups", "it", (replace(UPS_200, installed=3), UnitOption("x", 1, 1, 1))),)),)},
            "exactly one option",
        ),
    ],
)
def test_problem_rejects_inconsistent_input(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        small_problem(**changes)


def test_tokens_lost_to_unavailability():
    # Demand flat at 0.99: G(Q) = max(0, Q - 0.01) / 0.99 of the tokens is lost when the racks' unavailability is Q.
    # The liquid plant's units work 0.8 of the time and it is the racks' only path (importance 1).
    tangents = ((-0.01 / 0.99, 1 / 0.99),)
    plant = Stage("plant", "liquid_heat", (UnitOption("dry-400", 400, 100e3, 12e3, "N+1", unit_availability=0.8),), importance=1.0)
    p = small_problem(objective="max-tokens", loss_tangents=tangents, site_stages=(plant, small_problem().site_stages[1]))
    plan = solve(p, rel_gap=EXACT)
    assert "tokens_lost_to_unavailability" in build_model(p).component_map(pyo.Constraint)
    n = plan.equipment[SITE, "plant"].installed_units
    q = 1 - sum(math.comb(n, j) * 0.8**j * 0.2 ** (n - j) for j in (n - 1, n))  # at least n - 1 of n work (N+1), by hand
    lost = max(0.0, q - 0.01) / 0.99
    assert lost > 0  # the plant's unavailability costs tokens here
    racks_tokens = sum(x * p.system(s).rate(d) for (_, s, d), x in plan.serving.items())
    assert plan.tokens_per_year == pytest.approx(racks_tokens * (1 - lost), rel=1e-6)
