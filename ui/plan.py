"""Plan page: what is open to the optimizer, the plan against the current facility, its limits, and adopting it.

The plan's figures are set beside the twin's evaluation of the facility as written, with the change,
so a planner sees what the plan buys; loading the plan keeps the old facility as the What-if baseline.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from optimizer.alternatives import AlternativesRun, NoAlternative, alternative_rows, plan_alternatives
from optimizer.highs import Infeasible
from optimizer.plan_kpis import COMPARED
from optimizer.planning import PlanInputError, PlanRun, plan_facility
from optimizer.problem_types import OBJECTIVES
from optimizer.scenarios import short_labels
from twin.overrides import apply_overrides
from twin.plan_spec import PlanOptions
from twin.spec import Spec
from ui import fmt, state, tables
from ui.whatif import run_evaluate

OBJECTIVE_HELP = ("cost-per-token: the lowest USD per million output tokens (exact, by Dinkelbach steps). "
                  "min-cost: the cheapest facility that serves a given demand (enter it below). "
                  "max-tokens: the most output tokens a year within the site's limits and the budget.")
EXAMPLE_PLAN = """plan:
  systems: [gb300-nvl72, hgx-b200]     # candidate systems in every hall (or: all)
  keep_deployments: false              # plan the halls from empty
  equipment: all                       # size UPS, distribution, plants and loops
  capex_budget_usd: 3.0e9
"""


def what_is_open(spec: Spec) -> list[str]:
    """The choices the spec's `plan:` section leaves to the optimizer, in words."""
    p = spec.plan or PlanOptions()
    free = {h.id: h.positions - sum(d.racks for d in spec.deployments if d.hall == h.id) for h in spec.halls}
    systems = "any catalog system" if p.systems == "all" else ", ".join(p.systems)
    lines = [f"Racks: {systems}, in the {sum(free.values()):,} free rack positions "
             f"({', '.join(f'{h} {n}' for h, n in free.items())})"
             + ("; the racks written stay as a floor." if p.keep_deployments else "; the racks written may go (keep_deployments: false).")]
    if p.halls:
        lines.append("Per-hall choices: " + "; ".join(f"{h.hall}" + (f" cooling {'/'.join(h.cooling)}" if h.cooling else "") for h in p.halls) + ".")
    if p.equipment == "all":
        lines.append("Equipment: every power and cooling group the optimizer can size.")
    elif p.equipment:
        lines.append("Equipment sized: " + ", ".join(e.group for e in p.equipment) + ".")
    else:
        lines.append("Equipment: as written (no `equipment:` in the plan section), so the power and cooling groups are limits.")
    if p.demand_output_tokens_per_s:
        lines.append("Demand: " + ", ".join(f"{m} {fmt.quantity(v, 'tok/s')}" for m, v in p.demand_output_tokens_per_s.items()) + ".")
    if p.capex_budget_usd is not None:
        lines.append(f"Capex budget: {fmt.quantity(p.capex_budget_usd, 'USD')}.")
    return lines


def alternatives_table(alts: AlternativesRun) -> pd.DataFrame:
    """Each combination's values, status, the objective's figure by the plan and the twin, unmet-heat hours and the choice."""
    rows = alternative_rows(alts)
    labels = short_labels(list(rows[0]["values"]))
    return pd.DataFrame([{**{labels[p]: str(v) for p, v in r["values"].items()}, "status": r.get("mip_status", r["status"]),
                          f"plan_{alts.figure}": r.get("plan"), f"twin_{alts.figure}": r.get("twin"),
                          "unmet_heat_hours": r.get("unmet_heat_hours"), "chosen": r["chosen"], "why not planned": r.get("reason", "")}
                         for r in rows])


def layout_table(spec: Spec, run: PlanRun) -> pd.DataFrame:
    """Racks per hall and system: as written, in the plan, and the change; with each hall's cooling."""
    now: dict[tuple[str, str], int] = {}
    for d in spec.deployments:
        now[(d.hall, d.system)] = now.get((d.hall, d.system), 0) + d.racks
    keys = sorted(set(now) | {k for k, n in run.solution.racks.items() if n})
    return pd.DataFrame([{"hall": h, "system": s, "racks_now": now.get((h, s), 0), "racks_in_plan": run.solution.racks.get((h, s), 0),
                          "change": run.solution.racks.get((h, s), 0) - now.get((h, s), 0), "cooling": run.solution.cooling.get(h, "")}
                         for h, s in keys])


