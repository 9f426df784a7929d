"""Discounting, resale and levelized cost of the roadmap against hand-worked numbers; the catalog over time."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from optimizer.highs import solve_model
from optimizer.roadmap.model import build_roadmap_model, minimize_pv_cost
from optimizer.roadmap.problem import demand_in_year, roadmap_problem, step_value
from optimizer.roadmap.solve import serve_most
from tests.roadmap_support import small_roadmap
from twin.catalog_time import first_service_year, price_in_year
from twin.economics import capital_recovery_factor
from twin.loader import shipped_catalog
from twin.roadmap_spec import DemandPath


def test_a_system_shipping_after_the_first_quarter_serves_from_the_next_year():
    cat = shipped_catalog()
    assert first_service_year(cat.systems["vr-nvl72"]) == 2027  # 2026Q3
    assert first_service_year(cat.systems["hgx-h100"]) == 2023  # "2023": the whole year
    assert first_service_year(cat.systems["mi300x"]) == 2024  # 2024Q1 serves 2024


def test_prices_follow_their_path():
    vr = shipped_catalog().systems["vr-nvl72"]
    # $6.0M from 2027 (its first year), -10 %/year: 6.0 x 0.9^2 = 4.86 in 2029.
    assert price_in_year(vr, 2029, 2026) == pytest.approx(4.86e6)
    assert price_in_year(vr, 2026, 2026) == pytest.approx(6.0e6)
    listed = vr.model_copy(update={"price_by_year": {2026: 100.0, 2028: 80.0}, "price_decline_per_year": 0.5})
    assert price_in_year(listed, 2025, 2026) == 100.0  # before the first listed year: its price
    assert price_in_year(listed, 2027, 2026) == 100.0
    assert price_in_year(listed, 2029, 2026) == pytest.approx(40.0)  # 80 halved a year after 2028
    gb300 = shipped_catalog().systems["gb300-nvl72"].model_copy(update={"price_decline_per_year": 0.2})
    # Shipping already (2025Q3 -> 2026): the decline runs from 2026; 3.5 x 0.8^2 = 2.24 in 2028.
    assert price_in_year(gb300, 2028, 2026) == pytest.approx(2.24e6)


def test_demand_and_interconnect_are_steps_or_growth():
    grown = DemandPath(first_year_tokens_per_s=1.0e6, growth_per_year=0.5)
    assert demand_in_year(grown, 2026, 2028) == pytest.approx(2.25e6)  # 1.0 x 1.5^2
    listed = DemandPath(tokens_per_s={2026: 1.0, 2028: 3.0})
    assert [demand_in_year(listed, 2026, y) for y in (2026, 2027, 2028, 2030)] == [1.0, 1.0, 3.0, 3.0]
    assert step_value({2026: 200.0, 2028: 500.0}, 2027) == 200.0


def test_discount_factors_and_remaining_values():
    rp = roadmap_problem(small_roadmap())
    assert rp.factor(2) == pytest.approx(1 / 1.1664)  # 8 %: 1.08^2 = 1.1664
    assert rp.it_value_share(1) == pytest.approx(0.6)  # life 2, resale 0.2: 1 - 0.8 x 1/2
    assert rp.it_value_share(2) == pytest.approx(0.2)
    assert rp.remaining("building", 5) == pytest.approx(0.8)  # 25-year life: 1 - 5/25
    assert rp.remaining("network", 7) == 0.0


def test_one_rack_over_three_years_by_hand():
    # One GB300 NVL72 rack in hall-1 for the whole horizon (life 3), asked for exactly what it serves in a year.
    rate = roadmap_problem(small_roadmap()).plans[0].system("gb300-nvl72").rate("gpt-oss-120b")  # tokens a year
    demand = {"gpt-oss-120b": {"first_year_tokens_per_s": rate / (3600 * 8760)}}
    rp = roadmap_problem(small_roadmap(**{"roadmap.system_life_years": 3, "roadmap.demand": demand}), "min-cost")
    m = build_roadmap_model(rp)
    for k in m.COHORTS:
        m.cohort[k].fix(1 if k == ("hall-1", "gb300-nvl72", 0, 2) else 0)
    minimize_pv_cost(m)
    solve_model(m, time_limit_s=60, rel_gap=1e-9)
    serve_most(m, 60)
    d3 = 1 / 1.08**3  # 0.793832
    # The rack: IT $3.5M, fit-out $6.5M/MW x 0.14 MW = $910,000, optics 72 GPUs x one 800G optic x $1,200 = $86,400;
    # after 3 years IT is worth 0.2 x 3.5M = $700,000 (its life's end), fit-out 1 - 3/25 = 0.88, optics 1 - 3/5 = 0.4.
    bought = 3.5e6 + 910_000 + 86_400
    worth = 700_000 + 910_000 * 0.88 + 86_400 * 0.4
    assert pyo.value(m.rack_pv_usd) == pytest.approx(bought - d3 * worth, rel=1e-9)
    # hall-1's $2M shell bought in 2026, worth 1 - 3/25 of it at the horizon; hall-2 never built.
    assert pyo.value(m.hall_pv_usd) == pytest.approx(2.0e6 * (1 - d3 * 0.88), rel=1e-9)
    # Tokens served each year: the rack's, less what unavailability costs (the year-plan's), discounted as the cash is.
    served = [pyo.value(m.year[t].served_tokens_mtok) for t in range(3)]
    assert all(0.95 * rate / 1e6 <= x <= rate / 1e6 * (1 + 1e-9) for x in served)
    assert pyo.value(m.pv_tokens_mtok) == pytest.approx(served[0] + served[1] / 1.08 + served[2] / 1.08**2, rel=1e-12)
    # The twin's view of a year: the year-plan's annual cost plus the shell recovered over 25 years.
    crf = capital_recovery_factor(0.08, 25)  # 0.08 x 1.08^25 / (1.08^25 - 1) = 0.093679
    assert crf == pytest.approx(0.093679, abs=1e-6)
    for t in range(3):
        assert pyo.value(m.annual_cost_usd[t]) == pytest.approx(pyo.value(m.year[t].annual_cost_usd) + 2.0e6 * crf, rel=1e-9)
    # Capital spent: the rack and the shell (and the units) in 2026, nothing after: the same rack needs no more units.
    assert pyo.value(m.capex_usd[0]) >= bought + 2.0e6
    assert pyo.value(m.capex_usd[1]) == pytest.approx(0.0, abs=1e-6)
    assert pyo.value(m.capex_usd[2]) == pytest.approx(0.0, abs=1e-6)
    # Levelized: discounted cost over discounted tokens, the cash of each year discounted as the tokens are.
    opex = [pyo.value(m.opex_usd[t]) for t in range(3)]
    cost = pyo.value(m.rack_pv_usd + m.equipment_pv_usd + m.hall_pv_usd) + opex[0] + opex[1] / 1.08 + opex[2] / 1.08**2
    assert pyo.value(m.pv_cost_usd) == pytest.approx(cost, rel=1e-12)


def test_a_rack_sold_early_loses_the_haircut():
    # One GB300 rack serves 2026 only and is sold at the start of 2027, a year into its 2-year life: its IT is
    # worth 1 - 0.8 x 1/2 = 0.6 of $3.5M, less a 25 % haircut: $1.575M; fit-out 1 - 1/25 = 0.96, optics 1 - 1/5 = 0.8.
    demand = {"gpt-oss-120b": {"tokens_per_s": {2026: 0.1e6, 2027: 0.0}}}
    spec = small_roadmap(**{"roadmap.demand": demand, "roadmap.resale_haircut_frac": 0.25})
    rp = roadmap_problem(spec, "min-cost")
    m = build_roadmap_model(rp)
    for k in m.COHORTS:
        m.cohort[k].fix(1 if k == ("hall-1", "gb300-nvl72", 0, 0) else 0)
    minimize_pv_cost(m)
    solve_model(m, time_limit_s=60, rel_gap=1e-9)
    worth = 3.5e6 * 0.6 * 0.75 + 910_000 * 0.96 + 86_400 * 0.8
    assert pyo.value(m.rack_pv_usd) == pytest.approx(3.5e6 + 910_000 + 86_400 - worth / 1.08, rel=1e-9)
