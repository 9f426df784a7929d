"""Which groups work when others have failed, for many failure scenarios at once.

A node works when it has not failed and, for each input it takes, at least one supplier
works. The inputs are the in-edge keys: `power` (utility, generators and conversion stages),
`cooling` (a loop's plants) and, for rack groups, `liquid` and `air`. Sources (the utility,
generators) have no inputs. The network layer is not a dependency here: racks cut off from
their fabric still have power and cooling.

States are arrays over scenarios (1.0 works, 0.0 does not), so one pass in topological
order answers every scenario; with probabilities in place of 0/1 the same product is the
availability of independent inputs (`twin.reliability`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from twin.graph import NETWORK, rack_groups


class Topology:
    """The graph's physical nodes in topological order, with their inputs grouped by key."""

    def __init__(self, graph: nx.DiGraph):
        self.graph = graph
        self.physical = nx.subgraph_view(graph, filter_edge=lambda u, v: graph.edges[u, v]["layer"] != NETWORK)
        self.order = [n for n in nx.topological_sort(self.physical) if graph.nodes[n]["kind"] != "switch"]
        self.inputs: dict[str, list[list[str]]] = {}
        for node in self.order:
            keyed: dict[str, list[str]] = {}
            for up, _, data in self.physical.in_edges(node, data=True):
                keyed.setdefault(data.get("medium", data["layer"]), []).append(up)
            self.inputs[node] = list(keyed.values())
        self.racks = rack_groups(graph)

    def works(self, node: str, own, states: Mapping[str, np.ndarray]):
        """`own` (the node's own state or availability) times, per input, 1 - P(every supplier is out)."""
        out = own
        for suppliers in self.inputs[node]:
            out_all = 1.0
            for s in suppliers:
                out_all = out_all * (1.0 - states[s])
            out = out * (1.0 - out_all)
        return out

    def live(self, failed: Mapping[str, np.ndarray], scenarios: int) -> dict[str, np.ndarray]:
        """Node -> (scenarios,) 1.0 where it works; `failed` maps nodes to where they have failed."""
        ones = np.ones(scenarios)
        states: dict[str, np.ndarray] = {}
        for node in self.order:
            own = 1.0 - failed[node] if node in failed else ones
            states[node] = np.broadcast_to(self.works(node, own, states), (scenarios,))
        return states


def lost_rack_groups(graph: nx.DiGraph, failed: Iterable[str]) -> frozenset[str]:
    """Rack groups without power or a needed cooling medium when the groups in `failed` are down."""
    topo = Topology(graph)
    states = topo.live({n: np.ones(1) for n in failed}, 1)
    return frozenset(r for r in topo.racks if states[r][0] == 0.0)
