"""Economics: capital recovery, tariffs, capex from a spec, and cost per token, all by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_energy import NETWORK_KW, hand_facility_kw, one_rack
from twin.economics import (
    Capex,
    annualized_capex_usd,
    capex_from_spec,
    capital_recovery_factor,
    cost_breakdown,
    cost_per_million_tokens,
    demand_charge_usd,
    energy_cost_usd,
    hourly_price_usd_per_mwh,
)
from twin.energy import hourly_power
from twin.spec import Economics, Tariff, TouBand
from twin.weather import PRESETS, synthetic_year


@pytest.mark.parametrize(("rate", "years"), [(0.08, 5), (0.08, 25), (0.12, 15), (0.01, 1)])
def test_capital_recovery_factor_formula(rate, years):
    assert capital_recovery_factor(rate, years) == pytest.approx(rate * (1 + rate) ** years / ((1 + rate) ** years - 1))


def test_capital_recovery_at_zero_rate_is_straight_line():
    assert capital_recovery_factor(0.0, 4) == 0.25
    assert capital_recovery_factor(1e-9, 4) == pytest.approx(0.25)


def test_annualized_capex_uses_each_class_life():
    capex = Capex(it_usd=1e6, network_usd=2e5, power_usd=3e5, cooling_usd=4e5, building_usd=5e6, maintenance_usd_per_year=0)
    econ = Economics(discount_rate=0.1)
    annual = annualized_capex_usd(capex, econ)
    assert annual["it"] == pytest.approx(1e6 * 0.1 * 1.1**5 / (1.1**5 - 1))
    assert annual["building"] == pytest.approx(5e6 * 0.1 * 1.1**25 / (1.1**25 - 1))
    assert capex.total_usd == pytest.approx(6.9e6)


def test_time_of_use_energy_cost_by_hand():
    tariff = Tariff(price_usd_per_mwh=89, time_of_use=[TouBand(start_h=14, end_h=20, price_usd_per_mwh=140)])
    price = hourly_price_usd_per_mwh(tariff)
    assert price[13] == 89
    assert price[14] == 140
    assert price[19] == 140
    assert price[20] == 89
    assert price[24 + 14] == 140
    # 2 MW at night (0-12 h), 1 MW by day: daytime band hours 14-19 all at 1 MW
    kw = np.where(np.arange(8760) % 24 < 12, 2000.0, 1000.0)
    day_usd = 2.0 * 12 * 89 + 1.0 * (6 * 89 + 6 * 140)
    assert energy_cost_usd(kw, tariff) == pytest.approx(365 * day_usd)


def test_demand_charge_on_each_months_peak():
    tariff = Tariff(demand_charge_usd_per_kw_month=8)
    kw = np.full(8760, 100.0)
    kw[31 * 24] = 500.0  # 1 February, 00:00
    kw[-1] = 300.0  # 31 December, 23:00
    assert demand_charge_usd(kw, tariff) == pytest.approx(8 * (10 * 100 + 500 + 300))


def test_capex_from_a_one_rack_spec_by_hand():
    capex = capex_from_spec(one_rack(), {"unused": (9, 9)})
    assert capex.it_usd == 3_500_000  # one GB300 NVL72
    assert capex.power_usd == 50_000 + 100_000 + 20_000
    assert capex.cooling_usd == 200_000 + 30_000 + 10_000
    assert capex.network_usd == 0
    assert capex.building_usd == pytest.approx(5.0e6 * 0.140)  # installed rack power 140 kW
    assert capex.maintenance_usd_per_year == pytest.approx(0.02 * (170_000 + 240_000))


def test_network_capex_from_switch_and_optic_counts():
    from tests.conftest import SMALL
    from twin.loader import load_spec

    spec = load_spec(SMALL)  # fabric "fab": q3400 switches, osfp-800g optics
    with_net, without = capex_from_spec(spec, {"fab": (10, 200)}), capex_from_spec(spec, {})
    assert with_net.network_usd == 10 * 150_000 + 200 * 1_200
    assert with_net.maintenance_usd_per_year - without.maintenance_usd_per_year == pytest.approx(0.02 * with_net.network_usd)


@pytest.fixture(scope="module")
def one_rack_year():
    spec = one_rack()
    weather = synthetic_year(PRESETS["temperate"])
    return spec, hourly_power(spec, 0.5, weather, NETWORK_KW)


def test_cost_per_million_tokens_of_the_one_rack_facility_by_hand(one_rack_year):
    spec, energy = one_rack_year
    water_m3 = energy.water_l.sum() / 1000
    costs = cost_breakdown(spec, capex_from_spec(spec, {}), energy.facility_kw, water_m3)
    hand = hand_facility_kw(0.5)
    crf = {n: 0.08 * 1.08**n / (1.08**n - 1) for n in (5, 15, 25)}
    expected = {
        "capital_it": 3.5e6 * crf[5],
        "capital_network": 0.0,
        "capital_power": 170_000 * crf[15],
        "capital_cooling": 240_000 * crf[15],
        "capital_building": 700_000 * crf[25],
        "energy": hand["facility"] * 8760 / 1000 * 100,  # flat $100/MWh
        "demand_charge": 0.0,
        "maintenance": 0.02 * 410_000,
        "it_support": 0.03 * 3.5e6,
        "staff": 50_000,
        "water": hand["water"] * 8760 / 1000 * 2.0,  # default $2/m3
        "other": 0.0,
    }
    assert costs == pytest.approx(expected)
    tokens = 1e12
    assert cost_per_million_tokens(sum(costs.values()), tokens) == pytest.approx(sum(expected.values()) / 1e6)
    assert cost_per_million_tokens(1.0, 0.0) == float("inf")


def test_raising_the_electricity_price_adds_exactly_the_energy_share(one_rack_year):
    spec, energy = one_rack_year
    capex = capex_from_spec(spec, {})
    tokens = 3e11
    base = cost_breakdown(spec, capex, energy.facility_kw, 0.0)
    dearer_tariff = spec.site.tariff.model_copy(update={"price_usd_per_mwh": 250.0})
    dearer_spec = spec.model_copy(update={"site": spec.site.model_copy(update={"tariff": dearer_tariff})})
    dearer = cost_breakdown(dearer_spec, capex, energy.facility_kw, 0.0)
    assert dearer["energy"] == pytest.approx(2.5 * base["energy"])
    assert {k: v for k, v in dearer.items() if k != "energy"} == {k: v for k, v in base.items() if k != "energy"}
    rise = cost_per_million_tokens(sum(dearer.values()), tokens) - cost_per_million_tokens(sum(base.values()), tokens)
    assert rise == pytest.approx(1.5 * base["energy"] / (tokens / 1e6))


def test_a_discount_rate_too_small_to_register_is_straight_line():
    from twin.economics import capital_recovery_factor

    assert capital_recovery_factor(1e-300, 5) == capital_recovery_factor(0.0, 5) == 0.2
    assert capital_recovery_factor(0.08, 1e30) == 0.08  # (1+r)^n overflows: a perpetuity
