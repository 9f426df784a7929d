"""Uploads in the app: each session keeps them in its own folder, and a spec reads files only from there."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, SMALL

CLIMATE_LINE = "  climate: {preset: temperate}"
PASSWD = Path("/etc/passwd")


def _naming(value: str) -> bytes:
    return SMALL.read_text().replace(CLIMATE_LINE, f"  climate: {{file: '{value}'}}").encode()


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    return at.switch_page("ui/pages/facility.py").run()


def _page_text(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "markdown", "success", "code", "caption") for e in getattr(app, kind))


def _passwd_lines() -> list[str]:
    return [line for line in PASSWD.read_text().splitlines() if line.strip()] if PASSWD.is_file() else ["root:x:0:0"]


def test_an_uploaded_spec_naming_a_server_file_is_refused_at_its_line(app):
    text = _naming(str(PASSWD))
    app.file_uploader(key="upload").upload("evil.yaml", text, "application/x-yaml").run()
    assert not app.exception
    line = text.decode().splitlines().index(f"  climate: {{file: '{PASSWD}'}}") + 1
    assert any(f"line {line}" in m.value and "site.climate.file" in m.value and "outside the spec's folder" in m.value for m in app.markdown)
    shown = _page_text(app)
    assert not [x for x in _passwd_lines() if x in shown]
    app.switch_page("ui/pages/whatif.py").run()
    assert not app.exception
    assert "has 1 problem(s)" in app.error[0].value
    shown = _page_text(app)
    assert not [x for x in _passwd_lines() if x in shown]


def test_an_uploaded_weather_file_is_read_beside_the_uploaded_spec(app):
    app.file_uploader(key="upload").upload("site.csv", b"dry_bulb_c,wet_bulb_c\n" + b"25,18\n" * 8760, "text/csv").run()
    folder = app.session_state.upload_dir
    assert (folder / "site.csv").is_file()
    app.file_uploader(key="upload").upload("mine.yaml", _naming("site.csv"), "application/x-yaml").run()
    assert not app.exception
    assert app.session_state.current == "mine.yaml"
    assert "is valid" in app.success[0].value


def test_each_session_has_its_own_upload_folder(app):
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run().switch_page("ui/pages/facility.py").run()
    for at in (app, other):
        at.file_uploader(key="upload").upload("site.csv", b"dry_bulb_c,wet_bulb_c\n", "text/csv").run()
    assert app.session_state.upload_dir != other.session_state.upload_dir


def test_an_upload_name_cannot_leave_the_session_folder(app):
    app.file_uploader(key="upload").upload("../../escape.csv", b"dry_bulb_c,wet_bulb_c\n", "text/csv").run()
    folder = app.session_state.upload_dir
    assert [p.name for p in folder.iterdir()] == ["escape.csv"]
    assert not (folder.parent.parent / "escape.csv").exists()


def test_an_upload_over_the_spec_limit_is_refused(app):
    app.file_uploader(key="upload").upload("huge.csv", b"x" * 5_000_001, "text/csv").run()
    assert not app.exception
    assert "huge.csv is 5,000,001 bytes; the limit is 5,000,000." in app.error[0].value
    assert "upload_dir" not in app.session_state  # refused before any folder was made for it
