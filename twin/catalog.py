"""The catalog: GPU systems, LLMs and facility equipment that a spec refers to by id.

Every entry carries a `source:`. The catalog ships as YAML under
`facility_specs/catalog/`; a spec may override or add entries inline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from twin.units import Fraction, Gb, Gbps, Hours, Id, Kw, Mtbf, NonNeg, NonNegInt, Pos, PosInt, PosKw, Tbps, Tokens, UnitKva, UnitKw, Usd

CATALOG_DIR = Path(__file__).resolve().parent.parent / "facility_specs" / "catalog"

Precision = Literal["bf16", "fp8", "fp4", "int4"]  # int4: weight-only 4-bit (W4A16), computed in BF16
TensorPrecision = Literal["bf16", "fp8", "fp4"]  # what tensor cores compute in
Year = Annotated[int, Field(ge=2000, le=2100)]
AVAILABLE_PATTERN = r"^(20[0-9]{2})(Q[1-4])?$"
Available = Annotated[str, StringConstraints(pattern=AVAILABLE_PATTERN), Field(description="A year, or a year and quarter: 2026Q3.")]
BYTES_PER_PARAM: dict[str, float] = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5, "int4": 0.5}


class Strict(BaseModel):
    """Base of every input model: unknown keys and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, populate_by_name=True)


class Sourced(Strict):
    id: Id
    name: str = Field("", description="Human-readable name.")
    source: str = Field(min_length=3, description="Where the figures come from (publication, datasheet, estimate).")


def _has_bf16(v: dict) -> dict:
    if "bf16" not in v:
        raise ValueError("needs a bf16 rate: attention kernels compute in BF16 whatever the weights' precision")
    return v


DenseTflops = Annotated[dict[TensorPrecision, Pos], AfterValidator(_has_bf16),
                        Field(description="Dense tensor TFLOPS per precision; bf16 at least (attention runs in it).")]


class GpuSpec(Strict):
    """One accelerator's datasheet figures (dense, not sparse, FLOPS)."""

    name: str
    hbm_gb: Gb = Field(description="HBM capacity per GPU, GB.")
    hbm_tbps: Tbps = Field(description="HBM bandwidth per GPU, TB/s.")
    dense_tflops: DenseTflops
    tdp_w: Pos = Field(description="GPU board power, W.")


class PrefillPart(Strict):
    """A prefill-only accelerator inside a system (Rubin CPX): disaggregated serving prefills on it, decode stays on the GPUs.

    It has no scale-up domain: a prefill replica of several parts is a pipeline whose stages
    hand activations over `link_gbyte_s`, and the KV cache moves over it to the decode GPUs.
    """

    name: str = Field(description="The part's name.")
    memory_gb: Gb = Field(description="Memory per part (GDDR7 on Rubin CPX), GB.")
    memory_tbps: Tbps = Field(description="Memory bandwidth per part, TB/s.")
    dense_tflops: DenseTflops
    tdp_w: Pos = Field(description="Board power of one part, W.")
    per_system: PosInt = Field(description="Parts in one catalog system.")
    link_gbyte_s: Pos = Field(description="Bandwidth per part per direction (PCIe, a NIC) that the KV cache moves over to the "
                                          "decode GPUs and pipeline stages hand activations over, GB/s.")
    source: str = Field(min_length=3, description="Where the part's figures come from.")


