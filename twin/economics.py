"""Annual cost of a facility and cost per million output tokens.

Capital is annualized per asset class with the capital recovery factor
`r(1+r)^n / ((1+r)^n - 1)` at the spec's discount rate and lives (engineering reference 5.3-5.4).
Operations add energy at the tariff (time-of-use bands by hour of day, a demand charge on
each month's peak), equipment maintenance (`maintenance_frac` x capex), IT support
(`it_support_frac` x IT capex), staff, water and other opex. Every figure is USD per year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from twin.deployments import deployment_systems, rack_max_kw
from twin.spec import Economics, Spec, Tariff
from twin.weather import DAYS_IN_MONTH, HOURS

# Default operations staff when the spec gives none, a planner estimate [E] with no source
# found: round-the-clock cover by one technician takes ~5 FTE, plus ~0.3 FTE per MW of
# installed IT (35 FTE at 100 MW), at a loaded $120k per FTE-year. Replace when sourced.
STAFF_BASE_FTE = 5.0
STAFF_FTE_PER_MW = 0.3
STAFF_USD_PER_FTE = 120_000.0


def capital_recovery_factor(rate: float, years: float) -> float:
    """Share of a capital sum paid each year to repay it with interest over `years` (1/n at zero rate)."""
    try:
        growth = (1.0 + rate) ** years
    except OverflowError:  # a life so long that the sum is never repaid: the interest alone (a perpetuity)
        return rate
    if rate == 0 or growth == 1.0:  # a rate too small to move (1 + r)^n in floating point is zero
        return 1.0 / years
    return rate * growth / (growth - 1.0)


@dataclass(frozen=True)
class Capex:
    """Installed cost by asset class, USD, and the maintenance its equipment needs, USD/year."""

    it_usd: float
    network_usd: float
    power_usd: float
    cooling_usd: float
    building_usd: float
    maintenance_usd_per_year: float  # power, cooling and network equipment

    @property
    def total_usd(self) -> float:
        return self.it_usd + self.network_usd + self.power_usd + self.cooling_usd + self.building_usd


ASSET_CLASSES = ("it", "network", "power", "cooling", "building")


def capex_from_spec(spec: Spec, network_counts: Mapping[str, tuple[int, int]]) -> Capex:
    """The facility's capex: GPU systems, equipment units, switches and optics, and the building.

    Args:
        spec: a validated facility.
        network_counts: fabric id -> (switches, transceivers), e.g. from the network
            analysis; a fabric not listed costs nothing.
    """
    cat = spec.cat
    groups = {
        "power": [*spec.power.generators, *spec.power.transformers, *spec.power.ups, *spec.power.distribution],
        "cooling": [*spec.cooling.plants, *spec.cooling.loops],
    }
    items = {cls: [(cat.equipment[g.equipment], g.units) for g in gs] for cls, gs in groups.items()}
    items["network"] = [
        (cat.equipment[eq_id], n)
        for f in spec.network.fabrics
        for eq_id, n in zip((f.switch, f.transceiver), network_counts.get(f.id, (0, 0)), strict=True)
    ]
    cost = {cls: sum(eq.capex_usd * n for eq, n in its) for cls, its in items.items()}
    return Capex(
        it_usd=sum(deployment_systems(spec, d) * cat.systems[d.system].price_usd for d in spec.deployments),
        network_usd=cost["network"],
        power_usd=cost["power"],
        cooling_usd=cost["cooling"],
        building_usd=spec.economics.facility_capex_usd_per_mw * rack_max_kw(spec) / 1000.0,
        maintenance_usd_per_year=sum(eq.capex_usd * n * eq.maintenance_frac for its in items.values() for eq, n in its),
    )


def annualized_capex_usd(capex: Capex, economics: Economics) -> dict[str, float]:
    """Capital recovery per asset class, USD/year."""
    return {
        cls: getattr(capex, f"{cls}_usd") * capital_recovery_factor(economics.discount_rate, getattr(economics.life_years, cls))
        for cls in ASSET_CLASSES
    }


def hourly_price_usd_per_mwh(tariff: Tariff, hours: int = HOURS) -> np.ndarray:
    """Energy price of each hour; time-of-use bands override the flat price, a later band over an earlier one."""
    by_hour = np.full(24, tariff.price_usd_per_mwh)
    for band in tariff.time_of_use:
        by_hour[band.start_h : band.end_h] = band.price_usd_per_mwh
    return np.resize(by_hour, hours)


def energy_cost_usd(facility_kw, tariff: Tariff) -> float:
    """Energy charge of an hourly facility power series, USD."""
    kw = np.asarray(facility_kw, dtype=float)
    return float(kw @ hourly_price_usd_per_mwh(tariff, kw.size) / 1000.0)


def demand_charge_usd(facility_kw, tariff: Tariff) -> float:
    """Demand charge: each calendar month's peak kW times the monthly rate (needs a full 8760-hour year)."""
    kw = np.asarray(facility_kw, dtype=float)
    if kw.size != HOURS:
        raise ValueError(f"a demand charge needs {HOURS} hours, got {kw.size}")
    monthly = np.split(kw, np.cumsum(DAYS_IN_MONTH)[:-1] * 24)
    return float(sum(m.max() for m in monthly) * tariff.demand_charge_usd_per_kw_month)


def default_staff_usd_per_year(it_mw: float) -> float:
    """Operations staff cost when the spec gives none (see STAFF_* above)."""
    return (STAFF_BASE_FTE + STAFF_FTE_PER_MW * it_mw) * STAFF_USD_PER_FTE


def cost_breakdown(spec: Spec, capex: Capex, facility_kw, water_m3: float) -> dict[str, float]:
    """Annual cost by category, USD/year: capital per asset class, energy, demand charge and opex."""
    econ, site = spec.economics, spec.site
    staff = econ.staff_usd_per_year
    out = {f"capital_{cls}": usd for cls, usd in annualized_capex_usd(capex, econ).items()}
    out |= {
        "energy": energy_cost_usd(facility_kw, site.tariff),
        "demand_charge": demand_charge_usd(facility_kw, site.tariff),
        "maintenance": capex.maintenance_usd_per_year,
        "it_support": econ.it_support_frac * capex.it_usd,
        "staff": staff if staff is not None else default_staff_usd_per_year(rack_max_kw(spec) / 1000.0),
        "water": water_m3 * site.water_usd_per_m3,
        "other": econ.other_opex_usd_per_year,
    }
    return out


def cost_per_million_tokens(annual_cost_usd: float, tokens_per_year: float) -> float:
    """USD per million output tokens; infinite when nothing is served."""
    return annual_cost_usd / (tokens_per_year / 1e6) if tokens_per_year > 0 else float("inf")
