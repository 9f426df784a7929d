"""Small plan problems, and a brute-force planner that tries every integer choice.

The brute force re-derives every figure from the problem with plain arithmetic (not from
the Pyomo model), so the MILP is checked against an independent reading of the same
formulas. For given racks the token assignment is a small LP, solved with scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import product

import numpy as np
import pytest
from scipy.optimize import linprog

from optimizer.problem_types import (
    SITE,
    Conditions,
    Fabric,
    Hall,
    ModelDemand,
    PlanProblem,
    Stage,
    System,
    UnitOption,
)

AIR8 = System("air8", 36, 30, 45, 0.0, False, 32, 32, 1.2e6, 0.33e6, {"chat": 0.9e12})
HYB = System("hyb", 60, 50, 70, 0.6, False, 16, 16, 1.5e6, 0.42e6, {"chat": 1.6e12, "reason": 0.5e12})
NVL = System("nvl", 120, 100, 132, 0.85, True, 72, 72, 3.9e6, 1.05e6, {"chat": 4.2e12, "reason": 1.9e12}, nic_kw=1.2)

UPS_200 = UnitOption("ups-200", 200, 90e3, 12e3, "N+1")
UPS_500 = UnitOption("ups-500", 500, 120e3, 15e3, "N+1")
CDU = Stage("cdu", "liquid_heat", (UnitOption("cdu-150", 150, 40e3, 5e3, "N+1"),))
CRAH = Stage("crah", "air_heat", (UnitOption("crah-60", 60, 20e3, 3e3),))


def small_problem(**changes) -> PlanProblem:
    """Two halls (3 and 2 positions), three systems, two models, a loose 10 MW utility."""
    halls = (
        Hall("hall-a", 3, 80, stages=(Stage("ups", "it", (UPS_200, UPS_500)), CDU, CRAH), fabric="fab"),
        Hall("hall-b", 2, 140, stages=(Stage("ups", "it", (replace(UPS_500, redundancy="2N"),)), CDU, CRAH), fabric="fab"),
    )
    base = PlanProblem(
        halls=halls,
        systems=(AIR8, HYB, NVL),
        models=(ModelDemand("chat"), ModelDemand("reason")),
        utility_kw=10_000,
        design_hour=Conditions(0.05, 0.08, 0.35),
        mean_hour=Conditions(0.04, 0.03, 0.20),
        energy_usd_per_kw_year=613.0,
        demand_charge_usd_per_kw_year=60.0,
        fixed_annual_usd=0.5e6,
        site_stages=(
            Stage("plant", "liquid_heat", (UnitOption("dry-400", 400, 100e3, 12e3, "N+1"),)),
            Stage("chiller", "air_heat", (UnitOption("chiller-300", 300, 150e3, 18e3, "N+1"),)),
        ),
        fabrics=(Fabric("fab", 64, 3.0, 40e3, 10e3, 1.5),),
    )
    return replace(base, **changes)


@dataclass(frozen=True)
class Plan:
    """One enumerated plan and its figures."""

    racks: tuple  # ((hall, system, cooling), n) with n > 0
    annual_cost_usd: float
    capex_usd: float
    tokens_per_year: float
    design_facility_kw: float

    @property
    def ratio(self) -> float:
        return self.annual_cost_usd / (self.tokens_per_year / 1e6)


def enumerate_plans(p: PlanProblem) -> list[Plan]:
    """Every feasible plan: rack layouts under each hall's cooling types, times one option per stage."""
    layouts = [list(_hall_layouts(p, h)) for h in p.halls]
    stage_options = [[(scope, st, o) for o in st.options] for scope, st in p.stages()]
    out, lp = [], {}
    for layout in product(*layouts):
        racks = {k: n for part in layout for k, n in part.items()}
        by_system = tuple(sum(n for (_, s, _), n in racks.items() if s == sys.id) for sys in p.systems)
        tokens = lp[by_system] if by_system in lp else lp.setdefault(by_system, _max_tokens(p, by_system))
        if tokens is None:
            continue
        for choice in product(*stage_options):
            plan = _evaluate(p, racks, choice, tokens)
            if plan is not None:
                out.append(plan)
    return out


