"""Static analysis: loads and headroom, SPOFs, stranded capacity, availability and network.

Expected figures are worked out by hand from the equipment of `tests/twin_support.py`.
"""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import PILOT, REFERENCE, RETROFIT
from tests.twin_support import (
    FAIL_TO_START,
    HOT_HOUR,
    PLANT_KW_PER_KW,
    RELIABILITY,
    SIDE_A,
    SIDE_B,
    TWO_HALLS,
    TWO_N,
    facility,
    single_path,
)
from twin.analysis import node_loads, single_points_of_failure, stranded_capacity
from twin.connectivity import Topology, lost_rack_groups
from twin.graph import build_graph
from twin.loader import load_spec
from twin.network import network
from twin.reliability import availability, node_availability


def _loads(spec, utilization: float = 1.0) -> dict:
    return {n.node: n for n in node_loads(spec, utilization, HOT_HOUR)}


def _a(equipment: str) -> float:
    mtbf, mttr = RELIABILITY[equipment]
    return mtbf / (mtbf + mttr)


def _at_least(p: float, k: int, n: int) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


# --- loads and headroom --------------------------------------------------------------------


def test_2n_sides_each_carry_the_whole_hall():
    loads = _loads(TWO_N)
    it = 2 * 100.0  # two racks at full load
    bus = loads["dist:bus-a"]
    assert (bus.load_kw, bus.design_load_kw) == pytest.approx((it / 2, it))  # split A/B; all of it when B is lost
    assert bus.design_case.endswith("-b")
    assert loads["ups:ups-a"].design_load_kw == pytest.approx(it)
    plants = it * PLANT_KW_PER_KW  # the chillers run on tx-a or tx-b
    assert loads["tx:tx-a"].load_kw == pytest.approx(it / 2 * 1.03 + plants / 2)  # UPS input = output + 3 %
    assert loads["tx:tx-a"].design_load_kw == pytest.approx(it * 1.03 + plants)
    gen = loads["gen:gen-a"]  # stands by while the utility is up
    assert (gen.load_kw, gen.design_load_kw) == pytest.approx((0.0, it * 1.03 + plants))
    assert gen.design_case.startswith("utility lost")
    assert loads["utility"].load_kw == pytest.approx(it * 1.03 + plants)
    assert loads["loop:cdu-1"].design_load_kw == pytest.approx(0.8 * it)  # the liquid share, when cdu-2 is lost
    assert loads["plant:chw-1"].design_load_kw == pytest.approx(it)
    assert all(n.ok for n in loads.values())


def test_rack_power_follows_utilization():
    per_rack = 20 + (100 - 20) * 0.5
    assert _loads(TWO_N, 0.5)["dist:bus-a"].load_kw == pytest.approx(2 * per_rack / 2)


def test_n_plus_1_ups_without_headroom_is_flagged():
    ok = _loads(single_path(3))
    assert all(n.ok for n in ok.values())
    assert ok["ups:ups-1"].headroom_kw == pytest.approx(0.0)  # 2 of 3 modules carry exactly 300 kW
    over = _loads(single_path(4))
    ups = over["ups:ups-1"]
    assert (ups.usable_capacity_kw, ups.design_load_kw) == pytest.approx((2 * 150.0, 400.0))
    assert (ups.headroom_kw, ups.utilization, ups.ok) == (pytest.approx(-100.0), pytest.approx(4 / 3), False)
    assert [n.node for n in over.values() if not n.ok] == ["ups:ups-1"]


# --- single points of failure --------------------------------------------------------------


def test_2n_chain_has_no_spof_and_survives_either_side():
    g = build_graph(TWO_N)
    assert single_points_of_failure(g) == ()
    assert lost_rack_groups(g, SIDE_A) == frozenset()
    assert lost_rack_groups(g, SIDE_B) == frozenset()
    assert lost_rack_groups(g, ["dist:bus-a", "dist:bus-b"]) == {"racks:hall/sys-t"}


