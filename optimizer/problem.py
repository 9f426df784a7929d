"""`problem_from_spec`: a facility spec and its `plan:` section as a PlanProblem, every figure from the twin.

The twin scores a written plan with `twin.evaluate`; the figures here are its terms made
linear per rack or per unit, so the two agree on the plan:

- a rack serves `GPUs x output tokens/s/GPU` at the model's operating point
  (`twin.perf`), busy `min(demand(h), A)` of each hour as in `evaluate`; its power is
  `idle + (P_op - idle) x busy`, at the busiest hour for the envelope and over the year
  for energy, plus its NIC optics;
- facility power per kW of IT and the price of a kW-year come from `site_figures`;
- capital is recovered per asset class (`twin.economics`), equipment adds maintenance,
  IT adds support, staff scale with installed IT as in the twin's default;
- a system may fill a rack up to the hall's density (`systems_per_rack` below the
  catalog's when the hall is lighter), and is then a variant with its own id.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from optimizer.availability_figures import loss_tangents
from optimizer.problem_types import SITE, Fabric, Hall, ModelDemand, ObjectiveName, PlanProblem, Redundancy, Stage, System, UnitOption
from optimizer.site_figures import DESIGN_PUE_GUESS, SiteFigures, site_figures
from optimizer.solution import Solution
from optimizer.spec_roles import (
    POWER_SECTIONS,
    GroupRole,
    PlanError,
    Unplannable,
    group_roles,
    open_groups,
    option_id,
    parse_option_id,
)
from twin.catalog import SystemEntry
from twin.demand import hourly_demand
from twin.economics import ASSET_CLASSES, capital_recovery_factor, default_staff_usd_per_year
from twin.equipment import unit_capacity_kw, usable_capacity_kw
from twin.evaluate import spec_weather
from twin.perf import OperatingPoint, PerfError, frontier, operating_point
from twin.plan_spec import PlanEquipment, PlanOptions
from twin.reliability import unit_availability
from twin.spec import Hall as SpecHall
from twin.spec import Spec
from twin.telemetry.apply import system_factors
from twin.weather import Weather

SECONDS_PER_HOUR = 3600.0
LANE_GBPS = 100.0  # fabric ports are counted in lanes of this speed, so NICs and switch ports of any speed add up
SHARE_SLACK = 1e-6  # token shares that add up to 1 are loosened this much, so rounding cannot make them infeasible


def system_id(system: str, systems_per_rack: int, catalog_per_rack: int) -> str:
    """A rack variant's id: the catalog id, with `@n` when it holds n systems instead of the catalog's."""
    return system if systems_per_rack == catalog_per_rack else f"{system}@{systems_per_rack}"


def parse_system_id(variant: str) -> tuple[str, int | None]:
    """(catalog system, systems per rack or None for the catalog's)."""
    system, _, n = variant.partition("@")
    return system, int(n) if n else None


def problem_from_spec(
    spec: Spec, objective: ObjectiveName | None = None, weather: Weather | None = None, at: Solution | None = None
) -> PlanProblem:
    """The plan problem of `spec`; PlanError when its plan cannot be modelled (no system serves a model, ...).

    The site's linear figures are measured on a probe of the facility: by default its
    halls filled with their densest candidate; `at` a plan, the halls as that plan fills
    them, so that the figures are exact at that plan (see `planning.solve_spec`).
    """
    plan = spec.plan or PlanOptions()
    weather = weather or spec_weather(spec)
    hours = len(weather.dry_bulb_c)
    demand = np.minimum(hourly_demand(spec.workload.demand, hours), 1.0)
    if not demand.any():  # every rack would serve no token: no cost per token, no rack worth placing
        raise PlanError("workload.demand is 0 in every hour (level 0 or a profile of zeros): the racks would serve no tokens, "
                        "so there is nothing to plan for; give the share of capacity busy at the peak (e.g. level: 0.8)")
    busy = demand  # at full availability: what unavailability costs is priced by the plan (`availability_figures`)
    points = _operating_points(spec, plan)
    variants = {h.id: _hall_variants(spec, plan, h, points) for h in spec.halls}
    catalog = {v: entry_spr for hv in variants.values() for v, entry_spr in hv.items()}
    _check_servable(spec, plan, points, catalog)
    factors = system_factors(spec)  # a calibration's measured factors, per system (twin.telemetry.apply)
    systems = tuple(_system(spec, v, entry, spr, points[entry.id], busy, factors.get(entry.id, (1.0, 1.0))) for v, (entry, spr) in catalog.items())
    roles = group_roles(spec)
    opened = open_groups(spec, roles)
    halls = tuple(_hall(spec, plan, h, variants[h.id]) for h in spec.halls)
    pairs = [(e, p) for e, _ in catalog.values() for p in points[e.id].values()]
    shape = np.mean([e.idle_kw / e.max_kw + (p.system_power_kw - e.idle_kw) / e.max_kw * busy for e, p in pairs], axis=0)
    system = {s.id: s for s in systems}
    liquid = {h.id: max((system[v].liquid_share for v in h.systems), default=0.0) if "liquid" in h.cooling_options else 0.0 for h in halls}
    hall_kw = _probe_hall_kw(spec, halls, system, roles, opened, float(shape.max()))
    if at is not None and at.racks:
        hall_kw, liquid, shape = _plan_probe(halls, system, catalog, points, busy, at)
    chosen = None if at is None else {g: _built(c) for (_, g), c in at.equipment.items()}
    site = site_figures(spec, hall_kw, liquid, shape, weather, roles, opened, chosen)
    stages = [(r.scope, _stage(spec, r, opened, site)) for r in roles.values() if r.scope is not None]
    halls = tuple(replace(h, stages=tuple(st for scope, st in stages if scope == h.id)) for h in halls)
    outside = outside_groups_usd(spec)
    staff = spec.economics.staff_usd_per_year
    return PlanProblem(
        halls=halls,
        systems=systems,
        models=_models(spec, plan, systems, hours),
        utility_kw=(spec.site.utility_mw if plan.interconnect is None else plan.interconnect.max_mw) * 1000.0,
        utility_capex_usd_per_kw=None if plan.interconnect is None else plan.interconnect.capex_usd_per_mw / 1000.0,
        utility_annual_usd_per_kw=0.0 if plan.interconnect is None else plan.interconnect.capex_usd_per_mw / 1000.0 * _crf(spec)["power"],
        design_hour=site.design_hour,
        mean_hour=site.mean_hour,
        energy_usd_per_kw_year=site.energy_usd_per_kw_year,
        demand_charge_usd_per_kw_year=site.demand_charge_usd_per_kw_year,
        fixed_annual_usd=(default_staff_usd_per_year(0.0) if staff is None else staff)
        + spec.economics.other_opex_usd_per_year
        + outside[1],
        site_stages=tuple(st for scope, st in stages if scope == SITE),
        fabrics=tuple(_fabric(spec, f) for f in spec.network.fabrics),
        capex_budget_usd=None if plan.capex_budget_usd is None else plan.capex_budget_usd - outside[0],
        outside_capex_usd=outside[0],
        loss_tangents=loss_tangents(demand),
        other_unavailability=site.other_unavailability,
        objective=objective or plan.objective,
        target_usd_per_mtok=plan.target_cost_per_million_tokens_usd,
    )


def _operating_points(spec: Spec, plan: PlanOptions) -> dict[str, dict[str, OperatingPoint]]:
    """Per candidate catalog system, the operating point of every workload model it can serve at its SLA."""
    listed = [plan.systems, *(ph.systems for ph in plan.halls)]
    names = set(spec.cat.systems) if "all" in listed else set().union(*(s for s in listed if isinstance(s, list)))
    names |= {d.system for d in spec.deployments} if plan.keep_deployments else set()
    out = {}
    for sid in sorted(names):
        served = {}
        for wm in spec.workload.models:
            try:
                served[wm.model] = operating_point(spec.cat.systems[sid], spec.cat.models[wm.model], wm)
            except PerfError:
                continue  # the system cannot serve this model at its SLA: its rate is 0
        out[sid] = served
    return out


def _check_servable(spec: Spec, plan: PlanOptions, points, catalog) -> None:
    """Unplannable, naming the model and the best it can get, when a model with a share no candidate serves at its SLA."""
    for wm in spec.workload.models:
        if (wm.share > 0 or plan.demand_output_tokens_per_s.get(wm.model)) and not any(wm.model in points[e.id] for e, _ in catalog.values()):
            if any(wm.model in served for served in points.values()):
                continue  # served, only not in a hall that takes its system: said below
            best, system = _best_interactivity(spec, wm, points)
            sla = wm.sla
            raise Unplannable(
                f"no candidate system serves {wm.model} at its SLA (>= {sla.min_tokens_per_s_per_user:g} tok/s/user, TTFT <= "
                f"{sla.max_ttft_s:g} s): the best achievable is {best:.1f} tok/s/user, on {system}"
                if system
                else f"no candidate system can serve {wm.model} at all ({wm.precision}, ISL {wm.isl}, OSL {wm.osl})"
            )
    if not catalog:
        why = []
        for h in spec.halls:
            ph = next((x for x in plan.halls if x.hall == h.id), None)
            names = plan.systems if ph is None or ph.systems is None else ph.systems
            names = [n for n in (spec.cat.systems if names == "all" else names) if points.get(n)]
            if names:
                lightest = min(names, key=lambda n: spec.cat.systems[n].max_kw)
                why.append(f"{h.id} allows {h.max_rack_kw:g} kW a rack, its lightest candidate ({lightest}) needs {spec.cat.systems[lightest].max_kw:g} kW")
        raise Unplannable("no candidate system fits any hall" + (": " + "; ".join(why) if why else ": no hall has a candidate system"))


def _best_interactivity(spec: Spec, wm, points) -> tuple[float, str | None]:
    """The most tokens/s per user any candidate reaches for the model, with the TTFT limit lifted, and on which system."""
    free = wm.model_copy(update={"sla": wm.sla.model_copy(update={"min_tokens_per_s_per_user": 0.0, "max_ttft_s": 1e9})})
    best, where = 0.0, None
    for sid in points:
        try:
            curve = frontier(spec.cat.systems[sid], spec.cat.models[wm.model], free)
        except PerfError:
            continue
        top = max((pt.tokens_per_s_per_user for pt in curve), default=0.0)
        if top > best:
            best, where = top, sid
    return best, where


def _hall_variants(spec: Spec, plan: PlanOptions, hall: SpecHall, points) -> dict[str, tuple[SystemEntry, int]]:
    """The rack variants a hall may take: candidates that serve some model, as many systems per rack as its density allows.

    Existing racks keep their own systems per rack. Without a CRAH loop a hall takes only
    systems whose heat goes all to liquid (the twin sends the rest to air).
    """
    ph = next((p for p in plan.halls if p.hall == hall.id), None)
    names = plan.systems if ph is None or ph.systems is None else ph.systems
    names = list(spec.cat.systems) if names == "all" else names
    existing = {d.system: d.systems_per_rack for d in spec.deployments if d.hall == hall.id} if plan.keep_deployments else {}
    has_air = any(_loop_kind(spec, lp) == "crah" for lp in hall.cooling_loops)
    out = {}
    for sid in dict.fromkeys([*names, *existing]):
        entry = spec.cat.systems[sid]
        spr = existing.get(sid) or min(entry.systems_per_rack, math.floor(hall.max_rack_kw / entry.max_kw))
        if points.get(sid) and spr >= 1 and (has_air or entry.liquid_share == 1.0):
            out[system_id(sid, spr, entry.systems_per_rack)] = (entry, spr)
    return out


def _loop_kind(spec: Spec, loop_id: str) -> str:
    return spec.cat.equipment[next(lp for lp in spec.cooling.loops if lp.id == loop_id).equipment].kind


def _crf(spec: Spec) -> dict[str, float]:
    econ = spec.economics
    return {cls: capital_recovery_factor(econ.discount_rate, getattr(econ.life_years, cls)) for cls in ASSET_CLASSES}


def _system(spec: Spec, variant: str, entry: SystemEntry, spr: int, points: dict[str, OperatingPoint], busy: np.ndarray,
            factors: tuple[float, float] = (1.0, 1.0)) -> System:
    """One rack of a variant: production per model, power at the busiest hour and over the year (per model served), cost.

    `factors` (throughput, power) are a calibration's: they scale the tokens and the drawn power,
    the latter up to the nameplate that sizes the hall and its equipment.
    """
    tput, power = factors
    econ, crf = spec.economics, _crf(spec)
    peak_busy, busy_hours = float(busy.max()), float(busy.sum())
    mean_busy = min(float(busy.mean()), peak_busy)  # a flat year: the mean may round above the peak
    gpus = entry.gpus_per_system * spr
    span = entry.max_kw - entry.idle_kw
    dynamic = {m: min((p.system_power_kw - entry.idle_kw) / span, 1.0) for m, p in points.items()}
    model_kw = {m: (min(power * spr * (entry.idle_kw + span * peak_busy * d), spr * entry.max_kw),
                    min(power * spr * (entry.idle_kw + span * mean_busy * d), spr * entry.max_kw)) for m, d in dynamic.items()}
    optics_kw, optics_usd, optics_annual = _nic_optics(spec, entry, gpus, crf)
    rack_max_kw = spr * entry.max_kw
    it_usd = spr * entry.price_usd
    building_usd = econ.facility_capex_usd_per_mw * rack_max_kw / 1000.0
    staff_per_kw = (
        0.0 if econ.staff_usd_per_year is not None else (default_staff_usd_per_year(1.0) - default_staff_usd_per_year(0.0)) / 1000.0
    )
    return System(
        id=variant,
        rack_kw=max(kw for kw, _ in model_kw.values()),
        rack_mean_kw=max(kw for _, kw in model_kw.values()),
        rack_max_kw=rack_max_kw,
        liquid_share=entry.liquid_share,
        liquid_only=entry.liquid_only or entry.liquid_share > 0,  # the twin puts any liquid share only in halls with CDUs
        gpus_per_rack=gpus,
        ports_per_rack=round(gpus * entry.scale_out_gbps / LANE_GBPS),
        rack_capex_usd=it_usd + building_usd + optics_usd,
        rack_annual_usd=it_usd * (crf["it"] + econ.it_support_frac)
        + building_usd * crf["building"]
        + optics_annual
        + staff_per_kw * rack_max_kw,
        tokens_per_year={m: tput * gpus * p.tokens_per_s_per_gpu * SECONDS_PER_HOUR * busy_hours for m, p in points.items()},
        nic_kw=optics_kw,
        model_kw=model_kw,
    )


def _nic_optics(spec: Spec, entry: SystemEntry, gpus: int, crf: dict[str, float]) -> tuple[float, float, float]:
    """The optics at a rack's NICs, on the spec's first fabric: (kW, capex USD, USD/year)."""
    if not spec.network.fabrics:
        return 0.0, 0.0, 0.0
    fabric = spec.network.fabrics[0]
    optic = spec.cat.equipment[fabric.transceiver]
    n = gpus * fabric.nics_per_gpu * math.ceil(entry.scale_out_gbps / optic.gbps)
    return n * optic.power_w / 1000.0, n * optic.capex_usd, n * optic.capex_usd * (crf["network"] + optic.maintenance_frac)


def _fabric(spec: Spec, f) -> Fabric:
    """A fabric's switches per endpoint lane, as `twin.network` sizes its fat tree; each switch carries its fully cabled optics."""
    crf = _crf(spec)["network"]
    switch, optic = spec.cat.equipment[f.switch], spec.cat.equipment[f.transceiver]
    radix = switch.ports
    down = radix if f.tiers == 1 else math.floor(radix * f.oversubscription / (1 + f.oversubscription))
    above = {1: 0, 2: 1, 3: 3}[f.tiers] / f.oversubscription  # spine and core ports per endpoint port, over the radix
    optics = radix * switch.port_gbps / optic.gbps
    return Fabric(
        id=f.id,
        switch_ports=round(radix * switch.port_gbps / LANE_GBPS),
        switch_ports_per_rack_port=f.nics_per_gpu * (radix / down + above),
        switch_capex_usd=switch.capex_usd + optics * optic.capex_usd,
        switch_annual_usd=switch.capex_usd * (crf + switch.maintenance_frac) + optics * optic.capex_usd * (crf + optic.maintenance_frac),
        switch_kw=switch.power_kw + optics * optic.power_w / 1000.0,
    )


def _hall(spec: Spec, plan: PlanOptions, h: SpecHall, variants: dict) -> Hall:
    """A hall: positions, density, cooling choice, candidate variants, rack floors and caps; its stages come later."""
    ph = next((p for p in plan.halls if p.hall == h.id), None)
    kinds = {_loop_kind(spec, lp) for lp in h.cooling_loops}
    cooling = ph.cooling if ph is not None and ph.cooling else ["liquid" if "cdu" in kinds else "air"]
    existing: dict[str, int] = {}
    for d in spec.deployments if plan.keep_deployments else ():
        if d.hall == h.id:
            entry = spec.cat.systems[d.system]
            v = system_id(d.system, d.systems_per_rack or entry.systems_per_rack, entry.systems_per_rack)
            if v in variants:
                existing[v] = existing.get(v, 0) + d.racks
    by_system = {entry.id: v for v, (entry, _) in variants.items()}
    misplaced = [s for s, n in (ph.min_racks if ph else {}).items() if n and s not in by_system]
    if misplaced:
        raise PlanError(f"plan: {', '.join(misplaced)} cannot go in {h.id} (not a candidate there, too dense, or serving no model)")
    floor = {by_system[s]: n for s, n in (ph.min_racks if ph else {}).items() if s in by_system}
    cap = {by_system[s]: n for s, n in (ph.max_racks if ph else {}).items() if s in by_system}
    return Hall(
        id=h.id,
        positions=h.positions,
        max_rack_kw=h.max_rack_kw,
        cooling_options=frozenset(cooling),
        systems=frozenset(variants),
        min_racks={v: max(n, floor.get(v, 0)) for v, n in (floor | existing).items()},
        max_racks=cap,
        fabric=h.fabric,
    )


def outside_groups_usd(spec: Spec) -> tuple[float, float]:
    """(capex, USD/year) of the groups the optimizer cannot size: built as written, outside the model's stages."""
    built = [
        _option(spec, r.section, r.group.equipment, r.group.redundancy, r.group.units)
        for r in group_roles(spec).values()
        if r.scope is None
    ]
    return sum(o.capex_usd * o.installed for o in built), sum(o.annual_usd * o.installed for o in built)


def _stage(spec: Spec, role: GroupRole, opened: dict[str, PlanEquipment], site: SiteFigures) -> Stage:
    """A group as a stage: the options the plan opens, or the units as built; its load factor and importance from the twin."""
    g, pe = role.group, opened.get(role.group.id)
    if pe is None:
        options = [_option(spec, role.section, g.equipment, g.redundancy, g.units)]
    else:
        options = [_option(spec, role.section, e, r) for e in pe.equipment or [g.equipment] for r in pe.redundancy or [g.redundancy]]
    return Stage(g.id, role.carries, tuple(options), role.halls, site.load_factors.get(g.id, 1.0), site.importance.get(g.id, 0.0))


def _option(spec: Spec, section: str, equipment: str, redundancy: Redundancy, installed: int | None = None) -> UnitOption:
    """Units of catalog equipment: capacity, capex, and capital recovery plus maintenance per year."""
    crf = _crf(spec)["power" if section in POWER_SECTIONS else "cooling"]
    eq = spec.cat.equipment[equipment]
    annual = eq.capex_usd * (crf + eq.maintenance_frac)
    unit = unit_availability(eq.mtbf_h, eq.mttr_h) * (1.0 - eq.fail_to_start if eq.kind == "generator" else 1.0)
    return UnitOption(option_id(equipment, redundancy), unit_capacity_kw(eq), eq.capex_usd, annual, redundancy, installed, unit)


def _probe_hall_kw(spec: Spec, halls, system: dict[str, System], roles, opened, peak_shape: float) -> dict[str, float]:
    """Nameplate IT to probe each hall with: its positions at the densest variant, within its fixed power and the utility."""
    fixed_it = {}
    for r in roles.values():
        if r.scope is not None and r.halls is None and r.carries == "it" and r.group.id not in opened:
            usable = usable_capacity_kw(spec.cat.equipment[r.group.equipment], r.group.units, r.group.redundancy)
            fixed_it[r.scope] = min(fixed_it.get(r.scope, math.inf), usable)
    kw = {
        h.id: min(h.positions * max((system[v].rack_max_kw for v in h.systems), default=0.0), fixed_it.get(h.id, math.inf)) for h in halls
    }
    total = sum(kw.values())
    if total <= 0:
        return kw
    scale = min(1.0, spec.site.utility_mw * 1000.0 / (total * peak_shape * DESIGN_PUE_GUESS), fixed_it.get(SITE, math.inf) / total)
    return {h: v * scale for h, v in kw.items()}


def _built(choice) -> tuple[str, int, str]:
    """(equipment, units, redundancy) of a plan's choice for a group."""
    equipment, redundancy = parse_option_id(choice.option)
    return equipment, choice.installed_units, redundancy


def _plan_probe(halls, system: dict[str, System], catalog, points, busy: np.ndarray, at: Solution):
    """(nameplate IT, liquid share per hall, hourly IT over nameplate) of a plan: the probe that makes the figures exact there."""
    hall_kw = {h.id: sum(n * system[v].rack_max_kw for (hh, v), n in at.racks.items() if hh == h.id) for h in halls}
    liquid_kw = {h.id: 0.0 for h in halls}
    for (h, v), n in at.racks.items():
        liquid_kw[h] += n * system[v].rack_max_kw * (system[v].liquid_share if at.cooling[h] == "liquid" else 0.0)
    liquid = {h: liquid_kw[h] / kw if kw > 0 else 0.0 for h, kw in hall_kw.items()}
    drawn = np.zeros_like(busy)
    for (_, v, model), x in at.serving.items():
        entry, spr = catalog[v]
        dynamic = min((points[entry.id][model].system_power_kw - entry.idle_kw) / (entry.max_kw - entry.idle_kw), 1.0)
        drawn += x * spr * (entry.idle_kw + (entry.max_kw - entry.idle_kw) * dynamic * busy)
    return hall_kw, liquid, drawn / sum(hall_kw.values())


def _models(spec: Spec, plan: PlanOptions, systems: tuple[System, ...], hours: int) -> tuple[ModelDemand, ...]:
    """Demand per model: absolute when the plan gives it, else a token mix.

    Workload shares are shares of the fleet; on the best candidate for each model they
    give a mix of tokens, which the plan must keep whatever hardware it picks.
    """
    models = [wm.model for wm in spec.workload.models]
    if plan.demand_output_tokens_per_s:
        need = plan.demand_output_tokens_per_s
        return tuple(ModelDemand(m, need[m] * SECONDS_PER_HOUR * hours if m in need else None) for m in models)
    best = {m: max(s.rate(m) / s.gpus_per_rack for s in systems) for m in models}
    for wm in spec.workload.models:
        if wm.share > 0 and best[wm.model] == 0:
            raise Unplannable(f"no candidate system that fits a hall serves {wm.model} at its SLA")
    weight = {wm.model: wm.share * best[wm.model] for wm in spec.workload.models}
    total = sum(weight.values())
    return tuple(ModelDemand(m, min_token_share=weight[m] / total * (1 - SHARE_SLACK)) for m in models)
