"""The operate loop: synthetic telemetry with injected faults, calibrate recovers them, evaluate applies the overlay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.cli_support import aift
from tests.conftest import PILOT, REFERENCE
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.telemetry.apply import with_calibration
from twin.telemetry.calibrate import calibrate, fleet
from twin.telemetry.mapping import load_mapping
from twin.telemetry.overlay import Calibration, DeploymentCalibration
from twin.telemetry.read import read_telemetry
from twin.telemetry.synth import Faults, SynthOptions, synthesize


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """Three days of the reference facility, scraped every 30 min: hall-4 at 85 % of its throughput from
    day 1, hall-1's power 10 % high from day 1, PUE 0.05 above the twin throughout."""
    spec = load_spec(REFERENCE)
    out = tmp_path_factory.mktemp("telemetry")
    synthesize(spec, out, SynthOptions(days=3, interval_s=1800, seed=3), Faults())
    tm = read_telemetry([out])
    return spec, out, tm, calibrate(spec, tm, load_mapping(out / "mapping.yaml", spec))


def _fit(result, who, quantity):
    return next(f for f in result.fits if f["deployment"] == who and f["quantity"] == quantity)


def test_calibrate_recovers_the_injected_faults_within_2_percent(loop):
    _, _, tm, r = loop
    assert tm.findings.errors == []
    assert _fit(r, "hall-4/gb300-nvl72", "throughput")["value"] == pytest.approx(0.85, rel=0.02)
    assert _fit(r, "hall-1/gb300-nvl72", "power")["value"] == pytest.approx(1.10, rel=0.02)
    assert _fit(r, "site", "pue_offset")["value"] == pytest.approx(0.05, rel=0.02)
    healthy = [f for f in r.fits if f["deployment"] not in ("site",)
               and (f["deployment"], f["quantity"]) not in {("hall-4/gb300-nvl72", "throughput"), ("hall-1/gb300-nvl72", "power")}]
    assert len(healthy) == 6
    assert all(f["value"] == pytest.approx(1.0, rel=0.02) for f in healthy)


def test_the_drift_report_says_what_under_delivers_by_how_much_and_since_when(loop):
    r = loop[3]
    hall4 = next(line for line in r.drift if line.startswith("hall-4/gb300-nvl72"))
    assert "under-delivers by 15" in hall4
    assert "since 2026-06-02" in hall4
    assert any(line.startswith("hall-1/gb300-nvl72: draws more power by 10") for line in r.drift)
    assert any(line.startswith("site: PUE +0.05") for line in r.drift)
    assert not any(line.startswith(("hall-2", "hall-3")) for line in r.drift)


def test_the_reader_met_the_injected_reset_gap_and_nan(loop):
    notes = " ".join(n.message for n in loop[2].findings.notes)
    assert "counter reset" in notes
    assert "gap of" in notes
    assert "nan sample dropped" in notes


def test_the_overlay_moves_evaluate_by_the_fitted_factors():
    # Hand-worked on the pilot (nothing capped): every deployment's throughput x 0.5 halves the
    # tokens; a PUE offset of 0.05 adds 0.05 x (IT + network) to facility power, so PUE rises by
    # exactly 0.05; power x 1.1 on every deployment scales IT power by 1.1.
    spec = load_spec(PILOT)
    plain = evaluate(spec)
    base = plain.kpis
    keys = ["hall-1/hgx-h100", "hall-1/hgx-h200"]
    half = evaluate(with_calibration(spec, Calibration(deployments=[DeploymentCalibration(deployment=k, throughput_factor=0.5) for k in keys]))).kpis
    assert half["output_tokens_per_s"] == pytest.approx(0.5 * base["output_tokens_per_s"], rel=1e-9)
    pue = evaluate(with_calibration(spec, Calibration(pue_offset=0.05))).kpis
    assert pue["pue"] == pytest.approx(base["pue"] + 0.05, abs=1e-9)
    hot = evaluate(with_calibration(spec, Calibration(deployments=[DeploymentCalibration(deployment=k, power_factor=1.1) for k in keys]))).kpis
    # `it_power_mw` counts the network too, which the factor leaves alone: 1.1 x racks + network
    network_mw = plain.hourly["network_kw"].mean() / 1000.0
    assert base["capped_hours"] == 0
    assert hot["capped_hours"] == 0
    assert hot["it_power_mw"] == pytest.approx(1.1 * (base["it_power_mw"] - network_mw) + network_mw, rel=1e-9)


