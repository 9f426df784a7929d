"""A facility with no racks yet (a spec written to be planned) evaluates: no tokens, no ratio, its equipment's cost."""

from __future__ import annotations

import math
from pathlib import Path

from twin.evaluate import evaluate
from twin.loader import load_spec

EMPTY = Path(__file__).parent / "specs" / "plan-small.yaml"  # no deployments


def test_a_facility_without_racks_evaluates_to_no_tokens():
    spec = load_spec(EMPTY)
    assert not spec.deployments
    k = evaluate(spec).kpis
    assert k["output_tokens_per_year"] == 0
    assert k["it_power_mw"] == 0
    assert math.isnan(k["pue"])  # facility over zero IT: no ratio, as the hourly PUE says
    assert k["annual_cost_usd"] > 0  # the equipment written is still paid for
