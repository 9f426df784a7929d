"""The Operate page, driven by AppTest: synthetic telemetry in, the twin calibrated, the scorecard built."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from twin.loader import load_spec_text


def test_operate_calibrates_synthetic_telemetry_and_builds_the_scorecard():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="example").set_value("pilot-2mw-h100.yaml").run()
    at.switch_page("ui/pages/operate.py").run()
    at.number_input(key="operate_days").set_value(2).run()
    at.button(key="operate_synth").click().run()
    at.button(key="operate_calibrate").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    result = at.session_state.operate_result
    # the pilot's one hall carries the injected 85 % throughput fault on both of its deployments
    assert [d.throughput_factor for d in result.calibration.deployments] == [pytest.approx(0.85, rel=0.02)] * 2
    assert result.calibration.pue_offset == pytest.approx(0.05, rel=0.02)
    assert any("under-delivers by 15" in m.value for m in at.markdown)
    at.button(key="operate_adopt").click().run()
    assert at.session_state.current == "pilot-2mw-h100-calibrated.yaml"
    adopted = load_spec_text(at.session_state.drafts["pilot-2mw-h100-calibrated.yaml"], "adopted.yaml")
    assert [d.deployment for d in adopted.calibration.deployments] == ["hall-1/hgx-h100", "hall-1/hgx-h200"]
    assert adopted.calibration.pue_offset == pytest.approx(result.calibration.pue_offset, rel=1e-5)  # written to six digits
    at.button(key="operate_build").click().run()
    assert not at.exception
    report = at.session_state.operate_scorecard
    assert report["html"].startswith("<!DOCTYPE html>")
    assert "## Measured against the twin" in report["md"]
