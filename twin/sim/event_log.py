"""A simulated year's event log, bounded: the first `limit` events in time, then counts.

At the highest failure rates a year holds millions of events; the log keeps the first
`limit` of them row by row (what a person reads) and, beyond, one row per component and
event with how many there were, the first time and the summed blast radius, so memory stays
bounded whatever the rates. The fleet's own state is kept apart, so the KPIs are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EVENT_COLUMNS = ["time_h", "component", "event", "units_down", "racks", "gpus", "it_mw"]
EVENT_LOG_LIMIT = 100_000


@dataclass(frozen=True)
class EventArrays:
    """One source's events in time order as arrays: row i is `labels[code[i]]` (component, event) with
    `units_down[i]`; its (racks, gpus, it_mw) are `blast[code[i]]`, plus `blast_at[j]` on the rows `blast_rows[j]`."""

    times: np.ndarray
    code: np.ndarray
    labels: list[tuple[str, str]]
    units_down: np.ndarray
    blast: np.ndarray
    blast_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    blast_at: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


class EventLog:
    """Events added by source, each in time order; past the limit, aggregated per (component, event)."""

    def __init__(self, limit: int | None = None):
        self.limit = EVENT_LOG_LIMIT if limit is None else limit
        self.rows: list[tuple] = []
        self.beyond: dict[tuple[str, str], list[float]] = {}  # (component, event) -> [count, first time, racks, gpus, it_mw]

    def _count(self, component: str, event: str, n: float, first_h: float, racks: float, gpus: float, it_mw: float) -> None:
        acc = self.beyond.setdefault((component, event), [0.0, first_h, 0.0, 0.0, 0.0])
        acc[0] += n
        acc[1] = min(acc[1], first_h)
        acc[2] += racks
        acc[3] += gpus
        acc[4] += it_mw

    def merge(self, parts: list[pd.DataFrame]) -> None:
        """Add events given as frames of EVENT_COLUMNS, each in time order (the GPU systems), keeping the bound."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return
        beyond = [p.iloc[self.limit:] for p in parts]  # past its own first `limit`, no row can be among the first `limit` of all
        kept = [pd.DataFrame(self.rows, columns=EVENT_COLUMNS)] if self.rows else []
        both = pd.concat([*kept, *(p.iloc[: self.limit] for p in parts)], ignore_index=True)
        both = both.sort_values("time_h", kind="stable", ignore_index=True)
        self.rows = list(both.iloc[: self.limit].itertuples(index=False, name=None))
        rest = pd.concat([both.iloc[self.limit:], *beyond], ignore_index=True)
        if len(rest):
            grouped = rest.groupby(["component", "event"], sort=False).agg(
                n=("time_h", "size"), first_h=("time_h", "min"), racks=("racks", "sum"), gpus=("gpus", "sum"), it_mw=("it_mw", "sum"))
            for (component, event), g in grouped.iterrows():
                self._count(component, event, g["n"], g["first_h"], g["racks"], g["gpus"], g["it_mw"])

    def add_arrays(self, parts: list[EventArrays]) -> None:
        """Add sources' events given as arrays, without a Python object per event: the first `limit` of all of
        them are merged with the rows kept so far, the others counted straight away."""
        heads = [min(self.limit, p.times.size) for p in parts]
        if sum(heads) > self.limit:  # the time of the limit-th event of all the parts: rows past it are counted
            cut = np.partition(np.concatenate([p.times[:h] for p, h in zip(parts, heads, strict=True)]), self.limit - 1)[self.limit - 1]
            room = self.limit - sum(int(np.searchsorted(p.times, cut, "left")) for p in parts)
            heads = []
            for p in parts:
                lo, hi = (int(np.searchsorted(p.times, cut, side)) for side in ("left", "right"))
                heads.append(lo + min(hi - lo, room))
                room -= heads[-1] - lo
        times, names, down, blast = [], [], [], []
        for p, head in zip(parts, heads, strict=True):
            self._count_arrays(p, head)
            b = p.blast[p.code[:head]]
            early = p.blast_rows < head
            np.add.at(b, p.blast_rows[early], p.blast_at[early])
            times.append(p.times[:head])
            names.append(np.array(p.labels, dtype=object).reshape(-1, 2)[p.code[:head]])
            down.append(p.units_down[:head].astype(float))
            blast.append(b)
        if sum(heads):
            names_, blast_ = np.concatenate(names), np.concatenate(blast)
            self.merge([pd.DataFrame({"time_h": np.concatenate(times), "component": names_[:, 0], "event": names_[:, 1],
                                      "units_down": np.concatenate(down), "racks": blast_[:, 0], "gpus": blast_[:, 1],
                                      "it_mw": blast_[:, 2]}, columns=EVENT_COLUMNS)])

    def _count_arrays(self, p: EventArrays, head: int) -> None:
        """Count the rows of `p` from `head` on."""
        if p.times.size <= head:
            return
        rest = p.code[head:]
        n = np.bincount(rest, minlength=len(p.labels))
        first = np.full(len(p.labels), np.inf)
        np.minimum.at(first, rest, p.times[head:])
        sums = n[:, None] * p.blast
        late = p.blast_rows >= head
        np.add.at(sums, p.code[p.blast_rows[late]], p.blast_at[late])
        for c in np.flatnonzero(n):
            self._count(*p.labels[c], float(n[c]), float(first[c]), *(float(v) for v in sums[c]))

    def frame(self) -> pd.DataFrame:
        """The log: kept rows in time order, then one row per aggregated (component, event)."""
        rows = list(self.rows)
        for (component, event), (n, first, racks, gpus, it_mw) in sorted(self.beyond.items(), key=lambda kv: kv[1][1]):
            rows.append((first, component, f"{event} (x{int(n):,} more, counted: the log keeps {self.limit:,} events)",
                         np.nan, racks, gpus, it_mw))
        return pd.DataFrame(rows, columns=EVENT_COLUMNS)
