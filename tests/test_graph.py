"""The twin's graph: typed nodes, supplier-to-consumer edges per layer, attributes, exports."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from tests.conftest import EXAMPLES, RETROFIT
from tests.twin_support import TWO_N, facility
from twin.graph import build_graph, node_ids, to_graphml, to_node_link_json
from twin.loader import load_spec


@pytest.fixture(scope="module")
def two_n() -> nx.DiGraph:
    return build_graph(TWO_N)


def _layer(g: nx.DiGraph, layer: str) -> set[tuple[str, str]]:
    return {(u, v) for u, v, d in g.edges(data=True) if d["layer"] == layer}


def test_typed_node_per_group_and_rack_group(two_n):
    assert set(two_n) == {
        "utility", "gen:gen-a", "gen:gen-b", "tx:tx-a", "tx:tx-b", "ups:ups-a", "ups:ups-b", "dist:bus-a", "dist:bus-b",
        "plant:chw-1", "plant:chw-2", "loop:cdu-1", "loop:cdu-2", "loop:crah-1", "loop:crah-2", "racks:hall/sys-t",
    }
    assert node_ids(TWO_N)["bus-a"] == "dist:bus-a"


def test_power_edges_run_from_supplier_to_consumer(two_n):
    power = _layer(two_n, "power")
    assert {("utility", "tx:tx-a"), ("gen:gen-a", "tx:tx-a"), ("tx:tx-a", "ups:ups-a"), ("ups:ups-a", "dist:bus-a")} <= power
    assert {("dist:bus-a", "racks:hall/sys-t"), ("dist:bus-b", "racks:hall/sys-t")} <= power  # A/B hall feeds
    assert {("ups:ups-a", "loop:cdu-1"), ("tx:tx-b", "plant:chw-2")} <= power  # cooling gear's powered_by
    assert not any(v.startswith("gen:") for _, v in power)  # generators are sources


def test_cooling_edges_carry_the_medium(two_n):
    assert {("plant:chw-1", "loop:cdu-1"), ("plant:chw-2", "loop:crah-2")} <= _layer(two_n, "cooling")
    media = {u: d["medium"] for u, _, d in two_n.in_edges("racks:hall/sys-t", data=True) if d["layer"] == "cooling"}
    assert media == {"loop:cdu-1": "liquid", "loop:cdu-2": "liquid", "loop:crah-1": "air", "loop:crah-2": "air"}


def test_group_attributes_carry_redundancy_and_reliability(two_n):
    ups = two_n.nodes["ups:ups-a"]
    # 3 modules of 150 kW at N+1: two carry the load, the third is spare
    assert (ups["units"], ups["units_needed"], ups["redundancy"], ups["unit_capacity_kw"], ups["usable_capacity_kw"]) == (3, 2, "N+1", 150.0, 300.0)
    assert ups["rated_efficiency"] == pytest.approx(1 / 1.03)  # loss_b = 3 % of the load
    assert (ups["mtbf_h"], ups["mttr_h"]) == (300.0, 30.0)
    assert two_n.nodes["tx:tx-a"]["unit_capacity_kw"] == pytest.approx(1000 * 0.99)  # kVA at the facility power factor
    assert two_n.nodes["gen:gen-a"]["fail_to_start"] == 0.1
    assert two_n.nodes["utility"]["usable_capacity_kw"] == 10_000.0
    assert two_n.nodes["plant:chw-1"]["supply_c"] == 20.0


def test_rack_group_sums_its_deployments():
    spec = facility(
        """
power:
  transformers: [{id: tx, equipment: tx-t, fed_by: [utility]}]
  distribution: [{id: bus, equipment: bus-t, units: 3, fed_by: [tx]}]
cooling:
  plants: [{id: chw, equipment: chiller-t, supply_c: 20}]
  loops: [{id: cdu, equipment: cdu-t, plants: [chw]}, {id: crah, equipment: crah-t, plants: [chw]}]
halls:
  - {id: hall, positions: 9, max_rack_kw: 100, power_feeds: [bus], cooling_loops: [cdu, crah]}
deployments:
  - {hall: hall, system: sys-t, racks: 2}
  - {hall: hall, system: sys-t, racks: 1}
  - {hall: hall, system: sys-air, racks: 3, systems_per_rack: 1}
"""
    )
    g = build_graph(spec)
    liquid = g.nodes["racks:hall/sys-t"]
    assert (liquid["racks"], liquid["gpus"], liquid["max_kw"], liquid["idle_kw"]) == (3, 24, 300.0, 60.0)
    assert (liquid["liquid_kw"], liquid["air_kw"]) == pytest.approx((240.0, 60.0))
    air = g.nodes["racks:hall/sys-air"]  # one 50 kW system per rack instead of the catalog's two
    assert (air["racks"], air["systems"], air["gpus"], air["max_kw"], air["liquid_kw"], air["air_kw"]) == (3, 3, 24, 150.0, 0.0, 150.0)
    # an air-cooled group takes no edge from the CDU loop
    assert not g.has_edge("loop:cdu", "racks:hall/sys-air")
    assert g.has_edge("loop:crah", "racks:hall/sys-air")
    # plants and loops without powered_by draw from the utility, as in the energy model
    assert g.has_edge("utility", "plant:chw")
    assert g.has_edge("utility", "loop:cdu")


def test_network_tiers_link_down_to_the_racks():
    g = build_graph(load_spec(RETROFIT))  # one 3-tier fabric serves both halls
    assert g.has_edge("switch:ndr/core", "switch:ndr/spine")
    assert g.has_edge("switch:ndr/spine", "switch:ndr/leaf")
    racks = [n for n, k in g.nodes(data="kind") if k == "racks"]
    assert {v for _, v in g.out_edges("switch:ndr/leaf")} == set(racks)
    assert all(d["layer"] == "network" for *_, d in g.in_edges("switch:ndr/leaf", data=True))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_export_to_graphml_and_node_link_json(path):
    g = build_graph(load_spec(path))
    assert nx.is_directed_acyclic_graph(g)
    back = nx.parse_graphml(to_graphml(g))
    assert set(back) == set(g)
    assert set(back.edges) == set(g.edges)
    assert back.nodes["utility"]["usable_capacity_kw"] == g.nodes["utility"]["usable_capacity_kw"]
    data = json.loads(json.dumps(to_node_link_json(g)))
    assert nx.utils.graphs_equal(nx.node_link_graph(data, edges="links"), g)


def test_build_is_pure(two_n):
    assert nx.utils.graphs_equal(build_graph(TWO_N), two_n)
    assert two_n.graph["spec_hash"] == TWO_N.spec_hash()
