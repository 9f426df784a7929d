"""The app as a planner meets it (issue 17), in Debian's headless Chromium: one server and one page for the module.

The tests run in order on the same page: levers reset on a facility switch, a saved scenario
matches the page, the floors of the four-hall reference draw, downloads hold what the page
shows, a long simulation shows progress and stops, a what-if survives a reload. Every page is
screenshot into test-output/browser/.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import CHROMIUM, chromium_page, running_app
from tests.conftest import PILOT, REFERENCE
from twin.loader import load_spec

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test installs it)"),
]

OUT = Path(__file__).resolve().parent.parent / "test-output" / "browser"
PRICE = "Electricity price (USD/MWh)"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """(url, page) of the app on the reference facility, with its own results store."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AIFT_RUNS", str(tmp_path_factory.mktemp("runs")))
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with running_app(REFERENCE) as url, chromium_page() as page:
            page.set_default_timeout(90_000)
            page.goto(url, wait_until="networkidle")
            _card(page, "Cost per 1M tokens").wait_for()
            yield url, page
    finally:
        mp.undo()


def _card(page, label: str):
    return page.locator('[data-testid="stMetric"]', has_text=label).first.locator('[data-testid="stMetricValue"]')


def _wait_card(page, label: str, ok, timeout_s: float = 30) -> str:
    """The card's text once `ok(text)` holds (a rerun paints the caption before the cards); the last text if it never does."""
    text = _card(page, label).inner_text()
    for _ in range(int(timeout_s / 0.25)):
        if ok(text):
            break
        page.wait_for_timeout(250)
        text = _card(page, label).inner_text()
    return text


def _number(text: str) -> float:
    """A card or cell back to a number: `$0.2224` -> 0.2224, `105.3 M` -> 105.3e6, `99.914 %` -> 0.99914."""
    value = float(re.sub(r"[^0-9.\-eE]", "", text.split()[0]))
    return value * 1e6 if " M" in text else value / 100 if text.strip().endswith("%") else value


def _caption(page) -> str:
    return page.locator('[data-testid="stCaptionContainer"]').first.inner_text()


def _wait_caption(page, *parts: str) -> None:
    page.wait_for_function("""(parts) => {
        const c = document.querySelector('[data-testid="stCaptionContainer"]');
        return c && parts.every(p => c.innerText.includes(p));
    }""", arg=list(parts))


def _wait_input(page, label: str, value: str) -> None:
    page.wait_for_function("([l, v]) => document.querySelector(`input[aria-label=\"${l}\"]`)?.value === v", arg=[label, value])


def _set_number(page, label: str, value: float) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(f"{value:g}")
    box.press("Enter")


def _pick(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]', has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _download(page, button: str) -> list[dict]:
    with page.expect_download() as dl:
        page.get_by_role("button", name=button).first.click()
    return list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))


def _go(page, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).click()
    page.locator("h1", has_text=title).wait_for()


def _shot(page, name: str) -> None:
    """A tall screenshot, so the page's scrolled part is in it."""
    page.set_viewport_size({"width": 1366, "height": 2600})
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUT / f"app-{name}.png"))
    page.set_viewport_size({"width": 1366, "height": 900})


def _grid(page, index: int) -> list[str]:
    """The cells of the page's `index`-th table, from the accessible grid Streamlit renders for the rows in view."""
    table = page.locator('[data-testid="stDataFrame"]').nth(index)
    table.scroll_into_view_if_needed()
    cells = table.locator('[role="gridcell"], [role="rowheader"]')
    cells.first.wait_for(state="attached")  # the accessible grid is in the DOM but not painted: read its text
    return [t.strip() for t in cells.all_text_contents()]


def _row(page, index: int, first: str) -> list[str]:
    """The cells of the row of the page's `index`-th table that starts with `first`."""
    table = page.locator('[data-testid="stDataFrame"]').nth(index)
    table.scroll_into_view_if_needed()
    row = table.locator('[role="row"]', has_text=first).first
    row.wait_for(state="attached")
    return [t.strip() for t in row.locator('[role="gridcell"], [role="rowheader"]').all_text_contents()]


