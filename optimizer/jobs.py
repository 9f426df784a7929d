"""The jobs a sweep can run on each scenario, by name.

A job is a pure function `fn(spec, seed) -> JobResult`. The sweep machinery looks jobs
up here and never needs to know which one runs, so adding one (evaluate, simulate, plan)
is one `register_job` line at the bottom of this module.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from twin.spec import Spec


@dataclass(frozen=True)
class JobResult:
    """What one job returns: flat KPIs, optional tidy series (stored as Parquet) and a plan.

    KPI values are coerced to float here, in the worker, so a job that returns something
    that is not a number fails its own scenario instead of the results store.
    """

    kpis: dict[str, float]
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    plan_yaml: str | None = None

    def __post_init__(self) -> None:
        kpis = {}
        for name, value in self.kpis.items():
            if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"KPI {name!r}: expected a number, got {type(value).__name__}")
            kpis[name] = float(value)
        object.__setattr__(self, "kpis", kpis)
        for name, frame in self.series.items():
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"series {name!r}: expected a pandas DataFrame, got {type(frame).__name__}")


Job = Callable[[Spec, int], JobResult]

_JOBS: dict[str, Job] = {}


def register_job(name: str, fn: Job) -> None:
    """Make `fn` runnable by sweeps under `name` (replacing any job of that name)."""
    _JOBS[name] = fn


def get_job(name: str) -> Job:
    """The job registered as `name`; KeyError names the registered ones."""
    try:
        return _JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}; registered jobs: {', '.join(job_names())}") from None


def job_names() -> list[str]:
    """Registered job names, sorted."""
    return sorted(_JOBS)


def static_job(spec: Spec, seed: int) -> JobResult:
    """Size and capacity figures read from the spec alone: no physics, no randomness.

    Cheap enough to sweep thousands of scenarios, and what every other job's numbers
    are measured against (how much was installed, how much it cost).
    """
    del seed  # nothing random here; the argument is part of the job signature
    rows = []
    for d in spec.deployments:
        system = spec.cat.systems[d.system]
        systems = d.racks * (d.systems_per_rack or system.systems_per_rack)
        rows.append(
            {
                "hall": d.hall,
                "system": d.system,
                "racks": d.racks,
                "systems": systems,
                "gpus": systems * system.gpus_per_system,
                "rack_it_kw": systems * system.max_kw,
                "it_capex_usd": systems * system.price_usd,
            }
        )
    columns = ["hall", "system", "racks", "systems", "gpus", "rack_it_kw", "it_capex_usd"]
    table = pd.DataFrame(rows, columns=columns)
    positions = sum(h.positions for h in spec.halls)
    racks = int(table["racks"].sum())
    rack_it_mw = float(table["rack_it_kw"].sum()) / 1000.0
    kpis = {
        "halls": len(spec.halls),
        "positions": positions,
        "racks": racks,
        "positions_used_share": racks / positions,
        "systems": int(table["systems"].sum()),
        "gpus": int(table["gpus"].sum()),
        "rack_it_mw": rack_it_mw,
        "utility_mw": spec.site.utility_mw,
        "rack_it_share_of_utility": rack_it_mw / spec.site.utility_mw,
        "it_capex_usd": float(table["it_capex_usd"].sum()),
    }
    return JobResult(kpis=kpis, series={"deployments": table})


register_job("static", static_job)


def evaluate_job(spec: Spec, seed: int) -> JobResult:
    """One analytic year: KPIs and the hourly table (deterministic; the seed is unused)."""
    from twin.evaluate import evaluate

    result = evaluate(spec)
    return JobResult(result.kpis, {"hourly": result.hourly})


register_job("evaluate", evaluate_job)
