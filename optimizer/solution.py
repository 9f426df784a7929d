"""A solved plan as plain numbers: the choices to write back into a facility YAML, and its figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyomo.environ as pyo

from optimizer.model import MTOK, STAGE_BLOCKS
from optimizer.problem_types import ObjectiveName, PlanProblem

Status = Literal["optimal", "time-limit", "not-proven"]


@dataclass(frozen=True)
class EquipmentChoice:
    """The units chosen for one stage (scope, stage)."""

    option: str
    installed_units: int
    usable_kw: float
    load_kw: float


@dataclass(frozen=True)
class DinkelbachStep:
    r"""One parametric MILP: $\min C - \lambda T$ at the price $\lambda$."""

    price_usd_per_mtok: float
    objective_usd: float  # F(lambda) of the incumbent; 0 at the optimum ratio
    solve_time_s: float
    mip_gap: float  # proven gap of F, relative to the incumbent plan's annual cost


@dataclass(frozen=True)
class Solution:
    """The plan. Mappings are read-only by convention; zero entries are left out."""

    objective: ObjectiveName
    status: Status
    objective_value: float  # USD per million tokens, USD/year or tokens/year
    mip_gap: float  # proven relative gap of the objective (for cost-per-token, of the ratio); inf when nothing is proven
    solve_time_s: float
    annual_cost_usd: float
    capex_usd: float
    tokens_per_year: float
    tokens_per_year_by_model: dict[str, float]
    design_it_kw: float
    design_facility_kw: float
    mean_facility_kw: float
    racks: dict[tuple[str, str], int]  # (hall, system) -> racks
    cooling: dict[str, str]  # hall -> air | liquid
    equipment: dict[tuple[str, str], EquipmentChoice]  # (hall or "site", stage) -> units
    switches: dict[str, int]  # fabric -> switches
    serving: dict[tuple[str, str, str], float]  # (hall, system, model) -> racks serving the model
    gpus: int
    steps: tuple[DinkelbachStep, ...] = ()
    time_limit_reached: bool = False  # some MILP stopped at the time limit; status "optimal" says the gap is proven anyway

    @property
    def cost_per_mtok_usd(self) -> float:
        """Annual cost per million output tokens served in the year."""
        return self.annual_cost_usd / (self.tokens_per_year / MTOK) if self.tokens_per_year > 0 else float("inf")

    def positions_used(self, hall: str) -> int:
        return sum(n for (h, _), n in self.racks.items() if h == hall)


def read_solution(m: pyo.ConcreteModel, p: PlanProblem, **run) -> Solution:
    """The loaded values of `m` as a Solution; `run` carries objective, status, gap and timings."""
    racks = {(h, s): round(pyo.value(m.hall_racks[h, s])) for (h, s) in m.HALL_SYSTEMS}
    racks = {k: n for k, n in racks.items() if n}
    option = {(scope, st.id, o.id): o for scope, st in p.stages() for o in st.options}
    equipment = {}
    for b in (getattr(m, name) for name in STAGE_BLOCKS):
        for k in b.OPTIONS:
            if round(pyo.value(b.installed_units[k])):
                usable_kw = round(pyo.value(b.usable_units[k])) * option[k].unit_kw
                equipment[k[:2]] = EquipmentChoice(k[2], round(pyo.value(b.installed_units[k])), usable_kw, pyo.value(b.load_kw[k[:2]]))
    kept = pyo.value(m.served_tokens_mtok) / max(pyo.value(m.total_tokens_mtok), 1e-12)  # after unavailability, every model alike
    tokens = {d: pyo.value(m.tokens_mtok[d]) * MTOK * kept for d in m.MODELS}
    return Solution(
        annual_cost_usd=pyo.value(m.annual_cost_usd),
        capex_usd=pyo.value(m.capex_usd),
        tokens_per_year=sum(tokens.values()),
        tokens_per_year_by_model=tokens,
        design_it_kw=pyo.value(m.design_it_kw),
        design_facility_kw=pyo.value(m.design_facility_kw),
        mean_facility_kw=pyo.value(m.mean_facility_kw),
        racks=racks,
        cooling={h: c for (h, c) in m.HALL_COOLING if round(pyo.value(m.cooled[h, c]))},
        equipment=equipment,
        switches={f: round(pyo.value(m.switches[f])) for f in m.FABRICS},
        serving={k: v for k in m.SERVES if (v := pyo.value(m.serving[k])) > 1e-9},
        gpus=sum(n * p.system(s).gpus_per_rack for (_, s), n in racks.items()),
        **run,
    )
