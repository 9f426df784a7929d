"""The planner on the 100 MW reference with everything open, and its plans against random and greedy ones.

Everything open: every catalog system a candidate in every hall, air or liquid cooling in
each, every power and cooling group the optimizer can size, the racks deployed ignored.
Goal: a proven gap under 0.5 % in under 60 s; each Dinkelbach step's time is reported.

Then three scenarios of that site (cheap power, expensive power, a tight interconnect):
the optimizer's plan, the best of `RANDOM_PLANS` random feasible plans and a greedy plan,
each written as a spec and scored by `twin.evaluate` (cost per million output tokens).
A random plan draws, per hall, a cooling type, one or two allowed systems and a rack
count, scaled down to fit the interconnect at the design hour; a greedy plan fills the
halls in order with the rack of lowest cost per token at the workload's token mix,
while the interconnect has room. Both get the optimizer's equipment and model split for
their racks (the MILP solved with the racks fixed), so they differ from the plan only in
the layout: a strict test of the layout.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from optimizer.highs import Infeasible
from optimizer.model import rack_facility_kw
from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem import problem_from_spec
from optimizer.problem_types import PlanProblem
from optimizer.solve import START_REL_GAP, solve
from twin.evaluate import evaluate, spec_weather
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides
from twin.spec import Spec

TITLE = "Planner: 100 MW reference with everything open (goal: gap < 0.5 % in < 60 s), and plans scored by evaluate vs random and greedy"
REFERENCE = Path(__file__).resolve().parent.parent / "facility_specs" / "reference-100mw-gb300.yaml"
HALLS = ("hall-1", "hall-2", "hall-3", "hall-4")
OPEN = {
    "plan": {
        "systems": "all",
        "equipment": "all",
        "keep_deployments": False,
        "halls": [{"hall": h, "cooling": ["air", "liquid"]} for h in HALLS],
    }
}
SCENARIOS = {
    "cheap power ($30/MWh)": {"site.tariff.price_usd_per_mwh": 30},
    "expensive power ($250/MWh, $15/kW-month)": {"site.tariff.price_usd_per_mwh": 250, "site.tariff.demand_charge_usd_per_kw_month": 15},
    "tight interconnect (40 MW)": {"site.utility_mw": 40},
}
RANDOM_PLANS = 200
SEED = 2024
TIME_LIMIT_S = 60.0  # the reference's goal
SCENARIO_TIME_LIMIT_S = 240.0  # the scenarios are judged on plan quality, not speed
ENVELOPE_MARGIN = 0.99  # random and greedy layouts keep their design-hour estimate this far below the interconnect


def run() -> list[dict]:
    base = apply_overrides(load_spec(REFERENCE), OPEN)
    rows = _reference_rows(base)
    rng = np.random.default_rng(SEED)
    for name, overrides in SCENARIOS.items():
        rows += _scenario_rows(name, apply_overrides(base, overrides), rng)
    return rows


def _row(case: str, what: str, time_s=None, gap=None, cost=None, note: str = "") -> dict:
    return {"case": case, "what": what, "time_s": time_s, "proven_gap": gap, "twin_usd_per_mtok": cost, "note": note}


def _reference_rows(spec: Spec) -> list[dict]:
    case = "100 MW reference, all open"
    t0 = time.perf_counter()
    p = problem_from_spec(spec)
    build_s = time.perf_counter() - t0
    sol = solve(p, time_limit_s=TIME_LIMIT_S)
    rows = [_row(case, "build the problem from the spec", build_s)]
    start_s = sol.solve_time_s - sum(s.solve_time_s for s in sol.steps)
    rows.append(_row(case, f"start: a plan within {START_REL_GAP:.0%} of the most tokens", start_s))
    rows += [
        _row(case, f"Dinkelbach step {i + 1} at {s.price_usd_per_mtok:.5f} USD/Mtok", s.solve_time_s, s.mip_gap)
        for i, s in enumerate(sol.steps)
    ]
    rows.append(
        _row(
            case,
            f"plan ({sol.status})",
            sol.solve_time_s,
            sol.mip_gap,
            _score(spec, sol),
            f"predicted {sol.cost_per_mtok_usd:.5f}; {_layout(sol)}",
        )
    )
    return rows


def _scenario_rows(case: str, spec: Spec, rng: np.random.Generator) -> list[dict]:
    p = problem_from_spec(spec)
    sol = solve(p, time_limit_s=SCENARIO_TIME_LIMIT_S)
    best = _score(spec, sol)
    t0, scores, tries = time.perf_counter(), [], 0
    while len(scores) < RANDOM_PLANS and tries < 5 * RANDOM_PLANS:
        tries += 1
        fixed = _fixed_solve(p, _random_layout(p, rng))
        if fixed is not None:
            scores.append(_score(spec, fixed))
    random_s = time.perf_counter() - t0
    greedy = _fixed_solve(p, _greedy_layout(p))
    greedy_cost = _score(spec, greedy) if greedy is not None else float("nan")
    return [
        _row(case, "optimizer", sol.solve_time_s, sol.mip_gap, best, _layout(sol)),
        _row(
            case,
            f"best of {len(scores)} random feasible plans",
            random_s,
            None,
            min(scores),
            f"optimizer {best / min(scores) - 1:+.2%}; median random {np.median(scores):.4f}; {tries - len(scores)} draws infeasible",
        ),
        _row(
            case,
            "greedy",
            None,
            None,
            greedy_cost,
            f"optimizer {best / greedy_cost - 1:+.2%}; {_layout(greedy) if greedy else 'infeasible'}",
        ),
    ]


def _score(spec: Spec, sol) -> float:
    """The twin's cost per million output tokens of the plan written as a spec."""
    return evaluate(load_spec_text(plan_to_spec_yaml(spec, sol)), spec_weather(spec)).kpis["cost_per_million_tokens_usd"]