def test_switching_facility_resets_the_levers(app):
    _, page = app
    ref_price = load_spec(REFERENCE).site.tariff.price_usd_per_mwh
    pilot_price = load_spec(PILOT).site.tariff.price_usd_per_mwh
    _set_number(page, PRICE, ref_price + 100)
    _wait_caption(page, f"{PRICE} {ref_price + 100:g}")
    _pick(page, "Facility", PILOT.name)
    _wait_caption(page, "pilot-2mw-h100", "as written")
    assert float(page.get_by_label(PRICE, exact=True).input_value()) == pilot_price
    # touching one lever now moves that lever only: the reference's price is not carried over
    _set_number(page, PRICE, pilot_price + 10)
    _wait_caption(page, f"with {PRICE} {pilot_price + 10:g}.")
    _wait_input(page, "Scenario name", f"pilot-2mw-h100: {PRICE} {pilot_price + 10:g}")
    assert page.locator('[data-testid="stAlert"]', has_text="not valid").count() == 0
    _shot(page, "whatif-pilot")


def test_a_saved_scenario_has_the_name_and_kpis_the_page_showed(app):
    _, page = app
    pilot_price = load_spec(PILOT).site.tariff.price_usd_per_mwh
    name = page.get_by_label("Scenario name", exact=True).input_value()
    assert name == f"pilot-2mw-h100: {PRICE} {pilot_price + 10:g}"
    shown = _card(page, "Cost per 1M tokens").inner_text()
    page.get_by_role("button", name="Save scenario").click()
    page.locator('[data-testid="stAlert"]', has_text=f"Saved '{name}'").wait_for()
    page.get_by_role("button", name="Reset levers to the spec").click()
    _wait_caption(page, "pilot-2mw-h100", "as written")
    _wait_input(page, "Scenario name", "pilot-2mw-h100: as written")
    as_written = _card(page, "Cost per 1M tokens").inner_text()
    page.get_by_role("button", name="Save scenario").click()
    page.locator('[data-testid="stAlert"]', has_text="Saved 'pilot-2mw-h100: as written'").wait_for()
    _go(page, "Compare")
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for()
    rows = {r[""]: r for r in _download(page, "Download comparison-kpis.csv")}
    scenario = next(c for c in rows["cost_per_million_tokens_usd"] if c.startswith(name))
    written = next(c for c in rows["cost_per_million_tokens_usd"] if c.startswith("pilot-2mw-h100: as written"))
    # the store holds the figures the cards showed (cards round to four significant figures)
    assert float(rows["cost_per_million_tokens_usd"][scenario]) == pytest.approx(_number(shown), rel=5e-4)
    assert float(rows["cost_per_million_tokens_usd"][written]) == pytest.approx(_number(as_written), rel=5e-4)
    # and the page's table shows them as the cards did
    cells = _grid(page, 1)  # "What differs" first, then the KPIs
    assert shown in cells
    assert as_written in cells
    _shot(page, "compare")


def test_the_floor_tab_draws_every_hall_of_the_reference(app):
    url, page = app
    halls = len(load_spec(REFERENCE).halls)
    page.goto(url, wait_until="networkidle")
    _pick(page, "Facility", REFERENCE.name)
    _wait_caption(page, "reference-100mw-gb300", "as written")
    page.get_by_role("tab", name="Floor").click()
    panel = page.locator('[role="tabpanel"]:visible')
    panel.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_function("""(n) => [...document.querySelectorAll('[role="tabpanel"] .js-plotly-plot')]
        .some(p => p._fullData && p._fullData.filter(t => t.type === 'heatmap').length === n
                   && p.querySelectorAll('g.hm image').length === n)""", arg=halls)
    _shot(page, "whatif-floor")


def test_the_whatif_downloads_hold_the_kpis_the_cards_show(app):
    _, page = app
    rows = {r["kpi"]: float(r["value"]) for r in _download(page, "Download the KPIs (CSV)")}
    for label, key in (("Cost per 1M tokens", "cost_per_million_tokens_usd"), ("PUE", "pue"), ("Availability", "availability")):
        assert rows[key] == pytest.approx(_number(_card(page, label).inner_text()), rel=5e-4, abs=5e-6), label
    page.get_by_role("tab", name="Chain").click()
    page.locator('[role="tabpanel"]:visible .js-plotly-plot').first.wait_for()
    _shot(page, "whatif-chain")


