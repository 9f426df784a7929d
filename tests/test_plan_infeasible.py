"""Requests no plan can meet exit 3 with the limit to relax and by how much, each checked by planning at that value.

All on plan-small (tests/specs/plan-small.yaml): two halls of 4 and 6 positions, a 1.5 MW
interconnect, gpt-oss-120b and llama-3.3-70b with the catalog's default SLA.
"""

from __future__ import annotations

import re
import shutil

import pytest

from optimizer.highs import Infeasible
from optimizer.planning import plan_facility
from tests.cli_support import aift
from tests.plan_support import PLAN_SMALL, small_spec
from twin.perf import PerfError, operating_point


def _reason(**overrides) -> str:
    with pytest.raises(Infeasible) as caught:
        plan_facility(small_spec(**overrides), time_limit_s=60, verify=False)
    return caught.value.reason


def _number(pattern: str, text: str) -> float:
    return float(re.search(pattern, text).group(1).replace(",", ""))


def test_a_20_kw_interconnect_names_the_megawatts_the_smallest_plan_needs():
    reason = _reason(**{"site.utility_mw": 0.02})
    assert reason.startswith("the smallest plan with tokens needs ")
    assert reason.endswith("MW at this site; the interconnect is 0.02 MW")
    needed_mw = _number(r"needs ([\d.,]+) MW", reason)
    run = plan_facility(small_spec(**{"site.utility_mw": needed_mw}), time_limit_s=60)  # rounded up: it suffices
    assert run.twin["capped_hours"] == 0
    assert run.twin["peak_facility_power_mw"] <= needed_mw


def test_a_budget_below_one_rack_names_the_least_budget():
    reason = _reason(**{"plan.capex_budget_usd": 1e6})
    needed = _number(r"needs \$([\d.,]+)M of capex", reason) * 1e6
    assert reason.endswith("of capex; the budget is $1.0M")
    run = plan_facility(small_spec(**{"plan.capex_budget_usd": needed}), time_limit_s=60)
    assert run.twin["capex_usd"] <= needed * (1 + 1e-6)
    less = _reason(**{"plan.capex_budget_usd": needed - 0.2e6})  # $0.1M of rounding up, and $0.1M less: too little
    assert "of capex" in less


def test_a_very_large_demand_names_the_limits_not_the_model():
    reason = _reason(**{"plan.objective": "min-cost", "plan.demand_output_tokens_per_s": {"gpt-oss-120b": 1e9}})
    assert "no candidate system can serve" not in reason
    assert "MW at this site; the interconnect is 1.5 MW" in reason
    assert "rack positions in hall-1; it has 4" in reason


def test_an_unmeetable_sla_exits_3_with_the_best_achievable(monkeypatch, capsys, tmp_path):
    spec_file = tmp_path / "site.yaml"
    shutil.copy(PLAN_SMALL, spec_file)
    text = spec_file.read_text().replace("precision: fp4, share: 0.7}", "precision: fp4, share: 0.7, sla: {min_tokens_per_s_per_user: 5000}}")
    spec_file.write_text(text)
    assert aift(monkeypatch, "plan", spec_file) == 3
    message = capsys.readouterr().err
    assert "no candidate system serves gpt-oss-120b at its SLA (>= 5000 tok/s/user" in message
    best = _number(r"the best achievable is ([\d.,]+) tok/s/user", message)
    system = re.search(r"tok/s/user, on ([\w.-]+)", message).group(1)
    spec = small_spec()
    wm = spec.workload.models[0]
    for asked, served in ((best * 0.98, True), (best * 1.02, False)):  # the best is the frontier's end, up to its rounding
        sla = wm.sla.model_copy(update={"min_tokens_per_s_per_user": asked, "max_ttft_s": 1e9})
        try:
            operating_point(spec.cat.systems[system], spec.cat.models[wm.model], wm.model_copy(update={"sla": sla}))
            assert served
        except PerfError:
            assert not served
