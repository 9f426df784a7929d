"""What-if page: pull the planners' levers on top of the spec, see KPIs move against the baseline.

Levers become dotted-path overrides (twin.overrides); the spec text is never edited.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from optimizer.jobs import JobResult
from optimizer.store import Store
from twin.analysis import analyze
from twin.errors import SpecError
from twin.evaluate import Evaluation, evaluate
from twin.graph import build_graph
from twin.loader import load_spec_text
from twin.overrides import apply_overrides
from twin.perf import PerfError, frontier, operating_point
from twin.spec import Spec
from ui import charts, state


def _millions(unit: str):
    """A formatter that writes millions as 'M', so a card shows the whole number."""
    return lambda v: f"{v / 1e6:.4g} M{unit}" if abs(v) >= 1e6 else f"{v:,.0f}{unit}"


CARDS = [  # (KPI, label, formatter, +1 when higher is better)
    ("output_tokens_per_s", "Throughput", _millions(" tok/s"), 1),
    ("tokens_per_joule", "Tokens per joule", "{:.3f} tok/J".format, 1),
    ("tokens_per_s_per_mw", "Tokens/s per MW", _millions(""), 1),
    ("cost_per_million_tokens_usd", "Cost per 1M tokens", "${:.4f}".format, -1),
    ("pue", "PUE", "{:.3f}".format, -1),
    ("availability", "Availability", "{:.5f}".format, 1),
    ("utilization", "Utilization", "{:.1%}".format, 1),
]
PRESETS = ["hot-dry", "temperate", "cold", "hot-humid", "tmy:greensboro", "tmy:miami", "tmy:sand-point"]


@st.cache_data(show_spinner=False, max_entries=64)
def run_evaluate(text: str, name: str, folder: str, overrides_json: str) -> Evaluation | str:
    """Evaluate the draft (its files confined to `folder`) with overrides; a message instead when invalid."""
    try:
        spec = apply_overrides(load_spec_text(text, name, folder=Path(folder)), json.loads(overrides_json))
        return evaluate(spec)
    except SpecError as exc:
        return "\n".join(f"{i.path}: {i.message}" for i in exc.issues)
    except PerfError as exc:
        return str(exc)


def _reset_levers_when_the_spec_changes(spec: Spec) -> None:
    """Levers start from the spec's own values: a new or edited spec resets them."""
    ss = st.session_state
    if ss.get("lever_spec") != spec.spec_hash():
        for key in [k for k in ss if str(k).startswith("lever_")]:
            del ss[key]
        ss.lever_spec = spec.spec_hash()


def levers(spec: Spec) -> dict:
    """The widgets; returns the overrides that differ from the spec."""
    _reset_levers_when_the_spec_changes(spec)
    ov: dict = {}
    site, wl = spec.site, spec.workload
    with st.sidebar:
        st.header("Levers")
        price = st.number_input("Electricity price (USD/MWh)", 0.0, 1000.0, float(site.tariff.price_usd_per_mwh), 5.0, key="lever_price")
        if price != site.tariff.price_usd_per_mwh:
            ov["site.tariff.price_usd_per_mwh"] = price
        preset = st.selectbox("Climate", PRESETS, index=PRESETS.index(site.climate.preset), key="lever_climate", disabled=site.climate.file is not None)
        if preset != site.climate.preset:
            ov["site.climate.preset"] = preset
            for f in ("mean_c", "seasonal_swing_c", "daily_swing_c", "relative_humidity"):
                if getattr(site.climate, f) is not None:
                    ov[f"site.climate.{f}"] = None
        offset = st.slider("Temperature offset (K)", -10.0, 10.0, float(site.climate.offset_c), 0.5, key="lever_offset")
        if offset != site.climate.offset_c:
            ov["site.climate.offset_c"] = offset
        level = st.slider("Peak demand (share of capacity)", 0.05, 1.0, float(wl.demand.level), 0.05, key="lever_demand")
        if level != wl.demand.level:
            ov["workload.demand.level"] = level
        profiles = ["flat", "diurnal", "business"]
        current = wl.demand.profile if isinstance(wl.demand.profile, str) else "custom"
        profile = st.selectbox("Demand profile", [*profiles, "custom"] if current == "custom" else profiles, index=([*profiles, "custom"]).index(current), key="lever_profile")
        if profile != current:
            ov["workload.demand.profile"] = profile
        st.subheader("SLA")
        for i, wm in enumerate(wl.models):
            tps = st.number_input(f"{wm.model}: min tok/s/user", 1.0, 1000.0, float(wm.sla.min_tokens_per_s_per_user), 5.0, key=f"lever_sla_tps_{i}")
            ttft = st.number_input(f"{wm.model}: max TTFT (s)", 0.05, 120.0, float(wm.sla.max_ttft_s), 0.5, key=f"lever_sla_ttft_{i}")
            if tps != wm.sla.min_tokens_per_s_per_user:
                ov[f"workload.models[{i}].sla.min_tokens_per_s_per_user"] = tps
            if ttft != wm.sla.max_ttft_s:
                ov[f"workload.models[{i}].sla.max_ttft_s"] = ttft
        st.subheader("System mix and redundancy")
        systems = sorted(spec.cat.systems)
        for i, d in enumerate(spec.deployments):
            sysid = st.selectbox(f"{d.hall}: system (deployment {i + 1})", systems, index=systems.index(d.system), key=f"lever_system_{i}")
            racks = st.number_input(f"{d.hall}: racks (deployment {i + 1})", 1, spec.hall(d.hall).positions, d.racks, key=f"lever_racks_{i}")
            if sysid != d.system:
                ov[f"deployments[{i}].system"] = sysid
            if racks != d.racks:
                ov[f"deployments[{i}].racks"] = int(racks)
        for i, u in enumerate(spec.power.ups):
            options = ["N", "N+1", "N+2", "2N"]
            red = st.selectbox(f"UPS {u.id} redundancy ({u.units} modules)", options, index=options.index(u.redundancy), key=f"lever_ups_{i}")
            if red != u.redundancy:
                ov[f"power.ups[{i}].redundancy"] = red
    return ov


