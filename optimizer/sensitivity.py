"""Tornado tables: which varied parameter of a sweep moves a KPI most.

Method, for each varied parameter p, reading the KPI at each level (distinct value) of p:

- **others held**: where the sweep has runs with every other varied parameter at its
  centre (the base spec's value when the sweep has it, else the median of its levels)
  and p takes at least two levels among them, the KPI is read on that slice: a
  one-at-a-time cut through the base point, the classic tornado.
- **others averaged**: otherwise (random samples, grids that miss the centre), the KPI
  at a level is its mean over every run at that level, the main effect of p. A numeric
  p with more than `MAX_LEVELS` distinct values is cut into `QUANTILE_BINS` quantile bins.

The swing is the highest minus the lowest KPI across p's levels; rows rank by swing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

MAX_LEVELS = 8
QUANTILE_BINS = 5


@dataclass(frozen=True)
class Swing:
    """The range of a KPI as one parameter moves, and the levels at its ends."""

    parameter: str
    low: float
    low_at: str
    high: float
    high_at: str
    levels: int
    method: str

    @property
    def swing(self) -> float:
        """Highest minus lowest KPI across the levels."""
        return self.high - self.low


def tornado(frame: pd.DataFrame, kpi: str, base_values: dict[str, Any]) -> list[Swing]:
    """Swings of `kpi` for every parameter in `base_values`, largest first.

    Args:
        frame: runs as from `Store.frame`: a `param.<path>` column per parameter (every
            value filled in) and a `kpi.<name>` column; rows without the KPI are ignored.
        kpi: KPI name, without the `kpi.` prefix.
        base_values: parameter path -> its value in the base spec.

    """
    runs = frame.dropna(subset=[f"kpi.{kpi}"])
    params = {p: runs[f"param.{p}"] for p in base_values}
    centres = {p: _centre(v, base_values[p]) for p, v in params.items()}
    swings = []
    for p, values in params.items():
        held = pd.Series(True, index=runs.index)
        for q, centre in centres.items():
            if q != p:
                held &= (params[q] == centre) if centre is not None else False
        if values[held].nunique() >= 2:
            levels, kpis, method = values[held], runs.loc[held, f"kpi.{kpi}"], "others held"
        else:
            levels, kpis, method = _binned(values), runs[f"kpi.{kpi}"], "others averaged"
        means = kpis.groupby(levels).mean()
        if means.empty:
            continue
        swings.append(Swing(p, float(means.min()), _show(means.idxmin()), float(means.max()), _show(means.idxmax()), len(means), method))
    return sorted(swings, key=lambda s: -s.swing)


def _centre(values: pd.Series, base: Any) -> Any:
    """The base value if the sweep has it, else the median level of a numeric parameter."""
    levels = list(values.dropna().unique())
    if base in levels:
        return base
    if levels and pd.api.types.is_numeric_dtype(values):
        return sorted(levels)[(len(levels) - 1) // 2]
    return None


def _binned(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_LEVELS:
        return pd.qcut(values, QUANTILE_BINS, duplicates="drop").astype(str)
    return values


def _show(level: Any) -> str:
    return f"{level:g}" if isinstance(level, float) else str(level)
