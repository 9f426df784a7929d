"""Plan a facility end to end: the problem from the spec, the solve, its explanation, the spec it writes, the twin's score."""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimizer.explain import LimitUse, ShadowValue, limit_uses, shadow_values, solve_explained
from optimizer.highs import Infeasible, SolveError
from optimizer.plan_kpis import predicted_kpis
from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem import problem_from_spec
from optimizer.problem_types import OBJECTIVES, PlanProblem
from optimizer.solution import Solution
from optimizer.solve import solve
from optimizer.spec_roles import Unplannable
from optimizer.static_sizing import meet_static_checks
from twin.evaluate import evaluate, spec_weather
from twin.loader import load_spec_text
from twin.spec import Spec
from twin.weather import Weather


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


MAX_PASSES = 3
FIRST_PASS_SHARE = 0.5  # of the time limit; the later passes share the rest


def solve_spec(
    spec: Spec, objective: str | None = None, weather: Weather | None = None, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4
) -> tuple[PlanProblem, Solution]:
    """The plan of `spec` and the problem it solves, its site figures measured at the plan itself.

    The first problem's figures (losses, cooling and their no-load parts per kW) are
    measured on a probe of full halls; the plan it gives is then the probe for the next
    problem, whose figures are exact at that plan, until the layout stays (at most
    `MAX_PASSES` solves; the first gets `FIRST_PASS_SHARE` of the time limit, or all of it
    if it found no plan in that, the others share what is left). The plan then gets any
    units the twin's N-1 check finds it short of (`static_sizing`). An infeasible request is explained by
    the first problem; a later one that finds no plan leaves the last plan standing.
    """
    deadline = time.monotonic() + time_limit_s
    p = problem_from_spec(spec, objective, weather)
    try:
        sol = solve_explained(p, time_limit_s=time_limit_s * FIRST_PASS_SHARE, rel_gap=rel_gap)
    except Infeasible:
        raise
    except SolveError:  # no plan in its share of the time: the first pass takes all of it
        sol = solve_explained(p, time_limit_s=max(deadline - time.monotonic(), 1.0), rel_gap=rel_gap)
    for passes_left in range(MAX_PASSES - 1, 0, -1):
        if not sol.racks:
            break
        nearer = problem_from_spec(spec, objective, weather, at=sol)
        try:
            again = solve(nearer, time_limit_s=(deadline - time.monotonic()) / passes_left, rel_gap=rel_gap)
        except SolveError:
            break
        if sol.status == "optimal" and again.status != "optimal":
            break  # a proven plan is not traded for an unproven one
        settled = (again.racks, again.cooling) == (sol.racks, sol.cooling)
        p, sol = nearer, again
        if settled:
            break
    return p, meet_static_checks(spec, p, sol)


def plan_facility(
    spec: Spec,
    objective: str | None = None,
    time_limit_s: float = 60.0,
    shadow: bool = False,
    verify: bool = True,
    shadow_time_s: float | None = None,
) -> PlanRun:
    """Plan `spec`; PlanInputError for bad input, optimizer.highs.Infeasible (with its sentence) for an impossible request.

    Shadow values, when asked for, share `shadow_time_s` (default: the plan's time limit) in all.
    """
    if objective is not None and objective not in OBJECTIVES:
        raise PlanInputError(f"the objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    if not time_limit_s > 0:
        raise PlanInputError(f"the time limit must be a positive number of seconds; got {time_limit_s:g}")
    weather = spec_weather(spec)
    try:
        p, sol = solve_spec(spec, objective, weather, time_limit_s=time_limit_s)
    except Infeasible:
        raise
    except SolveError as exc:
        raise PlanInputError(f"{exc}; allow a longer time limit") from None
    except Unplannable as exc:
        raise Infeasible(str(exc)) from None
    except ValueError as exc:  # PlanError, PerfError, or figures the problem rejects
        raise PlanInputError(str(exc)) from None
    uses = limit_uses(p, sol)
    shadows = shadow_values(p, sol, time_limit_s=shadow_time_s or time_limit_s) if shadow else ()
    if not sol.racks:
        raise PlanInputError("the best plan places no racks, so there is no facility to write: open some systems or set a demand")
    text = plan_to_spec_yaml(spec, sol)
    twin = evaluate(load_spec_text(text, name="<plan>"), weather).kpis if verify else None
    return PlanRun(spec, p, sol, uses, shadows, text, predicted_kpis(spec, p, sol), twin)
