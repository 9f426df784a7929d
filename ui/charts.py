"""Plotly figures of a facility and its year. Pure functions: results in, figures out."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from twin.analysis import NodeLoad, Spof
from twin.deployments import deployment_systems
from twin.evaluate import Evaluation
from twin.perf import ServingPoint
from twin.spec import Spec

_TIER = {"utility": 0, "generator": 0, "transformer": 1, "ups": 2, "pdu": 3, "busway": 3, "distribution": 3,
         "chiller": 1, "dry_cooler": 1, "cooling_tower": 1, "cdu": 3, "crah": 3, "racks": 4}


def chain_figure(graph: nx.DiGraph, loads: tuple[NodeLoad, ...], spofs: tuple[Spof, ...]) -> go.Figure:
    """Power and cooling chain, left to right; color = design load / usable capacity; SPOFs ringed red."""
    g = nx.DiGraph((u, v, d) for u, v, d in graph.edges(data=True) if d.get("layer") in ("power", "cooling"))
    util = {n.node: n.utilization for n in loads}
    spof = {s.node for s in spofs}
    for n in g.nodes:
        g.nodes[n]["tier"] = _TIER.get(graph.nodes[n].get("kind", ""), 2)
    pos = nx.multipartite_layout(g, subset_key="tier")
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
        x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text", text=nodes, textposition="top center",
        textfont={"size": 9}, name="component",
        marker={"size": 16, "color": [util.get(n, 0.0) for n in nodes], "colorscale": "RdYlGn_r", "cmin": 0, "cmax": 1.1,
                "colorbar": {"title": "load / usable"},
                "line": {"width": [4 if n in spof else 1 for n in nodes], "color": ["red" if n in spof else "#333" for n in nodes]}},
        hovertext=[f"{n}<br>design load / usable: {util.get(n, 0):.0%}{'<br><b>single point of failure</b>' if n in spof else ''}" for n in nodes],
        hoverinfo="text",
    ))
    fig.update_layout(title="Power and cooling chain (red ring: single point of failure)", showlegend=False, height=560,
                      xaxis={"visible": False}, yaxis={"visible": False}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def floor_figure(spec: Spec, utilization: float) -> go.Figure:
    """Each hall's rack positions as a grid, colored by rack power at this utilization (kW)."""
    halls = spec.halls
    fig = go.Figure()
    cols = int(np.ceil(np.sqrt(max(h.positions for h in halls) * 2)))
    for hall in halls:
        kw = np.full(hall.positions, np.nan)
        i = 0
        for d in spec.deployments:
            if d.hall != hall.id:
                continue
            s = spec.cat.systems[d.system]
            per_rack = deployment_systems(spec, d) / d.racks
            kw[i : i + d.racks] = per_rack * (s.idle_kw + (s.max_kw - s.idle_kw) * utilization)
            i += d.racks
        rows = int(np.ceil(hall.positions / cols))
        grid = np.full(rows * cols, np.nan)
        grid[: hall.positions] = kw
        fig.add_trace(go.Heatmap(z=grid.reshape(rows, cols), y=[f"{hall.id} r{r + 1}" for r in range(rows)], coloraxis="coloraxis",
                                 hovertemplate=f"{hall.id}<br>%{{z:.1f}} kW<extra></extra>", xgap=2, ygap=2, name=hall.id))
    fig.update_layout(title=f"Hall floors: rack power at {utilization:.0%} utilization (empty positions blank)",
                      coloraxis={"colorscale": "YlOrRd", "colorbar": {"title": "kW"}}, height=120 + 22 * sum(int(np.ceil(h.positions / cols)) for h in halls),
                      xaxis={"visible": False}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def sankey_figure(ev: Evaluation) -> go.Figure:
    """Annual energy from the utility to losses, cooling, misc, network and IT, and IT to tokens."""
    h = ev.hourly
    gwh = {k: h[f"{k}_kw"].sum() / 1e6 for k in ("loss", "cooling", "misc", "network", "it")}
    labels = ["utility", "conversion losses", "cooling", "misc", "network", "IT (GPU systems)", f"{ev.kpis['output_tokens_per_year'] / 1e12:,.0f} T output tokens"]
    src = [0, 0, 0, 0, 0, 5]
    dst = [1, 2, 3, 4, 5, 6]
    val = [gwh["loss"], gwh["cooling"], gwh["misc"], gwh["network"], gwh["it"], gwh["it"]]
    fig = go.Figure(go.Sankey(node={"label": labels, "pad": 18}, link={"source": src, "target": dst, "value": val},
                              valueformat=",.1f", valuesuffix=" GWh"))
    fig.update_layout(title=f"Energy over the year (GWh); {ev.kpis['tokens_per_joule']:.2f} output tokens per facility joule", height=380)
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
