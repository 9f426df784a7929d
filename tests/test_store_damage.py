"""A damaged, foreign, read-only or partial results store: every `aift runs` command says what is wrong
and how to recover (exit 2), never a traceback, and reading never changes a byte."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import aift
from tests.store_support import fill_store
from tests.sweep_support import stored_rows

REPAIR = "aift runs repair --runs"


@pytest.fixture
def runs(tmp_path) -> Path:
    return fill_store(tmp_path)


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def _ids(runs: Path) -> tuple[list[str], str]:
    rows = stored_rows(runs)
    ok = sorted(i for i, r in rows.items() if r["status"] == "ok")
    return ok, next(iter(rows.values()))["sweep_id"]


def _every_command(runs: Path, ok: list[str], sweep: str, out: Path) -> list[list[str]]:
    return [
        ["runs", "list", "--runs", runs],
        ["runs", "show", ok[0], "--runs", runs],
        ["runs", "compare", ok[0], ok[1], "--runs", runs],
        ["runs", "export", "--format", "csv", "--out", out, "--runs", runs, "--force"],
        ["runs", "sensitivity", sweep, "--kpi", "it_capex_usd", "--runs", runs],
    ]


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database at all\n" * 200)


def _header(path: Path) -> None:
    blob = bytearray(path.read_bytes())
    blob[:16] = b"X" * 16
    path.write_bytes(bytes(blob))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1500])


def _middle(path: Path) -> None:
    blob = bytearray(path.read_bytes())
    page = 4096  # SQLite's default page size: wipe the second page, where the first table's rows start
    blob[page:2 * page] = b"\xff" * page
    path.write_bytes(bytes(blob))


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _version(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=7")
    db.close()


def _foreign(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    db.close()


def _bad_json(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE runs SET kpis = '{not json' WHERE rowid = (SELECT MIN(rowid) FROM runs)")
    db.close()


DAMAGE = {  # how, and the words every reading command must say
    "garbage": (_garbage, "is damaged (file is not a database)"),
    "header": (_header, "is damaged (file is not a database)"),
    "truncated": (_truncate, "is damaged"),
    "middle": (_middle, "is damaged"),
    "directory": (_directory, "is a directory, not a results index"),
    "zero bytes": (_zero, "is empty (0 bytes), not a results index"),
    "other version": (_version, "is a results index of version 7; this aift reads version 1"),
    "foreign tables": (_foreign, "does not hold the tables of a version-1 results index"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_index_is_named_with_how_to_recover(monkeypatch, capsys, runs, tmp_path, case):
    ok, sweep = _ids(runs)
    damage, words = DAMAGE[case]
    damage(runs / "index.sqlite")
    before = _snapshot(runs)
    for args in _every_command(runs, ok, sweep, tmp_path / "out.csv"):
        assert aift(monkeypatch, *args) == 2, args
        err = capsys.readouterr().err
        assert words in err, (args, err)
        assert f"{REPAIR} {runs}" in err.replace("\n", " ")
        assert "Traceback" not in err
    assert _snapshot(runs) == before


def test_a_row_of_bad_json_names_its_run(monkeypatch, capsys, runs):
    ok, _ = _ids(runs)
    _bad_json(runs / "index.sqlite")
    assert aift(monkeypatch, "runs", "list", "--runs", runs) == 2
    assert "its kpis is not JSON" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["garbage", "middle", "directory", "zero bytes", "other version"])
def test_repair_rebuilds_the_index_from_the_series_files_and_keeps_the_damaged_one(monkeypatch, capsys, runs, case):
    ok, sweep = _ids(runs)
    damage, _ = DAMAGE[case]
    damage(runs / "index.sqlite")
    damaged = _snapshot(runs).get(runs / "index.sqlite")
    assert aift(monkeypatch, "runs", "repair", "--runs", runs) == 0
    out = capsys.readouterr().out
    assert "rebuilt" in out
    [kept] = [p for p in runs.iterdir() if p.name.startswith("index.sqlite.damaged-") and not p.name.endswith(("-wal", "-shm"))]
    assert f"kept as {kept}" in out
    if damaged is not None:
        assert kept.read_bytes() == damaged
    listing = json.loads(_run_json(monkeypatch, capsys, "runs", "list", "--runs", runs))
    # the 4 ok runs each had a series file: all come back, with their KPIs (10 or 20 racks)
    assert sorted(r["id"] for r in listing["runs"] if r["status"] == "ok") == ok
    assert sorted(r["kpis"]["racks"] for r in listing["runs"] if r["status"] == "ok") == [10, 10, 20, 20]
    assert [s["id"] for s in listing["sweeps"]] == [sweep]
    assert aift(monkeypatch, "runs", "repair", "--runs", runs) == 0
    assert "is sound; nothing to repair" in capsys.readouterr().out


def test_repair_keeps_every_row_that_still_reads(monkeypatch, capsys, runs):
    rows = stored_rows(runs)
    _bad_json(runs / "index.sqlite")
    assert aift(monkeypatch, "runs", "repair", "--runs", runs) == 0
    assert "from the old index" in capsys.readouterr().out
    after = stored_rows(runs)
    # the failed runs had no series file: they survive only because their rows still read
    assert {i for i, r in after.items() if r["status"] == "failed"} == {i for i, r in rows.items() if r["status"] == "failed"}
    assert set(after) == set(rows)


def _run_json(monkeypatch, capsys, *args) -> str:
    assert aift(monkeypatch, *args, "--json") == 0
    return capsys.readouterr().out


def test_a_run_whose_series_is_gone_still_shows_its_kpis(monkeypatch, capsys, runs):
    ok, _ = _ids(runs)
    (runs / "series" / f"{ok[0]}.parquet").unlink()
    assert aift(monkeypatch, "runs", "show", ok[0], "--runs", runs) == 0
    out = capsys.readouterr().out
    assert "it_capex_usd" in out
    assert "are gone" in out
    shown = json.loads(_run_json(monkeypatch, capsys, "runs", "show", ok[0], "--runs", runs))
    assert shown["kpis"]["gpus"] in (720, 1440)  # 10 or 20 racks of one 72-GPU system each
    assert "are gone" in shown["series_error"]


def test_a_damaged_series_file_is_named_not_raised(monkeypatch, capsys, runs):
    ok, _ = _ids(runs)
    _truncate(runs / "series" / f"{ok[0]}.parquet")
    assert aift(monkeypatch, "runs", "show", ok[0], "--runs", runs) == 0
    assert "cannot be read" in capsys.readouterr().out


def test_a_series_path_leading_out_of_the_store_is_not_followed(monkeypatch, capsys, runs, tmp_path):
    ok, _ = _ids(runs)
    secret = tmp_path / "secret.parquet"
    shutil.copy(runs / "series" / f"{ok[0]}.parquet", secret)
    with sqlite3.connect(runs / "index.sqlite") as db:
        db.execute("UPDATE runs SET series_file = ? WHERE id = ?", ("../secret.parquet", ok[0]))
        db.execute("UPDATE runs SET series_file = ? WHERE id = ?", ("../../../../etc/passwd", ok[1]))
    db.close()
    for run_id in ok[:2]:
        shown = json.loads(_run_json(monkeypatch, capsys, "runs", "show", run_id, "--runs", runs))
        assert shown["series"] == {}
        assert "outside" in shown["series_error"]


@pytest.fixture
def read_only_copy(runs, tmp_path):
    """The store copied onto a tmpfs mounted read-only (skipped where mounting is not allowed)."""
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        shutil.copytree(runs, mnt / "runs")
        assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True).returncode == 0
        yield mnt / "runs"
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_read_only_store_reads_and_refuses_writes_in_words(monkeypatch, capsys, runs, read_only_copy, tmp_path):
    ok, sweep = _ids(runs)
    runs = read_only_copy
    for args in _every_command(runs, ok, sweep, tmp_path / "out.csv"):
        assert aift(monkeypatch, *args) == 0, (args, capsys.readouterr().err)
    capsys.readouterr()
    grid = tmp_path / "g2.yaml"
    grid.write_text((tmp_path / "g.yaml").read_text().replace("[40, 70]", "[40, 55]"))
    assert aift(monkeypatch, "sweep", grid, "--out", runs, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"cannot write the results store {runs}" in err
    assert "read-only" in err
