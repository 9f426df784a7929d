"""Scale-out fabric sizing: a fat tree of the catalog switch for the GPUs each fabric attaches.

Endpoints are counted in switch ports: a fabric carries `GPUs x nics_per_gpu` NIC ports of the
system's `scale_out_gbps` each, so 400G NICs on 800G switch ports share a port through a
breakout (two per port). With radix `R` and leaf oversubscription `o`, a leaf gives
`d = floor(R·o/(1+o))` ports to endpoints and the rest up; spines of a three-tier tree split
their ports half down, half up (non-blocking above the leaf). The largest tree of `R`-port
switches attaches `R` endpoints in one tier, `R·d` in two (at most `R` leaves) and `R²/2·d`
in three (`R` pods of `R/2` leaves), the SuperPOD tables of engineering reference 4.1.
A rail-optimized fabric has the switch count of the plain fat tree of the same size.

Optics: every link is optical, with transceivers at both ends: one per NIC port at the GPU,
and at the switches `port_gbps / transceiver gbps` per used port (a twin-port 800G module
serves two 400G ports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.deployments import deployment_systems
from twin.equipment import network_unit_power_kw
from twin.spec import Fabric, Spec

TIERS = ("leaf", "spine", "core")


@dataclass(frozen=True)
class TierPorts:
    """One tier of a fabric: its switches and how many of their ports are cabled."""

    tier: str
    switches: int
    ports_used: int
    ports_available: int


@dataclass(frozen=True)
class FabricReport:
    """A fabric sized for the GPUs of its halls."""

    fabric: str
    switch: str
    transceiver: str
    gpus: int
    endpoint_ports: int  # switch ports the NICs need
    max_endpoint_ports: int  # the most this radix and tier count can attach
    ok: bool  # endpoint_ports fit
    oversubscription: float  # achieved at the leaf: downlink over uplink bandwidth (1 in one tier)
    tiers: tuple[TierPorts, ...]
    switches: int
    transceivers: int
    switch_kw: float
    optics_kw: float

    @property
    def power_kw(self) -> float:
        return self.switch_kw + self.optics_kw


def fabric_gpus(spec: Spec, fabric: Fabric) -> list[tuple[int, float]]:
    """(GPUs, scale-out Gb/s per NIC port) per deployment in the halls attached to the fabric."""
    return _gpus_in(spec, {h.id for h in spec.halls if h.fabric == fabric.id})


def _gpus_in(spec: Spec, halls: set[str]) -> list[tuple[int, float]]:
    """(GPUs, scale-out Gb/s per NIC port) per deployment in these halls."""
    out = []
    for d in spec.deployments:
        if d.hall in halls:
            system = spec.cat.systems[d.system]
            out.append((deployment_systems(spec, d) * system.gpus_per_system, system.scale_out_gbps))
    return out


def max_endpoint_ports(radix: int, tiers: int, down_per_leaf: int) -> int:
    """The most endpoint ports a fat tree of `radix`-port switches attaches in `tiers` tiers."""
    return {1: radix, 2: radix * down_per_leaf, 3: radix * (radix // 2) * down_per_leaf}[tiers]


def size_fabric(spec: Spec, fabric: Fabric) -> FabricReport:
    """Switches, cabled ports, optics and power of one fabric."""
    switch, optic = spec.cat.equipment[fabric.switch], spec.cat.equipment[fabric.transceiver]
    radix, port_gbps = switch.ports, switch.port_gbps
    gpus = fabric_gpus(spec, fabric)
    nic_ports = [(n * fabric.nics_per_gpu, gbps) for n, gbps in gpus]
    endpoints = math.ceil(sum(n * gbps for n, gbps in nic_ports) / port_gbps)
    down = radix if fabric.tiers == 1 else math.floor(radix * fabric.oversubscription / (1 + fabric.oversubscription))
    leaves = math.ceil(endpoints / down)
    uplinks = 0 if fabric.tiers == 1 else min(leaves * (radix - down), math.ceil(endpoints / fabric.oversubscription))
    tiers = [TierPorts("leaf", leaves, endpoints + uplinks, leaves * radix)]
    if fabric.tiers == 2:
        spines = math.ceil(uplinks / radix)
        tiers.append(TierPorts("spine", spines, uplinks, spines * radix))
    if fabric.tiers == 3:
        spines = math.ceil(uplinks / (radix // 2))
        cores = math.ceil(uplinks / radix)
        tiers += [TierPorts("spine", spines, 2 * uplinks, spines * radix), TierPorts("core", cores, uplinks, cores * radix)]
    switches = sum(t.switches for t in tiers)
    switch_ports = sum(t.ports_used for t in tiers)
    nic_optics = sum(n * math.ceil(gbps / optic.gbps) for n, gbps in nic_ports)
    transceivers = nic_optics + math.ceil(switch_ports * port_gbps / optic.gbps)
    limit = max_endpoint_ports(radix, fabric.tiers, down)
    return FabricReport(
        fabric=fabric.id,
        switch=fabric.switch,
        transceiver=fabric.transceiver,
        gpus=sum(n for n, _ in gpus),
        endpoint_ports=endpoints,
        max_endpoint_ports=limit,
        ok=endpoints <= limit,
        oversubscription=endpoints / uplinks if uplinks else 1.0,
        tiers=tuple(tiers),
        switches=switches,
        transceivers=transceivers,
        switch_kw=switches * network_unit_power_kw(switch),
        optics_kw=transceivers * network_unit_power_kw(optic),
    )


@dataclass(frozen=True)
class NetworkReport:
    """Every fabric sized, with the totals the energy and cost models take."""

    fabrics: tuple[FabricReport, ...]
    power_kw: float  # switches and optics: the `network_kw` of `twin.energy.hourly_power`
    counts: dict[str, tuple[int, int]]  # fabric id -> (switches, transceivers), for `twin.economics.capex_from_spec`


def network(spec: Spec) -> NetworkReport:
    """Every fabric of the spec, sized."""
    fabrics = tuple(size_fabric(spec, f) for f in spec.network.fabrics)
    return NetworkReport(fabrics, sum(f.power_kw for f in fabrics), {f.fabric: (f.switches, f.transceivers) for f in fabrics})


def hall_network_shares(spec: Spec) -> dict[str, float] | None:
    """Each hall's share of the network power: a fabric's switches and optics sit with the racks they connect.

    A fabric's power is split over its halls by the NIC bandwidth of their GPUs; None when
    no fabric draws any power (the caller then spreads an external network load itself).
    """
    reports = {r.fabric: r for r in network(spec).fabrics}
    total = sum(r.power_kw for r in reports.values())
    if total <= 0:
        return None
    shares = {h.id: 0.0 for h in spec.halls}
    for fabric in spec.network.fabrics:
        halls = [h.id for h in spec.halls if h.fabric == fabric.id]
        bandwidth = {h: _nic_gbps(spec, fabric, h) for h in halls}
        attached = sum(bandwidth.values())
        for h in halls:
            share = bandwidth[h] / attached if attached > 0 else 1.0 / len(halls)
            shares[h] += reports[fabric.id].power_kw / total * share
    return shares


def _nic_gbps(spec: Spec, fabric: Fabric, hall: str) -> float:
    """Scale-out NIC bandwidth of a hall's GPUs on a fabric."""
    return fabric.nics_per_gpu * sum(n * gbps for n, gbps in _gpus_in(spec, {hall}))


def network_power_kw(spec: Spec) -> float:
    """Switches and optics of every fabric, kW."""
    return network(spec).power_kw
