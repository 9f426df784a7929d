"""The twin's graph: one node per group of identical units, typed edges for power, cooling and network.

Node ids are typed: `utility`, `gen:ID`, `tx:ID`, `ups:ID`, `dist:ID`, `plant:ID`, `loop:ID`,
`racks:HALL/SYSTEM` (one rack group per system in a hall) and `switch:FABRIC/TIER`.
Edges point from supplier to consumer and carry `layer` (power, cooling or network); the
cooling edges into a rack group also carry `medium` (liquid from CDU loops, air from CRAH
loops), since racks need each medium their heat has. A consumer with several suppliers of
one layer (or medium) needs any one of them: `fed_by`, `powered_by`, `plants`, A/B hall feeds.
A plant or loop without `powered_by` is fed by the utility, as in the energy model.

Attributes carry their unit in their name and are scalars, so the graph exports to GraphML.
"""

from __future__ import annotations

import networkx as nx

from twin import __version__
from twin.catalog import Distribution, Transformer, UpsModule
from twin.deployments import deployment_systems
from twin.equipment import efficiency, unit_capacity_kw, usable_capacity_kw
from twin.network import network
from twin.spec import Spec

UTILITY = "utility"
POWER, COOLING, NETWORK = "power", "cooling", "network"
LIQUID, AIR = "liquid", "air"
PREFIX = {"generators": "gen", "transformers": "tx", "ups": "ups", "distribution": "dist", "plants": "plant", "loops": "loop"}
INFRASTRUCTURE = ("utility", "generator", "transformer", "ups", "pdu", "busway", "chiller", "dry_cooler", "cooling_tower", "cdu", "crah")


def _groups(spec: Spec):
    """(section, group) for every power and cooling group of the spec."""
    for section in ("generators", "transformers", "ups", "distribution"):
        for g in getattr(spec.power, section):
            yield section, g
    for section in ("plants", "loops"):
        for g in getattr(spec.cooling, section):
            yield section, g


def node_ids(spec: Spec) -> dict[str, str]:
    """Spec id -> graph node id, for the utility and every power and cooling group."""
    return {UTILITY: UTILITY} | {g.id: f"{PREFIX[section]}:{g.id}" for section, g in _groups(spec)}


def rack_group_id(hall: str, system: str) -> str:
    return f"racks:{hall}/{system}"


def is_infrastructure(graph: nx.DiGraph, node: str) -> bool:
    """True for the power and cooling groups whose loss can cut racks off."""
    return graph.nodes[node]["kind"] in INFRASTRUCTURE


def build_graph(spec: Spec) -> nx.DiGraph:
    """The facility as a directed graph (pure: the same spec gives the same graph)."""
    g = nx.DiGraph(name=spec.name, spec_hash=spec.spec_hash(), version=__version__)
    ids = node_ids(spec)
    site = spec.site
    cap = site.utility_mw * 1000.0
    g.add_node(UTILITY, kind="utility", name=UTILITY, units=1, units_needed=1, redundancy="N",
               unit_capacity_kw=cap, usable_capacity_kw=cap, mtbf_h=site.utility_mtbf_h, mttr_h=site.utility_mttr_h)
    for _, grp in _groups(spec):
        g.add_node(ids[grp.id], **_group_attributes(spec, grp))
    for section, grp in _groups(spec):
        for up in getattr(grp, "fed_by", []):
            g.add_edge(ids[up], ids[grp.id], layer=POWER)
        if section in ("plants", "loops"):
            for up in grp.powered_by or [UTILITY]:
                g.add_edge(ids[up], ids[grp.id], layer=POWER)
        for plant in getattr(grp, "plants", []):
            g.add_edge(ids[plant], ids[grp.id], layer=COOLING)
    _add_racks(g, spec, ids)
    _add_network(g, spec)
    return g