def kpis_against_current(current: dict, run: PlanRun) -> pd.DataFrame:
    """Per KPI: the facility as written, the plan as the twin scores it, and the plan's own prediction."""
    keys = [k for k in COMPARED if k in current and k in run.predicted]
    twin = run.twin or {}
    return pd.DataFrame({"current": [float(current[k]) for k in keys], "plan": [float(twin.get(k, run.predicted[k])) for k in keys],
                         "plan_predicted": [float(run.predicted[k]) for k in keys]}, index=keys)


def _show_kpis(df: pd.DataFrame, spec: Spec) -> None:
    view = fmt.kpi_rows(df)
    view.columns = ["Current facility", "Plan (twin)", "Plan (optimizer's own estimate)"]
    view["Change"] = [fmt.delta(p, c, fmt.unit_of(k)) or "no change" for k, c, p in zip(df.index, df["current"], df["plan"], strict=True)]
    st.dataframe(view, key="plan_kpis")
    tables.download_csv(df, f"plan-{spec.name}-kpis.csv", key="plan_kpis_csv", index=True)


def _limits(run: PlanRun, spec: Spec) -> None:
    raw = pd.DataFrame([{"limit": u.limit.kind, "of": u.limit.subject, "value": u.limit.value, "used": u.used, "unit": u.limit.unit,
                         "binding": u.binding} for u in run.uses])
    view = pd.DataFrame({"Limit": raw["limit"], "Of": raw["of"], "Available": [fmt.quantity(v, u) for v, u in zip(raw["value"], raw["unit"], strict=True)],
                         "Used": [fmt.quantity(v, u) for v, u in zip(raw["used"], raw["unit"], strict=True)],
                         "Share used": [fmt.quantity(x / v if v else None, "%") for x, v in zip(raw["used"], raw["value"], strict=True)],
                         "Binding": raw["binding"].map({True: "yes", False: ""})})
    st.dataframe(view, key="plan_limits", hide_index=True)
    st.caption("A limit binds when what is left of it would not take one more rack like the plan's: lifting it would improve the objective.")
    tables.download_csv(raw, f"plan-{spec.name}-limits.csv", key="plan_limits_csv")
    if run.shadows:
        raw = pd.DataFrame([{"limit": v.limit.kind, "of": v.limit.subject, "step": v.step, "unit": v.limit.unit,
                             "cost_per_million_tokens_change_usd": v.cost_per_mtok_change_usd, "annual_cost_change_usd": v.annual_cost_change_usd}
                            for v in run.shadows])
        st.subheader("Shadow values", help="What one more step of a limit is worth: the limit relaxed by one step and the plan solved again "
                     "(MILP duals are not meaningful). Negative: a saving.")
        view = pd.DataFrame({"Limit": raw["limit"], "Of": raw["of"], "Relaxed by": [fmt.quantity(s, u) for s, u in zip(raw["step"], raw["unit"], strict=True)],
                             "Change in cost per 1M tokens": [fmt.quantity(x, "USD") for x in raw["cost_per_million_tokens_change_usd"]],
                             "Change in annual cost": [fmt.quantity(x, "USD/yr") for x in raw["annual_cost_change_usd"]]})
        st.dataframe(view, key="plan_shadows", hide_index=True)
        tables.download_csv(raw, f"plan-{spec.name}-shadow-values.csv", key="plan_shadows_csv")


def _status(run: PlanRun) -> str:
    sol = run.solution
    gap = "proven best (gap under one in a million)" if sol.mip_gap < 1e-6 else f"within {sol.mip_gap:.2%} of the best possible (proven gap)"
    return f"{sol.status}: {gap}; solved in {sol.solve_time_s:.1f} s."


def adopt(spec_name: str, base_kpis: dict, name: str, text: str, folder) -> None:
    """Open the plan as a draft named after it (reading files from `folder`), keeping the facility it replaces as the What-if baseline."""
    text = re.sub(r"(?m)^name:\s*.*$", f"name: plan-{spec_name}", text, count=1)
    st.session_state.baseline = {"for": name, "name": spec_name, "kpis": base_kpis}
    state.open_draft(name, text, folder, replace=True)


