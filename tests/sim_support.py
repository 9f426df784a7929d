"""A small facility with short MTBFs, so that a few simulated years measure its availability.

Two halls of catalog HGX servers on one transformer (with generators behind it): hall-1 on
a single busway path, hall-2 on A/B busways; N+1 UPS, chillers and CRAHs. `flaky()` takes
(MTBF h, MTTR h) per equipment, to make one group the only one that fails.
"""

from __future__ import annotations

from twin.loader import load_spec_text
from twin.spec import Spec

FLAKY = {
    "utility": (400.0, 8.0),
    "gen-f": (300.0, 30.0),
    "tx-f": (1500.0, 30.0),
    "ups-f": (200.0, 40.0),
    "bus-f": (1000.0, 20.0),
    "chiller-f": (400.0, 40.0),
    "crah-f": (500.0, 25.0),
}
RELIABLE = {k: (1e9, 1.0) for k in FLAKY}
KINDS = {
    "gen-f": "kind: generator, capacity_kw: 2000, fail_to_start: FAIL_TO_START",
    "tx-f": "kind: transformer, capacity_kva: 3000, no_load_loss_frac: 0.001, load_loss_frac: 0.006",
    "ups-f": "kind: ups, capacity_kw: 500, loss_a: 0.008, loss_b: 0.01, loss_c: 0.012",
    "bus-f": "kind: busway, capacity_kw: 1000, load_loss_frac: 0.003",
    "chiller-f": "kind: chiller, capacity_kw: 1000, reference: dry_bulb, approach_k: 10",
    "crah-f": "kind: crah, capacity_kw: 400, power_frac: 0.02",
}
BODY = """
power:
  generators: [{id: gen-1, equipment: gen-f, units: 3, redundancy: N+1}]
  transformers: [{id: tx-1, equipment: tx-f, fed_by: [utility, gen-1]}]
  ups: [{id: ups-1, equipment: ups-f, units: UPS_UNITS, redundancy: N+1, fed_by: [tx-1]}]
  distribution:
    - {id: bus-a, equipment: bus-f, fed_by: [ups-1]}
    - {id: bus-b, equipment: bus-f, fed_by: [ups-1]}
cooling:
  plants: [{id: chw, equipment: chiller-f, units: 3, redundancy: N+1, supply_c: 14, powered_by: [tx-1, gen-1]}]
  loops: [{id: crah, equipment: crah-f, units: 4, redundancy: N+1, plants: [chw], powered_by: [tx-1, gen-1]}]
halls:
  - {id: hall-1, positions: 20, max_rack_kw: 45, power_feeds: [bus-a], cooling_loops: [crah]}
  - {id: hall-2, positions: 20, max_rack_kw: 45, power_feeds: [bus-a, bus-b], cooling_loops: [crah]}
deployments:
  - {hall: hall-1, system: hgx-h100, racks: 4}
  - {hall: hall-2, system: hgx-h200, racks: 6}
workload:
  models: [{model: llama-3.3-70b, precision: fp8, isl: 2048, osl: 512, sla: {min_tokens_per_s_per_user: 20, max_ttft_s: 3}}]
  demand: {level: 0.7, profile: flat}
"""


def flaky(reliability: dict[str, tuple[float, float]] = FLAKY, ups_units: int = 3, fail_to_start: float = 0.0) -> Spec:
    """The facility with these (MTBF, MTTR) per equipment id (and `utility`).

    Generators start on every call by default: the static model folds fail-to-start into a
    stationary unavailability, which the simulation (a draw per outage, then a repair that may
    end within the outage) only approximates.
    """
    mtbf, mttr = reliability["utility"]
    head = f"name: flaky\nsite: {{utility_mw: 2, utility_mtbf_h: {mtbf}, utility_mttr_h: {mttr}}}\n"
    equipment = "".join(
        f"    - {{id: {k}, {fields.replace('FAIL_TO_START', str(fail_to_start))}, capex_usd: 1000, mtbf_h: {reliability[k][0]}, mttr_h: {reliability[k][1]}, source: test}}\n"
        for k, fields in KINDS.items()
    )
    return load_spec_text(head + BODY.replace("UPS_UNITS", str(ups_units)) + "catalog:\n  equipment:\n" + equipment, "flaky.yaml")
