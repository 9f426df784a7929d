"""The hourly power model: a one-rack facility computed by hand, the utility cap, and the examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from tests.conftest import EXAMPLES, PILOT, REFERENCE, SMALL
from twin.deployments import deployment_systems
from twin.energy import hourly_power
from twin.loader import load_spec, load_spec_text
from twin.network import hall_network_shares, network
from twin.overrides import apply_overrides
from twin.weather import Weather, weather_for

# One GB300 NVL72 rack (idle 42 kW, max 140 kW, liquid share 0.857). Fixed COP 4
# (cop_min = cop_max) and an approach so large the compressor always carries all the heat;
# a transformer with a constant core loss, a UPS losing 3 % of its load, a lossless busway.
ONE_RACK_YAML = """
name: one-rack
site:
  utility_mw: {utility_mw}
  misc_load_frac: 0.02
  climate: {{preset: temperate}}
  tariff: {{price_usd_per_mwh: 100}}
economics: {{staff_usd_per_year: 50000, facility_capex_usd_per_mw: 5.0e6}}
power:
  transformers: [{{id: tx, equipment: tx-test, fed_by: [utility]}}]
  ups: [{{id: ups, equipment: ups-test, fed_by: [tx]}}]
  distribution: [{{id: bus, equipment: bus-test, fed_by: [ups]}}]
cooling:
  plants: [{{id: chw, equipment: chiller-test, supply_c: 10, powered_by: [tx]}}]
  loops:
    - {{id: cdu, equipment: cdu-test, plants: [chw], powered_by: [ups]}}
    - {{id: crah, equipment: crah-test, plants: [chw], powered_by: [tx]}}
halls:
  - {{id: hall, positions: 2, max_rack_kw: 150, power_feeds: [bus], cooling_loops: [cdu, crah]}}
deployments:
  - {{hall: hall, system: gb300-nvl72, racks: 1}}
workload:
  models: [{{model: llama-3.3-70b}}]
catalog:
  equipment:
    - {{id: tx-test, kind: transformer, capacity_kva: 1000, no_load_loss_frac: 0.001, load_loss_frac: 0.0,
       capex_usd: 50000, mtbf_h: 1.0e5, mttr_h: 10, source: test}}
    - {{id: ups-test, kind: ups, capacity_kw: 500, loss_a: 0.0, loss_b: 0.03, loss_c: 0.0,
       capex_usd: 100000, mtbf_h: 1.0e5, mttr_h: 10, source: test}}
    - {{id: bus-test, kind: busway, capacity_kw: 500, load_loss_frac: 0.0, capex_usd: 20000,
       mtbf_h: 1.0e5, mttr_h: 10, source: test}}
    - {{id: chiller-test, kind: chiller, capacity_kw: {chiller_kw}, reference: dry_bulb, approach_k: 60,
       cop_min: 4, cop_max: 4, fan_pump_frac: 0.02, evaporative_share: 0.5,
       capex_usd: 200000, mtbf_h: 1.0e5, mttr_h: 10, source: test}}
    - {{id: cdu-test, kind: cdu, capacity_kw: 200, power_frac: 0.02, capex_usd: 30000,
       mtbf_h: 1.0e5, mttr_h: 10, source: test}}
    - {{id: crah-test, kind: crah, capacity_kw: 50, power_frac: 0.03, capex_usd: 10000,
       mtbf_h: 1.0e5, mttr_h: 10, source: test}}
"""
NETWORK_KW = 5.0


def one_rack(utility_mw: float = 1.0, chiller_kw: float = 500.0):
    return load_spec_text(ONE_RACK_YAML.format(utility_mw=utility_mw, chiller_kw=chiller_kw), "one-rack.yaml")


def hand_facility_kw(u: float, scale: float = 1.0) -> dict[str, float]:
    """The one-rack facility's flows at utilization u, IT scaled by `scale`, worked out step by step."""
    it = scale * (42.0 + (140.0 - 42.0) * u)
    liquid, air = 0.857 * it, (1 - 0.857) * it + NETWORK_KW
    cdu = 0.02 * 200 * (liquid / 200) ** 3  # affinity law, one unit
    crah = 0.03 * 50 * (air / 50) ** 3
    heat = liquid + cdu + air + crah
    plant = heat / 4.0 + 0.02 * heat  # COP 4, fans and pumps 2 %
    ups_out = it + NETWORK_KW + cdu  # busway lossless; the CDU hangs on the UPS
    ups_in = ups_out * 1.03
    tx_out = ups_in + crah + plant
    tx_in = tx_out + 0.001 * 1000 * 0.99  # core loss of 1000 kVA at power factor 0.99
    misc = 0.02 * it
    facility = tx_in + misc
    water = 0.5 * (heat + heat / 4.0) * 1.47 * 4 / 3  # half evaporative, heat plus compressor work
    return {"it": it, "facility": facility, "loss": ups_in - ups_out + tx_in - tx_out, "cooling": cdu + crah + plant, "water": water,
            "plant_heat": heat}


