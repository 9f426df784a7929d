"""A plan problem in plain numbers: what the MILP needs, independent of how a Spec is read.

Everything is linear per rack or per unit, so the MILP is exact for these figures; the
twin later scores the plan with its richer, non-linear models. Costs are USD, power kW,
tokens are output tokens per year. `annual_usd` is annualized capex plus the fixed opex
of the item (maintenance, support); energy is priced separately from the kW it draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from twin.reliability import k_of_n

CoolingType = Literal["air", "liquid"]
Carries = Literal["it", "liquid_heat", "air_heat", "facility"]
Redundancy = Literal["N", "N+1", "N+2", "2N"]
ObjectiveName = Literal["cost-per-token", "min-cost", "max-tokens"]

COOLING_TYPES: tuple[CoolingType, ...] = ("air", "liquid")
OBJECTIVES: tuple[ObjectiveName, ...] = ("cost-per-token", "min-cost", "max-tokens")
SITE = "site"  # the scope of equipment shared by every hall


@dataclass(frozen=True)
class UnitOption:
    """One kind of unit a stage may be built from, with its redundancy scheme."""

    id: str
    unit_kw: float  # capacity of one unit, kW electric or kW thermal
    capex_usd: float
    annual_usd: float
    redundancy: Redundancy = "N"
    installed: int | None = None  # units already in place and kept; None lets the optimizer choose
    unit_availability: float = 1.0  # of one unit (MTBF/(MTBF+MTTR), times 1 - fail-to-start for generators)

    @property
    def units_per_usable(self) -> int:
        """Installed units per usable unit: 2 for 2N, 1 otherwise."""
        return 2 if self.redundancy == "2N" else 1

    @property
    def spare_units(self) -> int:
        """Units installed beyond the usable ones under N+k."""
        return {"N": 0, "N+1": 1, "N+2": 2, "2N": 0}[self.redundancy]

    def usable_units(self, installed: int) -> int:
        """Units whose capacity counts when `installed` are in place (inverse of the scheme)."""
        return (installed - self.spare_units) // self.units_per_usable

    def unavailability(self, usable: int) -> float:
        """1 - the twin's k-of-n availability of the group with `usable` units needed (`twin.reliability.k_of_n`)."""
        if usable <= 0 or self.unit_availability >= 1.0:
            return 0.0
        return 1.0 - k_of_n(self.unit_availability, usable, usable * self.units_per_usable + self.spare_units)


@dataclass(frozen=True)
class Stage:
    """A group of identical units that must carry one load: UPS, PDU, CDU, CRAH, chiller, ...

    Exactly one option is used per stage (one UPS model per hall). `carries` names the
    load: `it` is rack nameplate power, `liquid_heat`/`air_heat` the nameplate heat to
    each medium, `facility` the design-hour facility power (site stages only). A site
    stage may serve only some halls (a plant cooling two of three halls): `halls` names
    them, and its load is theirs alone; None is every hall. `load_factor` scales the
    load to what the twin's static check puts on the group.
    """

    id: str
    carries: Carries
    options: tuple[UnitOption, ...]
    halls: frozenset[str] | None = None
    load_factor: float = 1.0  # the twin's N-1 design load per kW of the load above (losses, pumps and fans downstream)
    importance: float = 0.0  # d(availability of its halls' racks)/d(its own availability): Birnbaum, from the twin

    @property
    def fixed(self) -> bool:
        """True when the stage is built as it stands: its capacity is a limit, not a choice."""
        return self.options[0].installed is not None


@dataclass(frozen=True)
class System:
    """A candidate GPU system, per rack."""

    id: str
    rack_kw: float  # IT power at the design (peak-hour) utilization
    rack_mean_kw: float  # IT power averaged over the year, for energy
    rack_max_kw: float  # nameplate: hall density and equipment sizing
    liquid_share: float  # share of heat to liquid in a liquid hall; air halls take it all as air
    liquid_only: bool
    gpus_per_rack: int
    ports_per_rack: int  # scale-out fabric ports (NICs) per rack
    rack_capex_usd: float
    rack_annual_usd: float
    tokens_per_year: Mapping[str, float] = field(default_factory=dict)  # per model; absent or 0: cannot serve it
    nic_kw: float = 0.0  # the optics at its NICs: network power, air-cooled, as the twin counts it
    # Per model, (design, mean) IT power of a rack serving it, at most (rack_kw, rack_mean_kw): a rack draws
    # what its model's operating point draws, as the twin has it. Absent: rack_kw and rack_mean_kw.
    model_kw: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def rate(self, model: str) -> float:
        return self.tokens_per_year.get(model, 0.0)

    def model_saving_kw(self, model: str, attr: str) -> float:
        """How much less IT power than `attr` (rack_kw or rack_mean_kw) a rack serving `model` draws."""
        if model not in self.model_kw:
            return 0.0
        return getattr(self, attr) - self.model_kw[model][0 if attr == "rack_kw" else 1]


