"""`aift plan` with design alternatives: run them, and show every alternative's figures and which was chosen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from optimizer.cli.output import Infeasible, InputError, out, table

if TYPE_CHECKING:
    from optimizer.alternatives import AlternativesRun
    from twin.spec import Spec


def run_alternatives(spec_path: Path, spec: Spec, objective: str | None, time_limit_s: float, shadow: bool,
                     shadow_time_s: float | None) -> AlternativesRun:
    """Plan each alternative of the spec; exit 3 when none is feasible, 2 when one was refused and none planned."""
    from optimizer.alternatives import NoAlternative, plan_alternatives
    from optimizer.planning import PlanInputError

    try:
        return plan_alternatives(spec, objective, time_limit_s, shadow, shadow_time_s)
    except PlanInputError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    except NoAlternative as exc:
        raise (Infeasible if exc.infeasible else InputError)(f"{spec_path}: {exc}") from None


def alternatives_json(alts: AlternativesRun) -> dict:
    """Every alternative with its status and figures, and the chosen one's values."""
    from optimizer.alternatives import alternative_rows

    return {"figure": alts.figure, "chosen": alts.tried[alts.chosen].values, "tried": alternative_rows(alts)}


def print_alternatives(alts: AlternativesRun) -> None:
    """A small table: each combination's values, status, the objective's figure by the plan and the twin, and the choice."""
    from optimizer.alternatives import alternative_rows
    from optimizer.scenarios import short_labels

    rows = alternative_rows(alts)
    paths = list(rows[0]["values"])
    labels = short_labels(paths)
    cells = [[*(r["values"][p] for p in paths), r.get("mip_status", r["status"]), _figure(r.get("plan")), _figure(r.get("twin")), r.get("unmet_heat_hours"),
              "chosen" if r["chosen"] else ""] for r in rows]
    columns = [labels[p] for p in paths] + ["status", f"{alts.figure} (plan)", "(twin)", "unmet-heat h", ""]
    out.print(table(f"Design alternatives (ranked on the twin: fewest unmet-heat hours, then {alts.figure})", columns, cells))
    for r in rows:
        if "reason" in r:
            named = ", ".join(f"{labels[p]}={r['values'][p]}" for p in paths)
            out.print(f"{named}: {r['status']}: {r['reason']}", markup=False)


def _figure(x: float | None) -> str | float | None:
    """Five significant digits for small figures (costs per token), so alternatives 0.01 % apart differ on screen."""
    return f"{x:.5g}" if x is not None and abs(x) < 100 else x