@pytest.fixture(scope="module")
def weather() -> Weather:
    return weather_for(load_spec(SMALL).site.climate)


def test_one_rack_facility_power_and_pue_by_hand(weather):
    u = np.where(np.arange(8760) % 24 < 12, 0.5, 0.9)
    r = hourly_power(one_rack(), u, weather, NETWORK_KW)
    for ui, hour in ((0.5, 0), (0.9, 12)):
        hand = hand_facility_kw(ui)
        assert r.it_kw[hour] == pytest.approx(hand["it"])
        assert r.facility_kw[hour] == pytest.approx(hand["facility"], rel=1e-12)
        assert r.loss_kw[hour] == pytest.approx(hand["loss"], rel=1e-12)
        assert r.cooling_kw[hour] == pytest.approx(hand["cooling"], rel=1e-12)
        assert r.water_l[hour] == pytest.approx(hand["water"], rel=1e-12)
        assert r.pue[hour] == pytest.approx(hand["facility"] / (hand["it"] + NETWORK_KW), rel=1e-12)
    assert r.capped_hours == 0
    assert r.free_cooling_hours == {"chw": 0}
    expected = (hand_facility_kw(0.5)["facility"] + hand_facility_kw(0.9)["facility"]) / (
        hand_facility_kw(0.5)["it"] + hand_facility_kw(0.9)["it"] + 2 * NETWORK_KW
    )
    assert r.annual_pue == pytest.approx(expected, rel=1e-12)


def test_utility_cap_serves_the_it_that_fits(weather):
    limit_kw = 150.0  # below the ~170 kW the rack wants at full load
    r = hourly_power(one_rack(limit_kw / 1000), 1.0, weather, NETWORK_KW)
    scale = brentq(lambda s: hand_facility_kw(1.0, s)["facility"] - limit_kw, 0.0, 1.0, xtol=1e-14)
    assert r.capped_hours == 8760
    assert r.cooling_capped_hours == 0
    np.testing.assert_allclose(r.it_cap_fraction, scale, rtol=1e-7)  # the cap stops within 1e-6 kW of the limit
    assert r.facility_kw.max() <= limit_kw * (1 + 1e-12)  # floating-point noise aside, never over
    assert r.facility_kw.min() == pytest.approx(limit_kw, abs=1e-6)


def test_cooling_capacity_caps_the_it_it_cannot_reject(weather):
    chiller_kw = 120.0  # below the ~180 kW of heat the rack and its loops make at full load
    r = hourly_power(one_rack(chiller_kw=chiller_kw), 1.0, weather, NETWORK_KW)
    scale = brentq(lambda s: hand_facility_kw(1.0, s)["plant_heat"] - chiller_kw, 0.0, 1.0, xtol=1e-14)
    assert r.capped_hours == r.cooling_capped_hours == 8760
    np.testing.assert_allclose(r.it_cap_fraction, scale, rtol=1e-7)
    np.testing.assert_allclose(r.facility_kw, hand_facility_kw(1.0, scale)["facility"], rtol=1e-7)
    assert r.plant_excess_kw.max() <= 0.0
    assert r.unmet_heat_kw.max() == 0.0


def test_the_tighter_of_utility_and_cooling_caps(weather):
    by_cooling = hourly_power(one_rack(chiller_kw=120.0), 1.0, weather, NETWORK_KW).it_cap_fraction
    by_utility = hourly_power(one_rack(utility_mw=0.15), 1.0, weather, NETWORK_KW).it_cap_fraction
    both = hourly_power(one_rack(utility_mw=0.15, chiller_kw=120.0), 1.0, weather, NETWORK_KW).it_cap_fraction
    np.testing.assert_allclose(both, np.minimum(by_cooling, by_utility), rtol=1e-7)


