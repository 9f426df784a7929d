"""Power and heat at every node, in normal operation and after each single group loss, in one pass.

The rules follow the hourly energy model (`twin.energy`) at one operating point:

- A rack group at IT utilization `u` draws `idle + (max - idle)·u`, or nothing when it has
  lost power or cooling. Each fabric's power sits in the halls it connects
  (`twin.network.hall_network_shares`) and is counted as air heat.
- Heat: the liquid share goes to the hall's working CDU loops, the rest to its working CRAH
  loops (to the other kind when a hall has only one), shared by installed capacity; a loop
  passes its heat plus its pump or fan power (`twin.cooling.loop_power_kw`) to its working
  plants, shared likewise.
- Electric power: a consumer draws equally from its working non-generator suppliers or, when
  none works, from its working generators (they stand by while the utility is up). Each
  conversion stage adds its losses (`twin.equipment.input_kw`); the misc load is drawn from
  the utility.
- Plant power is kept simple: electric kW per kW of heat at the worst hour of the weather
  year (`twin.cooling.plant_hours`), a design-hour figure; the hour-by-hour COP is
  `twin.energy`'s business.

Contingencies: normal operation, the loss of each power or cooling group, and the same with
the utility lost (the generators' normal duty). A node's design load is its largest load
over all of them: 2N sides carry the whole hall when the other side is lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np

from twin.connectivity import Topology
from twin.cooling import loop_power_kw, plant_hours
from twin.equipment import input_kw, unit_capacity_kw
from twin.graph import POWER, UTILITY, is_infrastructure, node_ids
from twin.network import hall_network_shares, network_power_kw
from twin.spec import Spec
from twin.spec_files import spec_weather
from twin.weather import Weather

CONVERSION = ("transformer", "ups", "pdu", "busway")


@dataclass(frozen=True)
class DesignLoad:
    """One node's load in normal operation and at its worst contingency (heat kW for loops and plants)."""

    normal_kw: float
    design_kw: float
    case: str


def contingencies(graph: nx.DiGraph) -> list[tuple[str, tuple[str, ...]]]:
    """(label, failed nodes): normal, each single group loss, and both again with the utility lost."""
    others = [n for n in graph if is_infrastructure(graph, n) and n != UTILITY]
    up = [("normal", ())] + [(f"loss of {n}", (n,)) for n in others]
    return up + [("utility lost", (UTILITY,))] + [(f"utility lost, loss of {n}", (UTILITY, n)) for n in others]


def plant_kw_per_kw_heat(eq, units: int, supply_c: float, weather: Weather) -> float:
    """Electric power per kW of heat rejected at the worst hour of `weather` (plants share load linearly)."""
    heat = unit_capacity_kw(eq) * units
    return float(plant_hours(eq, units, supply_c, heat, weather).power_kw.max() / heat)


@dataclass(frozen=True)
class _Hall:
    id: str
    feeds: list[str]
    liquid_loops: list[str]
    air_loops: list[str]
    racks: list[str]
    liquid_share: float  # of IT added to the hall (its installed mix; an empty hall: its loop capacities)
    network_kw: float


