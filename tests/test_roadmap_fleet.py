"""A roadmap that starts from the racks a spec deploys: sunk capital, resale when they leave, the best of every schedule."""

from __future__ import annotations

import csv
import json

import pyomo.environ as pyo
import pytest

from optimizer.highs import solve_model
from optimizer.roadmap.model import build_roadmap_model, minimize_pv_cost
from optimizer.roadmap.problem import roadmap_problem
from optimizer.roadmap.schedule import read_roadmap
from optimizer.roadmap.solve import solve_roadmap
from tests.cli_support import aift
from tests.roadmap_support import ROADMAP_SMALL, enumerate_schedules, small_roadmap
from tests.test_roadmap_cli import EVALUATE_TOLERANCE
from twin.evaluate import evaluate
from twin.loader import load_spec

# Two GB300 NVL72 racks in hall-1, bought in 2025: a year old when the roadmap starts in 2026.
FLEET = {
    "deployments": [{"hall": "hall-1", "system": "gb300-nvl72", "racks": 2}],
    "roadmap.fleet_installed_year": 2025,
    "roadmap.system_life_years": 3,
    "roadmap.resale_haircut_frac": 0.25,
}


def test_the_fleet_is_sunk_and_comes_back_at_its_value_when_it_leaves():
    # One rack sold at the start of 2026, the other kept through 2027 and sold at its end (before the horizon's end, 2028).
    demand = {"gpt-oss-120b": {"tokens_per_s": {2026: 0.1e6, 2028: 0.0}}}
    rp = roadmap_problem(small_roadmap(**FLEET, **{"roadmap.demand": demand}), "min-cost")
    assert (rp.fleet, rp.fleet_age) == ({("hall-1", "gb300-nvl72"): 2}, 1)
    m = build_roadmap_model(rp)
    for k in m.COHORTS:
        m.cohort[k].fix(0)
    for h, v, b in m.FLEET:
        m.fleet_kept[h, v, b].fix(1 if b in (-1, 1) else 0)
    minimize_pv_cost(m)
    solve_model(m, time_limit_s=60, rel_gap=1e-9)
    # A rack: IT $3.5M (GB300 ships 2025Q3; bought in 2025 at the catalog price), fit-out $6.5M/MW x 0.14 MW = $910,000,
    # optics 72 x $1,200 = $86,400. Sold at the start, a year old: IT 1 - 0.8 x 1/3 of its price, less the 25 % haircut;
    # fit-out 1 - 1/25, optics 1 - 1/5. Sold at the end of 2027, three years old (its life): IT 0.2 x 0.75, fit-out
    # 1 - 3/25, optics 1 - 3/5, two years on: discounted by 1.08^2. Nothing is paid for either rack.
    at_start = 3.5e6 * (1 - 0.8 / 3) * 0.75 + 910_000 * 0.96 + 86_400 * 0.8
    at_end = 3.5e6 * 0.2 * 0.75 + 910_000 * 0.88 + 86_400 * 0.4
    assert pyo.value(m.rack_pv_usd) == pytest.approx(-at_start - at_end / 1.08**2, rel=1e-9)
    # hall-1 stands (no shell bought), and its units and the site's stand too: 2026 spends no capital at all.
    assert pyo.value(m.hall_pv_usd) == pytest.approx(0.0, abs=1e-6)
    assert pyo.value(m.capex_usd[0]) == pytest.approx(0.0, abs=1e-6)
    assert [round(pyo.value(m.year[t].hall_racks["hall-1", "gb300-nvl72"])) for t in range(3)] == [1, 1, 0]


def test_a_fleet_never_serves_past_its_life():
    # Bought in 2025 with a 2-year life: a year old in 2026, so it serves 2026 at most.
    rp = roadmap_problem(small_roadmap(**{**FLEET, "roadmap.system_life_years": 2}), "min-cost")
    m = build_roadmap_model(rp)
    assert {b for _, _, b in m.FLEET} == {-1, 0}
    run = solve_roadmap(rp, rel_gap=1e-6)
    roadmap = read_roadmap(rp, run)
    assert all(y.plan.racks.get(("hall-1", "gb300-nvl72"), 0) == 0 for y in roadmap.years[1:] if not y.installed)


@pytest.mark.parametrize("objective", ["min-cost", "levelized-cost-per-token"])
def test_a_roadmap_from_a_fleet_is_the_best_of_every_schedule(objective):
    # Two years, hall-1 of two positions holding one GB300 rack of 2025 (life 2: it may serve 2026), hall-2 closed:
    # keep it or sell it at the start, and which racks to add, is every choice there is.
    spec = small_roadmap(
        **{
            **FLEET,
            "deployments": [{"hall": "hall-1", "system": "gb300-nvl72", "racks": 1}],
            "roadmap.system_life_years": 2,
            "roadmap.years": 2,
            "roadmap.demand": {"gpt-oss-120b": {"tokens_per_s": {2026: 0.3e6, 2027: 0.6e6}}},
            "halls[0].positions": 2,
            "plan": {"equipment": "all", "halls": [{"hall": "hall-2", "systems": []}]},
        }
    )
    rp = roadmap_problem(spec, objective)
    found = read_roadmap(rp, solve_roadmap(rp, rel_gap=1e-9))
    schedules = enumerate_schedules(rp)
    assert {b for k, _, _ in schedules for (_, _, a, b) in k if a == -1} == {-1, 0}  # both fates of the fleet are feasible
    if objective == "min-cost":
        assert found.pv_cost_usd == pytest.approx(min(cost for _, cost, _ in schedules), rel=1e-7)
    else:
        assert found.levelized_usd_per_mtok == pytest.approx(min(cost / tokens for _, cost, tokens in schedules), rel=1e-7)


def test_each_year_of_a_roadmap_from_a_fleet_is_a_spec_the_twin_scores_as_predicted(monkeypatch, capsys, tmp_path):
    text = ROADMAP_SMALL.read_text()
    text = text.replace("workload:", "deployments:\n  - {hall: hall-1, system: gb300-nvl72, racks: 2}\nworkload:", 1)
    text = text.replace("  system_life_years: 2", "  fleet_installed_year: 2025\n  system_life_years: 3", 1)
    spec_file = tmp_path / "fleet.yaml"
    spec_file.write_text(text)
    out = tmp_path / "roadmap"
    assert aift(monkeypatch, "roadmap", spec_file, "--out", out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    rows = list(csv.DictReader((out / "schedule.csv").open()))
    first = [r for r in rows if r["year"] == "2026" and r["system"] == "gb300-nvl72"]
    assert int(first[0]["in_service"]) >= 2 - int(first[0]["sold_at_start"])  # the fleet serves unless sold at the start
    for year in summary["years"]:
        kpis = evaluate(load_spec(out / f"year-{year['year']}.yaml")).kpis
        assert kpis["cost_per_million_tokens_usd"] == pytest.approx(year["cost_per_million_tokens_usd"], rel=EVALUATE_TOLERANCE)
