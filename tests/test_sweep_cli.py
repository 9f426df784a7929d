"""`aift runs list|show|compare|export|sensitivity` on a store filled without a cluster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optimizer.jobs import static_job
from optimizer.scenarios import load_sweep
from optimizer.store import RunRecord, Store
from optimizer.sweep import run_scenario
from tests.cli_support import aift
from tests.sweep_support import write_grid

GRID = "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70, 100]\n  deployments[0].racks: [10, 20, 99]\n"


@pytest.fixture
def runs(tmp_path):
    """A runs folder holding one 9-scenario sweep of the static job: 6 ok, 3 with too many racks."""
    sweep = load_sweep(write_grid(tmp_path / "g.yaml", GRID))
    with Store(tmp_path / "runs") as store:
        store.add_sweep(sweep)
        for s in sweep.scenarios:
            outcome = run_scenario(sweep.spec, static_job, s.overrides, s.seed)
            store.record(RunRecord(s.id, sweep.id, s.name, s.overrides, sweep.job, s.seed, outcome))
    return tmp_path / "runs"


def _json(monkeypatch, capsys, *args):
    assert aift(monkeypatch, *args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def _by_name(monkeypatch, capsys, runs) -> dict[str, dict]:
    return {r["scenario"]: r for r in _json(monkeypatch, capsys, "runs", "list", "--runs", runs)["runs"]}


def test_list_counts_ok_and_failed(monkeypatch, capsys, runs):
    listing = _json(monkeypatch, capsys, "runs", "list", "--runs", runs)
    [sweep] = listing["sweeps"]
    assert (sweep["scenarios"], sweep["ok"], sweep["failed"], len(listing["runs"])) == (9, 6, 3, 9)
    assert aift(monkeypatch, "runs", "list", "--runs", runs, "--sweep", sweep["id"][:5]) == 0
    assert "Runs" in capsys.readouterr().out


def test_show_a_run_by_prefix_with_its_series(monkeypatch, capsys, runs):
    ok = _by_name(monkeypatch, capsys, runs)["price_usd_per_mwh=40, racks=10"]
    shown = _json(monkeypatch, capsys, "runs", "show", ok["id"][:7], "--runs", runs)
    assert shown["kpis"]["racks"] == 10
    assert shown["kpis"]["gpus"] == 720
    assert shown["series"]["deployments"]["rows"] == 1
    assert aift(monkeypatch, "runs", "show", ok["id"], "--runs", runs) == 0
    assert "deployments" in capsys.readouterr().out


def test_show_a_failed_run_gives_its_error(monkeypatch, capsys, runs):
    failed = _by_name(monkeypatch, capsys, runs)["price_usd_per_mwh=40, racks=99"]
    assert failed["status"] == "failed"
    assert aift(monkeypatch, "runs", "show", failed["id"], "--runs", runs) == 0
    assert "99 racks are deployed" in " ".join(capsys.readouterr().out.split())  # Rich wraps at the terminal's width


def test_unknown_ids_and_missing_stores_are_bad_input(monkeypatch, capsys, runs, tmp_path):
    assert aift(monkeypatch, "runs", "show", "ffffffff", "--runs", runs) == 2
    assert "no run with id 'ffffffff'" in capsys.readouterr().err
    assert aift(monkeypatch, "runs", "list", "--runs", tmp_path / "empty") == 2
    assert "no results store" in capsys.readouterr().err


def test_compare_gives_differences_from_the_first(monkeypatch, capsys, runs):
    by = _by_name(monkeypatch, capsys, runs)
    ids = [by[f"price_usd_per_mwh={p}, racks={r}"]["id"] for p, r in ((40, 10), (40, 20), (70, 10))]
    cmp = _json(monkeypatch, capsys, "runs", "compare", *ids, "--runs", runs)
    assert cmp["parameters"] == {"site.tariff.price_usd_per_mwh": [40, 40, 70], "deployments[0].racks": [10, 20, 10]}
    assert cmp["kpis"]["racks"]["delta"] == [10.0, 0.0]
    assert aift(monkeypatch, "runs", "compare", *ids, "--runs", runs) == 0
    assert "+100.0%" in capsys.readouterr().out
    assert aift(monkeypatch, "runs", "compare", ids[0], "--runs", runs) == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_a_flat_table(monkeypatch, capsys, runs, tmp_path, fmt):
    target = tmp_path / f"all.{fmt}"
    assert aift(monkeypatch, "runs", "export", "--format", fmt, "--out", target, "--runs", runs) == 0
    frame = pd.read_csv(target) if fmt == "csv" else pd.read_parquet(target)
    assert len(frame) == 9
    assert {"id", "status", "param.deployments[0].racks", "kpi.it_capex_usd"} <= set(frame.columns)
    assert (frame["status"] == "ok").sum() == 6


def test_sensitivity_ranks_what_moves_the_kpi(monkeypatch, capsys, runs):
    sweep_id = _json(monkeypatch, capsys, "runs", "list", "--runs", runs)["sweeps"][0]["id"]
    result = _json(monkeypatch, capsys, "runs", "sensitivity", sweep_id, "--kpi", "it_capex_usd", "--runs", runs)
    assert [s["parameter"] for s in result["swings"]] == ["deployments[0].racks", "site.tariff.price_usd_per_mwh"]
    assert result["swings"][0]["swing"] == pytest.approx(35e6)  # ten more racks of one system each
    assert result["swings"][1]["swing"] == 0
    assert aift(monkeypatch, "runs", "sensitivity", sweep_id, "--kpi", "it_capex_usd", "--runs", runs) == 0
    assert "Sensitivity of it_capex_usd" in capsys.readouterr().out
    assert aift(monkeypatch, "runs", "sensitivity", sweep_id, "--runs", runs) == 2  # the static job has no cost per token
    assert "no KPI 'cost_per_million_tokens_usd'" in capsys.readouterr().err


def test_a_job_that_returns_a_non_number_fails_only_its_own_scenario(tmp_path):
    from optimizer.jobs import JobResult

    sweep = load_sweep(write_grid(tmp_path / "g.yaml", GRID))
    outcome = run_scenario(sweep.spec, lambda spec, seed: JobResult({"cost": "cheap"}), {}, 0)
    assert outcome.status == "failed"
    assert "KPI 'cost': expected a number, got str" in outcome.error
    numpy_kpis = run_scenario(sweep.spec, lambda spec, seed: JobResult({"gpus": np.int64(72), "pue": np.float32(1.2)}), {}, 0)
    assert numpy_kpis.kpis == {"gpus": 72.0, "pue": pytest.approx(1.2)}
