"""Serving experiment on the Simulate page: `aift serve`'s controls, its figures, and queue depth and latency over time.

Session state: `serve_result` holds the last `twin.serve.experiment.Outcome`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from twin.errors import SpecError
from twin.perf import PerfError
from twin.serve.experiment import Experiment, Outcome, fleet_rows, run_experiment
from twin.serve.report import timeline
from twin.spec import Spec

ARRIVALS = ["poisson", "bursty", "agentic", "trace"]
ROUTERS = ["least-loaded", "round-robin", "kv-aware"]
POOLS = {"as the workload says": None, "aggregated": False, "disaggregated": True}


def over_time(o: Outcome) -> go.Figure:
    """Queue depth (top) and TTFT / end-to-end p50 and p99 by arrival time (bottom)."""
    tl = timeline(o.run)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=("Requests waiting for admission", "Latency by arrival time (s)"))
    fig.add_trace(go.Scatter(x=tl["time_s"], y=tl["queue_depth"], name="queue depth", line={"shape": "hv"}), row=1, col=1)
    for col, label in (("ttft_s_p50", "TTFT p50"), ("ttft_s_p99", "TTFT p99"), ("e2e_s_p50", "e2e p50"), ("e2e_s_p99", "e2e p99")):
        fig.add_trace(go.Scatter(x=tl["time_s"], y=tl[col], name=label), row=2, col=1)
    fig.update_xaxes(title_text="simulated time (s)", row=2, col=1)
    fig.update_layout(height=520)
    return fig


def _trace_path(upload) -> str:
    """An uploaded trace, kept in a temporary file under its own name (so errors name it)."""
    folder = Path(tempfile.mkdtemp(prefix="aift-trace-"))
    path = folder / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    return str(path)


def _controls(spec: Spec) -> Experiment | None:
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("Model", [w.model for w in spec.workload.models], key="serve_model")
    arrivals = c2.selectbox("Traffic", ARRIVALS, key="serve_arrivals")
    router = c3.selectbox("Router", ROUTERS, key="serve_router")
    by_rate = c1.toggle("Set a rate (req/s) instead of a share of capacity", value=False, key="serve_by_rate")
    level = c2.number_input("Rate, req/s" if by_rate else "Load (share of capacity; > 1 is overload)", 0.001, 1e6,
                            1.0 if by_rate else float(spec.workload.demand.level), key="serve_level")
    requests = c3.number_input("Requests (of a trace: its first ones)", 100, 1_000_000, 5000, step=1000, key="serve_requests")
    replicas = c1.number_input("Replicas of each system", 1, 256, 2, key="serve_replicas")
    pools = c2.selectbox("Prefill and decode", list(POOLS), key="serve_pools")
    lengths = c3.selectbox("Lengths", ["fixed", "lognormal"], key="serve_lengths")
    seed = c1.number_input("Seed of the traffic", 0, 2**31 - 1, 0, key="serve_seed")
    trace, recorded = None, False
    if arrivals == "trace":
        recorded = st.toggle("Play the trace at its recorded times (ignore the load or rate)", value=True, key="serve_recorded")
        upload = st.file_uploader("Trace (CSV or Parquet: TIMESTAMP, ContextTokens, GeneratedTokens or arrival_s, input_tokens, "
                                  "output_tokens)", type=["csv", "parquet"], key="serve_trace")
        if upload is None:
            st.info("Upload a trace to replay it.")
            return None
        trace = _trace_path(upload)
    return Experiment(model=model, arrivals=arrivals, trace=trace, rate_per_s=float(level) if by_rate and not recorded else None,
                      load=None if by_rate or recorded else float(level), requests=int(requests), replicas=int(replicas), router=router,
                      disaggregated=POOLS[pools], lengths=lengths, seed=int(seed))


def section(spec: Spec) -> None:
    """Controls, a run button, and the last run's figures."""
    st.subheader("Serving experiment")
    st.caption("Traffic through a router into replicas run as inference engines run them: continuous batching, chunked prefill, "
               "KV-cache admission and preemption, prefix caching. Requests unfinished when the run ends are counted.")
    e = _controls(spec)
    if e is not None and st.button("Run the serving experiment", key="serve_run"):
        try:
            with st.spinner("Simulating requests…"):
                st.session_state.serve_result = run_experiment(spec, e)
        except SpecError as exc:
            st.error("\n".join(str(i) for i in exc.issues))
        except (ValueError, PerfError) as exc:
            st.error(str(exc))
        finally:
            if e.trace is not None:
                shutil.rmtree(Path(e.trace).parent, ignore_errors=True)
    o: Outcome | None = st.session_state.get("serve_result")
    if o is None:
        return
    s = o.summary
    cols = st.columns(4)
    cols[0].metric("Throughput, tok/s", f"{s['throughput_tokens_per_s']:,.0f}")
    cols[1].metric("Goodput, tok/s", f"{s['goodput_tokens_per_s']:,.0f}")
    cols[2].metric("Met the SLA", f"{s['sla_attainment']:.1%}")
    cols[3].metric("Unfinished", f"{s['unfinished']:,}")
    st.plotly_chart(over_time(o), key="serve_chart")
    st.dataframe(pd.DataFrame(fleet_rows(o.run.fleet)), key="serve_fleet")
    st.dataframe(pd.DataFrame({"value": {k: v for k, v in s.items() if isinstance(v, (int, float))}}), key="serve_summary")
