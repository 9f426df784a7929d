"""Plan a spec with design alternatives: one plan per combination, the best kept.

A combination changes figures the plan's linear model is built from (twin/plan_alternatives.py),
so each is planned as its own spec, end to end (`plan_facility`), and the alternatives
are compared on the twin's score of each written plan (`aift evaluate`, the figure the
objective names; always, as the plan's own prediction cannot see unmet heat). An alternative
whose plan leaves heat unmet in more hours (a dry cooler asked for water colder than the
outdoor air allows) ranks after every one with fewer, whatever it costs: the twin's
cost does not count warm water, the facility would.

The time limit is shared fairly: each combination, in turn, gets what is left of it
divided by the combinations still to plan, so time a quick plan leaves passes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from optimizer.explain import shadow_values
from optimizer.highs import Infeasible
from optimizer.planning import PlanInputError, PlanRun, plan_facility
from optimizer.problem_types import OBJECTIVES
from twin.errors import SpecError
from twin.plan_alternatives import alternative_spec, combinations
from twin.spec import Spec

# The twin's figure each objective compares, and +1 to keep the least or -1 the most.
OBJECTIVE_FIGURE = {
    "cost-per-token": ("cost_per_million_tokens_usd", 1.0),
    "min-cost": ("annual_cost_usd", 1.0),
    "max-tokens": ("output_tokens_per_year", -1.0),
    "max-tokens-at-cost": ("output_tokens_per_year", -1.0),
}
MIN_SHARE_S = 1.0  # a combination is never given less than this, even past the time limit


@dataclass(frozen=True)
class Alternative:
    """One combination and how its plan went: `planned`, `infeasible` (no plan meets the limits) or `refused` (bad input)."""

    values: dict[str, Any]
    status: str
    reason: str = ""
    run: PlanRun | None = None
    time_limit_s: float = 0.0


@dataclass(frozen=True)
class AlternativesRun:
    """Every combination tried, the one chosen and the twin's figure they were ranked by."""

    tried: tuple[Alternative, ...]
    chosen: int
    figure: str

    @property
    def run(self) -> PlanRun:
        return self.tried[self.chosen].run


class NoAlternative(Exception):
    """No combination gave a plan; `infeasible` when every one was an impossible request (exit 3), else bad input (exit 2)."""

    def __init__(self, tried: tuple[Alternative, ...]):
        self.tried = tried
        self.infeasible = all(a.status == "infeasible" for a in tried)
        lines = [f"  {describe(a.values)}: {a.status}: {a.reason}" for a in tried]
        super().__init__(f"no alternative gives a plan ({len(tried)} tried):\n" + "\n".join(lines))


def describe(values: dict[str, Any]) -> str:
    """`path=value, ...` of one combination."""
    return ", ".join(f"{p}={v}" for p, v in values.items())


def rank_key(run: PlanRun, objective: str) -> tuple[float, float]:
    """Sort key of a planned alternative: hours of unmet heat on the twin, then the objective's figure (best first)."""
    figure, sign = OBJECTIVE_FIGURE[objective]
    return run.twin["unmet_heat_hours"], sign * run.twin[figure]


def plan_alternatives(
    spec: Spec,
    objective: str | None = None,
    time_limit_s: float = 60.0,
    shadow: bool = False,
    shadow_time_s: float | None = None,
) -> AlternativesRun:
    """Plan every combination of `spec.plan.alternatives` and keep the best; NoAlternative if none gives a plan.

    Shadow values, when asked for, are priced on the chosen plan only.
    """
    if objective is not None and objective not in OBJECTIVES:
        raise PlanInputError(f"the objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    if not time_limit_s > 0:
        raise PlanInputError(f"the time limit must be a positive number of seconds; got {time_limit_s:g}")
    objective = objective or spec.plan.objective
    combos = combinations(spec.plan)
    deadline = time.monotonic() + time_limit_s
    tried = []
    for i, values in enumerate(combos):
        share = max((deadline - time.monotonic()) / (len(combos) - i), MIN_SHARE_S)
        try:
            run = plan_facility(alternative_spec(spec, values), objective, share, verify=True)
        except Infeasible as exc:
            tried.append(Alternative(values, "infeasible", exc.reason, time_limit_s=share))
        except (SpecError, ValueError) as exc:  # PlanInputError, or a PerfError of the twin's score
            tried.append(Alternative(values, "refused", str(exc), time_limit_s=share))
        else:
            tried.append(Alternative(values, "planned", run=run, time_limit_s=share))
    planned = [i for i, a in enumerate(tried) if a.run is not None]
    if not planned:
        raise NoAlternative(tuple(tried))
    best = min(planned, key=lambda i: rank_key(tried[i].run, objective))
    if shadow:
        run = tried[best].run
        shadows = shadow_values(run.problem, run.solution, time_limit_s=shadow_time_s or time_limit_s)
        tried[best] = replace(tried[best], run=replace(run, shadows=shadows))
    return AlternativesRun(tuple(tried), best, OBJECTIVE_FIGURE[objective][0])


def alternative_rows(alts: AlternativesRun) -> list[dict]:
    """One row per combination: its values, status, the objective's figure by the plan and by the twin, and whether chosen."""
    rows = []
    for i, a in enumerate(alts.tried):
        row = {"values": a.values, "status": a.status, "chosen": i == alts.chosen, "time_limit_s": a.time_limit_s}
        if a.run is None:
            row["reason"] = a.reason
        else:
            row.update(
                plan=a.run.predicted[alts.figure],
                twin=a.run.twin[alts.figure],
                unmet_heat_hours=int(a.run.twin["unmet_heat_hours"]),
                mip_status=a.run.solution.status,
                mip_gap=a.run.solution.mip_gap,
            )
        rows.append(row)
    return rows
