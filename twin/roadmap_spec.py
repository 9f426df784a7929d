"""The optional `roadmap:` section of a facility spec: a campus grown over years and GPU generations.

The spec describes the campus at its full extent (every hall, the power and cooling groups);
`aift roadmap` decides, year by year, which halls to build, which racks of which systems to
install, keep or retire, and how many power and cooling units to add, to meet each year's
demand within that year's interconnect. Year-indexed figures are step functions: a listed
year's value holds until the next listed year.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.catalog import Strict, Year
from twin.plan_spec import MAX_DEMAND_TOKENS_PER_S
from twin.units import Fraction, Id, NonNeg, NonNegInt, PosInt, PosMw, Usd

RoadmapObjective = Literal["levelized-cost-per-token", "min-cost"]
DemandTokensPerS = Annotated[NonNeg, Field(le=MAX_DEMAND_TOKENS_PER_S)]


class DemandPath(Strict):
    """One model's demand over the years: by year, or a first year's level and a growth rate."""

    tokens_per_s: dict[Year, DemandTokensPerS] = Field(
        default_factory=dict, description="Yearly mean output tokens/s at the SLA from each listed year on."
    )
    first_year_tokens_per_s: DemandTokensPerS | None = Field(None, description="Output tokens/s in the roadmap's first year.")
    growth_per_year: NonNeg | None = Field(None, description="Yearly growth after the first year (0.15 = +15 %/year).")

    @model_validator(mode="after")
    def _one_form(self) -> DemandPath:
        if bool(self.tokens_per_s) == (self.first_year_tokens_per_s is not None):
            raise ValueError("give either tokens_per_s by year, or first_year_tokens_per_s (with growth_per_year)")
        if self.growth_per_year is not None and self.first_year_tokens_per_s is None:
            raise ValueError("growth_per_year needs first_year_tokens_per_s")
        return self


class RoadmapHall(Strict):
    """When a hall may be built and what its shell costs."""

    hall: Id = Field(description="Hall id.")
    earliest_year: Year | None = Field(None, description="First year the hall can serve (permits, construction); default: the first year.")
    cost_usd: Usd = Field(0.0, description="Shell, land and site works, paid the year it is built; fit-out stays in economics.")


class LeadTimes(Strict):
    """Years between the roadmap's decision (its first year) and the first year an item can serve."""

    systems: NonNegInt = Field(0, description="GPU racks: none serves before the first year plus this.")
    equipment: NonNegInt = Field(
        0, description="Power and cooling units: none is added before the first year plus this (the first year's are on order already)."
    )


class RoadmapOptions(Strict):
    """What `aift roadmap` plans: horizon, demand, interconnect phases, halls, candidate systems and money over time."""

    start_year: Year = Field(description="First year of the roadmap.")
    years: Annotated[int, Field(ge=1, le=30)] = Field(description="Horizon in years.")
    objective: RoadmapObjective = Field(
        "levelized-cost-per-token",
        description="levelized-cost-per-token (discounted cost over discounted tokens) or min-cost (least discounted cost meeting demand).",
    )
    systems: list[Id] = Field(min_length=1, description="Candidate catalog systems; each only from the year it ships.")
    demand: dict[Id, DemandPath] = Field(min_length=1, description="Output tokens/s each workload model must get, per year.")
    utility_mw: dict[Year, PosMw] = Field(min_length=1, description="Utility interconnect from each listed year on (phases), MW.")
    halls: list[RoadmapHall] = Field(
        default_factory=list, description="Build year limits and shell costs; halls not listed: any year, free."
    )
    fleet_installed_year: Year | None = Field(
        None,
        description="When set, the spec's deployments are the campus's racks at the start, bought this year: no capital for them, they serve "
        "from the first year to the end of their life or are sold earlier; their halls stand, shells paid. Unset: the roadmap plans from empty halls.",
    )
    system_life_years: PosInt = Field(5, description="Years a rack serves before it must be retired.")
    resale_value_frac: Fraction = Field(
        0.1, description="Value of a rack at the end of its life, share of its price; straight line from the price in between."
    )
    resale_haircut_frac: Fraction = Field(
        0.0,
        description="Share of a rack's remaining value lost when it is sold before the horizon's end (de-installation, the used market's discount).",
    )
    lead_time_years: LeadTimes = Field(default_factory=LeadTimes, description="Lead times of racks and equipment.")
    discount_rate: Fraction | None = Field(None, description="Discount rate of cash flows and tokens; default: economics.discount_rate.")
    capex_budget_usd: dict[Year, Usd] = Field(
        default_factory=dict,
        description="Most capital spent in a year (racks, units, switches, halls), USD, from each listed year on; before the first: no limit.",
    )

    @property
    def year_list(self) -> list[int]:
        return list(range(self.start_year, self.start_year + self.years))
