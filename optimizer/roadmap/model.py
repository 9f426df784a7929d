r"""The roadmap MILP: one block per year holding the one-year plan model, linked by one `add_<concern>` per group.

Each year's block is `optimizer.model.add_plan` on that year's problem (racks, cooling,
network, power and cooling units, the interconnect at the design hour, demand, costs), so
a year of the roadmap is exactly a plan the twin can score. What links the years:

- cohorts $n_{h,v,a,b}$ of racks serving years $a..b$ make up each year's racks, with the
  starting fleet's racks $f_{h,v,b}$ kept through year $b$;
- a hall serves only once built, not before its earliest year;
- each hall keeps its cooling type, power and cooling units and switches are never removed;
- the discounted cash flows (`optimizer.roadmap.problem`) and discounted tokens.

Money is USD, power kW and tokens Mtok, as in the plan model.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.model import STAGE_BLOCKS, add_plan
from optimizer.roadmap.problem import RoadmapProblem, cohorts, fleet_retirements


def build_roadmap_model(rp: RoadmapProblem) -> pyo.ConcreteModel:
    """The roadmap MILP without an objective."""
    m = pyo.ConcreteModel(name="roadmap")
    m.YEARS = pyo.Set(initialize=range(rp.horizon), ordered=True)
    add_years(m, rp)
    add_halls_built(m, rp)
    add_cohorts(m, rp)
    add_kept_choices(m, rp)
    add_cash_flows(m, rp)
    add_budget(m, rp)
    add_tokens(m, rp)
    return m


def add_years(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    """One block per year: the plan model of that year's problem.

    Consecutive identical halls are filled in order by the plan model; the roadmap keeps
    that only where the halls also open in the same year at the same cost.
    """
    m.year = pyo.Block(m.YEARS, rule=lambda b, t: add_plan(b, rp.plans[t]))
    for t in m.YEARS:
        order = m.year[t].identical_halls_filled_in_order
        for a, b in list(order):
            if (rp.hall_first_year[a], rp.hall_cost_usd[a]) != (rp.hall_first_year[b], rp.hall_cost_usd[b]):
                order[a, b].deactivate()
    m.HALLS = pyo.Set(initialize=list(m.year[0].HALLS), ordered=True)
    m.HALL_SYSTEMS = pyo.Set(dimen=2, initialize=list(m.year[0].HALL_SYSTEMS), ordered=True)


def add_halls_built(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    """A hall is built once, not before its earliest year, and holds racks only when built."""
    positions = {h.id: h.positions for h in rp.plans[0].halls}
    m.built = pyo.Var(m.HALLS, m.YEARS, domain=pyo.Binary, bounds=lambda m, h, t: (0, 0 if t < rp.hall_first_year[h] else 1))

    @m.Constraint(m.HALLS, m.YEARS)
    def built_halls_stay(m, h, t):
        r"""$b_{h,t} \ge b_{h,t-1}$"""
        return m.built[h, t] >= m.built[h, t - 1] if t > 0 else pyo.Constraint.Skip

    @m.Constraint(m.HALLS, m.YEARS)
    def racks_only_in_built_halls(m, h, t):
        r"""$\sum_v r_{h,v,t} \le P_h\, b_{h,t}$"""
        y = m.year[t]
        return sum(y.hall_racks[hh, v] for (hh, v) in m.HALL_SYSTEMS if hh == h) <= positions[h] * m.built[h, t]


def add_cohorts(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    """Racks in cohorts: installed at the start of a year, serving within their life, then retired."""
    positions = {h.id: h.positions for h in rp.plans[0].halls}
    m.COHORTS = pyo.Set(dimen=4, initialize=cohorts(rp, m.HALL_SYSTEMS), ordered=True)
    m.cohort = pyo.Var(m.COHORTS, domain=pyo.NonNegativeIntegers, bounds=lambda m, h, v, a, b: (0, positions[h]))

    m.FLEET = pyo.Set(dimen=3, initialize=fleet_retirements(rp), ordered=True)
    m.fleet_kept = pyo.Var(m.FLEET, domain=pyo.NonNegativeIntegers, bounds=lambda m, h, v, b: (0, rp.fleet[h, v]))

    @m.Constraint(m.HALL_SYSTEMS, m.YEARS)
    def racks_are_cohorts_in_service(m, h, v, t):
        r"""$\sum_c r_{h,v,c,t} = \sum_{a \le t \le b} n_{h,v,a,b} + \sum_{b \ge t} f_{h,v,b}$: never before the system ships, never past its life."""
        serving = [m.cohort[k] for k in m.COHORTS if k[:2] == (h, v) and k[2] <= t <= k[3]]
        kept = [m.fleet_kept[k] for k in m.FLEET if k[:2] == (h, v) and k[2] >= t]
        return m.year[t].hall_racks[h, v] == sum(serving) + sum(kept)

    m.FLEET_RACKS = pyo.Set(dimen=2, initialize=list(rp.fleet), ordered=True)

    @m.Constraint(m.FLEET_RACKS)
    def fleet_leaves_once(m, h, v):
        r"""$\sum_b f_{h,v,b} = F_{h,v}$: each rack of the starting fleet leaves once, at the start ($b = -1$) or after year $b$."""
        return sum(m.fleet_kept[k] for k in m.FLEET if k[:2] == (h, v)) == rp.fleet[h, v]


def add_kept_choices(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    """Cooling types stay, units and switches are only added (and not within the equipment lead time)."""
    y0 = m.year[0]

    @m.Constraint(y0.HALL_COOLING, m.YEARS)
    def hall_keeps_its_cooling(m, h, c, t):
        r"""$y_{h,c,t} = y_{h,c,0}$"""
        return m.year[t].cooled[h, c] == y0.cooled[h, c] if t > 0 else pyo.Constraint.Skip

    @m.Constraint(y0.FABRICS, m.YEARS)
    def switches_kept(m, f, t):
        r"""$N^{sw}_{f,t} \ge N^{sw}_{f,t-1}$, and the starting fleet's switches in the first year"""
        if t == 0:
            return m.year[0].switches[f] >= rp.fleet_switches[f] if f in rp.fleet_switches else pyo.Constraint.Skip
        return m.year[t].switches[f] >= m.year[t - 1].switches[f]

    for name in STAGE_BLOCKS:
        options = list(getattr(y0, name).OPTIONS)

        def units_kept(m, t, *k, name=name):
            r"""$u_{g,o,t} \ge u_{g,o,t-1}$; equal within the lead time"""
            if t == 0:
                return pyo.Constraint.Skip
            now, before = getattr(m.year[t], name).usable_units[k], getattr(m.year[t - 1], name).usable_units[k]
            return now == before if t < rp.equipment_lead_years else now >= before

        def option_kept(m, t, *k, name=name):
            r"""$z_{g,o,t} \ge z_{g,o,t-1}$"""
            return getattr(m.year[t], name).chosen[k] >= getattr(m.year[t - 1], name).chosen[k] if t > 0 else pyo.Constraint.Skip

        def units_standing(m, *k, name=name):
            r"""$u_{g,o,0} \ge U^{fleet}_{g,o}$: the starting fleet's units stay"""
            return getattr(y0, name).installed_units[k] >= rp.fleet_units[k] if k in rp.fleet_units else pyo.Constraint.Skip

        m.add_component(f"{name}_units_kept", pyo.Constraint(m.YEARS, options, rule=units_kept))
        m.add_component(f"{name}_option_kept", pyo.Constraint(m.YEARS, options, rule=option_kept))
        m.add_component(f"{name}_units_standing", pyo.Constraint(options, rule=units_standing))


