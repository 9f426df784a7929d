"""What-if page: pull the planners' levers on top of the spec, see KPIs move against the baseline.

Levers (ui.levers) become dotted-path overrides (twin.overrides); the spec text is never edited.
Lever values live in `st.session_state` under their keys and in the URL (ui.url_state), so a
what-if survives a reload and can be shared; a new or edited spec resets them to its own values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
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
from ui import charts, fmt, state, tables, url_state
from ui.levers import Lever, describe, levers_of, overrides

CARDS = ["output_tokens_per_s", "tokens_per_joule", "tokens_per_s_per_mw", "cost_per_million_tokens_usd", "pue", "availability", "utilization"]
CARDS_PER_ROW = 4  # seven cards in one row are cut with "…" below 1920 px


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


def _sync_levers(spec: Spec, levers: list[Lever]) -> None:
    """Levers start from the spec's own values (or the URL's, when a session opens): a new or edited spec resets them.

    Values are assigned, not deleted: the browser keeps a widget's last value and would send it back.
    `lever_values` keeps them while another page is shown (Streamlit drops the state of widgets not drawn).
    """
    ss = st.session_state
    if ss.get("lever_spec") == spec.spec_hash():
        for lever in levers:
            if lever.key not in ss:
                ss[lever.key] = ss.get("lever_values", {}).get(lever.key, lever.default)
        return
    start = {}
    if "lever_spec" not in ss and url_state.facility() in (None, ss.current):
        start, problems = url_state.lever_values(levers)
        ss.lever_url_problems = problems
    for lever in levers:
        ss[lever.key] = start.get(lever.key, lever.default)
    ss.lever_spec = spec.spec_hash()


def _reset(levers: list[Lever]) -> None:
    for lever in levers:
        st.session_state[lever.key] = lever.default


def _widget(lever: Lever) -> None:
    if lever.kind == "choice":
        st.selectbox(lever.label, lever.options, key=lever.key, help=lever.help)
    elif lever.kind == "slider":
        st.slider(lever.label, lever.lo, lever.hi, step=lever.step, key=lever.key, help=lever.help)
    elif lever.kind == "count":
        st.number_input(lever.label, int(lever.lo), int(lever.hi), step=1, key=lever.key, help=lever.help)
    else:
        st.number_input(lever.label, lever.lo, lever.hi, step=lever.step, key=lever.key, help=lever.help)


def draw_levers(spec: Spec) -> tuple[list[Lever], dict]:
    """The sidebar's widgets; returns the levers and their current values."""
    levers = levers_of(spec)
    _sync_levers(spec, levers)
    with st.sidebar:
        st.header("Levers", help="Each lever changes one field of the spec for this what-if only; the spec text stays as written.")
        st.button("Reset levers to the spec", key="reset_levers", on_click=_reset, args=(levers,), use_container_width=True)
        group = None
        for lever in levers:
            if lever.group != group:
                group = lever.group
                st.subheader(group)
            _widget(lever)
    values = {lv.key: st.session_state[lv.key] for lv in levers}
    st.session_state.lever_values = values
    url_state.write(st.session_state.current, levers, values)
    return levers, values


def cards(result: Evaluation, baseline: Evaluation | dict | None) -> None:
    """The seven headline KPIs, each with its change against `baseline` (an evaluation or its KPIs)."""
    base = baseline.kpis if isinstance(baseline, Evaluation) else baseline
    for start in range(0, len(CARDS), CARDS_PER_ROW):
        cols = st.columns(CARDS_PER_ROW)
        for col, key in zip(cols, CARDS[start : start + CARDS_PER_ROW], strict=False):
            k = fmt.KPIS[key]
            value = result.kpis[key]
            delta = fmt.delta(value, base.get(key), k.unit) if base else None
            col.metric(fmt.label(key), fmt.cell(value, k.unit), delta, delta_color="normal" if k.higher_is_better else "inverse", help=k.help)


