"""Which rack groups are cut off after each instant a facility group fails or works again, every instant at once.

Each such crossing toggles one group between working and failed, so a group's state after
crossing j is the parity of its crossings up to j. The groups' states over a block of
crossings are the scenarios of `Topology.live` (one pass in topological order answers the
whole block), and a rack group's change from one crossing to the next is that crossing's
blast radius. Blocks bound the memory whatever the number of crossings.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from twin.connectivity import Topology

BLOCK = 16_384  # crossings evaluated at once: memory ~ graph nodes x BLOCK floats


@dataclass(frozen=True)
class CutOff:
    """Rack groups' power and cooling after every crossing, and what each crossing changed."""

    works: dict[str, np.ndarray]  # rack group -> (crossings,) True while it has power and every cooling medium
    blast: np.ndarray  # (crossings, 3): racks, GPUs and installed IT MW cut off or restored


def cut_off(graph: nx.DiGraph, topology: Topology, groups: list[str], crossed: np.ndarray) -> CutOff:
    """`crossed[j]` is the index (into `groups`) of the group that failed or worked again at crossing j, in time order."""
    racks = topology.racks
    size = np.array([[graph.nodes[r]["racks"], graph.nodes[r]["gpus"], graph.nodes[r]["max_kw"] / 1000.0] for r in racks]).reshape(-1, 3)
    works = {r: np.ones(crossed.size, bool) for r in racks}
    blast = np.zeros((crossed.size, 3))
    state = np.zeros(len(groups), np.int64)  # 1 while failed, carried from block to block
    before = np.ones(len(racks), bool)
    for lo in range(0, crossed.size, BLOCK):
        g = crossed[lo:lo + BLOCK]
        toggles = np.zeros((len(groups), g.size), np.int64)
        toggles[g, np.arange(g.size)] = 1
        failed = (np.cumsum(toggles, axis=1) + state[:, None]) & 1
        state = failed[:, -1]
        live = topology.live({n: failed[i].astype(float) for i, n in enumerate(groups)}, g.size)
        for k, r in enumerate(racks):
            w = live[r] == 1.0
            works[r][lo:lo + g.size] = w
            changed = w != np.r_[before[k], w[:-1]]
            blast[lo:lo + g.size] += changed[:, None] * size[k]
            before[k] = w[-1]
    return CutOff(works, blast)
