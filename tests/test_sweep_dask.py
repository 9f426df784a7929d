"""Sweeps on Dask: a local cluster of processes on loopback, and a scheduler given by address."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import aift
from tests.sweep_support import assert_every_row_has_its_series, stored_rows, write_grid

pytestmark = pytest.mark.slow

FRAGILE = "job: fragile\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70, 130]\n  deployments[0].racks: [10, 20, 99]\n"


def _sweep(monkeypatch, capsys, *args) -> dict:
    assert aift(monkeypatch, "sweep", *args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_a_local_sweep_records_failures_and_goes_on(tmp_path, monkeypatch, capsys):
    grid, runs = write_grid(tmp_path / "g.yaml", FRAGILE), tmp_path / "runs"
    summary = _sweep(monkeypatch, capsys, grid, "--workers", 2, "--out", runs)
    # 99 racks do not fit the hall (3 bad overrides); the job fails at 130 USD/MWh (2 more)
    assert (summary["ok"], summary["failed"], summary["remaining"], summary["workers"]) == (4, 5, 0, 2)
    errors = [r["error"] for r in stored_rows(runs).values() if r["status"] == "failed"]
    assert sum("99 racks are deployed" in e for e in errors) == 3
    assert sum("RuntimeError: this test job fails above 100 USD/MWh" in e for e in errors) == 2
    assert_every_row_has_its_series(runs)
    again = _sweep(monkeypatch, capsys, grid, "--out", runs)  # nothing left: no cluster is started
    assert (again["skipped"], again["ok"], again["failed"], again["workers"]) == (9, 0, 0, 0)


def test_a_sweep_runs_on_a_scheduler_given_by_address(tmp_path, monkeypatch, capsys):
    from distributed import LocalCluster

    grid, runs = write_grid(tmp_path / "g.yaml", "job: fragile\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70, 130]\n"), tmp_path / "runs"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        first = _sweep(monkeypatch, capsys, grid, "--scheduler", address, "--out", runs)
        assert (first["ok"], first["failed"], first["workers"]) == (2, 1, 1)
        retried = _sweep(monkeypatch, capsys, grid, "--scheduler", address, "--out", runs, "--retry-failed")
        assert (retried["skipped"], retried["ok"], retried["failed"]) == (2, 0, 1)  # only the failure ran again
        assert len(cluster.scheduler.workers) == 1  # the cluster given is used as it is
    assert len(stored_rows(runs)) == 3


def test_workers_are_for_a_local_cluster_only(tmp_path, monkeypatch, capsys):
    grid = write_grid(tmp_path / "g.yaml", FRAGILE)
    assert aift(monkeypatch, "sweep", grid, "--scheduler", "tcp://127.0.0.1:8786", "--workers", 2) == 2
    assert "--workers sizes a local cluster" in capsys.readouterr().err
