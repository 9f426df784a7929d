"""Files a command writes: never over an input, and a path that cannot be written is exit 2, not a traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from optimizer.cli.output import InputError, check_output, print_json, write_atomic
from tests.cli_support import aift
from tests.conftest import SMALL

WEATHER = "dry_bulb_c,relative_humidity\n" + "20,0.5\n" * 8760




@pytest.fixture
def spec_file(tmp_path):
    """The small facility with its weather read from a CSV beside it."""
    (tmp_path / "weather.csv").write_text(WEATHER)
    path = tmp_path / "site.yaml"
    path.write_text(SMALL.read_text().replace("climate: {preset: temperate}", "climate: {file: weather.csv}"))
    return path


@pytest.mark.parametrize(
    ("command", "flag"),
    [("twin", "--graph"), ("evaluate", "--hourly"), ("plan", "--out"), ("simulate", "--out")],
)
def test_no_output_lands_on_the_spec_or_its_weather_file(monkeypatch, capsys, spec_file, command, flag):
    weather = spec_file.with_name("weather.csv")
    before = spec_file.read_bytes(), weather.read_bytes()
    targets = [spec_file, weather] if flag != "--out" or command == "plan" else []
    if command == "simulate":  # --out is a folder: an input named like one of its files is refused
        shutil.copy(spec_file, spec_file.with_name("events.parquet"))
        spec_file = spec_file.with_name("events.parquet")
        targets = [spec_file.parent]
    for target in targets:
        assert aift(monkeypatch, command, spec_file, flag, target, "--force") == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert "overwrite" in err or "never written over" in err
    assert (spec_file.with_name("site.yaml").read_bytes(), weather.read_bytes()) == before


@pytest.mark.parametrize(
    ("command", "flag"),
    [("twin", "--graph"), ("evaluate", "--hourly"), ("plan", "--out")],
)
def test_an_output_that_is_a_directory_or_under_a_file_exits_2(monkeypatch, capsys, spec_file, command, flag):
    for target, message in [(spec_file.parent, "is a directory"), (spec_file / "x.out", "is a file, not a directory")]:
        assert aift(monkeypatch, command, spec_file, flag, target, "--force") == 2
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err


def test_write_atomic_reports_unwritable_paths_as_input_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    for target in (tmp_path, tmp_path / "file" / "below.csv"):
        with pytest.raises(InputError, match=f"cannot write {target}"):
            write_atomic(target, "data")
    assert (tmp_path / "file").read_text() == "x"


def test_check_output_sees_a_hard_link_to_an_input(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n")
    link = tmp_path / "link.yaml"
    link.hardlink_to(spec)
    with pytest.raises(InputError, match="would overwrite the input"):
        check_output("--out", link, [spec])
    check_output("--out", tmp_path / "new" / "plan.yaml", [spec])  # a folder still to make is fine


def test_validate_reads_the_weather_file(monkeypatch, capsys, spec_file):
    spec_file.with_name("weather.csv").write_text("dry_bulb_c,relative_humidity\n20,0.5\n")
    assert aift(monkeypatch, "validate", spec_file) == 2
    assert "a weather year needs 8760" in capsys.readouterr().err
    spec_file.with_name("weather.csv").unlink()
    assert aift(monkeypatch, "validate", spec_file) == 2
    assert "cannot read weather file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "flag", "name", "extra"),
    [
        ("twin", "--graph", "graph.json", ()),
        ("evaluate", "--hourly", "hourly.csv", ()),
        ("simulate", "--out", "series.parquet", ("--replications", "1")),
    ],
)
def test_an_existing_output_file_needs_force(monkeypatch, capsys, spec_file, command, flag, name, extra):
    """Nothing the user wrote is overwritten without asking: an existing file needs --force."""
    kept = spec_file.with_name(name)
    kept.write_text("keep me\n")
    target = spec_file.parent if command == "simulate" else kept
    assert aift(monkeypatch, command, spec_file, flag, target, *extra) == 2
    assert "pass --force" in capsys.readouterr().err
    assert kept.read_text() == "keep me\n"
    assert aift(monkeypatch, command, spec_file, flag, target, *extra, "--force") == 0
    assert kept.read_bytes() != b"keep me\n"


def test_json_output_has_no_infinity(capsys):
    """An unproven gap is infinite; JSON has no such number, so it is null."""
    print_json({"mip_gap": float("inf"), "steps": [{"gap": float("nan")}, {"gap": 0.5}]})
    assert json.loads(capsys.readouterr().out) == {"mip_gap": None, "steps": [{"gap": None}, {"gap": 0.5}]}
