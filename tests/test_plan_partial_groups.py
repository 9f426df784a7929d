"""A group serving some but not all halls: a capacity limit on exactly those halls, and sized when open.

tests/specs/plan-partial.yaml: a dry-cooler plant serves the CDU loops of hall-1 and hall-3,
not the air-cooled hall-2. A GB200 NVL72 rack sends 0.85 of its 132 kW nameplate to liquid:
112.2 kW, so 32 racks in the two CDU halls make 3,590 kW of heat, more than the plant's one
2,000 kW unit as written.
"""

from __future__ import annotations

import pytest

from optimizer.problem_types import SITE
from optimizer.spec_roles import group_roles
from tests.plan_support import PLAN_PARTIAL, plan
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.overrides import apply_overrides

RACK_LIQUID_KW = 132.0 * 0.85


def _nvl_racks(sol, halls) -> int:
    return sum(n for (h, v), n in sol.racks.items() if h in halls and v == "gb200-nvl72")


def test_the_partial_plant_is_a_stage_of_its_two_halls():
    role = group_roles(load_spec(PLAN_PARTIAL))["dry"]
    assert (role.scope, role.carries, role.halls) == (SITE, "liquid_heat", frozenset({"hall-1", "hall-3"}))


def test_a_partial_plant_as_built_limits_exactly_its_halls():
    spec = apply_overrides(load_spec(PLAN_PARTIAL), {"plan.equipment": [{"group": g} for g in ("ups-1", "ups-3", "bus-1", "bus-3", "cdu-1", "cdu-3", "tx", "gen")]})
    _, sol, _, written = plan(spec, rel_gap=1e-6)
    # 2,000 kW over 112.2 kW a rack: at most 17 racks between hall-1 and hall-3 (the loops' pumps add heat too)
    assert 0 < _nvl_racks(sol, {"hall-1", "hall-3"}) <= 2000 // RACK_LIQUID_KW
    twin = evaluate(written).kpis
    assert twin["cooling_capped_hours"] == 0
    assert twin["cost_per_million_tokens_usd"] == pytest.approx(sol.cost_per_mtok_usd, rel=0.01)


def test_an_open_partial_plant_is_sized_to_the_twins_best_unit_count():
    spec = load_spec(PLAN_PARTIAL)
    _, sol, text, written = plan(spec, rel_gap=1e-6)
    units = sol.equipment[SITE, "dry"].installed_units
    assert units * 2000 >= _nvl_racks(sol, {"hall-1", "hall-3"}) * RACK_LIQUID_KW
    twin = evaluate(written).kpis
    assert twin["cost_per_million_tokens_usd"] == pytest.approx(sol.cost_per_mtok_usd, rel=0.01)
    # the twin's own enumeration of the plant's units, the rest of the written plan as it is
    plants = written.model_dump(mode="json", by_alias=True)["cooling"]["plants"]
    scores = {}
    for n in range(1, units + 3):
        changed = [p | {"units": n} if p["id"] == "dry" else p for p in plants]
        scores[n] = evaluate(apply_overrides(written, {"cooling.plants": changed})).kpis["cost_per_million_tokens_usd"]
    assert min(scores, key=scores.get) == units
