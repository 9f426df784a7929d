"""The Simulate page's serving experiment, driven by AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def test_the_serving_experiment_runs_and_charts_queue_and_latency_over_time():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="example").set_value("pilot-2mw-h100.yaml").run()
    at.switch_page("ui/pages/simulate.py").run()
    at.selectbox(key="serve_arrivals").set_value("agentic").run()
    at.selectbox(key="serve_router").set_value("kv-aware").run()
    at.number_input(key="serve_level").set_value(1.5).run()  # overload
    at.number_input(key="serve_requests").set_value(800).run()
    at.number_input(key="serve_replicas").set_value(1).run()
    at.button(key="serve_run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    o = at.session_state.serve_result
    assert o.summary["model"] == "llama-3.3-70b"
    assert o.summary["router"] == "kv-aware"
    assert o.summary["requests"] == 800
    assert o.summary["finished"] + o.summary["unfinished"] == 800
    fleet = next(d.value for d in at.dataframe if "role" in d.value.columns)
    assert set(fleet["system"]) == {"hgx-h100", "hgx-h200"}
    chart = at.get("plotly_chart")
    assert any("queue depth" in c.proto.spec for c in chart)
