"""The app in a real browser: Debian's headless Chromium driven by Playwright, on a loopback port."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.conftest import REFERENCE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text.split()[0])) * (1e6 if " M" in text else 1.0)


def test_kpis_render_and_price_moves_cost(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app(REFERENCE) as url, chromium_page() as page:
        page.goto(url, wait_until="networkidle")
        page.locator('[data-testid="stMetric"]', has_text="Cost per 1M tokens").first.wait_for(timeout=90_000)
        for label in ("Throughput", "Tokens per joule", "Tokens/s per MW", "Cost per 1M tokens", "PUE", "Availability", "Utilization"):
            assert re.search(r"\d", _metric(page, label)), label
        before = _number(_metric(page, "Cost per 1M tokens"))
        page.screenshot(path=str(OUT / "whatif.png"), full_page=True)

        price = page.get_by_label("Electricity price (USD/MWh)", exact=True)
        price.fill(str(_number(price.input_value()) + 100))
        price.press("Enter")
        page.wait_for_function(
            """(before) => {
                const cards = [...document.querySelectorAll('[data-testid="stMetric"]')];
                const card = cards.find(c => c.innerText.includes('Cost per 1M tokens'));
                if (!card) return false;
                const v = parseFloat(card.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[^0-9.]/g, ''));
                return v > before;
            }""",
            arg=before,
            timeout=60_000,
        )
        assert _number(_metric(page, "Cost per 1M tokens")) > before
        page.screenshot(path=str(OUT / "whatif-dearer-power.png"), full_page=True)

        for slug in ("facility", "simulate", "plan", "compare"):
            page.goto(f"{url}/{slug}", wait_until="networkidle")
            page.locator("h1").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(OUT / f"{slug}.png"), full_page=True)
            assert (OUT / f"{slug}.png").stat().st_size > 10_000
