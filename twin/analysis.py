"""Static analysis of a facility: loads and headroom, single points of failure, stranded capacity.

Together with `twin.reliability` (availability) and `twin.network` (fabric sizing) these are
the questions a planner asks before anything runs; `analyze` answers all of them at once.

A group is lost as a whole (fewer than `units_needed` of its units work). A single point of
failure is a group whose loss cuts some rack group off from power or from a cooling medium
it needs; `units_to_fail` tells how many of its units must fail for that (1 for an N group,
2 for N+1, ...); A/B feeds, alternative plants and generators behind a transformer are
redundant paths and never show up. Blast radius is given in racks, GPUs, IT MW and share
of installed IT power, the stand-in for share of throughput until the perf model weighs
rack groups by tokens.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import networkx as nx
import numpy as np

from twin import __version__
from twin.connectivity import Topology
from twin.flows import DesignLoad, FlowModel
from twin.graph import POWER, build_graph, is_infrastructure
from twin.network import NetworkReport, network
from twin.reliability import AvailabilityReport, availability
from twin.spec import Spec
from twin.weather import Weather

PROBE_KW = 1.0  # IT added to a hall to find how fast each node's design load grows


@dataclass(frozen=True)
class NodeLoad:
    """A power or cooling group's load against its usable capacity (heat kW for loops and plants)."""

    node: str
    kind: str
    load_kw: float  # normal operation
    design_load_kw: float  # worst of normal operation and every single group loss
    design_case: str
    usable_capacity_kw: float  # after redundancy: N+1 of k units carries k-1
    headroom_kw: float  # usable capacity minus design load
    utilization: float  # design load over usable capacity
    ok: bool


@dataclass(frozen=True)
class Spof:
    """A group whose loss cuts rack groups off from power or cooling, and what it takes down."""

    node: str
    kind: str
    units: int
    units_to_fail: int
    rack_groups: tuple[str, ...]
    racks: int
    gpus: int
    it_mw: float  # installed (max) IT power lost
    capacity_share: float  # of the facility's installed IT power


@dataclass(frozen=True)
class HallStranded:
    """What a hall could still take, and what of it is stranded, with the other halls as they are.

    Headroom is extra IT at the hall's current liquid/air mix before the first node on its path
    reaches usable capacity under its design case. Power covers the chain from the sources to
    the hall's feeds; cooling covers its loops, their plants and the power that serves only them.
    """

    hall: str
    positions: int
    racks: int
    rack_kw: float  # per added rack: the hall's installed mean, or its density limit when empty
    power_headroom_mw: float
    power_limit: str  # the node that binds
    cooling_headroom_mw: float
    cooling_limit: str
    floor_headroom_mw: float  # free positions x rack_kw
    stranded_power_mw: float  # power headroom no cooling can serve
    stranded_cooling_mw: float  # cooling headroom with no power
    stranded_space_mw: float  # power and cooling with no free position
    stranded_positions: int  # free positions with neither power nor cooling


@dataclass(frozen=True)
class TwinReport:
    """Every static analysis of one facility at one IT utilization."""

    name: str
    spec_hash: str
    version: str
    utilization: float
    loads: tuple[NodeLoad, ...]
    spofs: tuple[Spof, ...]
    stranded: tuple[HallStranded, ...]
    availability: AvailabilityReport
    network: NetworkReport

    def to_json(self) -> dict:
        """Plain JSON types; every fabric carries its power."""
        out = asdict(self)
        for fabric, report in zip(out["network"]["fabrics"], self.network.fabrics, strict=True):
            fabric["power_kw"] = report.power_kw
        return out


def _node_loads(graph: nx.DiGraph, design: dict[str, DesignLoad]) -> tuple[NodeLoad, ...]:
    out = []
    for n, d in design.items():
        usable = graph.nodes[n]["usable_capacity_kw"]
        out.append(NodeLoad(n, graph.nodes[n]["kind"], d.normal_kw, d.design_kw, d.case, usable,
                            usable - d.design_kw, d.design_kw / usable, d.design_kw <= usable * (1 + 1e-9)))
    return tuple(out)


def node_loads(spec: Spec, utilization: float = 1.0, weather: Weather | None = None, graph: nx.DiGraph | None = None) -> tuple[NodeLoad, ...]:
    """Load, design load and headroom of every power and cooling group at this IT utilization.

    `weather` sets the plants' design hour (default: the spec's climate year).
    """
    graph = graph if graph is not None else build_graph(spec)
    return _node_loads(graph, FlowModel(spec, graph, utilization, weather).design_loads())


