"""Each year of a roadmap as a complete facility spec, which `aift evaluate` scores.

A year's spec is the one-year plan writer's (`optimizer.plan_yaml`) on that year's plan,
from the campus spec at that year's interconnect, with two things the year-plan does not
carry: each system's price is the mean of what its racks in service were bought at (so
the twin's capital recovery counts each cohort at its own price), and the halls' shells
are recovered as other opex at the building's life.
"""

from __future__ import annotations

from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.roadmap.problem import step_value, year_plan_spec
from optimizer.roadmap.schedule import Roadmap, RoadmapYear
from twin.overrides import apply_overrides
from twin.spec import Spec


def year_spec_yaml(spec: Spec, roadmap: Roadmap, year: RoadmapYear) -> str:
    """The facility of one roadmap year as YAML, headed by what the roadmap predicts for it."""
    rm = spec.roadmap
    prices = [e.model_copy(update={"price_usd": year.it_price_usd[e.id]}) for e in (spec.cat.systems[s] for s in year.it_price_usd)]
    inline = [e for e in spec.catalog.systems if e.id not in year.it_price_usd]
    overrides = {
        "name": f"{spec.name}-{year.year}",
        "site.utility_mw": step_value(rm.utility_mw, year.year),
        "economics.other_opex_usd_per_year": spec.economics.other_opex_usd_per_year + year.hall_annual_usd,
        "catalog.systems": [e.model_dump(mode="json", exclude_defaults=True) for e in [*inline, *prices]],
        "roadmap": None,
    }
    text = plan_to_spec_yaml(apply_overrides(year_plan_spec(spec, rm), overrides), year.plan)
    body = text[text.index("\nname:") + 1 :].replace("\nroadmap: null\n", "\n")
    return _header(spec, roadmap, year) + body


def _header(spec: Spec, roadmap: Roadmap, y: RoadmapYear) -> str:
    lines = [
        f"Year {y.year} of the roadmap of {spec.path or spec.name} (spec {spec.name!r}, hash {spec.spec_hash()}), by `aift roadmap`.",
        f"Objective {roadmap.objective}, {roadmap.status}, proven gap {roadmap.mip_gap:.3%}. Predicted for this year",
        "(`aift evaluate` scores this file with the full twin):",
        f"  cost per million output tokens: ${y.cost_per_mtok_usd:.4f}",
        f"  output tokens per year: {y.tokens_per_year:.4g} ({y.tokens_per_year / 8760 / 3600:,.0f} tokens/s)",
        f"  annual cost: ${y.annual_cost_usd:,.0f} (shells of the halls built: ${y.hall_annual_usd:,.0f} a year in other opex)",
        f"  facility power at the design hour: {y.plan.design_facility_kw / 1000:,.2f} MW of {y.utility_kw / 1000:,.2f} MW",
        f"  levelized over the roadmap: ${roadmap.levelized_usd_per_mtok:.4f} per million output tokens",
    ]
    return "".join(f"# {line}\n" for line in lines)
