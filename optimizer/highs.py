"""The one place that calls HiGHS: solve a Pyomo model, load its values only when it ends with a plan.

A model is never left half-loaded: HiGHS ends with a plan (optimal within the gap, or a
time limit with an incumbent), or this raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoDualsError

from optimizer.solution import Status


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


def solve_model(
    m: pyo.ConcreteModel, *, time_limit_s: float, rel_gap: float, abs_gap: float | None = None, seed: int | None = None
) -> MilpResult:
    """Solve `m` with HiGHS; load its values only if it ends with a plan. `seed`: HiGHS's random seed (its default if None).

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
        solver_options={"mip_feasibility_tolerance": MIP_FEASIBILITY_TOLERANCE} | ({} if seed is None else {"random_seed": seed}),
    )
    ended, found = result.termination_condition, result.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if ended == TerminationCondition.error:  # HiGHS gave up on the numbers (coefficients it cannot scale)
        raise SolveError("HiGHS stopped on a numerical error")
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



def lp_duals(m: pyo.ConcreteModel, *, time_limit_s: float) -> dict:
    """The duals of the LP `m` (no integer variables) by constraint.

    Raises:
        SolveError: HiGHS ended without an optimal basis to read duals from.
    """
    result = SolverFactory("highs").solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False, time_limit=max(time_limit_s, 0.01))
    try:
        return result.solution_loader.get_duals()
    except (RuntimeError, NoDualsError) as exc:
        raise SolveError(f"the LP has no duals ({result.termination_condition.name})") from exc
