"""The What-if levers and the editor's drafts, as a planner uses them (AppTest; no browser)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PILOT, REFERENCE, ROOT
from twin.evaluate import evaluate
from twin.loader import load_spec
from ui.levers import levers_of, overrides


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_levers_are_the_spec_values_and_only_moved_ones_override():
    spec = load_spec(REFERENCE)
    levers = {lv.key: lv for lv in levers_of(spec)}
    assert levers["lever_price"].default == spec.site.tariff.price_usd_per_mwh
    assert overrides(list(levers.values()), {}) == {}
    moved = {"lever_price": spec.site.tariff.price_usd_per_mwh + 10, "lever_racks_0": spec.deployments[0].racks}
    assert overrides(list(levers.values()), moved) == {"site.tariff.price_usd_per_mwh": spec.site.tariff.price_usd_per_mwh + 10}
    racks = levers["lever_racks_0"]
    with pytest.raises(ValueError, match="outside"):
        racks.parse(str(spec.hall(spec.deployments[0].hall).positions + 1))


def test_switching_facility_resets_every_lever_to_the_new_spec():
    at = _app().run()
    ref, pilot = load_spec(REFERENCE), load_spec(PILOT)
    at.number_input(key="lever_price").set_value(ref.site.tariff.price_usd_per_mwh + 100).run()
    at.slider(key="lever_demand").set_value(0.5).run()
    at.selectbox(key="example").set_value(PILOT.name).run()
    assert not at.exception
    for lever in levers_of(pilot):
        assert at.session_state[lever.key] == lever.default, lever.key
    assert "as written" in at.caption[0].value


def test_the_url_carries_the_levers_and_a_bad_value_is_explained():
    at = _app()
    at.query_params["facility"] = REFERENCE.name
    at.query_params["price"] = "95"
    at.query_params["racks_0"] = "100000"
    at.run()
    assert not at.exception
    assert at.session_state.lever_price == 95
    assert any("racks_0" in w.value and "outside" in w.value for w in at.warning)
    at.button(key="reset_levers").click().run()
    assert at.session_state.lever_price == load_spec(REFERENCE).site.tariff.price_usd_per_mwh


def test_an_invalid_combination_cannot_be_saved():
    at = _app().run()
    at.selectbox(key="example").set_value(PILOT.name).run()
    # an NVL72 rack draws far more than the pilot hall's 25 kW racks allow
    at.selectbox(key="lever_system_0").set_value("gb300-nvl72").run()
    assert any("not valid" in e.value for e in at.error)
    assert at.button(key="save_scenario").disabled


def test_a_ttft_limit_that_does_not_bind_says_why():
    at = _app().run()
    spec = load_spec(REFERENCE)
    ttft = {m["model"]: m["ttft_s"] for m in evaluate(spec).models}[spec.workload.models[0].model]
    limit = round(ttft * 3, 1)  # comfortably above the operating point's TTFT, below the spec's limit
    assert limit < spec.workload.models[0].sla.max_ttft_s
    at.number_input(key="lever_sla_ttft_0").set_value(limit).run()
    note = next(i.value for i in at.info if "does not bind" in i.value)
    assert f"{limit:g} s" in note
    assert f"{ttft:.3g} s" in note


def test_reuploading_an_open_name_asks_and_can_open_a_copy():
    at = _app().run().switch_page("ui/pages/facility.py").run()
    at.file_uploader(key="upload").upload(REFERENCE.name, b"name: changed\n", "application/x-yaml").run()
    assert any("differs from the upload" in w.value for w in at.warning)
    assert at.session_state.current == REFERENCE.name
    at.button(key="upload_copy").click().run()
    assert at.session_state.current == "reference-100mw-gb300 (2).yaml"
    assert at.session_state.drafts["reference-100mw-gb300 (2).yaml"] == "name: changed\n"
    assert at.session_state.drafts[REFERENCE.name] == REFERENCE.read_text()


def test_drafts_survive_a_reload_through_the_session_token():
    first = _app().run().switch_page("ui/pages/facility.py").run()
    edited = first.text_area(key="editor").value.replace("racks: 136}", "racks: 130}", 1)
    first.text_area(key="editor").set_value(edited).run()
    token = first.session_state.draft_token
    again = _app()
    again.query_params["session"] = token
    again.run()
    assert again.session_state.drafts[REFERENCE.name] == edited
    assert again.session_state.current == REFERENCE.name


def test_levers_keep_their_values_across_pages():
    at = _app().run()
    price = load_spec(REFERENCE).site.tariff.price_usd_per_mwh + 30
    at.number_input(key="lever_price").set_value(price).run()
    at.switch_page("ui/pages/plan.py").run()
    at.switch_page("ui/pages/whatif.py").run()
    assert at.number_input(key="lever_price").value == price
    assert f"Electricity price (USD/MWh) {price:g}" in at.caption[0].value
