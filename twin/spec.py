"""The facility spec: what a planner writes in YAML, as strict pydantic models.

Sections: `site`, `economics`, `power`, `cooling`, `network`, `halls`, `deployments`,
`workload`, and an optional inline `catalog` that adds to or overrides the shipped one.
`load_spec` reads a file, validates it, checks every cross-reference and returns a
`Spec` whose `.catalog` is the merged catalog. Every problem is reported at once.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from twin.catalog import Catalog, CatalogSections, Precision, Strict
from twin.plan_spec import PlanOptions
from twin.roadmap_spec import RoadmapOptions
from twin.telemetry.overlay import Calibration
from twin.units import (
    Celsius,
    Fraction,
    Hours,
    Id,
    Kelvin,
    NonNeg,
    NonNegInt,
    Pos,
    PosInt,
    PosKw,
    PosMw,
    Seconds,
    Tokens,
    Usd,
)

Redundancy = Literal["N", "N+1", "N+2", "2N"]
ClimatePreset = Literal["hot-dry", "temperate", "cold", "hot-humid", "tmy:greensboro", "tmy:miami", "tmy:sand-point"]


# --- site --------------------------------------------------------------------------------


class Climate(Strict):
    """Hourly weather: a named preset, a preset with parameters changed, or a weather file."""

    preset: ClimatePreset = Field(
        "temperate", description="Synthetic climate preset, or a real typical year shipped with pvlib (tmy:...)."
    )
    file: str | None = Field(None, description="EPW or CSV weather file, relative to the spec.")
    mean_c: Celsius | None = Field(None, description="Annual mean dry-bulb, overrides the preset.")
    seasonal_swing_c: Kelvin | None = Field(None, description="Half the summer-winter difference of daily means.")
    daily_swing_c: Kelvin | None = Field(None, description="Half the day-night difference.")
    relative_humidity: Fraction | None = Field(None, description="Mean relative humidity, 0..1.")
    offset_c: float = Field(0.0, ge=-20, le=20, description="Shift every hour by this many K (what-if).")

    @model_validator(mode="after")
    def _parameters_only_for_synthetic(self) -> Climate:
        params = [f for f in ("mean_c", "seasonal_swing_c", "daily_swing_c", "relative_humidity") if getattr(self, f) is not None]
        if params and (self.file is not None or self.preset.startswith("tmy:")):
            source = "a weather file" if self.file is not None else f"the {self.preset} year"
            raise ValueError(f"{', '.join(params)} adjust a synthetic climate; they cannot change {source}")
        return self


class TouBand(Strict):
    """A time-of-use price band: hours [start_h, end_h) of every day."""

    start_h: int = Field(ge=0, le=23, description="First hour of the band (local time).")
    end_h: int = Field(ge=1, le=24, description="Hour the band ends (exclusive).")
    price_usd_per_mwh: Usd = Field(description="Energy price in the band, USD/MWh.")

    @model_validator(mode="after")
    def _order(self) -> TouBand:
        if self.end_h <= self.start_h:
            raise ValueError("end_h must be after start_h")
        return self


class Tariff(Strict):
    """Electricity price: flat, or flat with time-of-use bands that override it."""

    price_usd_per_mwh: Usd = Field(75.0, description="Energy price outside any band, USD/MWh.")
    time_of_use: list[TouBand] = Field(default_factory=list)
    demand_charge_usd_per_kw_month: Usd = Field(0.0, description="Charge on the monthly peak, USD/kW-month.")


class Site(Strict):
    """Where the factory stands: its grid connection, climate and prices."""

    location: str = Field("", description="Where the site is, for the reader.")
    utility_mw: PosMw = Field(description="Utility interconnect capacity, MW (facility power may never exceed it).")
    utility_mtbf_h: Hours = Field(39800, description="Utility outage MTBF, h (IEEE 493 underground circuit).")
    utility_mttr_h: Hours = Field(10, description="Utility outage duration, h.")
    grid_carbon_kg_per_mwh: NonNeg = Field(370.0, description="Grid carbon intensity, kg CO2 per MWh.")
    water_usd_per_m3: Usd = Field(2.0, description="Water price, USD per m3.")
    misc_load_frac: Fraction = Field(0.02, description="Lighting, offices, security: share of IT power.")
    climate: Climate = Field(default_factory=Climate)
    tariff: Tariff = Field(default_factory=Tariff)


# --- economics ---------------------------------------------------------------------------


class LifeYears(Strict):
    """Depreciation lives per asset class, years."""

    it: Pos = Field(5, description="GPU systems (hyperscaler 10-Ks: 4-6 years).")
    network: Pos = Field(5, description="Switches and optics.")
    power: Pos = Field(15, description="Generators, transformers, UPS, distribution.")
    cooling: Pos = Field(15, description="Plants, CDUs, CRAHs.")
    building: Pos = Field(25, description="Shell, site and fit-out.")


class Economics(Strict):
    """How capital and operations become an annual cost."""

    discount_rate: Fraction = Field(0.08, description="Real cost of capital (WACC), per year.")
    life_years: LifeYears = Field(default_factory=LifeYears)
    facility_capex_usd_per_mw: Usd = Field(
        6.5e6,
        description="Building, site, switchgear, piping and fit-out not itemized as equipment, per MW of rack capacity.",
    )
    it_support_frac: Fraction = Field(0.03, description="Annual IT support contracts, share of IT capex.")
    staff_usd_per_year: Usd | None = Field(None, description="Operations staff cost; default scales with size.")
    other_opex_usd_per_year: Usd = Field(0.0, description="Insurance, taxes, leases not counted elsewhere.")


# --- power -------------------------------------------------------------------------------


class _Group(Strict):
    """A group of identical units with a redundancy scheme, e.g. 6 UPS modules at N+1."""

    id: Id = Field(description="Unique id across power, cooling, network and halls.")
    equipment: Id = Field(description="Catalog equipment id of one unit.")
    units: PosInt = Field(1, description="Installed units.")
    redundancy: Redundancy = Field("N", description="N, N+1, N+2 (spare units) or 2N (half the units are spare).")

    @model_validator(mode="after")
    def _enough_units(self) -> _Group:
        spare = {"N": 0, "N+1": 1, "N+2": 2}.get(self.redundancy)
        if spare is not None and self.units <= spare:
            raise ValueError(f"{self.redundancy} needs more than {spare} units; {self.units} installed")
        if self.redundancy == "2N" and self.units % 2:
            raise ValueError(f"2N needs an even number of units; {self.units} installed")
        return self

    @property
    def units_needed(self) -> int:
        """Units that must work to carry the rated load (the k of k-of-n)."""
        spare = {"N": 0, "N+1": 1, "N+2": 2}.get(self.redundancy)
        return self.units - spare if spare is not None else self.units // 2


class PowerGroup(_Group):
    fed_by: list[Id] = Field(min_length=1, description="Upstream power nodes; any one of them suffices (A/B or utility/generator).")


class GeneratorGroup(_Group):
    """Standby generators: a source of their own, used when the utility is lost."""


class Power(Strict):
    """The power chain from the utility to the hall feeds. The utility's id is `utility`."""

    generators: list[GeneratorGroup] = Field(default_factory=list)
    transformers: list[PowerGroup] = Field(default_factory=list)
    ups: list[PowerGroup] = Field(default_factory=list)
    distribution: list[PowerGroup] = Field(default_factory=list, description="PDUs, RPPs and busways.")


