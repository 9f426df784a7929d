"""The small spec with open choices that the plan tests share, and a planner from spec to written spec."""

from __future__ import annotations

from pathlib import Path

from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem import problem_from_spec
from optimizer.solve import solve
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides
from twin.spec import Spec

PLAN_SMALL = Path(__file__).resolve().parent / "specs" / "plan-small.yaml"
PLAN_PARTIAL = Path(__file__).resolve().parent / "specs" / "plan-partial.yaml"


def small_spec(**overrides) -> Spec:
    """plan-small.yaml with dotted-path overrides (`twin.overrides`)."""
    return apply_overrides(load_spec(PLAN_SMALL), overrides)


def plan(spec: Spec, **solve_options):
    """(problem, solution, written spec text, the written spec loaded back)."""
    p = problem_from_spec(spec)
    sol = solve(p, **solve_options)
    text = plan_to_spec_yaml(spec, sol)
    return p, sol, text, load_spec_text(text)
