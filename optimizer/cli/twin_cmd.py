"""`aift twin`: the facility as a graph, and its static analysis as tables or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from optimizer.cli.output import FORCE, check_output, out, print_json, spec_inputs, table, write_atomic

if TYPE_CHECKING:
    from twin.analysis import TwinReport


def twin(
    spec_path: Path = typer.Argument(..., help="Facility spec YAML.", metavar="SPEC"),
    utilization: float = typer.Option(1.0, "--utilization", min=0.0, max=1.0, help="IT utilization of every rack (1 = nameplate, the design point)."),
    graph_file: Path | None = typer.Option(None, "--graph", help="Also write the graph: GraphML for *.graphml, node-link JSON otherwise."),
    force: bool = FORCE,
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Loads and headroom, single points of failure, stranded capacity, availability and network of a facility."""
    from twin.analysis import analyze
    from twin.graph import build_graph, to_graphml, to_node_link_json
    from twin.loader import load_spec
    spec = load_spec(spec_path)
    if graph_file is not None:
        check_output("--graph", graph_file, spec_inputs(spec), force=force)
    report = analyze(spec, utilization)
    if graph_file is not None:
        graph = build_graph(spec)
        text = to_graphml(graph) if graph_file.suffix == ".graphml" else json.dumps(to_node_link_json(graph), indent=2) + "\n"
        write_atomic(graph_file, text)
    if as_json:
        print_json(report.to_json())
    else:
        _print(report)


def _print(r: TwinReport) -> None:
    out.print(f"[bold]{escape(r.name)}[/bold] at IT utilization {r.utilization:g} (spec {r.spec_hash})")
    rows = [[n.node, n.kind, n.load_kw, n.design_load_kw, n.design_case, n.usable_capacity_kw, n.headroom_kw, n.utilization, "ok" if n.ok else "OVER"]
            for n in r.loads]
    out.print(table("Loads (kW; heat for loops and plants)", ["node", "kind", "normal", "design", "design case", "usable", "headroom", "design/usable", ""], rows))
    if r.spofs:
        rows = [[s.node, s.kind, s.units, s.units_to_fail, s.racks, s.gpus, s.it_mw, f"{s.capacity_share:.1%}"] for s in r.spofs]
        out.print(table("Single points of failure (a group lost as a whole)", ["node", "kind", "units", "units to fail", "racks", "GPUs", "IT MW", "share of IT"], rows))
    else:
        out.print("No single point of failure: every rack group survives the loss of any one group.")
    rows = [[h.hall, h.positions, h.racks, h.power_headroom_mw, h.power_limit, h.cooling_headroom_mw, h.cooling_limit, h.floor_headroom_mw,
             h.stranded_power_mw, h.stranded_cooling_mw, h.stranded_space_mw, h.stranded_positions] for h in r.stranded]
    out.print(table("Headroom and stranded capacity (MW of IT, one hall at a time)",
                    ["hall", "positions", "racks", "power", "power limit", "cooling", "cooling limit", "floor",
                     "power w/o cooling", "cooling w/o power", "no position", "positions stranded"], rows))
    a = r.availability
    rows = [[g.rack_group, g.racks, f"{g.availability:.6%}", g.downtime_min_per_year] for g in a.groups]
    rows.append(["facility (IT-power weighted)", sum(g.racks for g in a.groups), f"{a.facility:.6%}", a.downtime_min_per_year])
    out.print(table("Static availability of power and cooling, per deployment", ["rack group", "racks", "availability", "downtime min/yr"], rows))
    rows = [[f.fabric, f.switch, f.gpus, f.endpoint_ports, f.max_endpoint_ports, " / ".join(f"{t.switches} {t.tier}" for t in f.tiers),
             f.oversubscription, f.transceivers, f.switch_kw, f.optics_kw, "ok" if f.ok else "TOO BIG"] for f in r.network.fabrics]
    out.print(table(f"Network fabrics ({r.network.power_kw:,.0f} kW of switches and optics)", ["fabric", "switch", "GPUs", "ports needed", "ports max", "switches", "oversub", "optics", "switch kW", "optics kW", ""], rows))


def register(app: typer.Typer) -> None:
    app.command()(twin)
