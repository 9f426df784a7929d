"""`aift sweep` against bad outputs, bad samples, huge grids, paths that lead nowhere, a full disk,
lost series files and addresses that are no Dask scheduler: exit 2 with the words, before anything
is created, and nothing stored before the fault is lost."""

from __future__ import annotations

import errno
import json
import socket
import socketserver
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from optimizer import store as store_module
from optimizer.scenarios import load_sweep
from tests.cli_support import aift
from tests.sweep_support import assert_every_row_has_its_series, stored_rows, write_grid

GRID = "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70]\n  deployments[0].racks: [10, 20]\n"


def _line(grid: Path, text: str) -> int:
    return next(i + 1 for i, line in enumerate(grid.read_text().splitlines()) if text in line)


@pytest.mark.parametrize("target", ["file", "/dev/null", "/proc/self", "under a file"])
def test_out_that_is_not_a_runs_folder_is_refused_before_anything(monkeypatch, capsys, tmp_path, target):
    grid = write_grid(tmp_path / "g.yaml", GRID)
    mine = tmp_path / "notes.txt"
    mine.write_text("mine\n")
    out = {"file": mine, "under a file": mine / "runs"}.get(target, Path(target))
    assert aift(monkeypatch, "sweep", grid, "--out", out, "--workers", "1") == 2
    err = capsys.readouterr().err
    words = {"file": "is not a folder", "/dev/null": "is not a folder", "/proc/self": "holds other files and no results index",
             "under a file": "notes.txt is not a folder"}[target]
    assert words in err
    assert mine.read_text() == "mine\n"


def _refused_at_line(monkeypatch, capsys, grid, needle: str, words: str) -> None:
    """The sweep exits 2 with `words` at the grid line holding `needle`, and creates no runs folder."""
    runs = grid.parent / "runs"
    assert aift(monkeypatch, "sweep", grid, "--out", runs) == 2
    err = capsys.readouterr().err
    assert f"{grid}:{_line(grid, needle)}:" in err
    assert words in err
    assert not runs.exists()


SAMPLES = {  # parameter line -> the words
    "site.tariff.price_usd_per_mwh: [.nan, 100]": "both ends must be finite numbers",
    "site.tariff.price_usd_per_mwh: [40, .inf]": "both ends must be finite numbers",
    "site.tariff.price_usd_per_mwh: [100, 40]": "low is above high",
    "site.tariff.price_usd_per_mwh: [-1.0e308, 1.0e308]": "too wide to draw from",
    "deployments[0].racks: [1, 1000000000000000000000000000000]": "integer ends must be within ±2^53",
}


@pytest.mark.parametrize("parameter", list(SAMPLES))
def test_a_sample_range_that_cannot_be_drawn_is_refused_at_its_line(monkeypatch, capsys, tmp_path, parameter):
    grid = write_grid(tmp_path / "g.yaml", f"job: static\nsample:\n  n: 3\n  parameters:\n    {parameter}\n")
    _refused_at_line(monkeypatch, capsys, grid, parameter, SAMPLES[parameter])


@pytest.mark.parametrize("where", ["seed: {}\n", "sample:\n  seed: {}\n"])
def test_a_seed_of_2_to_the_63_is_refused_at_its_line(monkeypatch, capsys, tmp_path, where):
    seed = 2**63  # one above the largest SQLite integer, 2^63 - 1
    body = "job: static\n" + where.format(seed) + ("  n: 2\n  parameters: {'deployments[0].racks': [10, 20]}\n" if "sample" in where
                                                   else "grid:\n  deployments[0].racks: [10, 20]\n")
    grid = write_grid(tmp_path / "g.yaml", body)
    _refused_at_line(monkeypatch, capsys, grid, str(seed), "less than or equal to 9223372036854775807")


def test_a_grid_of_10_to_the_12_is_counted_and_refused_with_an_estimate(monkeypatch, capsys, tmp_path):
    lines = "".join(f"  site.tariff.demand_charge_usd_per_kw_month: {list(range(10))}\n".replace("demand_charge", f"x{i}") for i in range(12))
    grid = write_grid(tmp_path / "g.yaml", "job: static\ngrid:\n" + lines)
    t0 = time.perf_counter()
    assert aift(monkeypatch, "sweep", grid, "--out", tmp_path / "runs") == 2
    assert time.perf_counter() - t0 < 60  # counted, never listed (listing 10^12 would not end)
    err = capsys.readouterr().err
    assert f"{10**12:,} scenarios (about " in err  # 12 lists of 10 values
    assert "of CPU time and" in err
    assert "the limit is 10,000: pass --max-scenarios 1000000000000" in err
    assert not (tmp_path / "runs").exists()


