"""Running the `aift` CLI from a test: in this process (exit code, or with what it printed), or as a console script would run."""

from __future__ import annotations

import subprocess
import sys


def aift(monkeypatch, *args) -> int:
    """Run the CLI in this process; its exit code as the console script would return it."""
    from optimizer.cli import app
    from optimizer.cli.output import run_guarded

    monkeypatch.setattr(sys, "argv", ["aift", *map(str, args)])
    return run_guarded(app)


def aift_captured(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Run the CLI in this process; (exit code, stdout, stderr)."""
    code = aift(monkeypatch, *args)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def aift_process(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the CLI in a new Python process, as a user's shell would."""
    return subprocess.run([sys.executable, "-m", "optimizer.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout)