class FlowModel:
    """A spec and its graph resolved once; `loads` then evaluates any set of scenarios at once."""

    def __init__(self, spec: Spec, graph: nx.DiGraph, utilization: float = 1.0, weather: Weather | None = None):
        if weather is None:
            weather = spec_weather(spec)
        self.graph, self.topo = graph, Topology(graph)
        nodes = graph.nodes
        self.eq = {n: spec.cat.equipment[a["equipment"]] for n, a in nodes(data=True) if is_infrastructure(graph, n) and n != UTILITY}
        self.generators = {n for n in self.eq if nodes[n]["kind"] == "generator"}
        self.loops = [n for n in self.topo.order if nodes[n]["kind"] in ("cdu", "crah")]
        self.plants = [n for n in self.topo.order if nodes[n]["kind"] in ("chiller", "dry_cooler", "cooling_tower")]
        self.conversion = [n for n in reversed(self.topo.order) if nodes[n]["kind"] in CONVERSION]  # consumers first
        self.capacity = {n: unit_capacity_kw(eq) * nodes[n]["units"] for n, eq in self.eq.items() if n not in self.generators}
        self.plant_ratio = {p: plant_kw_per_kw_heat(self.eq[p], nodes[p]["units"], nodes[p]["supply_c"], weather) for p in self.plants}
        self.power_in = {n: [u for u, _, d in graph.in_edges(n, data=True) if d["layer"] == POWER] for n in graph}
        self.cooling_in = {n: [u for u in graph.predecessors(n) if u in self.plants] for n in self.loops}
        self.it_kw = {r: nodes[r]["idle_kw"] + (nodes[r]["max_kw"] - nodes[r]["idle_kw"]) * utilization for r in self.topo.racks}
        self.liquid_frac = {r: nodes[r]["liquid_kw"] / nodes[r]["max_kw"] for r in self.topo.racks}
        self.misc_frac = spec.site.misc_load_frac
        self.halls = self._halls(spec)

    def _halls(self, spec: Spec) -> list[_Hall]:
        nodes, ids = self.graph.nodes, node_ids(spec)
        installed = {h.id: sum(nodes[r]["max_kw"] for r in self.topo.racks if nodes[r]["hall"] == h.id) for h in spec.halls}
        network = network_power_kw(spec)
        shares = hall_network_shares(spec) or {}
        out = []
        for h in spec.halls:
            loops = [ids[lp] for lp in h.cooling_loops]
            cdus = [lp for lp in loops if nodes[lp]["kind"] == "cdu"]
            crahs = [lp for lp in loops if lp not in cdus]
            racks = [r for r in self.topo.racks if nodes[r]["hall"] == h.id]
            if racks:
                liquid = sum(nodes[r]["liquid_kw"] for r in racks) / installed[h.id]
            else:
                liquid = sum(self.capacity[lp] for lp in cdus) / sum(self.capacity[lp] for lp in loops)
            out.append(_Hall(h.id, [ids[f] for f in h.power_feeds], cdus or crahs, crahs or cdus, racks, liquid, network * shares.get(h.id, 0.0)))
        return out

    def _draw(self, load: dict, suppliers: list[str], kw, live: dict) -> None:
        """Add `kw` to the working suppliers: equally over the non-generators, else over the generators."""
        main = [s for s in suppliers if s not in self.generators]
        gens = [s for s in suppliers if s in self.generators]
        n_main = sum((live[s] for s in main), np.zeros_like(kw))
        n_gen = sum((live[s] for s in gens), np.zeros_like(kw))
        for s in main:
            load[s] += kw * live[s] / np.maximum(n_main, 1.0)
        for s in gens:
            load[s] += kw * live[s] * (n_main == 0) / np.maximum(n_gen, 1.0)

    def _spread(self, load: dict, units: list[str], heat, live: dict) -> None:
        """Share `heat` over the working `units` by installed capacity."""
        total = sum((self.capacity[u] * live[u] for u in units), np.zeros_like(heat))
        for u in units:
            load[u] += heat * self.capacity[u] * live[u] / np.where(total > 0, total, 1.0)

    def loads(self, failed: Mapping[str, np.ndarray], scenarios: int, extra_it_kw: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """Node -> (scenarios,) load: kW delivered by power nodes (the utility's with the misc load), heat kW of loops and plants.

        `extra_it_kw` adds IT to a hall (at its liquid share), working where its power and cooling do.
        """
        live = self.topo.live(failed, scenarios)
        zero = np.zeros(scenarios)
        load: dict[str, np.ndarray] = defaultdict(lambda: zero.copy())
        it_total = zero.copy()
        for h in self.halls:
            powered = 1.0 - np.prod([1.0 - live[f] for f in h.feeds], axis=0)
            it = sum((self.it_kw[r] * live[r] for r in h.racks), zero.copy())
            liquid = sum((self.it_kw[r] * self.liquid_frac[r] * live[r] for r in h.racks), zero.copy())
            extra = (extra_it_kw or {}).get(h.id, 0.0)
            if extra:
                up = powered * self._cooled(h.liquid_loops, h.liquid_share > 0, live) * self._cooled(h.air_loops, h.liquid_share < 1, live)
                it, liquid = it + extra * up, liquid + extra * h.liquid_share * up
            network = h.network_kw * powered
            self._draw(load, h.feeds, it + network, live)
            self._spread(load, h.liquid_loops, liquid, live)
            self._spread(load, h.air_loops, it - liquid + network, live)
            it_total += it
        for lp in self.loops:
            electric = loop_power_kw(self.eq[lp], self.graph.nodes[lp]["units"], load[lp]) * live[lp]
            self._draw(load, self.power_in[lp], electric, live)
            self._spread(load, self.cooling_in[lp], load[lp] + electric, live)
        for p in self.plants:
            self._draw(load, self.power_in[p], self.plant_ratio[p] * load[p], live)
        for g in self.conversion:
            drawn = input_kw(self.eq[g], load[g], self.graph.nodes[g]["units"]) * live[g]
            self._draw(load, self.power_in[g], drawn, live)
        load[UTILITY] += self.misc_frac * it_total * live[UTILITY]
        return dict(load)

    @staticmethod
    def _cooled(loops: list[str], needed: bool, live: dict):
        return 1.0 - np.prod([1.0 - live[lp] for lp in loops], axis=0) if needed else 1.0

    def design_loads(self, extra_it_kw: Mapping[str, float] | None = None) -> dict[str, DesignLoad]:
        """Every infrastructure node's normal and design load over `contingencies`."""
        cases = contingencies(self.graph)
        failed: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(cases)))
        for i, (_, nodes) in enumerate(cases):
            for n in nodes:
                failed[n][i] = 1.0
        load = self.loads(dict(failed), len(cases), extra_it_kw)
        out = {}
        for n in self.topo.order:
            if is_infrastructure(self.graph, n):
                kw = load.get(n, np.zeros(len(cases)))
                worst = int(np.argmax(kw))
                out[n] = DesignLoad(float(kw[0]), float(kw[worst]), cases[worst][0])
        return out
