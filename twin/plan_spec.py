"""The optional `plan:` section of a facility spec: what the optimizer may still choose.

Everything the section does not open stays as written. Racks already deployed are kept
as a floor (unless `keep_deployments` is false), equipment groups not listed keep their
units, and halls keep the cooling their loops give them. `aift plan` writes the chosen
facility back as a spec without this section.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from twin.catalog import Strict
from twin.units import Id, NonNeg, NonNegInt, PosInt, PosMw, Usd

# The schemes of `twin.spec.Redundancy`; restated because twin.spec imports this module.
Redundancy = Literal["N", "N+1", "N+2", "2N"]
CoolingType = Literal["air", "liquid"]
Objective = Literal["cost-per-token", "min-cost", "max-tokens", "max-tokens-at-cost"]
# Design alternatives solved one by one (twin/plan_alternatives.py); more is refused unless raised.
DEFAULT_MAX_ALTERNATIVES = 64
# A trillion output tokens/s, some 20,000 times the 100 MW reference: beyond it a demand is a typo,
# and the solver would read it as infinite.
MAX_DEMAND_TOKENS_PER_S = 1e12


class PlanHall(Strict):
    """What is open in one hall; a hall not listed takes the plan's systems and its cooling as built."""

    hall: Id = Field(description="Hall id.")
    systems: list[Id] | Literal["all"] | None = Field(None, description="Candidate catalog systems here; default: the plan's `systems`.")
    cooling: list[CoolingType] | None = Field(
        None, min_length=1, description="Cooling types the optimizer may give the hall; default: liquid if it has a CDU loop, else air."
    )
    min_racks: dict[Id, NonNegInt] = Field(default_factory=dict, description="Least racks of a system in the hall.")
    max_racks: dict[Id, NonNegInt] = Field(default_factory=dict, description="Most racks of a system in the hall.")


class PlanEquipment(Strict):
    """A power or cooling group whose units the optimizer sizes, with the equipment and redundancy it may pick.

    Losses and cooling power are figured on the equipment as written; candidates differ in
    unit size, cost and redundancy.
    """

    group: Id = Field(description="Id of a power or cooling group of the spec.")
    equipment: list[Id] | None = Field(None, min_length=1, description="Catalog equipment of the group's kind; default: the group's own.")
    redundancy: list[Redundancy] | None = Field(
        None, min_length=1, description="Redundancy schemes to choose from; default: the group's own."
    )


class PlanInterconnect(Strict):
    """The utility interconnect to buy: the plan chooses its MW, up to `max_mw`, at a price per MW."""

    max_mw: PosMw = Field(description="The most the utility can connect, MW; `site.utility_mw` is then what the plan buys.")
    capex_usd_per_mw: Usd = Field(description="Capital per MW of interconnect (substation, grid upgrade), recovered over the power life.")


class PlanOptions(Strict):
    """The choices left to `aift plan`: systems, racks, cooling, equipment units, objective, demand and budget."""

    objective: Objective = Field(
        "cost-per-token",
        description="cost-per-token (lowest USD per million tokens), min-cost (meet the demand), max-tokens, or max-tokens-at-cost "
        "(most tokens at or below `target_cost_per_million_tokens_usd`).",
    )
    target_cost_per_million_tokens_usd: Annotated[float, Field(gt=0)] | None = Field(
        None, description="For max-tokens-at-cost: the highest cost per million output tokens the plan may have, USD."
    )
    systems: list[Id] | Literal["all"] = Field("all", description="Candidate catalog systems in every hall, or `all` of the catalog.")
    halls: list[PlanHall] = Field(default_factory=list, description="Per-hall candidates, cooling choice and rack bounds.")
    keep_deployments: bool = Field(True, description="Racks already deployed stay (as a floor); false plans the halls from empty.")
    equipment: list[PlanEquipment] | Literal["all"] = Field(
        default_factory=list, description="Groups whose units the optimizer sizes, or `all` that it can size (per hall or site-wide)."
    )
    demand_output_tokens_per_s: dict[Id, Annotated[NonNeg, Field(le=MAX_DEMAND_TOKENS_PER_S)]] = Field(
        default_factory=dict,
        description="Yearly mean output tokens/s each workload model must get; without it the workload shares set the token mix.",
    )
    capex_budget_usd: Usd | None = Field(None, description="Most capital the plan may spend, USD.")
    interconnect: PlanInterconnect | None = Field(None, description="Buy the interconnect: its MW becomes a choice, at a price.")
    alternatives: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="Design alternatives: a spec field by override path (`cooling.plants[chw].supply_c`, `halls[0].max_rack_kw`, "
        "`workload.models[0].precision`) -> the values to try. The plan is solved once per combination and the best kept.",
    )
    max_alternatives: PosInt = Field(
        DEFAULT_MAX_ALTERNATIVES, description="Most combinations of `alternatives` the plan may solve; more is refused before any is solved."
    )