def cap_note(kpis: dict) -> str | None:
    """What the interconnect and the cooling cost this year, in words; None when nothing was capped."""
    hours, cooling = int(kpis["capped_hours"]), int(kpis["cooling_capped_hours"])
    if not hours:
        return None
    lost = kpis["tokens_lost_to_cap"] / (kpis["output_tokens_per_year"] + kpis["tokens_lost_to_cap"])
    why = "the cooling capacity" if cooling == hours else "the interconnect" if not cooling else f"the interconnect or the cooling ({cooling:,} h by cooling)"
    return f"IT was capped in {hours:,} hours of the year by {why}: {lost:.2%} of the tokens it would have served were lost."


def ttft_notes(spec: Spec, values: dict, result: Evaluation) -> list[str]:
    """Why a tightened TTFT limit left the KPIs alone: the operating point's TTFT is already under it."""
    notes = []
    ttft = {m["model"]: m["ttft_s"] for m in result.models}
    for i, wm in enumerate(spec.workload.models):
        limit = values.get(f"lever_sla_ttft_{i}", wm.sla.max_ttft_s)
        if limit != wm.sla.max_ttft_s and wm.model in ttft and ttft[wm.model] <= limit:
            notes.append(f"{wm.model}: the TTFT limit of {limit:g} s does not bind; at the operating point the first token "
                         f"takes {ttft[wm.model]:.3g} s, so throughput and cost do not change. The interactivity lever "
                         f"(min tok/s per user) sets the batch.")
    return notes


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


def kpi_table(kpis: dict) -> pd.DataFrame:
    """Every KPI as a row: its label, value and unit (what the KPI download holds)."""
    return pd.DataFrame([{"kpi": k, "label": fmt.KPIS[k].label if k in fmt.KPIS else fmt.label(k), "value": float(v),
                          "unit": fmt.KPIS[k].unit if k in fmt.KPIS else fmt.unit_of(k)} for k, v in kpis.items()])


def _scenario_name(spec: Spec, moved: str) -> None:
    """Keep the scenario name in step with the levers until the user types their own."""
    ss = st.session_state
    auto = f"{spec.name}: {moved or 'as written'}"
    if ss.get("scenario_name") in (None, ss.get("scenario_auto")):
        ss.scenario_name = auto
    ss.scenario_auto = auto


def _save(spec: Spec, levers: list[Lever], values: dict, ov: dict, result: Evaluation, valid: bool) -> None:
    """Save the scenario with every lever's value (moved or not), so Compare shows values, not gaps."""
    name = st.text_input("Scenario name", key="scenario_name", help="How the scenario is listed on the Compare page and by `aift runs`.")
    if st.button("Save scenario", key="save_scenario", disabled=not valid,
                 help="Stores the levers and these KPIs in the results store." if valid else "The levers are not a valid combination: nothing to save."):
        with Store(state.runs_dir()) as store:
            full = {lv.path: int(values[lv.key]) if lv.kind == "count" else values[lv.key] for lv in levers} | ov
            run_id = store.save_scenario(name, spec, full, JobResult(result.kpis, {"hourly": result.hourly}))
        st.success(f"Saved '{name}' as run {run_id[:8]} in {state.runs_dir()}. Compare it on the Compare page.")


def _baseline_note(ss) -> dict | None:
    """The facility a loaded plan replaced, when the current draft is that plan."""
    b = ss.get("baseline")
    return b if b and b.get("for") == ss.current else None


