"""The simulated year: evaluate where they overlap, determinism, closed forms, blast radius, events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SMALL
from tests.sim_support import FLAKY, RELIABLE, flaky
from twin.deployments import deployment_systems
from twin.evaluate import account_year, evaluate
from twin.loader import load_spec
from twin.reliability import availability
from twin.sim.montecarlo import monte_carlo
from twin.sim.options import GridEvent, SimOptions
from twin.sim.year import prepare, simulate_year

NO_FAILURES = SimOptions(facility_failures=False, system_failures=False)
FACILITY_ONLY = SimOptions(system_failures=False)
Z = 3.0  # standard errors a seeded Monte Carlo mean may stray from its closed form


@pytest.fixture(scope="module")
def small():
    return load_spec(SMALL)


@pytest.fixture(scope="module")
def small_setup(small):
    return prepare(small)


def _all_systems_up(spec, su, busy_cap: float):
    """evaluate's accounting of a year in which every system stays powered, busy up to `busy_cap` of demand."""
    busy = np.minimum(su.demand, busy_cap)[None, :] * np.ones((len(su.streams), 1))
    return account_year(spec, su.streams, su.weather, su.demand, busy, 1.0, np.ones((len(spec.deployments), 1)))


def test_without_failures_the_year_is_evaluates(small, small_setup):
    analytic = _all_systems_up(small, small_setup, 1.0).kpis
    sim = simulate_year(small, 0, NO_FAILURES, small_setup).kpis
    assert set(analytic) <= set(sim)
    for key, value in analytic.items():
        assert sim[key] == pytest.approx(value, rel=1e-12, abs=1e-9), key
    assert sim["availability"] == 1.0


def test_failed_systems_draw_nothing(small, small_setup):
    """evaluate counts the static unavailability's share of systems as down, drawing not even idle power."""
    (dep,) = small.deployments
    a = availability(small).groups[0].availability
    assert a < 1.0
    idle_not_drawn_kw = (1.0 - a) * deployment_systems(small, dep) * small.cat.systems[dep.system].idle_kw
    drawn = evaluate(small).hourly["it_kw"].to_numpy()
    all_up = _all_systems_up(small, small_setup, a).hourly["it_kw"].to_numpy()
    np.testing.assert_allclose(all_up - drawn, idle_not_drawn_kw, rtol=1e-9)


def test_same_seed_same_year(small, small_setup):
    options = SimOptions(spike_rate_per_year=10, grid_event_rate_per_year=4, grid_shed_mw=0.2)
    a, b = (simulate_year(small, 7, options, small_setup) for _ in range(2))
    assert a.kpis == b.kpis
    pd.testing.assert_frame_equal(a.hourly, b.hourly)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not simulate_year(small, 8, options, small_setup).events.equals(a.events)


def test_tokens_are_conserved(small, small_setup):
    options = SimOptions(spike_rate_per_year=40, spike_magnitude=2.0, grid_events=(GridEvent(100, 6, 0.3),))
    k = simulate_year(small, 3, options, small_setup).kpis
    wanted = k["demand_output_tokens_per_s"] * 8760 * 3600
    parts = ("output_tokens_per_year", "tokens_lost_to_failures", "tokens_lost_beyond_capacity", "tokens_lost_to_cap", "tokens_lost_to_shedding")
    assert sum(k[p] for p in parts) == pytest.approx(wanted, rel=1e-9)
    assert k["tokens_lost_beyond_capacity"] > 0
    assert k["tokens_lost_to_shedding"] > 0


@pytest.mark.parametrize("repair", ["exponential", "lognormal"])
def test_mean_availability_agrees_with_the_static_model(repair):
    # ample crews: units are independent alternating renewals, so the static k-of-n figure is exact
    # for any repair distribution of the same mean (insensitivity)
    spec = flaky()
    mc = monte_carlo(spec, seed=11, replications=24, options=SimOptions(system_failures=False, repair=repair))
    static = availability(spec).facility
    assert static < 0.9  # low enough to measure in a few years
    assert abs(mc.kpis["availability"] - static) <= Z * mc.bands["availability"]["std_error"]


def _machine_repair_up(n: int, needed: int, crews: int, mtbf: float, mttr: float) -> float:
    """P(at least `needed` of `n` units work) with `crews` repairers: the finite-source (machine-repair) queue."""
    weights = [1.0]
    for j in range(n):
        weights.append(weights[-1] * (n - j) / mtbf / (min(j + 1, crews) / mttr))
    return sum(weights[: n - needed + 1]) / sum(weights)


@pytest.mark.parametrize("crews", [1, 2])
def test_repair_crews_follow_the_machine_repair_queue(crews):
    mtbf, mttr = 200.0, 40.0
    spec = flaky(dict(RELIABLE, **{"ups-f": (mtbf, mttr)}), ups_units=6)
    mc = monte_carlo(spec, seed=5, replications=16, options=SimOptions(system_failures=False, crews=crews))
    expected = _machine_repair_up(6, 5, crews, mtbf, mttr)
    assert abs(mc.kpis["availability"] - expected) <= Z * mc.bands["availability"]["std_error"]
    ample = _machine_repair_up(6, 5, 6, mtbf, mttr)  # six crews for six units: the static binomial
    assert expected < ample == pytest.approx(availability(spec).facility, rel=1e-8)  # other units: MTBF 1e9 h


