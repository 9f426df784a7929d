r"""Solving a plan problem: one strategy per objective.

Least cost and most tokens are one MILP each, with a tie-break; cost per token is a ratio,
solved exactly by Dinkelbach's method (`optimizer.dinkelbach`) from a plan near the most tokens.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pyomo.environ as pyo

from optimizer.dinkelbach import Incumbent, dinkelbach
from optimizer.highs import Infeasible, MilpResult, SolveError, solve_model
from optimizer.model import (
    MTOK,
    build_model,
    hold_cost,
    hold_tokens,
    maximize_tokens,
    maximize_tokens_within_target,
    minimize_cost,
    minimize_cost_less_token_value,
)
from optimizer.problem_types import PlanProblem
from optimizer.solution import Solution, read_solution

# Dinkelbach converges to the exact ratio from any feasible start, so its first plan need
# only be near the most tokens: proving that optimum when the interconnect binds is a hard
# knapsack that can eat the whole time limit, and leave no time for the steps that matter.
START_REL_GAP = 0.02
START_SHARE_OF_TIME = 0.25


def solve(p: PlanProblem, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4) -> Solution:
    """The best plan for `p.objective`, within `time_limit_s` over all the MILPs it takes.

    Raises:
        Infeasible: no plan meets every constraint (see `explain.explain_infeasible`).
        SolveError: the time ran out before any plan was found.
    """
    deadline = time.monotonic() + time_limit_s
    strategy = {
        "min-cost": _min_cost,
        "max-tokens": _max_tokens,
        "cost-per-token": _min_cost_per_token,
        "max-tokens-at-cost": _max_tokens_at_cost,
    }[p.objective]
    return strategy(p, deadline, rel_gap)


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def _lexicographic(p: PlanProblem, deadline: float, rel_gap: float, first, hold, second, value) -> Solution:
    """Optimize `first`, then break its ties with `second` among plans within `rel_gap` of the first optimum.

    Holding the first objective within `rel_gap` of the first pass's bound keeps the
    tie-break as easy as the first pass and the final plan within the proven gap, which
    is measured from that bound to the final plan. If the tie-break fails, the first
    pass's plan, still loaded, stands.
    `value(solution)` is the objective in its reported unit.
    """
    m = build_model(p)
    first(m)
    primary = m.objective.expr
    best = solve_model(m, time_limit_s=_left(deadline), rel_gap=rel_gap)
    hold(m, best.bound if best.status == "optimal" else best.objective, rel_gap)  # from the bound: the gap stays proven
    second(m)
    try:
        tie = solve_model(m, time_limit_s=_left(deadline), rel_gap=rel_gap)
    except SolveError:
        tie = None
    plan = _snapshot(m, p)
    gap = replace(best, objective=pyo.value(primary)).gap()
    timed_out = best.status == "time-limit" or tie is None or tie.status == "time-limit"
    return replace(
        plan,
        status=best.status,
        objective_value=value(plan),
        mip_gap=gap,
        solve_time_s=best.solve_time_s + (tie.solve_time_s if tie else 0.0),
        time_limit_reached=timed_out,
    )


def _min_cost(p: PlanProblem, deadline: float, rel_gap: float) -> Solution:
    """Least annual cost meeting the demand; among equals, the most tokens."""
    return _lexicographic(p, deadline, rel_gap, minimize_cost, hold_cost, maximize_tokens, lambda s: s.annual_cost_usd)


def _max_tokens(p: PlanProblem, deadline: float, rel_gap: float) -> Solution:
    """Most tokens within the limits; among equals, the least cost."""
    return _lexicographic(p, deadline, rel_gap, maximize_tokens, hold_tokens, minimize_cost, lambda s: s.tokens_per_year)


def _max_tokens_at_cost(p: PlanProblem, deadline: float, rel_gap: float) -> Solution:
    """Most tokens at or below the target cost per token; among equals, the least cost. Infeasible names the least cost per token."""
    target = p.target_usd_per_mtok
    try:
        return _lexicographic(
            p, deadline, rel_gap, lambda m: maximize_tokens_within_target(m, target), hold_tokens, minimize_cost, lambda s: s.tokens_per_year
        )
    except Infeasible:
        least = _min_cost_per_token(replace(p, objective="cost-per-token"), deadline, rel_gap).cost_per_mtok_usd
        raise Infeasible(
            f"no plan serves tokens at ${target:g} per million or less: the least cost per million tokens here is ${least:.4f}"
        ) from None


def _min_cost_per_token(p: PlanProblem, deadline: float, rel_gap: float) -> Solution:
    """Dinkelbach from a plan near the most tokens; the proven gap is a share of the plan's annual cost."""
    m = build_model(p)
    maximize_tokens(m)
    start, first = _start(m, p, deadline, rel_gap)

    def read() -> Incumbent[Solution]:
        plan = _snapshot(m, p)
        return Incumbent(plan, plan.annual_cost_usd, plan.tokens_per_year / MTOK)

    run = dinkelbach(
        m,
        Incumbent(first, first.annual_cost_usd, first.tokens_per_year / MTOK),
        set_price=lambda price: minimize_cost_less_token_value(m, price),
        read=read,
        deadline=deadline,
        rel_gap=rel_gap,
    )
    best = run.best.plan if run.steps else _tidy(p, first, deadline, rel_gap)  # no step: the start maximized tokens only
    timed_out = start.status == "time-limit" or run.status == "time-limit"
    return replace(
        best,
        status="time-limit" if run.status != "optimal" and timed_out else run.status,
        objective_value=best.cost_per_mtok_usd,
        mip_gap=run.gap,
        solve_time_s=start.solve_time_s + run.solve_time_s,
        steps=run.steps,
        time_limit_reached=timed_out,
    )


