"""Files a spec names: confined to the spec's folder in the app, and never quoted when they are not weather."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from optimizer.jobs import evaluate_job
from optimizer.scenarios import load_sweep
from optimizer.sweep import run_scenario
from tests.cli_support import aift
from tests.conftest import SMALL
from tests.sweep_support import write_grid
from twin.errors import SpecError
from twin.evaluate import evaluate
from twin.loader import load_spec_text
from twin.overrides import apply_overrides
from twin.spec_files import spec_weather
from twin.weather import read_weather_file

# What a server file might hold: none of these lines may ever reach a message.
SECRET_LINES = ["root:x:0:0:root:/root:/bin/bash", "AWS_SECRET_ACCESS_KEY=hunter2hunter2", "daemon:x:1:1:daemon:/usr/sbin"]
WEATHER_CSV = "dry_bulb_c,wet_bulb_c\n" + "25,18\n" * 8760
CLIMATE_LINE = "  climate: {preset: temperate}"


def _secret(tmp_path: Path, name: str = "passwd") -> Path:
    folder = tmp_path / "server"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("\n".join(SECRET_LINES) + "\n")
    return path


def _naming(value: str) -> str:
    text = SMALL.read_text()
    assert CLIMATE_LINE in text
    return text.replace(CLIMATE_LINE, f"  climate: {{file: '{value}'}}")


def _assert_no_secret(text: str) -> None:
    for line in SECRET_LINES:
        for part in line.split(":"):
            if len(part) > 6:  # every distinctive piece, not only whole lines
                assert part not in text, f"{part!r} leaked into: {text}"


@pytest.mark.parametrize("name", ["passwd.csv", "environ.epw", "passwd"])
def test_the_weather_reader_never_quotes_a_file_that_is_not_weather(tmp_path, name):
    path = _secret(tmp_path, name)
    with pytest.raises(SpecError) as caught:
        read_weather_file(path)
    _assert_no_secret(str(caught.value))
    assert "not a weather CSV" in str(caught.value) or "not an EPW file" in str(caught.value)


def test_a_weather_file_quotes_a_bad_value_briefly(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("dry_bulb_c,wet_bulb_c\n" + "x" * 500 + ",18\n" + "25,18\n" * 8759)
    with pytest.raises(SpecError, match=r"w.csv:2:1: dry_bulb_c: not a number: 'x{20}'$"):
        read_weather_file(path)


def _outside_values(tmp_path: Path, folder: Path) -> dict[str, str]:
    secret = _secret(tmp_path)
    (folder / "link.csv").symlink_to(secret)
    return {
        "absolute": str(secret),
        "dot-dot": os.path.relpath(secret, folder),
        "symlink out": "link.csv",
        "proc": "/proc/self/environ",
        "the folder itself": ".",
    }


@pytest.mark.parametrize("case", ["absolute", "dot-dot", "symlink out", "proc", "the folder itself"])
def test_an_app_spec_cannot_name_a_file_outside_its_folder(tmp_path, case):
    folder = tmp_path / "session"
    folder.mkdir()
    value = _outside_values(tmp_path, folder)[case]
    text = _naming(value)
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "upload.yaml", folder=folder)
    [issue] = caught.value.issues
    expected_line = text.splitlines().index(f"  climate: {{file: '{value}'}}") + 1
    assert (issue.file, issue.line, issue.path) == ("upload.yaml", expected_line, "site.climate.file")
    assert "outside the spec's folder" in issue.message
    _assert_no_secret(str(caught.value))


def test_an_app_spec_reads_the_weather_file_beside_it(tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "w.csv").write_text(WEATHER_CSV)
    spec = load_spec_text(_naming("w.csv"), "upload.yaml", folder=folder)
    weather = spec_weather(spec)
    assert (weather.dry_bulb_c.mean(), weather.wet_bulb_c.mean()) == pytest.approx((25.0, 18.0))


def test_an_override_cannot_lead_an_app_spec_out_of_its_folder(tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    spec = load_spec_text(SMALL.read_text(), "upload.yaml", folder=folder)
    moved = apply_overrides(spec, {"site.climate.file": str(_secret(tmp_path))})
    with pytest.raises(SpecError) as caught:
        evaluate(moved)
    assert [i.path for i in caught.value.issues] == ["site.climate.file"]
    _assert_no_secret(str(caught.value))


@pytest.mark.parametrize("command", ["validate", "evaluate", "twin"])
def test_the_cli_reads_what_its_user_names_but_never_prints_it(monkeypatch, capsys, tmp_path, command):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_naming(str(_secret(tmp_path))))
    assert aift(monkeypatch, command, spec) == 2
    captured = capsys.readouterr()
    assert "not a weather CSV" in captured.err
    _assert_no_secret(captured.out + captured.err)


def test_a_sweep_override_naming_a_server_file_stores_no_line_of_it(tmp_path):
    grid = write_grid(tmp_path / "g.yaml", f"job: evaluate\ngrid:\n  site.climate.file: ['{_secret(tmp_path)}']\n")
    sweep = load_sweep(grid)
    [scenario] = sweep.scenarios
    outcome = run_scenario(sweep.spec, evaluate_job, scenario.overrides, scenario.seed)
    assert outcome.status == "failed"
    assert "not a weather CSV" in outcome.error
    _assert_no_secret(outcome.error)
