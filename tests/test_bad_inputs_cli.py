"""Malformed inputs to every command that reads more than a spec: exit 2 (or a sentence), never a traceback.

Each case was found by fuzzing the CLI (a traceback or a silent wrong answer before its fix). Spec-level
cases live in `tests/bad_specs/`; these are traces, telemetry, meters, flags and outputs, run in-process
as the console script runs them (`run_guarded`), table-driven.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_support import aift_captured

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "specs" / "small.yaml"  # one hall, hall-1/gb300-nvl72
NO_RACKS = ROOT / "tests" / "specs" / "roadmap-small.yaml"  # two halls, no deployments
PILOT = ROOT / "facility_specs" / "pilot-2mw-h100.yaml"
ROADMAP_TEXT = NO_RACKS.read_text()
METERS_HEADER = "timestamp,hall,utility_kw,it_kw,cooling_kw,outdoor_c,wet_bulb_c\n"
GEN = 'vllm:generation_tokens_total{model_name="DeepSeek-R1",instance="n1:8000"}'




@dataclass(frozen=True)
class Case:
    """Files written under tmp, the command (`{tmp}` is the folder), the exit code and what stderr must say."""

    files: dict[str, str | bytes]
    argv: tuple[str, ...]
    code: int
    says: tuple[str, ...] = field(default=())


CASES = {
    # A meter stamp in milliseconds read as seconds lands in the year 3170843: `telemetry check` printed its span with
    # datetime.fromtimestamp and died.
    "meter stamp beyond the calendar": Case(
        {"meters.csv": METERS_HEADER + "99999999999999,,100,80,10,20,15\n"},
        ("telemetry", "check", SMALL, "{tmp}/meters.csv"), 2, ("{tmp}/meters.csv:2:1: timestamp:", "outside 1970-2200")),
    "scrape stamp before 1970": Case(
        {"a.prom": f"# TYPE vllm:generation_tokens_total counter\n{GEN} 1 -1780272000000\n{GEN} 5 1780275600000\n"},
        ("telemetry", "check", SMALL, "{tmp}/a.prom"), 2, ("{tmp}/a.prom:2:1: vllm:generation_tokens", "outside 1970-2200")),
    # json.loads recursed to the interpreter's limit: RecursionError.
    "query_range nested 100,000 deep": Case(
        {"q.json": "[" * 100_000 + "]" * 100_000},
        ("telemetry", "check", SMALL, "{tmp}/q.json"), 2, ("{tmp}/q.json:", "nested deeper")),
    # A number as __name__ reached str.endswith: AttributeError.
    "query_range metric name not text": Case(
        {"q.json": json.dumps({"status": "success", "data": {"resultType": "matrix",
                                                             "result": [{"metric": {"__name__": 5}, "values": [[1.78e9, "2"]]}]}})},
        ("calibrate", SMALL, "{tmp}/q.json", "--out", "{tmp}/cal.yaml"), 2, ("{tmp}/q.json: data.result[0].metric.__name__:", "is text")),
    "negative GPU power": Case(
        {"d.prom": "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n" + "".join(f'DCGM_FI_DEV_POWER_USAGE{{gpu="0",Hostname="n1"}} -500 {ms}\n'
                                                                    for ms in (1780272000000, 1780275600000))},
        ("telemetry", "check", SMALL, "{tmp}/d.prom"), 2, ('{tmp}/d.prom:2:1: DCGM_FI_DEV_POWER_USAGE{Hostname="n1",gpu="0"}:', "a reading in W is 0 or more")),
    # A negative IT meter was fitted as if it were a reading.
    "negative power meter": Case(
        {"meters.csv": METERS_HEADER + "2026-06-01T00:00:00Z,,100,80,10,20,15\n2026-06-01T01:00:00Z,,100,-80,10,20,15\n"},
        ("calibrate", SMALL, "{tmp}/meters.csv", "--out", "{tmp}/cal.yaml"), 2, ("{tmp}/meters.csv:3:1: it_kw:", "negative")),
    # A hall the spec does not have was summed into the site's meters.
    "meter of an unknown hall": Case(
        {"meters.csv": METERS_HEADER + "2026-06-01T00:00:00Z,hall-9,100,80,10,20,15\n"},
        ("telemetry", "check", SMALL, "{tmp}/meters.csv"), 2, ("{tmp}/meters.csv:2:1: hall:", "unknown hall 'hall-9'", "hall-1")),
    # pandas could not hold 9999-12-31 in nanoseconds: OutOfBoundsDatetime.
    "synth starting in 9999": Case(
        {}, ("telemetry", "synth", SMALL, "--out", "{tmp}/synth", "--start", "9999-12-31T00:00:00Z"), 2, ("--start", "outside 1970-2200")),
    # 'nan' passed float() and was sent to the server.
    "fetch from nan": Case(
        {}, ("telemetry", "fetch", "http://127.0.0.1:9", "--query", "up", "--start", "nan", "--end", "1", "--out", "{tmp}/f.json"),
        2, ("--start", "'nan' is outside 1970-2200")),
    # The MMPP drew every arrival of 16 burst cycles: 3.6 TiB at a billion requests/s (MemoryError).
    "bursty rate beyond memory": Case(
        {}, ("serve", PILOT, "--arrivals", "bursty", "--rate", "1e9", "--requests", "100"), 2, ("too high for bursty arrivals",)),
    "replicas of an unnamed system": Case(
        {}, ("serve", PILOT, "--replicas", "=2", "--requests", "100"), 2, ("--replicas '=2'",)),
    "lengths neither a kind nor a file": Case(
        {}, ("serve", PILOT, "--lengths", "lognormale", "--requests", "100"), 2, ("--lengths 'lognormale'", "did you mean 'lognormal'?")),
    "trace that is a folder": Case(
        {"t.csv/.keep": ""}, ("serve", PILOT, "--trace", "{tmp}/t.csv", "--requests", "100"), 2, ("{tmp}/t.csv: a directory, not a trace file",)),
    # --force lets an output replace an older output, never an input: a meter table inside a telemetry folder was one.
    "calibrate over a meter table of its folder": Case(
        {"tel/meters.csv": METERS_HEADER + "2026-06-01T00:00:00Z,,100,80,10,20,15\n"},
        ("calibrate", SMALL, "{tmp}/tel", "--out", "{tmp}/tel/meters.csv", "--force"), 2,
        ("--out {tmp}/tel/meters.csv would overwrite the input {tmp}/tel/meters.csv",)),
    "calibrate series over its own overlay": Case(
        {"tel/meters.csv": METERS_HEADER + "2026-06-01T00:00:00Z,,100,80,10,20,15\n"},
        ("calibrate", SMALL, "{tmp}/tel", "--out", "{tmp}/cal.yaml", "--series", "{tmp}/cal.yaml"), 2, ("--series {tmp}/cal.yaml is the --out file too",)),
    "scorecard over its mapping": Case(
        {"tel/meters.csv": METERS_HEADER + "2026-06-01T00:00:00Z,,100,80,10,20,15\n", "map.md": "series: []\n"},
        ("scorecard", SMALL, "--telemetry", "{tmp}/tel", "--mapping", "{tmp}/map.md", "--out", "{tmp}/map.md", "--force", "--no-plan"), 2,
        ("would overwrite the input {tmp}/map.md",)),
    # Racks that serve no token: the availability tangents divided by the year's zero demand (ZeroDivisionError).
    "roadmap with no demand in any hour": Case(
        {"s.yaml": ROADMAP_TEXT.replace("demand: {level: 0.8", "demand: {level: 0")},
        ("roadmap", "{tmp}/s.yaml", "--time-limit", "30"), 2, ("{tmp}/s.yaml: workload.demand is 0 in every hour",)),
    "plan with a profile of zeros": Case(
        {"s.yaml": SMALL.read_text().replace("profile: diurnal", "profile: [" + ", ".join(["0"] * 24) + "]")},
        ("plan", "{tmp}/s.yaml", "--time-limit", "30"), 2, ("{tmp}/s.yaml: workload.demand is 0 in every hour",)),
    # A tired user's file given to the wrong command: one sentence, not a wall of unknown and missing fields.
    "a spec given as a sweep grid": Case({}, ("sweep", SMALL, "--out", "{tmp}/runs"), 2,
                                         (f"{SMALL}:1:1: this is a facility spec, not a sweep grid",)),
    "a grid given as a spec": Case({}, ("evaluate", ROOT / "facility_specs" / "sweeps" / "reference-what-ifs.yaml"), 2,
                                   ("this is a sweep grid, not a facility spec: give it as aift sweep GRID",)),
    "a spec given as a mapping": Case({"m": ""}, ("telemetry", "check", SMALL, "{tmp}/m", "--mapping", SMALL), 2,
                                      (f"{SMALL}:1:1: this is a facility spec, not a telemetry mapping",)),
    # A spec without racks: max() of no streams, keys[0] of no deployments.
    "scorecard of a spec without racks": Case(
        {}, ("scorecard", NO_RACKS, "--out", "{tmp}/r.md", "--no-plan"), 2, (f"{NO_RACKS}: the spec has no deployments",)),
    "synth of a spec without racks": Case(
        {}, ("telemetry", "synth", NO_RACKS, "--out", "{tmp}/synth"), 2, (f"{NO_RACKS}: the spec has no deployments",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_with_a_message_naming_it(tmp_path, monkeypatch, capsys, name):
    case = CASES[name]
    for rel, body in case.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(body if isinstance(body, bytes) else body.encode())
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in case.argv]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, out, err = aift_captured(monkeypatch, capsys, *argv)
    assert {p: p.read_bytes() for p in before} == before  # nothing the user wrote was changed
    assert code == case.code, err
    assert "Traceback" not in out + err
    for fragment in case.says:
        assert fragment.replace("{tmp}", str(tmp_path)) in err, err


def test_azure_trace_mixing_zoned_and_naive_stamps_reads_them_as_utc(tmp_path):
    """Before: pandas refused to compare offset-naive and offset-aware stamps (TypeError)."""
    from twin.serve.trace import load_trace

    trace = tmp_path / "azure.csv"
    trace.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900+00:00,100,50\n"
                     "2023-11-16 18:15:47,120,60\n2023-11-16 19:15:47+01:00,80,40\n")
    t = load_trace(trace)
    # 18:15:47 - 18:15:46.68059 = 0.31941 s; 19:15:47+01:00 is 18:15:47 UTC, the same instant.
    assert t.arrival_s.tolist() == pytest.approx([0.0, 0.31941, 0.31941])


def test_a_spec_without_racks_evaluates_to_zero_tokens_and_no_pue(monkeypatch, capsys):
    """Before: numpy could not broadcast the deployments' availability, shape (0,), to (0, 8760)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".* encountered in scalar divide")
        code, out, err = aift_captured(monkeypatch, capsys, "evaluate", NO_RACKS, "--json")
    assert code == 0, err
    kpis = json.loads(out)["kpis"]
    assert kpis["output_tokens_per_s"] == 0.0
    assert kpis["it_power_mw"] == 0.0
    assert kpis["pue"] is None  # facility energy over no IT energy: undefined, not a division warning
    assert kpis["facility_power_mw"] > 0  # the plant's fans, pumps and losses still draw


