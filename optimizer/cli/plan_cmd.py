"""`aift plan`: the layout and capacity plan with the lowest cost per token, why it is so, written as a facility spec."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import FORCE, Infeasible, InputError, check_output, out, print_json, spec_inputs, table, write_atomic

if TYPE_CHECKING:
    from optimizer.planning import PlanRun
    from twin.spec import Spec


def run_plan(
    spec_path: Path, spec: Spec, objective: str | None, time_limit_s: float, shadow: bool, verify: bool, shadow_time_s: float | None = None
) -> PlanRun:
    """Plan the spec read from `spec_path`; bad input raises InputError (exit 2), an impossible request Infeasible (exit 3)."""
    from optimizer.highs import Infeasible as NoPlan
    from optimizer.planning import PlanInputError, plan_facility
    try:
        return plan_facility(spec, objective, time_limit_s, shadow, verify, shadow_time_s)
    except PlanInputError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    except NoPlan as exc:
        raise Infeasible(exc.reason) from None


def plan_cmd(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML; its `plan:` section says what is open.", metavar="SPEC"),
    objective: str | None = typer.Option(None, "--objective", help="cost-per-token, min-cost, max-tokens or max-tokens-at-cost; default: the spec's."),
    out_file: Path | None = typer.Option(None, "--out", help="Write the plan as a facility spec YAML here."),
    force: bool = FORCE,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for the plan's MILPs."),
    shadow: bool = typer.Option(False, "--shadow/--no-shadow", help="Price each binding limit by solving again with it relaxed (one solve each)."),
    shadow_time: float | None = typer.Option(None, "--shadow-time", help="Seconds for all the shadow values together; default: the time limit."),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Score the written plan with the twin, as `aift evaluate` does (always, with design alternatives: they are ranked on it)."),
    calibration: Path | None = typer.Option(None, "--calibration", help="Plan with this overlay of measured correction factors (from `aift calibrate`); the plan keeps it."),
) -> None:
    """Plan racks, cooling and equipment for the lowest cost per token; print the plan, its KPIs and what limits it."""
    from twin.loader import load_spec
    from twin.telemetry.apply import calibrated

    spec = calibrated(load_spec(spec_path), calibration)
    if out_file is not None:
        check_output("--out", out_file, [*spec_inputs(spec), *([calibration] if calibration else [])], force=force)
    if shadow_time is not None and not shadow_time > 0:
        raise InputError(f"--shadow-time must be a positive number of seconds; got {shadow_time:g}")
    alts = None
    if spec.plan is not None and spec.plan.alternatives:
        from optimizer.cli.alternatives_output import run_alternatives
        alts = run_alternatives(spec_path, spec, objective, time_limit, shadow, shadow_time)
        run = alts.run
    else:
        run = run_plan(spec_path, spec, objective, time_limit, shadow, verify, shadow_time)
    if out_file is not None:
        write_atomic(out_file, run.yaml_text)
    if as_json:
        print_json(_json(run, out_file) | _alternatives_json(spec, alts))
    else:
        if alts is not None:
            from optimizer.cli.alternatives_output import print_alternatives
            print_alternatives(alts)
        _print(run, out_file)


def _alternatives_json(spec: Spec, alts) -> dict:
    if alts is None:
        return {}
    from optimizer.cli.alternatives_output import alternatives_json
    return {"spec_hash": spec.spec_hash(), "alternatives": alternatives_json(alts)}


def _json(run: PlanRun, out_file: Path | None) -> dict:
    from optimizer.plan_kpis import COMPARED
    s = run.solution
    return {
        "spec": run.spec.name,
        "spec_hash": run.spec.spec_hash(),
        "objective": s.objective,
        "status": s.status,
        "mip_gap": s.mip_gap,
        "time_limit_reached": s.time_limit_reached,
        "solve_time_s": s.solve_time_s,
        "dinkelbach_steps": [asdict(step) for step in s.steps],
        "racks": [{"hall": h, "system": v, "racks": n} for (h, v), n in s.racks.items()],
        "cooling": s.cooling,
        "equipment": [{"scope": sc, "group": g, **asdict(c)} for (sc, g), c in s.equipment.items()],
        "switches": s.switches,
        "serving": [{"hall": h, "system": v, "model": m, "racks": x} for (h, v, m), x in s.serving.items()],
        "predicted": run.predicted,
        "twin": None if run.twin is None else {k: run.twin[k] for k in COMPARED},
        "limits": [{**asdict(u.limit), "used": u.used, "binding": u.binding} for u in run.uses],
        "shadow_values": [{**asdict(v.limit), **{k: x for k, x in asdict(v).items() if k != "limit"}} for v in run.shadows],
        "out": out_file,
    }


def _print(run: PlanRun, out_file: Path | None) -> None:
    from optimizer.plan_kpis import COMPARED
    from optimizer.problem import parse_system_id
    s, p = run.solution, run.problem
    rows = []
    for (h, v), n in sorted(s.racks.items()):
        system, per_rack = parse_system_id(v)
        rows.append([h, s.cooling[h], system, per_rack or "catalog", n, n * p.system(v).gpus_per_rack])
    out.print(table(f"Plan ({s.objective})", ["hall", "cooling", "system", "systems/rack", "racks", "GPUs"], rows))
    empty = [h.id for h in p.halls if not s.positions_used(h.id)]
    if empty:
        out.print(f"left empty: {', '.join(empty)} (the written spec drops a hall whose feeds or loops the plan does not build)", markup=False)
    rows = [[sc, g, *c.option.split("@"), c.installed_units, c.usable_kw, c.load_kw] for (sc, g), c in s.equipment.items()]
    rows += [["site", f, "switches", "-", n, None, None] for f, n in s.switches.items()]
    out.print(table("Equipment", ["scope", "group", "equipment", "redundancy", "units", "usable kW", "load kW"], rows))
    columns = ["figure", "plan (linear model)"] + ([] if run.twin is None else ["twin (evaluate)", "difference"])
    rows = [[k, run.predicted[k]] + ([] if run.twin is None else [run.twin[k], _diff(run.twin[k], run.predicted[k])]) for k in COMPARED]
    out.print(table("KPIs", columns, rows))
    limit = ", time limit reached" if s.time_limit_reached else ""
    out.print(f"HiGHS: {s.status}, proven gap {s.mip_gap:.4%}, {s.solve_time_s:.2f} s of MILP{limit}")
    if s.steps:
        rows = [[i + 1, st.price_usd_per_mtok, st.objective_usd, st.solve_time_s, f"{st.mip_gap:.2e}"] for i, st in enumerate(s.steps)]
        out.print(table("Dinkelbach steps", ["step", "price USD/Mtok", "F(price) USD/yr", "time s", "gap"], rows))
    shown = [u for u in run.uses if u.binding or u.limit.kind in ("utility", "budget")]
    rows = [[u.limit.kind, u.limit.subject, u.limit.value, u.used, u.limit.unit, "binding" if u.binding else ""] for u in shown]
    out.print(
        table(
            f"Limits (binding and site-wide; {len(run.uses) - len(shown)} more with room, in --json)",
            ["limit", "of", "value", "used", "unit", ""],
            rows,
        )
    )
    if run.shadows:
        rows = [
            [
                v.limit.kind,
                v.limit.subject,
                f"+{v.step:g} {v.limit.unit}",
                v.cost_per_mtok_change_usd,
                v.tolerance_usd_per_mtok,
                v.annual_cost_change_usd,
                v.tokens_per_year_change,
            ]
            for v in run.shadows
        ]
        out.print(
            table(
                "Shadow values (one more unit of each binding limit)",
                ["limit", "of", "step", "USD/Mtok change", "± tolerance", "USD/yr change", "tokens/yr change"],
                rows,
            )
        )
    out.print(f"wrote {out_file}" if out_file is not None else "(pass --out PLAN.yaml to write the plan as a facility spec)", markup=False)


def _diff(twin: float, plan: float) -> str:
    return f"{twin / plan - 1:+.2%}" if plan else "-"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_cmd)
