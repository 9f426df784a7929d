"""The plan MILP: `build_model(problem) -> ConcreteModel`, one `add_<concern>` per constraint group.

Inside the model, money is USD, power kW and tokens millions of output tokens per year
(Mtok), so the Dinkelbach price reads as USD per million tokens and the objective stays
well scaled. Every limit of `problem_types.limits` carries a `relax` variable fixed at 0;
`elastic=True` frees them, which turns the model into the relaxation model of `explain`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import pairwise

import pyomo.environ as pyo

from optimizer.problem_types import SITE, Conditions, PlanProblem, Stage, System, limits

MTOK = 1e6
DEMAND_RELAX_WEIGHT = 1e6  # dropping demand is the last resort (no system can serve it): the site's limits stretch first


def build_model(p: PlanProblem, *, elastic: bool = False) -> pyo.ConcreteModel:
    """The plan MILP without an objective; the solve strategies set one."""
    m = pyo.ConcreteModel(name="plan")
    add_plan(m, p, elastic=elastic)
    return m


def add_plan(m: pyo.Block, p: PlanProblem, *, elastic: bool = False) -> None:
    """Every constraint group of the plan on `m`: a model, or one year's block of a roadmap."""
    bounds = rack_bounds(p, elastic)
    add_sets(m, p, bounds)
    add_limits(m, p, elastic)
    add_racks(m, p, bounds)
    add_cooling_choice(m, bounds)
    add_network(m, p, bounds)
    add_utility_envelope(m, p)
    add_hall_power(m, p, bounds)
    add_hall_cooling(m, p, bounds)
    add_site_equipment(m, p, bounds)
    add_demand(m, p, bounds)
    add_availability(m, p, bounds)
    add_costs(m, p)
    add_budget(m, p)


@dataclass(frozen=True)
class RackBounds:
    """Upper bounds on racks: per allowed (hall, system), also the big-M of the cooling choice, and per hall."""

    per_system: dict[tuple[str, str], int]
    per_hall: dict[str, int]

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self.per_system[key]


def rack_bounds(p: PlanProblem, elastic: bool) -> RackBounds:
    """Rack bounds from positions and `max_racks`.

    When positions may stretch, the bound becomes what the request could ever use: every
    existing rack plus enough racks of the slowest capable system for every demand.
    """
    stretch = 0
    if elastic:
        stretch = sum(n for h in p.halls for n in h.min_racks.values())
        for d in p.models:
            rates = [s.rate(d.id) for s in p.systems if s.rate(d.id) > 0]
            if d.tokens_per_year is not None and rates:
                stretch += math.ceil(d.tokens_per_year / min(rates))
    per_system = {
        (h.id, s.id): min(h.max_racks.get(s.id, math.inf), max(h.positions, stretch)) for h in p.halls for s in p.systems if h.allows(s)
    }
    per_hall = {h.id: min(sum(n for (hh, _), n in per_system.items() if hh == h.id), math.inf if elastic else h.positions) for h in p.halls}
    return RackBounds(per_system, per_hall)