def test_schema_out_never_overwrites_without_force(tmp_path, monkeypatch, capsys):
    """Before: `aift schema --out` wrote over any file, a spec included."""
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    code, _, err = aift_captured(monkeypatch, capsys, "schema", "--out", mine)
    assert code == 2
    assert f"{mine} exists; pass --force" in err
    assert mine.read_text() == "name: mine\n"
    assert aift_captured(monkeypatch, capsys, "schema", "--out", mine, "--force")[0] == 0
    assert json.loads(mine.read_text())["title"]


@pytest.mark.parametrize("command", [("evaluate", SMALL, "--hourly"), ("twin", SMALL, "--graph")])
def test_an_output_that_is_a_pipe_is_refused_even_with_force(tmp_path, monkeypatch, capsys, command):
    """Before: the write's rename put a regular file in place of the pipe (as root, of /dev/null too)."""
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    code, _, err = aift_captured(monkeypatch, capsys, *command, fifo, "--force")
    assert code == 2
    assert f"{command[2]} {fifo} is not a regular file" in err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# A row that reads as JSON but not as a run: the store's readers took it as one (`.items()` of a list, a text
# KPI subtracted, text in the seed column sent to Parquet).
DAMAGED_ROWS = {
    "kpis a list": ("UPDATE runs SET kpis = '[1, 2]' WHERE id = ?", "its kpis is not a JSON object"),
    "a kpi as text": ("UPDATE runs SET kpis = '{\"cost_per_million_tokens_usd\": \"cheap\"}' WHERE id = ?", "its kpis are not all numbers"),
    "a seed as text": ("UPDATE runs SET seed = 'abc' WHERE id = ?", "its seed or duration is not a number"),
    "base values a list": ("UPDATE sweeps SET base_values = '[1]' WHERE ? IS NOT NULL", "its base_values is not a JSON object"),
}


