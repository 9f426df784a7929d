"""`aift` start-up: CPU time of a command as a new user runs it, against an empty Python.

Each command runs in a fresh process; the CPU time (user + system) of the child is read from
`resource.getrusage(RUSAGE_CHILDREN)`, the best of several runs, so other load on the machine
counts as little as possible. The goal (issue 17): `--help` and `validate` under 0.3 s of CPU.
Before the commands imported their modules lazily (commit e9bc010, same machine, same method):
`--help` 2.40 s (96x `python -c pass`), `validate` 2.98 s (119x), `evaluate` 3.02 s (121x).
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

TITLE = "CLI start-up: CPU time per command, best of 5, and its ratio to `python -c pass` (goal: --help and validate under 0.3 s)"
ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "facility_specs" / "reference-100mw-gb300.yaml"
RUNS = 5
GOAL_S = {"aift --help": 0.3, "aift validate SPEC": 0.3}
# Measured with this benchmark on e9bc010, before commands imported lazily (a record, not recomputed).
BEFORE_S = {"python -c pass": 0.025, "aift --help": 2.401, "aift validate SPEC": 2.981, "aift evaluate SPEC": 3.023}


def cpu_seconds(argv: list[str]) -> float:
    """Best-of-RUNS CPU time (user + system) of running `argv` to completion."""
    best = float("inf")
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def run() -> list[dict]:
    aift = [sys.executable, "-m", "optimizer.cli"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "aift --help": [*aift, "--help"],
        "aift validate SPEC": [*aift, "validate", str(SPEC)],
        "aift evaluate SPEC": [*aift, "evaluate", str(SPEC)],
    }
    base = cpu_seconds(commands["python -c pass"])
    rows = []
    for name, argv in commands.items():
        cpu = base if name == "python -c pass" else cpu_seconds(argv)
        goal = GOAL_S.get(name)
        rows.append({"command": name, "CPU s": cpu, "× python -c pass": cpu / base if base else None, "before (e9bc010) CPU s": BEFORE_S[name],
                     "goal s": goal, "meets goal": "" if goal is None else "yes" if cpu < goal else "no"})
    return rows
