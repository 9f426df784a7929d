"""The facility's units with finite repair crews: a SimPy model, event by event.

With `crews` repairers shared by every group, a failed unit waits for a free crew (first
come, first served), so when a unit is next up depends on every other group's failures: no
group can be drawn on its own, which is what SimPy is kept for. Each group has a failure
clock: with `w` units working the next unit fails after an exponential time of mean MTBF/w;
a repair brings a unit back and redraws the clock (exponential clocks are memoryless, so this
is exact). The utility restores its own supply without a crew; on each utility outage every
working generator unit fails to start with the catalog probability and queues for repair.
Its cost grows with the unit events; with ample crews `twin.sim.facility_failures` draws the
same model in numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import simpy

from twin.graph import UTILITY
from twin.sim.facility_failures import FAILED, FAILED_TO_START, REPAIRED, GroupChanges, RepairDraws, UnitGroup


class _Queued:
    """One group's failure clock and repairs in the shared environment."""

    def __init__(self, model: _CrewModel, index: int, group: UnitGroup, rng: np.random.Generator):
        self.model, self.index, self.group, self.rng = model, index, group, rng
        self.repair = model.repair(group.mttr_h)
        self.working = group.units
        self.version = 0  # of the failure clock: a redrawn clock leaves its old timeout behind, ignored
        self._arm()

    def _arm(self) -> None:
        self.version += 1
        if self.working:
            version = self.version
            delay = self.rng.exponential(self.group.mtbf_h / self.working)
            self.model.env.timeout(delay).callbacks.append(lambda _: version == self.version and self.unit_down(FAILED))

    def unit_down(self, event: int) -> None:
        self.working -= 1
        env = self.model.env
        if self.group.node == UTILITY:  # the utility restores its own supply
            env.timeout(float(self.repair(self.rng, None))).callbacks.append(lambda _: self._repaired())
        else:
            env.process(self._crew_repair())
        self._arm()
        self.model.record(self, event)
        if self.group.node == UTILITY and event == FAILED:
            self.model.start_generators()

    def _crew_repair(self):
        with self.model.crews.request() as crew:
            yield crew
            yield self.model.env.timeout(float(self.repair(self.rng, None)))
        self._repaired()

    def _repaired(self) -> None:
        self.working += 1
        self._arm()
        self.model.record(self, REPAIRED)


class _CrewModel:
    def __init__(self, groups: Sequence[UnitGroup], repair: Callable[[float], RepairDraws], rngs: Sequence[np.random.Generator], crews: int):
        self.env = simpy.Environment()
        self.crews = simpy.Resource(self.env, crews)
        self.repair = repair
        self.log: list[tuple[float, int, int, int]] = []
        self.groups = [_Queued(self, i, g, rngs[i]) for i, g in enumerate(groups)]
        self.generators = [q for q in self.groups if q.group.is_generator]

    def record(self, q: _Queued, event: int) -> None:
        self.log.append((self.env.now, q.index, event, q.group.units - q.working))

    def start_generators(self) -> None:
        """The utility is out: every working generator unit fails to start with its catalog probability."""
        for g in self.generators:
            for _ in range(int(g.rng.binomial(g.working, g.group.fail_to_start))):
                g.unit_down(FAILED_TO_START)


def queued_changes(groups: Sequence[UnitGroup], repair: Callable[[float], RepairDraws], hours: float,
                   rngs: Sequence[np.random.Generator], crews: int) -> list[GroupChanges]:
    """Every unit event of each of `groups` over `hours` with `crews` shared repair crews."""
    model = _CrewModel(groups, repair, rngs, crews)
    model.env.run(until=hours)
    t, g, e, d = (np.array(c) for c in zip(*model.log, strict=True)) if model.log else (np.zeros(0, int),) * 4
    return [GroupChanges(t[g == i].astype(float), e[g == i].astype(np.int8), d[g == i].astype(np.int32)) for i in range(len(groups))]
