"""The GPU systems of a deployment over a year, all at once in numpy: each system alternates up and down.

A system fails after an exponential time of mean MTBF and is swapped after a repair time
(exponential or lognormal around the MTTR, as the fleet's repairs); systems do not wait for
crews and nothing else depends on them, so their states need no event loop. Each system's
alternating up/down times are drawn in blocks of cycles (memory stays bounded whatever the
rates), and the merged change points give the number of systems down over the year.
The work is proportional to the failures, not to the systems or the hours. The facility's
units with ample crews are the same model and are drawn here too (`twin.sim.facility_failures`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCK_CYCLES = 512  # up/down cycles drawn per system at a time
BLOCK_VALUES = 4_000_000  # and at most this many draws per block (bounded memory for huge fleets)


@dataclass(frozen=True)
class SystemChanges:
    """Every failure (+1) and repair (-1) of a deployment's systems within the year, in time order."""

    times: np.ndarray
    steps: np.ndarray  # +1 failed, -1 repaired
    down: np.ndarray  # systems down just after each change


def system_changes(n: int, mtbf_h: float, repair_h: Callable[[np.random.Generator, tuple], np.ndarray], hours: float,
                   rng: np.random.Generator) -> SystemChanges:
    """Failures and repairs of `n` independent systems over `hours`; `repair_h(rng, shape)` draws repair times."""
    times: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    clock = np.zeros(n)  # when each system is next up (all start up at 0)
    alive = np.arange(n)
    while alive.size:
        k = max(1, min(BLOCK_CYCLES, BLOCK_VALUES // alive.size))
        rows = alive[: max(1, BLOCK_VALUES // k)]  # the systems drawn this round; the rest wait for the next
        up = rng.exponential(mtbf_h, (rows.size, k))
        repair = repair_h(rng, (rows.size, k))
        ends = clock[rows, None] + np.cumsum(up + repair, axis=1)  # each cycle ends with the system back up
        fail = ends - repair
        times += [fail[fail < hours], ends[ends < hours]]
        steps += [np.ones(int((fail < hours).sum()), np.int8), -np.ones(int((ends < hours).sum()), np.int8)]
        clock[rows] = ends[:, -1]
        alive = np.concatenate([rows[clock[rows] < hours], alive[rows.size:]])
    t = np.concatenate(times) if times else np.zeros(0)
    s = np.concatenate(steps) if steps else np.zeros(0, np.int8)
    order = np.lexsort((-s, t))  # a repair and a failure at one instant: the failure first, so `down` never goes negative
    t, s = t[order], s[order]
    return SystemChanges(t, s, np.cumsum(s, dtype=np.int64))