def single_points_of_failure(graph: nx.DiGraph) -> tuple[Spof, ...]:
    """Every group whose loss alone cuts a rack group off, largest blast radius first."""
    topo = Topology(graph)
    candidates = [n for n in topo.order if is_infrastructure(graph, n)]
    eye = np.eye(len(candidates) + 1)  # column i: candidate i lost; the last column: nothing lost
    failed = {n: eye[i] for i, n in enumerate(candidates)}
    live = topo.live(failed, len(candidates) + 1)
    racks = graph.nodes
    total_kw = sum(racks[r]["max_kw"] for r in topo.racks)
    out = []
    for i, n in enumerate(candidates):
        lost = tuple(r for r in topo.racks if live[r][i] == 0.0 and live[r][-1] == 1.0)
        if lost:
            a = graph.nodes[n]
            kw = sum(racks[r]["max_kw"] for r in lost)
            out.append(Spof(n, a["kind"], a["units"], a["units"] - a["units_needed"] + 1, lost,
                            sum(racks[r]["racks"] for r in lost), sum(racks[r]["gpus"] for r in lost), kw / 1000.0, kw / total_kw))
    return tuple(sorted(out, key=lambda s: (-s.capacity_share, s.units_to_fail, s.node)))


def _limit(nodes: set[str], graph: nx.DiGraph, base: dict[str, DesignLoad], probe: dict[str, DesignLoad]) -> tuple[float, str]:
    """Extra hall IT (kW) before the first of `nodes` runs out of usable capacity, and that node."""
    best, which = math.inf, "-"
    for n in nodes:
        growth = (probe[n].design_kw - base[n].design_kw) / PROBE_KW
        if growth > 1e-9:
            room = max(graph.nodes[n]["usable_capacity_kw"] - base[n].design_kw, 0.0) / growth
            if room < best:
                best, which = room, n
    return best, which


def _stranded(spec: Spec, model: FlowModel, base: dict[str, DesignLoad]) -> tuple[HallStranded, ...]:
    graph = model.graph
    power = nx.subgraph_view(graph, filter_edge=lambda u, v: graph.edges[u, v]["layer"] == POWER)

    def upstream(starts) -> set[str]:
        return set(starts).union(*(nx.ancestors(power, s) for s in starts))

    out = []
    for hall, h in zip(spec.halls, model.halls, strict=True):
        probe = model.design_loads({hall.id: PROBE_KW})
        power_path = upstream(h.feeds)
        loops = set(h.liquid_loops) | set(h.air_loops)
        cooling_units = loops.union(*(model.cooling_in[lp] for lp in loops))
        cooling_path = upstream(cooling_units) - power_path
        p_kw, p_node = _limit(power_path, graph, base, probe)
        c_kw, c_node = _limit(cooling_path, graph, base, probe)
        racks = sum(graph.nodes[r]["racks"] for r in h.racks)
        installed = sum(graph.nodes[r]["max_kw"] for r in h.racks)
        rack_kw = installed / racks if racks else hall.max_rack_kw
        free = hall.positions - racks
        f_kw = free * rack_kw
        servable = min(p_kw, c_kw)
        out.append(HallStranded(
            hall=hall.id, positions=hall.positions, racks=racks, rack_kw=rack_kw,
            power_headroom_mw=p_kw / 1000.0, power_limit=p_node, cooling_headroom_mw=c_kw / 1000.0, cooling_limit=c_node,
            floor_headroom_mw=f_kw / 1000.0,
            stranded_power_mw=max(0.0, min(p_kw, f_kw) - c_kw) / 1000.0,
            stranded_cooling_mw=max(0.0, min(c_kw, f_kw) - p_kw) / 1000.0,
            stranded_space_mw=max(0.0, servable - f_kw) / 1000.0,
            stranded_positions=0 if servable >= f_kw else free - math.floor(servable / rack_kw + 1e-9),
        ))
    return tuple(out)


def stranded_capacity(spec: Spec, utilization: float = 1.0, weather: Weather | None = None, graph: nx.DiGraph | None = None) -> tuple[HallStranded, ...]:
    """Per hall: power and cooling headroom, and what of it no other resource can use."""
    graph = graph if graph is not None else build_graph(spec)
    model = FlowModel(spec, graph, utilization, weather)
    return _stranded(spec, model, model.design_loads())


def analyze(spec: Spec, utilization: float = 1.0, weather: Weather | None = None) -> TwinReport:
    """Graph, loads, SPOFs, stranded capacity, availability and network of a facility."""
    graph = build_graph(spec)
    model = FlowModel(spec, graph, utilization, weather)
    base = model.design_loads()
    return TwinReport(
        name=spec.name,
        spec_hash=graph.graph["spec_hash"],
        version=__version__,
        utilization=utilization,
        loads=_node_loads(graph, base),
        spofs=single_points_of_failure(graph),
        stranded=_stranded(spec, model, base),
        availability=availability(spec, graph),
        network=network(spec),
    )
