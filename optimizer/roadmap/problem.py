"""`roadmap_problem`: a spec's `roadmap:` section as plain numbers, one year-plan per year plus what links them.

Each year is the one-year planner's problem (`optimizer.problem.problem_from_spec`, with
every candidate system open in every hall and every group the plan can size), at that
year's interconnect and demand. The site's linear figures (losses, cooling per kW, the
price of a kW-year) are read once, on the campus at its largest interconnect.

With `fleet_installed_year`, the spec's deployments are a starting fleet: racks bought
that year (their capital sunk), serving until the roadmap retires them (at the start, or
at the end of a year) or their life ends, in halls that stand (their shells paid), with
the power and cooling units of those halls (and of the site's groups serving them) as
the spec writes them and the switches the fleet's racks take: they stay, and only units
and switches beyond them are bought.

What links the years, in cash (USD) and discounted to the first year at `discount` per year:
- racks come in cohorts: installed at the start of year `a`, serving years a..b (at most
  the system's life), then sold at their remaining value; the IT part is worth its price
  falling in a straight line to `resale_value_frac` of it at the end of its life (less
  `resale_haircut_frac` of that when sold before the horizon's end), the
  building fit-out and optics fall in a straight line over their class's life;
- power and cooling units and switches are kept once bought, and are credited at the
  horizon's end with their straight-line remaining value, as are the halls' shells;
- opex is each year's plan cost less its capital recovery (energy, maintenance, support,
  staff).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from optimizer.problem import SECONDS_PER_HOUR, parse_system_id, problem_from_spec
from optimizer.problem_types import SITE, ModelDemand, PlanProblem
from optimizer.spec_roles import POWER_SECTIONS, PlanError, group_roles, option_id
from twin.catalog_time import first_service_year, price_in_year
from twin.economics import ASSET_CLASSES, capital_recovery_factor
from twin.evaluate import spec_weather
from twin.plan_spec import PlanOptions
from twin.roadmap_spec import DemandPath, RoadmapOptions
from twin.spec import Spec
from twin.weather import Weather


@dataclass(frozen=True)
class RackVariant:
    """What the cash flows need of one rack variant beyond the year-plan's `System`."""

    id: str
    system: str  # the catalog id
    systems_per_rack: int
    first_year: int  # index of the first year a rack may serve (shipping and lead time)
    it_usd_by_year: tuple[float, ...]  # IT price of a rack bought in each year
    it_base_usd: float  # IT price of a rack in the year-plans (the catalog's price_usd)
    building_usd: float  # fit-out per rack (economics.facility_capex_usd_per_mw)
    optics_usd: float  # NIC optics of a rack


@dataclass(frozen=True)
class RoadmapProblem:
    """Everything the roadmap decides over, in plain numbers; year indices count from 0 at `years[0]`."""

    years: tuple[int, ...]
    plans: tuple[PlanProblem, ...]  # the year-plan of each year
    variants: dict[str, RackVariant]
    hall_first_year: dict[str, int]
    hall_cost_usd: dict[str, float]
    life_years: int
    resale_value_frac: float
    resale_haircut_frac: float  # lost on a sale before the horizon's end
    equipment_lead_years: int
    discount: float
    crf: dict[str, float]  # capital recovery factor per asset class, at the spec's economics
    class_life_years: dict[str, float]
    it_support_frac: float
    stage_class: dict[tuple[str, str], str]  # (scope, stage) -> power | cooling
    objective: str
    capex_budget_usd: tuple[float | None, ...]  # per year; None: no limit
    candidates: frozenset[str]  # rack variants that may be bought (the fleet's may only be kept)
    fleet: dict[tuple[str, str], int]  # (hall, variant) -> racks at the start
    fleet_age: int = 0  # years the fleet has served before the first year
    fleet_it_usd: dict[str, float] = field(default_factory=dict)  # variant -> IT price a fleet rack was bought at
    fleet_units: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (scope, stage, option) -> units standing at the start
    fleet_switches: dict[str, int] = field(default_factory=dict)  # fabric -> switches the fleet's racks are cabled to

    @property
    def horizon(self) -> int:
        return len(self.years)

    def factor(self, i: int) -> float:
        r"""Discount factor of year index `i`: $(1+r)^{-i}$."""
        return (1.0 + self.discount) ** -i

    def remaining(self, cls: str, age: float) -> float:
        """Straight-line remaining share of an asset of class `cls` after `age` years."""
        return max(0.0, 1.0 - age / self.class_life_years[cls])

    def it_value_share(self, age: int) -> float:
        """Remaining share of a rack's IT price after `age` years: 1 new, `resale_value_frac` at the end of its life."""
        return 1.0 - (1.0 - self.resale_value_frac) * age / self.life_years


