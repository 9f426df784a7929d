"""`aift roadmap`: which halls, systems, power and cooling to build in which year, for the lowest cost per token over the campus's life."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from optimizer.cli.output import (
    FORCE,
    Infeasible,
    InputError,
    check_output,
    err,
    json_document,
    out,
    print_json,
    spec_inputs,
    table,
    write_atomic,
)

if TYPE_CHECKING:
    from optimizer.roadmap.planning import RoadmapResult

SCHEDULE_FILE = "schedule.csv"
SUMMARY_FILE = "roadmap.json"


def year_file(year: int) -> str:
    return f"year-{year}.yaml"


def roadmap_cmd(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML with a `roadmap:` section.", metavar="SPEC"),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Write the schedule, a summary and one facility spec per year into this folder."
    ),
    objective: str | None = typer.Option(None, "--objective", help="levelized-cost-per-token or min-cost; default: the spec's."),
    force: bool = FORCE,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    time_limit: float = typer.Option(300.0, "--time-limit", help="Seconds for the roadmap's MILPs."),
    gap: float = typer.Option(1e-3, "--gap", help="Relative gap to prove (of the discounted cost, or of F at the last Dinkelbach step)."),
    shadow: bool = typer.Option(True, "--shadow/--no-shadow", help="Price each year's limits by the LP at the solution."),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Score each year's spec with the twin, as `aift evaluate` does."),
) -> None:
    """Plan a campus over years and GPU generations: the build schedule, each year's facility and cost per token, what binds."""
    from optimizer.highs import Infeasible as NoPlan
    from optimizer.roadmap.planning import RoadmapInputError, plan_roadmap  # Pyomo and pandas: imported when the command runs
    from twin.loader import load_spec

    spec = load_spec(spec_path)
    rm = spec.roadmap
    if out_dir is not None and rm is not None:
        files = [SCHEDULE_FILE, SUMMARY_FILE, *(year_file(y) for y in rm.year_list)]
        check_output("--out", out_dir, spec_inputs(spec), files=files, force=force)
    try:
        result = plan_roadmap(spec, objective, time_limit, gap, shadow, verify)
    except RoadmapInputError as exc:
        raise InputError(f"{spec_path}: {exc}") from None
    except NoPlan as exc:
        raise Infeasible(exc.reason) from None
    summary = summary_json(result)
    if out_dir is not None:
        write_atomic(out_dir / SCHEDULE_FILE, result.schedule_csv())
        write_atomic(out_dir / SUMMARY_FILE, json_document(summary))
        for year, text in result.year_yaml.items():
            write_atomic(out_dir / year_file(year), text)
    if as_json:
        print_json(summary | {"out": out_dir})
    else:
        _print(result, out_dir)


def summary_json(result: RoadmapResult) -> dict:
    """The roadmap as one JSON-ready document."""
    r = result.roadmap
    twin = result.twin or {}
    return {
        "spec": result.spec.name,
        "spec_hash": result.spec.spec_hash(),
        "objective": r.objective,
        "status": r.status,
        "mip_gap": r.mip_gap,
        "solve_time_s": r.solve_time_s,
        "levelized_cost_per_million_tokens_usd": r.levelized_usd_per_mtok,
        "discounted_cost_usd": r.pv_cost_usd,
        "discounted_tokens": r.pv_tokens_mtok * 1e6,
        "dinkelbach_steps": [asdict(s) for s in r.steps],
        "years": [
            {
                "year": y.year,
                "utility_kw": y.utility_kw,
                "design_facility_kw": y.plan.design_facility_kw,
                "halls_built": list(y.halls_built),
                "demand_tokens_per_year": y.demand_tokens_per_year,
                "tokens_per_year": y.tokens_per_year,
                "annual_cost_usd": y.annual_cost_usd,
                "capex_usd": y.capex_usd,
                "cost_per_million_tokens_usd": y.cost_per_mtok_usd,
                "twin_cost_per_million_tokens_usd": twin[y.year]["cost_per_million_tokens_usd"] if y.year in twin else None,
                "gpus_by_system": r.gpus_by_system()[y.year],
            }
            for y in r.years
        ],
        "schedule": r.schedule_rows(),
        "projections": projections(result),
        "shadow_values": [asdict(b) for b in result.bindings],
        "shadow_values_error": result.shadow_error,
    }


def projections(result: RoadmapResult) -> list[str]:
    """Catalog systems of the roadmap that are projections: every figure they touch is one too."""
    used = {s for row in result.roadmap.gpus_by_system().values() for s in row}
    return sorted(s for s in used if result.spec.cat.systems[s].projection)


def _print(result: RoadmapResult, out_dir: Path | None) -> None:
    r = result.roadmap
    schedule = r.schedule_rows()
    fleet_sold = any(x["sold_at_start"] for x in schedule)  # a column only when a starting fleet is sold before serving
    rows = [
        [str(x["year"]), x["hall"], x["system"], x["hall_built"], x["installed"], x["in_service"], x["retired"]]
        + ([x["sold_at_start"]] if fleet_sold else [])
        + [x["gpus"]]
        for x in schedule
    ]
    columns = ["year", "hall", "system", "hall built", "installed", "in service", "retired", *(["sold at start"] if fleet_sold else []), "GPUs"]
    out.print(table(f"Build schedule ({r.objective})", columns, rows))
    twin = result.twin or {}
    rows = []
    for y in r.years:
        scored = twin.get(y.year, {}).get("cost_per_million_tokens_usd")
        rows.append(
            [
                str(y.year),
                y.utility_kw / 1000,
                y.plan.design_facility_kw / 1000,
                y.capex_usd / 1e6,
                sum(y.demand_tokens_per_year.values()) / 3.1536e7,
                y.tokens_per_year / 3.1536e7,
                y.cost_per_mtok_usd,
                scored,
                f"{scored / y.cost_per_mtok_usd - 1:+.2%}" if scored else "-",
            ]
        )
    columns = [
        "year",
        "interconnect MW",
        "design-hour MW",
        "capital M USD",
        "demand tok/s",
        "tok/s",
        "USD/Mtok (roadmap)",
        "USD/Mtok (twin)",
        "difference",
    ]
    out.print(table("Years", columns, rows))
    out.print(f"levelized cost: ${r.levelized_usd_per_mtok:.4f} per million output tokens (discounted cost ${r.pv_cost_usd:,.0f})")
    if projections(result):
        out.print(f"projections (announced, not shipping: their figures are the vendor's intent): {', '.join(projections(result))}")
    out.print(f"HiGHS: {r.status}, proven gap {r.mip_gap:.4%}, {r.solve_time_s:.2f} s of MILP")
    if result.bindings:
        rows = [
            [str(b.year), b.kind, b.subject, b.limit, b.used, b.unit, b.dual, b.levelized_per_unit_usd_per_mtok]
            for b in result.bindings
            if b.dual
        ]
        columns = ["year", "limit", "of", "value", "used", "unit", "shadow (objective per unit)", "levelized USD/Mtok per unit"]
        out.print(table("What binds (nonzero duals of the LP at the roadmap's choices)", columns, rows))
    if result.shadow_error:
        err.print(f"what binds: not available: {escape(result.shadow_error)}", style="yellow")
    out.print(f"wrote {out_dir}" if out_dir is not None else "(pass --out DIR to write the schedule and each year's facility spec)")


def register(app: typer.Typer) -> None:
    app.command("roadmap")(roadmap_cmd)
