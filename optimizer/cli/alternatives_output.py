"""`aift plan` with design alternatives: run them, and show every alternative's figures and which was chosen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.cli.output import Infeasible, InputError, out, table

if TYPE_CHECKING:
    from optimizer.alternatives import AlternativesRun
    from twin.spec import Spec


def run_alternatives(spec_path: Path, spec: Spec, objective: str | None, time_limit_s: float, shadow: bool, verify: bool,
                     shadow_time_s: float | None) -> AlternativesRun:
    """Plan each alternative of the spec; exit 3 when none is feasible, 2 when one was refused and none planned."""
    from optimizer.alternatives import NoAlternative, plan_alternatives
    from optimizer.planning import PlanInputError

    try:
        return plan_alternatives(spec, objective, time_limit_s, shadow, verify, shadow_time_s)
    except PlanInputError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    except NoAlternative as exc:
        raise (Infeasible if exc.infeasible else InputError)(f"{spec_path}: {exc}") from None


def alternatives_json(alts: AlternativesRun) -> dict:
    """Every alternative with its status and figures, and the chosen one's values."""
    rows = []
    for i, a in enumerate(alts.tried):
        row = {"values": a.values, "status": a.status, "chosen": i == alts.chosen, "time_limit_s": a.time_limit_s}
        if a.run is None:
            row["reason"] = a.reason
        else:
            row.update(
                plan=a.run.predicted[alts.figure],
                twin=None if a.run.twin is None else a.run.twin[alts.figure],
                unmet_heat_hours=None if a.run.twin is None else a.run.twin["unmet_heat_hours"],
                mip_status=a.run.solution.status,
                mip_gap=a.run.solution.mip_gap,
            )
        rows.append(row)
    return {"figure": alts.figure, "ranked_on": alts.ranked_on, "chosen": alts.tried[alts.chosen].values, "tried": rows}


def print_alternatives(alts: AlternativesRun) -> None:
    """A small table: each combination's values, status, the objective's figure by the plan and the twin, and the choice."""
    from optimizer.scenarios import short_labels

    paths = list(alts.tried[0].values)
    labels = short_labels(paths)
    rows = []
    for i, a in enumerate(alts.tried):
        figures = [None, None, None] if a.run is None else [
            a.run.predicted[alts.figure],
            None if a.run.twin is None else a.run.twin[alts.figure],
            None if a.run.twin is None else a.run.twin["unmet_heat_hours"],
        ]
        status = a.status if a.run is None else a.run.solution.status
        rows.append([*(a.values[p] for p in paths), status, *figures, "chosen" if i == alts.chosen else ""])
    columns = [labels[p] for p in paths] + ["status", f"{alts.figure} (plan)", "(twin)", "unmet-heat h", ""]
    out.print(table(f"Design alternatives (ranked on the {alts.ranked_on}: fewest unmet-heat hours, then {alts.figure})", columns, rows))
    for a in alts.tried:
        if a.run is None:
            out.print(f"{', '.join(f'{labels[p]}={a.values[p]}' for p in paths)}: {a.status}: {a.reason}", markup=False)
