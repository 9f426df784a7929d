"""Small hand-built facilities for the graph-twin tests, with round numbers to work answers out by hand.

Equipment (inline catalog): lossless transformers and busways, a UPS losing 3 % of its output
(loss_b only), a chiller at a fixed COP of 4 that always runs its compressor (a 60 K approach)
with no fans or pumps, CDUs and CRAHs drawing no power. Each kind has its own MTBF/MTTR so a
reliability formula that mixes them up fails. Systems: `sys-t` (1 per rack, 100 kW max,
20 kW idle, 80 % liquid, 8 GPUs) and `sys-air` (2 per rack, 50 kW max each, air-cooled).
"""

from __future__ import annotations

import numpy as np

from twin.loader import load_spec_text
from twin.spec import Spec
from twin.weather import Weather

HOT_HOUR = Weather(np.array([20.0]), np.array([15.0]), "test: one hour")
PLANT_KW_PER_KW = 0.25  # 1 / COP 4, the compressor carrying all the heat

# (MTBF h, MTTR h) by equipment, for the availability formulas
RELIABILITY = {
    "utility": (1000.0, 10.0),
    "gen-t": (500.0, 50.0),
    "tx-t": (2000.0, 20.0),
    "ups-t": (300.0, 30.0),
    "bus-t": (4000.0, 40.0),
    "chiller-t": (600.0, 60.0),
    "cdu-t": (700.0, 7.0),
    "crah-t": (800.0, 8.0),
}
FAIL_TO_START = 0.1

_GPU = "{name: test, hbm_gb: 80, hbm_tbps: 3, dense_tflops: {fp8: 1000, bf16: 500}, tdp_w: 700}"
_SYSTEM = "vendor: nvidia, family: hopper, gpu: " + _GPU + ", gpus_per_system: 8, scale_up_gpus: 8, scale_up_gbyte_s: 450, price_usd: 1.0e6, mtbf_h: 1000, source: test"


def _eq(ident: str, fields: str) -> str:
    mtbf, mttr = RELIABILITY[ident]
    return f"    - {{id: {ident}, {fields}, capex_usd: 1000, mtbf_h: {mtbf}, mttr_h: {mttr}, source: test}}\n"


TAIL = (
    "workload:\n  models: [{model: llama-3.3-70b}]\n"
    "catalog:\n  systems:\n"
    f"    - {{id: sys-t, {_SYSTEM}, max_kw: 100, idle_kw: 20, systems_per_rack: 1, liquid_share: 0.8}}\n"
    f"    - {{id: sys-air, {_SYSTEM}, max_kw: 50, idle_kw: 10, systems_per_rack: 2, liquid_share: 0.0}}\n"
    "  equipment:\n"
    + _eq("tx-t", "kind: transformer, capacity_kva: 1000, no_load_loss_frac: 0, load_loss_frac: 0")
    + _eq("ups-t", "kind: ups, capacity_kw: 150, loss_a: 0, loss_b: 0.03, loss_c: 0")
    + _eq("bus-t", "kind: busway, capacity_kw: 150, load_loss_frac: 0")
    + _eq("gen-t", f"kind: generator, capacity_kw: 500, fail_to_start: {FAIL_TO_START}")
    + _eq("chiller-t", "kind: chiller, capacity_kw: 300, reference: dry_bulb, approach_k: 60, cop_min: 4, cop_max: 4, fan_pump_frac: 0")
    + _eq("cdu-t", "kind: cdu, capacity_kw: 200, power_frac: 0")
    + _eq("crah-t", "kind: crah, capacity_kw: 100, power_frac: 0")
)


def facility(body: str, name: str = "test") -> Spec:
    """A spec from its power, cooling, network, halls and deployments sections."""
    mtbf, mttr = RELIABILITY["utility"]
    head = f"name: {name}\nsite: {{utility_mw: 10, utility_mtbf_h: {mtbf}, utility_mttr_h: {mttr}, misc_load_frac: 0}}\n"
    return load_spec_text(head + body + TAIL, f"{name}.yaml")


