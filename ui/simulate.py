"""Simulate page: a Monte Carlo of failure years with percentile bands, and request-level serving latencies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from twin.perf import PerfError
from twin.sim.latency import serve_streams
from twin.sim.montecarlo import MonteCarlo, monte_carlo
from twin.sim.options import SimOptions
from twin.sim.serving import ServingOptions
from ui import serve, state

BANDED = ["output_tokens_per_s", "availability", "tokens_lost_to_failures", "tokens_lost_to_cap", "cost_per_million_tokens_usd", "pue"]


def _timeline(mc: MonteCarlo) -> go.Figure:
    ev = mc.events
    ev = ev[ev["replication"] == 0] if "replication" in ev else ev
    fig = go.Figure(go.Scatter(x=ev["time_h"], y=ev["component"], mode="markers", text=ev["event"],
                               marker={"size": 6, "color": np.where(ev["event"].str.contains("fail"), "crimson", "seagreen")}))
    fig.update_layout(title="Failure timeline (first replication; red: failure, green: repair)", xaxis={"title": "hour"}, height=420)
    return fig


def _latency(runs) -> go.Figure:
    fig = go.Figure()
    for r in runs:
        ok = np.isfinite(r.run.first_token)
        fig.add_trace(go.Histogram(x=(r.run.first_token - r.run.arrival)[ok], name=f"{r.summary['system']} / {r.summary['model']}", opacity=0.6))
    fig.update_layout(title="Time to first token", xaxis={"title": "s"}, barmode="overlay", height=360)
    return fig


def page() -> None:
    st.title("Simulate")
    spec = state.require_spec()
    if spec is None:
        return
    c1, c2, c3 = st.columns(3)
    seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="sim_seed")
    reps = c2.number_input("Replications (years)", 1, 200, 8, key="sim_reps")
    crews = c3.number_input("Repair crews (0 = ample)", 0, 50, 0, key="sim_crews")
    spikes = c1.number_input("Demand spikes per year", 0.0, 100.0, 0.0, key="sim_spikes")
    serving = c2.toggle("Also simulate request-level serving", value=False, key="sim_serving")
    if st.button("Run the simulation", key="sim_run"):
        options = SimOptions(crews=int(crews) or None, spike_rate_per_year=float(spikes))
        with st.status(f"Simulating {int(reps)} years of failures, repairs and demand…", expanded=False) as status:
            mc = monte_carlo(spec, int(seed), int(reps), options, keep_series=True)
            status.update(label=f"Simulated {int(reps)} years", state="complete")
        runs = []
        if serving:
            try:
                with st.spinner("Simulating requests through continuous-batching replicas…"):
                        runs = serve_streams(spec, ServingOptions(), int(seed), max_rate=False)
            except PerfError as exc:
                st.error(str(exc))
        st.session_state.sim_result = (mc, runs)
    serve.section(spec)
    if "sim_result" not in st.session_state:
        return
    mc, runs = st.session_state.sim_result
    st.subheader(f"{mc.replications} simulated years (seed {mc.seed})")
    rows = [{"KPI": k, "mean": mc.kpis[k], **{q: mc.bands[k].get(q) for q in ("p5", "p50", "p95")}} for k in BANDED if k in mc.kpis]
    st.dataframe(pd.DataFrame(rows).set_index("KPI"), key="sim_bands")
    st.plotly_chart(_timeline(mc), key="sim_timeline")
    if runs:
        st.subheader("Serving at the peak demand level")
        st.dataframe(pd.DataFrame([r.summary for r in runs]), key="sim_serving_table")
        st.plotly_chart(_latency(runs), key="sim_latency")
