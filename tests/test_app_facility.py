"""The app's Facility page, driven by Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import EXAMPLES, ROOT


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    return at.switch_page("ui/pages/facility.py").run()


def test_opens_on_the_reference_facility(app):
    assert not app.exception
    assert app.session_state.current == "reference-100mw-gb300.yaml"
    assert "reference-100mw-gb300" in app.success[0].value


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_example_loads_and_validates(app, path):
    app.selectbox(key="example").set_value(path.name).run()
    assert not app.exception
    assert app.session_state.current == path.name
    assert app.text_area(key="editor").value == path.read_text()
    assert "is valid" in app.success[0].value


def test_broken_edit_shows_located_error_and_keeps_the_edit(app):
    text = app.text_area(key="editor").value
    broken = text.replace("racks: 136}", "racks: 150}", 1)
    line = next(i + 1 for i, s in enumerate(broken.splitlines()) if s.startswith("  - {id: hall-1"))
    app.text_area(key="editor").set_value(broken).run()
    assert not app.exception
    assert "your edits are kept" in app.error[0].value
    assert any(f"line {line}" in m.value and "150 racks are deployed" in m.value for m in app.markdown)
    assert app.session_state.drafts["reference-100mw-gb300.yaml"] == broken
    # switching to another example and back restores the broken draft, not the file
    app.selectbox(key="example").set_value("pilot-2mw-h100.yaml").run()
    app.selectbox(key="draft_pick").set_value("reference-100mw-gb300.yaml").run()
    assert app.text_area(key="editor").value == broken


def test_broken_upload_shows_errors_never_a_traceback(app):
    content = b"name: x\nsite: {utility_mw: -3}\n"
    app.file_uploader(key="upload").upload("broken.yaml", content, "application/x-yaml").run()
    assert not app.exception
    assert app.session_state.current == "broken.yaml"
    assert app.text_area(key="editor").value == content.decode()
    assert app.error
    assert "problem" in app.error[0].value
    assert any("site.utility_mw" in m.value and "line 2" in m.value for m in app.markdown)