@pytest.mark.parametrize("path", [*EXAMPLES, SMALL], ids=lambda p: p.stem)
def test_flows_add_up_for_every_example(path):
    spec = load_spec(path)
    r = hourly_power(spec, 0.8, weather_for(spec.site.climate), 100.0)
    parts = r.it_kw + r.network_kw + r.loss_kw + r.cooling_kw + r.misc_kw
    np.testing.assert_allclose(r.facility_kw, parts, rtol=1e-12)
    assert np.all(np.isfinite(r.pue))
    assert np.all(r.pue > 1.0)
    assert r.facility_kw.max() <= spec.site.utility_mw * 1000 * (1 + 1e-12)


def test_per_deployment_utilization_and_more_load_costs_more(weather):
    spec = load_spec(SMALL)
    low = hourly_power(spec, np.full((1, 8760), 0.3), weather)
    high = hourly_power(spec, 0.6, weather)
    assert np.all(high.facility_kw > low.facility_kw)
    assert np.all(high.cooling_kw > low.cooling_kw)


def test_reference_pue_is_liquid_cooled_and_pilot_is_higher():
    """Engineering reference 2.1: DLC AI halls 1.10-1.20 (Meta 1.08, Google 1.10); air-cooled halls higher."""
    pue = {}
    for path in (REFERENCE, PILOT):
        spec = load_spec(path)
        pue[path] = hourly_power(spec, 0.8, weather_for(spec.site.climate)).annual_pue
    assert 1.08 <= pue[REFERENCE] <= 1.20
    assert pue[PILOT] > pue[REFERENCE] + 0.05


def test_a_hall_short_of_crahs_caps_only_its_own_racks(weather):
    """Eight 375 kW CRAHs in hall 1 of the reference: hall 1 is capped to what they move, the other halls run in full."""
    spec = load_spec(REFERENCE)
    short = apply_overrides(spec, {"cooling.loops[crah-h1].units": 8, "cooling.loops[crah-h1].redundancy": "N"})
    net = network(short).power_kw
    r = hourly_power(short, 1.0, weather, net)
    halls = [d.hall for d in short.deployments]
    assert r.cooling_capped_hours == 8760
    others = [k for k, h in enumerate(halls) if h != "hall-1"]
    np.testing.assert_array_equal(r.deployment_cap_fraction[others], 1.0)
    (k,) = [k for k, h in enumerate(halls) if h == "hall-1"]
    # by hand: the CRAHs move the rack air heat at share s plus the hall's network heat in full
    system = short.cat.systems[short.deployments[k].system]
    air_kw = deployment_systems(short, short.deployments[k]) * system.max_kw * (1 - system.liquid_share)
    crah_kw = 8 * short.cat.equipment[next(lp.equipment for lp in short.cooling.loops if lp.id == "crah-h1")].capacity_kw
    network_kw = net * hall_network_shares(short)["hall-1"]
    np.testing.assert_allclose(r.deployment_cap_fraction[k], (crah_kw - network_kw) / air_kw, rtol=1e-9)


def test_heat_no_cap_can_fit_is_unmet_not_a_blackout(weather):
    """CRAHs too small for the hall's network heat alone: hall 1 stops, the rest run, the overflow is unmet heat."""
    short = apply_overrides(load_spec(REFERENCE), {"cooling.loops[crah-h1].units": 3, "cooling.loops[crah-h1].redundancy": "N"})
    net = network(short).power_kw
    r = hourly_power(short, 1.0, weather, net)
    hall_1 = [k for k, d in enumerate(short.deployments) if d.hall == "hall-1"]
    others = [k for k, d in enumerate(short.deployments) if d.hall != "hall-1"]
    np.testing.assert_array_equal(r.deployment_cap_fraction[hall_1], 0.0)
    np.testing.assert_array_equal(r.deployment_cap_fraction[others], 1.0)
    crah_kw = 3 * 375.0
    np.testing.assert_allclose(r.unmet_heat_kw, net * hall_network_shares(short)["hall-1"] - crah_kw, rtol=1e-9)
