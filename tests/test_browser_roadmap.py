"""The Roadmap page in Debian's headless Chromium: plan the small campus, see its three charts and the schedule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.roadmap_support import ROADMAP_SMALL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"


def test_the_roadmap_page_plans_and_charts_the_campus(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app(ROADMAP_SMALL) as url, chromium_page() as page:
        page.goto(f"{url}/roadmap", wait_until="networkidle")
        page.get_by_role("button", name="Plan the roadmap").click()
        page.get_by_text("Levelized cost:").first.wait_for(timeout=180_000)
        page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
        for title in ("Installed capacity by generation", "Power used against the interconnect", "Cost per million output tokens"):
            assert page.get_by_text(title).count() >= 1
        assert page.get_by_role("button", name="Download the year specs (ZIP)").count() == 1
        page.screenshot(path=str(OUT / "roadmap.png"), full_page=True)
