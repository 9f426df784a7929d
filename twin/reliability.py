"""Static availability of each rack group from component MTBF/MTTR, exact despite shared components.

A unit is available `MTBF / (MTBF + MTTR)` of the time; a group of `n` units works when at
least `units_needed` do (binomial k-of-n, units independent). A standby generator must also
start when called: its units count as available with probability `A·(1 - fail_to_start)`;
this is only felt when the utility is out, the one time generators matter, and fail-to-run
is taken as part of the MTBF. The utility is one unit with the site's MTBF/MTTR. Racks and
switches themselves are not counted: this is the availability of power and cooling to them.

Why not multiply along paths: the A and B sides of a 2N chain share the utility, a UPS
feeding both a busway and the hall's CDUs appears on two paths, so the inputs of a node are
not independent and a naive series/parallel product is wrong. The exact method here: walk
the rack group's ancestors in topological order, propagating the probability that each
works as `A_own · Π_inputs (1 - Π_suppliers (1 - p))`, which is exact when suppliers are
independent. Independence fails only below a *branch point*, an ancestor with two or more
consumers inside the rack group's ancestry. Branch points are conditioned on: each is
enumerated as working or not (2^b states, vectorized), with the weight of a state the
chain-rule product of P(branch point works | earlier branch points), each computed by the
same propagation. Given the branch points' states the remaining ancestors hang off them in
disjoint in-trees, so every propagated product is of independent terms and the sum over
states is exact. A 2N chain has a handful of branch points (the utility, the UPS feeding
both a busway and a CDU loop, a mechanical transformer), so `b` stays small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.stats import binom

from twin.connectivity import Topology
from twin.deployments import deployment_systems
from twin.graph import build_graph, is_infrastructure, rack_group_id
from twin.spec import Spec

MAX_BRANCH_POINTS = 20  # 2^20 states of float64: 8 MB per array
MINUTES_PER_YEAR = 525_600.0


def unit_availability(mtbf_h: float, mttr_h: float) -> float:
    """Share of time one unit works."""
    return mtbf_h / (mtbf_h + mttr_h)


def k_of_n(p: float, k: int, n: int) -> float:
    """Probability that at least `k` of `n` independent units, each working with probability `p`, work."""
    if n <= 64:  # exact for the group sizes of real facilities
        return 1.0 - sum(math.comb(n, j) * p**j * (1.0 - p) ** (n - j) for j in range(k))
    return float(binom.sf(k - 1, n, p))  # large groups: binomial coefficients overflow a float


def node_availability(graph: nx.DiGraph) -> dict[str, float]:
    """Every power and cooling group's availability (k-of-n of its units)."""
    out = {}
    for n, a in graph.nodes(data=True):
        if is_infrastructure(graph, n):
            p = unit_availability(a["mtbf_h"], a["mttr_h"]) * (1.0 - a.get("fail_to_start", 0.0))
            out[n] = k_of_n(p, a["units_needed"], a["units"])
    return out


def rack_group_availability(topo: Topology, rack: str, avail: dict[str, float]) -> float:
    """Exact probability that `rack` has power and every cooling medium it needs (see module docstring)."""
    sub = nx.ancestors(topo.physical, rack) | {rack}
    order = [n for n in topo.order if n in sub]
    branch = [n for n in order if n != rack and sum(1 for s in topo.physical.successors(n) if s in sub) > 1]
    if len(branch) > MAX_BRANCH_POINTS:
        raise ValueError(f"{rack}: {len(branch)} shared components exceed the {MAX_BRANCH_POINTS} this exact method enumerates")
    states = ((np.arange(2 ** len(branch))[:, None] >> np.arange(len(branch))) & 1).astype(float)
    column = {n: i for i, n in enumerate(branch)}
    weight = np.ones(len(states))
    p: dict[str, np.ndarray] = {}
    for n in order:
        works = topo.works(n, avail.get(n, 1.0), p)
        if n in column:
            state = states[:, column[n]]
            weight = weight * np.where(state == 1.0, works, 1.0 - works)
            works = state
        p[n] = works
    return float(weight @ np.broadcast_to(p[rack], weight.shape))


@dataclass(frozen=True)
class DeploymentAvailability:
    """Availability of power and cooling to one deployment's racks (that of its rack group)."""

    rack_group: str
    racks: int
    max_kw: float
    availability: float
    downtime_min_per_year: float


@dataclass(frozen=True)
class AvailabilityReport:
    """Per deployment, in `spec.deployments` order, and the facility weighted by installed IT power (max kW)."""

    facility: float
    downtime_min_per_year: float
    groups: tuple[DeploymentAvailability, ...]


def availability(spec: Spec, graph: nx.DiGraph | None = None) -> AvailabilityReport:
    """Static availability of every deployment's rack group and the capacity-weighted facility figure."""
    graph = graph if graph is not None else build_graph(spec)
    topo, avail = Topology(graph), node_availability(graph)
    by_group = {r: rack_group_availability(topo, r, avail) for r in topo.racks}
    groups = []
    for d in spec.deployments:
        r = rack_group_id(d.hall, d.system)
        max_kw = deployment_systems(spec, d) * spec.cat.systems[d.system].max_kw
        groups.append(DeploymentAvailability(r, d.racks, max_kw, by_group[r], (1.0 - by_group[r]) * MINUTES_PER_YEAR))
    total = sum(g.max_kw for g in groups)
    facility = sum(g.availability * g.max_kw for g in groups) / total if total > 0 else 1.0
    return AvailabilityReport(facility, (1.0 - facility) * MINUTES_PER_YEAR, tuple(groups))
