"""Plan a roadmap end to end: the problem from the spec, the solve, its shadow values, the year specs, the twin's score of each."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from optimizer.highs import Infeasible, SolveError
from optimizer.roadmap.problem import roadmap_problem
from optimizer.roadmap.schedule import Roadmap, read_roadmap
from optimizer.roadmap.solve import Binding, shadow_values, solve_roadmap
from optimizer.roadmap.year_specs import year_spec_yaml
from twin.evaluate import evaluate, spec_weather
from twin.loader import load_spec_text
from twin.roadmap_spec import RoadmapObjective
from twin.spec import Spec

OBJECTIVES: tuple[str, ...] = RoadmapObjective.__args__


class RoadmapInputError(ValueError):
    """The spec or the options cannot be planned as a roadmap (bad input, not an impossible request)."""


@dataclass(frozen=True)
class RoadmapResult:
    """The roadmap, what binds it, each year's spec and the twin's score of each."""

    spec: Spec
    roadmap: Roadmap
    bindings: tuple[Binding, ...]
    year_yaml: dict[int, str]
    twin: dict[int, dict[str, float]] | None
    shadow_error: str | None = None  # why there are no shadow values, when they were asked for and the LP gave none

    def schedule_csv(self) -> str:
        rows = self.roadmap.schedule_rows()
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["year"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def plan_roadmap(
    spec: Spec, objective: str | None = None, time_limit_s: float = 300.0, rel_gap: float = 1e-3, shadow: bool = True, verify: bool = True
) -> RoadmapResult:
    """The roadmap of `spec`; RoadmapInputError for bad input, optimizer.highs.Infeasible for an impossible request."""
    if objective is not None and objective not in OBJECTIVES:
        raise RoadmapInputError(f"the objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    if not time_limit_s > 0:
        raise RoadmapInputError(f"the time limit must be a positive number of seconds; got {time_limit_s:g}")
    if not 0 < rel_gap < 1:
        raise RoadmapInputError(f"the gap must be a fraction between 0 and 1; got {rel_gap:g}")
    if spec.roadmap is None:
        raise RoadmapInputError("the spec has no roadmap: section (see the README's roadmap section)")
    weather = spec_weather(spec)
    try:
        rp = roadmap_problem(spec, objective, weather)
    except ValueError as exc:  # PlanError, PerfError, or figures the problem rejects
        raise RoadmapInputError(str(exc)) from None
    try:
        run = solve_roadmap(rp, time_limit_s=time_limit_s, rel_gap=rel_gap)
    except Infeasible:
        raise
    except SolveError as exc:
        raise RoadmapInputError(f"{exc}; allow a longer time limit") from None
    roadmap = read_roadmap(rp, run)
    bindings, shadow_error = (), None
    if shadow:
        try:
            bindings = shadow_values(rp, run, time_limit_s=time_limit_s)
        except SolveError as exc:  # the roadmap stands without them
            shadow_error = str(exc)
    texts = {y.year: year_spec_yaml(spec, roadmap, y) for y in roadmap.years if y.plan.racks}
    twin = {year: evaluate(load_spec_text(text, name=f"<{year}>"), weather).kpis for year, text in texts.items()} if verify else None
    return RoadmapResult(spec, roadmap, bindings, texts, twin, shadow_error)
