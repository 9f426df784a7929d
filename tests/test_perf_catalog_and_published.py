"""Published reference points as the model reads them, and models added from YAML with `aift perf --catalog`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli_support import aift_captured
from twin.loader import shipped_catalog
from twin.perf.published import PUBLISHED_CSV, _disaggregated, _replica_gpus, _speculative, _tokens, load_published

AIR = """\
models:
  - id: glm-4.5-air
    params_total_b: 106
    params_active_b: 12
    layers: 46
    hidden_size: 4096
    attention: gqa
    kv_heads: 8
    head_dim: 128
    attention_heads: 96
    experts: 128
    experts_per_token: 8
    shared_experts: 1
    precisions: [bf16, fp8]
    source: zai-org/GLM-4.5-Air config.json
"""




def test_the_published_table_ships_in_the_repo_with_every_quote():
    assert PUBLISHED_CSV.is_relative_to(Path(__file__).resolve().parents[1])
    with open(PUBLISHED_CSV, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 150
    assert all(r["quote"].strip() and r["source_file"].strip() for r in rows)


def test_published_wording_is_read_by_stated_rules():
    assert _tokens("8192") == 8192
    assert _tokens("1k") == 1024
    assert _tokens("128K") == 131072
    assert _tokens("") is None
    assert _replica_gpus("16 (TP 4 / EP 4 decode, 16 GPU non-disaggregated pool)") == 4
    assert _replica_gpus("8 (TP=8)") == 8
    assert _replica_gpus("per chip") is None
    assert _disaggregated("aggregated (non-disaggregated); MTP not stated") is False
    assert _disaggregated("disaggregated prefill (per post text)") is True
    assert _disaggregated("stated Pareto point, config not stated") is None
    assert _speculative("MTP on; fastest") is True
    assert _speculative("aggregated, single non-disaggregated node; no MTP/EAGLE") is False
    assert _speculative("Pareto-curve end point, config not stated") is None


def test_usable_published_points_are_in_the_catalog_and_count_total_tokens():
    cat = shipped_catalog()
    points = load_published(cat)
    assert len(points) >= 50
    assert all(p.system in cat.systems and p.model in cat.models for p in points)
    assert all(p.precision in cat.models[p.model].precisions for p in points)
    assert {p.model for p in points} >= {"deepseek-r1", "kimi-k2", "minimax-m2.5"}
    assert all(p.tokens_counted == "total" for p in points)  # every row is InferenceX's tput_per_gpu


def test_a_model_added_from_yaml_is_served_and_says_how(monkeypatch, capsys, tmp_path):
    extra = tmp_path / "air.yaml"
    extra.write_text(AIR)
    code, out, err = aift_captured(monkeypatch, capsys, "perf", "--catalog", str(extra), "--model", "glm-4.5-air",
                           "--system", "hgx-h200", "--min-interactivity", "30", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["model"] == "glm-4.5-air"
    assert doc["tokens_per_s_per_gpu"] > 0
    assert set(doc["serving"]) == {"mode", "decode_gpus", "prefill_gpus", "speculative_tokens_per_step", "drafts", "layout"}
    assert all("serving" in p for p in doc["frontier"])


def test_a_bad_catalog_file_names_file_line_and_field(monkeypatch, capsys, tmp_path):
    extra = tmp_path / "bad.yaml"
    extra.write_text(AIR.replace("layers: 46", "layers: 0"))
    code, out, err = aift_captured(monkeypatch, capsys, "perf", "--catalog", str(extra), "--model", "glm-4.5-air", "--system", "hgx-h200")
    assert code == 2
    assert f"{extra}:5:5: models[0].layers" in err  # line 5 of the file, at the key
    assert "Traceback" not in out + err
