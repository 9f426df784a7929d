"""Why a plan is what it is: binding limits, their shadow values, and relaxations of infeasible requests.

The limits that bind are those without room for one more rack. For a request no plan
can meet, the smallest relaxation of the limits that would is found by an elastic model.

A MILP has no meaningful duals, so a limit's shadow value is measured honestly: the
problem is solved again with the limit relaxed by one unit (one MW, one rack position,
one million dollars, one more unit of fixed equipment) and the change in cost per million
tokens is reported. Re-solving is exact for that step but not a derivative: the next MW
may be worth more or less than the first. It costs a solve per limit, so it is asked for
(`aift plan --shadow`) and shares one time budget.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import pyomo.environ as pyo

from optimizer.highs import Infeasible, SolveError, solve_model
from optimizer.model import MTOK, build_model, minimize_relaxation, per_rack, rack_facility_kw, rack_sum
from optimizer.problem_types import SITE, Limit, PlanProblem, limits
from optimizer.solution import Solution
from optimizer.solve import solve

RELAX_TOLERANCE = 1e-6  # relative stretch below which a limit is taken as not needing any


@dataclass(frozen=True)
class LimitUse:
    """How much of a limit the plan uses; binding when what is left would not take one more rack like the plan's."""

    limit: Limit
    used: float
    binding: bool


@dataclass(frozen=True)
class ShadowValue:
    """The change from relaxing one limit by one unit and solving again (negative: a saving).

    Both solves stop within their proven gaps, so a change smaller than `tolerance_usd_per_mtok`
    is indistinguishable from none.
    """

    limit: Limit
    step: float  # in the limit's unit
    cost_per_mtok_change_usd: float
    annual_cost_change_usd: float
    tokens_per_year_change: float
    tolerance_usd_per_mtok: float


@dataclass(frozen=True)
class Relaxation:
    """A limit that must stretch for any plan to exist, and the value it would need."""

    limit: Limit
    needed: float
    needed_by: str  # "the demand" or "the plan"

    def sentence(self) -> str:
        lim, who = self.limit, self.needed_by
        if lim.kind == "utility":
            return f"{who} needs {_mw(self.needed)} MW at this site; the interconnect is {lim.value / 1000:,.4g} MW"
        if lim.kind == "positions":
            return f"{who} needs {math.ceil(self.needed - 1e-6)} rack positions in {lim.subject}; it has {lim.value:g}"
        if lim.kind == "budget":
            need, budget = self.needed + lim.shown_offset, lim.value + lim.shown_offset
            return f"{who} needs ${math.ceil(need / 1e5 - 1e-9) / 10:,.1f}M of capex; the budget is ${budget / 1e6:,.1f}M"
        if lim.kind == "capacity":
            return f"{who} needs {self.needed:,.0f} kW from {lim.subject}; the installed units give {lim.value:,.0f} kW"
        if self.needed <= 0:
            return f"no candidate system can serve {lim.subject} within the site's limits"
        return f"at most {self.needed:.3g} tokens/year of {lim.subject} can be served here; the demand is {lim.value:.3g}"


@dataclass(frozen=True)
class Explanation:
    uses: tuple[LimitUse, ...]
    shadow_values: tuple[ShadowValue, ...]

    @property
    def binding(self) -> tuple[Limit, ...]:
        return tuple(u.limit for u in self.uses if u.binding)


def limit_uses(p: PlanProblem, sol: Solution) -> tuple[LimitUse, ...]:
    """Use and slack of every site limit (demand floors are requirements, not limits, and are left out)."""
    out = []
    for lim in limits(p):
        if lim.kind == "demand":
            continue
        used = _used(lim, sol)
        out.append(LimitUse(lim, used, lim.value - used < _one_rack(p, sol, lim)))
    return tuple(out)


def shadow_values(
    p: PlanProblem, sol: Solution, keys=None, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4
) -> tuple[ShadowValue, ...]:
    """Re-solve with each limit in `keys` (default: the binding ones) relaxed by one unit, within `time_limit_s` in all.

    Each re-solve gets an equal share of the time still left; a limit whose re-solve finds
    no plan in its share is left out, so fewer values than limits means the time ran out.
    """
    keys = [u.limit.key for u in limit_uses(p, sol) if u.binding] if keys is None else keys
    todo = [lim for lim in limits(p) if lim.key in keys]
    deadline = time.monotonic() + time_limit_s
    out = []
    for i, lim in enumerate(todo):
        share = (deadline - time.monotonic()) / (len(todo) - i)
        if share <= 0:
            break
        looser, step = relaxed(p, lim)
        try:
            new = solve(looser, time_limit_s=share, rel_gap=rel_gap)
        except SolveError:
            continue
        out.append(
            ShadowValue(
                lim,
                step,
                new.cost_per_mtok_usd - sol.cost_per_mtok_usd,
                new.annual_cost_usd - sol.annual_cost_usd,
                new.tokens_per_year - sol.tokens_per_year,
                (sol.mip_gap + new.mip_gap) * sol.cost_per_mtok_usd,
            )
        )
    return tuple(out)


def explain(p: PlanProblem, sol: Solution, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4) -> Explanation:
    """Limits used by the plan, and the shadow value of each binding one (within `time_limit_s` in all)."""
    return Explanation(limit_uses(p, sol), shadow_values(p, sol, time_limit_s=time_limit_s, rel_gap=rel_gap))


