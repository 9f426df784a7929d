"""The app as an attacker would use it, in Debian's headless Chromium: a spec naming a server file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.conftest import REFERENCE, SMALL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"
CLIMATE_LINE = "  climate: {preset: temperate}"


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if len(line.strip()) > 3]


def _shows_none_of(page, lines: list[str]) -> None:
    shown = page.locator("body").inner_text()
    assert not [line for line in lines if line in shown]
    assert "root:x:0:0" not in shown


def test_an_uploaded_spec_naming_etc_passwd_shows_no_line_of_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
    evil = tmp_path / "evil.yaml"
    evil.write_text(SMALL.read_text().replace(CLIMATE_LINE, "  climate: {file: /etc/passwd}"))
    secret = _lines(Path("/etc/passwd"))
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app(REFERENCE) as url, chromium_page() as page:
        page.goto(f"{url}/facility", wait_until="networkidle")
        page.locator('input[type="file"]').set_input_files(str(evil))
        page.get_by_text("outside the spec's folder").first.wait_for(timeout=60_000)
        page.screenshot(path=str(OUT / "upload-etc-passwd.png"), full_page=True)
        _shows_none_of(page, secret)
        # the same session on the What-if page, where the file used to be read and its first line shown
        page.get_by_role("link", name="What-if").first.click()
        page.get_by_text("problem(s); fix them on the Facility page").first.wait_for(timeout=60_000)
        page.screenshot(path=str(OUT / "upload-etc-passwd-whatif.png"), full_page=True)
        _shows_none_of(page, secret)
