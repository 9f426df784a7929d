"""A year of the fleet: facility failures and repairs, GPU systems, demand spikes, grid events.

Every power and cooling group's units fail and are repaired (`twin.sim.facility_failures`
draws them in numpy per group with ample crews; `twin.sim.facility_queue` runs them in SimPy
when finite crews share the repairs), which gives each group's units down after every unit
event. A group fails when fewer than `units_needed` units work; only the instants where a
group crosses that threshold are visited, all at once: the graph (`twin.sim.cut_off`)
decides which rack groups lose power or a cooling medium after each. GPU systems fail at
1/MTBF each and are swapped by the vendor without waiting for a crew, so they are drawn all
at once in numpy (`twin.sim.system_failures`), as are demand spikes and grid events
(`twin.sim.demand_events`): with ample crews no part of the year needs an event loop.

Only changes cost work: every source gives change points (time, state) and events for a
log bounded at the highest rates (`twin.sim.event_log`); `twin.sim.series` turns the change
points into hourly arrays at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from twin.connectivity import Topology
from twin.deployments import deployment_systems
from twin.graph import UTILITY, is_infrastructure, rack_group_id
from twin.sim.cut_off import cut_off
from twin.sim.demand_events import HOURS_PER_YEAR, SPIKE_EVENTS, grid_events, spikes
from twin.sim.event_log import EVENT_COLUMNS, EventArrays, EventLog
from twin.sim.facility_failures import UNIT_EVENTS, drawn_changes, unit_groups
from twin.sim.facility_queue import queued_changes
from twin.sim.options import GridEvent, SimOptions
from twin.sim.rng import Seed, named_streams
from twin.sim.system_failures import system_changes
from twin.spec import Spec

__all__ = ["EVENT_COLUMNS", "Fleet", "FleetTrace", "StateChanges"]


@dataclass(frozen=True)
class StateChanges:
    """A piecewise-constant state: `values[i]` holds from `times[i]` until the next change."""

    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class FleetTrace:
    """What a simulated year recorded: change points per deployment, demand and grid events, and the event log.

    `racks_up[d]` is 1 while deployment d's rack group has power and cooling, else 0;
    `systems_down[d]` the number of its GPU systems failed; `demand_multiplier` the spikes.
    The log has one row per event with its blast radius (racks, GPUs and installed IT MW
    cut off or restored, or the MW a grid event asks to shed).
    """

    hours: float
    racks_up: tuple[StateChanges, ...]
    systems_down: tuple[StateChanges, ...]
    systems: np.ndarray  # installed systems per deployment
    demand_multiplier: StateChanges
    grid_events: tuple[GridEvent, ...]
    events: pd.DataFrame


def _last_at_each_instant(times: np.ndarray) -> np.ndarray:
    """Where a state set several times at one instant (a utility outage, the generators failing to start) settles."""
    return np.r_[times[1:] != times[:-1], True][: times.size]


def _changes(times: np.ndarray, works: np.ndarray) -> StateChanges:
    """Up (1) or down (0) from the crossings' times and states, changes only."""
    last = _last_at_each_instant(times)
    t, v = times[last], works[last].astype(float)
    change = v != np.r_[1.0, v[:-1]]
    return StateChanges(np.r_[0.0, t[change]], np.r_[1.0, v[change]])


