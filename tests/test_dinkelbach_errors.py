"""A Dinkelbach step HiGHS ends on a numerical error: solved again with another seed, or the best so far stands, unproven."""

from __future__ import annotations

import pytest

import optimizer.dinkelbach as dinkelbach
from optimizer.highs import SolveError
from optimizer.roadmap.problem import roadmap_problem
from optimizer.roadmap.schedule import read_roadmap
from optimizer.roadmap.solve import solve_roadmap
from optimizer.solve import solve
from tests.roadmap_support import enumerate_schedules, small_roadmap
from tests.test_optimizer_enumeration import SCENARIOS
from tests.test_optimizer_instances import best_plan, small_problem
from tests.test_roadmap_enumeration import THREE_YEARS_TWO_HALLS


def _failing(monkeypatch, fails: int) -> list:
    """Make the first `fails` step solves end as HiGHS's numerical error does; returns each call's seed."""
    real, seeds = dinkelbach.solve_model, []

    def solve_model(m, **kw):
        seeds.append(kw.get("seed"))
        if len(seeds) <= fails:
            raise SolveError("HiGHS stopped without a plan (error)")
        return real(m, **kw)

    monkeypatch.setattr(dinkelbach, "solve_model", solve_model)
    return seeds


def test_a_step_that_errs_is_solved_again_with_another_seed(monkeypatch):
    p = small_problem(objective="cost-per-token", **SCENARIOS["tight-utility"])
    seeds = _failing(monkeypatch, fails=1)
    plan = solve(p, rel_gap=1e-9)
    assert seeds[:2] == [None, dinkelbach.RETRY_SEED]
    assert (plan.status, plan.time_limit_reached) == ("optimal", False)
    assert plan.cost_per_mtok_usd == pytest.approx(best_plan(p, "cost-per-token").ratio, rel=1e-9)


def test_a_step_that_errs_twice_leaves_the_start_unproven(monkeypatch):
    p = small_problem(objective="cost-per-token", **SCENARIOS["tight-utility"])
    _failing(monkeypatch, fails=2)
    plan = solve(p, rel_gap=1e-9)
    assert (plan.status, plan.time_limit_reached, plan.steps) == ("not-proven", False, ())
    assert plan.mip_gap == float("inf")  # nothing was proven
    assert plan.cost_per_mtok_usd >= best_plan(p, "cost-per-token").ratio * (1 - 1e-9)


def test_the_roadmap_shares_the_retry(monkeypatch):
    rp = roadmap_problem(small_roadmap(**THREE_YEARS_TWO_HALLS), "levelized-cost-per-token")
    seeds = _failing(monkeypatch, fails=1)
    run = solve_roadmap(rp, rel_gap=1e-9)
    assert seeds[:2] == [None, dinkelbach.RETRY_SEED]
    assert run.status == "optimal"
    best = min(cost / tokens for _, cost, tokens in enumerate_schedules(rp))
    assert read_roadmap(rp, run).levelized_usd_per_mtok == pytest.approx(best, rel=1e-7)
