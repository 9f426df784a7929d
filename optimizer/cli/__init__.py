"""The `aift` command. Each command group lives in its own module and registers on `app`.

Exit codes: 0 ok, 2 invalid input, 3 infeasible plan, 1 a bug.
"""

from __future__ import annotations

import sys

import typer

from optimizer.cli import (
    catalog_cmds,
    evaluate_cmd,
    perf_cmd,
    plan_cmd,
    roadmap_cmd,
    runs_cmd,
    serve_cmd,
    simulate_cmd,
    spec_cmds,
    sweep_cmd,
    twin_cmd,
)
from optimizer.cli.output import run_guarded

# isort: split
from optimizer.cli import calibrate_cmd, scorecard_cmd, telemetry_cmd  # the operate loop

app = typer.Typer(
    name="aift",
    help="AI Factory Twin: plan AI factories by tokens per second, per watt and per dollar.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (spec_cmds, catalog_cmds, twin_cmd, evaluate_cmd, sweep_cmd, runs_cmd, perf_cmd, plan_cmd, simulate_cmd, serve_cmd, roadmap_cmd):
    module.register(app)
for module in (telemetry_cmd, calibrate_cmd, scorecard_cmd):  # the operate loop
    module.register(app)


def main() -> None:
    """Console entry point: run the app, turning input errors into exit code 2."""
    sys.exit(run_guarded(app))
