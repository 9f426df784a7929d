"""Facility units drawn in numpy per group: the same seed gives the same year, and the time-average availability
of each group and each hall matches the exact k-of-n figures and the event-by-event SimPy model; spikes and
grid events drawn in numpy too."""

from __future__ import annotations

import numpy as np
import pytest

from tests.sim_support import FLAKY, RELIABLE, flaky
from twin.graph import build_graph
from twin.reliability import availability, k_of_n
from twin.sim.demand_events import grid_events, spikes
from twin.sim.facility_failures import FAILED, FAILED_TO_START, REPAIRED, UnitGroup, drawn_changes
from twin.sim.fleet import Fleet
from twin.sim.options import SimOptions
from twin.sim.rng import named_streams

Z = 3.0  # standard errors a seeded mean over independent years may stray from its exact value
HOURS = 8760.0
YEARS = 16

# Hand-worked k-of-n availabilities (unit availability A = MTBF / (MTBF + MTTR), at least k of n units up):
# - one unit, MTBF 400 h, MTTR 8 h: A = 400/408 = 0.980392
# - 2 of 3 (N+1), MTBF 200 h, MTTR 40 h: A = 5/6; A^3 + 3 A^2 (1 - A) = 125/216 + 75/216 = 200/216 = 0.925926
# - 3 of 4 (N+1), MTBF 500 h, MTTR 25 h: A = 20/21; A^4 + 4 A^3 (1 - A) = (160,000 + 32,000) / 194,481 = 0.987240
# - 6 of 6 (N), MTBF 300 h, MTTR 10 h: A = 30/31; A^6 = 0.821518
GROUPS = [
    (UnitGroup("utility", 1, 1, 400.0, 8.0, 0.0), 400 / 408),
    (UnitGroup("ups:u", 3, 2, 200.0, 40.0, 0.0), 200 / 216),
    (UnitGroup("loop:crah", 4, 3, 500.0, 25.0, 0.0), 192_000 / 194_481),
    (UnitGroup("dist:bus", 6, 6, 300.0, 10.0, 0.0), (30 / 31) ** 6),
]


def _time_up(times: np.ndarray, up: np.ndarray, hours: float = HOURS) -> float:
    """Share of [0, hours) a 0/1 state holds 1, from its change points (`up[i]` from `times[i]`; 1 before the first)."""
    t = np.r_[0.0, times]
    v = np.r_[1.0, up.astype(float)]
    return float((v * np.diff(np.r_[t, hours])).sum() / hours)


def _years_of_groups(repair: str, seed: int) -> np.ndarray:
    """(years, groups): share of each year each group had at least its needed units working."""
    groups = [g for g, _ in GROUPS]
    draw = SimOptions(repair=repair).repair_draws
    out = []
    for year in range(YEARS):
        rngs = list(named_streams(np.random.SeedSequence(seed, spawn_key=(year,)), [g.node for g in groups]).values())
        out.append([_time_up(c.times, g.units - c.down >= g.needed) for g, c in zip(groups, drawn_changes(groups, draw, HOURS, rngs), strict=True)])
    return np.array(out)


def _mean_and_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


@pytest.mark.parametrize("repair", ["exponential", "lognormal"])
def test_each_group_is_up_its_exact_k_of_n_share_of_the_time(repair):
    # units are independent alternating renewals, so the long-run share is the binomial k-of-n of the
    # unit availability for any repair distribution of the same mean (insensitivity)
    mean, se = _mean_and_se(_years_of_groups(repair, seed=21))
    for (g, hand), m, s in zip(GROUPS, mean, se, strict=True):
        assert k_of_n(g.mtbf_h / (g.mtbf_h + g.mttr_h), g.needed, g.units) == pytest.approx(hand, rel=1e-12)
        assert 0 < s < 0.01, g.node  # the years do differ, and enough of them were drawn to measure
        assert abs(m - hand) <= Z * s, (g.node, m, hand, s)


def _hall_years(spec, options: SimOptions, seed: int) -> np.ndarray:
    """(years, deployments): share of each year each deployment's racks had power and cooling."""
    graph = build_graph(spec)
    out = []
    for year in range(YEARS):
        trace = Fleet(spec, graph, options, np.random.SeedSequence(seed, spawn_key=(year,)), HOURS).run()
        out.append([_time_up(r.times[1:], r.values[1:]) for r in trace.racks_up])
    return np.array(out)


BUSWAYS_ONLY = dict(RELIABLE, **{"bus-f": (300.0, 60.0)})


def test_each_hall_is_up_its_exact_share_of_the_time():
    # only the busways fail (MTBF 300 h, MTTR 60 h, one unit each; everything else MTBF 1e9 h):
    # hall-1 hangs on bus-a alone: A = 300/360 = 0.833333; hall-2 on bus-a or bus-b: 1 - (1/6)^2 = 35/36 = 0.972222
    spec = flaky(BUSWAYS_ONLY)
    exact = [g.availability for g in availability(spec).groups]
    assert exact == pytest.approx([300 / 360, 35 / 36], rel=1e-7)  # the other units' 1e-9 unavailability
    mean, se = _mean_and_se(_hall_years(spec, SimOptions(system_failures=False), seed=4))
    for m, s, a in zip(mean, se, exact, strict=True):
        assert 0 < s < 0.01
        assert abs(m - a) <= Z * s, (m, a, s)


