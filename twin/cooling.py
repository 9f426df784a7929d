"""Cooling physics, vectorized over hours: plants rejecting heat outdoors, loops moving it in the halls.

A plant (catalog `Chiller`: chiller, dry cooler or tower) has an outdoor coil that cools the
facility water, returning at `supply_c + LOOP_DELTA_T_K`, down to `outdoor + approach_k`
(outdoor = dry- or wet-bulb per `reference`). So, with `t = outdoor + approach_k`:

- `t <= supply_c`: free cooling, the compressor is off (the threshold of engineering
  reference 2.4, e.g. dry-bulb <= 25 C for a W32 dry cooler with a 7 K approach);
- `supply_c < t < return`: partial free cooling, the coil precools the return water and
  the compressor lifts the rest, a share `(t - supply_c) / LOOP_DELTA_T_K` of the heat;
- `t >= return`: the compressor carries all the heat.

Compressor COP = `carnot_fraction * T_evap / (T_cond - T_evap)` in kelvin, clamped to
[cop_min, cop_max], with `T_cond = outdoor + approach_k + lift_k` and the evaporator
`EVAPORATOR_K` below the supply water. With the water-cooled chiller of the catalog this
gives COP 6.5 at 24 C condenser water and 5.6 C chilled water, against 6.8 on the York YT
curve (engineering reference 2.3). A unit without compressor cannot lift: the share it would
need is unmet heat and its water leaves warmer; heat beyond the installed capacity is unmet too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.catalog import Cdu, Chiller, Crah
from twin.equipment import unit_capacity_kw
from twin.weather import Weather

LOOP_DELTA_T_K = 10.0  # facility water return above supply (engineering reference 2.5: secondary loop dT 10 K)
EVAPORATOR_K = 2.0  # refrigerant evaporates this far below the supply water [E]
EVAPORATION_L_PER_KWH = 1.47  # latent heat of water near 25 C (engineering reference 2.7)
CYCLES_OF_CONCENTRATION = 4.0  # make-up = evaporation * CoC / (CoC - 1) (Title 24 practice, reference 2.7)
KELVIN = 273.15


@dataclass(frozen=True)
class PlantHours:
    """One plant's hourly operation."""

    power_kw: np.ndarray  # compressors plus fans and pumps
    compressor_kw: np.ndarray
    compressor_share: np.ndarray  # share of the heat lifted mechanically: 0 = free cooling
    water_l: np.ndarray  # make-up water drawn in the hour
    unmet_heat_kw: np.ndarray  # heat the plant cannot reject at its supply temperature
    supply_c: np.ndarray  # water temperature actually delivered


def outdoor_c(eq: Chiller, weather: Weather) -> np.ndarray:
    """The outdoor temperature the unit rejects heat to."""
    return weather.wet_bulb_c if eq.reference == "wet_bulb" else weather.dry_bulb_c


def free_cooling_limit_c(eq: Chiller, supply_c: float) -> float:
    """Warmest outdoor reference temperature with no compressor work; above it a unit without compressor falls short."""
    return supply_c - eq.approach_k


def compressor_share(eq: Chiller, supply_c: float, outdoor) -> np.ndarray:
    """Share of the heat the outdoor coil cannot take: 0 in free cooling, 1 above the return temperature."""
    return np.clip((np.asarray(outdoor, dtype=float) - free_cooling_limit_c(eq, supply_c)) / LOOP_DELTA_T_K, 0.0, 1.0)


def cop(eq: Chiller, supply_c: float, outdoor) -> np.ndarray:
    """Compressor coefficient of performance at these outdoor temperatures (a Carnot fraction)."""
    t_evap = supply_c - EVAPORATOR_K + KELVIN
    lift = np.asarray(outdoor, dtype=float) + eq.approach_k + eq.lift_k + KELVIN - t_evap
    with np.errstate(divide="ignore"):
        raw = np.where(lift > 0, eq.carnot_fraction * t_evap / np.maximum(lift, 1e-9), np.inf)
    return np.clip(raw, eq.cop_min, eq.cop_max)


def plant_hours(eq: Chiller, units: int, supply_c: float, heat_kw, weather: Weather) -> PlantHours:
    """Electric power, water and shortfall of a plant of `units` units rejecting `heat_kw` each hour.

    All installed units share the load; fans and pumps draw `fan_pump_frac` of the heat; the
    tower evaporates `evaporative_share` of the heat and compressor work it rejects.
    """
    outdoor = outdoor_c(eq, weather)
    heat = np.broadcast_to(np.asarray(heat_kw, dtype=float), outdoor.shape)
    share = compressor_share(eq, supply_c, outdoor)
    over_capacity = np.maximum(heat - unit_capacity_kw(eq) * units, 0.0)
    if eq.has_compressor:
        compressor = share * (heat - over_capacity) / cop(eq, supply_c, outdoor)
        unmet, supply = over_capacity, np.full_like(outdoor, supply_c)
    else:
        compressor = np.zeros_like(heat)
        unmet = over_capacity + share * (heat - over_capacity)
        supply = np.maximum(supply_c, outdoor + eq.approach_k)
    evaporated = eq.evaporative_share * (heat - unmet + compressor) * EVAPORATION_L_PER_KWH
    return PlantHours(
        power_kw=compressor + eq.fan_pump_frac * heat,
        compressor_kw=compressor,
        compressor_share=share,
        water_l=evaporated * CYCLES_OF_CONCENTRATION / (CYCLES_OF_CONCENTRATION - 1.0),
        unmet_heat_kw=unmet,
        supply_c=supply,
    )


def loop_power_kw(eq: Cdu | Crah, units: int, heat_kw) -> np.ndarray:
    """CDU pump or CRAH fan power: `power_frac` of capacity at design flow, times the cube of the flow fraction.

    Flow follows heat at a fixed temperature difference and all installed units share it, so
    each runs at `heat / (units * capacity)` of design flow (affinity law, engineering
    reference 2.5); the flow is capped at design.
    """
    capacity = unit_capacity_kw(eq) * units
    flow = np.clip(np.asarray(heat_kw, dtype=float) / capacity, 0.0, 1.0)
    return eq.power_frac * capacity * flow**3
