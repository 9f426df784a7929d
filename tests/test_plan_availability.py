"""Availability in the plan: redundancy is bought where the twin says it pays.

tests/specs/plan-availability.yaml: eight GB200 NVL72 racks (112.2 kW of liquid heat each,
898 kW) cooled by 400 kW dry coolers that work 500 / (500 + 100) = 5/6 of the time, with
demand flat at 0.95. Three coolers carry the heat; N, N+1, N+2 and 2N put 3, 4, 5 and 6 in
place. The twin serves min(0.95, A) of the racks' capacity, so the plant's k-of-n
availability A sets the tokens; the twin's own enumeration of the schemes must agree with
the plan's choice, and its cost per token with the plan's prediction.
"""

from __future__ import annotations

import math

import pytest

from optimizer.problem_types import SITE
from tests.plan_support import PLAN_AVAILABILITY, plan
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.overrides import apply_overrides

UNITS = {"N": 3, "N+1": 4, "N+2": 5, "2N": 6}


def _k_of_n(k: int, n: int, p: float = 5 / 6) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


def test_the_schemes_differ_in_tokens_by_hand():
    # 3 of 3: 0.579, 3 of 4: 0.868, 3 of 5: 0.965, 2N as 3 of 6 for the twin's k-of-n: 0.991; only those below 0.95 lose tokens
    assert [_k_of_n(3, n) < 0.95 for n in (3, 4, 5, 6)] == [True, True, False, False]


def test_the_plan_picks_the_redundancy_the_twin_finds_best():
    _, sol, _, written = plan(load_spec(PLAN_AVAILABILITY), rel_gap=1e-6)
    chosen = sol.equipment[SITE, "dry"]
    plants = written.model_dump(mode="json", by_alias=True)["cooling"]["plants"]
    scores = {}
    for scheme, units in UNITS.items():
        changed = [p | {"units": units, "redundancy": scheme} if p["id"] == "dry" else p for p in plants]
        scores[scheme] = evaluate(apply_overrides(written, {"cooling.plants": changed})).kpis["cost_per_million_tokens_usd"]
    best = min(scores, key=scores.get)
    assert chosen.option == f"flaky-drycooler-400kw@{best}"
    assert chosen.installed_units == UNITS[best]
    assert sol.cost_per_mtok_usd == pytest.approx(scores[best], rel=0.01)
