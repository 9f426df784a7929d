"""Design alternatives: every combination planned, scored by the twin, and the one the plan keeps.

Two cases. The 100 MW reference with everything open (as `bench_plan`) and its warm-water
plant's supply temperature (W32 or W40) and technology (dry cooler with trim chiller, or
evaporative tower): four plans sharing one 240 s limit. And `tests/specs/plan-choices.yaml`,
whose chilled-water plant may be a tower asked for 14-20 C water in a temperate climate:
the tower is cheaper on the twin's cost but leaves heat unmet for thousands of hours, so
it must not be chosen. Each row: the combination, the plan's and the twin's cost per
million tokens, the twin's unmet-heat hours, the time it was given, and the choice.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.bench_plan import OPEN, REFERENCE
from optimizer.alternatives import alternative_rows, plan_alternatives
from twin.loader import load_spec
from twin.overrides import apply_overrides

TITLE = "Design alternatives: each combination planned and scored by the twin; the plan keeps the twin's best"
CHOICES = Path(__file__).resolve().parent.parent / "tests" / "specs" / "plan-choices.yaml"
WARM = {"cooling.plants[warm-water].supply_c": [32, 40], "cooling.plants[warm-water].equipment": ["drycooler-2000kw", "tower-4000kw"]}
CASES = {
    "100 MW reference, everything open": (lambda: apply_overrides(load_spec(REFERENCE), {**OPEN, "plan.alternatives": WARM}), 240.0),
    "plan-choices (small; tower at 14-20 C)": (lambda: load_spec(CHOICES), 60.0),
}


def run() -> list[dict]:
    rows = []
    for case, (make, limit) in CASES.items():
        spec = make()
        cpu, wall = time.process_time(), time.perf_counter()
        alts = plan_alternatives(spec, time_limit_s=limit)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for r in alternative_rows(alts):
            rows.append({
                "case": case,
                "alternative": ", ".join(f"{p.split('.')[-1]}={v}" for p, v in r["values"].items()),
                "status": r.get("mip_status", r["status"]),
                "plan_usd_per_mtok": _usd(r.get("plan")),
                "twin_usd_per_mtok": _usd(r.get("twin")),
                "unmet_heat_h": r.get("unmet_heat_hours"),
                "time_given_s": r["time_limit_s"],
                "chosen": "chosen" if r["chosen"] else "",
                "case_cpu_s / wall_s": f"{cpu:.0f} / {wall:.0f} (limit {limit:.0f})",
            })
    return rows


def _usd(x: float | None) -> str:
    """Enough digits to see alternatives 0.01 % apart."""
    return "-" if x is None else f"{x:.5f}"
