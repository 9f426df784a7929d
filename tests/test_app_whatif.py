"""The What-if page: every example evaluates, and each lever moves its KPI the right way."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import EXAMPLES, ROOT, SMALL
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.overrides import apply_overrides
from ui.whatif import cap_note


def _number(metric) -> float:
    """A card's value back as a number: `105.3 M` is 105.3e6, `99.914 %` is 0.99914."""
    text = metric.value.replace("$", "").replace(",", "")
    value = float(text.split()[0])
    return value * 1e6 if " M" in text else value / 100 if text.endswith("%") else value


def kpis(app: AppTest) -> dict[str, float]:
    """Cards by label without the unit: {"Throughput": 105.3e6, ...}."""
    return {m.label.split(" (")[0]: _number(m) for m in app.metric}


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> AppTest:
    mp = pytest.MonkeyPatch()
    mp.setenv("AIFT_RUNS", str(tmp_path_factory.mktemp("runs")))
    yield AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    mp.undo()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_example_shows_kpi_cards_with_numbers(app, path):
    app.selectbox(key="example").set_value(path.name).run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    k = kpis(app)
    assert k["Throughput"] > 0
    assert 1.0 < k["PUE"] < 2.0
    assert 0.9 < k["Availability"] <= 1.0
    assert k["Cost per 1M tokens"] > 0


@pytest.fixture
def reference(app) -> AppTest:
    app.selectbox(key="example").set_value("reference-100mw-gb300.yaml").run()
    return app


def test_dearer_power_raises_cost_per_token_only(reference):
    price = reference.number_input(key="lever_price")
    base = price.value
    before = kpis(reference)
    price.set_value(base * 2).run()
    after = kpis(reference)
    assert after["Cost per 1M tokens"] > before["Cost per 1M tokens"]
    assert after["Throughput"] == before["Throughput"]
    assert any(m.delta and m.delta.startswith("+") for m in reference.metric if m.label == "Cost per 1M tokens")
    price.set_value(base).run()


def test_more_demand_raises_throughput_and_utilization(reference):
    demand = reference.slider(key="lever_demand")
    base = demand.value
    before = kpis(reference)
    demand.set_value(1.0).run()
    after = kpis(reference)
    assert after["Throughput"] > before["Throughput"]
    assert after["Utilization"] > before["Utilization"]
    demand.set_value(base).run()


def test_hotter_climate_raises_pue(reference):
    offset = reference.slider(key="lever_offset")
    before = kpis(reference)
    offset.set_value(8.0).run()
    after = kpis(reference)
    assert after["PUE"] > before["PUE"]
    offset.set_value(0.0).run()


def test_saved_scenarios_compare_side_by_side(reference):
    reference.text_input(key="scenario_name").set_value("as written").run()
    reference.button(key="save_scenario").click().run()
    price = reference.number_input(key="lever_price")
    base = price.value
    price.set_value(base + 50).run()
    dear_cost = kpis(reference)["Cost per 1M tokens"]
    reference.text_input(key="scenario_name").set_value("dear power").run()
    reference.button(key="save_scenario").click().run()
    assert not reference.exception
    price.set_value(base).run()
    reference.switch_page("ui/pages/compare.py").run()
    assert not reference.exception
    assert not reference.info, [i.value for i in reference.info]
    params, table = (d.value for d in reference.dataframe)
    price_column = next(c for c in params.columns if c.endswith("site.tariff.price_usd_per_mwh"))
    # both rows hold a price (the spec's for the scenario that left it alone), never None
    assert [v.endswith("USD/MWh") for v in params[price_column]] == [True, True]
    cost = table.loc["Cost per 1M tokens"]
    dear = next(c for c in table.columns if c.startswith("dear power"))
    assert float(cost[dear].lstrip("$")) == pytest.approx(dear_cost, rel=1e-3)
    assert cost[f"Δ {dear}"].startswith("+")
    reference.switch_page("ui/pages/whatif.py").run()


def test_a_capped_year_is_explained_in_words():
    small = load_spec(SMALL)
    assert cap_note(evaluate(small).kpis) is None
    k = evaluate(apply_overrides(small, {"cooling.loops[cdu-1].units": 1, "cooling.loops[cdu-1].redundancy": "N"})).kpis
    note = cap_note(k)
    assert f"{int(k['capped_hours']):,} hours" in note
    assert "by the cooling capacity" in note
    assert f"{k['tokens_lost_to_cap'] / (k['output_tokens_per_year'] + k['tokens_lost_to_cap']):.2%}" in note
