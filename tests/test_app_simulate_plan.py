"""The Simulate and Plan pages, driven by AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui.simulate import bands_table


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="example").set_value("pilot-2mw-h100.yaml").run()
    return at


def test_simulate_shows_bands_and_serving(app):
    app.switch_page("ui/pages/simulate.py").run()
    app.number_input(key="sim_reps").set_value(3).run()
    app.toggle(key="sim_serving").set_value(True).run()
    app.button(key="sim_run").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    mc, runs = app.session_state.sim_result
    bands = bands_table(mc)
    assert bands.loc["availability", "p5"] <= bands.loc["availability", "p50"] <= bands.loc["availability", "p95"] <= 1.0
    assert all(r.summary["ttft_s_p50"] > 0 for r in runs)
    assert mc.replications == 3
    # the table on the page shows the same band, formatted as a percentage
    shown = app.dataframe[0].value
    text = shown.loc["Availability", "p5"]
    assert text.endswith(" %")
    assert float(text.removesuffix(" %")) / 100 == pytest.approx(bands.loc["availability", "p5"], abs=5e-5)


def test_plan_runs_and_becomes_the_baseline(app):
    app.switch_page("ui/pages/plan.py").run()
    app.button(key="plan_run").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    run = app.session_state.plan_result
    assert run.twin["cost_per_million_tokens_usd"] == pytest.approx(run.predicted["cost_per_million_tokens_usd"], rel=0.05)
    app.button(key="plan_adopt").click().run()
    assert app.session_state.current == "plan-pilot-2mw-h100.yaml"
    adopted = app.session_state.drafts["plan-pilot-2mw-h100.yaml"]
    assert "name: plan-pilot-2mw-h100" in adopted
    assert adopted.replace("name: plan-pilot-2mw-h100", "name: pilot-2mw-h100", 1) == run.yaml_text
