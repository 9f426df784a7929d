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


def test_an_adopted_plan_is_compared_with_the_facility_it_replaced(app):
    app.switch_page("ui/pages/plan.py").run()
    app.button(key="plan_run").click().run()
    app.button(key="plan_adopt").click().run()
    app.switch_page("ui/pages/whatif.py").run()
    assert not app.exception
    assert app.session_state.baseline["name"] == "pilot-2mw-h100"
    assert "Badges: change against **pilot-2mw-h100**" in app.caption[0].value
    assert "plan-pilot-2mw-h100" in app.caption[0].value


def test_min_cost_asks_for_the_demand_it_must_meet(app):
    app.switch_page("ui/pages/plan.py").run()
    app.selectbox(key="plan_objective").set_value("min-cost").run()
    models = [m.value for m in app.number_input if m.key.startswith("plan_demand_")]
    assert len(models) == 2  # llama-3.3-70b and gpt-oss-120b in the pilot's workload
    app.number_input(key="plan_demand_0").set_value(1e5).run()
    app.button(key="plan_run").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    run = app.session_state.plan_result
    assert run.solution.objective == "min-cost"


def test_no_table_on_any_page_shows_a_raw_float(app):
    """Every table on the pages is text formatted by ui.fmt (the raw figures go to the CSV downloads)."""
    def check(where: str) -> None:
        for d in app.dataframe:
            df = d.value
            raw = [c for c in df.columns if df[c].map(lambda v: isinstance(v, float)).any()]
            assert not raw, f"{where}: {raw}"
    check("what-if")
    app.switch_page("ui/pages/simulate.py").run()
    app.number_input(key="sim_reps").set_value(2).run()
    app.toggle(key="sim_serving").set_value(True).run()
    app.button(key="sim_run").click().run()
    check("simulate")
    app.switch_page("ui/pages/plan.py").run()
    app.toggle(key="plan_shadow").set_value(True).run()
    app.button(key="plan_run").click().run()
    check("plan")
    assert len(app.dataframe) >= 3
