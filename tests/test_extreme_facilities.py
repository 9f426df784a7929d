"""Extreme but valid facilities: zero demand, a utility too small for any rack, every failure rate at
its maximum (a bounded event log, streamed replications), and the 5 MB upload limit."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest

from benchmarks.extreme_specs import max_failure_rates
from tests.cli_support import aift
from tests.conftest import ROOT, SMALL
from twin.loader import load_spec
from twin.sim import montecarlo
from twin.sim.event_log import EVENT_COLUMNS, EventLog
from twin.sim.options import SimOptions
from twin.sim.system_failures import system_changes
from twin.sim.year import simulate_year


def test_zero_demand_serves_zero_load(monkeypatch, capsys, tmp_path):
    spec = tmp_path / "idle.yaml"
    spec.write_text(SMALL.read_text().replace("demand: {level: 0.8, profile: diurnal}", "demand: {level: 0, profile: diurnal}"))
    assert aift(monkeypatch, "simulate", spec, "--serving", "--replications", "1", "--requests", "200", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["serving"]
    for row in result["serving"]:
        assert (row["rate_per_s"], row["requests"], row["throughput_tokens_per_s"], row["goodput_tokens_per_s"]) == (0, 0, 0, 0)
        assert row["ttft_s_p50"] is None  # no request, no latency
        assert row["max_rate_meeting_sla_per_s"] > 0  # what the replicas could take is still measured
    assert aift(monkeypatch, "simulate", spec, "--serving", "--replications", "1", "--requests", "200") == 0
    assert "Serving at the peak demand level" in capsys.readouterr().out


def test_a_utility_too_small_for_any_rack_is_an_infeasible_plan_in_words(monkeypatch, capsys, tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text((ROOT / "tests" / "specs" / "plan-small.yaml").read_text().replace("utility_mw: 1.5 MW", "utility_mw: 0.01 MW"))
    assert aift(monkeypatch, "plan", spec) == 3  # was a NaN traceback
    err = capsys.readouterr().err
    assert err.startswith("infeasible: the smallest plan with tokens needs ")
    assert "MW at this site; the interconnect is 0.01 MW" in err


def test_the_event_log_keeps_the_first_events_then_counts():
    log = EventLog(limit=3)
    log.merge([pd.DataFrame({"time_h": [0.0, 1.0, 2.0, 3.0, 4.0], "component": "ups:a", "event": "unit failed",
                             "units_down": 1.0, "racks": 2.0, "gpus": 0.0, "it_mw": 0.0}, columns=EVENT_COLUMNS)])
    log.merge([pd.DataFrame({"time_h": [0.5, 10.0, 11.0], "component": "systems:x", "event": "system failed",
                             "units_down": [1.0, 2.0, 3.0], "racks": 1.0, "gpus": 8.0, "it_mw": 0.01}, columns=EVENT_COLUMNS)])
    frame = log.frame()
    # the first three events in time: ups at 0 and 1, systems at 0.5
    assert frame.iloc[:3][["time_h", "component"]].values.tolist() == [[0.0, "ups:a"], [0.5, "systems:x"], [1.0, "ups:a"]]
    counted = frame.iloc[3:].set_index("component")
    # beyond them: ups at 2, 3, 4 (3 events, 2 racks each) and systems at 10, 11 (2 events)
    assert counted.loc["ups:a", "event"] == "unit failed (x3 more, counted: the log keeps 3 events)"
    assert (counted.loc["ups:a", "time_h"], counted.loc["ups:a", "racks"]) == (2.0, 6.0)
    assert counted.loc["systems:x", "event"].startswith("system failed (x2 more")
    assert counted.loc["systems:x", "gpus"] == 16.0


def test_systems_are_down_mttr_over_mtbf_plus_mttr_of_the_time():
    n, mtbf, mttr, hours = 200, 10.0, 5.0, 2000.0
    c = system_changes(n, mtbf, lambda rng, shape: rng.exponential(mttr, shape), hours, np.random.default_rng(1))
    assert c.down.min() >= 0
    assert c.down.max() <= n
    assert np.all(np.diff(c.times) >= 0)
    span = np.diff(np.append(c.times, hours))
    mean_down = float((c.down * span).sum() / hours) / n
    expected = mttr / (mtbf + mttr)  # alternating renewal: 5 / 15 of the time down
    assert mean_down == pytest.approx(expected, abs=0.02)  # the first ~15 h start all up: a bias under 1 %


def test_a_year_at_the_highest_failure_rates_keeps_a_bounded_log(monkeypatch):
    monkeypatch.setattr("twin.sim.event_log.EVENT_LOG_LIMIT", 500)
    spec = max_failure_rates(load_spec(SMALL))
    year = simulate_year(spec, 0, SimOptions(spike_rate_per_year=8760, grid_event_rate_per_year=8760, grid_shed_mw=1.0))
    counted = year.events[year.events["event"].str.contains("more, counted")]
    assert len(year.events) - len(counted) == 500
    assert len(counted) > 0
    assert all(np.isfinite(v) for v in year.kpis.values())
    assert 0 <= year.kpis["availability"] < 1


def test_replications_are_streamed_and_report_progress(monkeypatch):
    monkeypatch.setattr(montecarlo, "KEPT_SERIES", 2)
    seen = []
    spec = load_spec(SMALL)
    mc = montecarlo.monte_carlo(spec, 0, 3, keep_series=True, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert len(mc.runs) == 3
    assert sorted(mc.hourly["replication"].unique()) == [0, 1]
    assert sorted(mc.events["replication"].unique()) == [0, 1]
    parallel = montecarlo.monte_carlo(spec, 0, 3, workers=2)
    pd.testing.assert_frame_equal(parallel.runs, mc.runs)


def test_uploads_are_limited_to_the_spec_limit_of_5_mb():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"] == {"address": "127.0.0.1", "maxUploadSize": 5}
    assert "--server.maxUploadSize 5" in (ROOT / "Makefile").read_text()
