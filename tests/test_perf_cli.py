"""`aift perf`: exit codes, messages and JSON keys, run in-process as the console script runs."""

from __future__ import annotations

import json

from tests.cli_support import aift_captured
from twin.loader import shipped_catalog
from twin.perf.points import JSON_KEYS


def test_model_that_does_not_fit_exits_2_with_a_clear_message(monkeypatch, capsys):
    code, out, err = aift_captured(monkeypatch, capsys, "perf", "--system", "hgx-h100", "--model", "llama-3.1-405b",
                           "--precision", "bf16", "--max-gpus-per-replica", "8")
    assert code == 2
    assert "does not fit hgx-h100" in err
    assert f"{shipped_catalog().models['llama-3.1-405b'].params_total_b * 2:,.0f} GB" in err  # BF16 weights
    assert "Traceback" not in out + err


def test_json_operating_point_and_frontier_keys(monkeypatch, capsys):
    code, out, _ = aift_captured(monkeypatch, capsys, "perf", "--system", "gb200-nvl72", "--model", "deepseek-r1", "--precision", "fp4",
                         "--min-interactivity", "50", "--max-ttft", "5", "--disaggregated", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(JSON_KEYS) <= set(doc)
    assert doc["tokens_per_s_per_user"] >= 50
    assert doc["ttft_s"] <= 5
    assert doc["frontier"]
    assert all(set(JSON_KEYS) <= set(p) for p in doc["frontier"])


def test_unknown_ids_and_unreachable_sla_exit_2(monkeypatch, capsys):
    code, _, err = aift_captured(monkeypatch, capsys, "perf", "--system", "hgx-h10", "--model", "llama-3.3-70b")
    assert code == 2
    assert "did you mean hgx-h100" in err
    code, _, err = aift_captured(monkeypatch, capsys, "perf", "--system", "hgx-h100", "--model", "llama-3.3-70b", "--min-interactivity", "5000")
    assert code == 2
    assert "best achievable" in err


def test_compare_gives_ratios_to_the_baseline(monkeypatch, capsys):
    code, out, _ = aift_captured(monkeypatch, capsys, "perf", "--compare", "--model", "llama-3.3-70b", "--baseline", "hgx-h100", "--json")
    assert code == 0
    rows = {r["system"]: r for r in json.loads(out)["systems"]}
    assert rows["hgx-h100"]["tokens_per_mw_vs_baseline"] == 1.0
    assert rows["hgx-h100"]["cost_per_token_vs_baseline"] == 1.0
    b200 = rows["hgx-b200"]
    assert b200["tokens_per_mw_vs_baseline"] == b200["tokens_per_s_per_mw"] / rows["hgx-h100"]["tokens_per_s_per_mw"]
    code, out, _ = aift_captured(monkeypatch, capsys, "perf", "--compare", "--model", "llama-3.3-70b")
    assert code == 0
    assert "gb300-nvl72" in out
