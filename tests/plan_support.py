"""The small spec with open choices that the plan tests share, and a planner from spec to written spec."""

from __future__ import annotations

from pathlib import Path

from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.planning import solve_spec
from optimizer.problem_types import PlanProblem
from twin.analysis import node_loads
from twin.graph import node_ids
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides
from twin.spec import Spec

PLAN_SMALL = Path(__file__).resolve().parent / "specs" / "plan-small.yaml"
PLAN_PARTIAL = Path(__file__).resolve().parent / "specs" / "plan-partial.yaml"
PLAN_AVAILABILITY = Path(__file__).resolve().parent / "specs" / "plan-availability.yaml"


def small_spec(**overrides) -> Spec:
    """plan-small.yaml with dotted-path overrides (`twin.overrides`)."""
    return apply_overrides(load_spec(PLAN_SMALL), overrides)


def plan(spec: Spec, **solve_options):
    """(problem, solution, written spec text, the written spec loaded back); the written spec passes the twin's static checks."""
    p, sol = solve_spec(spec, **solve_options)
    text = plan_to_spec_yaml(spec, sol)
    written = load_spec_text(text)
    assert static_check_failures(p, written) == []
    return p, sol, text, written


def static_check_failures(p: PlanProblem, written: Spec) -> list[str]:
    """Groups of a written plan over their usable capacity in `aift twin`'s N-1 check at nameplate.

    The interconnect and the facility stages (transformers and generators that also power
    the cooling) carry the design hour's peak instead, which the plan checks against the
    twin's hourly peak.
    """
    ids = node_ids(written)
    facility = {"utility"} | {ids[st.id] for _, st in p.stages() if st.carries == "facility" and st.id in ids}
    return [f"{n.node}: {n.design_load_kw:.0f} kW of {n.usable_capacity_kw:.0f}" for n in node_loads(written) if not n.ok and n.node not in facility]