class SystemEntry(Sourced):
    """A GPU system: an 8-GPU server (HGX, MI3xx) or a rack-scale NVLink system (NVL72)."""

    vendor: Literal["nvidia", "amd"]
    family: str = Field(description="Hardware family for calibrated efficiencies: hopper, blackwell, cdna3, cdna4.")
    gpu: GpuSpec
    gpus_per_system: PosInt
    scale_up_gpus: PosInt = Field(description="GPUs in one NVLink / Infinity Fabric domain.")
    scale_up_gbyte_s: Pos = Field(description="Scale-up bandwidth per GPU per direction, GB/s.")
    scale_out_gbps: Gbps = Field(400, description="Scale-out NIC bandwidth per GPU, Gb/s.")
    max_kw: PosKw = Field(description="System IT power at full load, kW.")
    idle_kw: Kw = Field(description="System IT power when idle, kW.")
    systems_per_rack: PosInt = Field(description="Systems in one rack (1 for NVL72).")
    liquid_share: Fraction = Field(description="Share of the system's heat removed by liquid.")
    liquid_only: bool = Field(False, description="True if the system cannot be air-cooled.")
    price_usd: Usd = Field(description="Price of one system, USD (including its rack share of in-rack gear).")
    mtbf_h: Mtbf = Field(description="Mean time between interruptions of one system, h (at least 1).")
    mttr_h: Hours = Field(24, description="Mean time to repair one system, h.")
    available: Available | None = Field(None, description="Year (`2026`) or quarter (`2026Q3`) the system ships; none: shipping now.")
    projection: bool = Field(False, description="True for an announced system: its figures are the vendor's intent, not a datasheet.")
    price_by_year: dict[Year, Usd] = Field(
        default_factory=dict, description="Price of one system in a year, USD; the latest listed year holds until the next (`twin.catalog_time`)."
    )
    price_decline_per_year: Fraction = Field(0.0, description="Yearly fall of the price after its last listed year; unlisted: from the year it ships (`twin.catalog_time`).")
    cpu_memory_gb: NonNeg = Field(0, description="CPU memory per GPU the engine can park KV cache in (Grace LPDDR, host DDR), GB.")
    cpu_link_gbyte_s: Pos | None = Field(None, description="GPU-CPU bandwidth per GPU per direction (NVLink-C2C, PCIe), GB/s.")
    prefill_part: PrefillPart | None = Field(None, description="A prefill-only part (Rubin CPX) that disaggregated serving prefills on (`twin.perf.prefill_part`).")

    @field_validator("family")
    @classmethod
    def _calibrated(cls, v: str) -> str:
        from twin.perf.calibration import shipped_calibration  # noqa: PLC0415 - the token model's data, read on use

        known = shipped_calibration().families
        if v not in known:
            raise ValueError(f"no calibrated efficiencies for hardware family {v!r}; known: {', '.join(known)}")
        return v

    @model_validator(mode="after")
    def _check(self) -> SystemEntry:
        if self.idle_kw >= self.max_kw:
            raise ValueError("idle_kw must be below max_kw")
        if self.cpu_memory_gb > 0 and self.cpu_link_gbyte_s is None:
            raise ValueError("give cpu_link_gbyte_s with cpu_memory_gb: the KV cache parked there must come back")
        return self

    @property
    def rack_gpus(self) -> int:
        return self.gpus_per_system * self.systems_per_rack

    @property
    def rack_max_kw(self) -> float:
        return self.max_kw * self.systems_per_rack


class ModelEntry(Sourced):
    """An LLM's architecture, enough to size its weights, KV cache and FLOPs."""

    params_total_b: Pos = Field(description="Total parameters, billions.")
    params_active_b: Pos = Field(description="Parameters active per token, billions.")
    layers: PosInt
    hidden_size: PosInt
    attention: Literal["gqa", "mla"] = "gqa"
    kv_heads: PosInt | None = Field(None, description="KV heads (GQA).")
    head_dim: PosInt | None = Field(None, description="Head dimension (GQA); for MLA the per-head dimension before compression.")
    attention_heads: PosInt | None = Field(None, description="Query heads (default: hidden_size / head_dim); sets attention FLOPs.")
    kv_lora_dim: PosInt | None = Field(None, description="Compressed KV width per token per layer (MLA), incl. rope part.")
    experts: PosInt | None = Field(None, description="Routed experts per MoE layer (None for dense).")
    experts_per_token: PosInt | None = Field(None, description="Routed experts active per token.")
    shared_experts: NonNegInt = Field(0, description="Shared experts every token runs (counted in params_active_b).")
    mtp_layers: NonNegInt = Field(0, description="Multi-token-prediction modules shipped with the weights (speculative drafts).")
    mtp_acceptance: Fraction | None = Field(None, description="Probability a draft token is accepted, given the one before it was.")
    max_context: Tokens = 131072
    precisions: list[Precision] = Field(min_length=1, description="Precisions the model is served in.")

    @model_validator(mode="after")
    def _check(self) -> ModelEntry:
        if self.params_active_b > self.params_total_b:
            raise ValueError("params_active_b cannot exceed params_total_b")
        if self.attention == "gqa" and (self.kv_heads is None or self.head_dim is None):
            raise ValueError("GQA models need kv_heads and head_dim")
        if self.attention == "mla" and self.kv_lora_dim is None:
            raise ValueError("MLA models need kv_lora_dim")
        if (self.experts is None) != (self.experts_per_token is None):
            raise ValueError("give both experts and experts_per_token, or neither")
        if self.experts is not None and self.experts_per_token >= self.experts:
            raise ValueError("experts_per_token must be below experts")
        if (self.mtp_layers > 0) != (self.mtp_acceptance is not None):
            raise ValueError("give mtp_acceptance with mtp_layers > 0, and neither without multi-token prediction")
        return self

    @property
    def is_moe(self) -> bool:
        return self.experts is not None

    def kv_elems_per_token(self) -> int:
        """KV-cache elements per token over all layers."""
        if self.attention == "mla":
            return self.layers * self.kv_lora_dim
        return self.layers * 2 * self.kv_heads * self.head_dim


