"""Extreme but valid facilities for the robustness benchmark and tests: every failure rate at its
maximum, and a fleet of 50,000 racks in 50 halls."""

from __future__ import annotations

import math
from pathlib import Path

from twin.equipment import unit_capacity_kw as unit_kw
from twin.loader import parse_spec
from twin.spec import Spec
from twin.yamlio import Document

FASTEST_MTBF_H = 1.0  # the least MTBF a spec accepts (twin.units.Mtbf): one failure an hour per unit
HOURS = 8760


def max_failure_rates(spec: Spec, mttr_h: float | None = None) -> Spec:
    """`spec` with every unit, GPU system and the utility failing once an hour (and repairs of `mttr_h` if given)."""
    p, c = spec.power, spec.cooling
    used_equipment = {g.equipment for g in [*p.generators, *p.transformers, *p.ups, *p.distribution, *c.plants, *c.loops]}
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    repair = {} if mttr_h is None else {"mttr_h": mttr_h}
    data["catalog"] = {
        "systems": [spec.cat.systems[s].model_dump(mode="json", by_alias=True) | {"mtbf_h": FASTEST_MTBF_H} | repair
                    for s in sorted({d.system for d in spec.deployments})],
        "equipment": [spec.cat.equipment[e].model_dump(mode="json", by_alias=True) | {"mtbf_h": FASTEST_MTBF_H} | repair
                      for e in sorted(used_equipment)],
    }
    site = data.setdefault("site", {})
    site["utility_mtbf_h"] = FASTEST_MTBF_H
    if mttr_h is not None:
        site["utility_mttr_h"] = mttr_h
    out = parse_spec(Document(f"{spec.name} at maximum failure rates", data), spec._base_catalog)
    out._path = spec.path
    return out


def fifty_halls(halls: int = 50, racks_per_hall: int = 1000) -> Spec:
    """50,000 air-cooled racks of HGX H100 (two systems each) in 50 halls of the pilot's design, each hall with
    its own UPS, PDUs, CRAHs and fabric; one site-wide utility, generators, transformers and chiller plant."""
    from twin.loader import load_spec

    pilot = load_spec(Path(__file__).resolve().parent.parent / "facility_specs" / "pilot-2mw-h100.yaml")
    rack_kw = 2 * pilot.cat.systems["hgx-h100"].max_kw
    hall_mw = racks_per_hall * rack_kw / 1000.0 * 1.2  # IT plus the fabric's power and the losses below the UPS, with room
    site_mw = halls * hall_mw * 1.3  # plus cooling
    units = lambda kw, unit_kw: math.ceil(kw / unit_kw) + 1  # noqa: E731 - N+1 groups of catalog units
    eq = pilot.cat.equipment
    site_units = units(site_mw * 1000, 3000)
    data = {
        "name": f"{halls}-halls-{halls * racks_per_hall}-racks",
        "site": {"utility_mw": site_mw, "climate": {"preset": "temperate"}, "tariff": {"price_usd_per_mwh": 70}},
        "power": {
            "generators": [{"id": "gen", "equipment": "gen-3000kw", "units": site_units, "redundancy": "N+1"}],
            "transformers": [{"id": "tx", "equipment": "tx-mv-3000kva", "units": site_units, "redundancy": "N+1", "fed_by": ["utility", "gen"]}],
            "ups": [{"id": f"ups-{h}", "equipment": "ups-1250kw-dc", "units": units(hall_mw * 1000, 1250), "redundancy": "N+1", "fed_by": ["tx"]}
                    for h in range(halls)],
            "distribution": [{"id": f"bus-{h}", "equipment": "busway-1600kw", "units": units(hall_mw * 1000, 1600), "redundancy": "N+1",
                              "fed_by": [f"ups-{h}"]} for h in range(halls)],
        },
        "cooling": {
            "plants": [{"id": "chw", "equipment": "chiller-wc-3500kw", "units": units(halls * hall_mw * 1000, 3500), "redundancy": "N+1",
                        "supply_c": 14, "powered_by": ["tx"]}],
            "loops": [{"id": f"crah-{h}", "equipment": "crah-375kw", "units": units(hall_mw * 1000, unit_kw(eq["crah-375kw"])),
                       "redundancy": "N+1", "plants": ["chw"], "powered_by": ["tx"]} for h in range(halls)],
        },
        "network": {"fabrics": [{"id": f"ib-{h}", "topology": "rail-optimized", "tiers": 3, "switch": "qm9700", "transceiver": "osfp-400g"}
                                for h in range(halls)]},
        "halls": [{"id": f"hall-{h}", "positions": racks_per_hall, "max_rack_kw": 25, "power_feeds": [f"bus-{h}"],
                   "cooling_loops": [f"crah-{h}"], "fabric": f"ib-{h}"} for h in range(halls)],
        "deployments": [{"hall": f"hall-{h}", "system": "hgx-h100", "racks": racks_per_hall, "systems_per_rack": 2} for h in range(halls)],
        "workload": pilot.workload.model_dump(mode="json", exclude_unset=True),
    }
    return parse_spec(Document(data["name"], data))