@dataclass(frozen=True)
class Hall:
    """A data hall: positions, a density limit, the cooling types it may take, its equipment."""

    id: str
    positions: int
    max_rack_kw: float
    cooling_options: frozenset[CoolingType] = frozenset(COOLING_TYPES)  # one element: fixed
    systems: frozenset[str] | None = None  # candidate systems; None: every system
    min_racks: Mapping[str, int] = field(default_factory=dict)  # existing racks that stay
    max_racks: Mapping[str, int] = field(default_factory=dict)
    stages: tuple[Stage, ...] = ()
    fabric: str | None = None

    def allows(self, system: System) -> bool:
        """Whether the system may be placed here at all (candidate, density, bounds)."""
        return (
            (self.systems is None or system.id in self.systems)
            and system.rack_max_kw <= self.max_rack_kw
            and self.max_racks.get(system.id, self.positions) > 0
        )


@dataclass(frozen=True)
class Fabric:
    """A scale-out fabric of identical switches, sized by the rack ports it connects."""

    id: str
    switch_ports: int
    switch_ports_per_rack_port: float  # switch ports consumed per endpoint port: 2*tiers-1 non-blocking
    switch_capex_usd: float
    switch_annual_usd: float
    switch_kw: float


@dataclass(frozen=True)
class Conditions:
    """Facility power per kW of IT at one set of conditions (the design hour, or the year's mean)."""

    it_overhead_frac: float  # electrical losses and miscellaneous load per kW of IT
    liquid_cooling_kw_per_kw: float  # cooling power per kW of heat to liquid, at this temperature
    air_cooling_kw_per_kw: float  # cooling power per kW of heat to air


@dataclass(frozen=True)
class ModelDemand:
    """A workload model: an optional floor on its tokens and on its share of all tokens."""

    id: str
    tokens_per_year: float | None = None
    min_token_share: float = 0.0


@dataclass(frozen=True)
class PlanProblem:
    """Everything the optimizer decides over, in plain numbers."""

    halls: tuple[Hall, ...]
    systems: tuple[System, ...]
    models: tuple[ModelDemand, ...]
    utility_kw: float
    design_hour: Conditions
    mean_hour: Conditions
    energy_usd_per_kw_year: float  # mean tariff times 8760 h
    demand_charge_usd_per_kw_year: float = 0.0  # charged on design-hour facility power
    fixed_annual_usd: float = 0.0  # staff and other costs that do not scale with the plan
    site_stages: tuple[Stage, ...] = ()
    fabrics: tuple[Fabric, ...] = ()
    capex_budget_usd: float | None = None  # for what the plan builds: net of `outside_capex_usd`
    objective: ObjectiveName = "cost-per-token"
    outside_capex_usd: float = 0.0  # groups built as written outside the model: counted against the spec's budget
    # Share of tokens lost to unavailability Q (`optimizer.availability_figures`): G(Q) >= c + s Q for each (c, s);
    # Q = other_unavailability + sum of each stage's importance times its unavailability. Empty: availability ignored.
    loss_tangents: tuple[tuple[float, float], ...] = ()
    other_unavailability: float = 0.0

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ValueError("invalid plan problem: " + "; ".join(problems))

    def system(self, system_id: str) -> System:
        return next(s for s in self.systems if s.id == system_id)

    def hall(self, hall_id: str) -> Hall:
        return next(h for h in self.halls if h.id == hall_id)

    def served_halls(self, scope: str, stage: Stage) -> tuple[str, ...]:
        """The halls whose load a stage carries, in hall order."""
        if scope != SITE:
            return (scope,)
        return tuple(h.id for h in self.halls if stage.halls is None or h.id in stage.halls)

    def stages(self) -> tuple[tuple[str, Stage], ...]:
        """Every stage with its scope: a hall id, or `SITE`."""
        return tuple((h.id, st) for h in self.halls for st in h.stages) + tuple((SITE, st) for st in self.site_stages)


@dataclass(frozen=True)
class Limit:
    """A limit the plan must respect; the relaxation model lets it stretch at a price."""

    key: str
    kind: Literal["utility", "positions", "budget", "capacity", "demand"]
    subject: str  # a hall, a model, "scope/stage", or the site
    value: float
    unit: Literal["kW", "positions", "USD", "tokens/year"]
    shown_offset: float = 0.0  # added to the value and to a need when shown: the spec's budget includes what is built outside