def test_only_cdu_loop_of_a_hall_is_a_spof_of_exactly_that_hall():
    spofs = {s.node: s for s in single_points_of_failure(build_graph(TWO_HALLS))}
    assert set(spofs) == {"loop:cdu-1", "loop:cdu-2"}
    cdu = spofs["loop:cdu-1"]
    assert cdu.rack_groups == ("racks:hall-1/sys-t",)
    assert (cdu.racks, cdu.gpus, cdu.units_to_fail) == (3, 3 * 8, 1)
    assert (cdu.it_mw, cdu.capacity_share) == pytest.approx((0.3, 300 / 400))


def test_generator_behind_the_transformer_is_a_redundant_path():
    g = build_graph(single_path(1))
    spofs = {s.node: s.units_to_fail for s in single_points_of_failure(g)}
    # UPS 3 at N+1, busway 3 at N, chillers 3 at N+1, CRAHs 5 at N+1: units that must fail to lose each
    assert spofs == {"ups:ups-1": 2, "dist:bus-1": 1, "plant:chw": 2, "loop:crah": 2}
    assert lost_rack_groups(g, ["tx:tx-1"]) == frozenset()
    assert lost_rack_groups(g, ["tx:tx-1", "gen:gen-1"]) == {"racks:hall/sys-air"}


def test_pilot_transformer_is_backed_by_its_generator():
    spofs = {s.node for s in single_points_of_failure(build_graph(load_spec(PILOT)))}
    # one power path and one cooling path; the generator feeds the UPS, chillers and CRAHs too
    assert spofs == {"ups:ups-1", "dist:pdu-1", "plant:chillers", "loop:crahs"}


def test_reference_power_chain_is_fault_tolerant():
    spec = load_spec(REFERENCE)
    g = build_graph(spec)
    spofs = single_points_of_failure(g)
    power = nx.subgraph_view(g, filter_edge=lambda u, v: g.edges[u, v]["layer"] == "power")
    racks = [n for n, k in g.nodes(data="kind") if k == "racks"]
    rack_power = set().union(*(nx.ancestors(power, r) for r in racks))
    assert not rack_power & {s.node for s in spofs}  # A/B sides: nothing on a rack's power path
    assert min(s.units_to_fail for s in spofs) >= 2  # no single unit takes racks down
    # The warm-water plant is every CDU loop's only plant, the chilled-water plant every CRAH
    # loop's, and tx-mech the only power of both: those take the whole facility. Each hall's
    # CDU and CRAH loops are its only ones: they take that hall's racks.
    total = sum(d.racks for d in spec.deployments)
    whole = {"plant:warm-water", "plant:chilled-water", "tx:tx-mech"}
    assert {s.node for s in spofs if s.racks == total} == whole
    system = spec.cat.systems["gb300-nvl72"]
    for s in spofs:
        if s.node not in whole:
            hall = spec.hall(s.node.split(":")[1].split("-")[-1].replace("h", "hall-"))
            hall_racks = sum(d.racks for d in spec.deployments if d.hall == hall.id)
            assert (s.racks, s.gpus, s.it_mw, s.capacity_share) == (
                hall_racks, hall_racks * system.rack_gpus, pytest.approx(hall_racks * system.rack_max_kw / 1000), pytest.approx(hall_racks / total)
            )


def test_retrofit_rebuilt_hall_depends_on_the_legacy_transformer():
    spofs = {s.node: s for s in single_points_of_failure(build_graph(load_spec(RETROFIT)))}
    # the rebuilt hall's CRAHs reject to the chilled-water plant, powered only by tx-legacy
    assert spofs["tx:tx-legacy"].racks == spofs["plant:chilled-water"].racks == 160 + 48 + 20
    assert "tx:tx-a" not in spofs
    assert "ups:ups-a" not in spofs


# --- stranded capacity ---------------------------------------------------------------------


def test_stranded_capacity_of_a_2n_hall():
    (hall,) = stranded_capacity(TWO_N, weather=HOT_HOUR)
    # power: the UPS (2 of 3 x 150 kW) and the busway (2 x 150 kW) carry 300 kW, 200 kW used
    assert hall.power_headroom_mw == pytest.approx(0.1)
    assert hall.power_limit in {"ups:ups-a", "ups:ups-b", "dist:bus-a", "dist:bus-b"}
    # cooling: one CDU loop (200 kW) takes the liquid 80 % of 200 kW when the other is lost: 40 / 0.8
    assert hall.cooling_headroom_mw == pytest.approx(0.05)
    assert hall.cooling_limit in {"loop:cdu-1", "loop:cdu-2"}
    assert hall.floor_headroom_mw == pytest.approx(2 * 0.1)  # two free positions of 100 kW
    assert (hall.stranded_power_mw, hall.stranded_cooling_mw, hall.stranded_space_mw) == pytest.approx((0.05, 0.0, 0.0))
    assert hall.stranded_positions == 2  # 50 kW is not a rack