def page() -> None:
    st.title("What-if")
    spec = state.require_spec()
    if spec is None:
        return
    ss = st.session_state
    text = ss.drafts[ss.current]
    levers, values = draw_levers(spec)
    for problem in ss.get("lever_url_problems", []):
        st.warning(problem)
    ov = overrides(levers, values)
    moved = describe(levers, values)
    folder = str(state.draft_folder(ss.current))
    base = run_evaluate(text, ss.current, folder, "{}")
    result = run_evaluate(text, ss.current, folder, json.dumps(ov, sort_keys=True)) if ov else base
    if isinstance(base, str):
        st.error(f"The spec as written cannot be evaluated: {base}")
        return
    applied, valid = spec, True
    if isinstance(result, str):
        st.error(f"This combination of levers is not valid: {result}. The cards show the spec as written; nothing can be saved.")
        result, valid = base, False
    elif ov:
        applied = apply_overrides(spec, ov)
    previous = _baseline_note(ss)
    if ov:
        st.caption(f"**{spec.name}** with {moved}. Badges: change against the spec as written.")
        with st.expander("As overrides of the spec"):
            st.caption("Each lever replaces one field of the spec, named by its path in the YAML (`workload.models[0]` is the first model); "
                       "`aift evaluate` and sweeps take the same paths.")
            st.json(ov)
    elif previous:
        st.caption(f"**{spec.name}**, loaded from the Plan page. Badges: change against **{previous['name']}**, the facility before the plan.")
    else:
        st.caption(f"**{spec.name}** as written (move a lever in the sidebar).")
    cards(result, base if ov else previous["kpis"] if previous else None)
    if note := cap_note(result.kpis):
        st.warning(note)
    for note in ttft_notes(spec, values, result):
        st.info(note)
    _scenario_name(spec, moved)
    _save(spec, levers, values, ov, result, valid)
    c1, c2, c3 = st.columns(3)
    with c1:
        tables.download_csv(kpi_table(result.kpis), f"{spec.name}-kpis.csv", key="kpis_csv", label="Download the KPIs (CSV)")
    with c2:
        tables.download_parquet(result.hourly, f"{spec.name}-hourly.parquet", key="hourly_parquet", label="Download the hourly year (Parquet)")
    with c3:
        tables.download_csv(result.hourly, f"{spec.name}-hourly.csv", key="hourly_csv", label="Download the hourly year (CSV)")
    tabs = st.tabs(["Energy", "Hourly", "Cost", "Chain", "Floor", "Frontier", "Models"])
    with tabs[0]:
        st.plotly_chart(charts.sankey_figure(result), key="sankey")
    with tabs[1]:
        st.plotly_chart(charts.hourly_figure(result), key="hourly")
    with tabs[2]:
        st.plotly_chart(charts.cost_figure(result), key="cost")
        cost = pd.DataFrame({"category": list(result.cost_breakdown_usd), "cost_usd": [float(v) for v in result.cost_breakdown_usd.values()]})
        tables.show(cost, "cost_table", file=f"{spec.name}-cost.csv", units={"cost_usd": "USD/yr"})
    with tabs[3]:
        _chain(applied)
    with tabs[4]:
        st.plotly_chart(charts.floor_figure(applied, result.kpis["utilization"]), key="floor")
    with tabs[5]:
        curves, chosen = _frontiers(applied)
        st.plotly_chart(charts.frontier_figure(curves, chosen), key="frontier")
    with tabs[6]:
        models = pd.DataFrame(result.models)
        tables.show(models, "models", file=f"{spec.name}-models.csv", units={"gpus": "GPUs"})


def _chain(spec: Spec) -> None:
    halls = [h.id for h in spec.halls]
    pick = st.columns([1, 3])[0].selectbox("Show", ["whole site", *halls], key="chain_hall",
                        help="One hall's chain: its racks and every power and cooling group upstream of them.")
    report = analyze(spec)
    st.plotly_chart(charts.chain_figure(build_graph(spec), report.loads, report.spofs, hall=None if pick == "whole site" else pick), key="chain")
    st.caption("Colour: design load over usable capacity (load / usable) — what the group carries at nameplate over what it can "
               "carry with its redundant units out. Above 100 % the group fails its N-1 check. A red ring marks a single point of failure.")
