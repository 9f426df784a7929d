"""The plan problem derived from a spec: group roles, rack variants, figures from the twin, the plan section's checks."""

from __future__ import annotations

import pytest

from optimizer.problem import problem_from_spec
from optimizer.problem_types import SITE
from optimizer.spec_roles import PlanError, group_roles
from tests.conftest import PILOT, REFERENCE
from tests.plan_support import PLAN_SMALL, small_spec
from twin.errors import SpecError
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides


def test_each_group_carries_the_load_of_the_halls_below_it():
    roles = {g: (r.scope, r.carries) for g, r in group_roles(load_spec(REFERENCE)).items()}
    assert roles["ups-a-h1"] == roles["bus-b-h1"] == ("hall-1", "it")  # each side of an A/B pair carries the whole hall
    assert roles["tx-a"] == roles["gen-a"] == (SITE, "it")
    assert roles["warm-water"] == (SITE, "liquid_heat")
    assert roles["crah-h2"] == ("hall-2", "air_heat")
    assert roles["tx-mech"] == (None, None)  # it powers only the cooling plants
    assert group_roles(load_spec(PILOT))["tx-1"].carries == "facility"  # it feeds the racks and the chillers


def test_opening_a_group_the_optimizer_cannot_size_is_refused():
    spec = apply_overrides(load_spec(REFERENCE), {"plan": {"equipment": [{"group": "tx-mech"}]}})
    with pytest.raises(PlanError, match="tx-mech.*powers only the cooling"):
        problem_from_spec(spec)


def test_racks_required_where_they_cannot_go_are_refused():
    with pytest.raises(PlanError, match="gb200-nvl72 cannot go in hall-2"):
        problem_from_spec(small_spec(**{"plan.halls": [{"hall": "hall-2", "min_racks": {"gb200-nvl72": 1}}]}))


def test_servers_fill_a_light_hall_to_its_density():
    p = problem_from_spec(apply_overrides(load_spec(PILOT), {"plan": {"systems": ["hgx-h100", "gb200-nvl72"]}}))
    [hall] = p.halls
    assert hall.systems == {"hgx-h100@2", "hgx-h200@2"}  # 2 x 10.2 kW in a 25 kW position; the NVL72 does not fit
    assert hall.min_racks == {"hgx-h100@2": 36, "hgx-h200@2": 28}  # the racks deployed stay, at their density
    assert p.system("hgx-h100@2").gpus_per_rack == 16


def test_figures_are_those_of_the_twin():
    spec = small_spec()
    p = problem_from_spec(spec)
    nvl = p.system("gb200-nvl72")
    assert nvl.liquid_only
    assert nvl.rack_max_kw == 132
    assert nvl.rack_mean_kw < nvl.rack_kw < nvl.rack_max_kw
    assert 0 < p.mean_hour.it_overhead_frac < 0.15
    assert 0 < p.design_hour.it_overhead_frac < 0.15
    assert p.mean_hour.air_cooling_kw_per_kw < p.design_hour.air_cooling_kw_per_kw  # chillers work harder in the hottest hour
    assert p.energy_usd_per_kw_year == pytest.approx(80 * 8.76, rel=0.02)  # a flat tariff, plus a little water
    assert p.fixed_annual_usd == 300_000
    shares = {m.id: m.min_token_share for m in p.models}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-5)
    assert shares["gpt-oss-120b"] > 0.7


def test_an_absolute_demand_replaces_the_token_mix():
    p = problem_from_spec(small_spec(**{"plan.demand_output_tokens_per_s": {"gpt-oss-120b": 1e6}}))
    demand = {m.id: m for m in p.models}
    assert demand["gpt-oss-120b"].tokens_per_year == pytest.approx(1e6 * 8760 * 3600)
    assert demand["llama-3.3-70b"].tokens_per_year is None
    assert all(m.min_token_share == 0 for m in p.models)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("{systems: [gb900]}", "plan.systems[0]: unknown system 'gb900'"),
        ("{halls: [{hall: hall-9}]}", "plan.halls[0].hall: unknown hall 'hall-9'"),
        ("{halls: [{hall: hall-2, cooling: [liquid]}]}", "hall 'hall-2' has no CDU loop"),
        ("{halls: [{hall: hall-1, min_racks: {hgx-b200: 3}, max_racks: {hgx-b200: 2}}]}", "above its max_racks 2"),
        ("{equipment: [{group: ups-9}]}", "unknown power or cooling group 'ups-9'"),
        ("{equipment: [{group: ups-1, equipment: [cdu-1350kw]}]}", "'cdu-1350kw' is a cdu; group 'ups-1' takes a ups"),
        ("{demand_output_tokens_per_s: {llama-3.1-405b: 10}}", "unknown workload model 'llama-3.1-405b'"),
    ],
)
def test_the_plan_section_is_checked_against_the_spec(plan, message):
    text = PLAN_SMALL.read_text().split("\nplan:\n")[0] + f"\nplan: {plan}\n"
    with pytest.raises(SpecError) as exc:
        load_spec_text(text, "plan.yaml")
    assert message in str(exc.value)
