"""The small roadmap the roadmap tests share, and its optimum found by enumerating every rack schedule."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pyomo.environ as pyo

from optimizer.highs import Infeasible, solve_model
from optimizer.roadmap.model import build_roadmap_model, minimize_pv_cost_less_token_value
from optimizer.roadmap.problem import RoadmapProblem
from optimizer.roadmap.solve import serve_most
from twin.loader import load_spec
from twin.overrides import apply_overrides
from twin.spec import Spec

ROADMAP_SMALL = Path(__file__).resolve().parent / "specs" / "roadmap-small.yaml"
TINY_PRICE = 1e-9  # USD per Mtok: enough to make a completion serve every token its racks can, too little to move its cost


def small_roadmap(**overrides) -> Spec:
    """roadmap-small.yaml with dotted-path overrides (`twin.overrides`)."""
    return apply_overrides(load_spec(ROADMAP_SMALL), overrides)


def enumerate_schedules(rp: RoadmapProblem) -> list[tuple[dict, float, float]]:
    """Every rack schedule (cohort counts, and when the starting fleet leaves) within the halls' positions and the years' demand, each completed by the model.

    The completion sizes what follows from the racks (halls built, power and cooling units,
    switches) at least discounted cost, serving every token; a schedule the interconnect or
    the equipment cannot carry is skipped. The fleet's racks are keyed (hall, variant, -1,
    last year served): serving from before the first year. Returns (cohorts, discounted
    cost USD, discounted Mtok).
    """
    m = build_roadmap_model(rp)
    variables = {k: m.cohort[k] for k in m.COHORTS} | {(h, v, -1, b): m.fleet_kept[h, v, b] for h, v, b in m.FLEET}
    keys = list(variables)
    positions = {h.id: h.positions for h in rp.plans[0].halls}
    rate = {s.id: s.tokens_per_year for s in rp.plans[0].systems}
    out = []
    for counts in product(*(range(positions[k[0]] + 1) for k in keys)):
        chosen = {k: n for k, n in zip(keys, counts, strict=True) if n}
        if not _fits(rp, chosen, positions, rate):
            continue
        for k, n in zip(keys, counts, strict=True):
            variables[k].fix(n)
        minimize_pv_cost_less_token_value(m, TINY_PRICE)  # again: serve_most leaves its own objective
        try:
            solve_model(m, time_limit_s=60, rel_gap=1e-9)
        except Infeasible:
            continue
        serve_most(m, 60)
        out.append((chosen, pyo.value(m.pv_cost_usd), pyo.value(m.pv_tokens_mtok)))
    return out


def _fits(rp: RoadmapProblem, chosen: dict, positions: dict, rate: dict) -> bool:
    """The whole fleet leaves once, positions in every hall and year, no rack in a hall before it may open, every year's demand met."""
    for (h, v), n in rp.fleet.items():
        if sum(c for k, c in chosen.items() if k[:3] == (h, v, -1)) != n:
            return False
    for t, p in enumerate(rp.plans):
        serving = {k: n for k, n in chosen.items() if k[2] <= t <= k[3]}
        for h in positions:
            racks = sum(n for k, n in serving.items() if k[0] == h)
            if racks > positions[h] or (racks and t < rp.hall_first_year[h]):
                return False
        for d in p.models:
            if d.tokens_per_year is not None and sum(n * rate[k[1]].get(d.id, 0.0) for k, n in serving.items()) < d.tokens_per_year:
                return False
    return True