def add_sets(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """Halls, systems, models, and the (hall, system, cooling) triples a rack may take."""
    m.HALLS = pyo.Set(initialize=[h.id for h in p.halls], ordered=True)
    m.MODELS = pyo.Set(initialize=[d.id for d in p.models], ordered=True)
    m.FABRICS = pyo.Set(initialize=[f.id for f in p.fabrics], ordered=True)
    m.HALL_COOLING = pyo.Set(dimen=2, ordered=True, initialize=[(h.id, c) for h in p.halls for c in sorted(h.cooling_options)])
    m.HALL_SYSTEMS = pyo.Set(dimen=2, ordered=True, initialize=list(bounds.per_system))
    m.RACK_OPTIONS = pyo.Set(
        dimen=3,
        ordered=True,
        initialize=[
            (h, s, c)
            for (h, s) in bounds.per_system
            for (hc, c) in m.HALL_COOLING
            if hc == h and (c == "liquid" or not p.system(s).liquid_only)
        ],
    )
    m.SERVES = pyo.Set(
        dimen=3, ordered=True, initialize=[(h, s, d) for (h, s) in bounds.per_system for d in m.MODELS if p.system(s).rate(d) > 0]
    )


def add_limits(m: pyo.ConcreteModel, p: PlanProblem, elastic: bool) -> None:
    """One `relax` variable per limit, in the limit's unit (demand in Mtok); 0 unless elastic."""
    m.LIMITS = pyo.Set(initialize=[lim.key for lim in limits(p)], ordered=True)
    m.relax = pyo.Var(m.LIMITS, domain=pyo.NonNegativeReals, bounds=(0, None if elastic else 0))


def add_racks(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """Integer racks per hall, system and cooling type, within positions and above existing racks; racks serving each model."""
    m.racks = pyo.Var(m.RACK_OPTIONS, domain=pyo.NonNegativeIntegers, bounds=lambda m, h, s, c: (0, bounds[h, s]))
    m.hall_racks = pyo.Expression(
        m.HALL_SYSTEMS, rule=lambda m, h, s: sum(m.racks[h, s, c] for (hh, ss, c) in m.RACK_OPTIONS if (hh, ss) == (h, s))
    )
    m.serving = pyo.Var(m.SERVES, domain=pyo.NonNegativeReals, bounds=lambda m, h, s, d: (0, bounds[h, s]))  # continuous

    @m.Constraint(m.HALLS)
    def hall_positions_limit(m, h):
        r"""$\sum_{s,c} r_{h,s,c} \le P_h + \rho^{pos}_h$"""
        return rack_sum(m, p, lambda s, c: 1, h) <= p.hall(h).positions + m.relax[f"positions:{h}"]

    twins = [pair for group in identical_halls(p) for pair in pairwise(group)]

    @m.Constraint(twins)
    def identical_halls_filled_in_order(m, a, b):
        r"""$\sum_{s,c} r_{a,s,c} \ge \sum_{s,c} r_{b,s,c}$ for consecutive identical halls: breaks their symmetry."""
        return rack_sum(m, p, lambda s, c: 1, a) >= rack_sum(m, p, lambda s, c: 1, b)

    @m.Constraint(m.HALL_SYSTEMS)
    def existing_racks_kept(m, h, s):
        r"""$\sum_c r_{h,s,c} \ge R^{min}_{h,s}$"""
        least = p.hall(h).min_racks.get(s, 0)
        return m.hall_racks[h, s] >= least if least else pyo.Constraint.Skip


def identical_halls(p: PlanProblem) -> list[list[str]]:
    """Classes of two or more interchangeable halls.

    Equal but for the ids of the hall, its stages and its own fabric (a fabric it shares
    must be the same one), and served by the same site stages.
    """
    fabrics = {f.id: f for f in p.fabrics}
    users = {f: sum(h.fabric == f for h in p.halls) for f in fabrics}

    def key(h):
        served_by = frozenset(st.id for st in p.site_stages if st.halls is not None and h.id in st.halls)
        fabric = replace(fabrics[h.fabric], id="") if h.fabric is not None and users[h.fabric] == 1 else h.fabric
        return replace(h, id="", fabric=None, stages=tuple(replace(st, id="") for st in h.stages)), served_by, fabric

    classes: list[tuple[object, list[str]]] = []
    for h in p.halls:
        k = key(h)
        same = next((ids for kk, ids in classes if kk == k), None)
        if same is None:
            classes.append((k, [h.id]))
        else:
            same.append(h.id)
    return [ids for _, ids in classes if len(ids) > 1]


def add_cooling_choice(m: pyo.ConcreteModel, bounds: RackBounds) -> None:
    """One cooling type per hall; racks only of that type (liquid-only systems have no air triple)."""
    m.cooled = pyo.Var(m.HALL_COOLING, domain=pyo.Binary, bounds=(0, 1))

    @m.Constraint(m.HALLS)
    def one_cooling_type_per_hall(m, h):
        r"""$\sum_c y_{h,c} = 1$"""
        return sum(m.cooled[h, c] for (hh, c) in m.HALL_COOLING if hh == h) == 1

    @m.Constraint(m.RACK_OPTIONS)
    def racks_only_in_chosen_cooling(m, h, s, c):
        r"""$r_{h,s,c} \le \bar R_{h,s}\, y_{h,c}$"""
        return m.racks[h, s, c] <= bounds[h, s] * m.cooled[h, c]


def rack_sum(m: pyo.ConcreteModel, p: PlanProblem, coef, hall: str | None = None):
    r"""$\sum r_{h,s,c}\, coef(s, c)$ over the racks of one hall, or of every hall."""
    return sum(coef(p.system(s), c) * m.racks[h, s, c] for (h, s, c) in m.RACK_OPTIONS if hall in (None, h))


def per_rack(attr: str, load: str):
    """Coefficient of a rack for `load` (it, liquid_heat, air_heat) from its power figure `attr`.

    A liquid hall sends each system's liquid share to liquid and the rest to air; an air
    hall takes all of it as air.
    """

    def coef(s: System, cooling: str) -> float:
        liquid = s.liquid_share if cooling == "liquid" else 0.0
        share = {"it": 1.0, "liquid_heat": liquid, "air_heat": 1.0 - liquid}[load]
        return getattr(s, attr) * share

    return coef


def add_network(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """Integer switches per fabric with enough ports for the racks of its halls."""
    halls_of = {f.id: [h.id for h in p.halls if h.fabric == f.id] for f in p.fabrics}
    fabric = {f.id: f for f in p.fabrics}
    max_ports = {f: sum(_hall_max(p, bounds, h, lambda s: s.ports_per_rack) for h in halls_of[f]) for f in halls_of}
    m.switches = pyo.Var(
        m.FABRICS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda m, f: (0, math.ceil(max_ports[f] * fabric[f].switch_ports_per_rack_port / fabric[f].switch_ports)),
    )
    nics = rack_sum(m, p, lambda s, c: s.nic_kw)
    m.network_kw = pyo.Expression(expr=sum(fabric[f].switch_kw * m.switches[f] for f in m.FABRICS) + nics)
    m.hall_network_kw = pyo.Expression(m.HALLS, rule=lambda m, h: _hall_network_kw(m, p, h, halls_of))

    @m.Constraint(m.FABRICS)
    def switch_ports_cover_rack_ports(m, f):
        r"""$N^{sw}_f\, k_f \ge \phi_f \sum_{h \in f,s} \pi_s\, r_{h,s}$"""
        ports = sum(rack_sum(m, p, per_rack("ports_per_rack", "it"), h) for h in halls_of[f])
        return fabric[f].switch_ports * m.switches[f] >= fabric[f].switch_ports_per_rack_port * ports


def _hall_network_kw(m: pyo.ConcreteModel, p: PlanProblem, hall: str, halls_of: dict[str, list[str]]):
    r"""The network load a hall carries, as the twin places it (`twin.network.hall_network_shares`).

    Its racks' NIC optics, and its switches: a fabric serving one hall puts all its switches there; one over several halls is
    split by their rack ports, $\pi_s r_{h,s}\, \phi_f / k_f$ switches' worth each (the fabric's
    switch count before rounding up).
    """
    nics = rack_sum(m, p, lambda s, c: s.nic_kw, hall)
    f = next((fab for fab in p.fabrics if fab.id == p.hall(hall).fabric), None)
    if f is None:
        return nics
    if halls_of[f.id] == [hall]:
        return f.switch_kw * m.switches[f.id] + nics
    ports = rack_sum(m, p, per_rack("ports_per_rack", "it"), hall)
    return f.switch_kw * f.switch_ports_per_rack_port / f.switch_ports * ports + nics


def rack_facility_kw(s: System, cooling: str, cond: Conditions, attr: str) -> float:
    r"""One rack's facility power: $p(1+\omega) + p^{liq} c^{liq} + p^{air} c^{air}$ from its power figure `attr`."""
    return (
        per_rack(attr, "it")(s, cooling) * (1 + cond.it_overhead_frac)
        + per_rack(attr, "liquid_heat")(s, cooling) * cond.liquid_cooling_kw_per_kw
        + per_rack(attr, "air_heat")(s, cooling) * cond.air_cooling_kw_per_kw
    )


def facility_kw(m: pyo.ConcreteModel, p: PlanProblem, cond: Conditions, attr: str):
    r"""$\sum_{h,s,c} r_{h,s,c}\, f_{s,c} - \sum_{h,s,k} x_{h,s,k}\, \Delta_{s,k} f_s + N (1 + \omega + c^{air})$.

    Racks at their highest power, less what each model's operating point saves on the racks
    serving it; the network counts as air-cooled IT.
    """
    network = m.network_kw * (1 + cond.it_overhead_frac + cond.air_cooling_kw_per_kw)
    medium = {s.id: "liquid" if s.liquid_share > 0 else "air" for s in p.systems}  # one medium whatever the hall (see System)
    per_kw = {s.id: rack_facility_kw(replace(s, **{attr: 1.0}), medium[s.id], cond, attr) for s in p.systems}
    return rack_sum(m, p, lambda s, c: rack_facility_kw(s, c, cond, attr)) - _model_savings(m, p, attr, per_kw) + network


def _model_savings(m: pyo.ConcreteModel, p: PlanProblem, attr: str, per_kw: dict[str, float] | None = None):
    r"""$\sum_{h,s,k} x_{h,s,k}\, \Delta_{s,k}$: IT power (or, weighted by `per_kw`, facility power) the models save below `attr`."""
    return sum(
        (1.0 if per_kw is None else per_kw[s]) * p.system(s).model_saving_kw(d, attr) * m.serving[h, s, d]
        for (h, s, d) in m.SERVES
        if p.system(s).model_kw
    )


def add_utility_envelope(m: pyo.ConcreteModel, p: PlanProblem) -> None:
    """Facility power at the design (hottest) hour, with cooling at that temperature, within the utility."""
    m.design_it_kw = pyo.Expression(expr=rack_sum(m, p, per_rack("rack_kw", "it")) - _model_savings(m, p, "rack_kw") + m.network_kw)
    m.design_facility_kw = pyo.Expression(expr=facility_kw(m, p, p.design_hour, "rack_kw"))
    m.mean_facility_kw = pyo.Expression(expr=facility_kw(m, p, p.mean_hour, "rack_mean_kw"))

    @m.Constraint()
    def design_hour_power_within_utility(m):
        r"""$P^{fac}_{design} \le U + \rho^{util}$"""
        return m.design_facility_kw <= p.utility_kw + m.relax["utility"]


def add_hall_power(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """UPS modules, PDUs and busways per hall, sized with redundancy for the racks' nameplate power."""
    _add_stages(m, p, bounds, "hall_power", [(h.id, st) for h in p.halls for st in h.stages if st.carries == "it"])


def add_hall_cooling(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """CDUs for the heat to liquid and CRAHs for the heat to air, per hall, with redundancy."""
    _add_stages(m, p, bounds, "hall_cooling", [(h.id, st) for h in p.halls for st in h.stages if st.carries != "it"])


def add_site_equipment(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """Transformers, generators and heat-rejection plants shared by every hall."""
    _add_stages(m, p, bounds, "site_equipment", [(SITE, st) for st in p.site_stages])


STAGE_BLOCKS = ("hall_power", "hall_cooling", "site_equipment")


def _add_stages(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds, name: str, stages: list[tuple[str, Stage]]) -> None:
    """A block of stages: one option chosen per stage, integer usable units covering the stage's load.

    Installed units are usable units times 2 under 2N, plus the spare units of N+k when
    the option is chosen, so an unused stage costs nothing.
    """
    b = pyo.Block()
    m.add_component(name, b)
    option = {(scope, st.id, o.id): o for scope, st in stages for o in st.options}
    stage = {(scope, st.id): st for scope, st in stages}
    most = {
        k: max(
            math.ceil(_max_load_kw(m, p, bounds, k[0], stage[k[:2]]) / o.unit_kw),
            0 if o.installed is None else o.usable_units(o.installed),
        )
        for k, o in option.items()
    }
    b.STAGES = pyo.Set(dimen=2, ordered=True, initialize=list(stage))
    b.OPTIONS = pyo.Set(dimen=3, ordered=True, initialize=list(option))

    def unit_bounds(b, *k):
        o = option[k]
        return (0, most[k]) if o.installed is None else (o.usable_units(o.installed),) * 2

    def choice_bounds(b, *k):
        return (0, 1) if option[k].installed is None else (1, 1)

    b.usable_units = pyo.Var(b.OPTIONS, domain=pyo.NonNegativeIntegers, bounds=unit_bounds)
    b.chosen = pyo.Var(b.OPTIONS, domain=pyo.Binary, bounds=choice_bounds)
    b.installed_units = pyo.Expression(
        b.OPTIONS, rule=lambda b, *k: option[k].units_per_usable * b.usable_units[k] + option[k].spare_units * b.chosen[k]
    )
    b.capex_usd = pyo.Expression(expr=sum(option[k].capex_usd * b.installed_units[k] for k in b.OPTIONS))
    b.annual_usd = pyo.Expression(expr=sum(option[k].annual_usd * b.installed_units[k] for k in b.OPTIONS))
    b.load_kw = pyo.Expression(b.STAGES, rule=lambda b, scope, st: stage_load_kw(m, p, scope, stage[scope, st]))

    @b.Constraint(b.STAGES)
    def one_option_per_stage(b, scope, st):
        r"""$\sum_o z_{g,o} \le 1$"""
        return sum(b.chosen[k] for k in b.OPTIONS if k[:2] == (scope, st)) <= 1

    @b.Constraint(b.OPTIONS)
    def units_only_of_chosen_option(b, *k):
        r"""$u_{g,o} \le \bar u_{g,o}\, z_{g,o}$"""
        return b.usable_units[k] <= most[k] * b.chosen[k]

    @b.Constraint(b.STAGES)
    def capacity_covers_load(b, scope, st):
        r"""$\sum_o C_o\, u_{g,o} + \rho^{cap}_g \ge L_g$ (the relaxation only on stages built as they stand)"""
        relax = m.relax[f"capacity:{scope}/{st}"] if stage[scope, st].fixed else 0
        return sum(option[k].unit_kw * b.usable_units[k] for k in b.OPTIONS if k[:2] == (scope, st)) + relax >= b.load_kw[scope, st]


def stage_load_kw(m: pyo.ConcreteModel, p: PlanProblem, scope: str, st: Stage):
    """The load a stage carries: nameplate IT or heat of the halls it serves (times its load factor), or design-hour facility power.

    The network is IT, cooled by air: it loads power and air-cooling stages, each hall's with the hall's share.
    """
    if st.carries == "facility":
        return m.design_facility_kw
    halls = p.served_halls(scope, st)
    racks = sum(rack_sum(m, p, per_rack("rack_max_kw", st.carries), h) for h in halls)
    if st.carries == "liquid_heat":
        return st.load_factor * racks
    if scope == SITE and st.halls is None:
        return st.load_factor * (racks + m.network_kw)
    return st.load_factor * (racks + sum(m.hall_network_kw[h] for h in halls))


def _hall_max(p: PlanProblem, bounds: RackBounds, hall: str, per_rack_figure) -> float:
    """An upper bound on a per-rack figure summed over a hall's racks."""
    figures = [per_rack_figure(p.system(s)) for (h, s) in bounds.per_system if h == hall]
    return bounds.per_hall[hall] * max(figures, default=0.0)


def _max_load_kw(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds, scope: str, st: Stage) -> float:
    """An upper bound on a stage's load, for the big-M of its unit counts."""
    halls = p.served_halls(scope, st)
    it = sum(_hall_max(p, bounds, h, lambda s: s.rack_max_kw) for h in halls)
    network = sum(f.switch_kw * m.switches[f.id].ub for f in p.fabrics if any(p.hall(h).fabric == f.id for h in halls))
    network += sum(_hall_max(p, bounds, h, lambda s: s.nic_kw) for h in halls)
    if st.carries != "facility":
        return st.load_factor * (it + network)
    c = p.design_hour
    return (it + network) * (1 + c.it_overhead_frac + max(c.liquid_cooling_kw_per_kw, c.air_cooling_kw_per_kw))


def add_demand(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    """Racks serving each model, at most the racks installed (`add_racks`); demand and mix floors."""
    m.tokens_mtok = pyo.Expression(
        m.MODELS, rule=lambda m, d: sum(p.system(s).rate(d) / MTOK * m.serving[h, s, dd] for (h, s, dd) in m.SERVES if dd == d)
    )
    m.total_tokens_mtok = pyo.Expression(expr=sum(m.tokens_mtok[d] for d in m.MODELS))
    demand = {d.id: d for d in p.models}

    @m.Constraint(m.HALL_SYSTEMS)
    def racks_serve_at_most_installed(m, h, s):
        r"""$\sum_k x_{h,s,k} \le \sum_c r_{h,s,c}$"""
        return sum(m.serving[h, s, d] for (hh, ss, d) in m.SERVES if (hh, ss) == (h, s)) <= m.hall_racks[h, s]

    @m.Constraint(m.MODELS)
    def demand_met(m, d):
        r"""$\sum_{h,s} \tau_{s,k}\, x_{h,s,k} + \rho^{dem}_k \ge D_k$"""
        need = demand[d].tokens_per_year
        return pyo.Constraint.Skip if need is None else m.tokens_mtok[d] + m.relax[f"demand:{d}"] >= need / MTOK

    @m.Constraint(m.MODELS)
    def token_share_met(m, d):
        r"""$T_k \ge \sigma_k \sum_j T_j$"""
        share = demand[d].min_token_share
        return m.tokens_mtok[d] >= share * m.total_tokens_mtok if share else pyo.Constraint.Skip


AVAILABILITY_NEGLIGIBLE = 1e-3  # importance times unavailability below this costs at most ~0.1 % of the tokens: not priced
BIN_GROWTH = 1.2  # candidate unit counts: bins of usable units this much wider each, priced at their largest count


def add_availability(m: pyo.ConcreteModel, p: PlanProblem, bounds: RackBounds) -> None:
    r"""Tokens lost to unavailability: $L \ge c_j T + s_j \big(Q_0 T + \sum_g I_g \sum_{o,b} q_{o,b} Z_{g,o,b}\big)$ per tangent $j$.

    Each group's usable units fall in one of a few bins per option ($y_{g,o,b}$), priced at
    the unavailability of the bin's largest count; $Z_{g,o,b} = T_g\, y_{g,o,b}$ (the tokens of
    the halls the group serves) is linearized with a big-M. Served tokens are $T - L$.
    Groups whose unavailability never matters get no bins.
    """
    m.lost_tokens_mtok = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0, None))
    m.served_tokens_mtok = pyo.Expression(expr=m.total_tokens_mtok - m.lost_tokens_mtok)
    terms = []
    if p.loss_tangents:
        scope_of = {st.id: scope for scope, st in p.stages()}
        for name in STAGE_BLOCKS:
            b = getattr(m, name)
            for k in b.OPTIONS:
                scope, stage_id, _ = k
                st = next(st for sc, st in p.stages() if (sc, st.id) == (scope, stage_id))
                term = _availability_term(m, p, bounds, b, k, st, scope_of[st.id])
                if term is not None:
                    terms.append(term)
    m.AVAILABILITY_TANGENTS = pyo.RangeSet(0, len(p.loss_tangents) - 1) if p.loss_tangents else pyo.Set(initialize=[])
    weighted = sum(terms) + p.other_unavailability * m.total_tokens_mtok

    @m.Constraint(m.AVAILABILITY_TANGENTS)
    def tokens_lost_to_unavailability(m, j):
        r"""$L \ge c_j T + s_j Q T$"""
        c, slope = p.loss_tangents[j]
        return m.lost_tokens_mtok >= c * m.total_tokens_mtok + slope * weighted


def _availability_term(m, p: PlanProblem, bounds: RackBounds, b, k, st, scope):
    r"""$I_g \sum_b q_b Z_b$ for one option of a stage (None when negligible), adding its bins to the block."""
    o = next(o for o in st.options if o.id == k[2])
    most = int(b.usable_units[k].ub or 0)
    if st.importance <= 0 or most <= 0 or st.importance * o.unavailability(most) < AVAILABILITY_NEGLIGIBLE:
        return None
    halls = p.served_halls(scope, st)
    tokens = _tokens_of(m, p, halls)
    if o.installed is not None:  # built as it stands: a fixed unavailability on its halls' tokens
        return st.importance * o.unavailability(o.usable_units(o.installed)) * tokens
    big = sum(bounds.per_hall[h] * max((p.system(s).rate(d) for (hh, s, d) in m.SERVES if hh == h), default=0.0) for h in halls) / MTOK
    bins = _bins(o, most, st.importance)
    tag = "_".join(k).replace("@", "_").replace("+", "p").replace("-", "_")
    y = pyo.Var(range(len(bins)), domain=pyo.Binary)
    z = pyo.Var(range(len(bins)), domain=pyo.NonNegativeReals, bounds=(0, big))
    b.add_component(f"bin_{tag}", y)
    b.add_component(f"tokens_in_bin_{tag}", z)
    b.add_component(f"one_bin_{tag}", pyo.Constraint(expr=sum(y[i] for i in y) == b.chosen[k]))
    b.add_component(f"units_above_bin_{tag}", pyo.Constraint(expr=b.usable_units[k] >= sum(lo * y[i] for i, (lo, _) in enumerate(bins))))
    b.add_component(f"units_below_bin_{tag}", pyo.Constraint(expr=b.usable_units[k] <= sum(hi * y[i] for i, (_, hi) in enumerate(bins))))
    b.add_component(
        f"tokens_of_bin_{tag}", pyo.Constraint(range(len(bins)), rule=lambda _, i: z[i] >= tokens - big * (1 - y[i]))
    )
    return st.importance * sum(o.unavailability(hi) * z[i] for i, (_, hi) in enumerate(bins))


def _tokens_of(m: pyo.ConcreteModel, p: PlanProblem, halls: tuple[str, ...]):
    """A variable equal to the tokens (Mtok) of `halls`, one per set of halls, so the big-M rows of the bins stay sparse."""
    if not hasattr(m, "HALL_SETS"):
        m.HALL_SETS = {}
    if halls not in m.HALL_SETS:
        i = len(m.HALL_SETS)
        t = pyo.Var(domain=pyo.NonNegativeReals)
        m.add_component(f"tokens_of_hall_set_{i}", t)
        rule = t == sum(p.system(s).rate(d) / MTOK * m.serving[h, s, d] for (h, s, d) in m.SERVES if h in halls)
        m.add_component(f"tokens_of_hall_set_{i}_defined", pyo.Constraint(expr=rule))
        m.HALL_SETS[halls] = t
    return m.HALL_SETS[halls]


def _bins(o, most: int, importance: float) -> list[tuple[int, int]]:
    """Usable-unit bins (lo, hi) covering 0..most: one up to where unavailability starts to matter, then growing by `BIN_GROWTH`."""
    start = next((u for u in range(1, most + 1) if importance * o.unavailability(u) >= AVAILABILITY_NEGLIGIBLE), most)
    bins, lo = [(0, max(start - 1, 0))], start
    while lo <= most:
        hi = min(most, max(lo, math.floor(lo * BIN_GROWTH)))
        bins.append((lo, hi))
        lo = hi + 1
    return bins


def add_costs(m: pyo.ConcreteModel, p: PlanProblem) -> None:
    """Capex, and the annual cost: annualized capex and fixed opex, energy, demand charges, fixed costs."""
    fabric = {f.id: f for f in p.fabrics}
    blocks = [getattr(m, name) for name in STAGE_BLOCKS]
    m.capex_usd = pyo.Expression(
        expr=rack_sum(m, p, lambda s, c: s.rack_capex_usd)
        + sum(b.capex_usd for b in blocks)
        + sum(fabric[f].switch_capex_usd * m.switches[f] for f in m.FABRICS)
    )
    m.annual_cost_usd = pyo.Expression(
        expr=p.fixed_annual_usd
        + rack_sum(m, p, lambda s, c: s.rack_annual_usd)
        + sum(b.annual_usd for b in blocks)
        + sum(fabric[f].switch_annual_usd * m.switches[f] for f in m.FABRICS)
        + p.energy_usd_per_kw_year * m.mean_facility_kw
        + p.demand_charge_usd_per_kw_year * m.design_facility_kw
    )


def add_budget(m: pyo.ConcreteModel, p: PlanProblem) -> None:
    """Capex within the budget, when there is one."""

    @m.Constraint()
    def capex_within_budget(m):
        r"""$K \le B + \rho^{bud}$"""
        return pyo.Constraint.Skip if p.capex_budget_usd is None else m.capex_usd <= p.capex_budget_usd + m.relax["budget"]


# --- objectives --------------------------------------------------------------------------


def _set_objective(m: pyo.ConcreteModel, expr, sense) -> None:
    if hasattr(m, "objective"):
        m.del_component("objective")
    m.objective = pyo.Objective(expr=expr, sense=sense)


def minimize_cost(m: pyo.ConcreteModel) -> None:
    r"""$\min C$ (USD/year)."""
    _set_objective(m, m.annual_cost_usd, pyo.minimize)


def maximize_tokens(m: pyo.ConcreteModel) -> None:
    r"""$\max T - L$ (Mtok/year served)."""
    _set_objective(m, m.served_tokens_mtok, pyo.maximize)


def minimize_cost_less_token_value(m: pyo.ConcreteModel, price_usd_per_mtok: float) -> None:
    r"""Dinkelbach's parametric problem $\min C - \lambda T$ at the price $\lambda$ of a million tokens."""
    if not hasattr(m, "token_price"):
        m.token_price = pyo.Param(mutable=True, initialize=0.0, domain=pyo.NonNegativeReals)
        _set_objective(m, m.annual_cost_usd - m.token_price * m.served_tokens_mtok, pyo.minimize)
    m.token_price.set_value(price_usd_per_mtok)


def minimize_relaxation(m: pyo.ConcreteModel, p: PlanProblem, only: str | None = None) -> None:
    r"""$\min \sum_\ell w_\ell \rho_\ell / V_\ell$: the smallest stretch of the limits (or of the one limit `only`), each relative to its size."""
    weight = {lim.key: (DEMAND_RELAX_WEIGHT * MTOK if lim.kind == "demand" else 1.0) / max(lim.value, 1e-9) for lim in limits(p)}
    _set_objective(m, sum(weight[k] * m.relax[k] for k in m.LIMITS if only in (None, k)), pyo.minimize)


def hold_cost(m: pyo.ConcreteModel, usd: float, give: float) -> None:
    """Keep the annual cost within a relative `give` of a first pass's optimum while a second objective breaks ties."""
    m.cost_held_at_optimum = pyo.Constraint(expr=m.annual_cost_usd <= usd * (1 + give))


def hold_tokens(m: pyo.ConcreteModel, mtok: float, give: float) -> None:
    """Keep the tokens within a relative `give` of a first pass's optimum while a second objective breaks ties."""
    m.tokens_held_at_optimum = pyo.Constraint(expr=m.served_tokens_mtok * (1 + give) >= mtok)
