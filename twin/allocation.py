"""Cost allocation across tenants: who uses the factory, and what their share of its annual cost is.

A workload model may name its `tenant`; a tenant's models give it its output tokens
served and its reserved capacity (the GPUs serving those models). The facility's annual
cost is split two ways, both adding up to the whole:

    showback (by tokens served)      cost x tenant tokens / all tokens
    chargeback (by reserved capacity) cost x tenant GPUs / all GPUs

Showback tells a team what its use cost; chargeback bills what it holds, used or not.
Models without a tenant fall to `unassigned`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from twin.evaluate import SECONDS_PER_HOUR, Evaluation
from twin.spec import Spec

UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class TenantCost:
    """One tenant's share of the year: tokens, capacity and both cost splits."""

    tenant: str
    models: list[str]
    output_tokens_per_year: float
    gpus: float
    token_share: float
    capacity_share: float
    showback_usd: float  # by tokens served
    chargeback_usd: float  # by reserved capacity
    showback_usd_per_million_tokens: float | None
    chargeback_usd_per_million_tokens: float | None

    def as_json(self) -> dict:
        return asdict(self)


def allocate(annual_cost_usd: float, usage: dict[str, tuple[list[str], float, float]]) -> list[TenantCost]:
    """Split `annual_cost_usd` over tenants by tokens and by GPUs; `usage` maps tenant -> (models, tokens/year, GPUs)."""
    tokens = sum(u[1] for u in usage.values())
    gpus = sum(u[2] for u in usage.values())
    out = []
    for tenant, (models, tok, g) in sorted(usage.items()):
        ts = tok / tokens if tokens else 0.0
        cs = g / gpus if gpus else 0.0
        show, charge = annual_cost_usd * ts, annual_cost_usd * cs
        out.append(TenantCost(tenant, models, tok, g, ts, cs, show, charge, _per_million(show, tok), _per_million(charge, tok)))
    return out


def tenant_costs(spec: Spec, ev: Evaluation) -> list[TenantCost]:
    """Per tenant of the spec's workload, its tokens, GPUs and costs in the evaluated year."""
    seconds = len(ev.hourly) * SECONDS_PER_HOUR
    tenant_of = {wm.model: wm.tenant or UNASSIGNED for wm in spec.workload.models}
    usage: dict[str, tuple[list[str], float, float]] = {}
    for row in ev.models:
        t = tenant_of[row["model"]]
        models, tok, g = usage.get(t, ([], 0.0, 0.0))
        usage[t] = ([*models, row["model"]], tok + row["output_tokens_per_s"] * seconds, g + row["gpus"])
    return allocate(ev.kpis["annual_cost_usd"], usage)


def _per_million(usd: float, tokens: float) -> float | None:
    return usd / (tokens / 1e6) if tokens else None
