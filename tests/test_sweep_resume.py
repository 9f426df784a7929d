"""A sweep stopped by Ctrl-C, then killed outright, resumes: every scenario once, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from optimizer.scenarios import load_sweep
from tests.conftest import ROOT
from tests.sweep_support import CLI, assert_every_row_has_its_series, stored_rows, write_grid

pytestmark = pytest.mark.slow

GRID = "job: sleepy\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 60, 80]\n  deployments[0].racks: [8, 12, 16, 20]\n"


def _start(grid, runs, *extra) -> subprocess.Popen:
    """`aift sweep` with the test jobs, in a session of its own so that killing it kills its workers too."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "sweep", str(grid), "--out", str(runs), "--workers", "1", *extra],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )


def _wait_for(runs, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while len(stored_rows(runs)) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep stored too little"
        time.sleep(0.05)


def test_an_interrupted_then_killed_sweep_resumes_without_loss_or_repeats(tmp_path):
    grid, runs = write_grid(tmp_path / "g.yaml", GRID), tmp_path / "runs"
    expected = {s.id for s in load_sweep(grid).scenarios}

    proc = _start(grid, runs)
    _wait_for(runs, 3, proc)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: stop submitting, keep what finished
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    after_ctrl_c = stored_rows(runs)
    assert 3 <= len(after_ctrl_c) < len(expected)

    proc = _start(grid, runs)
    _wait_for(runs, len(after_ctrl_c) + 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the client and its workers, at once
    proc.communicate(timeout=30)
    after_kill = stored_rows(runs)
    assert_every_row_has_its_series(runs)
    assert all(after_kill[i] == row for i, row in after_ctrl_c.items())  # nothing stored was lost or redone

    proc = _start(grid, runs, "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    final = stored_rows(runs)
    assert set(final) == expected  # every scenario, each once (the id is the key)
    assert (summary["skipped"], summary["ok"], summary["failed"]) == (len(after_kill), len(expected) - len(after_kill), 0)
    assert all(final[i] == row for i, row in after_kill.items())
    assert_every_row_has_its_series(runs)