def test_every_group_failing_the_halls_match_reliability_exactly():
    # every group of the small facility fails (utility, UPS, busways, chillers, CRAHs, transformer, generators
    # that always start): twin.reliability's exact figure per hall, conditioning on the shared groups
    spec = flaky(FLAKY)
    exact = [g.availability for g in availability(spec).groups]
    mean, se = _mean_and_se(_hall_years(spec, SimOptions(system_failures=False), seed=8))
    for m, s, a in zip(mean, se, exact, strict=True):
        assert abs(m - a) <= Z * s, (m, a, s)


def test_the_numpy_draws_match_the_event_by_event_model():
    # the SimPy model (kept for finite crews) with a crew for every unit is the ample-crew model: the two
    # estimates of each hall's availability are independent, so their difference is within Z of its standard error
    spec = flaky(FLAKY)
    drawn = _mean_and_se(_hall_years(spec, SimOptions(system_failures=False), seed=30))
    queued = _mean_and_se(_hall_years(spec, SimOptions(system_failures=False, crews=16), seed=31))  # 16 units in all
    for m1, s1, m2, s2 in zip(*drawn, *queued, strict=True):
        assert abs(m1 - m2) <= Z * np.hypot(s1, s2), (m1, m2)


def test_generators_fail_to_start_binomially_on_each_outage():
    # given the generator units working when the utility fails, the ones failing to start are binomial(w, p):
    # over every outage of a few years the count is p * sum(w) within Z standard errors sqrt(p (1 - p) sum(w))
    p = 0.3
    utility = UnitGroup("utility", 1, 1, 50.0, 4.0, 0.0)
    gen = UnitGroup("gen:g", 5, 4, 1e9, 30.0, p)  # generators fail only to start here
    draw = SimOptions().repair_draws
    working, no_start = 0, 0
    for year in range(4):
        u, c = drawn_changes([utility, gen], draw, HOURS, list(named_streams(year, ["u", "g"]).values()))
        outages = u.times[u.event == FAILED]
        assert set(c.event) <= {FAILED_TO_START, REPAIRED}  # never a failure while running (MTBF 1e9 h)
        before = np.searchsorted(c.times, outages, side="left") - 1  # the generator state just before each outage
        working += int((gen.units - np.where(before >= 0, c.down[np.maximum(before, 0)], 0)).sum())
        no_start += int((c.event == FAILED_TO_START).sum())
        assert np.isin(c.times[c.event == FAILED_TO_START], outages).all()  # only at the instant of an outage
    assert working > 1000
    assert abs(no_start - p * working) <= Z * np.sqrt(p * (1 - p) * working)


def test_same_seed_same_draws_and_another_seed_differs():
    groups = [g for g, _ in GROUPS] + [UnitGroup("gen:g", 3, 2, 300.0, 30.0, 0.2)]
    draw = SimOptions().repair_draws

    def year(seed):
        return drawn_changes(groups, draw, HOURS, list(named_streams(seed, [g.node for g in groups]).values()))

    a, b, other = year(5), year(5), year(6)
    for g, ca, cb, co in zip(groups, a, b, other, strict=True):
        for field in ("times", "event", "down"):
            np.testing.assert_array_equal(getattr(ca, field), getattr(cb, field))
        assert ca.times.size > 10
        assert not np.array_equal(ca.times[:10], co.times[:10])
        assert np.all(np.diff(ca.times) >= 0)
        assert 0 <= ca.down.min() <= ca.down.max() <= g.units


def test_spikes_and_grid_events_arrive_as_poisson_processes():
    # spikes at 400 a year: the count in a year is Poisson(400 * 8000 / 8760 = 365.3) over 8,000 h, so the mean of
    # 12 years is within Z * sqrt(365.3 / 12) = 16.6 of it; grid events start on the next whole hour
    hours, years = 8000.0, 12
    options = SimOptions(spike_rate_per_year=400, grid_event_rate_per_year=50, grid_shed_mw=1.0, grid_event_hours=3)
    expected = 400 * hours / 8760
    starts = []
    for year in range(years):
        rng = named_streams(year, ["spikes", "grid"])
        s = spikes(options, hours, rng["spikes"])
        starts.append(int((s.ended == 0).sum()))
        assert s.times.max() < hours
        assert s.multiplier.min() >= 1.0  # never fewer than zero spikes running
        at, grid = grid_events(options, hours, rng["grid"])
        assert [e.start_h for e in grid] == [int(np.ceil(t)) for t in at]
        assert {(e.hours, e.shed_mw) for e in grid} == {(3, 1.0)}
    assert abs(np.mean(starts) - expected) <= Z * np.sqrt(expected / years)