# A 2N power chain (A and B sides, each fed by the utility or its own generators) and
# doubled cooling: every rack group can lose any one group.
POWER_2N = """
power:
  generators:
    - {id: gen-a, equipment: gen-t, units: 2, redundancy: N+1}
    - {id: gen-b, equipment: gen-t, units: 2, redundancy: N+1}
  transformers:
    - {id: tx-a, equipment: tx-t, fed_by: [utility, gen-a]}
    - {id: tx-b, equipment: tx-t, fed_by: [utility, gen-b]}
  ups:
    - {id: ups-a, equipment: ups-t, units: 3, redundancy: N+1, fed_by: [tx-a]}
    - {id: ups-b, equipment: ups-t, units: 3, redundancy: N+1, fed_by: [tx-b]}
  distribution:
    - {id: bus-a, equipment: bus-t, units: 2, fed_by: [ups-a]}
    - {id: bus-b, equipment: bus-t, units: 2, fed_by: [ups-b]}
"""
PLANTS_2N = """
cooling:
  plants:
    - {id: chw-1, equipment: chiller-t, supply_c: 20, powered_by: [tx-a, tx-b]}
    - {id: chw-2, equipment: chiller-t, supply_c: 20, powered_by: [tx-a, tx-b]}
  loops:
    - {id: cdu-1, equipment: cdu-t, plants: [chw-1, chw-2], powered_by: [ups-a, ups-b]}
    - {id: cdu-2, equipment: cdu-t, plants: [chw-1, chw-2], powered_by: [ups-a, ups-b]}
    - {id: crah-1, equipment: crah-t, plants: [chw-1, chw-2], powered_by: [tx-a, tx-b]}
    - {id: crah-2, equipment: crah-t, plants: [chw-1, chw-2], powered_by: [tx-a, tx-b]}
"""
TWO_N = facility(
    POWER_2N
    + PLANTS_2N
    + """
halls:
  - {id: hall, positions: 4, max_rack_kw: 100, power_feeds: [bus-a, bus-b], cooling_loops: [cdu-1, cdu-2, crah-1, crah-2]}
deployments:
  - {hall: hall, system: sys-t, racks: 2}
""",
    "two-n",
)
SIDE_A = ("gen:gen-a", "tx:tx-a", "ups:ups-a", "dist:bus-a")
SIDE_B = ("gen:gen-b", "tx:tx-b", "ups:ups-b", "dist:bus-b")

# Two halls on the same 2N power and CRAHs, each with a single CDU loop of its own.
TWO_HALLS = facility(
    POWER_2N
    + PLANTS_2N
    + """
halls:
  - {id: hall-1, positions: 4, max_rack_kw: 100, power_feeds: [bus-a, bus-b], cooling_loops: [cdu-1, crah-1, crah-2]}
  - {id: hall-2, positions: 4, max_rack_kw: 100, power_feeds: [bus-a, bus-b], cooling_loops: [cdu-2, crah-1, crah-2]}
deployments:
  - {hall: hall-1, system: sys-t, racks: 3}
  - {hall: hall-2, system: sys-t, racks: 1}
""",
    "two-halls",
)

# One path, like the pilot: a transformer with generators as the alternative at the UPS and at
# the cooling units. `racks` racks of sys-air (100 kW each); the UPS (3 x 150 kW at N+1) may
# carry 300 kW, everything else at least 400 kW.
SINGLE_PATH = """
power:
  generators: [{{id: gen-1, equipment: gen-t, units: 3, redundancy: N+1}}]
  transformers: [{{id: tx-1, equipment: tx-t, fed_by: [utility]}}]
  ups: [{{id: ups-1, equipment: ups-t, {ups}, fed_by: [tx-1, gen-1]}}]
  distribution: [{{id: bus-1, equipment: bus-t, units: 3, fed_by: [ups-1]}}]
cooling:
  plants: [{{id: chw, equipment: chiller-t, units: 3, redundancy: N+1, supply_c: 20, powered_by: [tx-1, gen-1]}}]
  loops: [{{id: crah, equipment: crah-t, units: 5, redundancy: N+1, plants: [chw], powered_by: [tx-1, gen-1]}}]
halls:
  - {{id: hall, positions: 8, max_rack_kw: 100, power_feeds: [bus-1], cooling_loops: [crah]}}
deployments:
  - {{hall: hall, system: sys-air, racks: {racks}}}
"""


def single_path(racks: int, ups: str = "units: 3, redundancy: N+1") -> Spec:
    return facility(SINGLE_PATH.format(racks=racks, ups=ups), "single-path")
