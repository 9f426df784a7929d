"""Design alternatives of the `plan:` section: spec fields the plan tries value by value.

A supply temperature, a plant's equipment, a fabric's oversubscription, a hall's density
or a model's precision change the figures the plan's linear model is built from (cooling
power per kW of heat, losses, token rates), so they cannot be variables of that model:
`aift plan` solves it once per combination (`optimizer/alternatives.py`). Here, at load,
every path and value is checked on the spec itself and the combinations are counted, so a
bad or oversized set of alternatives fails at its line before anything is solved.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from twin.errors import SpecError, SpecIssue

if TYPE_CHECKING:
    from twin.plan_spec import PlanOptions
    from twin.spec import Spec
    from twin.yamlio import Document

FIELD = ("plan", "alternatives")


def alternative_count(plan: PlanOptions) -> int:
    """How many combinations the alternatives make, without listing them."""
    return math.prod(len(values) for values in plan.alternatives.values())


def combinations(plan: PlanOptions) -> list[dict[str, Any]]:
    """Every combination of the alternatives as overrides, in file order (the first value of each path first)."""
    paths = list(plan.alternatives)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*plan.alternatives.values())]


def alternative_spec(spec: Spec, values: dict[str, Any]) -> Spec:
    """The spec with one combination applied and no alternatives left (so it is planned as a single spec)."""
    from twin.overrides import apply_overrides

    return apply_overrides(spec, {**values, "plan.alternatives": {}})


def alternative_issues(spec: Spec, doc: Document) -> list[SpecIssue]:
    """Problems of the spec's alternatives, each at its line: too many combinations, a path or a value the spec refuses.

    Each value is applied alone to the spec as written (its own validation and
    cross-checks); a combination that only fails together is reported when planned.
    """
    from twin.overrides import split_path

    plan = spec.plan
    if plan is None or not plan.alternatives:
        return []
    count = alternative_count(plan)
    if count > plan.max_alternatives:
        sizes = " x ".join(str(len(v)) for v in plan.alternatives.values())
        return [doc.issue(FIELD, f"{count:,} combinations ({sizes}); the limit is {plan.max_alternatives}: "
                                 f"set plan.max_alternatives to {count} to solve them all, or try fewer values")]
    issues = []
    for path, values in plan.alternatives.items():
        where = (*FIELD, path)
        try:
            parts = split_path(path)
        except ValueError as exc:
            issues.append(doc.issue(where, str(exc)))
            continue
        if parts[0] == "plan":
            issues.append(doc.issue(where, "alternatives choose fields of the facility, not the plan's own options"))
            continue
        seen: list[Any] = []
        for i, value in enumerate(values):
            if value in seen:
                issues.append(doc.issue((*where, i), f"{value!r} is listed twice"))
                continue
            seen.append(value)
            problem, bad_path = _refusal(spec, path, value)
            if problem:
                issues.append(doc.issue(where if bad_path else (*where, i), problem))
                if bad_path:
                    break
    return issues


def _refusal(spec: Spec, path: str, value: Any) -> tuple[str | None, bool]:
    """Why the spec refuses `value` at `path` (None if it takes it), and whether the path itself is wrong."""
    from twin.overrides import leads_to

    try:
        alternative_spec(spec, {path: value})
    except SpecError as exc:
        wrong = [i for i in exc.issues if i.file == "<overrides>" or (i.message.startswith("unknown field") and leads_to(i.path, path))]
        if wrong:
            return f"{path} does not apply to {spec.name}: {wrong[0].message}", True
        return f"{path} = {value!r} is refused: " + "; ".join(f"{i.path}: {i.message}" if i.path else i.message for i in exc.issues[:3]), False
    return None, False
