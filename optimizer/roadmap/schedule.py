"""A solved roadmap as plain numbers: each year's plan, what is built, installed and retired, and its costs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from optimizer.model import MTOK
from optimizer.roadmap.problem import RoadmapProblem
from optimizer.roadmap.solve import RoadmapRun
from optimizer.solution import DinkelbachStep, Solution, Status, read_solution


@dataclass(frozen=True)
class RoadmapYear:
    """One year of the roadmap. Rack keys are (hall, rack variant)."""

    year: int
    plan: Solution  # the year's facility, as the one-year planner would report it
    utility_kw: float
    demand_tokens_per_year: dict[str, float]
    halls_built: tuple[str, ...]  # every hall standing this year
    new_halls: tuple[str, ...]
    installed: dict[tuple[str, str], int]  # at the start of the year
    retired: dict[tuple[str, str], int]  # at the end of the year (racks kept to the horizon's end are not retired)
    it_price_usd: dict[str, float]  # catalog system -> mean price of one system over its racks in service
    hall_annual_usd: float  # capital recovery of the halls' shells
    annual_cost_usd: float  # the twin's view: capital recovery at the spec's lives plus this year's opex
    capex_usd: float  # capital spent this year, undiscounted: racks, units, switches, halls' shells
    sold_at_start: dict[tuple[str, str], int] = field(default_factory=dict)  # the starting fleet's racks sold before the first year serves

    @property
    def tokens_per_year(self) -> float:
        return self.plan.tokens_per_year

    @property
    def cost_per_mtok_usd(self) -> float:
        """This year's cost per million output tokens, as `aift evaluate` scores the year's spec."""
        return self.annual_cost_usd / (self.tokens_per_year / MTOK) if self.tokens_per_year > 0 else float("inf")


@dataclass(frozen=True)
class Roadmap:
    """The roadmap: every year, and the discounted totals."""

    problem: RoadmapProblem
    objective: str
    status: Status
    mip_gap: float
    solve_time_s: float
    pv_cost_usd: float
    pv_tokens_mtok: float
    years: tuple[RoadmapYear, ...]
    steps: tuple[DinkelbachStep, ...] = ()

    @property
    def levelized_usd_per_mtok(self) -> float:
        """Discounted cost over discounted tokens, USD per million output tokens."""
        return self.pv_cost_usd / self.pv_tokens_mtok if self.pv_tokens_mtok > 0 else float("inf")

    def schedule_rows(self) -> list[dict]:
        """One row per year, hall and system with anything to say: racks installed, retired and in service."""
        rows = []
        for y in self.years:
            keys = sorted(set(y.plan.racks) | set(y.installed) | set(y.retired) | set(y.sold_at_start))
            rows += [
                {
                    "year": y.year,
                    "hall": h,
                    "system": v,
                    "hall_built": "new" if h in y.new_halls else "yes",
                    "installed": y.installed.get((h, v), 0),
                    "in_service": y.plan.racks.get((h, v), 0),
                    "retired": y.retired.get((h, v), 0),
                    "sold_at_start": y.sold_at_start.get((h, v), 0),
                    "gpus": y.plan.racks.get((h, v), 0) * self.problem.plans[0].system(v).gpus_per_rack,
                }
                for h, v in keys
            ]
        return rows

    def gpus_by_system(self) -> dict[int, dict[str, int]]:
        """Year -> catalog system -> GPUs in service."""
        out: dict[int, dict[str, int]] = {}
        for y in self.years:
            row = out.setdefault(y.year, {})
            for (_, v), n in y.plan.racks.items():
                system = self.problem.variants[v].system
                row[system] = row.get(system, 0) + n * self.problem.plans[0].system(v).gpus_per_rack
        return out


def read_roadmap(rp: RoadmapProblem, run: RoadmapRun) -> Roadmap:
    """The loaded values of the roadmap model."""
    m = run.model
    cohorts = {k: round(pyo.value(m.cohort[k])) for k in m.COHORTS}
    cohorts = {k: n for k, n in cohorts.items() if n}
    fleet = {(h, v, b): round(pyo.value(m.fleet_kept[h, v, b])) for (h, v, b) in m.FLEET}
    fleet = {k: n for k, n in fleet.items() if n}
    years = []
    for t, year in enumerate(rp.years):
        plan = read_solution(
            m.year[t], rp.plans[t], objective="min-cost", status=run.status, objective_value=0.0, mip_gap=run.mip_gap, solve_time_s=0.0
        )
        built = tuple(h for h in m.HALLS if round(pyo.value(m.built[h, t])))
        before = {h for h in m.HALLS if round(pyo.value(m.built[h, t - 1]))} if t else {h for h, _ in rp.fleet}
        years.append(
            RoadmapYear(
                year=year,
                plan=plan,
                utility_kw=rp.plans[t].utility_kw,
                demand_tokens_per_year={d.id: d.tokens_per_year for d in rp.plans[t].models if d.tokens_per_year is not None},
                halls_built=built,
                new_halls=tuple(h for h in built if h not in before),
                installed=_sum_by(cohorts, lambda a, b, t=t: a == t),
                retired=_sum_by(cohorts | _as_cohorts(fleet), lambda a, b, t=t: b == t and b < rp.horizon - 1),
                it_price_usd=_mean_prices(rp, cohorts, fleet, t),
                hall_annual_usd=sum(rp.hall_cost_usd[h] * rp.crf["building"] for h in built),
                annual_cost_usd=pyo.value(m.annual_cost_usd[t]),
                capex_usd=pyo.value(m.capex_usd[t]),
                sold_at_start={(h, v): n for (h, v, b), n in fleet.items() if b == -1} if t == 0 else {},
            )
        )
    return Roadmap(
        problem=rp,
        objective=rp.objective,
        status=run.status,
        mip_gap=run.mip_gap,
        solve_time_s=run.solve_time_s,
        pv_cost_usd=pyo.value(m.pv_cost_usd),
        pv_tokens_mtok=pyo.value(m.pv_tokens_mtok),
        years=tuple(years),
        steps=run.steps,
    )


def _sum_by(cohorts: dict, keep) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for (h, v, a, b), n in cohorts.items():
        if keep(a, b):
            out[h, v] = out.get((h, v), 0) + n
    return out


def _as_cohorts(fleet: dict) -> dict:
    """The fleet's racks as cohorts served from before the first year (-1): none is ever installed within the horizon."""
    return {(h, v, -1, b): n for (h, v, b), n in fleet.items()}


def _mean_prices(rp: RoadmapProblem, cohorts: dict, fleet: dict, t: int) -> dict[str, float]:
    """Per catalog system, the mean price of one system over the racks serving in year t (each at the price it was bought at)."""
    usd: dict[str, float] = {}
    systems: dict[str, int] = {}
    serving = [(v, rp.variants[v].it_usd_by_year[a], n) for (_, v, a, b), n in cohorts.items() if a <= t <= b]
    serving += [(v, rp.fleet_it_usd[v], n) for (_, v, b), n in fleet.items() if t <= b]
    for v, it_usd, n in serving:
        rv = rp.variants[v]
        usd[rv.system] = usd.get(rv.system, 0.0) + n * it_usd
        systems[rv.system] = systems.get(rv.system, 0) + n * rv.systems_per_rack
    return {s: usd[s] / systems[s] for s in usd}
