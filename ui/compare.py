"""Compare page: saved scenarios and sweep runs side by side from the results store."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.compare import compare_runs
from optimizer.store import APP_SWEEP, Store, StoreError
from ui import state

HEADLINE = ["output_tokens_per_s", "tokens_per_joule", "tokens_per_s_per_mw", "cost_per_million_tokens_usd", "pue",
            "availability", "utilization", "facility_power_mw", "annual_cost_usd", "capex_usd"]


def page() -> None:
    st.title("Compare")
    root = state.runs_dir()
    if not (root / "index.sqlite").exists():
        st.info(f"No results store in {root} yet: save a scenario on the What-if page, or run `aift sweep`.")
        return
    try:
        with Store(root, read_only=True) as store:
            sweeps = store.sweeps()
            labels = {s["id"]: f"{s['name']} ({s['stored']} runs)" for s in sweeps}
            default = APP_SWEEP if APP_SWEEP in labels else next(iter(labels), None)
            if default is None:
                st.info("The results store is empty.")
                return
            sweep = st.selectbox("Runs of", list(labels), index=list(labels).index(default), format_func=labels.get, key="compare_sweep")
            runs = [r for r in store.runs(sweep) if r["status"] == "ok"]
    except StoreError as exc:  # damaged, another version: say what and how to recover
        st.error(str(exc))
        return
    if not runs:
        st.info("No successful run here yet.")
        return
    names = {r["id"]: f"{r['scenario']} [{r['id'][:8]}]" for r in runs}
    chosen = st.multiselect("Scenarios (the first is the reference)", list(names), default=list(names)[-2:], format_func=names.get, key="compare_runs")
    if len(chosen) < 2:
        st.info("Pick at least two scenarios.")
        return
    c = compare_runs([next(r for r in runs if r["id"] == i) for i in chosen])
    if c.parameters:
        st.subheader("What differs")
        st.dataframe(pd.DataFrame(c.parameters, index=[names[i] for i in c.ids]).T, key="compare_params")
    rows = []
    for k in [k for k in HEADLINE if k in c.kpis] + [k for k in c.kpis if k not in HEADLINE]:
        row = {"kpi": k, names[c.ids[0]]: c.kpis[k][0]}
        for i, x, rel in zip(c.ids[1:], c.kpis[k][1:], c.relative(k), strict=True):
            row[names[i]] = x
            row[f"Δ% {names[i]}"] = None if rel is None else 100 * rel
        rows.append(row)
    st.subheader("KPIs against the first scenario")
    st.dataframe(pd.DataFrame(rows).set_index("kpi"), key="compare_kpis")
