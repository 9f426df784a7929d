r"""Availability in the plan's terms: how much each group's unavailability costs in tokens, from the twin's own models.

The twin serves a rack group's demand `d(h)` only up to its availability `A`
(`twin.evaluate`: busy `min(d(h), A)`), so the share of tokens lost is

    G(Q) = sum_h max(0, d(h) - (1 - Q)) / sum_h d(h),    Q = 1 - A,

convex and zero while `A` stays above the busiest hour's demand. `A` itself is the twin's
exact rack-group availability (`twin.reliability`), made linear in each group's
unavailability `q_g` (its k-of-n figure) by the group's Birnbaum importance
$I_g = A(g\ \text{up}) - A(g\ \text{down})$ measured on the probe:
$Q \approx \sum_g I_g q_g$. The MILP then prices `G` by its tangent lines.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from twin.connectivity import Topology
from twin.graph import build_graph, is_infrastructure, node_ids, rack_group_id
from twin.reliability import node_availability, rack_group_availability
from twin.spec import Spec

TANGENT_AT = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8)


def loss_tangents(demand: np.ndarray) -> tuple[tuple[float, float], ...]:
    """(c, s) with $G(Q) \\ge c + sQ$, tangent to `G` at `TANGENT_AT` (right derivative); those with a slope only."""
    total = float(demand.sum())
    out = []
    for q in TANGENT_AT:
        level = float(np.maximum(demand - (1.0 - q), 0.0).sum()) / total
        slope = float(np.count_nonzero(demand >= 1.0 - q)) / total
        if slope > 0:
            out.append((level - slope * q, slope))
    return tuple(out)


def group_importance(probe: Spec, probe_system: dict[str, str], stages: set[str]) -> tuple[dict[str, float], float]:
    """Per group of `stages`, its Birnbaum importance averaged over the probe's halls it feeds; and the unavailability left.

    `probe_system` maps each probed hall to the id of its synthetic system. The second
    figure, averaged over the halls, is 1 - A with every group of `stages` always up:
    what the utility and the groups the plan does not model leave.
    """
    graph = build_graph(probe)
    topo, avail = Topology(graph), node_availability(graph)
    node = {gid: n for gid, n in node_ids(probe).items() if gid in stages}
    sums: dict[str, list[float]] = {}
    rest = []
    for hall, system in probe_system.items():
        rack = rack_group_id(hall, system)
        above = nx.ancestors(topo.physical, rack)
        mine = {gid: n for gid, n in node.items() if n in above and is_infrastructure(graph, n)}
        for gid, n in mine.items():
            up = rack_group_availability(topo, rack, avail | {n: 1.0})
            down = rack_group_availability(topo, rack, avail | {n: 0.0})
            sums.setdefault(gid, []).append(up - down)
        rest.append(1.0 - rack_group_availability(topo, rack, avail | {n: 1.0 for n in mine.values()}))
    return {g: float(np.mean(v)) for g, v in sums.items()}, float(np.mean(rest)) if rest else 0.0

