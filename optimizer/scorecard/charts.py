"""The scorecard's plots (plotly): where a person would rather look than read."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optimizer.scorecard.data import Scorecard
from twin.telemetry.calibrate import fleet

LAYOUT = dict(template="plotly_white", height=340, margin=dict(l=60, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.2))


def cost_breakdown(sc: Scorecard) -> go.Figure:
    tokens_m = sc.evaluation.kpis["output_tokens_per_year"] / 1e6
    items = sorted(((k, v / tokens_m) for k, v in sc.evaluation.cost_breakdown_usd.items() if v and tokens_m > 0), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h", marker_color="#3b6ea5"))
    return fig.update_layout(title="Cost per million output tokens, by category (USD)", **LAYOUT)


def daily_profile(sc: Scorecard) -> go.Figure:
    p = sc.profile
    fig = go.Figure([go.Scatter(x=p["hour"], y=p["demand"], name="demand", line=dict(dash="dash")),
                     go.Scatter(x=p["hour"], y=p["served"], name="served", fill="tozeroy")])
    fig.update_yaxes(title="share of capacity at SLA", tickformat=".0%")
    fig.update_xaxes(title="hour of day (mean over the year)")
    return fig.update_layout(title="Utilization plan: demand and tokens served through the day", **LAYOUT)


def measured_vs_twin(s: pd.DataFrame) -> go.Figure:
    """Fleet tokens/s and PUE over time, measured and predicted at the measured load (`CalibrationResult.series`)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=("Output tokens/s, fleet", "PUE"), vertical_spacing=0.12)
    tok, pue = fleet(s, "output tokens/s"), fleet(s, "PUE")
    for row, frame in ((1, tok), (2, pue)):
        fig.add_trace(go.Scatter(x=frame.index, y=frame["predicted"], name="twin (at the measured load)", line=dict(color="#888", dash="dash"),
                                 showlegend=row == 1), row=row, col=1)
        fig.add_trace(go.Scatter(x=frame.index, y=frame["measured"], name="measured", line=dict(color="#c0392b"), showlegend=row == 1), row=row, col=1)
    return fig.update_layout(title="Expected against measured", **{**LAYOUT, "height": 520})


def tenants(sc: Scorecard) -> go.Figure:
    names = [t.tenant for t in sc.tenants]
    fig = go.Figure([go.Bar(x=names, y=[t.showback_usd for t in sc.tenants], name="showback (by tokens served)"),
                     go.Bar(x=names, y=[t.chargeback_usd for t in sc.tenants], name="chargeback (by reserved GPUs)")])
    fig.update_yaxes(title="USD per year")
    return fig.update_layout(title="Annual cost per tenant", barmode="group", **LAYOUT)
