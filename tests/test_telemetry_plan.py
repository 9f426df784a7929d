"""The planner with a calibration overlay: per-system factors, and a plan whose own figures agree with the calibrated twin."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import aift
from tests.conftest import PILOT, REFERENCE
from twin.loader import load_spec
from twin.telemetry.apply import system_factors, with_calibration
from twin.telemetry.overlay import Calibration, DeploymentCalibration


def test_a_system_takes_the_gpu_weighted_mean_of_its_deployments_factors():
    # The reference has four equal GB300 halls; hall-4 measured 0.85, the others 1: (0.85 + 3) / 4 = 0.9625.
    spec = with_calibration(load_spec(REFERENCE), Calibration(deployments=[
        DeploymentCalibration(deployment="hall-4/gb300-nvl72", throughput_factor=0.85, power_factor=1.2)]))
    assert system_factors(spec) == {"gb300-nvl72": (pytest.approx(0.9625), pytest.approx(1.05))}
    assert system_factors(load_spec(REFERENCE)) == {}


def test_plan_with_an_overlay_predicts_what_the_calibrated_twin_then_scores(tmp_path, monkeypatch, capsys):
    cal = tmp_path / "cal.yaml"
    cal.write_text("calibration:\n  deployments:\n"
                   "    - {deployment: hall-1/hgx-h100, throughput_factor: 0.85, power_factor: 1.1}\n"
                   "    - {deployment: hall-1/hgx-h200, throughput_factor: 0.85}\n"
                   "  pue_offset: 0.05\n")
    assert aift(monkeypatch, "plan", PILOT, "--no-shadow", "--calibration", cal, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    # the MILP's own cost per token (predicted) and the calibrated twin's score of the written plan agree,
    # as they do without a calibration (test_app_simulate_plan: within 5 %)
    assert doc["predicted"]["cost_per_million_tokens_usd"] == pytest.approx(doc["twin"]["cost_per_million_tokens_usd"], rel=0.02)
    assert aift(monkeypatch, "plan", PILOT, "--no-shadow", "--json") == 0
    plain = json.loads(capsys.readouterr().out)
    assert doc["twin"]["cost_per_million_tokens_usd"] > plain["twin"]["cost_per_million_tokens_usd"]
