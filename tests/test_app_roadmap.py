"""The Roadmap page, driven by AppTest on the small two-generation campus."""

from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.roadmap_support import ROADMAP_SMALL


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    name = ROADMAP_SMALL.name
    at.session_state["drafts"] = {**at.session_state["drafts"], name: ROADMAP_SMALL.read_text()}
    at.session_state["folders"] = {**at.session_state["folders"], name: ROADMAP_SMALL.parent}
    at.session_state["current"] = name
    return at.switch_page("ui/pages/roadmap.py").run()


def test_the_roadmap_page_charts_and_offers_the_year_specs(app):
    app.button(key="roadmap_run").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    result = app.session_state.roadmap_result
    years = app.dataframe[1].value
    assert list(years["year"]) == [2026, 2027, 2028]
    assert years["USD/Mtok (twin)"].to_numpy() == pytest.approx(years["USD/Mtok (roadmap)"].to_numpy(), rel=0.05)
    schedule = app.dataframe[0].value
    assert set(schedule["system"]) <= {"gb300-nvl72", "vr-nvl72"}
    assert len(app.get("plotly_chart")) == 3
    archive = zipfile.ZipFile(io.BytesIO(_zip_of(result)))
    assert sorted(archive.namelist()) == ["year-2026.yaml", "year-2027.yaml", "year-2028.yaml"]


def test_a_spec_without_a_roadmap_says_where_to_find_one():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.selectbox(key="example").set_value("pilot-2mw-h100.yaml").run()
    at.switch_page("ui/pages/roadmap.py").run()
    assert not at.exception
    assert "no `roadmap:` section" in at.info[0].value


def _zip_of(result) -> bytes:
    from ui.roadmap import year_specs_zip

    return year_specs_zip(result)
