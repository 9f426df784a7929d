"""Demand spikes and grid demand-response events of a year, drawn in numpy.

Spikes start as a Poisson process and last an exponential time each; overlapping spikes add
their excess demand, so the multiplier is `1 + active * (magnitude - 1)` and exactly 1
between spikes. Random grid events arrive as a Poisson process and start on the next whole
hour; announced ones are requested at their start. Nothing here waits on anything else, so
no event loop is needed: the times are drawn at once and merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.sim.options import GridEvent, SimOptions

HOURS_PER_YEAR = 8760.0
SPIKE_EVENTS = ("demand spike started", "demand spike ended")


@dataclass(frozen=True)
class Spikes:
    """Every spike start and end within the year in time order, and the multiplier after each."""

    times: np.ndarray
    ended: np.ndarray  # 0 started, 1 ended: an index into SPIKE_EVENTS
    multiplier: np.ndarray


def poisson_times(rate_per_h: float, hours: float, rng: np.random.Generator) -> np.ndarray:
    """Arrival times of a Poisson process of `rate_per_h` within [0, hours), drawn in blocks."""
    times, last = [], 0.0
    block = int(rate_per_h * hours + 4 * np.sqrt(rate_per_h * hours)) + 16  # enough for one block almost always
    while last < hours:
        t = last + np.cumsum(rng.exponential(1.0 / rate_per_h, block))
        times.append(t[t < hours])
        last = t[-1]
    return np.concatenate(times)


def spikes(options: SimOptions, hours: float, rng: np.random.Generator) -> Spikes:
    """The year's demand spikes (none when their rate is 0)."""
    if options.spike_rate_per_year <= 0:
        return Spikes(np.zeros(0), np.zeros(0, np.int8), np.zeros(0))
    starts = poisson_times(options.spike_rate_per_year / HOURS_PER_YEAR, hours, rng)
    ends = starts + rng.exponential(options.spike_mean_h, starts.size)
    ends = ends[ends < hours]
    times = np.concatenate([starts, ends])
    step = np.concatenate([np.ones(starts.size, np.int64), -np.ones(ends.size, np.int64)])
    order = np.argsort(times, kind="stable")
    times, step = times[order], step[order]
    return Spikes(times, (step < 0).view(np.int8), 1.0 + np.cumsum(step) * (options.spike_magnitude - 1.0))


def grid_events(options: SimOptions, hours: float, rng: np.random.Generator) -> tuple[np.ndarray, list[GridEvent]]:
    """(request times, events) of the announced and random grid events within the year, in time order."""
    announced = [(float(e.start_h), e) for e in options.grid_events if e.start_h < hours]
    drawn = []
    if options.grid_event_rate_per_year > 0 and options.grid_shed_mw > 0:
        at = poisson_times(options.grid_event_rate_per_year / HOURS_PER_YEAR, hours, rng)
        drawn = [(float(t), GridEvent(int(np.ceil(t)), options.grid_event_hours, options.grid_shed_mw)) for t in at]
    both = sorted(announced + drawn, key=lambda te: te[0])
    return np.array([t for t, _ in both], dtype=float), [e for _, e in both]
