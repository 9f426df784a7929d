"""The facility's power and cooling units over a year, drawn in numpy per group: every unit event, in time order.

With ample crews each unit alternates on its own: up for an exponential time of mean MTBF,
then down for a repair time (the fleet's distribution around the MTTR). The units of a group
are then independent alternating renewals, drawn all at once as the GPU systems are
(`twin.sim.system_failures`), and merged into the number of units down after each event.
Generators are the one coupling: at each utility outage every working generator unit fails
to start with the catalog probability and goes for repair. So the utility is drawn first;
then each generator unit walks its cycles, a cycle cut short at the first outage whose start
it fails (one Bernoulli draw per unit and outage, used only if the unit is up then: the same
law as a binomial draw over the working units, which the SimPy model makes). The work is proportional to the unit events, not
to the units or the hours; finite repair crews couple every group through one queue and are
simulated event by event instead (`twin.sim.facility_queue`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from twin.graph import UTILITY, is_infrastructure
from twin.sim.system_failures import system_changes

UNIT_EVENTS = ("unit failed", "unit repaired", "failed to start")
FAILED, REPAIRED, FAILED_TO_START = range(3)
RepairDraws = Callable[[np.random.Generator, tuple | None], np.ndarray]


@dataclass(frozen=True)
class UnitGroup:
    """A power or cooling group of identical units (a graph node): it works while at least `needed` units do."""

    node: str
    units: int
    needed: int
    mtbf_h: float
    mttr_h: float
    fail_to_start: float  # generators: probability that a working unit fails to start on a utility outage

    @property
    def is_generator(self) -> bool:
        return self.fail_to_start > 0.0


def unit_groups(graph: nx.DiGraph) -> list[UnitGroup]:
    """The groups the simulation fails and repairs, in graph order."""
    return [UnitGroup(n, a["units"], a["units_needed"], a["mtbf_h"], a["mttr_h"], a.get("fail_to_start", 0.0))
            for n, a in graph.nodes(data=True) if is_infrastructure(graph, n)]


@dataclass(frozen=True)
class GroupChanges:
    """Every unit event of one group in time order (units failing to start at one instant: one row each)."""

    times: np.ndarray  # h
    event: np.ndarray  # index into UNIT_EVENTS
    down: np.ndarray  # units of the group down just after the event


def drawn_changes(groups: Sequence[UnitGroup], repair: Callable[[float], RepairDraws], hours: float,
                  rngs: Sequence[np.random.Generator]) -> list[GroupChanges]:
    """Every unit event of each of `groups` over `hours` with ample crews; `repair(mttr_h)` gives the repair-time draws."""
    out: dict[int, GroupChanges] = {}
    outages = np.zeros(0)
    for i in sorted(range(len(groups)), key=lambda i: groups[i].node != UTILITY):  # the utility first: generators need its outages
        g = groups[i]
        if g.is_generator and outages.size:
            out[i] = _generator_changes(g, repair(g.mttr_h), hours, rngs[i], outages)
        else:
            c = system_changes(g.units, g.mtbf_h, repair(g.mttr_h), hours, rngs[i])
            out[i] = GroupChanges(c.times, np.where(c.steps > 0, FAILED, REPAIRED).astype(np.int8), c.down.astype(np.int32))
        if g.node == UTILITY:
            outages = out[i].times[out[i].event == FAILED]
    return [out[i] for i in range(len(groups))]


def _generator_changes(g: UnitGroup, repair: RepairDraws, hours: float, rng: np.random.Generator,
                       outages: np.ndarray) -> GroupChanges:
    """The unit events of a generator group whose units also fail to start at the utility's `outages`."""
    unit, k = np.nonzero(rng.random((g.units, outages.size)) < g.fail_to_start)  # by unit, then by outage
    span = hours + 1.0  # unit u's outages as keys u * span + t: one sorted array for every unit
    keys = unit * span + outages[k]
    last = np.searchsorted(unit, np.arange(g.units), side="right")  # one past each unit's last outage it fails
    clock = np.zeros(g.units)  # when each unit is next up
    alive = np.arange(g.units)
    times, events, steps = [], [], []
    while alive.size:
        natural = clock[alive] + rng.exponential(g.mtbf_h, alive.size)
        j = np.searchsorted(keys, alive * span + clock[alive], side="right")  # its first failed start after it came up
        start = np.where(j < last[alive], outages[k[np.minimum(j, k.size - 1)]] if k.size else np.inf, np.inf)
        fails = np.minimum(natural, start)
        back = fails + repair(rng, (alive.size,))
        inside = fails < hours
        times += [fails[inside], back[back < hours]]
        events += [np.where(start[inside] < natural[inside], FAILED_TO_START, FAILED), np.full(int((back < hours).sum()), REPAIRED)]
        steps += [np.ones(int(inside.sum()), np.int8), -np.ones(int((back < hours).sum()), np.int8)]
        clock[alive] = back
        alive = alive[back < hours]
    t, e, s = np.concatenate(times), np.concatenate(events), np.concatenate(steps)
    order = np.lexsort((-s, t))  # a unit failing at the instant another is back: the failure first, so `down` never goes negative
    return GroupChanges(t[order], e[order].astype(np.int8), np.cumsum(s[order], dtype=np.int32))
