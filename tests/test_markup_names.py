"""Names and ids a user writes are printed as written: Rich markup in them is text, never a crash."""

from __future__ import annotations

import pytest

from tests.cli_support import aift
from tests.conftest import SMALL
from tests.store_support import fill_store

HOSTILE = ["[/]", "[bold]loud", "a[red]b[/red]c", "[link=http://x]click[/link]"]


def _spec(tmp_path, name: str):
    text = SMALL.read_text().replace("name: small", f"name: '{name}'", 1)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("command", ["validate", "twin", "evaluate"])
def test_a_facility_name_with_markup_is_printed_as_written(monkeypatch, capsys, tmp_path, command, name):
    assert aift(monkeypatch, command, _spec(tmp_path, name)) == 0
    captured = capsys.readouterr()
    if command != "evaluate":  # evaluate's tables do not name the facility
        assert name in captured.out
    assert "MarkupError" not in captured.out + captured.err


def test_a_file_name_with_markup_is_printed_as_written(monkeypatch, capsys, tmp_path):
    good, bad = tmp_path / "[bold]ok.yaml", tmp_path / "x[red]bad.yaml"
    good.write_text(SMALL.read_text())
    bad.write_text("name: x\n")
    assert aift(monkeypatch, "validate", good, bad) == 2
    captured = capsys.readouterr()
    assert f"ok   {good}: small" in captured.out
    assert f"fail {bad}:" in captured.err


def test_a_sweep_and_scenario_named_with_markup_list_as_written(monkeypatch, capsys, tmp_path):
    runs = fill_store(tmp_path, "name: '[/]sweep[bold]'\njob: static\nscenarios:\n  - {name: '[/]', overrides: {'deployments[0].racks': 12}}\n")
    assert aift(monkeypatch, "runs", "list", "--runs", runs) == 0
    out = capsys.readouterr().out
    assert "[/]sweep[bold]" in out
    assert "│ [/]" in out