# --- cooling -----------------------------------------------------------------------------


class Plant(_Group):
    """Heat rejection: chillers, dry coolers or towers serving one facility water loop."""

    supply_c: Celsius = Field(description="Facility water supply temperature, C (ASHRAE W-class).")
    powered_by: list[Id] = Field(default_factory=list, description="Power nodes feeding the plant (any one).")


class Loop(_Group):
    """Heat transfer in a hall: CDUs (liquid) or CRAHs (air), connected to plants."""

    plants: list[Id] = Field(min_length=1, description="Plants this loop rejects heat to (any one).")
    powered_by: list[Id] = Field(default_factory=list, description="Power nodes feeding the loop (any one).")


class Cooling(Strict):
    plants: list[Plant] = Field(default_factory=list, description="Heat rejection to outdoors.")
    loops: list[Loop] = Field(default_factory=list, description="CDU and CRAH groups in the halls.")


# --- network -----------------------------------------------------------------------------


class Fabric(Strict):
    """A scale-out fabric: a fat tree of identical switches."""

    id: Id
    topology: Literal["fat-tree", "rail-optimized"] = Field("rail-optimized", description="Rail-optimized fat tree (one leaf per rail) or plain fat tree.")
    tiers: int = Field(2, ge=1, le=3, description="Switch tiers: leaf, spine, core.")
    switch: Id = Field(description="Catalog switch id.")
    transceiver: Id = Field(description="Catalog transceiver id used on every optical link end.")
    oversubscription: float = Field(1.0, ge=1.0, le=16.0, description="Downlink : uplink bandwidth at the leaf.")
    nics_per_gpu: PosInt = Field(1, description="Scale-out NIC ports per GPU.")