@pytest.mark.parametrize("name", list(DAMAGED_ROWS))
def test_a_row_of_the_wrong_shape_names_the_damage(tmp_path, monkeypatch, capsys, name):
    import sqlite3

    from tests.store_support import fill_store
    from tests.sweep_support import stored_rows

    runs = fill_store(tmp_path)
    rows = stored_rows(runs)
    ok = sorted(i for i, r in rows.items() if r["status"] == "ok")
    sweep = next(iter(rows.values()))["sweep_id"]
    sql, says = DAMAGED_ROWS[name]
    with sqlite3.connect(runs / "index.sqlite") as db:
        db.execute(sql, (ok[0],))
    db.close()
    readers = [["runs", "export", "--format", "parquet", "--out", tmp_path / "x.parquet"], ["runs", "sensitivity", sweep]]
    if "UPDATE runs" in sql:  # compare reads runs alone
        readers.append(["runs", "compare", ok[0], ok[1]])
    for argv in readers:
        code, out, err = aift_captured(monkeypatch, capsys, *argv, "--runs", runs)
        assert code == 2, err
        assert "Traceback" not in out + err
        assert f"{runs / 'index.sqlite'} is damaged" in err
        assert says in err
        assert "aift runs repair" in err


def test_a_spec_without_racks_simulates_to_no_capacity_online(monkeypatch, capsys):
    """Before: the share of capacity online divided 0 by 0 capacity, a warning on every year; now undefined without one."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="invalid value encountered in scalar divide")
        code, out, err = aift_captured(monkeypatch, capsys, "simulate", NO_RACKS, "--replications", "2", "--json")
    assert code == 0, err
    assert '"capacity_online": null' in out


def test_fetch_from_a_server_answering_bytes_that_are_not_text(tmp_path, monkeypatch, capsys):
    """Before: the answer was decoded as UTF-8 unguarded (UnicodeDecodeError); now the server is named, nothing is written."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Latin1(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.end_headers()
            self.wfile.write("caf\xe9".encode("latin-1"))

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Latin1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url, out = f"http://127.0.0.1:{server.server_port}", tmp_path / "range.json"
    try:
        code, _, err = aift_captured(monkeypatch, capsys, "telemetry", "fetch", url, "--query", "up", "--start", "0", "--end", "60", "--out", out)
    finally:
        server.shutdown()
    assert code == 2
    assert f"{url}: the answer is not UTF-8 text (byte 3)" in err  # 'c', 'a', 'f', then 0xE9
    assert not out.exists()
