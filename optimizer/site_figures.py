"""Facility power per kW of IT, and the price of a kW-year, measured on the twin's own energy model.

The MILP needs linear figures (`problem_types.Conditions`): losses and misc load per kW of
IT, cooling power per kW of heat to liquid and to air, at the design hour and over the
year. Rather than restate the loss curves and plant physics, they are read off
`twin.energy.hourly_power` run on probes of the facility: the spec with every hall filled
with a synthetic system drawing the fleet's hourly load shape, its heat split between
liquid and air as the hall's densest candidate splits it. The groups the plan opens are
sized for the probe's load, as the optimizer would size them, so that losses and fan
power are read at a realistic part load, and no plant is asked for heat of a medium it
was not built for.

A second probe sends a fifth less of each hall's heat to liquid; the difference is the
secant slope of facility power in the liquid share, around the mix the plan will likely
have. Only sums of the figures matter, so losses and misc load come from the first probe
and the cooling per kW of each medium from the level and the slope. Design figures use
the peak facility power over the peak IT, which for the fleet's own shape is exact even
when the two peaks fall in different hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.availability_figures import group_importance
from optimizer.problem_types import SITE, Conditions, Redundancy, UnitOption
from optimizer.spec_roles import GroupRole
from twin.economics import demand_charge_usd, energy_cost_usd
from twin.energy import hourly_power
from twin.equipment import unit_capacity_kw
from twin.flows import FlowModel
from twin.graph import build_graph, node_ids
from twin.plan_spec import PlanEquipment
from twin.spec import Spec
from twin.weather import Weather

DESIGN_PUE_GUESS = 1.3  # facility over IT at the design hour, to keep a probe within the interconnect
LIQUID_STEP = 0.2
PROBE_UTILITY_MW = 1e6  # the second probe's liquid shares are this much lower, relatively


@dataclass(frozen=True)
class SiteFigures:
    """The site's linear figures for `PlanProblem`."""

    design_hour: Conditions
    mean_hour: Conditions
    energy_usd_per_kw_year: float  # energy and water per kW of mean facility power, weighted by the load's hours
    demand_charge_usd_per_kw_year: float  # per kW of peak facility power
    load_factors: dict[str, float] = field(default_factory=dict)  # group id -> `Stage.load_factor`
    importance: dict[str, float] = field(default_factory=dict)  # group id -> `Stage.importance`
    other_unavailability: float = 0.0  # `PlanProblem.other_unavailability`


def site_figures(
    spec: Spec,
    hall_kw: dict[str, float],
    hall_liquid: dict[str, float],
    shape: np.ndarray,
    weather: Weather,
    roles: dict[str, GroupRole],
    opened: dict[str, PlanEquipment],
    chosen: dict[str, tuple[str, int, str]] | None = None,
) -> SiteFigures:
    """Figures from the two probes.

    Args:
        spec: the facility.
        hall_kw: nameplate IT to place in each hall (0: none).
        hall_liquid: share of each hall's heat to liquid in the first probe.
        shape: hourly IT power of the fleet as a share of its nameplate.
        weather: the year the spec's climate gives.
        roles, opened: the groups' roles and the ones the plan sizes.
        chosen: a plan's (equipment, units, redundancy) of the groups it sized, for the probe to build as they are.
    """
    lower = {h: s * (1 - LIQUID_STEP) for h, s in hall_liquid.items()}
    probe = _probe(spec, hall_kw, hall_liquid, roles, opened, chosen)
    base, step = hourly_power(probe, shape, weather), hourly_power(_probe(spec, hall_kw, lower, roles, opened, chosen), shape, weather)
    liquid = sum(hall_kw[h] * s for h, s in hall_liquid.items()) / sum(hall_kw.values())
    moved = liquid * LIQUID_STEP  # share of IT moved from liquid to air between the probes

    def conditions(stat, overhead: float) -> Conditions:
        level = float(stat(base.facility_kw) / stat(base.it_kw)) - 1 - overhead
        slope = float((stat(base.facility_kw) - stat(step.facility_kw)) / stat(base.it_kw)) / moved if moved > 0 else 0.0
        air = level - liquid * slope
        return Conditions(overhead, air + slope, air)

    peak = int(np.argmax(base.facility_kw))
    design = conditions(np.max, float((base.loss_kw[peak] + base.misc_kw[peak]) / base.it_kw[peak]))
    mean = conditions(np.mean, float((base.loss_kw.sum() + base.misc_kw.sum()) / base.it_kw.sum()))
    tariff = spec.site.tariff
    energy = energy_cost_usd(base.facility_kw, tariff) + base.water_l.sum() / 1000.0 * spec.site.water_usd_per_m3
    return SiteFigures(
        design,
        mean,
        float(energy / base.facility_kw.mean()),
        float(demand_charge_usd(base.facility_kw, tariff) / base.facility_kw.max()),
        _load_factors(probe, hall_kw, hall_liquid, roles, weather),
        *group_importance(probe, {h: f"probe-{h}" for h, kw in hall_kw.items() if kw > 0}, {g for g, r in roles.items() if r.scope is not None}),
    )


