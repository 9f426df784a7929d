r"""Solving the roadmap: least discounted cost, or the levelized cost per token by Dinkelbach; then its shadow values.

Levelized cost is a ratio of discounted cost to discounted tokens, solved exactly by the
planner's Dinkelbach loop (`optimizer.dinkelbach`). The first plan is the least-cost one
(demand makes it produce tokens), or the most tokens when no demand is set.

Shadow values come from one LP: the roadmap's yes/no choices (halls built, cooling,
equipment options) fixed at the solution, counts (racks, units, switches) continuous, at
the final objective; a dual is the change of that objective per unit of a limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pyomo.environ as pyo

from optimizer.dinkelbach import Incumbent, dinkelbach
from optimizer.highs import Infeasible, SolveError, lp_duals, solve_model
from optimizer.model import MTOK
from optimizer.roadmap.explain import infeasible_reason
from optimizer.roadmap.model import build_roadmap_model, maximize_pv_tokens, minimize_pv_cost, minimize_pv_cost_less_token_value
from optimizer.roadmap.problem import RoadmapProblem
from optimizer.solution import DinkelbachStep, Status
from optimizer.solve import START_REL_GAP

SERVE_MOST_MIN_S = 300.0  # the LP of `serve_most` gets this long even when the solve's time is spent


@dataclass(frozen=True)
class RoadmapRun:
    """A solved roadmap model (its best plan's values loaded) and how the solve went."""

    model: pyo.ConcreteModel
    status: Status
    mip_gap: float  # min-cost: relative gap of the discounted cost; levelized: how far any roadmap may beat the price, over the discounted cost
    solve_time_s: float
    price_usd_per_mtok: float | None  # the final Dinkelbach price (levelized), None for min-cost
    steps: tuple[DinkelbachStep, ...] = ()


def solve_roadmap(rp: RoadmapProblem, *, time_limit_s: float = 300.0, rel_gap: float = 1e-3) -> RoadmapRun:
    """The best roadmap for `rp.objective` within `time_limit_s`.

    Raises:
        Infeasible: no roadmap meets every year's demand within its limits.
        SolveError: the time ran out before any roadmap was found.
    """
    deadline = time.monotonic() + time_limit_s
    m = build_roadmap_model(rp)
    minimize_pv_cost(m)
    loose = rel_gap if rp.objective == "min-cost" else max(rel_gap, START_REL_GAP)
    try:
        first = solve_model(m, time_limit_s=_left(deadline), rel_gap=loose)
    except Infeasible:
        raise Infeasible(infeasible_reason(rp)) from None
    settle_losses(m)
    if rp.objective == "min-cost":
        spent = first.solve_time_s + serve_most(m, _left(deadline))
        minimize_pv_cost(m)
        return RoadmapRun(m, first.status, first.gap(), spent, None)
    if pyo.value(m.pv_tokens_mtok) <= 0:
        maximize_pv_tokens(m)
        spent = first.solve_time_s
        first = solve_model(m, time_limit_s=_left(deadline), rel_gap=START_REL_GAP)
        first = replace(first, solve_time_s=spent + first.solve_time_s)
        settle_losses(m)
        if pyo.value(m.pv_tokens_mtok) <= 0:
            raise Infeasible("no roadmap within the limits produces any tokens")
    return _dinkelbach(m, deadline, rel_gap, first.solve_time_s)


def serve_most(m: pyo.ConcreteModel, time_limit_s: float) -> float:
    """With every choice fixed as loaded, the tokens served at their most; returns the seconds it took.

    Served tokens are what unavailability leaves; a least-cost objective does not look at
    them, so the bins and the tokens they weigh may sit anywhere above their bounds. With
    racks, units and halls fixed, each availability bin follows from its units: one LP.
    The objective is left to the caller to set again.
    """
    free = [
        v
        for v in m.component_data_objects(pyo.Var)
        if v.is_integer() and not v.fixed and not v.parent_component().local_name.startswith("bin_")
    ]
    for v in free:
        v.fix(round(v.value))
    maximize_pv_tokens(m)
    try:
        return solve_model(m, time_limit_s=max(time_limit_s, SERVE_MOST_MIN_S), rel_gap=1e-9).solve_time_s
    except SolveError:  # no time left for even this LP: the loss at its bound for the bins as they are
        settle_losses(m)
        return 0.0
    finally:
        for v in free:
            v.unfix()


def settle_losses(m: pyo.ConcreteModel) -> None:
    """Each year's tokens lost to unavailability (and the bins' tokens it weighs) at the least their constraints allow.

    The loss only lowers served tokens: an objective without them (least cost) leaves it
    anywhere above its bound, and a loose Dinkelbach step may too; its bound is exact.
    """
    for t in m.YEARS:
        y = m.year[t]
        for z in y.component_objects(pyo.Var, descend_into=True):
            if z.local_name.startswith("tokens_in_bin_"):  # each bin's tokens at their bound first: the loss weighs them
                rows = z.parent_block().component(z.local_name.replace("tokens_in_bin_", "tokens_of_bin_"))
                for i in z:
                    z[i].set_value(0.0)
                    z[i].set_value(max(0.0, -min(rows[i].lslack(), rows[i].uslack())))
        y.lost_tokens_mtok.set_value(0.0)
        shortfalls = [-min(c.lslack(), c.uslack()) for c in y.tokens_lost_to_unavailability.values()]
        y.lost_tokens_mtok.set_value(max([0.0, *shortfalls]))


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.01)


