"""Plans of small specs against their optimum found by enumeration: of the derived problem, and by the twin itself."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest

from optimizer.problem import problem_from_spec
from optimizer.solve import solve
from tests.plan_support import plan, small_spec
from tests.test_optimizer_instances import best_plan
from twin.evaluate import evaluate
from twin.overrides import apply_overrides

# One hall of four positions, two candidate systems, one model, equipment as built; the 0.45 MW
# interconnect carries three NVL72 racks but not four.
TIGHT = {
    "site.utility_mw": 0.45,
    "workload.models": [{"model": "gpt-oss-120b", "precision": "fp4"}],
    "plan": {"systems": ["gb200-nvl72", "hgx-b200"], "halls": [{"hall": "hall-2", "systems": []}]},
}


@pytest.mark.parametrize("objective", ["cost-per-token", "max-tokens"])
def test_the_plan_of_a_spec_is_the_optimum_of_every_choice(objective):
    spec = small_spec(**{"plan.objective": objective})  # both halls, three systems, a cooling choice, every group sized
    p = problem_from_spec(spec)
    # the brute force splits racks over the models for the most tokens, blind to what each model draws: so is this problem
    p = replace(p, systems=tuple(replace(s, model_kw={}) for s in p.systems))
    sol = solve(p, rel_gap=1e-9)
    best = best_plan(p, objective)
    assert sol.annual_cost_usd == pytest.approx(best.annual_cost_usd, rel=1e-7)
    assert sol.tokens_per_year == pytest.approx(best.tokens_per_year, rel=1e-7)


def test_the_twin_finds_no_better_layout_than_the_plan():
    spec = small_spec(**TIGHT)
    _, sol, _, written = plan(spec, rel_gap=1e-9)
    planned = evaluate(written).kpis
    scores = {}
    for nvl, hgx in product(range(5), range(5)):
        if 0 < nvl + hgx <= 4:
            deployments = [{"hall": "hall-1", "system": s, "racks": n} for s, n in (("gb200-nvl72", nvl), ("hgx-b200", hgx)) if n]
            kpis = evaluate(apply_overrides(spec, {"deployments": deployments, "plan": None})).kpis
            if kpis["capped_hours"] == 0:  # a layout the interconnect carries in every hour
                scores[nvl, hgx] = kpis["cost_per_million_tokens_usd"]
    best = min(scores, key=scores.get)
    assert planned["cost_per_million_tokens_usd"] == pytest.approx(scores[best], rel=1e-3)
    assert {(v, n) for (_, v), n in sol.racks.items()} == {(v, n) for v, n in zip(("gb200-nvl72", "hgx-b200"), best, strict=True) if n}


def test_a_tighter_interconnect_never_lowers_the_cost_per_token():
    costs = [solve(plan(small_spec(**TIGHT | {"site.utility_mw": mw}))[0]).cost_per_mtok_usd for mw in (0.45, 0.3, 0.2)]
    assert costs == sorted(costs)
