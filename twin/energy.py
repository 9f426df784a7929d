"""The hourly power model: IT, network, conversion losses, cooling and misc load, capped by the utility.

Vectorized over hours; Python loops run only over the few deployments, loops, plants and
power groups. The flow of one hour, for every hour at once:

1. IT per deployment: systems x (idle x powered + (max - idle) x utilization), where
   `powered` is the share of its systems up (a failed system, or one without power or
   cooling, draws nothing). Each fabric's network load sits in the halls it connects, split
   by their NIC bandwidth (`twin.network.hall_network_shares`); with no fabric, by installed rack power.
2. Heat: each system's `liquid_share` goes to the hall's CDU loops, the rest and the network
   to its CRAH loops (to the other kind when a hall has only one), shared by installed
   capacity; a loop passes its heat plus its own pump/fan power to its plants, shared
   likewise (`twin.cooling`).
3. Power: a hall's IT and network load splits equally over its `power_feeds`; loops and
   plants draw from their `powered_by`. Each group's input (`twin.equipment.input_kw`)
   splits equally over its non-generator `fed_by` (generators stand by while the utility
   is up); an empty `powered_by` draws from the utility directly, as does the misc load.
4. Facility power = everything the utility (and any generator feeding alone) delivers.
5. The cap (operators power-cap GPUs): a loop short of capacity caps only the deployments
   that feed it, in closed form (`_Facility.loop_scale`); where facility power still
   exceeds `site.utility_mw` or the heat exceeds what the plants reject, every deployment
   is scaled down by one common factor on top, found per capped hour by regula falsi.

A calibration (`twin.telemetry.overlay`) scales each deployment's idle and dynamic power
by its `power_factor` and adds `pue_offset` x (IT + network) to the misc load: the
overhead the measured PUE shows and the model does not explain.

PUE counts the network as IT (The Green Grid): facility / (IT +
network). Losses of the electrical rooms are not added to the cooling load. A plant
without compressor that cannot cool its water to the supply temperature (a hot hour)
still rejects the heat, with warmer water: that shortfall does not cap IT and is
reported in `unmet_heat_kw`, with any heat no cap could fit (the network's alone).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from graphlib import TopologicalSorter

import numpy as np

from twin.cooling import loop_power_kw, plant_hours
from twin.deployments import deployment_keys, deployment_systems
from twin.equipment import input_kw, unit_capacity_kw
from twin.network import hall_network_shares
from twin.spec import Spec
from twin.weather import Weather

UTILITY = "utility"
CAP_ITERATIONS = 60  # regula falsi steps at most; about six suffice
CAP_TOLERANCE_KW = 1e-6  # a capped hour's facility power ends this close below the limit
ROUNDING_KW = 1e-9  # an excess this small is floating-point noise: the hour fits


@dataclass(frozen=True)
class EnergyResult:
    """Hourly power flows of a year, kW (water in litres per hour)."""

    it_kw: np.ndarray  # served IT power
    network_kw: np.ndarray
    loss_kw: np.ndarray  # transformers, UPS and distribution
    cooling_kw: np.ndarray  # plants, CDU pumps and CRAH fans
    misc_kw: np.ndarray
    facility_kw: np.ndarray
    pue: np.ndarray  # facility / (IT + network); NaN where both are zero
    it_cap_fraction: np.ndarray  # served share of the wanted IT power, all deployments together
    water_l: np.ndarray
    unmet_heat_kw: np.ndarray  # heat not moved or rejected at the supply temperature (see the module docstring)
    free_cooling_hours: dict[str, int]  # per plant: hours with the compressor off
    plant_excess_kw: np.ndarray  # heat over the capacity of the most loaded plant (negative: headroom)
    cooling_capped: np.ndarray  # hours the cooling capacity, not only the utility, capped IT (bool)
    deployment_cap_fraction: np.ndarray  # (deployments, hours): served share of each deployment's wanted IT

    @property
    def annual_pue(self) -> float:
        """Annual facility energy over annual IT (and network) energy; NaN (undefined) without IT energy."""
        it = self.it_kw.sum() + self.network_kw.sum()
        return float(self.facility_kw.sum() / it) if it > 0 else math.nan

    @property
    def capped_hours(self) -> int:
        """Hours in which the utility interconnect or the cooling capacity capped IT."""
        return int(np.count_nonzero((self.deployment_cap_fraction < 1.0 - 1e-9).any(axis=0)))

    @property
    def cooling_capped_hours(self) -> int:
        """Hours in which the heat would have exceeded the installed cooling capacity."""
        return int(np.count_nonzero(self.cooling_capped))

    @property
    def unmet_heat_hours(self) -> int:
        """Hours some heat was not rejected at its supply temperature (a plant without compressor in a hot hour) or not moved."""
        return int(np.count_nonzero(self.unmet_heat_kw > CAP_TOLERANCE_KW))

    @property
    def energy_mwh(self) -> float:
        """Facility energy over the period."""
        return float(self.facility_kw.sum() / 1000.0)

    @property
    def wue_l_per_kwh(self) -> float:
        """Site water per kWh of IT energy (The Green Grid WUE); NaN (undefined) without IT energy."""
        it = self.it_kw.sum() + self.network_kw.sum()
        return float(self.water_l.sum() / it) if it > 0 else math.nan


def _shares(ids: list[str], weight: dict[str, float]) -> dict[str, float]:
    total = sum(weight[i] for i in ids)
    return {i: weight[i] / total for i in ids}


class _Facility:
    """What the hourly model needs from a spec, resolved once: equipment, shares and feeding order."""

    def __init__(self, spec: Spec):
        cat = spec.cat
        self.spec = spec
        self.halls = [h.id for h in spec.halls]
        deps = spec.deployments
        systems = [cat.systems[d.system] for d in deps]
        n = np.array([deployment_systems(spec, d) for d in deps], dtype=float)
        cal = spec.calibration
        power_factor = np.array(cal.factors(deployment_keys(spec))[1]) if cal else np.ones(len(deps))
        self.pue_offset = cal.pue_offset if cal else 0.0
        self.idle_kw = n * np.array([s.idle_kw for s in systems]) * power_factor
        self.span_kw = n * np.array([s.max_kw for s in systems]) * power_factor - self.idle_kw
        self.liquid = np.array([s.liquid_share for s in systems])
        self.dep_hall = np.zeros((len(self.halls), len(deps)))
        for k, d in enumerate(deps):
            self.dep_hall[self.halls.index(d.hall), k] = 1.0
        self.hall_network_share = self._network_shares(spec)

        self.loops = spec.cooling.loops
        self.plants = spec.cooling.plants
        loop_cap = {lp.id: unit_capacity_kw(cat.equipment[lp.equipment]) * lp.units for lp in self.loops}
        plant_cap = {p.id: unit_capacity_kw(cat.equipment[p.equipment]) * p.units for p in self.plants}
        loop_ids, plant_ids = [lp.id for lp in self.loops], [p.id for p in self.plants]
        self.liquid_to_loop = np.zeros((len(loop_ids), len(self.halls)))
        self.air_to_loop = np.zeros_like(self.liquid_to_loop)
        kind = {lp.id: cat.equipment[lp.equipment].kind for lp in self.loops}
        for j, hall in enumerate(spec.halls):
            cdus = [i for i in hall.cooling_loops if kind[i] == "cdu"]
            crahs = [i for i in hall.cooling_loops if i not in cdus]
            for matrix, ids in ((self.liquid_to_loop, cdus or crahs), (self.air_to_loop, crahs or cdus)):
                for i, share in _shares(ids, loop_cap).items():
                    matrix[loop_ids.index(i), j] = share
        self.loop_capacity = np.array([loop_cap[i] for i in loop_ids])
        self.plant_capacity = np.array([plant_cap[i] for i in plant_ids])
        self.loop_to_plant = np.zeros((len(plant_ids), len(loop_ids)))
        for i, lp in enumerate(self.loops):
            for p, share in _shares(lp.plants, plant_cap).items():
                self.loop_to_plant[plant_ids.index(p), i] = share

        self.generators = {g.id for g in spec.power.generators}
        self.groups = {g.id: g for sec in ("transformers", "ups", "distribution") for g in getattr(spec.power, sec)}
        order = TopologicalSorter({g.id: set() for g in self.groups.values()})
        for g in self.groups.values():
            for up in g.fed_by:
                order.add(up, g.id)  # a group's consumers are resolved before it
        self.order = [i for i in order.static_order() if i in self.groups]

    def _network_shares(self, spec: Spec) -> np.ndarray:
        """Each hall's share of the network load: by its fabrics' ports, else (no fabric power) by installed rack power."""
        by_fabric = hall_network_shares(spec)
        if by_fabric is not None:
            return np.array([by_fabric[h] for h in self.halls])
        hall_max = self.dep_hall @ (self.idle_kw + self.span_kw)
        return hall_max / hall_max.sum() if hall_max.sum() > 0 else np.full(len(self.halls), 1 / len(self.halls))

    def it_kw(self, utilization, hours: int, powered=1.0) -> np.ndarray:
        """Wanted IT power per deployment, (deployments, hours); `utilization` and `powered` of shape (), (hours,) or (deployments, hours)."""
        shape = (len(self.idle_kw), hours)
        u = np.broadcast_to(np.asarray(utilization, dtype=float), shape)
        up = np.broadcast_to(np.asarray(powered, dtype=float), shape)
        return self.idle_kw[:, None] * up + self.span_kw[:, None] * u

    def loop_scale(self, wanted: np.ndarray, network: np.ndarray) -> np.ndarray:
        """Per deployment and hour, the largest share of its wanted IT that every loop it feeds can move.

        A loop's heat is linear in the shares of the deployments feeding it, `a s + b` with `b`
        its network heat, so `s = (C - b) / a` (clipped to [0, 1]) keeps it within its installed
        capacity `C`; a deployment takes the least over its loops. Only the halls short of
        loop capacity are capped; heat that no share can fit (the network's alone) stays unmet.
        """
        hall_liquid = self.dep_hall @ (self.liquid[:, None] * wanted)
        hall_air = self.dep_hall @ wanted - hall_liquid
        heat = self.liquid_to_loop @ hall_liquid + self.air_to_loop @ hall_air
        fixed = self.air_to_loop @ (self.hall_network_share[:, None] * network)
        room = self.loop_capacity[:, None] - fixed
        share = np.where(heat > room, np.clip(room / np.where(heat > 0, heat, 1.0), 0.0, 1.0), 1.0)
        feeds = (self.liquid_to_loop @ self.dep_hall) * self.liquid + (self.air_to_loop @ self.dep_hall) * (1.0 - self.liquid) > 0
        out = np.ones_like(wanted)
        for d in range(wanted.shape[0]):
            if feeds[:, d].any():
                out[d] = share[feeds[:, d]].min(axis=0)
        return out

    def _feed(self, loads: dict, ids: list[str], kw) -> None:
        sources = [i for i in ids if i not in self.generators] or ids or [UTILITY]
        for i in sources:
            loads[i] = loads[i] + kw / len(sources)

    def year(self, wanted: np.ndarray, scale: np.ndarray, network: np.ndarray, weather: Weather) -> EnergyResult:
        """Every hourly flow when each deployment serves `scale` of its `wanted` IT power (deployments, hours)."""
        it_dep = wanted * scale
        hall_it = self.dep_hall @ it_dep
        hall_net = self.hall_network_share[:, None] * network
        hall_liquid = self.dep_hall @ (self.liquid[:, None] * it_dep)
        loop_heat = self.liquid_to_loop @ hall_liquid + self.air_to_loop @ (hall_it - hall_liquid + hall_net)
        moved = np.minimum(loop_heat, self.loop_capacity[:, None])
        unmet = (loop_heat - moved).sum(axis=0)
        over = (loop_heat > self.loop_capacity[:, None] + CAP_TOLERANCE_KW).any(axis=0)
        excess = np.full_like(network, -np.inf)
        loads: dict = defaultdict(float)
        loop_kw = np.empty_like(moved)
        for i, lp in enumerate(self.loops):
            loop_kw[i] = loop_power_kw(self.spec.cat.equipment[lp.equipment], lp.units, moved[i])
            self._feed(loads, lp.powered_by, loop_kw[i])
        plant_heat = self.loop_to_plant @ (moved + loop_kw)
        cooling, water, free = loop_kw.sum(axis=0), np.zeros_like(network), {}
        for i, p in enumerate(self.plants):
            ph = plant_hours(self.spec.cat.equipment[p.equipment], p.units, p.supply_c, plant_heat[i], weather)
            self._feed(loads, p.powered_by, ph.power_kw)
            cooling, water = cooling + ph.power_kw, water + ph.water_l
            unmet = unmet + ph.unmet_heat_kw
            excess = np.maximum(excess, plant_heat[i] - self.plant_capacity[i])
            free[p.id] = int(np.count_nonzero(ph.compressor_share == 0.0))
        for j, hall in enumerate(self.spec.halls):
            self._feed(loads, hall.power_feeds, hall_it[j] + hall_net[j])
        loss = np.zeros_like(network)
        for gid in self.order:
            g = self.groups[gid]
            drawn = input_kw(self.spec.cat.equipment[g.equipment], loads[gid], g.units)
            loss = loss + drawn - loads[gid]
            self._feed(loads, g.fed_by, drawn)
        it = hall_it.sum(axis=0)
        misc = self.spec.site.misc_load_frac * it + self.pue_offset * (it + network)
        facility = loads[UTILITY] + sum(loads[g] for g in self.generators) + misc
        base = it + network
        return EnergyResult(
            it_kw=it,
            network_kw=network,
            loss_kw=loss,
            cooling_kw=cooling,
            misc_kw=misc,
            facility_kw=facility,
            pue=np.divide(facility, base, out=np.full(base.shape, np.nan), where=base > 0),
            it_cap_fraction=np.divide(it, wanted.sum(axis=0), out=np.ones_like(it), where=wanted.sum(axis=0) > 0),
            water_l=water,
            unmet_heat_kw=unmet,
            free_cooling_hours=free,
            plant_excess_kw=excess,
            cooling_capped=over | (excess > CAP_TOLERANCE_KW),
            deployment_cap_fraction=np.broadcast_to(scale, wanted.shape).copy(),
        )


def hourly_power(spec: Spec, it_utilization, weather: Weather, network_kw=0.0, powered=1.0) -> EnergyResult:
    """The year's hourly power flows at this IT utilization, capped by the utility interconnect and the cooling capacity.

    Args:
        spec: a validated facility.
        it_utilization: 0..1, a constant, per hour (hours,), or per deployment and hour (deployments, hours);
            the share of each deployment's dynamic power `max - idle` drawn.
        powered: 0..1, shaped likewise: the share of each deployment's systems up, drawing idle power or more.
        weather: the hourly outdoor temperatures; its length sets the number of hours.
        network_kw: scale-out network power, a constant or per hour (never capped).

    Returns:
        The flows; `it_cap_fraction` below 1 marks the capped hours, `cooling_capped` those the cooling capped.
    """
    fac = _Facility(spec)
    hours = len(weather.dry_bulb_c)
    wanted = fac.it_kw(it_utilization, hours, powered)
    network = np.array(np.broadcast_to(np.asarray(network_kw, dtype=float), (hours,)))
    limit = spec.site.utility_mw * 1000.0
    full = fac.year(wanted, np.ones(hours), network, weather)
    by_loops = fac.loop_scale(wanted, network)

    def excess(r: EnergyResult) -> np.ndarray:
        """How far each hour is past its tighter site-wide limit, kW: facility power over the utility, or heat over a plant."""
        return np.maximum(r.facility_kw - limit, r.plant_excess_kw)

    looped = full if np.all(by_loops == 1.0) else fac.year(wanted, by_loops, network, weather)
    over = np.flatnonzero(excess(looped) > 0)
    if not over.size:
        return replace(looped, cooling_capped=full.cooling_capped)
    sub = Weather(weather.dry_bulb_c[over], weather.wet_bulb_c[over], weather.source)

    def excess_at(s: np.ndarray) -> np.ndarray:
        return excess(fac.year(wanted[:, over], by_loops[:, over] * s, network[over], sub))

    common = np.ones(hours)
    common[over] = _largest_fitting_scale(excess_at, excess_at(np.zeros(over.size)), excess(looped)[over])
    return replace(fac.year(wanted, by_loops * common, network, weather), cooling_capped=full.cooling_capped)


def _largest_fitting_scale(excess_at, at_zero: np.ndarray, at_one: np.ndarray) -> np.ndarray:
    """Per hour, the IT scale in [0, 1] at which facility power meets the limit (excess 0), from below.

    Facility power rises smoothly with IT, so regula falsi with the Illinois correction
    converges in a few evaluations; the answer is always the end of the bracket that fits.
    """
    a, b = np.zeros_like(at_one), np.ones_like(at_one)
    fa, fb = at_zero.copy(), at_one.copy()
    kept = np.zeros(a.shape, dtype=int)  # which end survived the last step: -1 a, +1 b
    for _ in range(CAP_ITERATIONS):
        live = (fa < -CAP_TOLERANCE_KW) & (b - a > 1e-12)
        if not live.any():
            break
        c = np.where(live, (a * fb - b * fa) / np.where(live, fb - fa, 1.0), a)
        fc = excess_at(c)
        fits = live & (fc <= ROUNDING_KW)
        over = live & ~fits
        fb = np.where(fits & (kept == 1), fb / 2, fb)  # a moved twice in a row: pull the next c towards b
        fa = np.where(over & (kept == -1), fa / 2, fa)
        a, fa = np.where(fits, c, a), np.where(fits, fc, fa)
        b, fb = np.where(over, c, b), np.where(over, fc, fb)
        kept = np.where(fits, 1, np.where(over, -1, kept))
    return np.where(fa <= ROUNDING_KW, a, 0.0)
