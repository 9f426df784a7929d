"""Roadmap page: plan a campus over years and GPU generations, chart its growth and costs, download its schedule and year specs."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from optimizer.highs import Infeasible
from optimizer.roadmap.planning import OBJECTIVES, RoadmapInputError, RoadmapResult, plan_roadmap
from ui import state


def page() -> None:
    st.title("Roadmap")
    spec = state.require_spec()
    if spec is None:
        return
    if spec.roadmap is None:
        st.info("This spec has no `roadmap:` section. Pick `roadmap-1gw-campus.yaml` in the sidebar, or add one (see the README).")
        return
    c1, c2 = st.columns(2)
    default = OBJECTIVES.index(spec.roadmap.objective)
    objective = c1.selectbox("Objective", list(OBJECTIVES), index=default, key="roadmap_objective")
    limit = c2.number_input("Time limit (s)", 1.0, 1800.0, 300.0, key="roadmap_time_limit")
    if st.button("Plan the roadmap", key="roadmap_run"):
        try:
            with st.spinner("Solving every year at once with HiGHS…"):
                st.session_state.roadmap_result = plan_roadmap(spec, objective, float(limit))
        except Infeasible as exc:
            st.session_state.roadmap_result = None
            st.error(f"No roadmap meets every year's demand: {exc.reason}")
        except RoadmapInputError as exc:
            st.session_state.roadmap_result = None
            st.error(str(exc))
    result: RoadmapResult | None = st.session_state.get("roadmap_result")
    if result is None or result.spec.name != spec.name:
        return
    r = result.roadmap
    st.success(
        f"{r.status}: proven gap {r.mip_gap:.2e}, {r.solve_time_s:.0f} s of MILP. "
        f"Levelized cost: ${r.levelized_usd_per_mtok:.4f} per million output tokens."
    )
    st.plotly_chart(capacity_figure(result), key="roadmap_capacity")
    c1, c2 = st.columns(2)
    c1.plotly_chart(power_figure(result), key="roadmap_power")
    c2.plotly_chart(cost_figure(result), key="roadmap_cost")
    st.subheader("Build schedule")
    st.dataframe(pd.DataFrame(r.schedule_rows()), key="roadmap_schedule", hide_index=True)
    st.subheader("Years: the roadmap's cost per token and the twin's score of each year's spec")
    st.dataframe(years_table(result), key="roadmap_years", hide_index=True)
    binding = [b for b in result.bindings if b.dual]
    if binding:
        st.caption("What binds: duals of the LP at the roadmap's choices (discounted USD per unit of each limit).")
        st.dataframe(
            pd.DataFrame([{"year": b.year, "limit": b.kind, "of": b.subject, "value": b.limit, "used": b.used, "unit": b.unit,
                           "shadow": b.dual, "levelized USD/Mtok per unit": b.levelized_per_unit_usd_per_mtok} for b in binding]),
            key="roadmap_bindings", hide_index=True,
        )
    c1, c2 = st.columns(2)
    c1.download_button("Download the schedule (CSV)", result.schedule_csv(), file_name=f"{spec.name}-schedule.csv", key="roadmap_download_schedule")
    c2.download_button("Download the year specs (ZIP)", year_specs_zip(result), file_name=f"{spec.name}-years.zip", key="roadmap_download_years")


def years_table(result: RoadmapResult) -> pd.DataFrame:
    twin = result.twin or {}
    return pd.DataFrame([
        {
            "year": y.year,
            "halls": len(y.halls_built),
            "interconnect MW": y.utility_kw / 1000,
            "design-hour MW": y.plan.design_facility_kw / 1000,
            "capital M USD": y.capex_usd / 1e6,
            "tokens/s": y.tokens_per_year / 3.1536e7,
            "USD/Mtok (roadmap)": y.cost_per_mtok_usd,
            "USD/Mtok (twin)": twin.get(y.year, {}).get("cost_per_million_tokens_usd"),
        }
        for y in result.roadmap.years
    ])


def capacity_figure(result: RoadmapResult) -> go.Figure:
    """GPUs in service by system (generation) each year, stacked."""
    gpus = result.roadmap.gpus_by_system()
    years = list(gpus)
    systems = sorted({s for row in gpus.values() for s in row})
    fig = go.Figure([go.Bar(name=s, x=years, y=[gpus[y].get(s, 0) for y in years]) for s in systems])
    fig.update_layout(barmode="stack", title="Installed capacity by generation", xaxis_title="year", yaxis_title="GPUs in service")
    return fig


def power_figure(result: RoadmapResult) -> go.Figure:
    """Facility power at the design hour against the interconnect, each year."""
    ys = result.roadmap.years
    years = [y.year for y in ys]
    fig = go.Figure([
        go.Bar(name="facility power at the design hour", x=years, y=[y.plan.design_facility_kw / 1000 for y in ys]),
        go.Scatter(name="interconnect", x=years, y=[y.utility_kw / 1000 for y in ys], mode="lines+markers", line_shape="hv"),
    ])
    fig.update_layout(title="Power used against the interconnect", xaxis_title="year", yaxis_title="MW")
    return fig


def cost_figure(result: RoadmapResult) -> go.Figure:
    """Each year's cost per million tokens (roadmap and twin), and the levelized cost over the horizon."""
    r, twin = result.roadmap, result.twin or {}
    years = [y.year for y in r.years]
    traces = [go.Scatter(name="roadmap", x=years, y=[y.cost_per_mtok_usd for y in r.years], mode="lines+markers")]
    if twin:
        traces.append(go.Scatter(name="twin (evaluate)", x=list(twin), y=[k["cost_per_million_tokens_usd"] for k in twin.values()], mode="markers"))
    traces.append(go.Scatter(name="levelized", x=[years[0], years[-1]], y=[r.levelized_usd_per_mtok] * 2, mode="lines", line_dash="dash"))
    fig = go.Figure(traces)
    fig.update_layout(title="Cost per million output tokens", xaxis_title="year", yaxis_title="USD per million tokens")
    return fig


def year_specs_zip(result: RoadmapResult) -> bytes:
    """Every year's facility spec in one ZIP archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for year, text in result.year_yaml.items():
            z.writestr(f"year-{year}.yaml", text)
    return buf.getvalue()
