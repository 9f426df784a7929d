"""Cooling physics: COP, free cooling, units without compressor, pumps and fans, water."""

from __future__ import annotations

import numpy as np
import pytest

from twin.catalog import Cdu, Chiller
from twin.cooling import compressor_share, cop, free_cooling_limit_c, loop_power_kw, plant_hours
from twin.loader import shipped_catalog
from twin.weather import PRESETS, Weather, synthetic_year

CAT = shipped_catalog()


def chiller(**kw) -> Chiller:
    base = {
        "id": "c",
        "source": "test",
        "kind": "chiller",
        "capacity_kw": 1000,
        "reference": "dry_bulb",
        "approach_k": 5,
        "lift_k": 3,
        "carnot_fraction": 0.5,
        "capex_usd": 1,
        "mtbf_h": 1,
        "mttr_h": 1,
    }
    return Chiller(**(base | kw))


def constant_weather(dry_c: float, wet_c: float | None = None, hours: int = 4) -> Weather:
    return Weather(np.full(hours, dry_c), np.full(hours, dry_c if wet_c is None else wet_c), "test")


def test_cop_is_a_carnot_fraction_clamped():
    eq = chiller()
    # supply 14 C: evaporator at 12 C; outdoor 30 C: condenser at 30 + 5 + 3 = 38 C
    assert cop(eq, 14.0, 30.0) == pytest.approx(0.5 * (12 + 273.15) / (38 - 12))
    assert cop(eq, 14.0, 70.0) == pytest.approx(eq.cop_min)  # Carnot fraction 2.16, clamped
    assert cop(eq, 14.0, -5.0) == pytest.approx(eq.cop_max)
    assert np.all(np.diff(cop(eq, 14.0, np.linspace(-10, 50, 61))) <= 0)


def test_compressor_share_free_partial_mechanical():
    eq = chiller()
    limit = free_cooling_limit_c(eq, 20.0)
    assert limit == 15.0
    np.testing.assert_allclose(compressor_share(eq, 20.0, [10.0, 15.0, 17.5, 25.0, 40.0]), [0, 0, 0.25, 1, 1])


def test_plant_power_and_water_by_hand():
    eq = chiller(fan_pump_frac=0.02, evaporative_share=0.5)
    hours = plant_hours(eq, 2, 10.0, 800.0, constant_weather(12.5))
    c = 0.5 * (8 + 273.15) / (12.5 + 8 - 8)  # 11.2, inside the clamp
    compressor = 0.75 * 800 / c  # coil outlet 17.5 C: the compressor lifts 7.5 of the 10 K
    assert hours.compressor_kw[0] == pytest.approx(compressor)
    assert hours.power_kw[0] == pytest.approx(compressor + 0.02 * 800)
    assert hours.water_l[0] == pytest.approx(0.5 * (800 + compressor) * 1.47 * 4 / 3)
    assert hours.unmet_heat_kw[0] == 0.0


def test_unit_without_compressor_falls_short_above_its_limit():
    tower = CAT.equipment["tower-4000kw"]
    supply = 25.0
    weather = Weather(np.array([10.0, 30.0, 40.0]), np.array([15.0, 26.0, 40.0]), "test")
    hours = plant_hours(tower, 1, supply, 2000.0, weather)
    np.testing.assert_allclose(hours.compressor_kw, 0.0)
    # wet-bulb + 4 K approach: 19 C (fine), 30 C (half of the 10 K loop range short), 44 C (all)
    np.testing.assert_allclose(hours.unmet_heat_kw, [0.0, 1000.0, 2000.0])
    np.testing.assert_allclose(hours.supply_c, [25.0, 30.0, 44.0])


def test_heat_beyond_installed_capacity_is_unmet():
    hours = plant_hours(chiller(), 2, 14.0, 2500.0, constant_weather(30.0))
    assert hours.unmet_heat_kw[0] == pytest.approx(500.0)


def test_loop_power_follows_the_affinity_law():
    cdu = CAT.equipment["cdu-2300kw"]
    assert isinstance(cdu, Cdu)
    # 3 units share 3450 kW: each at half flow, an eighth of design power
    assert loop_power_kw(cdu, 3, 3450.0) == pytest.approx(cdu.power_frac * 3 * 2300 / 8)
    assert loop_power_kw(cdu, 3, 9000.0) == pytest.approx(cdu.power_frac * 3 * 2300)  # flow capped at design


@pytest.mark.parametrize("plant", ["drycooler-2000kw", "chiller-wc-3500kw", "chiller-ac-1500kw"])
def test_free_cooling_hours_grow_with_supply_temperature(plant):
    eq = CAT.equipment[plant]
    weather = synthetic_year(PRESETS["temperate"])
    free = [int(np.count_nonzero(plant_hours(eq, 1, s, 500.0, weather).compressor_share == 0)) for s in range(8, 46, 2)]
    assert free == sorted(free)
    assert free[0] < free[-1]
    power = [plant_hours(eq, 1, s, 500.0, weather).power_kw.sum() for s in range(8, 46, 2)]
    assert power == sorted(power, reverse=True)
