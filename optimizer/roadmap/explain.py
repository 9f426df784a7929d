"""Why a roadmap is infeasible, in words: the first year whose demand its interconnect or its halls cannot carry.

The tighter of the two limits is named.

A bound, not a proof: each year's most tokens is taken as if every position held the
rack that serves each model best per kW (for the interconnect) or per rack (for the
positions), with the site's losses and cooling at the design hour and no network.
"""

from __future__ import annotations

from optimizer.model import rack_facility_kw
from optimizer.problem import SECONDS_PER_HOUR
from optimizer.roadmap.problem import RoadmapProblem

HOURS_PER_YEAR = 8760


def infeasible_reason(rp: RoadmapProblem) -> str:
    """A sentence naming the first year and limit that cannot meet the demand, or the general one."""
    for t, p in enumerate(rp.plans):
        open_halls = [h for h in p.halls if rp.hall_first_year[h.id] <= t]
        for d in p.models:
            if not d.tokens_per_year:
                continue
            ready = [s for s in p.systems if rp.variants[s.id].first_year <= t and s.rate(d.id) > 0]
            rate = f"{d.tokens_per_year / SECONDS_PER_HOUR / HOURS_PER_YEAR:,.0f} tokens/s of {d.id}"
            if not ready:
                return f"in {rp.years[t]} no candidate system that can serve {d.id} has shipped (or arrived after its lead time), yet {rate} are asked"
            per_kw = max(s.rate(d.id) / rack_facility_kw(s, "liquid" if s.liquid_only else "air", p.design_hour, "rack_kw") for s in ready)
            by_power = per_kw * p.utility_kw
            by_positions = sum(h.positions for h in open_halls) * max(s.rate(d.id) for s in ready)
            limits = [
                (by_power, f"the {p.utility_kw / 1000:,.4g} MW interconnect carries", "interconnect"),
                (by_positions, f"the {sum(h.positions for h in open_halls):,} positions of the halls open by then hold", "positions"),
            ]
            most, what, limit = min(limits)
            if most < d.tokens_per_year:
                return (
                    f"in {rp.years[t]} {what} at most ~{most / SECONDS_PER_HOUR / HOURS_PER_YEAR:,.0f} tokens/s of {d.id} "
                    f"on the best system available, but {rate} are asked ({limit} binds)"
                )
    return "no roadmap meets every year's demand within its interconnect, positions, budget and lead times together"
