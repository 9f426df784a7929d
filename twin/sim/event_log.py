"""A simulated year's event log, bounded: the first `limit` events in time, then counts.

At the highest failure rates a year holds millions of events; the log keeps the first
`limit` of them row by row (what a person reads) and, beyond, one row per component and
event with how many there were, the first time and the summed blast radius, so memory stays
bounded whatever the rates. The fleet's own state is kept apart, so the KPIs are exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EVENT_COLUMNS = ["time_h", "component", "event", "units_down", "racks", "gpus", "it_mw"]
EVENT_LOG_LIMIT = 100_000


class EventLog:
    """Rows appended in time order; past the limit, aggregated per (component, event)."""

    def __init__(self, limit: int | None = None):
        self.limit = EVENT_LOG_LIMIT if limit is None else limit
        self.rows: list[tuple] = []
        self.beyond: dict[tuple[str, str], list[float]] = {}  # (component, event) -> [count, first time, racks, gpus, it_mw]

    def add(self, time_h: float, component: str, event: str, units_down: float, racks: float = 0.0, gpus: float = 0.0,
            it_mw: float = 0.0) -> None:
        if len(self.rows) < self.limit:
            self.rows.append((time_h, component, event, units_down, racks, gpus, it_mw))
        else:
            self._count(component, event, 1, time_h, racks, gpus, it_mw)

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

    def add_arrays(self, times: np.ndarray, code: np.ndarray, labels: list[tuple[str, str]], units_down: np.ndarray,
                   blast: np.ndarray, blast_rows: np.ndarray | None = None, blast_at: np.ndarray | None = None) -> None:
        """Add one source's events given as arrays in time order, without a Python object per event.

        Row i is `labels[code[i]]` (component, event) with `units_down[i]`; its (racks, gpus, it_mw) are
        `blast[code[i]]`, plus `blast_at[j]` on the rows `blast_rows[j]`. Rows past the limit are counted
        straight away; the first `limit` are merged with the rows kept so far.
        """
        rows = blast_rows if blast_rows is not None else np.zeros(0, np.int64)
        extra = blast_at if blast_at is not None else np.zeros((0, 3))
        head = min(self.limit, times.size)
        if times.size > head:
            rest = code[head:]
            n = np.bincount(rest, minlength=len(labels))
            first = np.full(len(labels), np.inf)
            np.minimum.at(first, rest, times[head:])
            sums = n[:, None] * blast
            late = rows >= head
            np.add.at(sums, code[rows[late]], extra[late])
            for c in np.flatnonzero(n):
                self._count(*labels[c], float(n[c]), float(first[c]), *(float(v) for v in sums[c]))
        if head:
            b = blast[code[:head]]
            early = rows < head
            np.add.at(b, rows[early], extra[early])
            names = np.array(labels, dtype=object).reshape(-1, 2)[code[:head]]
            self.merge([pd.DataFrame({"time_h": times[:head], "component": names[:, 0], "event": names[:, 1],
                                      "units_down": units_down[:head].astype(float), "racks": b[:, 0], "gpus": b[:, 1],
                                      "it_mw": b[:, 2]}, columns=EVENT_COLUMNS)])

    def frame(self) -> pd.DataFrame:
        """The log: kept rows in time order, then one row per aggregated (component, event)."""
        rows = list(self.rows)
        for (component, event), (n, first, racks, gpus, it_mw) in sorted(self.beyond.items(), key=lambda kv: kv[1][1]):
            rows.append((first, component, f"{event} (x{int(n):,} more, counted: the log keeps {self.limit:,} events)",
                         np.nan, racks, gpus, it_mw))
        return pd.DataFrame(rows, columns=EVENT_COLUMNS)