def test_cli_loop_synth_calibrate_evaluate(tmp_path, monkeypatch, capsys):
    out = tmp_path / "tm"
    assert aift(monkeypatch, "telemetry", "synth", PILOT, "--out", out, "--days", "2", "--interval-s", "1800") == 0
    assert aift(monkeypatch, "telemetry", "synth", PILOT, "--out", out, "--days", "2") == 2  # never over existing files
    assert "pass --force" in capsys.readouterr().err
    cal = tmp_path / "calibrated.yaml"
    assert aift(monkeypatch, "calibrate", PILOT, out, "--mapping", out / "mapping.yaml", "--out", cal, "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    # the pilot has one hall, so both deployments carry the 85 % throughput fault
    factors = {d["deployment"]: d["throughput_factor"] for d in doc["calibration"]["deployments"]}
    assert factors == {"hall-1/hgx-h100": pytest.approx(0.85, rel=0.02), "hall-1/hgx-h200": pytest.approx(0.85, rel=0.02)}
    assert aift(monkeypatch, "evaluate", PILOT, "--calibration", cal, "--json") == 0
    calibrated = json.loads(capsys.readouterr().out)["kpis"]
    assert aift(monkeypatch, "evaluate", PILOT, "--json") == 0
    plain = json.loads(capsys.readouterr().out)["kpis"]
    assert calibrated["output_tokens_per_s"] == pytest.approx(0.85 * plain["output_tokens_per_s"], rel=0.02)
    assert calibrated["pue"] - plain["pue"] == pytest.approx(0.05, rel=0.1)
    assert aift(monkeypatch, "calibrate", PILOT, out, "--out", cal) == 2  # the overlay exists: --force to replace it


def test_an_overlay_naming_an_unknown_deployment_fails_with_its_line(tmp_path, monkeypatch, capsys):
    cal = tmp_path / "cal.yaml"
    cal.write_text("calibration:\n  deployments:\n    - deployment: hall-1/hgx-h100\n    - deployment: hall-1/hgx-h300\n      power_factor: 1.1\n")
    assert aift(monkeypatch, "evaluate", PILOT, "--calibration", cal) == 2
    err = capsys.readouterr().err
    assert "cal.yaml:4:" in err
    assert "hall-1/hgx-h300" in err
    assert "did you mean 'hall-1/hgx-h200'" in err


def test_a_deployment_whose_series_are_missing_keeps_factor_1_and_is_reported(loop, tmp_path):
    spec, out, _, _ = loop
    for f in out.iterdir():
        if f.name != "vllm-hall-2-gb300-nvl72.prom":  # hall-2's engines were not scraped
            (tmp_path / f.name).write_bytes(f.read_bytes())
    r = calibrate(spec, read_telemetry([tmp_path]), load_mapping(tmp_path / "mapping.yaml", spec))
    hall2 = next(d for d in r.calibration.deployments if d.deployment == "hall-2/gb300-nvl72")
    assert hall2.throughput_factor == 1.0
    assert hall2.throughput_since is None
    assert hall2.power_factor == pytest.approx(1.0, rel=0.02)  # its GPUs were still scraped
    assert "hall-2/gb300-nvl72: throughput (series not found or not mapped) not measured; no throughput fitted" in r.drift


def test_the_fleet_sum_skips_a_bin_a_measured_deployment_missed():
    # a: 10, 20 measured; b: 5, then a gap; c never measured (left out). Bin 1: 10 + 5 = 15 against 8 + 4 = 12;
    # bin 2: b missed it, so the fleet is not measured there (a partial sum would read as a drop).
    s = pd.DataFrame({"time": [1, 2, 1, 2, 1, 2], "deployment": list("aabbcc"), "quantity": "output tokens/s",
                      "measured": [10, 20, 5, np.nan, np.nan, np.nan], "predicted": [8, 16, 4, 4, 3, 3]})
    f = fleet(s, "output tokens/s")
    assert list(f.loc[1]) == [15.0, 12.0]
    assert np.isnan(f.loc[2, "measured"])


def test_no_output_lands_on_the_overlay(tmp_path, monkeypatch, capsys):
    cal = tmp_path / "cal.yaml"
    cal.write_text("calibration:\n  pue_offset: 0.05\n")
    for command, flag in (("evaluate", "--hourly"), ("plan", "--out")):
        assert aift(monkeypatch, command, PILOT, "--calibration", cal, flag, cal, "--force") == 2
        assert "would overwrite the input" in capsys.readouterr().err
    assert cal.read_text() == "calibration:\n  pue_offset: 0.05\n"
