"""The results store: round trips, resume bookkeeping, and no row without its Parquet file."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from optimizer.jobs import JobResult
from optimizer.scenarios import load_sweep
from optimizer.store import Outcome, RunRecord, Store, StoreError, UnknownId
from tests.conftest import ROOT
from tests.sweep_support import assert_every_row_has_its_series, stored_rows, write_grid


def _record(run_id: str, result: JobResult | None, **kw) -> RunRecord:
    outcome = Outcome.of(result, "abc", 0.1) if result else Outcome.failure("boom")
    fields = dict(sweep_id="s1", scenario=f"scenario {run_id}", parameters={"site.tariff.price_usd_per_mwh": 50}, job="static", seed=0)
    return RunRecord(id=run_id, outcome=outcome, **(fields | kw))


def _series() -> dict[str, pd.DataFrame]:
    hourly = pd.DataFrame({"it_kw": [1.5, 2.5, 3.5], "state": ["up", "up", "down"]}, index=pd.Index([0, 1, 2], name="hour"))
    events = pd.DataFrame({"t": pd.to_datetime(["2026-01-01", "2026-03-01"], utc=True), "count": [3, 4]})
    return {"hourly": hourly, "events": events}


def test_a_run_and_its_series_round_trip(tmp_path):
    with Store(tmp_path) as store:
        store.record(_record("r1", JobResult({"cost": 1.25, "never": math.inf}, _series(), plan_yaml="name: x\n")))
        run = store.run("r1")
        series = store.series(run)
    assert run["status"] == "ok"
    assert run["error"] is None
    assert run["kpis"] == {"cost": 1.25, "never": None}  # not finite -> null: the JSON stays standard
    assert run["plan_yaml"] == "name: x\n"
    pd.testing.assert_frame_equal(series["hourly"], _series()["hourly"].reset_index())
    pd.testing.assert_frame_equal(series["events"], _series()["events"])


def test_a_failed_run_has_its_error_and_no_file(tmp_path):
    with Store(tmp_path) as store:
        store.record(_record("r1", None))
        run = store.run("r1")
    assert (run["status"], run["error"], run["series_file"], run["kpis"]) == ("failed", "boom", None, {})


def test_finished_skips_failures_only_when_asked(tmp_path):
    with Store(tmp_path) as store:
        store.record(_record("ok1", JobResult({"x": 1})))
        store.record(_record("bad", None))
        assert store.finished(["ok1", "bad", "new"]) == {"ok1", "bad"}
        assert store.finished(["ok1", "bad", "new"], include_failed=False) == {"ok1"}
        store.record(_record("bad", JobResult({"x": 2})))  # a retried failure replaces its row
        assert store.run("bad")["status"] == "ok"


def test_ids_resolve_by_unique_prefix(tmp_path):
    with Store(tmp_path) as store:
        for rid in ("abc1", "abc2", "def1"):
            store.record(_record(rid, JobResult({"x": 1})))
        assert store.run("de")["id"] == "def1"
        with pytest.raises(UnknownId, match="several"):
            store.run("abc")
        with pytest.raises(UnknownId, match="no run"):
            store.run("zzz")


def test_a_file_that_fails_to_land_leaves_no_row_and_no_litter(tmp_path, monkeypatch):
    def refuse(*_):
        raise OSError("disk full")

    with Store(tmp_path) as store:
        monkeypatch.setattr("optimizer.store.os.replace", refuse)
        with pytest.raises(StoreError, match="disk full"):
            store.record(_record("r1", JobResult({"x": 1}, _series())))
        monkeypatch.undo()
        assert store.finished(["r1"]) == set()
    assert list((tmp_path / "series").iterdir()) == []


def test_a_failure_after_the_file_lands_leaves_no_row(tmp_path):
    with Store(tmp_path) as store:
        with pytest.raises(TypeError):  # parameters that JSON cannot hold fail after the file is written
            store.record(_record("r1", JobResult({"x": 1}, _series()), parameters={"p": object()}))
        assert store.finished(["r1"]) == set()
        store.record(_record("r1", JobResult({"x": 1}, _series())))  # the re-run simply replaces the stray file
        assert store.finished(["r1"]) == {"r1"}
    assert_every_row_has_its_series(tmp_path)


WRITER = """
import sys, pandas as pd
from optimizer.jobs import JobResult
from optimizer.store import Outcome, RunRecord, Store
store = Store(sys.argv[1])
frame = pd.DataFrame({"h": range(20000), "v": [0.5] * 20000})
for i in range(100000):
    store.record(RunRecord(f"run-{i}", "s", "x", {}, "static", 0, Outcome.of(JobResult({"i": i}, {"hourly": frame}), "h", 0.0)))
    print(i, flush=True)
"""


def test_a_writer_killed_at_any_moment_leaves_only_whole_runs(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for _ in range(5):  # let it store a few runs, then kill it mid-stride
        proc.stdout.readline()
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(stored_rows(tmp_path)) >= 5
    assert_every_row_has_its_series(tmp_path)


def test_a_sweep_lists_its_scenarios_and_fills_base_values_in_the_flat_table(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 60]\n  site.climate.preset: [cold]\n")
    sweep = load_sweep(grid)
    with Store(tmp_path / "runs") as store:
        store.add_sweep(sweep)
        store.add_sweep(sweep)  # resuming registers it again, harmlessly
        s = sweep.scenarios[0]
        store.record(_record(s.id, JobResult({"cost": 2.0}), sweep_id=sweep.id, parameters={"site.tariff.price_usd_per_mwh": 40}))
        [info] = store.sweeps(sweep.id[:6])
        frame = store.frame(sweep.id)
    assert (info["scenarios"], info["stored"], info["ok"], info["failed"]) == (2, 1, 1, 0)
    assert info["base_values"] == {"site.tariff.price_usd_per_mwh": 80.0, "site.climate.preset": "temperate"}
    row = frame.iloc[0]
    assert row["param.site.tariff.price_usd_per_mwh"] == 40  # overridden
    assert row["param.site.climate.preset"] == "temperate"  # not overridden by this run: the base value
    assert row["kpi.cost"] == 2.0
