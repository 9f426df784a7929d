"""Planning power is the twin's hourly peak: racks draw what their model's operating point draws.

On plan-small's hall-1 (four positions) with an interconnect that binds, two models whose
operating points draw different power, and the most tokens as the objective: the layouts
the twin carries without a capped hour are enumerated with `twin.evaluate`, and the plan
must be the best of them, its design-hour power the twin's peak.
"""

from __future__ import annotations

from itertools import product

import pytest

from tests.plan_support import plan, small_spec
from twin.evaluate import evaluate
from twin.overrides import apply_overrides

BOUND = {
    "site.utility_mw": 0.3,
    "workload.models": [
        {"model": "gpt-oss-120b", "precision": "fp4", "share": 0.5},
        {"model": "llama-3.3-70b", "precision": "fp8", "isl": 2048, "osl": 512, "share": 0.5},
    ],
    "plan": {"objective": "max-tokens", "systems": ["gb200-nvl72", "hgx-b200"], "halls": [{"hall": "hall-2", "systems": []}]},
}


def test_the_plan_is_the_twins_best_layout_within_the_interconnect():
    spec = small_spec(**BOUND)
    _, sol, _, written = plan(spec, rel_gap=1e-9)
    planned = evaluate(written).kpis
    assert planned["capped_hours"] == 0
    assert sol.design_facility_kw / 1000 == pytest.approx(planned["peak_facility_power_mw"], rel=5e-3)
    shares = {wm.model: wm.share for wm in written.workload.models}
    tokens = {}
    for nvl, hgx in product(range(5), range(5)):
        if 0 < nvl + hgx <= 4:
            deployments = [{"hall": "hall-1", "system": s, "racks": n} for s, n in (("gb200-nvl72", nvl), ("hgx-b200", hgx)) if n]
            mix = [m | {"share": shares[m["model"]]} for m in BOUND["workload.models"]]  # the plan's token mix
            kpis = evaluate(apply_overrides(spec, {"deployments": deployments, "workload.models": mix, "plan": None})).kpis
            if kpis["capped_hours"] == 0:
                tokens[nvl, hgx] = kpis["output_tokens_per_year"]
    best = max(tokens, key=tokens.get)
    assert {(v, n) for (_, v), n in sol.racks.items()} == {(v, n) for v, n in zip(("gb200-nvl72", "hgx-b200"), best, strict=True) if n}
