"""Design alternatives (`plan.alternatives`): the plan chooses the alternative the twin scores best.

The optimum is found here by enumeration with the twin, not with the plan's linear model:
each alternative is planned on its own and its written plan scored by `aift evaluate`;
the best is the one with the fewest hours of unmet heat, then the lowest cost per token.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from optimizer.alternatives import plan_alternatives
from optimizer.scenarios import value_at
from tests.cli_support import aift_process
from twin.evaluate import evaluate
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides

SPECS = Path(__file__).parent / "specs"
CHOICES = SPECS / "plan-choices.yaml"
SMALL = SPECS / "plan-small.yaml"




def _twin_best(scores: list[dict]) -> int:
    """The index the twin ranks first: fewest hours of unmet heat, then the lowest cost per million tokens."""
    return min(range(len(scores)), key=lambda i: (scores[i]["unmet_heat_hours"], scores[i]["cost_per_million_tokens_usd"]))


def _written_values(spec, paths: list[str]) -> dict:
    data = spec.model_dump(mode="json", by_alias=True)
    return {p: value_at(data, p) for p in paths}


def test_the_plan_chooses_the_alternative_the_twin_scores_best(tmp_path):
    """Chilled-water plant at 14 or 20 C, chiller or tower: four plans, each scored by `aift evaluate`."""
    out = tmp_path / "plan.yaml"
    result = aift_process("plan", CHOICES, "--json", "--out", out, "--time-limit", "60", timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["alternatives"]
    paths = ["cooling.plants[chw].supply_c", "cooling.plants[chw].equipment"]
    combos = [dict(zip(paths, c, strict=True)) for c in itertools.product([14, 20], ["chiller-ac-1500kw", "tower-4000kw"])]
    assert [row["values"] for row in report["tried"]] == combos  # every alternative listed, in file order
    assert [row["status"] for row in report["tried"]] == ["planned"] * 4
    assert [row["chosen"] for row in report["tried"]].count(True) == 1

    # Enumeration with the twin: each alternative planned alone and its written plan evaluated.
    base = load_spec(CHOICES)
    scores = []
    for i, values in enumerate(combos):
        alone = tmp_path / f"alt-{i}.yaml"
        alone.write_text(apply_overrides(base, {**values, "plan.alternatives": {}}).model_dump_json(by_alias=True, exclude_unset=True))
        written = tmp_path / f"alt-{i}-plan.yaml"
        assert aift_process("plan", alone, "--out", written, "--no-verify", "--time-limit", "60", timeout=600).returncode == 0
        evaluated = aift_process("evaluate", written, "--json", timeout=600)
        assert evaluated.returncode == 0, evaluated.stderr
        scores.append(json.loads(evaluated.stdout)["kpis"])
    best = _twin_best(scores)
    chosen = next(i for i, row in enumerate(report["tried"]) if row["chosen"])
    assert chosen == best
    assert report["chosen"] == combos[best]
    # The tower makes no 14-20 C water in a temperate summer: heat unmet for hours, though the twin's cost is lower.
    towers = [i for i, c in enumerate(combos) if c["cooling.plants[chw].equipment"] == "tower-4000kw"]
    assert all(scores[i]["unmet_heat_hours"] > 0 for i in towers)
    assert any(scores[i]["cost_per_million_tokens_usd"] < scores[best]["cost_per_million_tokens_usd"] for i in towers)
    assert scores[best]["unmet_heat_hours"] == 0
    # The written plan carries the chosen values.
    assert _written_values(load_spec(out), paths) == combos[best]


# One alternative per kind of choice the spec can express; each value changes what the twin scores.
KINDS = {
    "supply temperature": ("cooling.plants[chw].supply_c", [14, 20]),
    "fabric oversubscription": ("network.fabrics[fab].oversubscription", [1, 4]),
    "fabric tiers": ("network.fabrics[fab].tiers", [2, 3]),
    "hall density": ("halls[hall-1].max_rack_kw", [60, 140]),
    "precision": ("workload.models[llama-3.3-70b].precision", ["fp8", "fp4"]),
    "serving pin": ("workload.models[gpt-oss-120b].serving.disaggregated", [False, True]),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_choice_moves_the_twin_and_the_plan_takes_its_best(kind):
    path, values = KINDS[kind]
    spec = apply_overrides(load_spec(SMALL), {"plan.alternatives": {path: values}})
    alts = plan_alternatives(spec, time_limit_s=30)
    assert [a.values for a in alts.tried] == [{path: v} for v in values]
    scores = [evaluate(load_spec_text(a.run.yaml_text)).kpis for a in alts.tried]
    costs = [s["cost_per_million_tokens_usd"] for s in scores]
    assert abs(costs[1] / costs[0] - 1) > 1e-4, f"the twin does not respond to {path}: {costs}"
    assert alts.chosen == _twin_best(scores)
    assert _written_values(load_spec_text(alts.run.yaml_text), [path]) == {path: values[alts.chosen]}


def test_an_infeasible_alternative_is_skipped_and_reported(tmp_path):
    """A 10 kW interconnect fits no rack (a GB200 NVL72 rack alone draws over 100 kW): that alternative is infeasible."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(SMALL.read_text() + "  alternatives:\n    site.utility_mw: [0.01, 1.5]\n")
    result = aift_process("plan", spec, "--json", "--time-limit", "30", timeout=600)
    assert result.returncode == 0, result.stderr
    tried = json.loads(result.stdout)["alternatives"]["tried"]
    assert [(r["values"]["site.utility_mw"], r["status"], r["chosen"]) for r in tried] == [(0.01, "infeasible", False), (1.5, "planned", True)]
    assert "interconnect" in tried[0]["reason"]


