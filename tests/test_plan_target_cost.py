"""The objective "most tokens at or below a target cost per million tokens"."""

from __future__ import annotations

import pytest

from optimizer.highs import Infeasible
from optimizer.planning import solve_spec
from tests.plan_support import plan, small_spec


def test_the_most_tokens_within_a_target_cost():
    _, cheapest, _, _ = plan(small_spec(), rel_gap=1e-6)  # the least cost per token
    target = cheapest.cost_per_mtok_usd * 1.05
    p, sol, _, _ = plan(small_spec(**{"plan.objective": "max-tokens-at-cost", "plan.target_cost_per_million_tokens_usd": target}), rel_gap=1e-6)
    assert sol.cost_per_mtok_usd <= target * (1 + 1e-6)
    assert sol.tokens_per_year >= cheapest.tokens_per_year * (1 - 1e-6)  # the cheapest plan is within the target: never fewer
    _, most, _, _ = plan(small_spec(**{"plan.objective": "max-tokens"}), rel_gap=1e-6)
    assert sol.tokens_per_year <= most.tokens_per_year * (1 + 1e-6)


def test_a_target_below_the_least_cost_per_token_names_it():
    _, cheapest, _, _ = plan(small_spec(), rel_gap=1e-6)
    spec = small_spec(**{"plan.objective": "max-tokens-at-cost", "plan.target_cost_per_million_tokens_usd": cheapest.cost_per_mtok_usd * 0.9})
    with pytest.raises(Infeasible, match=r"the least cost per million tokens here is \$") as caught:
        solve_spec(spec, rel_gap=1e-6)
    quoted = float(caught.value.reason.rsplit("$", 1)[1])
    assert quoted == pytest.approx(cheapest.cost_per_mtok_usd, rel=5e-3)  # quoted from the first probe's figures, not re-measured at the plan