def best_plan(p: PlanProblem, objective: str) -> Plan:
    """The enumerated optimum, with the same tie-breaks as the optimizer."""
    plans = enumerate_plans(p)
    if objective == "cost-per-token":
        return min((q for q in plans if q.tokens_per_year > 0), key=lambda q: q.ratio)
    if objective == "min-cost":
        least = min(q.annual_cost_usd for q in plans)
        return max((q for q in plans if q.annual_cost_usd <= least * (1 + 1e-9)), key=lambda q: q.tokens_per_year)
    most = max(q.tokens_per_year for q in plans)
    return min((q for q in plans if q.tokens_per_year >= most * (1 - 1e-9)), key=lambda q: q.annual_cost_usd)


def _hall_layouts(p: PlanProblem, h: Hall):
    for cooling in sorted(h.cooling_options):
        systems = [s for s in p.systems if h.allows(s) and (cooling == "liquid" or not s.liquid_only)]
        ranges = [range(h.min_racks.get(s.id, 0), min(h.max_racks.get(s.id, h.positions), h.positions) + 1) for s in systems]
        for counts in product(*ranges):
            if sum(counts) <= h.positions and all(
                sum(c for s, c in zip(systems, counts, strict=True) if s.id == e) >= n for e, n in h.min_racks.items()
            ):
                yield {(h.id, s.id, cooling): n for s, n in zip(systems, counts, strict=True) if n}


def _shares(s: System, cooling: str) -> tuple[float, float]:
    """(liquid, air) shares of a rack's heat."""
    liquid = s.liquid_share if cooling == "liquid" else 0.0
    return liquid, 1.0 - liquid


def _evaluate(p: PlanProblem, racks: dict, choice: tuple, tokens: float) -> Plan | None:
    system = {s.id: s for s in p.systems}
    switches = {}
    for f in p.fabrics:
        ports = sum(n * system[s].ports_per_rack for (h, s, _), n in racks.items() if p.hall(h).fabric == f.id)
        switches[f.id] = math.ceil(f.switch_ports_per_rack_port * ports / f.switch_ports - 1e-9)
    nics = {h.id: sum(n * system[s].nic_kw for (hh, s, _), n in racks.items() if hh == h.id) for h in p.halls}
    network_kw = sum(f.switch_kw * switches[f.id] for f in p.fabrics) + sum(nics.values())

    def facility(cond: Conditions, attr: str) -> float:
        total = network_kw * (1 + cond.it_overhead_frac + cond.air_cooling_kw_per_kw)
        for (_, s, c), n in racks.items():
            kw = getattr(system[s], attr)
            liquid, air = _shares(system[s], c)
            total += n * kw * (1 + cond.it_overhead_frac + liquid * cond.liquid_cooling_kw_per_kw + air * cond.air_cooling_kw_per_kw)
        return total

    design_kw, mean_kw = facility(p.design_hour, "rack_kw"), facility(p.mean_hour, "rack_mean_kw")

    def load(scope: str, st: Stage) -> float:
        if st.carries == "facility":
            return design_kw
        return st.load_factor * nameplate(p.served_halls(scope, st), st.carries, scope == SITE and st.halls is None)

    def nameplate(halls: tuple[str, ...], carries: str, site_wide: bool) -> float:
        total = 0.0
        for (h, s, c), n in racks.items():
            if h in halls:
                liquid, air = _shares(system[s], c)
                total += n * system[s].rack_max_kw * {"it": 1.0, "liquid_heat": liquid, "air_heat": air}[carries]
        if carries == "liquid_heat":
            return total
        return total + (network_kw if site_wide else sum(hall_network_kw(h) for h in halls))

    def hall_network_kw(hall: str) -> float:
        """The hall's switches: all of its fabric's if the fabric serves it alone, else its ports' worth."""
        f = next((f for f in p.fabrics if f.id == p.hall(hall).fabric), None)
        if f is None:
            return nics[hall]
        if [h.id for h in p.halls if h.fabric == f.id] == [hall]:
            return f.switch_kw * switches[f.id] + nics[hall]
        ports = sum(n * system[s].ports_per_rack for (h, s, _), n in racks.items() if h == hall)
        return f.switch_kw * f.switch_ports_per_rack_port / f.switch_ports * ports + nics[hall]

    capex = sum(n * system[s].rack_capex_usd for (_, s, _), n in racks.items()) + sum(
        f.switch_capex_usd * switches[f.id] for f in p.fabrics
    )
    annual = p.fixed_annual_usd + sum(n * system[s].rack_annual_usd for (_, s, _), n in racks.items())
    annual += sum(f.switch_annual_usd * switches[f.id] for f in p.fabrics)
    annual += p.energy_usd_per_kw_year * mean_kw + p.demand_charge_usd_per_kw_year * design_kw
    for scope, st, o in choice:
        need = load(scope, st)
        if o.installed is not None:
            if o.usable_units(o.installed) * o.unit_kw < need - 1e-6:
                return None
            units = o.installed
        else:
            usable = math.ceil(need / o.unit_kw - 1e-9)
            units = usable * (2 if o.redundancy == "2N" else 1) + {"N": 0, "N+1": 1, "N+2": 2, "2N": 0}[o.redundancy] * (usable > 0)
        capex += units * o.capex_usd
        annual += units * o.annual_usd
    if design_kw > p.utility_kw + 1e-6 or (p.capex_budget_usd is not None and capex > p.capex_budget_usd + 1e-6):
        return None
    return Plan(tuple(sorted(racks.items())), annual, capex, tokens, design_kw)