def relaxed(p: PlanProblem, lim: Limit) -> tuple[PlanProblem, float]:
    """`p` with one more unit of the limit: 1 MW, 1 position, $1M, or one more usable unit."""
    if lim.kind == "utility":
        return replace(p, utility_kw=p.utility_kw + 1000.0), 1000.0
    if lim.kind == "positions":
        halls = tuple(replace(h, positions=h.positions + 1) if h.id == lim.subject else h for h in p.halls)
        return replace(p, halls=halls), 1.0
    if lim.kind == "budget":
        return replace(p, capex_budget_usd=p.capex_budget_usd + 1e6), 1e6
    if lim.kind == "capacity":
        scope, stage_id = lim.subject.split("/")
        st = next(st for sc, st in p.stages() if (sc, st.id) == (scope, stage_id))
        o = st.options[0]
        bigger = replace(st, options=(replace(o, installed=o.installed + o.units_per_usable),))
        if scope == SITE:
            return replace(p, site_stages=tuple(bigger if s is st else s for s in p.site_stages)), o.unit_kw
        halls = tuple(replace(h, stages=tuple(bigger if s is st else s for s in h.stages)) if h.id == scope else h for h in p.halls)
        return replace(p, halls=halls), o.unit_kw
    raise ValueError(f"a {lim.kind} is a requirement, not a limit to relax")


def explain_infeasible(p: PlanProblem, *, time_limit_s: float = 60.0) -> tuple[Relaxation, ...]:
    """The smallest relaxation that makes a plan exist: each limit's stretch weighed relative to its size.

    Demand gives way only when no stretch of the site's limits helps (a model no
    candidate system can serve).
    """
    deadline = time.monotonic() + time_limit_s
    m = build_model(p, elastic=True)
    demanded = any(d.tokens_per_year is not None for d in p.models)
    if not demanded:  # a plan must produce tokens: at least one rack
        m.some_rack = pyo.Constraint(expr=rack_sum(m, p, lambda s, c: 1) >= 1)
    minimize_relaxation(m, p)
    solve_model(m, time_limit_s=time_limit_s, rel_gap=1e-6)
    unit = {lim.key: MTOK if lim.kind == "demand" else 1.0 for lim in limits(p)}  # demand stretches in Mtok
    stretched = {lim.key: pyo.value(m.relax[lim.key]) for lim in limits(p)}
    stretched = {k: v for k, v in stretched.items() if v * unit[k] > RELAX_TOLERANCE * max(_limit(p, k).value, 1.0)}
    for key in stretched:  # each at the least that suffices, the others stretched as found
        for other in m.LIMITS:
            m.relax[other].setub(stretched.get(other, 0.0) if other != key else None)
        minimize_relaxation(m, p, only=key)
        try:
            solve_model(m, time_limit_s=max(deadline - time.monotonic(), 1.0), rel_gap=1e-9, abs_gap=1e-9)
            stretched[key] = min(stretched[key], pyo.value(m.relax[key]))
        except SolveError:
            pass
    who = "the demand" if demanded else "the smallest plan with tokens"
    out = []
    for key, stretch in stretched.items():
        lim = _limit(p, key)
        stretch *= unit[key]
        out.append(Relaxation(lim, lim.value - stretch if lim.kind == "demand" else lim.value + stretch, who))
    return tuple(out)


def _limit(p: PlanProblem, key: str) -> Limit:
    return next(lim for lim in limits(p) if lim.key == key)


def solve_explained(p: PlanProblem, *, time_limit_s: float = 60.0, rel_gap: float = 1e-4) -> Solution:
    """`solve`, but an infeasible request raises Infeasible whose reason names the relaxation, in words."""
    try:
        return solve(p, time_limit_s=time_limit_s, rel_gap=rel_gap)
    except Infeasible as exc:
        relaxations = explain_infeasible(p, time_limit_s=time_limit_s)
        reason = "; ".join(r.sentence() for r in relaxations) or exc.reason
        raise Infeasible(reason, relaxations) from None


def _used(lim: Limit, sol: Solution) -> float:
    if lim.kind == "utility":
        return sol.design_facility_kw
    if lim.kind == "positions":
        return sol.positions_used(lim.subject)
    if lim.kind == "budget":
        return sol.capex_usd
    choice = sol.equipment.get(tuple(lim.subject.split("/")))
    return choice.load_kw if choice else 0.0


def _one_rack(p: PlanProblem, sol: Solution, lim: Limit) -> float:
    """What one more rack of a kind the plan already uses would take of this limit: the test for binding.

    The plan's own systems are the marginal ones; an empty scope falls back to every
    rack the scope allows.
    """
    if lim.kind == "positions":
        return 1.0
    scope, stage = next(((sc, st) for sc, st in p.stages() if f"{sc}/{st.id}" == lim.subject), (SITE, None))
    halls = p.served_halls(scope, stage) if stage is not None else tuple(h.id for h in p.halls)
    options = [(p.system(s), sol.cooling[h]) for (h, s) in sol.racks if h in halls] or [
        (s, c)
        for h in p.halls
        if h.id in halls
        for s in p.systems
        if h.allows(s)
        for c in h.cooling_options
        if c == "liquid" or not s.liquid_only
    ]
    if lim.kind == "budget":
        figures = [s.rack_capex_usd for s, _ in options]
    elif lim.kind == "utility":
        figures = [rack_facility_kw(s, c, p.design_hour, "rack_kw") for s, c in options]
    else:
        figures = [per_rack("rack_max_kw", "it" if stage.carries == "facility" else stage.carries)(s, c) for s, c in options]
    return min((f for f in figures if f > 0), default=0.0)


def _mw(kw: float) -> str:
    """MW to three significant figures, rounded up so that a need is never understated."""
    mw = kw / 1000
    if mw <= 0:
        return "0"
    decimals = 2 - math.floor(math.log10(mw))
    shown = math.ceil(mw * 10**decimals - 1e-9) / 10**decimals
    text = f"{shown:,.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
