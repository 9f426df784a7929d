"""The Simulate page's serving experiment in Debian's headless Chromium: a replayed trace, charted over time."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.conftest import PILOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"


def _idle(page, timeout_ms: float = 180_000) -> None:
    """Wait until the app is not running: a click during a rerun (the engine compiles on first use) is lost."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout_ms)


def _choose(page, label: str, option: str, attempts: int = 4) -> None:
    """Pick `option` in the select labelled `label`; a click that lands while the app reruns is tried again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        _idle(page)
        page.locator('[data-testid="stSelectbox"]', has_text=label).first.click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(state="visible", timeout=15_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        choice.click()
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def test_an_uploaded_trace_is_replayed_and_charted(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
    trace = tmp_path / "azure.csv"
    # 600 requests, one every 20 ms for 12 s, 2048 tokens in and 512 out: 25,600 tok/s asked of replicas that give ~16,000.
    start = datetime(2023, 11, 16, 18, 15, 46)
    trace.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                     + "".join(f"{start + timedelta(seconds=0.02 * i)},2048,512\n" for i in range(600)))
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app(PILOT) as url, chromium_page() as page:
        page.goto(f"{url}/simulate", wait_until="networkidle")
        page.get_by_text("Serving experiment").first.wait_for(timeout=120_000)
        _choose(page, "Traffic", "trace")
        page.get_by_text("Play the trace at its recorded times").first.wait_for(timeout=120_000)
        page.locator('input[type="file"]').set_input_files(str(trace))
        page.get_by_role("button", name="Run the serving experiment").click()
        chart = page.get_by_text("Requests waiting for admission").first
        chart.wait_for(timeout=180_000)
        chart.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "serve-trace.png"))
        body = page.locator("body").inner_text()
        assert "Met the SLA" in body
        assert "Unfinished" in body
        assert "Traceback" not in body
