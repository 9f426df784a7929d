"""A year of the fleet as SimPy processes: failures and repairs, GPU systems, demand spikes, grid events.

One process per behaviour. Each power or cooling group has a failure clock: with `w` of its
units working, the next unit fails after an exponential time of mean MTBF/w; a repair (a
crew from a `simpy.Resource`, then the MTTR) brings the unit back and interrupts the clock,
which redraws for the new `w` (exponential clocks are memoryless, so this is exact). A group
fails when fewer than `units_needed` units work; the graph (`Topology.cut_off`) then decides
which rack groups lose power or a cooling medium. Generators matter only when the utility is
out: on each utility outage every working generator unit fails to start with the catalog
probability and goes for repair. GPU systems fail at 1/MTBF each and are swapped by the
vendor without waiting for a crew, so nothing in the loop depends on them: they are drawn
all at once in numpy (`twin.sim.system_failures`), at a cost proportional to the failures.

Only changes cost work: the processes append change points (time, state) and an event log,
bounded at the highest rates (`twin.sim.event_log`); `twin.sim.series` turns the change
points into hourly arrays at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import simpy

from twin.connectivity import Topology
from twin.deployments import deployment_systems
from twin.graph import UTILITY, is_infrastructure, rack_group_id
from twin.sim.event_log import EVENT_COLUMNS, EventLog
from twin.sim.options import GridEvent, SimOptions
from twin.sim.rng import Seed, named_streams
from twin.sim.system_failures import system_changes
from twin.spec import Spec

HOURS_PER_YEAR = 8760.0
LOST_MEMO_LIMIT = 4096  # failed sets whose cut-off rack groups are remembered (recomputing one takes ~50 µs)
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


class _Recorder:
    """Change points of one scalar state, kept as lists until the year ends."""

    def __init__(self, value: float):
        self.times, self.values = [0.0], [value]

    def set(self, t: float, value: float) -> None:
        if value == self.values[-1]:
            return
        if t == self.times[-1]:
            self.values[-1] = value
        else:
            self.times.append(t)
            self.values.append(value)

    def freeze(self) -> StateChanges:
        return StateChanges(np.array(self.times), np.array(self.values, dtype=float))


class _Group:
    """A power or cooling group of identical units: its failure clock and its repairs."""

    def __init__(self, fleet: Fleet, node: str, attrs: dict, rng: np.random.Generator):
        self.fleet, self.node, self.rng = fleet, node, rng
        self.units, self.needed = attrs["units"], attrs["units_needed"]
        self.mtbf_h, self.mttr_h = attrs["mtbf_h"], attrs["mttr_h"]
        self.fail_to_start = attrs.get("fail_to_start", 0.0)
        self.working = self.units
        self.version = 0  # of the failure clock: a redrawn clock leaves its old timeout behind, ignored
        self._arm()

    @property
    def failed(self) -> bool:
        return self.working < self.needed

    def _arm(self) -> None:
        """Draw the failure clock for the units working now (exponential clocks are memoryless: redrawing is exact)."""
        self.version += 1
        if self.working:
            version = self.version
            delay = self.rng.exponential(self.mtbf_h / self.working)
            self.fleet.env.timeout(delay).callbacks.append(lambda _: version == self.version and self.unit_down("unit failed"))

    def unit_down(self, event: str) -> None:
        self.working -= 1
        fleet = self.fleet
        if self.node == UTILITY or fleet.crews is None:  # the utility restores its own supply; ample crews never wait
            fleet.env.timeout(fleet.repair_h(self.rng, self.mttr_h)).callbacks.append(lambda _: self._repaired())
        else:
            fleet.env.process(self._crew_repair())
        self._arm()
        fleet.group_changed(self, event)

    def _crew_repair(self):
        fleet = self.fleet
        with fleet.crews.request() as crew:
            yield crew
            yield fleet.env.timeout(fleet.repair_h(self.rng, self.mttr_h))
        self._repaired()

    def _repaired(self) -> None:
        self.working += 1
        self._arm()
        self.fleet.group_changed(self, "unit repaired")


class Fleet:
    """The SimPy model of one year of a facility; `run()` returns its `FleetTrace`."""

    def __init__(self, spec: Spec, graph: nx.DiGraph, options: SimOptions, seed: Seed, hours: float = HOURS_PER_YEAR):
        self.spec, self.graph, self.options, self.hours = spec, graph, options, hours
        self.env = simpy.Environment()
        infra = [n for n in graph if is_infrastructure(graph, n)]
        deps = spec.deployments
        rng = named_streams(seed, ["spikes", "grid"] + [f"group:{n}" for n in infra] + [f"systems:{i}" for i in range(len(deps))])
        self.rng = rng
        self.crews = simpy.Resource(self.env, options.crews) if options.crews else None  # None: ample, no queue
        self.log = EventLog()
        self.failed: set[str] = set()
        self.lost: frozenset[str] = frozenset()
        self._lost_memo: dict[frozenset[str], frozenset[str]] = {}
        self.topology = Topology(graph)
        self.rack_group = [rack_group_id(d.hall, d.system) for d in deps]
        self.racks_up = [_Recorder(1.0) for _ in deps]
        self.groups = {n: _Group(self, n, graph.nodes[n], rng[f"group:{n}"]) for n in infra} if options.facility_failures else {}
        self.generators = [g for n, g in self.groups.items() if graph.nodes[n]["kind"] == "generator"]
        self.n_systems = np.array([deployment_systems(spec, d) for d in deps], dtype=float)
        self.multiplier = _Recorder(1.0)
        self.active_spikes = 0
        self.grid_events: list[GridEvent] = []
        if options.spike_rate_per_year > 0:
            self.env.process(self.spikes())
        if options.grid_events:
            self.env.process(self.announced_grid_events())
        if options.grid_event_rate_per_year > 0 and options.grid_shed_mw > 0:
            self.env.process(self.random_grid_events())

    def repair_h(self, rng: np.random.Generator, mttr_h: float) -> float:
        """A repair time with mean `mttr_h` from the configured distribution."""
        if self.options.repair == "lognormal":
            s = self.options.repair_sigma
            return float(rng.lognormal(math.log(mttr_h) - s * s / 2.0, s))
        return float(rng.exponential(mttr_h))

    def repair_draws(self, mttr_h: float):
        """`repair_h` for arrays: (rng, shape) -> repair times."""
        if self.options.repair == "lognormal":
            s = self.options.repair_sigma
            return lambda rng, shape: rng.lognormal(math.log(mttr_h) - s * s / 2.0, s, shape)
        return lambda rng, shape: rng.exponential(mttr_h, shape)

    def record(self, component: str, event: str, units_down: float, racks: float = 0.0, gpus: float = 0.0, it_mw: float = 0.0) -> None:
        self.log.add(self.env.now, component, event, units_down, racks, gpus, it_mw)

    def group_changed(self, group: _Group, event: str) -> None:
        """Log a unit event; when the group crosses its k-of-n threshold, recompute which racks are cut off."""
        was = group.node in self.failed
        if group.failed != was:
            (self.failed.add if group.failed else self.failed.discard)(group.node)
            key = frozenset(self.failed)
            if key not in self._lost_memo:
                if len(self._lost_memo) >= LOST_MEMO_LIMIT:  # bounded: at the highest rates the failed sets are countless
                    self._lost_memo.clear()
                self._lost_memo[key] = self.topology.cut_off(key)
            lost, before = self._lost_memo[key], self.lost
            self.lost = lost
            changed = (lost - before) | (before - lost)
            for d, r in enumerate(self.rack_group):
                self.racks_up[d].set(self.env.now, 0.0 if r in lost else 1.0)
            a = self.graph.nodes
            self.record(group.node, event, group.units - group.working, sum(a[r]["racks"] for r in changed),
                        sum(a[r]["gpus"] for r in changed), sum(a[r]["max_kw"] for r in changed) / 1000.0)
        else:
            self.record(group.node, event, group.units - group.working)
        if group.node == UTILITY and event == "unit failed":
            self.start_generators()

    def start_generators(self) -> None:
        """The utility is out: every working generator unit fails to start with its catalog probability."""
        for g in self.generators:
            for _ in range(int(g.rng.binomial(g.working, g.fail_to_start))):
                g.unit_down("failed to start")

    def spikes(self):
        o, rng = self.options, self.rng["spikes"]
        while True:
            yield self.env.timeout(rng.exponential(HOURS_PER_YEAR / o.spike_rate_per_year))
            self.env.process(self.spike(rng.exponential(o.spike_mean_h)))

    def spike(self, duration_h: float):
        self._spike(+1, "demand spike started")
        yield self.env.timeout(duration_h)
        self._spike(-1, "demand spike ended")

    def _spike(self, step: int, event: str) -> None:
        """Overlapping spikes add their excess demand; counting them keeps the multiplier exactly 1 between spikes."""
        self.active_spikes += step
        self.multiplier.set(self.env.now, 1.0 + self.active_spikes * (self.options.spike_magnitude - 1.0))
        self.record("demand", event, 0.0)

    def announced_grid_events(self):
        for ev in sorted(self.options.grid_events, key=lambda e: e.start_h):
            yield self.env.timeout(ev.start_h - self.env.now)
            self._grid(ev)

    def random_grid_events(self):
        o, rng = self.options, self.rng["grid"]
        while True:
            yield self.env.timeout(rng.exponential(HOURS_PER_YEAR / o.grid_event_rate_per_year))
            start = math.ceil(self.env.now)
            self._grid(GridEvent(start, o.grid_event_hours, o.grid_shed_mw))

    def _grid(self, ev: GridEvent) -> None:
        self.grid_events.append(ev)
        self.record("grid", f"shed requested for {ev.hours} h", 0.0, it_mw=ev.shed_mw)

    def run(self) -> FleetTrace:
        self.env.run(until=self.hours)
        quiet = StateChanges(np.zeros(1), np.zeros(1))
        down, logged = [quiet] * len(self.spec.deployments), []
        for i, d in enumerate(self.spec.deployments if self.options.system_failures else []):
            system = self.spec.cat.systems[d.system]
            c = system_changes(int(self.n_systems[i]), system.mtbf_h, self.repair_draws(system.mttr_h), self.hours, self.rng[f"systems:{i}"])
            down[i] = StateChanges(np.append(0.0, c.times), np.append(0.0, c.down).astype(float))
            logged.append(pd.DataFrame({
                "time_h": c.times, "component": f"systems:{self.rack_group[i].removeprefix('racks:')}#{i}",
                "event": np.where(c.steps > 0, "system failed", "system repaired"), "units_down": c.down.astype(float),
                "racks": d.racks / self.n_systems[i], "gpus": float(system.gpus_per_system), "it_mw": system.max_kw / 1000.0,
            }, columns=EVENT_COLUMNS))
        self.log.merge(logged)
        return FleetTrace(
            hours=self.hours,
            racks_up=tuple(r.freeze() for r in self.racks_up),
            systems_down=tuple(down),
            systems=self.n_systems,
            demand_multiplier=self.multiplier.freeze(),
            grid_events=tuple(self.grid_events),
            events=self.log.frame(),
        )
