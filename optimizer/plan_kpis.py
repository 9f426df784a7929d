"""The plan's predicted figures under the names `twin.evaluate` reports, so the two can be set side by side."""

from __future__ import annotations

from optimizer.problem import outside_groups_usd
from optimizer.problem_types import PlanProblem
from optimizer.solution import Solution
from twin.spec import Spec

SECONDS_PER_YEAR = 8760 * 3600.0
COMPARED = (
    "cost_per_million_tokens_usd",
    "output_tokens_per_year",
    "output_tokens_per_s",
    "annual_cost_usd",
    "capex_usd",
    "gpus",
    "it_power_mw",
    "facility_power_mw",
    "peak_facility_power_mw",
    "pue",
)


def predicted_kpis(spec: Spec, p: PlanProblem, sol: Solution) -> dict[str, float]:
    """The linear model's figures for the plan; capex counts the groups built outside the model's stages."""
    fabric = {f.id: f for f in p.fabrics}
    mean_it_kw = sum(n * (p.system(s).rack_mean_kw + p.system(s).nic_kw) for (_, s), n in sol.racks.items())
    mean_it_kw -= sum(x * p.system(s).model_saving_kw(d, "rack_mean_kw") for (_, s, d), x in sol.serving.items())
    mean_it_kw += sum(fabric[f].switch_kw * n for f, n in sol.switches.items())
    return {
        "cost_per_million_tokens_usd": sol.cost_per_mtok_usd,
        "output_tokens_per_year": sol.tokens_per_year,
        "output_tokens_per_s": sol.tokens_per_year / SECONDS_PER_YEAR,
        "annual_cost_usd": sol.annual_cost_usd,
        "capex_usd": sol.capex_usd + outside_groups_usd(spec)[0],
        "gpus": float(sol.gpus),
        "it_power_mw": mean_it_kw / 1000.0,
        "facility_power_mw": sol.mean_facility_kw / 1000.0,
        "peak_facility_power_mw": sol.design_facility_kw / 1000.0,
        "pue": sol.mean_facility_kw / mean_it_kw if mean_it_kw else float("nan"),
    }
