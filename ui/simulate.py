"""Simulate page: a Monte Carlo of failure years with percentile bands, and request-level serving latencies.

Years run one by one under a progress bar; the Stop button (any click, in fact) interrupts the run
at the next year, as Streamlit stops a script when the user acts.
"""

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
from ui import serve, state, tables

BANDED = ["output_tokens_per_s", "availability", "tokens_lost_to_failures", "tokens_lost_to_cap", "cost_per_million_tokens_usd", "pue"]


def _timeline(mc: MonteCarlo) -> go.Figure:
    ev = mc.events
    ev = ev[ev["replication"] == 0] if "replication" in ev else ev
    fig = go.Figure(go.Scatter(x=ev["time_h"], y=ev["component"], mode="markers", text=ev["event"],
                               marker={"size": 6, "color": np.where(ev["event"].str.contains("fail"), "crimson", "seagreen")}))
    fig.update_layout(title="Failure timeline (first replication; red: failure, green: repair)", xaxis={"title": "hour of the year"}, height=420)
    return fig


def _latency(runs) -> go.Figure:
    fig = go.Figure()
    for r in runs:
        ok = np.isfinite(r.run.first_token)
        fig.add_trace(go.Histogram(x=(r.run.first_token - r.run.arrival)[ok], name=f"{r.summary['system']} / {r.summary['model']}", opacity=0.6))
    fig.update_layout(title="Time to first token", xaxis={"title": "s"}, yaxis={"title": "requests"}, barmode="overlay", height=360)
    return fig


def bands_table(mc: MonteCarlo) -> pd.DataFrame:
    """Mean and p5/p50/p95 of the banded KPIs over the simulated years (rows: KPI keys)."""
    rows = {k: {"mean": mc.kpis[k], **{q: mc.bands[k].get(q) for q in ("p5", "p50", "p95")}} for k in BANDED if k in mc.kpis}
    return pd.DataFrame.from_dict(rows, orient="index")


def _stop() -> None:
    ss = st.session_state
    ss.sim_stopped = ss.get("sim_progress")


def _run(spec, seed: int, reps: int, options: SimOptions) -> MonteCarlo:
    """The years one by one, with a progress bar, an ETA and a stop button."""
    ss = st.session_state
    ss.sim_progress = (0, reps)
    st.button("Stop the simulation", key="sim_stop", on_click=_stop, type="primary")
    bar = st.progress(0.0, text=f"Simulating 0 of {reps} years…")
    clock = pd.Timestamp.now()

    def tick(done: int, _total: int) -> None:
        ss.sim_progress = (done, reps)
        per_year = (pd.Timestamp.now() - clock).total_seconds() / done
        bar.progress(done / reps, text=f"Simulated {done} of {reps} years; about {per_year * (reps - done):.0f} s left")

    mc = monte_carlo(spec, seed, reps, options, keep_series=True, progress=tick)
    bar.empty()
    return mc


def page() -> None:
    st.title("Simulate")
    spec = state.require_spec()
    if spec is None:
        return
    ss = st.session_state
    c1, c2, c3 = st.columns(3)
    seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="sim_seed", help="Same seed, same years: results repeat exactly.")
    reps = c2.number_input("Replications (years)", 1, 200, 8, key="sim_reps",
                           help="Independent simulated years; the bands are percentiles over them.")
    crews = c3.number_input("Repair crews (0 = ample)", 0, 50, 0, key="sim_crews",
                            help="Repairs that can run at once; with fewer crews, failures wait for a free crew.")
    spikes = c1.number_input("Demand spikes per year", 0.0, 100.0, 0.0, key="sim_spikes", help="Mean number of demand surges per year.")
    serving = c2.toggle("Also simulate request-level serving", value=False, key="sim_serving",
                        help="Requests through continuous-batching replicas at the peak demand: TTFT and latency percentiles.")
    if stopped := ss.pop("sim_stopped", None):
        st.warning(f"Stopped after {stopped[0]} of {stopped[1]} simulated years; no result kept. Run again, perhaps with fewer years.")
    if st.button("Run the simulation", key="sim_run", type="primary"):
        options = SimOptions(crews=int(crews) or None, spike_rate_per_year=float(spikes))
        ss.pop("sim_result", None)
        mc = _run(spec, int(seed), int(reps), options)
        runs = []
        if serving:
            try:
                with st.spinner("Simulating requests through continuous-batching replicas…"):
                    runs = serve_streams(spec, ServingOptions(), int(seed), max_rate=False)
            except PerfError as exc:
                st.error(str(exc))
        ss.sim_result = (mc, runs)
    serve.section(spec)
    if "sim_result" not in ss:
        return
    mc, runs = ss.sim_result
    st.subheader(f"{mc.replications} simulated years (seed {mc.seed})")
    tables.show_kpis(bands_table(mc), "sim_bands", file=f"{spec.name}-sim-bands.csv")
    st.plotly_chart(_timeline(mc), key="sim_timeline")
    c1, c2 = st.columns(2)
    with c1:
        tables.download_csv(mc.events, f"{spec.name}-sim-events.csv", key="sim_events_csv", label="Download the event log of the first 20 years (CSV)")
    with c2:
        tables.download_parquet(mc.hourly, f"{spec.name}-sim-hourly.parquet", key="sim_hourly_parquet",
                                label="Download the hourly series of the first 20 years (Parquet)")
    if runs:
        st.subheader("Serving at the peak demand level")
        tables.show(pd.DataFrame([r.summary for r in runs]), "sim_serving_table", file=f"{spec.name}-serving.csv")
        st.plotly_chart(_latency(runs), key="sim_latency")
