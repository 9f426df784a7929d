"""`aift serve`: one experiment, the same bytes for a seed, overload counted, bad input exits 2 with where and why."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli_support import aift
from tests.conftest import PILOT

FAST = ("--requests", "1500", "--replicas", "1")




def _doc(monkeypatch, capsys, *args) -> dict:
    assert aift(monkeypatch, "serve", PILOT, "--json", *args) == 0
    return json.loads(capsys.readouterr().out)


def test_same_seed_same_bytes_and_the_parquet_holds_every_request(monkeypatch, capsys, tmp_path):
    args = (*FAST, "--arrivals", "agentic", "--router", "kv-aware", "--lengths", "lognormal", "--seed", "3")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    docs = [_doc(monkeypatch, capsys, *args, "--out", f) for f in files]
    assert files[0].read_bytes() == files[1].read_bytes()
    for d in docs:  # the wall time is the one figure a second run may change
        d["summary"].pop("wall_s")
        d["summary"].pop("requests_per_wall_s")
    assert docs[0] == docs[1]
    df = pd.read_parquet(files[0])
    s = docs[0]["summary"]
    assert len(df) == s["requests"] == 1500  # 375 whole sessions of 4 turns
    assert df["finished_s"].notna().sum() == s["finished"]
    assert (df["prefix_hit_tokens"] > 0).sum() == s["requests_with_prefix_hit"] > 0
    routed = df["replica"] >= 0  # turns not sent when the run ended have no replica
    assert set(df.loc[routed, "replica_system"]) == {"hgx-h100", "hgx-h200"}  # one replica of each system behind one router


def test_overload_is_counted_not_dropped(monkeypatch, capsys):
    s = _doc(monkeypatch, capsys, *FAST, "--load", "3", "--drain", "0")["summary"]
    assert s["unfinished"] > 0
    assert s["finished"] + s["unfinished"] == s["requests"]
    assert s["unfinished"] == s["unfinished_waiting"] + s["unfinished_running"] + s["unfinished_not_arrived"] + s["rejected_too_long"]
    assert s["sla_attainment"] < 1.0
    assert s["queue_at_end"] > 0


def test_a_rate_is_played_as_given(monkeypatch, capsys):
    s = _doc(monkeypatch, capsys, "--rate", "5", "--duration", "200", "--replicas", "hgx-h100=2")["summary"]
    assert s["rate_per_s"] == 5.0
    # 5/s for 200 s: 1,000 expected, standard deviation sqrt(1000) = 32.
    assert abs(s["requests"] - 1000) <= 3 * 32


def test_a_trace_plays_through_the_cli(monkeypatch, capsys, tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n" + "".join(f"{i * 0.5},{1000 + i},{50 + i}\n" for i in range(200)))
    out = tmp_path / "r.parquet"
    s = _doc(monkeypatch, capsys, "--trace", trace, "--out", out, "--drain", "1000")["summary"]
    df = pd.read_parquet(out)
    assert s["requests"] == s["finished"] == 200
    assert list(df["arrival_s"]) == [i * 0.5 for i in range(200)]
    assert list(df["input_tokens"]) == [1000 + i for i in range(200)]


@pytest.mark.parametrize(("args", "message"), [
    (("--rate", "2", "--load", "1"), "give --rate or --load, not both"),
    (("--router", "random"), "--router must be one of round-robin, least-loaded, kv-aware"),
    (("--rate", "0"), "--rate must be positive"),
    (("--replicas", "gb300-nvl72=2"), "no deployment of gb300-nvl72 serves llama-3.3-70b"),
    (("--replicas", "two"), "--replicas 'two'"),
    (("--model", "gpt-5"), "model 'gpt-5' is not in the workload"),
])
def test_bad_flags_exit_2_with_a_message(monkeypatch, capsys, args, message):
    assert aift(monkeypatch, "serve", PILOT, *args) == 2
    assert message in capsys.readouterr().err


def test_a_bad_trace_row_and_an_existing_output_exit_2(monkeypatch, capsys, tmp_path):
    trace = tmp_path / "bad.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n0,10,5\n1,10,-4\n")
    assert aift(monkeypatch, "serve", PILOT, "--trace", trace) == 2
    assert f"{trace}:3:1: output_tokens: '-4'" in capsys.readouterr().err
    existing = tmp_path / "r.parquet"
    existing.write_bytes(b"mine")
    assert aift(monkeypatch, "serve", PILOT, *FAST, "--out", existing) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert existing.read_bytes() == b"mine"


def test_a_duration_too_long_to_hold_is_refused_before_drawing(monkeypatch, capsys):
    # 100 x capacity (~16,000 tok/s / 512 tokens ~ 31 req/s) for 1e7 s is ~3e10 requests, far over 5 million.
    assert aift(monkeypatch, "serve", PILOT, "--load", "100", "--duration", "1e7") == 2
    assert "at most 5,000,000 are generated" in capsys.readouterr().err


def test_a_traces_model_column_picks_the_rows_and_lengths_can_be_sampled_from_a_trace(monkeypatch, capsys, tmp_path):
    trace = tmp_path / "mixed.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens,model\n"
                     + "".join(f"{i},{300 + i},{20 + i},{'gpt-oss-120b' if i % 3 == 0 else 'llama-3.3-70b'}\n" for i in range(30)))
    out = tmp_path / "r.parquet"
    s = _doc(monkeypatch, capsys, "--trace", trace, "--model", "gpt-oss-120b", "--out", out)["summary"]
    df = pd.read_parquet(out)
    assert s["requests"] == 10  # rows 0, 3, ..., 27
    assert list(df["input_tokens"]) == [300 + i for i in range(0, 30, 3)]
    assert list(df["arrival_s"]) == [float(i) for i in range(0, 30, 3)]  # from the first of them
    sampled = tmp_path / "s.parquet"
    _doc(monkeypatch, capsys, *FAST, "--lengths", trace, "--out", sampled)
    df = pd.read_parquet(sampled)
    assert set(df["input_tokens"]) <= {300 + i for i in range(30)}
    assert set(df["output_tokens"]) <= {20 + i for i in range(30)}