def limits(p: PlanProblem) -> tuple[Limit, ...]:
    """The site's limits, the fixed equipment's capacities and the demands, keyed for the model."""
    out = [Limit("utility", "utility", SITE, p.utility_kw, "kW")]
    out += [Limit(f"positions:{h.id}", "positions", h.id, h.positions, "positions") for h in p.halls]
    if p.capex_budget_usd is not None:
        out.append(Limit("budget", "budget", SITE, p.capex_budget_usd, "USD", p.outside_capex_usd))
    for scope, st in p.stages():
        if st.fixed:
            o = st.options[0]
            out.append(Limit(f"capacity:{scope}/{st.id}", "capacity", f"{scope}/{st.id}", o.usable_units(o.installed) * o.unit_kw, "kW"))
    out += [Limit(f"demand:{m.id}", "demand", m.id, m.tokens_per_year, "tokens/year") for m in p.models if m.tokens_per_year is not None]
    return tuple(out)


def _problems(p: PlanProblem):
    """Inconsistencies that would make the model meaningless rather than infeasible."""
    for kind, ids in (("hall", [h.id for h in p.halls]), ("system", [s.id for s in p.systems]), ("model", [m.id for m in p.models])):
        if len(set(ids)) != len(ids):
            yield f"duplicate {kind} ids"
    if SITE in {h.id for h in p.halls}:
        yield f"{SITE!r} is reserved for site equipment"
    if p.objective not in OBJECTIVES:
        yield f"objective must be one of {OBJECTIVES}"
    if p.objective == "min-cost" and all(m.tokens_per_year is None for m in p.models):
        yield "min-cost needs a demand for at least one model"
    if sum(m.min_token_share for m in p.models) > 1 + 1e-9:
        yield "min_token_share adds up to more than 1"
    for d in p.models:
        if d.min_token_share > 0 and not any(s.rate(d.id) > 0 for s in p.systems):
            yield f"model {d.id}: a token share, but no system can serve it"
    systems, fabrics, models = {s.id for s in p.systems}, {f.id for f in p.fabrics}, {m.id for m in p.models}
    for s in p.systems:
        if not 0 <= s.liquid_share <= 1:
            yield f"system {s.id}: liquid_share outside 0..1"
        if not 0 <= s.rack_mean_kw <= s.rack_kw <= s.rack_max_kw:
            yield f"system {s.id}: needs 0 <= rack_mean_kw <= rack_kw <= rack_max_kw"
        if set(s.tokens_per_year) - models:
            yield f"system {s.id}: rates for unknown models {sorted(set(s.tokens_per_year) - models)}"
        if s.model_kw and not (s.liquid_only or s.liquid_share == 0):
            yield f"system {s.id}: per-model power needs heat that goes to one medium whatever the hall (liquid_only or no liquid share)"
        if any(not (0 <= mean <= s.rack_mean_kw and mean <= design <= s.rack_kw) for design, mean in s.model_kw.values()):
            yield f"system {s.id}: per-model power must be 0 <= mean <= design, within rack_mean_kw and rack_kw"
    for h in p.halls:
        if not h.cooling_options or not h.cooling_options <= set(COOLING_TYPES):
            yield f"hall {h.id}: cooling_options must be a non-empty subset of {COOLING_TYPES}"
        if (set(h.systems or ()) | set(h.min_racks) | set(h.max_racks)) - systems:
            yield f"hall {h.id}: unknown systems"
        else:
            for s, n in h.min_racks.items():
                system = p.system(s)
                if n > 0 and (not h.allows(system) or (system.liquid_only and "liquid" not in h.cooling_options)):
                    yield f"hall {h.id}: existing racks of {s}, which the hall does not allow"
                if n > h.max_racks.get(s, n):
                    yield f"hall {h.id}: existing racks of {s} above its max_racks"
        if h.fabric is not None and h.fabric not in fabrics:
            yield f"hall {h.id}: unknown fabric {h.fabric}"
        if any(st.carries == "facility" for st in h.stages):
            yield f"hall {h.id}: only site stages carry facility power"
    for scope, st in p.stages():
        if st.halls is not None and (scope != SITE or not st.halls or st.halls - {h.id for h in p.halls}):
            yield f"{scope}/{st.id}: only a site stage serves a subset of halls, and they must be known halls"
        if st.halls is not None and st.carries == "facility":
            yield f"{scope}/{st.id}: a stage carrying facility power serves every hall"
        if not st.options:
            yield f"{scope}/{st.id}: a stage needs at least one option"
        for o in st.options:
            if o.installed is not None and (o.installed < o.spare_units or (o.installed - o.spare_units) % o.units_per_usable):
                yield f"{scope}/{st.id}/{o.id}: {o.installed} units do not fit {o.redundancy}"
        if any(o.installed is not None for o in st.options) and len(st.options) != 1:
            yield f"{scope}/{st.id}: a stage with installed units has exactly one option"
