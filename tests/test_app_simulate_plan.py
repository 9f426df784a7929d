"""The Simulate and Plan pages, driven by AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


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
    bands, serving = app.dataframe[0].value, app.dataframe[1].value
    assert bands.loc["availability", "p5"] <= bands.loc["availability", "p50"] <= bands.loc["availability", "p95"] <= 1.0
    assert (serving["ttft_s_p50"] > 0).all()
    mc, _ = app.session_state.sim_result
    assert mc.replications == 3


def test_plan_runs_and_becomes_the_baseline(app):
    app.switch_page("ui/pages/plan.py").run()
    app.button(key="plan_run").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    run = app.session_state.plan_result
    kpis = app.dataframe[1].value
    assert kpis.loc["cost_per_million_tokens_usd", "twin"] == pytest.approx(kpis.loc["cost_per_million_tokens_usd", "predicted"], rel=0.05)
    app.button(key="plan_adopt").click().run()
    assert app.session_state.current == "plan-pilot-2mw-h100.yaml"
    assert app.session_state.drafts["plan-pilot-2mw-h100.yaml"] == run.yaml_text