def test_a_long_simulation_shows_progress_and_stops(app):
    _, page = app
    _go(page, "Simulate")
    _set_number(page, "Replications (years)", 200)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Run the simulation").click()
    progress = page.locator('[data-testid="stProgress"]')
    page.wait_for_function("""() => /Simulated [1-9]\\d* of 200 years/.test(document.querySelector('[data-testid="stProgress"]')?.innerText || '')""")
    assert "s left" in progress.inner_text()
    _shot(page, "simulate-running")
    page.get_by_role("button", name="Stop the simulation").click()
    stopped = page.locator('[data-testid="stAlert"]', has_text="Stopped after")
    stopped.wait_for()
    done = int(re.search(r"Stopped after (\d+) of 200", stopped.inner_text()).group(1))
    assert 1 <= done < 200


def test_simulation_downloads_hold_the_bands_the_page_shows(app):
    _, page = app
    _set_number(page, "Replications (years)", 3)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Run the simulation").click()
    page.locator("h3", has_text="3 simulated years").wait_for()
    rows = {r[""]: r for r in _download(page, "Download reference-100mw-gb300-sim-bands.csv")}
    cells = _row(page, 0, "Availability")
    mean = float(rows["availability"]["mean"])
    # the row reads: Availability, mean, p5, p50, p95 — as percentages with three decimals
    assert cells[0] == "Availability"
    assert _number(cells[1]) == pytest.approx(mean, abs=5e-6)
    _shot(page, "simulate")


def test_plan_downloads_hold_the_plan_the_page_shows(app):
    _, page = app
    _go(page, "Plan")
    page.get_by_role("button", name="Plan", exact=True).click()
    page.locator("h3", has_text="What the plan decided").wait_for()
    rows = _download(page, "Download plan-reference-100mw-gb300-layout.csv")
    cells = _grid(page, 0)
    for r in rows:
        assert r["hall"] in cells
        assert f"{int(r['racks_in_plan']):,}" in cells
    kpis = {r[""]: r for r in _download(page, "Download plan-reference-100mw-gb300-kpis.csv")}
    assert float(kpis["cost_per_million_tokens_usd"]["current"]) > 0
    _shot(page, "plan")


def test_a_whatif_survives_a_reload_through_the_url(app):
    url, page = app
    _go(page, "What-if")
    price = load_spec(REFERENCE).site.tariff.price_usd_per_mwh + 25
    before = _card(page, "Cost per 1M tokens").inner_text()
    _set_number(page, PRICE, price)
    _wait_caption(page, f"{PRICE} {price:g}")
    page.wait_for_function("(p) => new URLSearchParams(location.search).get('price') === p", arg=f"{price:g}")
    cost = _wait_card(page, "Cost per 1M tokens", lambda text: text != before)
    params = parse_qs(urlparse(page.url).query)
    assert params["facility"] == [REFERENCE.name]
    assert params["price"] == [f"{price:g}"]
    page.reload(wait_until="networkidle")
    _wait_caption(page, f"{PRICE} {price:g}")
    page.wait_for_function("([l, v]) => parseFloat(document.querySelector(`input[aria-label=\"${l}\"]`)?.value) === v", arg=[PRICE, price])
    assert _wait_card(page, "Cost per 1M tokens", lambda text: text == cost) == cost
    # a fresh browser with only the shared link gets the same what-if
    page.goto(f"{url}/?facility={REFERENCE.name}&price={price:g}", wait_until="networkidle")
    _wait_caption(page, f"{PRICE} {price:g}")
    assert _wait_card(page, "Cost per 1M tokens", lambda text: text == cost) == cost
    _shot(page, "whatif-from-url")


def test_every_page_is_screenshot(app):
    _, page = app
    for title in ("Facility", "Simulate", "Plan", "Compare", "What-if"):
        _go(page, title)
        page.wait_for_timeout(1000)
        _shot(page, title.lower().replace("-", ""))
        assert (OUT / f"app-{title.lower().replace('-', '')}.png").stat().st_size > 10_000
