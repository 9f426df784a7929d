"""The scorecard: every section an executive asks for, in Markdown and in self-contained HTML."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.cli_support import aift
from tests.conftest import PILOT
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


def test_mean_time_down_from_the_event_log_by_hand():
    # Component A: a unit fails at 1 h (1 down), another at 2 h (2 down), repairs at 4 h (1) and 5 h (0):
    # 1 x 1 + 2 x 2 + 1 x 1 = 6 unit-hours down over 2 failures = 3 h each. B fails at 8759 h and is
    # still down at the year's end (8760 h): 1 unit-hour, 1 failure. Together: 7 unit-hours / 3 failures.
    from optimizer.scorecard.failures import mean_down_h

    ev = pd.DataFrame({"time_h": [1.0, 2.0, 4.0, 5.0, 8759.0], "component": ["ups:a"] * 4 + ["ups:b"],
                       "event": ["unit failed", "unit failed", "unit repaired", "unit repaired", "unit failed"],
                       "units_down": [1.0, 2.0, 1.0, 0.0, 1.0], "replication": 0})
    assert mean_down_h(ev[ev["component"] == "ups:a"], "", "unit failed") == pytest.approx(3.0)
    assert mean_down_h(ev, "ups:", "unit failed") == pytest.approx(7 / 3)
    assert mean_down_h(ev, "systems:", "system failed") is None
