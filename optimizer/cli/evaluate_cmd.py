"""`aift evaluate`: one analytic year of a facility — power, PUE, tokens and cost per token."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from optimizer.cli.output import FORCE, InputError, check_output, out, print_json, spec_inputs, table, write_atomic

if TYPE_CHECKING:
    from twin.evaluate import Evaluation
    from twin.spec import Spec

KPI_LABELS = {
    "output_tokens_per_s": "throughput (output tok/s, at SLA)",
    "tokens_per_joule": "tokens per joule (facility)",
    "tokens_per_s_per_mw": "tokens/s per facility MW",
    "cost_per_million_tokens_usd": "cost per million tokens (USD)",
    "pue": "PUE (annual)",
    "availability": "availability (capacity-weighted)",
    "utilization": "GPU utilization",
    "it_power_mw": "IT power, mean (MW)",
    "facility_power_mw": "facility power, mean (MW)",
    "peak_facility_power_mw": "facility power, peak (MW)",
    "energy_mwh": "energy (MWh/yr)",
    "capped_hours": "hours IT was capped (interconnect or cooling)",
    "cooling_capped_hours": "hours the cooling capacity capped IT",
    "unmet_heat_hours": "hours some heat was not rejected at its supply temperature",
    "tokens_lost_to_cap": "tokens lost to the caps",
    "tokens_lost_to_failures": "tokens lost to failures",
    "annual_cost_usd": "annual cost (USD)",
    "capex_usd": "capex (USD)",
    "water_m3": "water (m3/yr)",
    "co2_t": "CO2 (t/yr)",
}


def run_evaluate(spec_path: Path, spec: Spec) -> Evaluation:
    """Evaluate the spec read from `spec_path`; a workload the hardware cannot serve is bad input (exit 2)."""
    from twin.evaluate import evaluate
    from twin.perf import PerfError
    try:
        return evaluate(spec)
    except PerfError as exc:
        raise InputError(f"{spec_path}: {exc}") from None


def evaluate_cmd(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    hourly: Path | None = typer.Option(None, "--hourly", help="Write the 8760 hourly values to this CSV file."),
    calibration: Path | None = typer.Option(None, "--calibration", help="Apply this overlay of measured correction factors (from `aift calibrate`)."),
    force: bool = FORCE,
) -> None:
    """KPIs, the cost breakdown and the cost per tenant of one analytic year (8760 hours)."""
    from twin.loader import load_spec
    from twin.telemetry.apply import calibrated

    spec = calibrated(load_spec(spec_path), calibration)
    if hourly is not None:
        check_output("--hourly", hourly, [*spec_inputs(spec), *([calibration] if calibration else [])], force=force)
    result = run_evaluate(spec_path, spec)
    if hourly is not None:
        write_atomic(hourly, result.hourly.to_csv(index=False))
    from twin.allocation import tenant_costs

    tenants = tenant_costs(spec, result)
    if as_json:
        print_json({**result.to_json(), "tenants": [t.as_json() for t in tenants]})
        return
    out.print(table("KPIs", ["figure", "value"], [[label, result.kpis[k]] for k, label in KPI_LABELS.items()]))
    rows = [[m["model"], ", ".join(m["systems"]), m["gpus"], m["output_tokens_per_s"], m["tokens_per_s_per_gpu"], m["tokens_per_s_per_user"], m["ttft_s"]]
            for m in result.models]
    out.print(table("Models", ["model", "systems", "GPUs", "output tok/s", "tok/s/GPU", "tok/s/user", "TTFT s"], rows))
    total = sum(result.cost_breakdown_usd.values())
    rows = [[k, v, v / total if total else 0.0] for k, v in sorted(result.cost_breakdown_usd.items(), key=lambda kv: -kv[1]) if v]
    out.print(table("Annual cost breakdown (USD/yr)", ["category", "USD/yr", "share"], rows))
    rows = [[t.tenant, ", ".join(t.models), t.output_tokens_per_year, t.gpus, t.showback_usd, t.showback_usd_per_million_tokens,
             t.chargeback_usd, t.chargeback_usd_per_million_tokens] for t in tenants]
    out.print(table("Cost per tenant (showback: by tokens served; chargeback: by reserved GPUs)",
                    ["tenant", "models", "tokens/yr", "GPUs", "showback USD/yr", "USD/Mtok", "chargeback USD/yr", "USD/Mtok"], rows))


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_cmd)