def test_max_scenarios_sets_the_limit(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", GRID)  # 2 x 2 = 4 scenarios
    with pytest.raises(Exception, match="4 scenarios"):
        load_sweep(grid, max_scenarios=3)
    assert len(load_sweep(grid, max_scenarios=4).scenarios) == 4


PATHS = {
    "site.tarif.price_usd_per_mwh: [40, 70]": "unknown field 'tarif' (did you mean 'tariff'?)",
    "halls[5].positions: [10, 20]": "index 5 is out of range",
    "deployments[nope].racks: [10]": "no item with id 'nope'",
}


@pytest.mark.parametrize("line", list(PATHS))
def test_an_override_path_that_leads_nowhere_is_refused_before_the_sweep(monkeypatch, capsys, tmp_path, line):
    grid = write_grid(tmp_path / "g.yaml", f"job: static\ngrid:\n  deployments[0].racks: [10, 20]\n  {line}\n")
    _refused_at_line(monkeypatch, capsys, grid, line, PATHS[line])


def test_a_value_the_spec_rejects_is_a_failed_scenario_not_a_bad_path(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", "job: static\ngrid:\n  deployments[0].racks: [10, 999]\n")
    assert len(load_sweep(grid).scenarios) == 2


def test_a_zero_byte_index_is_an_error_not_an_empty_store(monkeypatch, capsys, tmp_path):
    grid = write_grid(tmp_path / "g.yaml", GRID)
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "index.sqlite").write_bytes(b"")
    assert aift(monkeypatch, "sweep", grid, "--out", runs, "--workers", "1") == 2
    assert "is empty (0 bytes), not a results index" in capsys.readouterr().err
    assert (runs / "index.sqlite").read_bytes() == b""


@pytest.mark.slow
def test_a_full_disk_keeps_every_stored_run_and_a_resume_finishes_and_regenerates_lost_series(monkeypatch, capsys, tmp_path):
    grid = write_grid(tmp_path / "g.yaml", GRID)
    runs = tmp_path / "runs"
    real_write, calls = store_module._write_durably, []

    def fills_up(path, data):
        calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(store_module, "_write_durably", fills_up)
    assert aift(monkeypatch, "sweep", grid, "--out", runs, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert "is full: every run stored before is intact" in err
    assert "run the same command again to resume" in err
    before = stored_rows(runs)
    assert len(before) == 2
    assert_every_row_has_its_series(runs)

    monkeypatch.setattr(store_module, "_write_durably", real_write)
    assert aift(monkeypatch, "sweep", grid, "--out", runs, "--workers", "1", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["skipped"], summary["ok"]) == (2, 2)
    after = stored_rows(runs)
    assert {i: r["time"] for i, r in after.items() if i in before} == {i: r["time"] for i, r in before.items()}

    lost = sorted(after)[0]
    (runs / "series" / f"{lost}.parquet").unlink()
    assert aift(monkeypatch, "sweep", grid, "--out", runs, "--workers", "1", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["skipped"], summary["ok"]) == (3, 1)
    assert (runs / "series" / f"{lost}.parquet").is_file()
    assert_every_row_has_its_series(runs)


class _Greeter(socketserver.BaseRequestHandler):
    greeting = b""

    def handle(self):
        if self.greeting:
            self.request.sendall(self.greeting)
        time.sleep(3)


@contextmanager
def _server(greeting: bytes):
    handler = type("Handler", (_Greeter,), {"greeting": greeting})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _silent():
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"tcp://127.0.0.1:{s.getsockname()[1]}"


@contextmanager
def _closed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"tcp://127.0.0.1:{port}"


PEERS = {  # what listens, and the words
    "http server": (lambda: _server(b"HTTP/1.1 400 Bad Request\r\n\r\n"), "answered, but not as a Dask scheduler"),
    "silent port": (_silent, "did not greet as a Dask scheduler within 1 s"),
    "closed port": (_closed, "cannot reach the Dask scheduler at"),
}


# A real scheduler passes the probe: tests/test_sweep_dask.py sweeps on one given by address.
@pytest.mark.parametrize("peer", list(PEERS))
def test_a_scheduler_address_that_is_no_dask_scheduler_is_refused_before_anything(monkeypatch, capsys, tmp_path, peer):
    monkeypatch.setattr("optimizer.sweep.GREETING_TIMEOUT_S", 1.0)
    grid = write_grid(tmp_path / "g.yaml", GRID)
    listen, words = PEERS[peer]
    with listen() as address:
        t0 = time.perf_counter()
        assert aift(monkeypatch, "sweep", grid, "--out", tmp_path / "runs", "--scheduler", address) == 2
        assert time.perf_counter() - t0 < 30
    err = capsys.readouterr().err
    assert words in err
    assert address in err
    assert not (tmp_path / "runs").exists()


def test_a_runs_folder_that_lost_its_index_points_to_repair(monkeypatch, capsys, tmp_path):
    from tests.store_support import fill_store

    runs = fill_store(tmp_path)
    (runs / "index.sqlite").unlink()
    grid = write_grid(tmp_path / "g2.yaml", GRID)
    assert aift(monkeypatch, "sweep", grid, "--out", runs) == 2
    assert f"holds series files but no results index; `aift runs repair --runs {runs}` rebuilds it" in capsys.readouterr().err
    assert aift(monkeypatch, "runs", "repair", "--runs", runs) == 0
    assert len(stored_rows(runs)) == 4  # the four ok runs of the store's sweep, from their series files
