"""Plan a facility end to end: the problem from the spec, the solve, its explanation, the spec it writes, the twin's score."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.explain import LimitUse, ShadowValue, limit_uses, shadow_values, solve_explained
from optimizer.plan_kpis import predicted_kpis
from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem import NoRackFits, problem_from_spec
from optimizer.problem_types import OBJECTIVES, PlanProblem
from optimizer.solution import Solution
from optimizer.solve import Infeasible, SolveError
from twin.evaluate import evaluate, spec_weather
from twin.loader import load_spec_text
from twin.spec import Spec


class PlanInputError(ValueError):
    """The spec or the options cannot be planned (bad input, not an impossible request)."""


@dataclass(frozen=True)
class PlanRun:
    """Everything a plan reports: the plan, its explanation, the spec it writes and the twin's score of it."""

    spec: Spec
    problem: PlanProblem
    solution: Solution
    uses: tuple[LimitUse, ...]
    shadows: tuple[ShadowValue, ...]
    yaml_text: str
    predicted: dict[str, float]
    twin: dict[str, float] | None


def plan_facility(spec: Spec, objective: str | None = None, time_limit_s: float = 60.0, shadow: bool = True, verify: bool = True) -> PlanRun:
    """Plan `spec`; PlanInputError for bad input, optimizer.solve.Infeasible (with its sentence) for an impossible request."""
    if objective is not None and objective not in OBJECTIVES:
        raise PlanInputError(f"the objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    if not time_limit_s > 0:
        raise PlanInputError(f"the time limit must be a positive number of seconds; got {time_limit_s:g}")
    weather = spec_weather(spec)
    try:
        p = problem_from_spec(spec, objective, weather)
    except NoRackFits as exc:
        raise Infeasible(str(exc)) from None
    except ValueError as exc:  # PlanError, PerfError, or figures the problem rejects
        raise PlanInputError(str(exc)) from None
    try:
        sol = solve_explained(p, time_limit_s=time_limit_s)
    except Infeasible:
        raise
    except SolveError as exc:
        raise PlanInputError(f"{exc}; allow a longer time limit") from None
    uses = limit_uses(p, sol)
    shadows = shadow_values(p, sol, time_limit_s=time_limit_s) if shadow else ()
    if not sol.racks:
        raise PlanInputError("the best plan places no racks, so there is no facility to write: open some systems or set a demand")
    text = plan_to_spec_yaml(spec, sol)
    twin = evaluate(load_spec_text(text, name="<plan>"), weather).kpis if verify else None
    return PlanRun(spec, p, sol, uses, shadows, text, predicted_kpis(spec, p, sol), twin)
