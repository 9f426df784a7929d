"""`aift runs export --out` follows the rule of every output: never an input, never an existing
file without --force, never a file of the results store."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.jobs import static_job
from optimizer.scenarios import load_sweep
from optimizer.store import RunRecord, Store
from optimizer.sweep import run_scenario
from tests.cli_support import aift
from tests.sweep_support import stored_rows, write_grid


@pytest.fixture
def runs(tmp_path):
    """A runs folder with one sweep of two ok runs of the static job."""
    sweep = load_sweep(write_grid(tmp_path / "g.yaml", "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70]\n"))
    with Store(tmp_path / "runs") as store:
        store.add_sweep(sweep)
        for s in sweep.scenarios:
            store.record(RunRecord(s.id, sweep.id, s.name, s.overrides, sweep.job, s.seed, run_scenario(sweep.spec, static_job, s.overrides, s.seed)))
    return tmp_path / "runs"


def _snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_never_writes_over_the_store_index(monkeypatch, capsys, runs):
    before = _snapshot(runs)
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--out", runs / "index.sqlite", "--runs", runs, "--force") == 2
    assert "inside the runs folder" in capsys.readouterr().err
    assert _snapshot(runs) == before
    assert len(stored_rows(runs)) == 2


def test_export_never_writes_a_new_file_into_the_store(monkeypatch, capsys, runs):
    before = _snapshot(runs)
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--out", runs / "series" / "x.csv", "--runs", runs) == 2
    assert "inside the runs folder" in capsys.readouterr().err
    assert _snapshot(runs) == before


def test_export_refuses_an_existing_file_without_force(monkeypatch, capsys, runs, tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text("name: precious\n")
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--out", spec, "--runs", runs) == 2
    assert "exists; pass --force to overwrite it" in capsys.readouterr().err
    assert spec.read_text() == "name: precious\n"
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--out", spec, "--runs", runs, "--force") == 0
    assert len(pd.read_csv(spec)) == 2


def test_export_refuses_a_directory(monkeypatch, capsys, runs, tmp_path):
    assert aift(monkeypatch, "runs", "export", "--format", "parquet", "--out", tmp_path, "--runs", runs) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err


def test_export_defaults_to_a_file_beside_not_inside_the_store(monkeypatch, capsys, runs, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--runs", "runs") == 0
    assert len(pd.read_csv(tmp_path / "runs-export.csv")) == 2
    assert not (runs / "export.csv").exists()
    assert aift(monkeypatch, "runs", "export", "--format", "csv", "--runs", "runs") == 2
    assert "runs-export.csv exists" in capsys.readouterr().err