TIDY_MIN_TIME_S = 2.0  # the tidy may run this far past the time limit: a sized plan is worth it


def _tidy(p: PlanProblem, plan: Solution, deadline: float, rel_gap: float) -> Solution:
    """The plan's layout with the least-cost equipment, switches and model split that keep its tokens; the plan itself if that fails."""
    everything = [s.id for s in p.systems]
    halls = tuple(
        replace(
            h,
            cooling_options=frozenset({plan.cooling[h.id]}),
            min_racks={v: plan.racks.get((h.id, v), 0) for v in (everything if h.systems is None else h.systems)},
            max_racks={v: plan.racks.get((h.id, v), 0) for v in (everything if h.systems is None else h.systems)},
        )
        for h in p.halls
    )
    m = build_model(replace(p, halls=halls))
    hold_tokens(m, plan.tokens_per_year / MTOK, rel_gap)
    minimize_cost(m)
    try:
        solve_model(m, time_limit_s=max(_left(deadline), TIDY_MIN_TIME_S), rel_gap=rel_gap)
    except SolveError:
        return plan
    tidy = _snapshot(m, p)
    return tidy if tidy.cost_per_mtok_usd < plan.cost_per_mtok_usd else plan


def _start(m: pyo.ConcreteModel, p: PlanProblem, deadline: float, rel_gap: float) -> tuple[MilpResult, Solution]:
    """A first plan with tokens, near the most: a share of the time, then all that is left if that found none."""
    for share in (START_SHARE_OF_TIME, 1.0):
        try:
            start = solve_model(m, time_limit_s=max(share * _left(deadline), 0.01), rel_gap=max(rel_gap, START_REL_GAP))
        except SolveError:
            if share == 1.0:
                raise
            continue
        best = _snapshot(m, p)
        if best.tokens_per_year > 0:
            return start, best
        if start.status == "optimal":
            raise Infeasible("no plan within the limits produces any tokens")
    raise SolveError("the time limit ran out before HiGHS found a plan that produces tokens")


def _snapshot(m: pyo.ConcreteModel, p: PlanProblem) -> Solution:
    """The loaded plan; the run's figures are filled in when the strategy ends."""
    return read_solution(m, p, objective=p.objective, status="optimal", objective_value=0.0, mip_gap=0.0, solve_time_s=0.0)
