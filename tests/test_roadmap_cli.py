"""`aift roadmap`: the schedule and one facility spec per year, each scored by the twin near the roadmap's prediction."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from optimizer.highs import SolveError
from optimizer.problem import SECONDS_PER_HOUR
from optimizer.roadmap.explain import HOURS_PER_YEAR
from optimizer.roadmap.problem import roadmap_problem
from tests.cli_support import aift
from tests.roadmap_support import ROADMAP_SMALL
from twin.evaluate import evaluate
from twin.loader import load_spec

EVALUATE_TOLERANCE = 0.05  # the bound between the roadmap's cost per token of a year and the twin's score of its spec


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "campus.yaml"
    shutil.copy(ROADMAP_SMALL, path)
    return path


@pytest.mark.parametrize("objective", ["levelized-cost-per-token", "min-cost"])
def test_each_year_is_a_spec_the_twin_scores_as_predicted(monkeypatch, capsys, spec_file, tmp_path, objective):
    out = tmp_path / "roadmap"
    assert aift(monkeypatch, "roadmap", spec_file, "--out", out, "--json", "--objective", objective) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["projections"] == ["vr-nvl72"]  # Vera Rubin serves from 2027
    assert json.loads((out / "roadmap.json").read_text())["levelized_cost_per_million_tokens_usd"] == pytest.approx(
        summary["levelized_cost_per_million_tokens_usd"]
    )
    rows = list(csv.DictReader((out / "schedule.csv").open()))
    assert {r["year"] for r in rows} == {"2026", "2027", "2028"}
    for year in summary["years"]:
        written = load_spec(out / f"year-{year['year']}.yaml")  # validates
        assert written.roadmap is None
        assert written.plan is None
        kpis = evaluate(written).kpis
        assert kpis["cost_per_million_tokens_usd"] == pytest.approx(year["cost_per_million_tokens_usd"], rel=EVALUATE_TOLERANCE)
        assert kpis["capped_hours"] == 0
        # Each year serves its demand: the twin counts at least what the roadmap was asked for.
        assert kpis["output_tokens_per_year"] >= sum(year["demand_tokens_per_year"].values()) * (1 - EVALUATE_TOLERANCE)
        # Racks in service in the schedule are the year spec's deployments.
        racks = {(r["hall"], r["system"]): int(r["in_service"]) for r in rows if r["year"] == str(year["year"]) and int(r["in_service"])}
        assert racks == {(d.hall, d.system): d.racks for d in written.deployments}


def test_a_year_without_racks_is_written_as_none(monkeypatch, capsys, spec_file, tmp_path):
    # Racks ordered now arrive in 2027: 2026 has no racks, no tokens and no cost per token (null, not Infinity).
    text = spec_file.read_text().replace("  system_life_years: 2", "  system_life_years: 2\n  lead_time_years: {systems: 1}")
    spec_file.write_text(text.replace("{first_year_tokens_per_s: 0.9e6, growth_per_year: 0.5}", "{tokens_per_s: {2026: 0, 2027: 1.0e6}}"))
    out = tmp_path / "roadmap"
    assert aift(monkeypatch, "roadmap", spec_file, "--out", out, "--json") == 0
    first = json.loads(capsys.readouterr().out)["years"][0]
    assert first["tokens_per_year"] == 0
    assert first["cost_per_million_tokens_usd"] is None
    assert json.loads((out / "roadmap.json").read_text())["years"][0]["cost_per_million_tokens_usd"] is None
    assert not (out / "year-2026.yaml").exists()  # no facility to write


def test_existing_outputs_need_force(monkeypatch, capsys, spec_file, tmp_path):
    out = tmp_path / "roadmap"
    out.mkdir()
    (out / "schedule.csv").write_text("mine\n")
    assert aift(monkeypatch, "roadmap", spec_file, "--out", out, "--no-shadow", "--no-verify") == 2
    assert "pass --force" in capsys.readouterr().err
    assert (out / "schedule.csv").read_text() == "mine\n"
    assert aift(monkeypatch, "roadmap", spec_file, "--out", out, "--no-shadow", "--no-verify", "--force") == 0
    assert (out / "schedule.csv").read_text().startswith("year,hall,system")


@pytest.mark.parametrize(
    ("flag", "value", "message"), [("--gap", "0", "the gap must be"), ("--objective", "max-tokens", "the objective must be")]
)
def test_bad_options_are_bad_input(monkeypatch, capsys, spec_file, flag, value, message):
    assert aift(monkeypatch, "roadmap", spec_file, flag, value) == 2
    assert message in capsys.readouterr().err


def test_a_spec_without_a_roadmap_is_bad_input(monkeypatch, capsys, tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(ROADMAP_SMALL.read_text().split("\nroadmap:")[0] + "\n")
    assert aift(monkeypatch, "roadmap", path) == 2
    assert "no roadmap: section" in capsys.readouterr().err


def test_demand_beyond_the_campus_is_infeasible(monkeypatch, capsys, spec_file):
    # x7 a year: 0.9 M tokens/s in 2026 (three GB300 racks hold it), 6.3 M in 2027, more than the six positions of
    # hall-1 and hall-2 hold even all of Vera Rubin (~0.76 M tokens/s a rack).
    text = spec_file.read_text().replace("growth_per_year: 0.5", "growth_per_year: 6.0")
    spec_file.write_text(text)
    rp = roadmap_problem(load_spec(spec_file))
    asked = rp.plans[1].models[0].tokens_per_year
    most = 6 * max(s.rate("gpt-oss-120b") for s in rp.plans[1].systems)
    assert rp.plans[0].models[0].tokens_per_year < 3 * max(s.rate("gpt-oss-120b") for s in rp.plans[0].systems if s.id == "gb300-nvl72")
    assert most < asked  # the campus cannot carry 2027
    assert aift(monkeypatch, "roadmap", spec_file, "--no-shadow", "--no-verify") == 3
    per_s = SECONDS_PER_HOUR * HOURS_PER_YEAR
    err = capsys.readouterr().err
    assert f"in 2027 the 6 positions of the halls open by then hold at most ~{most / per_s:,.0f} tokens/s of gpt-oss-120b" in err
    assert f"but {asked / per_s:,.0f} tokens/s of gpt-oss-120b are asked (positions binds)" in err


def test_a_roadmap_stands_when_its_lp_gives_no_duals(monkeypatch, capsys, spec_file):
    def no_duals(m, *, time_limit_s):
        raise SolveError("the LP has no duals (error)")

    monkeypatch.setattr("optimizer.roadmap.solve.lp_duals", no_duals)
    assert aift(monkeypatch, "roadmap", spec_file, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["shadow_values"], summary["shadow_values_error"]) == ([], "the LP has no duals (error)")
    assert summary["levelized_cost_per_million_tokens_usd"] > 0
