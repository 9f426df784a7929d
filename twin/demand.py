"""Hourly demand over a year, as a share of the fleet's capacity at SLA.

Profiles are daily shapes normalised to a peak of 1, scaled by `demand.level`:
- `flat`: constant.
- `diurnal`: consumer chat traffic, a cosine from 55 % at 03:00 to 100 % at 15:00,
  weekends at 90 % (the shape public LLM-API traffic reports show; an estimate [E]).
- `business`: enterprise use, 100 % on weekdays 08:00-19:00 with one-hour ramps,
  35 % at night, 40 % on weekends [E].
- 24 numbers: the planner's own day, every day.
The year starts on a Monday; hour 0 is local midnight on 1 January.
"""

from __future__ import annotations

import numpy as np

from twin.spec import Demand

HOURS = 8760


def daily_shape(profile: str | list[float], weekend: bool) -> np.ndarray:
    """24 hourly factors (peak 1) of one day."""
    h = np.arange(24, dtype=float)
    if isinstance(profile, list):
        return np.asarray(profile, dtype=float)
    if profile == "flat":
        return np.ones(24)
    if profile == "diurnal":
        day = 0.775 - 0.225 * np.cos(2 * np.pi * (h - 3) / 24)
        return day * (0.9 if weekend else 1.0)
    if profile == "business":
        if weekend:
            return np.full(24, 0.40)
        day = np.full(24, 0.35)
        day[8:19] = 1.0
        day[7] = day[19] = 0.675  # one-hour ramps
        return day
    raise ValueError(f"unknown demand profile {profile!r}")


def hourly_demand(demand: Demand, hours: int = HOURS) -> np.ndarray:
    """Demand of each hour of the year as a share of capacity at SLA (0..1)."""
    weekday = np.tile(daily_shape(demand.profile, weekend=False), 7)
    weekend = daily_shape(demand.profile, weekend=True)
    week = weekday.copy()
    week[5 * 24 :] = np.tile(weekend, 2)
    reps = -(-hours // week.size)
    return demand.level * np.tile(week, reps)[:hours]