# --- availability --------------------------------------------------------------------------


def test_availability_matches_series_parallel_formula():
    u, tx = _a("utility"), _a("tx-t")
    gens = _at_least(_a("gen-t") * (1 - FAIL_TO_START), 2, 3)
    source = 1 - (1 - u * tx) * (1 - gens)  # one event shared by the UPS, the chillers and the CRAHs
    ups, bus = _at_least(_a("ups-t"), 2, 3), _a("bus-t") ** 3
    chw, crah = _at_least(_a("chiller-t"), 2, 3), _at_least(_a("crah-t"), 4, 5)
    expected = source * ups * bus * chw * crah
    report = availability(single_path(1))
    assert report.groups[0].availability == pytest.approx(expected, rel=1e-12)
    assert report.facility == pytest.approx(expected, rel=1e-12)
    naive = (ups * bus * source) * (chw * source) * (crah * source)
    assert abs(naive - expected) > 1e-4  # why shared ancestors must be conditioned on


def test_availability_of_2n_sides_sharing_the_utility():
    spec = facility("""
power:
  generators:
    - {id: gen-a, equipment: gen-t, units: 2, redundancy: N+1}
    - {id: gen-b, equipment: gen-t, units: 2, redundancy: N+1}
    - {id: gen-c, equipment: gen-t}
  transformers:
    - {id: tx-a, equipment: tx-t, fed_by: [utility, gen-a]}
    - {id: tx-b, equipment: tx-t, fed_by: [utility, gen-b]}
  ups:
    - {id: ups-a, equipment: ups-t, units: 3, redundancy: N+1, fed_by: [tx-a]}
    - {id: ups-b, equipment: ups-t, units: 3, redundancy: N+1, fed_by: [tx-b]}
  distribution:
    - {id: bus-a, equipment: bus-t, units: 2, fed_by: [ups-a]}
    - {id: bus-b, equipment: bus-t, units: 2, fed_by: [ups-b]}
cooling:
  plants: [{id: chw, equipment: chiller-t, units: 2, redundancy: N+1, supply_c: 20, powered_by: [gen-c]}]
  loops: [{id: crah, equipment: crah-t, units: 3, redundancy: N+1, plants: [chw], powered_by: [gen-c]}]
halls:
  - {id: hall, positions: 2, max_rack_kw: 100, power_feeds: [bus-a, bus-b], cooling_loops: [crah]}
deployments:
  - {hall: hall, system: sys-air, racks: 1}
""")
    u, gen = _a("utility"), _a("gen-t") * (1 - FAIL_TO_START)
    side = _at_least(_a("ups-t"), 2, 3) * _a("bus-t") ** 2 * _a("tx-t")
    gens = _at_least(gen, 1, 2)
    power = u * (1 - (1 - side) ** 2) + (1 - u) * (1 - (1 - side * gens) ** 2)  # conditioned on the utility
    cooling = gen * _at_least(_a("chiller-t"), 1, 2) * _at_least(_a("crah-t"), 2, 3)  # gen-c feeds plant and CRAHs: once
    assert availability(spec).facility == pytest.approx(power * cooling, rel=1e-12)


def _enumerated(graph: nx.DiGraph, rack: str) -> float:
    """Availability by brute force: every up/down state of every ancestor group."""
    topo, avail = Topology(graph), node_availability(graph)
    groups = sorted(nx.ancestors(topo.physical, rack))
    up = ((np.arange(2 ** len(groups))[:, None] >> np.arange(len(groups))) & 1).astype(float)
    weight = np.prod([np.where(up[:, i] == 1, avail[n], 1 - avail[n]) for i, n in enumerate(groups)], axis=0)
    works = topo.live({n: 1 - up[:, i] for i, n in enumerate(groups)}, len(up))[rack]
    return float(weight @ works)