def demand_in_year(path: DemandPath, start_year: int, year: int) -> float:
    """Output tokens/s of one model in `year`: the latest listed year's, or the first year's grown."""
    if path.tokens_per_s:
        return path.tokens_per_s[max(y for y in path.tokens_per_s if y <= year)]
    return path.first_year_tokens_per_s * (1.0 + (path.growth_per_year or 0.0)) ** (year - start_year)


def step_value(by_year: dict[int, float], year: int) -> float:
    """The value of the latest listed year not after `year`."""
    return by_year[max(y for y in by_year if y <= year)]


def roadmap_problem(spec: Spec, objective: str | None = None, weather: Weather | None = None) -> RoadmapProblem:
    """The roadmap of `spec`; PlanError when it cannot be modelled."""
    rm: RoadmapOptions | None = spec.roadmap
    if rm is None:
        raise PlanError("the spec has no roadmap: section")
    weather = weather or spec_weather(spec)
    hours = len(weather.dry_bulb_c)
    years = tuple(rm.year_list)
    base = problem_from_spec(year_plan_spec(spec, rm), "min-cost", weather)
    fleet = {(h.id, v): n for h in base.halls for v, n in h.min_racks.items() if n} if rm.fleet_installed_year is not None else {}
    base = replace(base, halls=tuple(replace(h, min_racks={}) for h in base.halls))  # the fleet is cohorts, not a floor
    plans = []
    for y in years:
        need = {m: demand_in_year(path, rm.start_year, y) for m, path in rm.demand.items()}
        models = tuple(ModelDemand(d.id, need[d.id] * SECONDS_PER_HOUR * hours if d.id in need else None) for d in base.models)
        plans.append(replace(base, utility_kw=step_value(rm.utility_mw, y) * 1000.0, models=models))
    econ = spec.economics
    crf = {cls: capital_recovery_factor(econ.discount_rate, getattr(econ.life_years, cls)) for cls in ASSET_CLASSES}
    roles = group_roles(spec)
    halls = {rh.hall: rh for rh in rm.halls}
    return RoadmapProblem(
        years=years,
        plans=tuple(plans),
        variants={s.id: _variant(spec, rm, s.id, s.rack_capex_usd, years) for s in base.systems},
        hall_first_year={
            h.id: max(0, (halls[h.id].earliest_year or rm.start_year) - rm.start_year) if h.id in halls else 0 for h in base.halls
        },
        hall_cost_usd={h.id: halls[h.id].cost_usd if h.id in halls and not _holds(fleet, h.id) else 0.0 for h in base.halls},
        life_years=rm.system_life_years,
        resale_value_frac=rm.resale_value_frac,
        resale_haircut_frac=rm.resale_haircut_frac,
        equipment_lead_years=rm.lead_time_years.equipment,
        discount=econ.discount_rate if rm.discount_rate is None else rm.discount_rate,
        crf=crf,
        class_life_years={cls: float(getattr(econ.life_years, cls)) for cls in ASSET_CLASSES},
        it_support_frac=econ.it_support_frac,
        stage_class={(scope, st.id): "power" if roles[st.id].section in POWER_SECTIONS else "cooling" for scope, st in base.stages()},
        objective=objective or rm.objective,
        capex_budget_usd=tuple(
            step_value(rm.capex_budget_usd, y) if rm.capex_budget_usd and min(rm.capex_budget_usd) <= y else None for y in years
        ),
        candidates=frozenset(s.id for s in base.systems if parse_system_id(s.id)[0] in rm.systems),
        fleet=fleet,
        fleet_age=rm.start_year - rm.fleet_installed_year if fleet else 0,
        fleet_it_usd={v: _it_usd(spec, v, rm.fleet_installed_year, rm.start_year) for _, v in fleet},
        fleet_units=_standing_units(spec, base, {h for h, _ in fleet}),
        fleet_switches=_standing_switches(base, fleet),
    )