class Network(Strict):
    fabrics: list[Fabric] = Field(default_factory=list, description="Fabrics the halls attach to.")


# --- halls and deployments ---------------------------------------------------------------


class Hall(Strict):
    """A data hall: rack positions with a density limit, served by power feeds and cooling loops."""

    id: Id = Field(description="Unique hall id.")
    positions: PosInt = Field(description="Rack positions on the floor.")
    max_rack_kw: PosKw = Field(description="Power and heat density limit per rack position, kW.")
    power_feeds: list[Id] = Field(min_length=1, description="Distribution nodes feeding the racks; with two or more, any one keeps racks up (A/B).")
    cooling_loops: list[Id] = Field(min_length=1, description="CDU and CRAH loops serving the hall.")
    fabric: Id | None = Field(None, description="Scale-out fabric of the hall.")


class Deployment(Strict):
    """Racks of one system in one hall."""

    hall: Id = Field(description="Hall id.")
    system: Id = Field(description="Catalog system id.")
    racks: PosInt = Field(description="Racks of this system in the hall.")
    systems_per_rack: PosInt | None = Field(None, description="Override the catalog's systems per rack.")
    mix: dict[Id, Fraction] | None = Field(None, description="Share of these racks serving each model; default: the workload shares.")


# --- workload ----------------------------------------------------------------------------


class Sla(Strict):
    min_tokens_per_s_per_user: NonNeg = Field(20.0, description="Minimum interactivity, output tok/s per user.")
    max_ttft_s: Seconds = Field(10.0, description="Maximum time to first token, s.")


class Serving(Strict):
    """Serving-stack options that change the throughput-interactivity curve.

    Left unset (`serving: auto`, the default), the token model searches aggregated and
    disaggregated serving and, where the model has multi-token prediction, speculative
    decoding, and keeps the best; a value given pins that choice.
    """

    disaggregated: bool | None = Field(None, description="Separate prefill and decode GPUs; unset: chosen per SLA.")
    wide_ep: bool = Field(True, description="Expert parallelism across the NVLink domain for MoE models.")
    speculative: bool | None = Field(None, description="Speculative decoding / multi-token prediction; unset: chosen where the model has MTP.")
    accepted_tokens_per_step: float | None = Field(
        None, ge=1.0, le=8.0, description="Mean tokens accepted per decode step when speculative; unset: from the model's MTP acceptance.")