def _demand_inputs(spec: Spec) -> dict:
    st.caption("min-cost needs the demand to meet: mean output tokens per second per model over the year.")
    cols = st.columns(len(spec.workload.models))
    given = (spec.plan.demand_output_tokens_per_s if spec.plan else {}) or {}
    return {wm.model: col.number_input(f"{wm.model} (tok/s)", 0.0, 1e12, float(given.get(wm.model, 0.0)), 1e6, key=f"plan_demand_{i}",
                                       help="0 leaves the model out of the demand.")
            for i, (col, wm) in enumerate(zip(cols, spec.workload.models, strict=True))}


def page() -> None:
    st.title("Plan")
    spec = state.require_spec()
    if spec is None:
        return
    ss = st.session_state
    with st.expander("What is open to the optimizer", expanded=spec.plan is None):
        for line in what_is_open(spec):
            st.markdown(f"- {line}")
        st.caption("Open more by adding a `plan:` section to the spec on the Facility page, for example:")
        st.code(EXAMPLE_PLAN, language="yaml")
    c1, c2 = st.columns(2)
    objective = c1.selectbox("Objective", list(OBJECTIVES), key="plan_objective", help=OBJECTIVE_HELP)
    limit = c2.number_input("Time limit (s)", 1.0, 600.0, 60.0, key="plan_time_limit", help="The solver stops here with its best plan and its proven gap.")
    shadow = c1.toggle("Shadow values (one re-solve per limit)", value=False, key="plan_shadow",
                       help="What one more step of each binding limit is worth: the plan re-solved with the limit relaxed.")
    ov: dict = {}
    if objective == "min-cost":
        demand = {m: v for m, v in _demand_inputs(spec).items() if v > 0}
        ov = {"plan.demand_output_tokens_per_s": demand} if demand else {}
    if st.button("Plan", key="plan_run", type="primary"):
        ss.plan_alternatives = None
        try:
            with st.spinner("Solving with HiGHS…"):
                planned = apply_overrides(spec, ov) if ov else spec
                if planned.plan is not None and planned.plan.alternatives:
                    alts = plan_alternatives(planned, objective, float(limit), shadow=shadow)
                    ss.plan_result, ss.plan_alternatives = alts.run, alternatives_table(alts)
                else:
                    ss.plan_result = plan_facility(planned, objective, float(limit), shadow=shadow, verify=True)
                ss.plan_for = spec.spec_hash()
        except Infeasible as exc:
            ss.plan_result = None
            st.error(f"No plan meets every limit: {exc.reason}")
        except (PlanInputError, NoAlternative) as exc:
            ss.plan_result = None
            st.error(str(exc))
    run = ss.get("plan_result")
    if run is None or ss.get("plan_for") != spec.spec_hash():
        return
    st.success(_status(run))
    if ss.get("plan_alternatives") is not None:
        st.subheader("Design alternatives")
        st.caption("One plan per combination of `plan.alternatives`, ranked on the twin's score of each written plan: "
                   "fewest hours of unmet heat, then the objective's figure. The plan below is the chosen one.")
        tables.show(ss.plan_alternatives, "plan_alternatives", file=f"plan-{spec.name}-alternatives.csv")
    st.subheader("What the plan decided")
    layout = layout_table(spec, run)
    if not layout["change"].any():
        st.info("The plan keeps the racks as written: with what is open (above), no change improves the objective.")
    tables.show(layout, "plan_layout", file=f"plan-{spec.name}-layout.csv", units={"racks_now": "racks", "racks_in_plan": "racks", "change": "racks"})
    st.subheader("The plan against the current facility")
    current = run_evaluate(ss.drafts[ss.current], ss.current, str(state.draft_folder(ss.current)), "{}")
    if isinstance(current, str):
        st.error(f"The current facility cannot be evaluated: {current}")
        return
    _show_kpis(kpis_against_current(current.kpis, run), spec)
    st.subheader("Limits")
    _limits(run, spec)
    name = f"plan-{spec.name}.yaml"
    c1, c2 = st.columns(2)
    c1.download_button("Download the plan as a facility spec", run.yaml_text, file_name=name, key="plan_download")
    c2.button("Load the plan as the new baseline", key="plan_adopt", on_click=adopt,
              args=(spec.name, current.kpis, name, run.yaml_text, spec.files_root),
              help="Opens the plan as a draft; the What-if cards then show its change against this facility.")
