r"""Solving a plan problem: the one place that calls HiGHS, and one strategy per objective.

`solve_model` loads values into the model only when HiGHS ends with a plan (optimal
within the gap, or a time limit with an incumbent); otherwise it raises, so a model is
never left half-loaded. Cost per token is a ratio; Dinkelbach's method solves it exactly
as a short sequence of MILPs $\min C - \lambda T$, each step lowering $\lambda$ to the
ratio of the plan just found, until no plan beats the current ratio.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from optimizer.model import MTOK, build_model, hold_cost, hold_tokens, maximize_tokens, minimize_cost, minimize_cost_less_token_value
from optimizer.problem_types import PlanProblem
from optimizer.solution import DinkelbachStep, Solution, Status, read_solution

MAX_DINKELBACH_STEPS = 30
# Dinkelbach converges to the exact ratio from any feasible start, so its first plan need
# only be near the most tokens: proving that optimum when the interconnect binds is a hard
# knapsack that can eat the whole time limit, and leave no time for the steps that matter.
START_REL_GAP = 0.02
START_SHARE_OF_TIME = 0.25
# Likewise a step needs only a plan that beats the price; the last step alone must prove F >= 0.
STEP_REL_GAP = 0.25


class SolveError(RuntimeError):
    """HiGHS stopped without a plan (time limit before any incumbent, numerical trouble)."""


class Infeasible(SolveError):
    """No plan meets every constraint; `relaxations` (from `explain`) say what would make one."""

    def __init__(self, reason: str, relaxations: tuple = ()):
        super().__init__(reason)
        self.reason = reason
        self.relaxations = relaxations


@dataclass(frozen=True)
class MilpResult:
    """How one MILP ended; its values are loaded in the model."""

    status: Status
    objective: float
    bound: float
    solve_time_s: float

    def gap(self, scale: float | None = None) -> float:
        """Proven gap between incumbent and bound, relative to `scale` (default: the incumbent)."""
        ref = abs(self.objective if scale is None else scale)
        return abs(self.objective - self.bound) / ref if ref > 1e-9 else abs(self.objective - self.bound)


MIP_FEASIBILITY_TOLERANCE = 1e-5


def solve_model(m: pyo.ConcreteModel, *, time_limit_s: float, rel_gap: float, abs_gap: float | None = None) -> MilpResult:
    """Solve `m` with HiGHS; load its values only if it ends with a plan.

    Raises:
        Infeasible: HiGHS proved that no point meets every constraint.
        SolveError: HiGHS stopped without a plan for any other reason.
    """
    result = SolverFactory("highs").solve(
        m,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=max(time_limit_s, 0.01),
        rel_gap=rel_gap,
        abs_gap=abs_gap,
        # Token coefficients reach 1e15 per year; HiGHS's default 1e-6 feasibility check then
        # rejects optima that miss by 1e-6 after unscaling. 1e-5 is far below a kW or a USD.
        solver_options={"mip_feasibility_tolerance": MIP_FEASIBILITY_TOLERANCE},
    )
    ended, found = result.termination_condition, result.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if ended in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        raise Infeasible("HiGHS proved that no plan meets every constraint")
    if found and ended == TerminationCondition.convergenceCriteriaSatisfied:
        status: Status = "optimal"
    elif found and ended in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit):
        status = "time-limit"
    else:
        raise SolveError(f"HiGHS stopped without a plan ({ended.name})")
    result.solution_loader.load_vars()
    return MilpResult(status, result.incumbent_objective, result.objective_bound, result.timing_info.wall_time)


def solve(p: PlanProblem, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4) -> Solution:
    """The best plan for `p.objective`, within `time_limit_s` over all the MILPs it takes.

    Raises:
        Infeasible: no plan meets every constraint (see `explain.explain_infeasible`).
        SolveError: the time ran out before any plan was found.
    """
    deadline = time.monotonic() + time_limit_s
    strategy = {"min-cost": _min_cost, "max-tokens": _max_tokens, "cost-per-token": _min_cost_per_token}[p.objective]
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


def _min_cost_per_token(p: PlanProblem, deadline: float, rel_gap: float) -> Solution:
    r"""Dinkelbach: start near the most-tokens plan, then $\lambda_{k+1} = C(x_k)/T(x_k)$ until $F(\lambda_k) \approx 0$.

    A step only has to find a plan that beats the price to make progress, so it stops
    within `STEP_REL_GAP` of F; once a step finds none, it is solved again to the
    tolerance: an absolute gap of `rel_gap` times the best plan's annual cost, since F
    is near 0 at the end and a relative gap of F is meaningless. The plan is optimal when
    that proof holds, $F(\lambda) \ge -$tolerance, whatever the start and the loose steps were.
    The proven gap is the last step's bound on how far any plan beats the price, as a
    share of the plan's annual cost; "not-proven" ends the steps without a proof or a
    time limit (`MAX_DINKELBACH_STEPS`).
    """
    m = build_model(p)
    maximize_tokens(m)
    start, best = _start(m, p, deadline, rel_gap)
    status: Status = "not-proven"
    steps, total_s, proving, bound = [], start.solve_time_s, False, -math.inf
    timed_out = start.status == "time-limit"
    for _ in range(MAX_DINKELBACH_STEPS):
        price = best.cost_per_mtok_usd
        minimize_cost_less_token_value(m, price)
        tolerance = max(rel_gap * best.annual_cost_usd, 1e-6)
        progress = tolerance / 2 if proving else tolerance  # a proof within tolerance/2 of an F >= -tolerance/2
        try:
            step = solve_model(m, time_limit_s=_left(deadline), rel_gap=rel_gap if proving else STEP_REL_GAP, abs_gap=progress)
        except SolveError:  # out of time before HiGHS found a plan: the best so far stands
            timed_out = True
            break
        steps.append(DinkelbachStep(price, step.objective, step.solve_time_s, step.gap(scale=best.annual_cost_usd)))
        total_s += step.solve_time_s
        bound = step.bound
        found = _snapshot(m, p)
        if found.tokens_per_year > 0 and found.cost_per_mtok_usd < best.cost_per_mtok_usd:
            best = found
        if step.status != "optimal":
            timed_out = True
            break
        if step.objective < -progress:
            proving = False
        elif step.bound >= -tolerance:
            status = "optimal"
            break
        else:
            proving = True
    if not steps:  # not one step in the time: the start maximized tokens only, so size its equipment at least cost
        best = _tidy(p, best, deadline, rel_gap)
    return replace(
        best,
        status="time-limit" if status != "optimal" and timed_out else status,
        objective_value=best.cost_per_mtok_usd,
        mip_gap=max(0.0, -bound) / best.annual_cost_usd,  # no plan beats the price by more than this share of the cost
        solve_time_s=total_s,
        steps=tuple(steps),
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
