"""The scorecard: every section an executive asks for, in Markdown and in self-contained HTML."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PILOT
from tests.telemetry_support import aift
from twin.loader import load_spec
from twin.overrides import apply_overrides
from twin.telemetry.mapping import load_mapping
from twin.telemetry.read import read_telemetry
from twin.telemetry.synth import SynthOptions, synthesize

SECTIONS = ["Expected cost per token", "Utilization plan", "Measured against the twin", "Failure modes", "Scaling path", "Cost allocation"]


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory):
    from optimizer.scorecard.data import build_scorecard

    spec = apply_overrides(load_spec(PILOT), {"workload.models[0].tenant": "search", "workload.models[1].tenant": "chat"})
    out = tmp_path_factory.mktemp("tm")
    synthesize(spec, out, SynthOptions(days=2, interval_s=1800))
    return build_scorecard(spec, str(PILOT), read_telemetry([out]), load_mapping(out / "mapping.yaml", spec))


def test_markdown_has_every_section_and_the_measured_comparison(scorecard):
    from optimizer.scorecard.render import render_markdown

    md = render_markdown(scorecard)
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == SECTIONS
    assert "under-delivers by 15" in md  # the pilot's one hall carries the synthetic throughput fault
    for scenario in ("A model endpoint fails", "A GPU node goes offline", "Latency rises", "Demand spikes"):
        assert f"| {scenario} |" in md
    assert "| search |" in md
    assert "| tenant | tokens measured | share |" in md  # the telemetry's tokens per tenant, beside the twin's
    assert "| chat |" in md
    assert "<script" not in md


def test_tenant_costs_in_the_scorecard_add_up_to_the_annual_cost(scorecard):
    annual = scorecard.evaluation.kpis["annual_cost_usd"]
    assert sum(t.showback_usd for t in scorecard.tenants) == pytest.approx(annual, rel=1e-12)
    assert sum(t.chargeback_usd for t in scorecard.tenants) == pytest.approx(annual, rel=1e-12)


def test_html_is_self_contained_with_its_plots(scorecard):
    from optimizer.scorecard.render import render_html

    page = render_html(scorecard)
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inlined: the report opens offline
    assert page.count('class="plotly-graph-div"') == 4  # cost, daily profile, measured against the twin, tenants
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in page


def test_cli_writes_md_and_refuses_other_kinds(tmp_path, monkeypatch, capsys):
    out = tmp_path / "report.md"
    assert aift(monkeypatch, "scorecard", PILOT, "--out", out, "--no-plan") == 0
    text = out.read_text()
    assert "Planner not run" in text
    assert "No telemetry given" in text
    assert aift(monkeypatch, "scorecard", PILOT, "--out", tmp_path / "report.pdf") == 2
    assert "want a .html or .md file" in capsys.readouterr().err
    assert aift(monkeypatch, "scorecard", PILOT, "--out", out, "--no-plan") == 2  # exists: --force to replace
