"""Telemetry parsing: DCGM exporter and vLLM exposition, query_range JSON, meter tables; every problem with file and line."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.cli_support import aift
from tests.conftest import PILOT
from tests.telemetry_support import VLLM_MODEL, dcgm_scrape, vllm_scrape
from twin.errors import SpecError
from twin.loader import load_spec
from twin.telemetry.findings import Findings
from twin.telemetry.mapping import Mapper, load_mapping
from twin.telemetry.rates import counter_rates, histogram_quantile, usual_intervals
from twin.telemetry.read import read_telemetry

T0 = 1_780_000_000  # Unix seconds of the first scrape


def _counter(tm, family):
    s = tm.samples
    return s[(s["family"] == family) & (s["part"] == "value")]


def test_dcgm_and_vllm_scrapes_parse_with_their_labels_and_millisecond_stamps(tmp_path):
    f = tmp_path / "scrapes.prom"
    f.write_text(dcgm_scrape(T0 * 1000, 612.5, 87) + vllm_scrape(T0 * 1000, 1000.0, 4000.0, [0, 1, 2, 4, 8, 10, 10, 10]))
    tm = read_telemetry([f])
    assert tm.findings.errors == []
    s = tm.samples
    power = s[s["role"] == "gpu_power_w"]
    assert len(power) == 2
    assert set(power["value"]) == {612.5}
    assert set(s["t"]) == {float(T0)}  # milliseconds in the text format
    labels = tm.labels[power["series"].iloc[0]]
    assert labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert labels["Hostname"] == "node-a"
    assert labels["gpu"] == "0"
    ttft = s[(s["role"] == "ttft_s") & (s["part"] == "bucket")]
    assert sorted(ttft["le"])[-1] == math.inf
    assert len(ttft) == 8 + 1
    assert set(s[s["role"] == "ttft_s"]["part"]) == {"bucket", "sum", "count"}
    # DCGM_FI_DEV_SM_CLOCK is real exporter output the twin has no use for: noted once, with its line
    unknown = [n for n in tm.findings.notes if "unknown metric" in n.message]
    assert len(unknown) == 1
    assert unknown[0].path == "DCGM_FI_DEV_SM_CLOCK"
    assert unknown[0].line == 3


def test_a_counter_reset_counts_from_zero_as_prometheus_does(tmp_path):
    # 100 -> 400 (+300), restart -> 50 (+50: counted from zero), -> 350 (+300); 650 tokens over 45 s
    f = tmp_path / "vllm.prom"
    f.write_text("".join(vllm_scrape((T0 + 15 * i) * 1000, v, 0.0, [1]) for i, v in enumerate([100, 400, 50, 350])))
    tm = read_telemetry([f])
    gen = _counter(tm, "vllm:generation_tokens")
    rate = counter_rates(gen, np.array([T0, T0 + 60.0]), tm.findings)
    assert rate[0] == pytest.approx(650 / 45)
    reset = [n for n in tm.findings.notes if "counter reset" in n.message]
    assert reset
    assert reset[0].file == str(f)
    lines = f.read_text().splitlines()
    assert lines[reset[0].line - 1].startswith("vllm:generation_tokens_total")
    assert " 50 " in lines[reset[0].line - 1] + " "


def test_a_gap_is_left_out_not_averaged_over(tmp_path):
    # scrapes at 0, 15, 30, then 105, 120 s: the 75 s interval is over 3 x 15 s, a gap
    # kept: 0-15 (+150), 15-30 (+150), 105-120 (+150) -> 450 tokens / 45 s = 10 tok/s
    times, values = [0, 15, 30, 105, 120], [0, 150, 300, 1200, 1350]
    f = tmp_path / "gap.prom"
    f.write_text("".join(vllm_scrape((T0 + t) * 1000, v, 0.0, [1]) for t, v in zip(times, values, strict=True)))
    tm = read_telemetry([f])
    rate = counter_rates(_counter(tm, "vllm:generation_tokens"), np.array([T0, T0 + 200.0]), tm.findings)
    assert rate[0] == pytest.approx(10.0)
    gap = [n for n in tm.findings.notes if "gap" in n.message]
    assert gap
    assert gap[0].line is not None
    assert f"{(T0 + 105) * 1000}" in f.read_text().splitlines()[gap[0].line - 1]


def test_nan_samples_are_dropped_and_named_by_line(tmp_path):
    f = tmp_path / "nan.prom"
    f.write_text(dcgm_scrape(T0 * 1000, 600, 50) + dcgm_scrape((T0 + 15) * 1000, float("nan"), 50))
    tm = read_telemetry([f])
    nan = [n for n in tm.findings.notes if "nan sample dropped" in n.message]
    assert len(nan) == 2
    assert all(" nan " in f.read_text().splitlines()[n.line - 1] for n in nan)
    assert len(tm.samples[tm.samples["role"] == "gpu_power_w"]) == 2  # only the first scrape's two GPUs


def test_a_malformed_line_is_an_error_with_its_line_and_exit_2(tmp_path, monkeypatch, capsys):
    f = tmp_path / "bad.prom"
    f.write_text(dcgm_scrape(T0 * 1000, 600, 50) + 'DCGM_FI_DEV_POWER_USAGE{gpu="0" 12\nDCGM_FI_DEV_GPU_UTIL{gpu="0"} twelve 1\n')
    tm = read_telemetry([f])
    bad = sorted(e.line for e in tm.findings.errors)
    n = len(dcgm_scrape(T0 * 1000, 600, 50).splitlines())
    assert bad == [n + 1, n + 2]
    assert aift(monkeypatch, "telemetry", "check", PILOT, f) == 2
    err = capsys.readouterr().err
    assert f"bad.prom:{n + 1}:" in err
    assert f"bad.prom:{n + 2}:" in err
    assert "Traceback" not in err


def test_a_file_mixing_stamped_and_unstamped_samples_is_refused(tmp_path):
    f = tmp_path / "mixed.prom"
    f.write_text('DCGM_FI_DEV_POWER_USAGE{gpu="0"} 600 1780000000000\nDCGM_FI_DEV_POWER_USAGE{gpu="0"} 601\n')
    tm = read_telemetry([f])
    assert [e.line for e in tm.findings.errors] == [2]


def test_a_timestamp_going_back_is_an_error(tmp_path):
    f = tmp_path / "back.prom"
    f.write_text(dcgm_scrape((T0 + 15) * 1000, 600, 50) + dcgm_scrape(T0 * 1000, 600, 50))
    tm = read_telemetry([f])
    assert tm.findings.errors
    assert all("not after" in e.message for e in tm.findings.errors)


def test_histogram_quantile_interpolates_inside_the_bucket():
    # 3 observations <= 0.1, 8 <= 0.5, 10 in all: the median (rank 5) lies in (0.1, 0.5],
    # 2 of that bucket's 5 observations in: 0.1 + 0.4 x 2/5 = 0.26. The p95 (rank 9.5) is in
    # +Inf, reported as the highest finite bound, 0.5, as Prometheus does.
    b = {0.1: 3.0, 0.5: 8.0, math.inf: 10.0}
    assert histogram_quantile(0.5, b) == pytest.approx(0.26)
    assert histogram_quantile(0.95, b) == 0.5
    assert math.isnan(histogram_quantile(0.5, {0.1: 0.0, math.inf: 0.0}))


def test_query_range_json_reads_like_scrapes_and_names_the_bad_entry(tmp_path):
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "vllm:generation_tokens_total", "model_name": VLLM_MODEL, "instance": "a:8000"},
         "values": [[T0, "0"], [T0 + 60, "600"], [T0 + 120, "1200"]]},
        {"metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "modelName": "NVIDIA H100 80GB HBM3"}, "values": [[T0, "50"], [T0 + 60, "oops"]]},
        {"metric": {"__name__": "node_cpu_seconds_total"}, "values": [[T0, "1"]]},
    ]}}
    f = tmp_path / "range.json"
    f.write_text(json.dumps(answer))
    tm = read_telemetry([f])
    assert [e.path for e in tm.findings.errors] == ["data.result[1].values[1]"]
    assert any("node_cpu_seconds_total" in n.message for n in tm.findings.notes)
    rate = counter_rates(_counter(tm, "vllm:generation_tokens"), np.array([T0, T0 + 180.0]))
    assert rate[0] == pytest.approx(10.0)  # 1200 tokens in 120 s


def test_meter_csv_problems_name_the_line(tmp_path):
    f = tmp_path / "meters.csv"
    f.write_text("timestamp,hall,utility_kw,it_kw,outdoor_c,fan_speed\n2026-06-01T00:00:00Z,,1200,1000,20,3\n"
                 "2026-06-01T01:00:00Z,,lots,1000,21,3\n2026-06-01T02:00:00Z,,1190,,22,3\nyesterday,,1,1,1,1\n")
    tm = read_telemetry([f])
    assert sorted((e.line, e.path) for e in tm.findings.errors) == [(3, "utility_kw"), (5, "timestamp")]
    assert any(n.path == "fan_speed" and n.line == 1 for n in tm.findings.notes)
    assert any(n.path == "it_kw" and n.line == 4 for n in tm.findings.notes)  # an empty reading is skipped, noted
    g = tmp_path / "nostamp.csv"
    g.write_text("time,it_kw\n1,2\n")
    assert [(e.line, e.path) for e in read_telemetry([g]).findings.errors] == [(1, "timestamp")]


def test_meter_parquet_reads(tmp_path):
    f = tmp_path / "meters.parquet"
    pd.DataFrame({"timestamp": [T0, T0 + 3600], "hall": ["hall-1", "hall-1"], "it_kw": [1000.0, 1010.0]}).to_parquet(f)
    tm = read_telemetry([f])
    assert tm.findings.errors == []
    assert list(tm.meters["it_kw"]) == [1000.0, 1010.0]
    assert list(tm.meters["t"]) == [T0, T0 + 3600]


def test_series_map_by_gpu_and_model_name_where_unambiguous_and_else_are_reported(tmp_path):
    spec = load_spec(PILOT)  # hall-1: hgx-h100 and hgx-h200, both serving both models
    mapper = Mapper(spec)
    assert mapper.assign("gpu_power_w", {"modelName": "NVIDIA H100 80GB HBM3"}).deployment == 0
    assert mapper.assign("gpu_power_w", {"modelName": "NVIDIA H200"}).deployment == 1
    engine = mapper.assign("output_tokens", {"model_name": VLLM_MODEL})
    assert engine.deployment is None
    assert engine.model == "llama-3.3-70b"
    assert "fits 2 deployments" in engine.why
    m = tmp_path / "mapping.yaml"
    m.write_text('series:\n  - match: {model_name: "meta-llama/*", engine: "0"}\n    deployment: hall-1/hgx-h200\n    tenant: search\n')
    a = Mapper(spec, load_mapping(m, spec)).assign("output_tokens", {"model_name": VLLM_MODEL, "engine": "0"})
    assert (a.deployment, a.model, a.tenant) == (1, "llama-3.3-70b", "search")


def test_a_mapping_naming_what_the_spec_lacks_fails_with_its_line(tmp_path):
    spec = load_spec(PILOT)
    m = tmp_path / "mapping.yaml"
    m.write_text("series:\n  - match: {Hostname: a}\n    deployment: hall-9/hgx-h100\n  - match: {Hostname: b}\n    hall: hall-2\n")
    with pytest.raises(SpecError) as exc:
        load_mapping(m, spec)
    assert sorted((i.line, i.path) for i in exc.value.issues) == [(3, "series[0].deployment"), (5, "series[1].hall")]
    m.write_text("series:\n  - match: {}\n    hall: hall-1\n    colour: red\n")
    with pytest.raises(SpecError) as exc:
        load_mapping(m, spec)
    assert sorted((i.line, i.path) for i in exc.value.issues) == [(2, "series[0].match"), (4, "series[0].colour")]


def test_strict_check_turns_notes_into_exit_2(tmp_path, monkeypatch, capsys):
    f = tmp_path / "scrape.prom"
    f.write_text(dcgm_scrape(T0 * 1000, 600, 50) + dcgm_scrape((T0 + 15) * 1000, 610, 55))
    assert aift(monkeypatch, "telemetry", "check", PILOT, f) == 0
    assert aift(monkeypatch, "telemetry", "check", PILOT, f, "--strict") == 2
    assert "DCGM_FI_DEV_SM_CLOCK: unknown metric" in capsys.readouterr().err


def test_missing_files_and_unknown_kinds_are_input_errors(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.docx").write_text("x")
    assert aift(monkeypatch, "telemetry", "check", PILOT, tmp_path / "nope.prom", tmp_path / "notes.docx") == 2
    err = capsys.readouterr().err
    assert "nope.prom: no such file" in err
    assert "unknown telemetry file type .docx" in err


def test_findings_fold_repeats():
    f = Findings()
    for line in (3, 9, 12):
        f.note("a.prom", line, "x", "nan sample dropped", key=("nan", "a.prom", "x"))
    assert f.note_lines() == ["a.prom:3:1: x: nan sample dropped (and 2 more like it)"]


def test_openmetrics_stamps_are_seconds_and_a_mistyped_family_is_an_error(tmp_path):
    f = tmp_path / "scrape.om"
    f.write_text("# TYPE vllm:generation_tokens counter\n"
                 f'vllm:generation_tokens_total{{model_name="m"}} 10 {T0}\n'
                 f'vllm:generation_tokens_total{{model_name="m"}} 70 {T0 + 60}\n'
                 "# TYPE DCGM_FI_DEV_POWER_USAGE histogram\n"
                 f'DCGM_FI_DEV_POWER_USAGE{{gpu="0"}} 600 {T0}\n'
                 "# EOF\n")
    tm = read_telemetry([f])
    assert list(_counter(tm, "vllm:generation_tokens")["t"]) == [T0, T0 + 60]  # seconds, not milliseconds
    assert [(e.line, e.message) for e in tm.findings.errors] == [(5, "declared histogram, but DCGM_FI_DEV_POWER_USAGE is a gauge")]


def test_sglang_metrics_as_its_docs_show_them(tmp_path):
    # SGLang's /metrics (docs: production metrics): token counters, token_usage and cache_hit_rate gauges, TTFT histogram
    lab = 'model_name="meta-llama/Llama-3.1-8B-Instruct"'
    f = tmp_path / "sglang.prom"
    f.write_text("\n".join([
        "# HELP sglang:generation_tokens_total Number of generation tokens processed.", "# TYPE sglang:generation_tokens_total counter",
        f"sglang:generation_tokens_total{{{lab}}} 7.557572e+06 {T0 * 1000}",
        "# HELP sglang:token_usage The token usage", "# TYPE sglang:token_usage gauge", f"sglang:token_usage{{{lab}}} 0.28 {T0 * 1000}",
        "# HELP sglang:cache_hit_rate The cache hit rate", "# TYPE sglang:cache_hit_rate gauge",
        f"sglang:cache_hit_rate{{{lab}}} 0.007507552643049313 {T0 * 1000}",
        "# TYPE sglang:time_to_first_token_seconds histogram",
        f'sglang:time_to_first_token_seconds_bucket{{le="0.001",{lab}}} 0.0 {T0 * 1000}',
        f'sglang:time_to_first_token_seconds_bucket{{le="+Inf",{lab}}} 4.0 {T0 * 1000}',
        f"sglang:time_to_first_token_seconds_sum{{{lab}}} 2.35 {T0 * 1000}", f"sglang:time_to_first_token_seconds_count{{{lab}}} 4.0 {T0 * 1000}",
    ]) + "\n")
    tm = read_telemetry([f])
    assert tm.findings.errors == []
    roles = dict(zip(tm.samples["role"], tm.samples["value"], strict=False))
    assert roles["output_tokens"] == 7.557572e06
    assert roles["kv_cache_usage"] == 0.28
    assert [n.path for n in tm.findings.notes] == ["sglang:cache_hit_rate"]  # a rate with no counts behind it: not used, said so


def test_a_series_missing_from_some_scrapes_is_a_gap_not_a_drop(tmp_path):
    # Two engines scraped every 15 s; engine B's series is missing from the scrapes at 15, 30 and 45 s (its exporter
    # was down). B's counter goes 0 -> 600 between 0 s and 60 s: one 60 s interval, over 3 x 15 s, so a gap, left out;
    # then +150 over 60-75 s. A's rate is untouched: 100 tokens every 15 s.
    def scrape(t, a, b):
        text = vllm_scrape((T0 + t) * 1000, a, 0.0, [1], model="org/a")
        return text + (vllm_scrape((T0 + t) * 1000, b, 0.0, [1], model="org/b") if b is not None else "")

    f = tmp_path / "two-engines.prom"
    f.write_text("".join(scrape(t, a, b) for t, a, b in [(0, 0, 0), (15, 100, None), (30, 200, None), (45, 300, None), (60, 400, 600), (75, 500, 750)]))
    tm = read_telemetry([f])
    gen = _counter(tm, "vllm:generation_tokens")
    edges = np.array([T0, T0 + 90.0])
    scrape_s = usual_intervals(tm.samples)[str(f)]
    assert scrape_s == 15.0  # B's own intervals (60, 15) would not tell a 60 s hole from a slow exporter
    by_model = {tm.labels[sid]["model_name"]: g for sid, g in gen.groupby("series")}
    assert counter_rates(by_model["org/a"], edges, tm.findings, scrape_s)[0] == pytest.approx(500 / 75)
    assert counter_rates(by_model["org/b"], edges, tm.findings, scrape_s)[0] == pytest.approx(150 / 15)
    gap = [n for n in tm.findings.notes if "gap of 1 min" in n.message]
    assert len(gap) == 1
    assert 'model_name="org/b"' in gap[0].path
