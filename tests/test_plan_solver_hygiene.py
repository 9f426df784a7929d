"""Solver hygiene: identical halls are ordered, and a plan says one status, one proven gap and whether time ran out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.bench_plan import OPEN, REFERENCE
from optimizer.highs import SolveError
from optimizer.model import build_model, identical_halls
from optimizer.problem import problem_from_spec
from optimizer.solve import solve
from tests.plan_support import PLAN_PARTIAL, plan
from twin.loader import load_spec
from twin.overrides import apply_overrides


def test_identical_halls_are_ordered():
    # the reference's four halls are built alike, each with its own identical fabric: 3 ordering constraints
    p = problem_from_spec(apply_overrides(load_spec(REFERENCE), OPEN))
    assert identical_halls(p) == [["hall-1", "hall-2", "hall-3", "hall-4"]]
    assert len(build_model(p).identical_halls_filled_in_order) == 3


def test_halls_that_differ_are_not_ordered():
    # plan-partial: hall-1 and hall-3 alike (both cooled by the dry plant); hall-2 is an air hall
    p = problem_from_spec(load_spec(PLAN_PARTIAL))
    assert identical_halls(p) == [["hall-1", "hall-3"]]
    bigger = replace(p, halls=tuple(replace(h, positions=h.positions + 1) if h.id == "hall-3" else h for h in p.halls))
    assert identical_halls(bigger) == []
    _, sol, _, _ = plan(load_spec(PLAN_PARTIAL), rel_gap=1e-6)
    assert sol.positions_used("hall-1") >= sol.positions_used("hall-3")


@pytest.mark.parametrize("objective", ["cost-per-token", "max-tokens", "min-cost"])
def test_an_optimal_plan_has_its_gap_proven_within_the_tolerance(objective):
    spec = apply_overrides(load_spec(PLAN_PARTIAL), {"plan.demand_output_tokens_per_s": {"gpt-oss-120b": 1e6}} if objective == "min-cost" else {})
    sol = solve(problem_from_spec(spec, objective), rel_gap=1e-4)
    assert (sol.status, sol.time_limit_reached) == ("optimal", False)
    assert 0 <= sol.mip_gap <= 1e-4 * (1 + 1e-6)  # within the solver's feasibility tolerance


def test_a_time_limit_is_said_as_such():
    p = problem_from_spec(apply_overrides(load_spec(REFERENCE), OPEN))
    try:
        sol = solve(p, time_limit_s=0.3, rel_gap=1e-9)
    except SolveError:
        return  # no plan at all in the time: said by the error
    assert sol.time_limit_reached
    assert sol.status in ("time-limit", "optimal")
    assert sol.status == "time-limit" or sol.mip_gap <= 1e-9