class WorkloadModel(Strict):
    model: Id = Field(description="Catalog model id.")
    precision: Precision = Field("fp8", description="Weight precision served.")
    isl: Tokens = Field(8192, description="Input sequence length, tokens.")
    osl: Tokens = Field(1024, description="Output sequence length, tokens.")
    share: Fraction = Field(1.0, description="Share of the fleet serving this model.")
    tenant: Id | None = Field(None, description="Team or customer this model is served to, for cost allocation (`aift evaluate` reports per tenant).")
    sla: Sla = Field(default_factory=Sla, description="Service level each request must get.")
    serving: Serving = Field(default_factory=Serving, description="Serving-stack options, or `auto` (the default): chosen per SLA.")
    turns: PosInt = Field(1, le=1000, description="Requests per agent session; each resends the context so far (1: independent requests).")
    context_growth_tokens: NonNegInt = Field(0, description="New input tokens each turn after the first (tool results, instructions).")
    prefix_cache_hit: Fraction = Field(0.0, description="Share of a turn's resent context found in the prefix cache, not recomputed.")

    @field_validator("serving", mode="before")
    @classmethod
    def _auto(cls, v):
        return {} if v == "auto" else v


class Demand(Strict):
    level: Fraction = Field(0.8, description="Peak-hour demand as a share of the fleet's capacity at SLA.")
    profile: Literal["flat", "diurnal", "business"] | list[Fraction] = Field(
        "diurnal", description="Daily shape: a preset or 24 hourly factors (peak = 1)."
    )

    @field_validator("profile")
    @classmethod
    def _24_hours(cls, v):
        if isinstance(v, list) and len(v) != 24:
            raise ValueError(f"needs 24 hourly factors; got {len(v)}")
        return v


class Workload(Strict):
    models: list[WorkloadModel] = Field(min_length=1, description="Models served; their shares add up to 1.")
    demand: Demand = Field(default_factory=Demand, description="How much is asked of the fleet, hour by hour.")



# --- the whole spec ----------------------------------------------------------------------


class Spec(Strict):
    """A facility: site, economics, power, cooling, network, halls, deployments and workload."""

    name: str = Field(min_length=1, description="Short name of the facility, used in reports.")
    description: str = Field("", description="One line about the facility.")
    site: Site = Field(description="Grid connection, climate and prices.")
    economics: Economics = Field(default_factory=Economics, description="Cost of capital, lives, building cost, opex.")
    power: Power = Field(description="Generators, transformers, UPS and distribution.")
    cooling: Cooling = Field(description="Heat-rejection plants and the hall loops they serve.")
    network: Network = Field(default_factory=Network, description="Scale-out fabrics.")
    halls: list[Hall] = Field(min_length=1, description="Data halls.")
    deployments: list[Deployment] = Field(default_factory=list, description="Racks of GPU systems placed in halls.")
    workload: Workload = Field(description="Models served, their SLAs and the demand.")
    catalog: CatalogSections = Field(default_factory=CatalogSections, description="Catalog entries added or overridden by this spec.")
    plan: PlanOptions | None = Field(None, description="What `aift plan` may still choose; without it, the plan takes this section's defaults.")
    roadmap: RoadmapOptions | None = Field(None, description="A campus grown over years and GPU generations, for `aift roadmap`.")
    calibration: Calibration | None = Field(None, description="Correction factors fitted from telemetry (`aift calibrate`); usually applied from an overlay file with `--calibration`.")

    _base_catalog: Catalog | None = PrivateAttr(None)
    _path: Path | None = PrivateAttr(None)
    _files_root: Path | None = PrivateAttr(None)  # set by the app: file references stay inside it (twin/spec_files.py)

    @cached_property
    def cat(self) -> Catalog:
        """The shipped catalog merged with this spec's inline entries."""
        from twin.loader import shipped_catalog

        base = self._base_catalog or shipped_catalog()
        return base.merged(self.catalog)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def files_root(self) -> Path | None:
        return self._files_root

    def hall(self, hall_id: str) -> Hall:
        return next(h for h in self.halls if h.id == hall_id)

    def spec_hash(self) -> str:
        """A short content hash, stored with every result computed from this spec."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