def _group_attributes(spec: Spec, grp) -> dict:
    eq = spec.cat.equipment[grp.equipment]
    usable = usable_capacity_kw(eq, grp.units, grp.redundancy)
    attrs = dict(
        kind=eq.kind, name=grp.id, equipment=grp.equipment, units=grp.units, units_needed=grp.units_needed,
        redundancy=grp.redundancy, unit_capacity_kw=unit_capacity_kw(eq), usable_capacity_kw=usable,
        mtbf_h=eq.mtbf_h, mttr_h=eq.mttr_h,
    )
    if isinstance(eq, (Transformer, UpsModule, Distribution)):
        attrs["rated_efficiency"] = efficiency(eq, usable, grp.units)
    if eq.kind == "generator":
        attrs["fail_to_start"] = eq.fail_to_start
    if hasattr(grp, "supply_c"):
        attrs["supply_c"] = grp.supply_c
    return attrs


def _add_racks(g: nx.DiGraph, spec: Spec, ids: dict[str, str]) -> None:
    """One node per (hall, system); deployments of the same system in a hall add up."""
    for d in spec.deployments:
        node = rack_group_id(d.hall, d.system)
        system = spec.cat.systems[d.system]
        n = deployment_systems(spec, d)
        if node not in g:
            g.add_node(node, kind="racks", name=f"{d.hall}/{d.system}", hall=d.hall, system=d.system, racks=0, systems=0, gpus=0,
                       max_kw=0.0, idle_kw=0.0, liquid_kw=0.0, air_kw=0.0, mtbf_h=system.mtbf_h, mttr_h=system.mttr_h)
        a = g.nodes[node]
        a["racks"] += d.racks
        a["systems"] += n
        a["gpus"] += n * system.gpus_per_system
        a["max_kw"] += n * system.max_kw
        a["idle_kw"] += n * system.idle_kw
        a["liquid_kw"] += n * system.max_kw * system.liquid_share
        a["air_kw"] += n * system.max_kw * (1.0 - system.liquid_share)
    for hall in spec.halls:
        for node in (n for n in rack_groups(g) if g.nodes[n]["hall"] == hall.id):
            for feed in hall.power_feeds:
                g.add_edge(ids[feed], node, layer=POWER)
            for loop in hall.cooling_loops:
                medium = LIQUID if g.nodes[ids[loop]]["kind"] == "cdu" else AIR
                if g.nodes[node][f"{medium}_kw"] > 0:
                    g.add_edge(ids[loop], node, layer=COOLING, medium=medium)


def _add_network(g: nx.DiGraph, spec: Spec) -> None:
    """One node per fabric tier (its switches are the units); links run core -> spine -> leaf -> racks."""
    for report in network(spec).fabrics:
        fabric = next(f for f in spec.network.fabrics if f.id == report.fabric)
        switch = spec.cat.equipment[fabric.switch]
        tiers = [f"switch:{fabric.id}/{t.tier}" for t in report.tiers]
        for node, tier in zip(tiers, report.tiers, strict=True):
            g.add_node(node, kind="switch", name=f"{fabric.id}/{tier.tier}", tier=tier.tier, equipment=fabric.switch,
                       units=tier.switches, ports=switch.ports, port_gbps=switch.port_gbps, ports_used=tier.ports_used,
                       unit_power_kw=switch.power_kw, mtbf_h=switch.mtbf_h, mttr_h=switch.mttr_h)
        for upper, lower in zip(tiers[1:], tiers[:-1], strict=True):
            g.add_edge(upper, lower, layer=NETWORK)
        halls = {h.id for h in spec.halls if h.fabric == fabric.id}
        for node in rack_groups(g):
            if g.nodes[node]["hall"] in halls:
                g.add_edge(tiers[0], node, layer=NETWORK)


def rack_groups(graph: nx.DiGraph) -> list[str]:
    """Rack-group nodes in insertion order."""
    return [n for n, kind in graph.nodes(data="kind") if kind == "racks"]


def to_node_link_json(graph: nx.DiGraph) -> dict:
    """The graph as node-link JSON (d3 / networkx `node_link_data`, edges under `links`)."""
    return nx.node_link_data(graph, edges="links")


def to_graphml(graph: nx.DiGraph) -> str:
    """The graph as GraphML text."""
    return "\n".join(nx.generate_graphml(graph)) + "\n"