def _load_factors(probe: Spec, hall_kw, hall_liquid, roles: dict[str, GroupRole], weather: Weather) -> dict[str, float]:
    """Per group, its N-1 design load at nameplate (`twin.flows`, as `aift twin` checks it) over the load the MILP gives it.

    The MILP loads a stage with the nameplate IT or heat of its halls; the twin adds what
    flows through the group on top: the losses of the busways and PDUs below a UPS, the
    CDU pumps and CRAH fans a UPS powers or a plant takes the heat of. Facility stages are
    sized to the design hour instead, and keep 1.
    """
    flows = FlowModel(probe, build_graph(probe), 1.0, weather)
    design, ids = flows.design_loads(), node_ids(probe)
    network = {h.id: h.network_kw for h in flows.halls}
    load = _stage_loads(hall_kw, hall_liquid)
    out = {}
    for gid, role in roles.items():
        if role.scope is None or role.carries == "facility" or ids[gid] not in design:
            continue
        halls = [h for h in (role.halls or (hall_kw if role.scope == SITE else [role.scope])) if hall_kw.get(h, 0.0) > 0]
        nameplate = load(halls, role.carries) + (0.0 if role.carries == "liquid_heat" else sum(network[h] for h in halls))
        if nameplate > 0:
            out[gid] = max(1.0, design[ids[gid]].design_kw / nameplate)
    return out


def _probe(
    spec: Spec,
    hall_kw: dict[str, float],
    liquid: dict[str, float],
    roles: dict[str, GroupRole],
    opened: dict[str, PlanEquipment],
    chosen: dict[str, tuple[str, int, str]] | None = None,
) -> Spec:
    """The spec with one synthetic rack group per hall, its heat split as `liquid` says, and the open groups sized for it (or as `chosen`)."""
    data = spec.model_dump(mode="python", by_alias=True)
    template = next(iter(spec.cat.systems.values()))
    systems, deployments = [], []
    for hall, kw in hall_kw.items():
        if kw > 0:
            sid = f"probe-{hall}"
            systems.append(
                template.model_copy(update=dict(id=sid, max_kw=kw, idle_kw=0.0, systems_per_rack=1, liquid_share=liquid[hall])).model_dump()
            )
            deployments.append({"hall": hall, "system": sid, "racks": 1})
    data["catalog"]["systems"] = [*data["catalog"]["systems"], *systems]
    data["deployments"] = deployments
    data["plan"] = None
    data["site"]["utility_mw"] = PROBE_UTILITY_MW  # figures per kW, never capped: the interconnect is the MILP's limit
    load = _stage_loads(hall_kw, liquid)
    for items in (*data["power"].values(), *data["cooling"].values()):
        for item in items:
            if chosen and item["id"] in chosen:
                item["equipment"], item["units"], item["redundancy"] = chosen[item["id"]]
            elif item["id"] in opened:
                role = roles[item["id"]]
                eq = spec.cat.equipment[item["equipment"]]
                halls = role.halls or (hall_kw if role.scope == SITE else [role.scope])
                item["units"] = _units(load(halls, role.carries), unit_capacity_kw(eq), item["redundancy"])
    probe = Spec.model_validate(data)
    probe._base_catalog, probe._path, probe._files_root = spec._base_catalog, spec.path, spec.files_root
    return probe


def _stage_loads(hall_kw: dict[str, float], liquid: dict[str, float]):
    """The nameplate load of a stage of the probe: the IT, liquid heat or air heat of its halls, or a guess of facility power."""

    def load(halls, carries: str) -> float:
        it, heat_to_liquid = sum(hall_kw[h] for h in halls), sum(hall_kw[h] * liquid[h] for h in halls)
        return {"it": it, "facility": it * DESIGN_PUE_GUESS, "liquid_heat": heat_to_liquid, "air_heat": it - heat_to_liquid}[carries]

    return load


def _units(load_kw: float, unit_kw: float, redundancy: Redundancy) -> int:
    """Installed units to carry `load_kw` under the scheme, at least the fewest the scheme allows."""
    scheme = UnitOption("probe", unit_kw, 0.0, 0.0, redundancy)
    return max(math.ceil(load_kw / unit_kw - 1e-9), 1) * scheme.units_per_usable + scheme.spare_units
