"""The load each power and cooling group of a spec carries, in the optimizer's terms, and which groups are open.

The optimizer sizes a stage for one hall's load or the load of several halls
(`problem_types.Stage`). A group's halls are those downstream of it: the halls it feeds
through the power chain, or whose loops reject heat to it. A group serving one hall is
that hall's stage; one serving several is a site stage carrying exactly their load (a
transformer serving every hall that also powers a cooling plant carries facility power).
Two kinds cannot be written as either, and stay as built: a power group that feeds only
the cooling, and one that feeds some but not all halls and also the cooling plants.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from optimizer.problem_types import SITE, Carries, Redundancy
from twin.plan_spec import PlanEquipment, PlanOptions
from twin.spec import Spec

POWER_SECTIONS = ("generators", "transformers", "ups", "distribution")
COOLING_SECTIONS = ("plants", "loops")


class PlanError(ValueError):
    """The spec's `plan:` asks for something the optimizer cannot model; the message says what."""


class Unplannable(PlanError):
    """The request is well formed but no plan can meet it (an SLA no system meets, racks no hall takes): exit 3."""


@dataclass(frozen=True)
class GroupRole:
    """A group, its section, and the stage it becomes: scope (a hall or SITE) and the load it carries."""

    section: str
    group: Any  # a twin.spec power group, plant or loop
    scope: str | None  # None: the optimizer cannot size it (see `why`)
    carries: Carries | None
    why: str = ""
    halls: frozenset[str] | None = None  # of a site stage serving some halls only; None: every hall


def option_id(equipment: str, redundancy: str) -> str:
    """The id of a unit option: catalog equipment and scheme ('@' never appears in a spec id)."""
    return f"{equipment}@{redundancy}"


def parse_option_id(option: str) -> tuple[str, Redundancy]:
    equipment, redundancy = option.split("@")
    return equipment, redundancy  # type: ignore[return-value]


def groups(spec: Spec) -> list[tuple[str, Any]]:
    """(section, group) for every power and cooling group."""
    power = [(sec, g) for sec in POWER_SECTIONS for g in getattr(spec.power, sec)]
    return power + [(sec, g) for sec in COOLING_SECTIONS for g in getattr(spec.cooling, sec)]


def group_roles(spec: Spec) -> dict[str, GroupRole]:
    """Every group's role, by id."""
    everything = frozenset(h.id for h in spec.halls)
    power_halls, powers_cooling = _power_reach(spec)
    loop_halls = {lp.id: frozenset(h.id for h in spec.halls if lp.id in h.cooling_loops) for lp in spec.cooling.loops}
    out = {}
    for section, g in groups(spec):
        if section == "loops":
            kind = spec.cat.equipment[g.equipment].kind
            out[g.id] = _role(section, g, loop_halls[g.id], everything, "liquid_heat" if kind == "cdu" else "air_heat")
        elif section == "plants":
            loops = [lp for lp in spec.cooling.loops if g.id in lp.plants]
            kinds = {spec.cat.equipment[lp.equipment].kind for lp in loops}
            carries = "it" if len(kinds) > 1 else ("liquid_heat" if kinds == {"cdu"} else "air_heat")
            out[g.id] = _role(section, g, frozenset().union(*(loop_halls[lp.id] for lp in loops)), everything, carries)
        else:
            halls = power_halls(g.id)
            if halls != everything and halls and powers_cooling(g.id):
                why = f"it feeds {len(halls)} of the {len(everything)} halls and the cooling plants"
                out[g.id] = GroupRole(section, g, None, None, why)
                continue
            carries = "facility" if halls == everything and powers_cooling(g.id) else "it"
            out[g.id] = _role(section, g, halls, everything, carries)
    return out


def _role(section: str, g, halls: frozenset[str], everything: frozenset[str], carries: Carries) -> GroupRole:
    if halls == everything:
        return GroupRole(section, g, SITE, carries)
    if len(halls) == 1:
        return GroupRole(section, g, next(iter(halls)), carries)
    if halls:
        return GroupRole(section, g, SITE, carries, halls=halls)
    return GroupRole(section, g, None, None, "it powers only the cooling")


def _power_reach(spec: Spec):
    """Functions of a power node: the halls it feeds (directly or downstream), and whether it powers a cooling plant."""
    below: dict[str, set[str]] = {}
    for sec in POWER_SECTIONS:
        for g in getattr(spec.power, sec):
            for up in getattr(g, "fed_by", []):
                below.setdefault(up, set()).add(g.id)
    feeds = {}
    for h in spec.halls:
        for f in h.power_feeds:
            feeds.setdefault(f, set()).add(h.id)
    plants = {p for g in spec.cooling.plants for p in g.powered_by}  # CDU pumps and CRAH fans are too small to count

    @cache
    def halls(node: str) -> frozenset[str]:
        return frozenset(feeds.get(node, set())).union(*(halls(d) for d in below.get(node, ())))

    @cache
    def powers_cooling(node: str) -> bool:
        return node in plants or any(powers_cooling(d) for d in below.get(node, ()))

    return halls, powers_cooling


def open_groups(spec: Spec, roles: dict[str, GroupRole]) -> dict[str, PlanEquipment]:
    """The groups the plan opens, with their candidates; PlanError for one the optimizer cannot size."""
    plan = spec.plan or PlanOptions()
    if plan.equipment == "all":
        return {gid: PlanEquipment(group=gid) for gid, r in roles.items() if r.scope is not None}
    for pe in plan.equipment:
        if roles[pe.group].scope is None:
            raise PlanError(f"plan.equipment: the optimizer cannot size {pe.group!r}: {roles[pe.group].why}; leave it as built")
    return {pe.group: pe for pe in plan.equipment}
