"""Compare page: saved scenarios and sweep runs side by side from the results store.

"What differs" has one row per scenario and one column per parameter, so each column holds one
type (numbers or text); a parameter a run did not override shows its sweep's base value.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.compare import Comparison, compare_runs
from optimizer.store import APP_SWEEP, Store
from ui import fmt, state, tables

HEADLINE = ["output_tokens_per_s", "tokens_per_joule", "tokens_per_s_per_mw", "cost_per_million_tokens_usd", "pue",
            "availability", "utilization", "facility_power_mw", "annual_cost_usd", "capex_usd"]


def differences(c: Comparison, names: list[str], base: dict) -> pd.DataFrame:
    """Scenarios as rows, differing parameters as columns; a value a run did not set is the base spec's."""
    return pd.DataFrame({p: [base.get(p) if v is None else v for v in values] for p, values in c.parameters.items()}, index=names)


def kpi_changes(c: Comparison, names: list[str]) -> pd.DataFrame:
    """Per KPI (rows), each scenario's value and each later one's relative change from the first."""
    keys = [k for k in HEADLINE if k in c.kpis] + [k for k in c.kpis if k not in HEADLINE]
    data = {name: [c.kpis[k][i] for k in keys] for i, name in enumerate(names)}
    for i, name in enumerate(names[1:]):
        data[f"change {name}"] = [c.relative(k)[i] for k in keys]
    return pd.DataFrame(data, index=keys)


def _show_differences(df: pd.DataFrame) -> None:
    view = pd.DataFrame({fmt.label(p.rsplit(".", 1)[-1]) + f" · {p}": [fmt.field(p.rsplit(".", 1)[-1], v) for v in df[p]] for p in df.columns},
                        index=df.index)
    st.dataframe(view, key="compare_params")
    st.caption("Columns are spec fields by their path in the YAML (`workload.models[0]` is the first model); "
               "a scenario that left a field alone shows the value of the spec it was run on, where the store has it.")


def _show_kpis(df: pd.DataFrame, names: list[str]) -> None:
    view = fmt.kpi_rows(df[names])
    view.columns = names
    for name in names[1:]:
        view[f"Δ {name}"] = [fmt.relative(x) for x in df[f"change {name}"]]
    st.dataframe(view, key="compare_kpis")


def page() -> None:
    st.title("Compare")
    root = state.runs_dir()
    if not (root / "index.sqlite").exists():
        st.info(f"No results store in {root} yet: save a scenario on the What-if page, or run `aift sweep`.")
        return
    with Store(root) as store:
        sweeps = store.sweeps()
        labels = {s["id"]: f"{s['name']} ({s['stored']} runs)" for s in sweeps}
        default = APP_SWEEP if APP_SWEEP in labels else next(iter(labels), None)
        if default is None:
            st.info("The results store is empty.")
            return
        sweep = st.selectbox("Runs of", list(labels), index=list(labels).index(default), format_func=labels.get, key="compare_sweep",
                             help="Scenarios saved in the app, or the runs of one `aift sweep`.")
        base = next(s for s in sweeps if s["id"] == sweep).get("base_values") or {}
        runs = [r for r in store.runs(sweep) if r["status"] == "ok"]
    if not runs:
        st.info("No successful run here yet.")
        return
    names = {r["id"]: f"{r['scenario']} [{r['id'][:8]}]" for r in runs}
    chosen = st.multiselect("Scenarios (the first is the reference)", list(names), default=list(names)[-2:], format_func=names.get, key="compare_runs")
    if len(chosen) < 2:
        st.info("Pick at least two scenarios.")
        return
    c = compare_runs([next(r for r in runs if r["id"] == i) for i in chosen])
    labels_of = [names[i] for i in c.ids]
    if c.parameters:
        st.subheader("What differs")
        diff = differences(c, labels_of, base)
        _show_differences(diff)
        tables.download_csv(diff, "comparison-parameters.csv", key="compare_params_csv", index=True)
    st.subheader("KPIs against the first scenario")
    table = kpi_changes(c, labels_of)
    _show_kpis(table, labels_of)
    tables.download_csv(table, "comparison-kpis.csv", key="compare_kpis_csv", index=True)
