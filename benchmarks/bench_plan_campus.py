"""The planner on campuses of 10, 30 and 60 reference halls, the interconnect binding and not.

Each plan is solved with the default options (`aift plan`'s 60 s time limit), written as a
spec and scored by `twin.evaluate`. Goal: the twin's cost per million tokens of the written
plan within 2 % of the plan's prediction at every size. The campus (`benchmarks.campus`)
has site-wide transformers, generators and plants whose unit counts and redundancy
(N+1, N+2, 2N) the plan chooses: at 60 halls an N+1 group has hundreds of units, and its
availability, which the plan now prices, decides the tokens.
"""

from __future__ import annotations

import time

from benchmarks.campus import HALL_MW, campus_spec
from optimizer.highs import Infeasible
from optimizer.planning import PlanInputError, plan_facility

TITLE = "Planner on campuses of 10, 30, 60 halls (goal: twin's cost per token of the written plan within 2 % of the plan's)"
SIZES = (10, 30, 60)
INTERCONNECT = {"binding": 0.6, "not binding": 2.0}  # times the campus's full design-hour power, roughly
COLUMNS = (
    "halls", "interconnect", "status", "proven_gap", "milp_s", "wall_s", "racks", "plan_usd_per_mtok", "twin_usd_per_mtok",
    "difference", "twin_availability", "peak_mw_plan_twin", "site_groups",
)


def run() -> list[dict]:
    rows = []
    for halls in SIZES:
        for case, share in INTERCONNECT.items():
            rows.append(_row(halls, case, halls * HALL_MW * share))
    return rows


def _row(halls: int, case: str, utility_mw: float) -> dict:
    t0 = time.perf_counter()
    try:
        run = plan_facility(campus_spec(halls, utility_mw))
    except (PlanInputError, Infeasible) as exc:  # said in the table: a size the default time limit cannot plan
        failed = dict.fromkeys(COLUMNS) | {"status": f"no plan: {exc}", "wall_s": time.perf_counter() - t0}
        return failed | {"halls": halls, "interconnect": f"{utility_mw:,.0f} MW ({case})"}
    wall = time.perf_counter() - t0
    s, twin, plan = run.solution, run.twin, run.predicted
    site = {g: f"{c.installed_units}x {c.option.split('@')[1]}" for (scope, g), c in s.equipment.items() if scope == "site"}
    return {
        "halls": halls,
        "interconnect": f"{utility_mw:,.0f} MW ({case})",
        "status": s.status,
        "proven_gap": s.mip_gap,
        "milp_s": s.solve_time_s,
        "wall_s": wall,
        "racks": sum(s.racks.values()),
        "plan_usd_per_mtok": plan["cost_per_million_tokens_usd"],
        "twin_usd_per_mtok": twin["cost_per_million_tokens_usd"],
        "difference": f"{twin['cost_per_million_tokens_usd'] / plan['cost_per_million_tokens_usd'] - 1:+.2%}",
        "twin_availability": twin.get("availability"),
        "peak_mw_plan_twin": f"{plan['peak_facility_power_mw']:,.0f} / {twin['peak_facility_power_mw']:,.0f}",
        "site_groups": ", ".join(f"{g} {v}" for g, v in site.items() if not g.endswith("-mech")),
    }