def test_every_alternative_infeasible_exits_3_naming_them(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SMALL.read_text() + "  alternatives:\n    site.utility_mw: [0.01, 0.02]\n")
    result = aift_process("plan", spec, "--time-limit", "30", timeout=600)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "site.utility_mw=0.01: infeasible" in result.stderr
    assert "site.utility_mw=0.02: infeasible" in result.stderr


def test_the_time_limit_is_shared_by_what_is_left():
    """Each alternative gets the time left over the alternatives still to plan; quick plans pass their time on."""
    spec = apply_overrides(load_spec(SMALL), {"plan.alternatives": {"cooling.plants[chw].supply_c": [12, 14, 16, 18]}})
    alts = plan_alternatives(spec, time_limit_s=40)
    limits = [a.time_limit_s for a in alts.tried]
    assert limits[0] == pytest.approx(40 / 4, rel=0.05)  # the first: the whole limit over four
    assert all(b >= a * 0.99 for a, b in zip(limits, limits[1:], strict=False))  # later ones get at least as much
    assert sum(limits) > 40  # so the shares add up to more than the limit: what quick plans leave passes on


@pytest.mark.parametrize(("objective", "figure", "best"), [("max-tokens", "output_tokens_per_year", max), ("min-cost", "annual_cost_usd", min)])
def test_other_objectives_keep_the_twin_best_by_their_own_figure(objective, figure, best):
    """max-tokens keeps the most tokens a year, min-cost the least annual cost (meeting the demand), each as the twin scores them."""
    overrides = {"plan.alternatives": {"workload.models[llama-3.3-70b].precision": ["fp8", "fp4"]}}
    if objective == "min-cost":
        overrides["plan.demand_output_tokens_per_s"] = {"gpt-oss-120b": 2e5, "llama-3.3-70b": 5e4}
    spec = apply_overrides(load_spec(SMALL), overrides)
    alts = plan_alternatives(spec, objective, time_limit_s=30)
    scores = [evaluate(load_spec_text(a.run.yaml_text)).kpis[figure] for a in alts.tried]
    assert scores[0] != pytest.approx(scores[1], rel=1e-4)  # the choice matters
    assert alts.figure == figure
    assert scores[alts.chosen] == best(scores)


def test_shadow_values_are_priced_on_the_chosen_plan_only():
    spec = apply_overrides(load_spec(SMALL), {"plan.alternatives": {"cooling.plants[chw].supply_c": [14, 20]}})
    alts = plan_alternatives(spec, time_limit_s=30, shadow=True)
    assert alts.run.shadows  # hall-1's positions bind (plan-small's GB200 racks fill its 4 positions)
    assert all(not a.run.shadows for i, a in enumerate(alts.tried) if i != alts.chosen)
