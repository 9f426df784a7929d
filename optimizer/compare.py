"""Side-by-side comparison of stored runs: the parameters that differ and every KPI's change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """Runs against the first one: differing parameters, and per KPI the values and deltas."""

    ids: list[str]
    names: list[str]
    parameters: dict[str, list[Any]]  # only the paths whose values differ
    kpis: dict[str, list[float | None]]

    def delta(self, kpi: str) -> list[float | None]:
        """Each later run's KPI minus the first run's (None where either is missing)."""
        ref, *rest = self.kpis[kpi]
        return [None if ref is None or x is None else x - ref for x in rest]

    def relative(self, kpi: str) -> list[float | None]:
        """Each later run's relative change from the first (None where undefined)."""
        ref, *rest = self.kpis[kpi]
        return [None if ref in (None, 0) or x is None else (x - ref) / abs(ref) for x in rest]

    def to_json(self) -> dict:
        return {"runs": self.ids, "parameters": self.parameters,
                "kpis": {k: {"values": v, "delta": self.delta(k)} for k, v in self.kpis.items()}}


def compare_runs(rows: list[dict[str, Any]]) -> Comparison:
    """Compare stored runs (as `Store.run` returns them); the first is the reference."""
    paths = list(dict.fromkeys(p for r in rows for p in r["parameters"]))
    differing = {p: [r["parameters"].get(p) for r in rows] for p in paths if len({repr(r["parameters"].get(p)) for r in rows}) > 1}
    kpis = {k: [r["kpis"].get(k) for r in rows] for k in dict.fromkeys(k for r in rows for k in r["kpis"])}
    return Comparison([r["id"] for r in rows], [r["scenario"] for r in rows], differing, kpis)
