"""`aift simulate`: evaluate's KPIs with bands, byte-identical output for a seed, Parquet files, bad input."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.cli_support import aift
from tests.conftest import SMALL
from twin.evaluate import evaluate
from twin.loader import load_spec

SERVING = ("--serving", "--requests", "400", "--max-batch", "8")




def _json(monkeypatch, capsys, *args) -> tuple[dict, str]:
    assert aift(monkeypatch, "simulate", SMALL, "--json", *args) == 0
    text = capsys.readouterr().out
    return json.loads(text), text


def test_kpis_are_evaluates_with_bands_and_the_same_seed_gives_the_same_bytes(monkeypatch, capsys):
    doc, text = _json(monkeypatch, capsys, "--replications", "3", "--seed", "4", *SERVING)
    assert set(evaluate(load_spec(SMALL)).kpis) <= set(doc["kpis"])
    assert set(doc["bands"]) == set(doc["kpis"])
    assert all(set(b) == {"p5", "p50", "p95", "std_error"} for b in doc["bands"].values())
    assert doc["bands"]["capacity_online"]["p5"] <= doc["kpis"]["capacity_online"] <= doc["bands"]["capacity_online"]["p95"]
    assert [(s["system"], s["model"]) for s in doc["serving"]] == [("gb300-nvl72", "deepseek-r1"), ("gb300-nvl72", "gpt-oss-120b")]
    assert all(s["ttft_s_p50"] <= s["ttft_s_p99"] and s["max_rate_meeting_sla_per_s"] > 0 for s in doc["serving"])
    assert _json(monkeypatch, capsys, "--replications", "3", "--seed", "4", *SERVING)[1] == text
    assert _json(monkeypatch, capsys, "--replications", "3", "--seed", "5", *SERVING)[1] != text


def test_out_writes_parquet_byte_for_byte(monkeypatch, capsys, tmp_path):
    for run in ("a", "b"):
        assert aift(monkeypatch, "simulate", SMALL, "--replications", "2", "--spikes-per-year", "5", "--out", tmp_path / run, *SERVING) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["events.parquet", "series.parquet", "serving_queue.parquet", "serving_requests.parquet", "simulate.json"]
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)
    series = pd.read_parquet(tmp_path / "a" / "series.parquet")
    assert len(series) == 2 * 8760
    assert {"replication", "capacity_online", "pue", "available_share_0"} <= set(series.columns)
    events = pd.read_parquet(tmp_path / "a" / "events.parquet")
    assert {"time_h", "component", "event", "racks", "gpus", "it_mw", "replication"} <= set(events.columns)


@pytest.mark.parametrize("args", [
    ("missing.yaml",),
    (SMALL, "--repair", "weibull"),
    (SMALL, "--shed-policy", "random"),
    (SMALL, "--replications", "0"),
    (SMALL, "--arrivals", "chaotic"),
])
def test_bad_input_exits_2_without_a_traceback(monkeypatch, capsys, args):
    assert aift(monkeypatch, "simulate", *args) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--spikes-per-year", "inf"), "--spikes-per-year must be a finite number"),
        (("--shed-mw", "nan"), "--shed-mw must be a finite number"),
        (("--spikes-per-year", "1e12"), "--spikes-per-year must be at most 8,760"),
        (("--grid-events-per-year", "1e9", "--shed-mw", "1"), "--grid-events-per-year must be at most 8,760"),
        (("--serving", "--replicas", "100000"), "--replicas must be at most 256"),
        (("--replications", "100000000"), "--replications must be at most 10,000"),
        (("--serving", "--replicas", "200", "--max-batch", "4000"), "the limit is 1,000,000"),
    ],
)
def test_flags_that_would_never_finish_or_exhaust_memory_exit_2(monkeypatch, capsys, args, message):
    assert aift(monkeypatch, "simulate", SMALL, "--replications", "1", *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_out_never_overwrites_the_spec_nor_a_file(monkeypatch, capsys, tmp_path):
    spec = tmp_path / "series.parquet"
    shutil.copy(SMALL, spec)
    before = spec.read_bytes()
    assert aift(monkeypatch, "simulate", spec, "--replications", "1", "--out", tmp_path) == 2
    assert spec.read_bytes() == before
    assert aift(monkeypatch, "simulate", SMALL, "--replications", "1", "--out", spec) == 2
    assert "Traceback" not in capsys.readouterr().err
