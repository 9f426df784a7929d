"""The scorecard HTML and the Operate page in a real browser: Debian's headless Chromium, offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.cli_support import aift
from tests.conftest import PILOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"


def test_the_scorecard_html_opens_offline_with_its_plots(tmp_path, monkeypatch):
    telemetry, report = tmp_path / "tm", tmp_path / "scorecard.html"
    assert aift(monkeypatch, "telemetry", "synth", PILOT, "--out", telemetry, "--days", "2", "--interval-s", "1800") == 0
    assert aift(monkeypatch, "scorecard", PILOT, "--telemetry", telemetry, "--mapping", telemetry / "mapping.yaml", "--out", report) == 0
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        asked = []

        def offline(route):
            """Let the report's own file through; refuse and remember anything from the network."""
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                asked.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri(), wait_until="load")
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 4
        headings = page.locator("h2").all_inner_texts()
        assert headings == ["Expected cost per token", "Utilization plan", "Measured against the twin", "Failure modes", "Scaling path", "Cost allocation"]
        assert "under-delivers by 15" in page.locator("body").inner_text()
        page.screenshot(path=str(OUT / "scorecard.png"), full_page=True)
    assert errors == []
    assert asked == []  # nothing fetched from the network: plotly.js is inlined


def test_the_operate_page_calibrates_synthetic_telemetry(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app(PILOT) as url, chromium_page() as page:
        page.goto(f"{url}/operate", wait_until="networkidle")
        page.get_by_role("button", name="Generate synthetic telemetry").click(timeout=90_000)
        page.get_by_role("button", name="Calibrate the twin").click(timeout=90_000)
        page.get_by_text("Drift report").wait_for(timeout=120_000)
        page.get_by_text("under-delivers by 15", exact=False).first.wait_for(timeout=60_000)
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        page.screenshot(path=str(OUT / "operate.png"), full_page=True)
        assert (OUT / "operate.png").stat().st_size > 10_000
