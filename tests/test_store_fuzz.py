"""Random damage to a results store (seeded byte flips and truncations of index.sqlite and the series
files): every `aift runs` command ends with exit 0 or 2 and a message, never a traceback."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.cli_support import aift
from tests.store_support import fill_store
from tests.sweep_support import stored_rows

CASES = 40


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return fill_store(tmp_path_factory.mktemp("pristine"))


def _damage(rng: random.Random, runs: Path) -> str:
    files = [runs / "index.sqlite", *sorted((runs / "series").glob("*.parquet"))]
    target = files[0] if rng.random() < 0.6 else rng.choice(files[1:])
    blob = bytearray(target.read_bytes())
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 64)):
            i = rng.randrange(len(blob))
            blob[i] ^= 1 << rng.randrange(8)
        how = "flips"
    else:
        blob = blob[: rng.randrange(len(blob))]
        how = "truncated"
    target.write_bytes(bytes(blob))
    return f"{target.name} {how}"


@pytest.mark.parametrize("seed", range(CASES))
def test_no_damage_ever_gives_a_traceback(monkeypatch, capsys, pristine, tmp_path, seed):
    rows = stored_rows(pristine)
    ok = sorted(i for i, r in rows.items() if r["status"] == "ok")
    sweep = next(iter(rows.values()))["sweep_id"]
    runs = tmp_path / "runs"
    shutil.copytree(pristine, runs)
    what = _damage(random.Random(seed), runs)
    commands = [
        ["runs", "list", "--runs", runs],
        ["runs", "list", "--runs", runs, "--json"],
        *(["runs", "show", i, "--runs", runs] for i in ok),
        ["runs", "show", ok[0], "--runs", runs, "--json"],
        ["runs", "compare", *ok, "--runs", runs],
        ["runs", "export", "--format", "parquet", "--out", tmp_path / "x.parquet", "--runs", runs, "--force"],
        ["runs", "sensitivity", sweep, "--kpi", "it_capex_usd", "--runs", runs],
        ["runs", "repair", "--runs", runs],
        ["runs", "list", "--runs", runs],
        ["runs", "show", ok[-1], "--runs", runs],
    ]
    for args in commands:
        code = aift(monkeypatch, *args)
        captured = capsys.readouterr()
        assert code in (0, 2), (what, args, captured.err)
        assert "Traceback" not in captured.out + captured.err, (what, args)
        if code == 2:
            assert captured.err.strip(), (what, args)
