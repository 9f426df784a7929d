"""What a fleet simulation may include, with defaults: one frozen dataclass, a docstring per field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

RepairDistribution = Literal["exponential", "lognormal"]
ShedPolicy = Literal["proportional", "lowest-value-first"]


@dataclass(frozen=True)
class GridEvent:
    """The utility asks the site to shed `shed_mw` of facility power for `hours` whole hours from `start_h`."""

    start_h: int
    hours: int
    shed_mw: float

    def __post_init__(self):
        if self.start_h < 0 or self.hours < 1 or self.shed_mw < 0:
            raise ValueError(f"grid event needs start_h >= 0, hours >= 1 and shed_mw >= 0; got {self}")


@dataclass(frozen=True)
class SimOptions:
    """Options of a simulated year. The defaults simulate failures and repairs only."""

    facility_failures: bool = True
    """Draw failures of the power and cooling units (utility, generators, transformers, UPS, ...)."""
    system_failures: bool = True
    """Draw failures of single GPU systems (catalog `mtbf_h`/`mttr_h`); they take one system each."""
    repair: RepairDistribution = "exponential"
    """Distribution of repair times, with the catalog MTTR as its mean."""
    repair_sigma: float = 0.8
    """Shape (sigma of the log) of lognormal repair times; field data on repairs is heavy-tailed."""
    crews: int | None = None
    """Facility repair crews; None is ample (every failed unit is worked on at once, as the static model assumes).
    The utility restores its own supply, and GPU systems are swapped by the vendor: neither waits for a crew."""
    spike_rate_per_year: float = 0.0
    """Demand spikes per year (Poisson); 0 for none."""
    spike_magnitude: float = 1.5
    """Demand multiplier while a spike lasts (overlapping spikes add their excess)."""
    spike_mean_h: float = 6.0
    """Mean spike duration, h (exponential)."""
    grid_events: tuple[GridEvent, ...] = ()
    """Grid flexibility (demand-response) events known in advance."""
    grid_event_rate_per_year: float = 0.0
    """Random grid events per year (Poisson, starting on the hour); each sheds `grid_shed_mw` for `grid_event_hours`."""
    grid_shed_mw: float = 0.0
    """MW of facility power each random grid event asks to shed."""
    grid_event_hours: int = 4
    """Duration of each random grid event, whole hours."""
    shed_policy: ShedPolicy = "proportional"
    """How IT load is shed: `proportional` scales every stream's busy GPUs alike; `lowest-value-first` idles the
    streams with the fewest output tokens per kW first, giving up the fewest tokens per MW shed."""

    def __post_init__(self):
        checks = {
            "repair": self.repair in get_args(RepairDistribution),
            "shed_policy": self.shed_policy in get_args(ShedPolicy),
            "repair_sigma": self.repair_sigma > 0,
            "crews": self.crews is None or self.crews >= 1,
            "spike_rate_per_year": self.spike_rate_per_year >= 0,
            "spike_magnitude": self.spike_magnitude >= 1,
            "spike_mean_h": self.spike_mean_h > 0,
            "grid_event_rate_per_year": self.grid_event_rate_per_year >= 0,
            "grid_shed_mw": self.grid_shed_mw >= 0,
            "grid_event_hours": self.grid_event_hours >= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid simulation option(s): {', '.join(bad)}")

    def repair_draws(self, mttr_h: float):
        """Repair times of mean `mttr_h` from the configured distribution, as `(rng, shape) -> draws` (shape None: one float)."""
        if self.repair == "lognormal":
            s = self.repair_sigma
            return lambda rng, shape: rng.lognormal(math.log(mttr_h) - s * s / 2.0, s, shape)
        return lambda rng, shape: rng.exponential(mttr_h, shape)