def cards(result: Evaluation, baseline: Evaluation | None) -> None:
    cols = st.columns(len(CARDS))
    for col, (key, label, fmt, good) in zip(cols, CARDS, strict=True):
        value = result.kpis[key]
        delta = None
        if baseline is not None and baseline.kpis[key]:
            change = value / baseline.kpis[key] - 1
            delta = f"{change:+.2%}" if abs(change) >= 5e-5 else None
        col.metric(label, fmt(value), delta, delta_color="normal" if good > 0 else "inverse")


def cap_note(kpis: dict) -> str | None:
    """What the interconnect and the cooling cost this year, in words; None when nothing was capped."""
    hours, cooling = int(kpis["capped_hours"]), int(kpis["cooling_capped_hours"])
    if not hours:
        return None
    lost = kpis["tokens_lost_to_cap"] / (kpis["output_tokens_per_year"] + kpis["tokens_lost_to_cap"])
    why = "the cooling capacity" if cooling == hours else "the interconnect" if not cooling else f"the interconnect or the cooling ({cooling:,} h by cooling)"
    return f"IT was capped in {hours:,} hours of the year by {why}: {lost:.2%} of the tokens it would have served were lost."


def _frontiers(spec: Spec) -> tuple[dict, dict]:
    curves, chosen = {}, {}
    for wm in spec.workload.models:
        for sysid in sorted({d.system for d in spec.deployments}):
            name = f"{sysid} / {wm.model}"
            try:
                curves[name] = frontier(spec.cat.systems[sysid], spec.cat.models[wm.model], wm)
                chosen[name] = operating_point(spec.cat.systems[sysid], spec.cat.models[wm.model], wm)
            except PerfError:
                continue
    return curves, chosen


def page() -> None:
    st.title("What-if")
    spec = state.require_spec()
    if spec is None:
        return
    ss = st.session_state
    text = ss.drafts[ss.current]
    ov = levers(spec)
    folder = str(state.draft_folder(ss.current))
    base = run_evaluate(text, ss.current, folder, "{}")
    result = run_evaluate(text, ss.current, folder, json.dumps(ov, sort_keys=True)) if ov else base
    if isinstance(base, str):
        st.error(f"The spec as written cannot be evaluated: {base}")
        return
    applied = spec
    if isinstance(result, str):
        st.error(f"This combination of levers is not valid: {result}")
        result = base
    elif ov:
        applied = apply_overrides(spec, ov)
    st.caption(f"{spec.name}: " + (", ".join(f"{k} = {v}" for k, v in ov.items()) if ov else "as written (move a lever in the sidebar)"))
    cards(result, base if ov else None)
    if note := cap_note(result.kpis):
        st.warning(note)
    name = st.text_input("Scenario name", value=f"{spec.name}: " + (", ".join(f"{k}={v}" for k, v in ov.items()) or "as written"), key="scenario_name")
    if st.button("Save scenario", key="save_scenario"):
        with Store(state.runs_dir()) as store:
            run_id = store.save_scenario(name, spec, ov, JobResult(result.kpis, {"hourly": result.hourly}))
        st.success(f"Saved '{name}' as run {run_id[:8]} in {state.runs_dir()}. Compare it on the Compare page.")
    tabs = st.tabs(["Energy", "Hourly", "Cost", "Chain", "Floor", "Frontier", "Models"])
    with tabs[0]:
        st.plotly_chart(charts.sankey_figure(result), key="sankey")
    with tabs[1]:
        st.plotly_chart(charts.hourly_figure(result), key="hourly")
    with tabs[2]:
        st.plotly_chart(charts.cost_figure(result), key="cost")
    with tabs[3]:
        report = analyze(applied)
        st.plotly_chart(charts.chain_figure(build_graph(applied), report.loads, report.spofs), key="chain")
    with tabs[4]:
        st.plotly_chart(charts.floor_figure(applied, result.kpis["utilization"]), key="floor")
    with tabs[5]:
        curves, chosen = _frontiers(applied)
        st.plotly_chart(charts.frontier_figure(curves, chosen), key="frontier")
    with tabs[6]:
        st.dataframe(result.models, key="models")
