"""Plan page: run the optimizer, show the layout, binding limits and shadow values, and adopt the plan."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizer.planning import PlanInputError, plan_facility
from optimizer.problem_types import OBJECTIVES
from optimizer.solve import Infeasible
from ui import state


def page() -> None:
    st.title("Plan")
    spec = state.require_spec()
    if spec is None:
        return
    c1, c2 = st.columns(2)
    objective = c1.selectbox("Objective", list(OBJECTIVES), key="plan_objective")
    limit = c2.number_input("Time limit (s)", 1.0, 600.0, 60.0, key="plan_time_limit")
    shadow = c1.toggle("Shadow values (one re-solve per limit)", value=False, key="plan_shadow")
    if st.button("Plan", key="plan_run"):
        try:
            with st.spinner("Solving with HiGHS…"):
                st.session_state.plan_result = plan_facility(spec, objective, float(limit), shadow=shadow, verify=True)
        except Infeasible as exc:
            st.session_state.plan_result = None
            st.error(f"No plan meets every limit: {exc.reason}")
        except PlanInputError as exc:
            st.session_state.plan_result = None
            st.error(str(exc))
    run = st.session_state.get("plan_result")
    if run is None:
        return
    sol = run.solution
    st.success(f"{sol.status}: proven gap {sol.mip_gap:.2e}, solved in {sol.solve_time_s:.1f} s")
    st.subheader("Layout")
    st.dataframe(pd.DataFrame([{"hall": h, "system": s, "racks": n, "cooling": sol.cooling.get(h)} for (h, s), n in sol.racks.items() if n]), key="plan_layout")
    st.subheader("KPIs: the plan's prediction and the twin's evaluation of the written spec")
    keys = [k for k in run.predicted if run.twin is None or k in run.twin]
    st.dataframe(pd.DataFrame({"predicted": {k: run.predicted[k] for k in keys}, **({"twin": {k: run.twin[k] for k in keys}} if run.twin else {})}), key="plan_kpis")
    st.subheader("Limits")
    st.dataframe(pd.DataFrame([{"limit": u.limit.kind, "of": u.limit.subject, "value": u.limit.value, "unit": u.limit.unit,
                                "used": u.used, "binding": u.binding} for u in run.uses]), key="plan_limits")
    if run.shadows:
        st.caption("Shadow values: each limit relaxed by one step and re-solved (MILP duals are not meaningful).")
        st.dataframe(pd.DataFrame([{"limit": v.limit.kind, "of": v.limit.subject, "step": v.step, "unit": v.limit.unit,
                                    "USD per M tokens": v.cost_per_mtok_change_usd, "USD per year": v.annual_cost_change_usd}
                                   for v in run.shadows]), key="plan_shadows")
    name = f"plan-{spec.name}.yaml"
    st.download_button("Download the plan as a facility spec", run.yaml_text, file_name=name, key="plan_download")
    st.button("Load the plan as the new baseline", key="plan_adopt", on_click=state.open_draft, args=(name, run.yaml_text, spec.files_root))