def add_cash_flows(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    r"""Discounted cash: racks bought and sold, units, switches and halls bought and credited at the end, opex.

    A cohort $(a,b)$ costs $\delta_a K_{v,a} - \delta_{b+1} V_v(b-a+1)$; an item of cost $K$
    added in year $t$ costs $K(\delta_t - \delta_H\, \max(0, 1-(H-t)/L))$; opex is each year's
    plan cost less its capital recovery. $\delta_t = (1+r)^{-t}$.
    """
    H, d = rp.horizon, rp.factor
    crf, systems = rp.crf, {s.id: s for s in rp.plans[0].systems}
    fabrics = {f.id: f for f in rp.plans[0].fabrics}

    def buy_usd(v, a):
        """A rack bought in year a: the year-plan's capex at the price of year a."""
        return systems[v].rack_capex_usd + rp.variants[v].it_usd_by_year[a] - rp.variants[v].it_base_usd

    def worth(v, it_usd, age, b):
        """What a rack bought at `it_usd` is worth at `age` when it leaves after year b: sold before the horizon's end, or valued at it."""
        rv = rp.variants[v]
        return (
            it_usd * rp.it_value_share(age) * (1.0 - rp.resale_haircut_frac if b < H - 1 else 1.0)
            + rv.building_usd * rp.remaining("building", age)
            + rv.optics_usd * rp.remaining("network", age)
        )

    def cohort_usd(h, v, a, b):
        return d(a) * buy_usd(v, a) - d(b + 1) * worth(v, rp.variants[v].it_usd_by_year[a], b - a + 1, b)

    def fleet_usd(h, v, b):
        """A fleet rack kept through year b: its purchase is sunk; what it is worth when it leaves comes back."""
        return -d(b + 1) * worth(v, rp.fleet_it_usd[v], rp.fleet_age + b + 1, b)

    def added_usd(cls, t):
        """Discounted cost of one USD of an item of class `cls` bought in year t, less its value at the horizon."""
        return d(t) - d(H) * rp.remaining(cls, H - t)

    m.rack_pv_usd = pyo.Expression(
        expr=sum(cohort_usd(*k) * m.cohort[k] for k in m.COHORTS) + sum(fleet_usd(*k) * m.fleet_kept[k] for k in m.FLEET)
    )

    def stage_added(name, t, k):
        """Units bought in year t: beyond last year's, or in the first year beyond those standing."""
        b = getattr(m.year[t], name)
        return b.installed_units[k] - (getattr(m.year[t - 1], name).installed_units[k] if t > 0 else rp.fleet_units.get(k, 0))

    def switches_added(f, t):
        return m.year[t].switches[f] - (m.year[t - 1].switches[f] if t else rp.fleet_switches.get(f, 0))

    def built_now(h, t):
        return m.built[h, t] - (m.built[h, t - 1] if t else 0)

    option = {(sc, st.id, o.id): o for sc, st in rp.plans[0].stages() for o in st.options}
    m.equipment_pv_usd = pyo.Expression(
        expr=sum(
            option[k].capex_usd * added_usd(rp.stage_class[k[:2]], t) * stage_added(name, t, k)
            for name in STAGE_BLOCKS
            for k in getattr(m.year[0], name).OPTIONS
            for t in m.YEARS
        )
        + sum(fabrics[f].switch_capex_usd * added_usd("network", t) * switches_added(f, t) for f in m.year[0].FABRICS for t in m.YEARS)
    )
    m.hall_pv_usd = pyo.Expression(
        expr=sum(rp.hall_cost_usd[h] * added_usd("building", t) * built_now(h, t) for h in m.HALLS for t in m.YEARS)
    )
    m.capex_usd = pyo.Expression(
        m.YEARS,
        rule=lambda m, t: (
            sum(buy_usd(k[1], t) * m.cohort[k] for k in m.COHORTS if k[2] == t)
            + sum(option[k].capex_usd * stage_added(name, t, k) for name in STAGE_BLOCKS for k in getattr(m.year[0], name).OPTIONS)
            + sum(fabrics[f].switch_capex_usd * switches_added(f, t) for f in m.year[0].FABRICS)
            + sum(rp.hall_cost_usd[h] * built_now(h, t) for h in m.HALLS)
        ),
        doc="Capital spent in each year, undiscounted (USD).",
    )

    def price_gap(k, t, per_usd):
        """What cohorts bought at their year's price add to a year-plan costed at the catalog price."""
        h, v, a, b = k
        rv = rp.variants[v]
        return (rv.it_usd_by_year[a] - rv.it_base_usd) * per_usd if a <= t <= b else 0.0

    def fleet_price_gap(t, per_usd):
        """Likewise for the fleet's racks in service, at the price they were bought at."""
        return sum((rp.fleet_it_usd[v] - rp.variants[v].it_base_usd) * per_usd * m.fleet_kept[h, v, b] for (h, v, b) in m.FLEET if b >= t)

    def recovery(t):
        y = m.year[t]
        racks = sum(
            (
                rp.variants[v].it_base_usd * crf["it"]
                + rp.variants[v].building_usd * crf["building"]
                + rp.variants[v].optics_usd * crf["network"]
            )
            * y.racks[h, v, c]
            for (h, v, c) in y.RACK_OPTIONS
        )
        units = sum(
            option[k].capex_usd * crf[rp.stage_class[k[:2]]] * getattr(y, name).installed_units[k]
            for name in STAGE_BLOCKS
            for k in getattr(y, name).OPTIONS
        )
        return racks + units + sum(fabrics[f].switch_capex_usd * crf["network"] * y.switches[f] for f in y.FABRICS)

    m.opex_usd = pyo.Expression(
        m.YEARS,
        rule=lambda m, t: (
            m.year[t].annual_cost_usd
            - recovery(t)
            + sum(price_gap(k, t, rp.it_support_frac) * m.cohort[k] for k in m.COHORTS)
            + fleet_price_gap(t, rp.it_support_frac)
        ),
    )
    m.annual_cost_usd = pyo.Expression(
        m.YEARS,
        rule=lambda m, t: (
            m.year[t].annual_cost_usd
            + sum(price_gap(k, t, crf["it"] + rp.it_support_frac) * m.cohort[k] for k in m.COHORTS)
            + fleet_price_gap(t, crf["it"] + rp.it_support_frac)
            + sum(rp.hall_cost_usd[h] * crf["building"] * m.built[h, t] for h in m.HALLS)
        ),
    )
    m.pv_cost_usd = pyo.Expression(expr=m.rack_pv_usd + m.equipment_pv_usd + m.hall_pv_usd + sum(d(t) * m.opex_usd[t] for t in m.YEARS))


def add_budget(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    """Each year's capital spending within that year's budget, where there is one."""

    @m.Constraint(m.YEARS)
    def capex_within_budget(m, t):
        r"""$K_t \le B_t$"""
        budget = rp.capex_budget_usd[t]
        return pyo.Constraint.Skip if budget is None else m.capex_usd[t] <= budget


def add_tokens(m: pyo.ConcreteModel, rp: RoadmapProblem) -> None:
    r"""Discounted tokens served $\sum_t \delta_t T_t$ (Mtok, after unavailability, as the year-plans count them), discounted as the cash is."""
    m.pv_tokens_mtok = pyo.Expression(expr=sum(rp.factor(t) * m.year[t].served_tokens_mtok for t in m.YEARS))


def _set_objective(m: pyo.ConcreteModel, expr) -> None:
    if hasattr(m, "objective"):
        m.del_component("objective")
    m.objective = pyo.Objective(expr=expr, sense=pyo.minimize)


def minimize_pv_cost(m: pyo.ConcreteModel) -> None:
    r"""$\min \sum$ discounted cash (USD)."""
    _set_objective(m, m.pv_cost_usd)


def minimize_pv_cost_less_token_value(m: pyo.ConcreteModel, price_usd_per_mtok: float) -> None:
    r"""Dinkelbach's parametric problem $\min C - \lambda T$ over discounted cost and tokens."""
    if not hasattr(m, "token_price"):
        m.token_price = pyo.Param(mutable=True, initialize=0.0, domain=pyo.NonNegativeReals)
    m.token_price.set_value(price_usd_per_mtok)
    _set_objective(m, m.pv_cost_usd - m.token_price * m.pv_tokens_mtok)


def maximize_pv_tokens(m: pyo.ConcreteModel) -> None:
    r"""$\max \sum_t \delta_t T_t$: the start of Dinkelbach's iterations."""
    _set_objective(m, -m.pv_tokens_mtok)
