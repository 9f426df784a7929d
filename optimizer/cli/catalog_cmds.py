"""`aift catalog`: the GPU systems, models and equipment a spec can refer to."""

from __future__ import annotations

from enum import StrEnum

import typer

from optimizer.cli.output import out, print_json, table


class Section(StrEnum):
    all = "all"
    systems = "systems"
    models = "models"
    equipment = "equipment"


def catalog(
    section: Section = typer.Argument(Section.all, help="Which part of the catalog."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show the catalog (every entry carries its source)."""
    from twin.loader import shipped_catalog
    cat = shipped_catalog()
    parts = {
        "systems": list(cat.systems.values()),
        "models": list(cat.models.values()),
        "equipment": list(cat.equipment.values()),
    }
    chosen = list(parts) if section is Section.all else [section.value]
    if as_json:
        print_json({k: [e.model_dump(mode="json") for e in parts[k]] for k in chosen})
        return
    if "systems" in chosen:
        rows = [
            [s.id, s.gpus_per_system, s.gpu.hbm_gb, s.gpu.hbm_tbps, s.gpu.dense_tflops.get("fp8", 0.0),
             s.gpu.dense_tflops.get("fp4"), s.max_kw, s.systems_per_rack, s.liquid_share, s.price_usd,
             (s.available or "-") + (" (projection)" if s.projection else "")]
            for s in parts["systems"]
        ]
        columns = ["id", "GPUs", "HBM GB", "HBM TB/s", "FP8 TFLOPS", "FP4 TFLOPS", "max kW", "per rack", "liquid", "price USD", "ships"]
        out.print(table("GPU systems", columns, rows))
        for s in parts["systems"]:
            if (pp := s.prefill_part) is not None:
                out.print(f"{s.id}: also {pp.per_system} {pp.name} prefill parts ({pp.memory_gb:g} GB at {pp.memory_tbps:g} TB/s, "
                          f"FP4 {pp.dense_tflops.get('fp4', 0.0):,.0f} TFLOPS, {pp.tdp_w:g} W, link {pp.link_gbyte_s:g} GB/s)",
                          markup=False, highlight=False)
    if "models" in chosen:
        rows = [[m.id, m.params_total_b, m.params_active_b, m.layers, m.attention, m.experts, ", ".join(m.precisions)] for m in parts["models"]]
        out.print(table("Models", ["id", "params B", "active B", "layers", "attention", "experts", "precisions"], rows))
    if "equipment" in chosen:
        rows = [[e.id, e.kind, _capacity(e), e.capex_usd, e.mtbf_h, e.mttr_h] for e in parts["equipment"]]
        out.print(table("Equipment", ["id", "kind", "capacity", "capex USD", "MTBF h", "MTTR h"], rows))


def _capacity(e) -> str:
    for field, unit in (("capacity_kw", "kW"), ("capacity_kva", "kVA"), ("ports", "ports"), ("gbps", "Gb/s")):
        if hasattr(e, field):
            return f"{getattr(e, field):,.0f} {unit}"
    return "-"


def register(app: typer.Typer) -> None:
    app.command()(catalog)