class _Equipment(Sourced):
    capex_usd: Usd = Field(description="Installed cost of one unit, USD.")
    mtbf_h: Mtbf
    mttr_h: Hours
    maintenance_frac: Fraction = Field(0.02, description="Annual maintenance cost as a share of capex.")


class Transformer(_Equipment):
    kind: Literal["transformer"]
    capacity_kva: UnitKva
    no_load_loss_frac: Fraction = Field(description="Core loss, share of rating (constant).")
    load_loss_frac: Fraction = Field(description="Copper loss at rated load, share of rating (scales with load squared).")


class UpsModule(_Equipment):
    kind: Literal["ups"]
    capacity_kw: UnitKw
    loss_a: Fraction = Field(description="No-load loss, share of rating (WP 108 form).")
    loss_b: Fraction = Field(description="Proportional loss coefficient.")
    loss_c: Fraction = Field(description="Square-law loss coefficient.")


class Distribution(_Equipment):
    """PDU, RPP or busway: an I2R loss, plus a core loss if it has a transformer."""

    kind: Literal["pdu", "busway"]
    capacity_kw: UnitKw
    no_load_loss_frac: Fraction = 0.0
    load_loss_frac: Fraction


class Generator(_Equipment):
    kind: Literal["generator"]
    capacity_kw: UnitKw
    fail_to_start: Fraction = Field(0.03, description="Probability of failing to start on demand.")


class Chiller(_Equipment):
    """Heat rejection: a compressor chiller, a dry cooler or an evaporative tower."""

    kind: Literal["chiller", "dry_cooler", "cooling_tower"]
    capacity_kw: UnitKw = Field(description="Heat rejection capacity at design conditions, kW thermal.")
    reference: Literal["dry_bulb", "wet_bulb"] = Field(description="Outdoor temperature the unit rejects heat to.")
    approach_k: NonNeg = Field(description="Approach to the outdoor reference temperature, K.")
    lift_k: NonNeg = Field(0.0, description="Condenser lift above approach for compressor cycles, K.")
    carnot_fraction: Fraction = Field(0.55, description="Achieved share of the Carnot COP.")
    cop_min: Pos = 2.5
    cop_max: Pos = 12.0
    fan_pump_frac: Fraction = Field(0.015, description="Fans and pumps, share of heat rejected.")
    evaporative_share: Fraction = Field(0.0, description="Share of heat rejected by evaporating water.")
    has_compressor: bool = Field(True, description="False for dry coolers and towers without chillers.")


class Cdu(_Equipment):
    kind: Literal["cdu"]
    capacity_kw: UnitKw
    power_frac: Fraction = Field(description="Pump power at design flow, share of capacity.")


class Crah(_Equipment):
    kind: Literal["crah"]
    capacity_kw: UnitKw
    power_frac: Fraction = Field(description="Fan power at design, share of capacity.")


class Switch(_Equipment):
    kind: Literal["switch"]
    ports: PosInt
    port_gbps: Gbps
    power_kw: PosKw = Field(description="Typical power without optics, kW.")


class Transceiver(_Equipment):
    kind: Literal["transceiver"]
    gbps: Gbps
    power_w: Pos


Equipment = Annotated[
    Transformer | UpsModule | Distribution | Generator | Chiller | Cdu | Crah | Switch | Transceiver,
    Field(discriminator="kind"),
]


class CatalogSections(Strict):
    """The catalog's three lists; the shipped catalog and a spec's inline `catalog:` use it."""

    systems: list[SystemEntry] = Field(default_factory=list)
    models: list[ModelEntry] = Field(default_factory=list)
    equipment: list[Equipment] = Field(default_factory=list)


class Catalog:
    """Catalog entries by id, for lookups from the rest of the twin."""

    def __init__(self, sections: CatalogSections):
        self.systems = {s.id: s for s in sections.systems}
        self.models = {m.id: m for m in sections.models}
        self.equipment = {e.id: e for e in sections.equipment}

    def merged(self, extra: CatalogSections) -> Catalog:
        """This catalog with `extra`'s entries added, or replacing those of the same id."""
        out = Catalog(CatalogSections())
        out.systems = {**self.systems, **{s.id: s for s in extra.systems}}
        out.models = {**self.models, **{m.id: m for m in extra.models}}
        out.equipment = {**self.equipment, **{e.id: e for e in extra.equipment}}
        return out