def _incumbent(m: pyo.ConcreteModel) -> Incumbent[list]:
    """The loaded roadmap (its values, to load again), its losses settled first."""
    settle_losses(m)
    return Incumbent(_values(m), pyo.value(m.pv_cost_usd), pyo.value(m.pv_tokens_mtok))


def _ratio(m: pyo.ConcreteModel) -> float:
    return Incumbent((), pyo.value(m.pv_cost_usd), pyo.value(m.pv_tokens_mtok)).price


def _dinkelbach(m: pyo.ConcreteModel, deadline: float, rel_gap: float, spent_s: float) -> RoadmapRun:
    """Dinkelbach from the loaded roadmap; then the best one loaded, its tokens served at their most."""
    run = dinkelbach(
        m,
        _incumbent(m),
        set_price=lambda price: minimize_pv_cost_less_token_value(m, price),
        read=lambda: _incumbent(m),
        deadline=deadline,
        rel_gap=rel_gap,
    )
    _restore(run.best.plan)
    spent_s += run.solve_time_s + serve_most(m, _left(deadline))
    best = min(run.best.price, _ratio(m))
    minimize_pv_cost_less_token_value(m, best)
    return RoadmapRun(m, run.status, run.gap, spent_s, best, run.steps)


def _values(m: pyo.ConcreteModel) -> list:
    return [(v, v.value) for v in m.component_data_objects(pyo.Var)]


def _restore(values: list) -> None:
    for v, x in values:
        v.set_value(x, skip_validation=True)


@dataclass(frozen=True)
class Binding:
    """One limit of one year: its slack at the roadmap, and the LP dual (change of the objective per unit)."""

    year: int
    kind: str  # utility | demand | positions | budget
    subject: str  # site, a model, a hall
    limit: float
    used: float
    unit: str
    dual: float  # objective units (discounted USD, less token value) per unit of the limit
    levelized_per_unit_usd_per_mtok: float  # dual over discounted tokens: the levelized cost's change


def shadow_values(rp: RoadmapProblem, run: RoadmapRun, *, time_limit_s: float = 60.0) -> tuple[Binding, ...]:
    """Each year's interconnect, demands, budget and built halls' positions, with their duals in the LP at the solution."""
    lp = run.model.clone()
    for v in lp.component_data_objects(pyo.Var):
        if v.is_binary():
            v.fix(round(v.value))
        if v.is_integer():  # fixed or not: HiGHS gives duals only for a problem without integers
            v.domain = pyo.NonNegativeReals
    duals = lp_duals(lp, time_limit_s=time_limit_s)
    m, tokens = run.model, pyo.value(run.model.pv_tokens_mtok)
    out = []
    for t, year in enumerate(rp.years):
        y, ylp, p = m.year[t], lp.year[t], rp.plans[t]
        c = ylp.design_hour_power_within_utility
        mw = (p.utility_kw / 1000.0, pyo.value(y.design_facility_kw) / 1000.0)
        out.append(Binding(year, "utility", "site", *mw, "MW", duals.get(c, 0.0) * 1000.0, 0.0))
        for d in p.models:
            if d.tokens_per_year is not None:
                c = ylp.demand_met[d.id]
                out.append(
                    Binding(
                        year,
                        "demand",
                        d.id,
                        d.tokens_per_year / MTOK,
                        pyo.value(y.tokens_mtok[d.id]),
                        "Mtok/year",
                        duals.get(c, 0.0),
                        0.0,
                    )
                )
        if rp.capex_budget_usd[t] is not None:
            c = lp.capex_within_budget[t]
            out.append(Binding(year, "budget", "site", rp.capex_budget_usd[t], pyo.value(m.capex_usd[t]), "USD", duals.get(c, 0.0), 0.0))
        for h in p.halls:
            if round(pyo.value(m.built[h.id, t])):
                c = lp.racks_only_in_built_halls[h.id, t]
                used = sum(pyo.value(y.hall_racks[hh, v]) for (hh, v) in m.HALL_SYSTEMS if hh == h.id)
                out.append(Binding(year, "positions", h.id, h.positions, used, "positions", duals.get(c, 0.0), 0.0))
    return tuple(Binding(**{**b.__dict__, "levelized_per_unit_usd_per_mtok": b.dual / tokens if tokens > 0 else 0.0}) for b in out)
