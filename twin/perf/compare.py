"""Every catalog system serving one workload at its SLA, relative to a baseline system.

Cost per token here is that of the system alone: its price annualized over the IT life at
the cost of capital, plus its IT energy at the tariff, over the output tokens of a year at
the operating point. Facility overheads (cooling, losses, building) are left out, so the
ratios compare systems, not sites; tokens per MW are per MW of system IT power.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.catalog import Catalog, ModelEntry, SystemEntry
from twin.economics import capital_recovery_factor
from twin.perf.frontier import operating_point
from twin.perf.points import OperatingPoint, PerfError
from twin.spec import Economics, Tariff, WorkloadModel

SECONDS_PER_YEAR = 8760 * 3600.0


@dataclass(frozen=True)
class SystemComparison:
    """One system's operating point (or why it has none) and its ratios to the baseline."""

    system: str
    precision: str
    point: OperatingPoint | None
    error: str | None
    tokens_per_s_per_mw: float | None  # output tokens/s per MW of system IT power
    usd_per_million_tokens: float | None
    tokens_per_mw_vs_baseline: float | None
    cost_per_token_vs_baseline: float | None


def system_cost_per_million_tokens(system: SystemEntry, op: OperatingPoint, economics: Economics, tariff: Tariff) -> float:
    """USD per million output tokens of one system running all year at `op`."""
    capital = system.price_usd * capital_recovery_factor(economics.discount_rate, economics.life_years.it)
    energy = op.system_power_kw * 8.76 * tariff.price_usd_per_mwh  # kW x 8,760 h = MWh x 1e3
    tokens = op.tokens_per_s_per_gpu * system.gpus_per_system * SECONDS_PER_YEAR
    return (capital + energy) / (tokens / 1e6)


def native_precision(system: SystemEntry, model: ModelEntry) -> str:
    """The narrowest precision both the model ships in and the GPU's tensor cores compute: how each is served at its best."""
    for p in ("fp4", "fp8", "bf16"):
        if p in model.precisions and p in system.gpu.dense_tflops:
            return p
    return model.precisions[0]


def compare_systems(catalog: Catalog, wm: WorkloadModel, baseline: str, *, max_gpus: int | None = None,
                    max_batch: float | None = None, economics: Economics | None = None,
                    tariff: Tariff | None = None, native: bool = False) -> list[SystemComparison]:
    """One row per catalog system, in catalog order; systems that cannot serve `wm` carry the reason.

    `native` serves each system at `native_precision` (FP4 on Blackwell, FP8 on Hopper), as
    published comparisons do, instead of `wm.precision` everywhere.
    """
    economics, tariff = economics or Economics(), tariff or Tariff()
    model = catalog.models[wm.model]
    rows = {}
    for sid, system in catalog.systems.items():
        swm = wm.model_copy(update={"precision": native_precision(system, model)}) if native else wm
        try:
            op = operating_point(system, model, swm, max_gpus=max_gpus, max_batch=max_batch)
        except PerfError as exc:
            rows[sid] = (swm.precision, None, str(exc), None, None)
            continue
        per_mw = op.tokens_per_s_per_gpu * system.gpus_per_system / (op.system_power_kw / 1e3)
        rows[sid] = (swm.precision, op, None, per_mw, system_cost_per_million_tokens(system, op, economics, tariff))
    base = rows.get(baseline, (None, None, None, None, None))
    out = []
    for sid, (precision, op, error, per_mw, cost) in rows.items():
        ratio_mw = per_mw / base[3] if per_mw and base[3] else None
        ratio_cost = cost / base[4] if cost and base[4] else None
        out.append(SystemComparison(sid, precision, op, error, per_mw, cost, ratio_mw, ratio_cost))
    return out