def _max_tokens(p: PlanProblem, racks_by_system: tuple[int, ...]) -> float | None:
    """Most tokens/year the racks can serve under the demand and share floors; None if they cannot meet them."""
    pairs = [(i, j) for i, s in enumerate(p.systems) for j, d in enumerate(p.models) if s.rate(d.id) > 0 and racks_by_system[i]]
    if not pairs:
        return None if any(d.tokens_per_year for d in p.models) else 0.0
    rate = np.array([p.systems[i].rate(p.models[j].id) / 1e6 for i, j in pairs])
    a_ub, b_ub = [], []
    for i, n in enumerate(racks_by_system):
        a_ub.append([1.0 if k[0] == i else 0.0 for k in pairs])
        b_ub.append(n)
    for j, d in enumerate(p.models):
        mine = np.array([rate[k] if pairs[k][1] == j else 0.0 for k in range(len(pairs))])
        if d.tokens_per_year is not None:
            a_ub.append(list(-mine))
            b_ub.append(-d.tokens_per_year / 1e6)
        if d.min_token_share:
            a_ub.append(list(d.min_token_share * rate - mine))
            b_ub.append(0.0)
    res = linprog(-rate, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    return -res.fun * 1e6 if res.status == 0 else None


def test_empty_plan_costs_the_fixed_costs():
    p = small_problem()
    empty = [q for q in enumerate_plans(p) if not q.racks]
    assert empty
    assert all(q.annual_cost_usd == pytest.approx(p.fixed_annual_usd) for q in empty)


def test_one_air_rack_costs_what_the_hand_calculation_says():
    halls = tuple(replace(h, stages=(), fabric=None) for h in small_problem().halls)
    p = small_problem(halls=halls, site_stages=(), fabrics=(), demand_charge_usd_per_kw_year=0.0)
    one = next(q for q in enumerate_plans(p) if q.racks == ((("hall-a", "air8", "air"), 1),))
    energy = 613.0 * 30 * (1 + 0.04 + 0.20)
    assert one.annual_cost_usd == pytest.approx(0.5e6 + 0.33e6 + energy)
    assert one.tokens_per_year == pytest.approx(0.9e12)
    assert one.design_facility_kw == pytest.approx(36 * 1.40)