def test_single_system_failures_take_mttr_over_mtbf_plus_mttr(small, small_setup):
    system = small.cat.systems["gb300-nvl72"]
    mc = monte_carlo(small, seed=2, replications=8, options=SimOptions(facility_failures=False), setup=small_setup)
    expected = system.mtbf_h / (system.mtbf_h + system.mttr_h)
    assert abs(mc.kpis["capacity_online"] - expected) <= Z * mc.bands["capacity_online"]["std_error"]
    assert mc.kpis["availability"] == 1.0  # systems down do not count against power and cooling


def test_blast_radius_follows_the_feeds():
    # only the busways fail: bus-a alone cuts hall-1 (single path, 4 racks); hall-2 (A/B) goes only with both
    spec = flaky(dict(RELIABLE, **{"bus-f": (300.0, 60.0)}))
    events = simulate_year(spec, 4, FACILITY_ONLY).events
    failures = events[events.event == "unit failed"]
    a, b = failures[failures.component == "dist:bus-a"], failures[failures.component == "dist:bus-b"]
    assert min(len(a), len(b)) > 5
    assert set(a.racks) <= {4.0, 10.0}
    assert set(b.racks) <= {0.0, 6.0}
    assert 10.0 in set(a.racks) or 6.0 in set(b.racks)  # some overlap in a year at these rates
    hall_1 = spec.deployments[0]
    assert set(a[a.racks == 4.0].gpus) == {deployment_systems(spec, hall_1) * spec.cat.systems[hall_1.system].gpus_per_system}


def test_generators_that_fail_to_start_leave_the_site_dark():
    spec = flaky(dict(RELIABLE, utility=FLAKY["utility"]), fail_to_start=1.0)
    events = simulate_year(spec, 1, FACILITY_ONLY).events
    outages = events[(events.component == "utility") & (events.event == "unit failed")]
    no_start = events[events.event == "failed to start"]
    assert len(outages) > 5
    assert no_start.groupby("time_h").size().to_dict() == {t: 3 for t in outages.time_h}  # every unit, every time
    # the second unit down takes the N+1 generator group, and the site, with it
    assert (no_start.groupby("time_h").racks.sum() == 10.0).all()
    assert (outages.racks == 0.0).all()


def test_shedding_meets_the_request_and_lowest_value_first_gives_up_fewer_tokens(small, small_setup):
    hours = [2000, 2001, 2002]
    base = simulate_year(small, 0, NO_FAILURES, small_setup)
    request_mw = 0.3
    runs = {}
    for policy in ("proportional", "lowest-value-first"):
        o = SimOptions(facility_failures=False, system_failures=False, grid_events=(GridEvent(hours[0], 3, request_mw),), shed_policy=policy)
        runs[policy] = simulate_year(small, 0, o, small_setup)
        shed_kw = base.hourly.facility_kw.to_numpy() - runs[policy].hourly.facility_kw.to_numpy()
        assert shed_kw[hours] == pytest.approx(request_mw * 1000.0, abs=0.01)
        assert np.delete(shed_kw, hours) == pytest.approx(0.0, abs=1e-9)
    lost = {p: r.kpis["tokens_lost_to_shedding"] for p, r in runs.items()}
    assert 0 < lost["lowest-value-first"] < lost["proportional"]


def test_a_request_beyond_the_idle_floor_idles_every_gpu(small, small_setup):
    o = SimOptions(facility_failures=False, system_failures=False, grid_events=(GridEvent(10, 2, 100.0),))
    h = simulate_year(small, 0, o, small_setup).hourly
    assert (h.served_output_tokens_per_s[10:12] == 0).all()
    assert (h.served_output_tokens_per_s[12:14] > 0).all()


def test_spikes_raise_demand_by_their_magnitude(small, small_setup):
    o = SimOptions(facility_failures=False, system_failures=False, spike_rate_per_year=30, spike_magnitude=1.5, spike_mean_h=5)
    y = simulate_year(small, 9, o, small_setup)
    m = y.hourly.demand_multiplier.to_numpy()
    started = (y.events.event == "demand spike started").sum()
    assert started > 10
    assert m.min() == 1.0
    assert m.max() > 1.4
    assert math.isclose((m - 1.0).sum(), 0.5 * _spike_hours(y.events), rel_tol=1e-9)


def _spike_hours(events: pd.DataFrame) -> float:
    """Spike-hours inside the year from the log (a spike still running at the end stops there)."""
    starts = events[events.event == "demand spike started"].time_h.to_numpy()
    ends = events[events.event == "demand spike ended"].time_h.to_numpy()
    return float(np.append(ends, [8760.0] * (starts.size - ends.size)).sum() - starts.sum())


def test_a_replication_does_not_depend_on_the_workers_or_the_count(small, small_setup):
    one = monte_carlo(small, seed=3, replications=4, setup=small_setup)
    assert one.runs["capacity_online"].nunique() == 4  # the replications differ
    pd.testing.assert_frame_equal(one.runs, monte_carlo(small, seed=3, replications=4, workers=2).runs)
    pd.testing.assert_frame_equal(one.runs.iloc[:2], monte_carlo(small, seed=3, replications=2, setup=small_setup).runs)
