"""Extreme but valid facilities for the robustness benchmark and tests: every failure rate at its
maximum, and a fleet of 50,000 racks in 50 halls."""

from __future__ import annotations

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