@pytest.mark.parametrize("spec", [TWO_N, TWO_HALLS, load_spec(PILOT), load_spec(REFERENCE)], ids=["2n", "two-halls", "pilot", "reference"])
def test_availability_is_exact_against_enumeration(spec):
    g = build_graph(spec)
    for group in availability(spec, g).groups:
        assert group.availability == pytest.approx(_enumerated(g, group.rack_group), abs=1e-13)


def test_a_spare_module_never_lowers_availability():
    spare = availability(single_path(1, ups="units: 4, redundancy: N+2")).facility  # 2 of 4 instead of 2 of 3
    assert spare > availability(single_path(1)).facility


# --- network -------------------------------------------------------------------------------

NETWORK = """
power:
  transformers: [{{id: tx, equipment: tx-t, fed_by: [utility]}}]
  distribution: [{{id: bus, equipment: bus-t, fed_by: [tx]}}]
cooling:
  plants: [{{id: chw, equipment: chiller-t, supply_c: 20}}]
  loops: [{{id: crah, equipment: crah-t, plants: [chw]}}]
network:
  fabrics: [{{id: fab, tiers: {tiers}, switch: qm9700, transceiver: osfp-400g, oversubscription: {over}}}]
halls:
  - {{id: hall, positions: 200, max_rack_kw: 45, power_feeds: [bus], cooling_loops: [crah], fabric: fab}}
deployments:
  - {{hall: hall, system: hgx-h100, racks: {racks}}}
"""


def _fabric(gpus: int, tiers: int, over: float = 1.0):
    racks = gpus // 32  # HGX H100: 4 servers of 8 GPUs per rack, one 400G NIC per GPU
    (fabric,) = network(facility(NETWORK.format(tiers=tiers, over=over, racks=racks))).fabrics
    return fabric


@pytest.mark.parametrize(("gpus", "tiers", "switches"), [(1024, 2, {"leaf": 32, "spine": 16}), (4096, 3, {"leaf": 128, "spine": 128, "core": 64})])
def test_fat_tree_matches_the_superpod_tables(gpus, tiers, switches):
    # NVIDIA DGX SuperPOD reference architecture with 64-port QM9700 switches (engineering reference 4.1)
    fabric = _fabric(gpus, tiers)
    assert {t.tier: t.switches for t in fabric.tiers} == switches
    assert fabric.ok
    assert fabric.oversubscription == 1.0
    assert fabric.gpus == gpus


def test_optics_and_power_of_a_two_tier_fabric():
    fabric = _fabric(1024, 2)
    # every link optical: 1,024 GPU-leaf and 1,024 leaf-spine links, a 400G optic at each end
    assert fabric.transceivers == 2 * (1024 + 1024)
    assert fabric.switch_kw == pytest.approx(48 * 0.747)
    assert fabric.power_kw == pytest.approx(48 * 0.747 + 4096 * 9 / 1000)


def test_fabric_too_big_for_its_tiers_is_flagged():
    fabric = _fabric(4096, 2)
    assert fabric.max_endpoint_ports == 64 * 32  # 64 leaves of 32 down-ports
    assert not fabric.ok


def test_oversubscribed_leaf():
    fabric = _fabric(1024, 2, over=2.0)
    # floor(64 * 2/3) = 42 ports down per leaf: 25 leaves; 512 uplinks carry half the bandwidth
    assert {t.tier: t.switches for t in fabric.tiers} == {"leaf": 25, "spine": 8}
    assert fabric.oversubscription == pytest.approx(2.0)


# --- the command ---------------------------------------------------------------------------


def test_aift_twin_json(tmp_path):
    from optimizer.cli import app

    graph = tmp_path / "pilot.graphml"
    result = CliRunner().invoke(app, ["twin", "--json", "--graph", str(graph), str(PILOT)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"loads", "spofs", "stranded", "availability", "network"} <= set(report)
    assert {s["node"] for s in report["spofs"]} == {"ups:ups-1", "dist:pdu-1", "plant:chillers", "loop:crahs"}
    assert "racks:hall-1/hgx-h100" in nx.read_graphml(graph)