class Fleet:
    """The model of one year of a facility; `run()` returns its `FleetTrace`."""

    def __init__(self, spec: Spec, graph: nx.DiGraph, options: SimOptions, seed: Seed, hours: float = HOURS_PER_YEAR):
        self.spec, self.graph, self.options, self.hours = spec, graph, options, hours
        infra = [n for n in graph if is_infrastructure(graph, n)]
        deps = spec.deployments
        rng = named_streams(seed, ["spikes", "grid"] + [f"group:{n}" for n in infra] + [f"systems:{i}" for i in range(len(deps))])
        self.rng = rng
        self.log = EventLog()
        self.topology = Topology(graph)
        self.rack_group = [rack_group_id(d.hall, d.system) for d in deps]
        self.racks_up = [StateChanges(np.zeros(1), np.ones(1)) for _ in deps]
        self.groups = unit_groups(graph) if options.facility_failures else []
        self.n_systems = np.array([deployment_systems(spec, d) for d in deps], dtype=float)

    def facility(self) -> None:
        """Draw every facility unit event, then visit only the instants where a group crosses its k-of-n threshold."""
        if not self.groups:
            return
        groups = self.groups
        rngs = [self.rng[f"group:{g.node}"] for g in groups]
        draw = self.options.repair_draws
        parts = (queued_changes(groups, draw, self.hours, rngs, self.options.crews) if self.options.crews
                 else drawn_changes(groups, draw, self.hours, rngs))
        crossed = []  # per group, its rows where it fails (fewer than `needed` units work) or works again
        for g, c in zip(groups, parts, strict=True):
            failed = c.down > g.units - g.needed
            crossed.append(np.flatnonzero(failed != np.r_[False, failed[:-1]]))
        sequence = sorted(range(len(groups)), key=lambda i: groups[i].node != UTILITY)  # at one instant the utility's outage first
        times = np.concatenate([parts[i].times[crossed[i]] for i in sequence])
        order = np.argsort(times, kind="stable")
        who = np.concatenate([np.full(crossed[i].size, i) for i in sequence])[order]
        cut = cut_off(self.graph, self.topology, [g.node for g in groups], who)
        self.racks_up = [_changes(times[order], cut.works[r]) for r in self.rack_group]
        blast = np.empty_like(cut.blast)
        blast[order] = cut.blast  # back in the order of `sequence`
        ends = np.cumsum([crossed[i].size for i in sequence])
        self.log.add_arrays([
            EventArrays(parts[i].times, parts[i].event, [(groups[i].node, e) for e in UNIT_EVENTS], parts[i].down,
                        np.zeros((len(UNIT_EVENTS), 3)), crossed[i], blast[end - crossed[i].size:end])
            for i, end in zip(sequence, ends, strict=True)])

    def demand(self) -> tuple[StateChanges, list[GridEvent]]:
        """Draw the spikes and grid events; log them; return the demand multiplier and the grid events."""
        sp = spikes(self.options, self.hours, self.rng["spikes"])
        at, grid = grid_events(self.options, self.hours, self.rng["grid"])
        kinds = sorted({e.hours for e in grid})  # one log label per duration
        code = np.array([kinds.index(e.hours) for e in grid], dtype=np.int64)
        self.log.add_arrays([
            EventArrays(sp.times, sp.ended, [("demand", e) for e in SPIKE_EVENTS], np.zeros(sp.times.size), np.zeros((2, 3))),
            EventArrays(at, code, [("grid", f"shed requested for {h} h") for h in kinds], np.zeros(at.size), np.zeros((len(kinds), 3)),
                        np.arange(at.size), np.array([[0.0, 0.0, e.shed_mw] for e in grid]).reshape(-1, 3)),
        ])
        last = _last_at_each_instant(sp.times)
        return StateChanges(np.r_[0.0, sp.times[last]], np.r_[1.0, sp.multiplier[last]]), grid

    def run(self) -> FleetTrace:
        multiplier, grid = self.demand()
        self.facility()
        quiet = StateChanges(np.zeros(1), np.zeros(1))
        down, logged = [quiet] * len(self.spec.deployments), []
        for i, d in enumerate(self.spec.deployments if self.options.system_failures else []):
            system = self.spec.cat.systems[d.system]
            c = system_changes(int(self.n_systems[i]), system.mtbf_h, self.options.repair_draws(system.mttr_h), self.hours,
                               self.rng[f"systems:{i}"])
            down[i] = StateChanges(np.append(0.0, c.times), np.append(0.0, c.down).astype(float))
            component = f"systems:{self.rack_group[i].removeprefix('racks:')}#{i}"
            blast = [d.racks / self.n_systems[i], float(system.gpus_per_system), system.max_kw / 1000.0]
            logged.append(EventArrays(c.times, (c.steps < 0).view(np.int8), [(component, "system failed"), (component, "system repaired")],
                                      down[i].values[1:], np.array([blast, blast])))
        self.log.add_arrays(logged)
        return FleetTrace(
            hours=self.hours,
            racks_up=tuple(self.racks_up),
            systems_down=tuple(down),
            systems=self.n_systems,
            demand_multiplier=multiplier,
            grid_events=tuple(grid),
            events=self.log.frame(),
        )