def _standing_switches(base: PlanProblem, fleet: dict[tuple[str, str], int]) -> dict[str, int]:
    """Per fabric, the switches whose ports the fleet's racks take (as the plan model sizes them): they stand."""
    out = {}
    for f in base.fabrics:
        ports = sum(n * base.system(v).ports_per_rack for (h, v), n in fleet.items() if base.hall(h).fabric == f.id)
        if ports:
            out[f.id] = math.ceil(f.switch_ports_per_rack_port * ports / f.switch_ports - 1e-9)
    return out


def _standing_units(spec: Spec, base: PlanProblem, halls: set[str]) -> dict[tuple[str, str, str], int]:
    """With a starting fleet, the units its halls' groups (and the site's groups serving them) have as written: they stand."""
    if not halls:
        return {}
    roles = group_roles(spec)
    out = {}
    for scope, st in base.stages():
        serves_fleet = scope in halls or (scope == SITE and (st.halls is None or st.halls & halls))
        g = roles[st.id].group
        key = (scope, st.id, option_id(g.equipment, g.redundancy))
        if serves_fleet and any(o.id == key[2] for o in st.options):
            out[key] = g.units
    return out


def _holds(fleet: dict[tuple[str, str], int], hall: str) -> bool:
    return any(h == hall for h, _ in fleet)


def _system_and_per_rack(spec: Spec, variant: str) -> tuple[str, int]:
    system, per_rack = parse_system_id(variant)
    return system, per_rack or spec.cat.systems[system].systems_per_rack


def _it_usd(spec: Spec, variant: str, year: int, start_year: int) -> float:
    """IT price of one rack of `variant` bought in `year`."""
    system, spr = _system_and_per_rack(spec, variant)
    return spr * price_in_year(spec.cat.systems[system], year, start_year)


def year_plan_spec(spec: Spec, rm: RoadmapOptions) -> Spec:
    """The spec the year-plans are derived from: the campus at its largest interconnect, every candidate open, no racks."""
    plan = spec.plan or PlanOptions(equipment="all")
    first = {m: demand_in_year(path, rm.start_year, rm.start_year) for m, path in rm.demand.items()}
    fleet = rm.fleet_installed_year is not None  # its racks' variants join the year-plans (as floors, which the roadmap lifts)
    options = plan.model_copy(update={"systems": list(rm.systems), "keep_deployments": fleet, "demand_output_tokens_per_s": first})
    out = spec.model_copy(update={"plan": options, "site": spec.site.model_copy(update={"utility_mw": max(rm.utility_mw.values())})})
    out._base_catalog, out._path = spec._base_catalog, spec.path
    return out


def _variant(spec: Spec, rm: RoadmapOptions, variant: str, rack_capex_usd: float, years: tuple[int, ...]) -> RackVariant:
    system, spr = _system_and_per_rack(spec, variant)
    entry = spec.cat.systems[system]
    ships = first_service_year(entry) or years[0]
    first = max(ships - years[0], rm.lead_time_years.systems, 0)
    building = spec.economics.facility_capex_usd_per_mw * spr * entry.max_kw / 1000.0
    it_base = spr * entry.price_usd
    return RackVariant(
        id=variant,
        system=system,
        systems_per_rack=spr,
        first_year=first,
        it_usd_by_year=tuple(_it_usd(spec, variant, y, years[0]) for y in years),
        it_base_usd=it_base,
        building_usd=building,
        optics_usd=rack_capex_usd - it_base - building,
    )


def cohorts(rp: RoadmapProblem, halls_systems) -> list[tuple[str, str, int, int]]:
    """(hall, variant, first year served, last year served) of every cohort a rack may be bought in, within life and horizon."""
    out = []
    for h, v in halls_systems:
        if v not in rp.candidates:
            continue
        for a in range(rp.variants[v].first_year, rp.horizon):
            out += [(h, v, a, b) for b in range(a, min(a + rp.life_years, rp.horizon))]
    return out


def fleet_retirements(rp: RoadmapProblem) -> list[tuple[str, str, int]]:
    """(hall, variant, last year served) of every way a starting fleet's racks may leave: at the end of a year within their life, or at the start (-1)."""
    last = min(rp.life_years - rp.fleet_age, rp.horizon) - 1
    return [(h, v, b) for (h, v) in rp.fleet for b in range(-1, last + 1)]
