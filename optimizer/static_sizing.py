"""The written plan held to `aift twin`'s N-1 load checks: a group the twin finds short gets the units it lacks.

The plan sizes each group with a load factor measured on a probe (`site_figures`); when
the final plan's mix differs from the probe's, a group can come out a fraction of a
percent short of the twin's design load. This check runs the twin's own static analysis
(`twin.analysis.node_loads`, at nameplate) on the plan written as a spec and adds the
missing usable units, with their cost, to the groups the plan sized. Groups carrying
facility power (sized to the design hour, not nameplate) and the utility are left alone.
"""

from __future__ import annotations

import math
from dataclasses import replace

from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem_types import PlanProblem
from optimizer.solution import Solution
from twin.analysis import node_loads
from twin.graph import node_ids
from twin.loader import load_spec_text
from twin.spec import Spec

ROUNDS = 3  # added units change the losses upstream a little: check again


def meet_static_checks(spec: Spec, p: PlanProblem, sol: Solution) -> Solution:
    """`sol` with enough units in every group it sized to pass the twin's N-1 check at nameplate."""
    option = {(scope, st.id, o.id): o for scope, st in p.stages() for o in st.options if o.installed is None}
    facility = {st.id for _, st in p.stages() if st.carries == "facility"}
    for _ in range(ROUNDS):
        if not sol.racks:
            return sol
        written = load_spec_text(plan_to_spec_yaml(spec, sol))
        ids = node_ids(written)
        short = {n.node: n for n in node_loads(written) if not n.ok}
        equipment, capex, annual = dict(sol.equipment), 0.0, 0.0
        for (scope, gid), choice in sol.equipment.items():
            o = option.get((scope, gid, choice.option))
            load = short.get(ids.get(gid, ""))
            if o is None or load is None or gid in facility:
                continue
            more = math.ceil(load.design_load_kw / o.unit_kw - 1e-9) - round(choice.usable_kw / o.unit_kw)
            if more <= 0:
                continue
            units = more * o.units_per_usable
            equipment[scope, gid] = replace(choice, installed_units=choice.installed_units + units, usable_kw=choice.usable_kw + more * o.unit_kw)
            capex, annual = capex + units * o.capex_usd, annual + units * o.annual_usd
        if not capex:
            return sol
        sol = replace(sol, equipment=equipment, capex_usd=sol.capex_usd + capex, annual_cost_usd=sol.annual_cost_usd + annual)
        sol = replace(sol, objective_value={"cost-per-token": sol.cost_per_mtok_usd, "min-cost": sol.annual_cost_usd}.get(sol.objective, sol.objective_value))
    return sol