def _layout(sol) -> str:
    by_system: dict[str, int] = {}
    for (_, v), n in sol.racks.items():
        by_system[v] = by_system.get(v, 0) + n
    cooling = sorted(set(sol.cooling.values()))
    return ", ".join(f"{n} {v}" for v, n in sorted(by_system.items())) + f" ({'/'.join(cooling)})"


Layout = dict[str, tuple[str, dict[str, int]]]  # hall -> (cooling, racks per system)


def _fixed_solve(p: PlanProblem, layout: Layout):
    """The plan with these racks: the MILP chooses only equipment, switches and the model split; None if infeasible."""
    halls = tuple(
        replace(
            h,
            cooling_options=frozenset({layout[h.id][0]}),
            min_racks=layout[h.id][1],
            max_racks={v: layout[h.id][1].get(v, 0) for v in h.systems},
        )
        for h in p.halls
    )
    try:
        return solve(replace(p, halls=halls), time_limit_s=SCENARIO_TIME_LIMIT_S)
    except Infeasible:
        return None


def _allowed(p: PlanProblem, hall, cooling: str) -> list[str]:
    return [v for v in sorted(hall.systems) if cooling == "liquid" or not p.system(v).liquid_only]


def _rack_design_kw(p: PlanProblem, hall, v: str, cooling: str) -> float:
    """Design-hour facility power of one rack and its share of the hall fabric's switches, as the MILP counts them."""
    kw = rack_facility_kw(p.system(v), cooling, p.design_hour, "rack_kw")
    fabric = next((f for f in p.fabrics if f.id == hall.fabric), None)
    if fabric is not None:
        switches = p.system(v).ports_per_rack * fabric.switch_ports_per_rack_port / fabric.switch_ports
        kw += switches * fabric.switch_kw * (1 + p.design_hour.it_overhead_frac + p.design_hour.air_cooling_kw_per_kw)
    return kw


def _design_kw(p: PlanProblem, layout: Layout) -> float:
    return sum(n * _rack_design_kw(p, p.hall(h), v, c) for h, (c, racks) in layout.items() for v, n in racks.items())


def _random_layout(p: PlanProblem, rng: np.random.Generator) -> Layout:
    layout = {}
    for h in p.halls:
        cooling = str(rng.choice(sorted(h.cooling_options)))
        allowed = _allowed(p, h, cooling)
        picks = rng.choice(allowed, size=min(len(allowed), int(rng.integers(1, 3))), replace=False)
        split = rng.multinomial(int(rng.integers(1, h.positions + 1)), rng.dirichlet(np.ones(len(picks))))
        layout[h.id] = (cooling, {str(v): int(n) for v, n in zip(picks, split, strict=True) if n})
    scale = min(1.0, ENVELOPE_MARGIN * p.utility_kw / _design_kw(p, layout))
    return {h: (c, {v: int(n * scale) for v, n in racks.items() if int(n * scale)}) for h, (c, racks) in layout.items()}


def _greedy_layout(p: PlanProblem) -> Layout:
    """Halls in order, each rack the cheapest per token at the token mix that the interconnect still carries."""
    share = {m.id: m.min_token_share for m in p.models}

    def cost_per_token(v: str, cooling: str) -> float:
        s = p.system(v)
        if any(share[m] > 0 and s.rate(m) <= 0 for m in share):
            return float("inf")
        rate = 1.0 / sum(share[m] / s.rate(m) for m in share if share[m] > 0)  # racks time-shared to keep the mix
        return (s.rack_annual_usd + p.energy_usd_per_kw_year * rack_facility_kw(s, cooling, p.mean_hour, "rack_mean_kw")) / rate

    room = ENVELOPE_MARGIN * p.utility_kw
    layout = {}
    for h in p.halls:
        cooling = min(h.cooling_options, key=lambda c: min((cost_per_token(v, c) for v in _allowed(p, h, c)), default=float("inf")))
        ranked = sorted(_allowed(p, h, cooling), key=lambda v: cost_per_token(v, cooling))
        racks: dict[str, int] = {}
        for _ in range(h.positions):
            fits = [v for v in ranked if _rack_design_kw(p, h, v, cooling) <= room]
            if not fits:
                break
            racks[fits[0]] = racks.get(fits[0], 0) + 1
            room -= _rack_design_kw(p, h, fits[0], cooling)
        layout[h.id] = (cooling, racks)
    return layout
