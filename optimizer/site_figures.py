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
from dataclasses import dataclass

import numpy as np

from optimizer.problem_types import SITE, Conditions, Redundancy, UnitOption
from optimizer.spec_roles import GroupRole
from twin.economics import demand_charge_usd, energy_cost_usd
from twin.energy import hourly_power
from twin.equipment import unit_capacity_kw
from twin.plan_spec import PlanEquipment
from twin.spec import Spec
from twin.weather import Weather

DESIGN_PUE_GUESS = 1.3  # facility over IT at the design hour, to keep a probe within the interconnect
LIQUID_STEP = 0.2  # the second probe's liquid shares are this much lower, relatively


@dataclass(frozen=True)
class SiteFigures:
    """The site's linear figures for `PlanProblem`."""

    design_hour: Conditions
    mean_hour: Conditions
    energy_usd_per_kw_year: float  # energy and water per kW of mean facility power, weighted by the load's hours
    demand_charge_usd_per_kw_year: float  # per kW of peak facility power


def site_figures(
    spec: Spec,
    hall_kw: dict[str, float],
    hall_liquid: dict[str, float],
    shape: np.ndarray,
    weather: Weather,
    roles: dict[str, GroupRole],
    opened: dict[str, PlanEquipment],
) -> SiteFigures:
    """Figures from the two probes.

    Args:
        spec: the facility.
        hall_kw: nameplate IT to place in each hall (0: none).
        hall_liquid: share of each hall's heat to liquid in the first probe.
        shape: hourly IT power of the fleet as a share of its nameplate.
        weather: the year the spec's climate gives.
        roles, opened: the groups' roles and the ones the plan sizes.
    """
    lower = {h: s * (1 - LIQUID_STEP) for h, s in hall_liquid.items()}
    base, step = (hourly_power(_probe(spec, hall_kw, shares, roles, opened), shape, weather) for shares in (hall_liquid, lower))
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
        design, mean, float(energy / base.facility_kw.mean()), float(demand_charge_usd(base.facility_kw, tariff) / base.facility_kw.max())
    )


def _probe(
    spec: Spec, hall_kw: dict[str, float], liquid: dict[str, float], roles: dict[str, GroupRole], opened: dict[str, PlanEquipment]
) -> Spec:
    """The spec with one synthetic rack group per hall, its heat split as `liquid` says, and the open groups sized for it."""
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
    load = _stage_loads(hall_kw, liquid)
    for items in (*data["power"].values(), *data["cooling"].values()):
        for item in items:
            if item["id"] in opened:
                role = roles[item["id"]]
                eq = spec.cat.equipment[item["equipment"]]
                item["units"] = _units(load(role.scope, role.carries), unit_capacity_kw(eq), item["redundancy"])
    probe = Spec.model_validate(data)
    probe._base_catalog, probe._path, probe._files_root = spec._base_catalog, spec.path, spec.files_root
    return probe


def _stage_loads(hall_kw: dict[str, float], liquid: dict[str, float]):
    """The nameplate load of a stage of the probe: the IT, liquid heat or air heat of its scope, or a guess of facility power."""

    def load(scope: str, carries: str) -> float:
        halls = list(hall_kw) if scope == SITE else [scope]
        it, heat_to_liquid = sum(hall_kw[h] for h in halls), sum(hall_kw[h] * liquid[h] for h in halls)
        return {"it": it, "facility": it * DESIGN_PUE_GUESS, "liquid_heat": heat_to_liquid, "air_heat": it - heat_to_liquid}[carries]

    return load


def _units(load_kw: float, unit_kw: float, redundancy: Redundancy) -> int:
    """Installed units to carry `load_kw` under the scheme, at least the fewest the scheme allows."""
    scheme = UnitOption("probe", unit_kw, 0.0, 0.0, redundancy)
    return max(math.ceil(load_kw / unit_kw - 1e-9), 1) * scheme.units_per_usable + scheme.spare_units
