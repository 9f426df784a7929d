"""Plotly figures of a facility and its year. Pure functions: results in, figures out."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.analysis import NodeLoad, Spof
from twin.deployments import deployment_systems
from twin.evaluate import Evaluation
from twin.perf import ServingPoint
from twin.spec import Spec
from ui import fmt

_TIER = {"utility": 0, "generator": 0, "transformer": 1, "ups": 2, "pdu": 3, "busway": 3, "distribution": 3,
         "chiller": 3, "dry_cooler": 3, "cooling_tower": 3, "cdu": 4, "crah": 4, "racks": 5}
_ROW_PX = 46  # vertical room per component, so labels never overlap


def chain_layout(graph: nx.DiGraph, hall: str | None = None) -> tuple[nx.DiGraph, dict[str, tuple[float, int]]]:
    """The power and cooling chain (optionally only what feeds one hall's racks) and a layered layout.

    Columns are tiers (utility and generators, transformers, UPS, distribution and plants, loops, racks);
    inside a column, components are ordered by the mean row of what feeds them (two barycentre sweeps)
    so links mostly run straight. Positions are (column, row).
    """
    g = nx.DiGraph((u, v, d) for u, v, d in graph.edges(data=True) if d.get("layer") in ("power", "cooling"))
    if hall is not None:
        racks = [n for n in g if graph.nodes[n].get("kind") == "racks" and graph.nodes[n].get("hall") == hall]
        keep = set(racks).union(*(nx.ancestors(g, r) for r in racks))
        g = g.subgraph(keep).copy()
    tiers: dict[int, list[str]] = {}
    for n in sorted(g.nodes):
        tiers.setdefault(_TIER.get(graph.nodes[n].get("kind", ""), 2), []).append(n)
    row = {n: i for nodes in tiers.values() for i, n in enumerate(nodes)}
    for order in (sorted(tiers), sorted(tiers, reverse=True)):
        for t in order:
            def centre(n: str, t: int = t) -> float:
                near = [row[m] for m in (*g.predecessors(n), *g.successors(n)) if _TIER.get(graph.nodes[m].get("kind", ""), 2) != t]
                return sum(near) / len(near) if near else row[n]
            tiers[t].sort(key=centre)
            row.update({n: i for i, n in enumerate(tiers[t])})
    tallest = max((len(v) for v in tiers.values()), default=1)
    pos = {n: (float(t), (tallest - len(nodes)) / 2 + i) for t, nodes in tiers.items() for i, n in enumerate(nodes)}
    return g, pos


def chain_figure(graph: nx.DiGraph, loads: tuple[NodeLoad, ...], spofs: tuple[Spof, ...], hall: str | None = None) -> go.Figure:
    """Power and cooling chain, left to right; color = design load / usable capacity; SPOFs ringed red."""
    g, pos = chain_layout(graph, hall)
    util = {n.node: n.utilization for n in loads}
    spof = {s.node for s in spofs}
    fig = go.Figure()
    for layer, color in (("power", "#888"), ("cooling", "#4a90d9")):
        xs, ys = [], []
        for u, v, d in g.edges(data=True):
            if d["layer"] == layer:
                xs += [pos[u][0], pos[v][0], None]
                ys += [pos[u][1], pos[v][1], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": 1}, name=f"{layer} link", hoverinfo="skip"))
    nodes = list(g.nodes)
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text", text=[graph.nodes[n].get("name", n) for n in nodes],
        textposition="middle right", textfont={"size": 11}, name="component",
        marker={"size": 14, "color": [util.get(n, 0.0) for n in nodes], "colorscale": "RdYlGn_r", "cmin": 0, "cmax": 1.1,
                "colorbar": {"title": "load / usable", "tickformat": ".0%"},
                "line": {"width": [4 if n in spof else 1 for n in nodes], "color": ["red" if n in spof else "#333" for n in nodes]}},
        hovertext=[f"{n} ({graph.nodes[n].get('kind', '')})<br>design load / usable capacity: {util.get(n, 0):.0%}"
                   f"{'<br><b>single point of failure</b>' if n in spof else ''}" for n in nodes],
        hoverinfo="text",
    ))
    tallest = max((p[1] for p in pos.values()), default=0) + 1
    columns = ["utility, generators", "transformers", "UPS", "distribution, cooling plants", "cooling loops", "racks"]
    fig.update_layout(title=f"Power and cooling chain{f' of {hall}' if hall else ''} (red ring: single point of failure)", showlegend=False,
                      height=max(360, 120 + _ROW_PX * int(tallest)),
                      xaxis={"tickvals": list(range(len(columns))), "ticktext": columns, "side": "top", "range": [-0.3, len(columns) - 0.2],
                             "showgrid": False, "zeroline": False},
                      yaxis={"visible": False, "autorange": "reversed"}, margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def floor_racks_kw(spec: Spec, utilization: float) -> dict[str, np.ndarray]:
    """Each hall's rack positions in order, with the rack power at this utilization (kW; NaN where empty)."""
    out = {}
    for hall in spec.halls:
        kw = np.full(hall.positions, np.nan)
        i = 0
        for d in spec.deployments:
            if d.hall != hall.id:
                continue
            s = spec.cat.systems[d.system]
            per_rack = deployment_systems(spec, d) / d.racks
            kw[i : i + d.racks] = per_rack * (s.idle_kw + (s.max_kw - s.idle_kw) * utilization)
            i += d.racks
        out[hall.id] = kw
    return out


def floor_figure(spec: Spec, utilization: float) -> go.Figure:
    """One heatmap per hall (own subplot, shared colour scale): rack positions colored by rack power (kW).

    Separate subplots keep each hall's rows on its own axis; several heatmaps on one categorical
    axis made plotly.js fail for every multi-hall facility.
    """
    racks = floor_racks_kw(spec, utilization)
    cols = int(np.ceil(np.sqrt(max(len(kw) for kw in racks.values()) * 2)))
    rows = {h: int(np.ceil(len(kw) / cols)) for h, kw in racks.items()}
    fig = make_subplots(rows=len(racks), cols=1, subplot_titles=[f"{h}: {np.count_nonzero(~np.isnan(kw))} of {len(kw)} positions"
                                                               for h, kw in racks.items()],
                        row_heights=list(rows.values()), vertical_spacing=min(0.08, 0.3 / len(racks)))
    for r, (hall, kw) in enumerate(racks.items(), start=1):
        grid = np.full(rows[hall] * cols, np.nan)
        grid[: len(kw)] = kw
        position = np.arange(1, rows[hall] * cols + 1).reshape(rows[hall], cols)
        fig.add_trace(go.Heatmap(z=grid.reshape(rows[hall], cols), customdata=position, coloraxis="coloraxis", xgap=2, ygap=2, name=hall,
                                 hovertemplate=f"{hall}, position %{{customdata}}<br>%{{z:,.1f}} kW<extra></extra>"), row=r, col=1)
        fig.update_xaxes(visible=False, row=r, col=1)
        fig.update_yaxes(visible=False, autorange="reversed", row=r, col=1)
    fig.update_layout(title=f"Hall floors: rack power at {utilization:.0%} utilization (empty positions blank)",
                      coloraxis={"colorscale": "YlOrRd", "colorbar": {"title": "kW per rack"}},
                      height=140 + sum(28 * n + 40 for n in rows.values()), margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def sankey_figure(ev: Evaluation) -> go.Figure:
    """Annual energy from the utility to losses, cooling, misc, network and IT, and IT to tokens; labels carry their GWh."""
    h = ev.hourly
    gwh = {k: h[f"{k}_kw"].sum() / 1e6 for k in ("loss", "cooling", "misc", "network", "it")}
    total = sum(gwh.values())
    names = {"loss": "conversion losses", "cooling": "cooling", "misc": "misc", "network": "network", "it": "IT (GPU systems)"}
    labels = [f"utility {total:,.0f} GWh"] + [f"{names[k]} {gwh[k]:,.1f} GWh ({gwh[k] / total:.1%})" for k in names]
    labels.append(f"{fmt.number(ev.kpis['output_tokens_per_year'])} output tokens")
    src = [0, 0, 0, 0, 0, 5]
    dst = [1, 2, 3, 4, 5, 6]
    val = [gwh["loss"], gwh["cooling"], gwh["misc"], gwh["network"], gwh["it"], gwh["it"]]
    fig = go.Figure(go.Sankey(node={"label": labels, "pad": 30, "thickness": 18, "line": {"width": 0}},
                              link={"source": src, "target": dst, "value": val}, valueformat=",.1f", valuesuffix=" GWh",
                              textfont={"size": 14, "color": "#222"}))
    fig.update_layout(title=f"Energy over the year; {ev.kpis['tokens_per_joule']:.2f} output tokens per facility joule", height=440,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def hourly_figure(ev: Evaluation) -> go.Figure:
    """Facility and IT power and hourly PUE over the year."""
    h = ev.hourly
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=h["hour"], y=h["facility_kw"] / 1000, name="facility MW", line={"width": 1}))
    fig.add_trace(go.Scattergl(x=h["hour"], y=(h["it_kw"] + h["network_kw"]) / 1000, name="IT + network MW", line={"width": 1}))
    fig.add_trace(go.Scattergl(x=h["hour"], y=h["pue"], name="PUE", yaxis="y2", line={"width": 1}))
    fig.update_layout(title="Hourly power and PUE", xaxis={"title": "hour of the year"}, yaxis={"title": "MW"},
                      yaxis2={"title": "PUE", "overlaying": "y", "side": "right"}, height=380, legend={"orientation": "h"})
    return fig


def cost_figure(ev: Evaluation) -> go.Figure:
    """Annual cost by category."""
    items = sorted(((k, v) for k, v in ev.cost_breakdown_usd.items() if v > 0), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v / 1e6 for _, v in items], y=[k for k, _ in items], orientation="h"))
    fig.update_layout(title=f"Annual cost: {ev.kpis['annual_cost_usd'] / 1e6:,.1f} M USD; {ev.kpis['cost_per_million_tokens_usd']:.3f} USD per million tokens",
                      xaxis={"title": "M USD / year"}, height=380)
    return fig


def frontier_figure(curves: dict[str, list[ServingPoint]], chosen: dict[str, ServingPoint]) -> go.Figure:
    """Throughput per GPU against interactivity, one curve per (system, model); stars at the operating points."""
    fig = go.Figure()
    for name, pts in curves.items():
        df = pd.DataFrame({"x": [p.tokens_per_s_per_user for p in pts], "y": [p.tokens_per_s_per_gpu for p in pts]})
        fig.add_trace(go.Scatter(x=df.x, y=df.y, mode="lines+markers", name=name, marker={"size": 4}))
        if name in chosen:
            p = chosen[name]
            fig.add_trace(go.Scatter(x=[p.tokens_per_s_per_user], y=[p.tokens_per_s_per_gpu], mode="markers", showlegend=False,
                                     marker={"symbol": "star", "size": 14, "color": "black"}, name=f"{name} operating point"))
    fig.update_layout(title="Throughput per GPU vs interactivity (stars: operating points at the SLA)",
                      xaxis={"title": "output tokens/s per user"}, yaxis={"title": "output tokens/s per GPU"}, height=420)
    return fig
