"""Cross-reference checks of a validated spec: ids, equipment kinds, the power chain's shape.

Each check returns issues located at the offending field of the YAML document, so one
run of `aift validate` lists every broken reference, cycle and orphan at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from twin.catalog import Catalog
from twin.catalog_time import first_service_year
from twin.deployments import deployment_keys
from twin.errors import SpecIssue
from twin.plan_spec import MAX_DEMAND_TOKENS_PER_S
from twin.spec import Spec
from twin.validation import suggest
from twin.yamlio import Document

UTILITY = "utility"


def power_nodes(spec: Spec) -> dict[str, tuple[str, int]]:
    """Every power node id -> (section, index). The utility is implicit."""
    out: dict[str, tuple[str, int]] = {UTILITY: ("site", 0)}
    for section in ("generators", "transformers", "ups", "distribution"):
        for i, g in enumerate(getattr(spec.power, section)):
            out.setdefault(g.id, (section, i))
    return out


class _Checker:
    def __init__(self, spec: Spec, doc: Document, cat: Catalog):
        self.spec, self.doc, self.cat = spec, doc, cat
        self.issues: list[SpecIssue] = []

    def add(self, path: tuple, message: str) -> None:
        self.issues.append(self.doc.issue(path, message))

    def ref(self, path: tuple, value: str, options: Iterable[str], what: str) -> bool:
        options = list(options)
        if value in options:
            return True
        self.add(path, f"unknown {what} {value!r}" + suggest(value, options))
        return False

    def once(self, path: tuple, values: list, i: int, what: str) -> None:
        """`values[i]` must not appear before `i`: a second entry would leave which one holds to chance."""
        if values.index(values[i]) != i:
            self.add(path, f"{what} {values[i]!r} is listed twice")

    def unique_ids(self) -> None:
        seen: dict[str, tuple] = {UTILITY: ("site",)}
        groups = [("power", s) for s in ("generators", "transformers", "ups", "distribution")]
        groups += [("cooling", s) for s in ("plants", "loops")]
        groups += [("network", "fabrics")]
        paths = [((sec, sub, i, "id"), g.id) for sec, sub in groups for i, g in enumerate(getattr(getattr(self.spec, sec), sub))]
        paths += [(("halls", i, "id"), h.id) for i, h in enumerate(self.spec.halls)]
        for path, ident in paths:
            if ident in seen:
                first = self.doc.mark(seen[ident])[0]
                where = f" (first used on line {first})" if first else " (reserved for the utility)"
                self.add(path, f"duplicate id {ident!r}{where}")
            else:
                seen[ident] = path

    def equipment(self) -> None:
        kinds = {
            ("power", "generators"): {"generator"},
            ("power", "transformers"): {"transformer"},
            ("power", "ups"): {"ups"},
            ("power", "distribution"): {"pdu", "busway"},
            ("cooling", "plants"): {"chiller", "dry_cooler", "cooling_tower"},
            ("cooling", "loops"): {"cdu", "crah"},
        }
        for (sec, sub), allowed in kinds.items():
            for i, g in enumerate(getattr(getattr(self.spec, sec), sub)):
                path = (sec, sub, i, "equipment")
                candidates = [e.id for e in self.cat.equipment.values() if e.kind in allowed]
                if g.equipment in self.cat.equipment and g.equipment not in candidates:
                    kind = self.cat.equipment[g.equipment].kind
                    self.add(path, f"{g.equipment!r} is a {kind}; {sub} need one of: {', '.join(sorted(allowed))}")
                else:
                    self.ref(path, g.equipment, candidates, f"{'/'.join(sorted(allowed))} equipment")
        for i, f in enumerate(self.spec.network.fabrics):
            self.ref(("network", "fabrics", i, "switch"), f.switch, [e.id for e in self.cat.equipment.values() if e.kind == "switch"], "switch")
            self.ref(("network", "fabrics", i, "transceiver"), f.transceiver, [e.id for e in self.cat.equipment.values() if e.kind == "transceiver"], "transceiver")

    def power_chain(self) -> None:
        nodes = power_nodes(self.spec)
        edges: list[tuple[str, str]] = []
        for sec in ("transformers", "ups", "distribution"):
            for i, grp in enumerate(getattr(self.spec.power, sec)):
                for j, up in enumerate(grp.fed_by):
                    if not self.ref(("power", sec, i, "fed_by", j), up, nodes, "power node"):
                        continue
                    if up == grp.id:
                        self.add(("power", sec, i, "fed_by", j), f"{grp.id!r} cannot feed itself")
                    else:
                        edges.append((up, grp.id))
        # every node has an upstream, so a node cut off from the sources always shows up
        # as an unknown reference or as this cycle: no separate "not connected" check.
        order = list(nodes)
        for cycle in _cycles(nodes, edges):
            k = min(range(len(cycle)), key=lambda j: order.index(cycle[j]))
            cycle = cycle[k:] + cycle[:k]
            sec, i = nodes[cycle[0]]
            self.add(("power", sec, i, "fed_by"), "cycle in the power chain: " + " -> ".join([*cycle, cycle[0]]))
            break
        used: set[str] = {u for u, _ in edges}
        for ci, h in enumerate(self.spec.halls):
            for j, feed in enumerate(h.power_feeds):
                if self.ref(("halls", ci, "power_feeds", j), feed, [n for n in nodes if n != UTILITY], "power node"):
                    used.add(feed)
        for sec in ("plants", "loops"):
            for i, grp in enumerate(getattr(self.spec.cooling, sec)):
                for j, p in enumerate(grp.powered_by):
                    if self.ref(("cooling", sec, i, "powered_by", j), p, nodes, "power node"):
                        used.add(p)
        for node, (sec, i) in nodes.items():
            if node == UTILITY:
                continue
            if node not in used:
                self.add(("power", sec, i, "id"), f"{node!r} feeds nothing: no hall, cooling unit or downstream node uses it")

    def cooling(self) -> None:
        plants = [p.id for p in self.spec.cooling.plants]
        loops = {lp.id: lp for lp in self.spec.cooling.loops}
        used_plants: set[str] = set()
        used_loops: set[str] = set()
        for i, lp in enumerate(self.spec.cooling.loops):
            for j, p in enumerate(lp.plants):
                if self.ref(("cooling", "loops", i, "plants", j), p, plants, "cooling plant"):
                    used_plants.add(p)
        for i, h in enumerate(self.spec.halls):
            for j, lp in enumerate(h.cooling_loops):
                if self.ref(("halls", i, "cooling_loops", j), lp, loops, "cooling loop"):
                    used_loops.add(lp)
            if h.fabric is not None:
                self.ref(("halls", i, "fabric"), h.fabric, [f.id for f in self.spec.network.fabrics], "fabric")
        for i, p in enumerate(self.spec.cooling.plants):
            if p.id not in used_plants:
                self.add(("cooling", "plants", i, "id"), f"plant {p.id!r} serves no cooling loop")
        for i, lp in enumerate(self.spec.cooling.loops):
            if lp.id not in used_loops:
                self.add(("cooling", "loops", i, "id"), f"loop {lp.id!r} serves no hall")

    def deployments(self) -> None:
        halls = {h.id: h for h in self.spec.halls}
        loops = {lp.id: lp for lp in self.spec.cooling.loops}
        racks_in: dict[str, int] = {}
        models = [m.model for m in self.spec.workload.models]
        for i, d in enumerate(self.spec.deployments):
            ok_hall = self.ref(("deployments", i, "hall"), d.hall, halls, "hall")
            ok_sys = self.ref(("deployments", i, "system"), d.system, self.cat.systems, "system")
            if d.mix is not None:
                for m in d.mix:
                    self.ref(("deployments", i, "mix", m), m, models, "workload model")
                if abs(sum(d.mix.values()) - 1.0) > 1e-6:
                    self.add(("deployments", i, "mix"), f"shares must add up to 1; they add up to {sum(d.mix.values()):g}")
            if not (ok_hall and ok_sys):
                continue
            hall, sysm = halls[d.hall], self.cat.systems[d.system]
            racks_in[d.hall] = racks_in.get(d.hall, 0) + d.racks
            rack_kw = sysm.max_kw * (d.systems_per_rack or sysm.systems_per_rack)
            if rack_kw > hall.max_rack_kw + 1e-9:
                self.add(("deployments", i, "system"), f"a rack of {d.system} draws {rack_kw:g} kW; hall {d.hall!r} allows {hall.max_rack_kw:g} kW per rack")
            kinds = {self.cat.equipment[loops[lp].equipment].kind for lp in hall.cooling_loops if lp in loops and loops[lp].equipment in self.cat.equipment}
            if sysm.liquid_share > 0 and "cdu" not in kinds:
                self.add(("deployments", i, "system"), f"{d.system} needs liquid cooling; hall {d.hall!r} has no CDU loop")
            if sysm.liquid_share < 1 and "crah" not in kinds:
                self.add(("deployments", i, "system"), f"{d.system} rejects {1 - sysm.liquid_share:.0%} of its heat to air; hall {d.hall!r} has no CRAH loop")
        for i, h in enumerate(self.spec.halls):
            if racks_in.get(h.id, 0) > h.positions:
                self.add(("halls", i, "positions"), f"hall {h.id!r} has {h.positions} positions but {racks_in[h.id]} racks are deployed in it")

    def workload(self) -> None:
        total = sum(m.share for m in self.spec.workload.models)
        if abs(total - 1.0) > 1e-6:
            self.add(("workload", "models"), f"model shares must add up to 1; they add up to {total:g}")
        seen: set[str] = set()
        for i, wm in enumerate(self.spec.workload.models):
            path = ("workload", "models", i, "model")
            if wm.model in seen:
                self.add(path, f"model {wm.model!r} is listed twice")
            seen.add(wm.model)
            if self.ref(path, wm.model, self.cat.models, "model"):
                m = self.cat.models[wm.model]
                if wm.precision not in m.precisions:
                    self.add(("workload", "models", i, "precision"), f"{wm.model} is not served in {wm.precision}; it supports {', '.join(m.precisions)}")
                if wm.isl + wm.osl > m.max_context:
                    self.add(("workload", "models", i, "isl"), f"isl + osl = {wm.isl + wm.osl} exceeds {wm.model}'s context of {m.max_context}")

    def plan(self) -> None:
        """The `plan:` section names systems, halls, groups, equipment and models that exist, and cooling a hall can have."""
        plan = self.spec.plan
        if plan is None:
            return
        systems = list(self.cat.systems)
        if plan.systems != "all":
            for j, s in enumerate(plan.systems):
                self.once(("plan", "systems", j), plan.systems, j, "system")
                self.ref(("plan", "systems", j), s, systems, "system")
        halls = {h.id: h for h in self.spec.halls}
        loops = {lp.id: lp for lp in self.spec.cooling.loops}
        for i, ph in enumerate(plan.halls):
            path = ("plan", "halls", i)
            self.once((*path, "hall"), [p.hall for p in plan.halls], i, "hall")
            if not self.ref((*path, "hall"), ph.hall, halls, "hall"):
                continue
            for j, s in enumerate([] if ph.systems in (None, "all") else ph.systems):
                self.ref((*path, "systems", j), s, systems, "system")
            for key in ("min_racks", "max_racks"):
                for s in getattr(ph, key):
                    self.ref((*path, key, s), s, systems, "system")
            for s, n in ph.min_racks.items():
                if n > ph.max_racks.get(s, n):
                    self.add((*path, "min_racks", s), f"min_racks {n} of {s} is above its max_racks {ph.max_racks[s]}")
            kinds = {self.cat.equipment[loops[lp].equipment].kind for lp in halls[ph.hall].cooling_loops if lp in loops and loops[lp].equipment in self.cat.equipment}
            for j, c in enumerate(ph.cooling or []):
                need = "cdu" if c == "liquid" else "crah"
                if need not in kinds:
                    self.add((*path, "cooling", j), f"hall {ph.hall!r} has no {need.upper()} loop, so it cannot be {c}-cooled")
        groups = {g.id: g for sec in ("generators", "transformers", "ups", "distribution") for g in getattr(self.spec.power, sec)}
        groups |= {g.id: g for sec in ("plants", "loops") for g in getattr(self.spec.cooling, sec)}
        for i, pe in enumerate([] if plan.equipment == "all" else plan.equipment):
            path = ("plan", "equipment", i)
            self.once((*path, "group"), [e.group for e in plan.equipment], i, "group")
            if not self.ref((*path, "group"), pe.group, groups, "power or cooling group"):
                continue
            own = self.cat.equipment.get(groups[pe.group].equipment)
            for j, e in enumerate(pe.equipment or []):
                if self.ref((*path, "equipment", j), e, self.cat.equipment, "equipment") and own is not None and self.cat.equipment[e].kind != own.kind:
                    self.add((*path, "equipment", j), f"{e!r} is a {self.cat.equipment[e].kind}; group {pe.group!r} takes a {own.kind}")
        models = [m.model for m in self.spec.workload.models]
        for m in plan.demand_output_tokens_per_s:
            self.ref(("plan", "demand_output_tokens_per_s", m), m, models, "workload model")

    def roadmap(self) -> None:
        """The `roadmap:` section names systems, models and halls that exist, and its years fall inside its horizon."""
        rm = self.spec.roadmap
        if rm is None:
            return
        for j, s in enumerate(rm.systems):
            self.once(("roadmap", "systems", j), rm.systems, j, "system")
            self.ref(("roadmap", "systems", j), s, self.cat.systems, "system")
        for m in rm.demand:
            self.ref(("roadmap", "demand", m), m, [wm.model for wm in self.spec.workload.models], "workload model")
        for m, path in rm.demand.items():
            if path.tokens_per_s and min(path.tokens_per_s) > rm.start_year:
                self.add(("roadmap", "demand", m, "tokens_per_s"), f"the first listed year must be the start year {rm.start_year} or before")
        if min(rm.utility_mw) > rm.start_year:
            self.add(("roadmap", "utility_mw"), f"the first listed year must be the start year {rm.start_year} or before")
        last = rm.start_year + rm.years - 1
        for m, p in rm.demand.items():
            if p.first_year_tokens_per_s is not None and p.growth_per_year:
                try:
                    grown = p.first_year_tokens_per_s * (1.0 + p.growth_per_year) ** (last - rm.start_year)
                except OverflowError:
                    grown = math.inf
                if grown > MAX_DEMAND_TOKENS_PER_S:
                    self.add(("roadmap", "demand", m, "growth_per_year"), f"grows the demand to {grown:.3g} tokens/s by {last}, beyond "
                             f"{MAX_DEMAND_TOKENS_PER_S:.0e} (is the growth a percentage? 0.15 is +15 %/year)")
        by_year = [(("roadmap", "demand", m, "tokens_per_s"), p.tokens_per_s) for m, p in rm.demand.items()]
        for path, figures in [*by_year, (("roadmap", "utility_mw"), rm.utility_mw), (("roadmap", "capex_budget_usd"), rm.capex_budget_usd)]:
            for year in figures:
                if year > last:
                    self.add((*path, str(year)), f"{year} is after the horizon's last year {last} (start_year + years - 1)")
        halls = [h.id for h in self.spec.halls]
        for i, rh in enumerate(rm.halls):
            self.once(("roadmap", "halls", i, "hall"), [h.hall for h in rm.halls], i, "hall")
            self.ref(("roadmap", "halls", i, "hall"), rh.hall, halls, "hall")
            if rh.earliest_year is not None and rh.earliest_year >= rm.start_year + rm.years:
                self.add(("roadmap", "halls", i, "earliest_year"), f"{rh.earliest_year} is after the horizon's last year {rm.start_year + rm.years - 1}")
        self.roadmap_fleet()

    def roadmap_fleet(self) -> None:
        """A starting fleet: the deployments exist, were bought by the start, serve at least its first year, stand in halls open then."""
        rm = self.spec.roadmap
        year = rm.fleet_installed_year
        if year is None:
            return
        where = ("roadmap", "fleet_installed_year")
        if not self.spec.deployments:
            self.add(where, "the spec has no deployments to start the roadmap from")
        if year > rm.start_year:
            self.add(where, f"{year} is after the roadmap's start year {rm.start_year}: the fleet must be bought by then")
        elif rm.start_year - year >= rm.system_life_years:
            self.add(where, f"racks bought in {year} are past their {rm.system_life_years}-year life by {rm.start_year}")
        late = {rh.hall: rh.earliest_year for rh in rm.halls if rh.earliest_year is not None and rh.earliest_year > rm.start_year}
        for i, d in enumerate(self.spec.deployments):
            entry = self.cat.systems.get(d.system)
            if entry is not None and entry.available is not None:
                serves = first_service_year(entry)
                if int(entry.available[:4]) > year:
                    self.add(("deployments", i, "system"), f"{d.system} ships {entry.available}: its racks cannot have been bought "
                             f"in {year} (roadmap.fleet_installed_year)")
                elif serves > rm.start_year:
                    self.add(("deployments", i, "system"), f"{d.system} ships {entry.available} and serves from {serves}: it cannot be in "
                             f"the starting fleet, which serves from {rm.start_year}")
            if d.hall in late:
                self.add(("deployments", i, "hall"), f"hall {d.hall!r} holds the starting fleet but its roadmap earliest_year is {late[d.hall]}")

    def calibration(self) -> None:
        cal = self.spec.calibration
        if cal is None:
            return
        keys = deployment_keys(self.spec)
        for i, d in enumerate(cal.deployments):
            self.ref(("calibration", "deployments", i, "deployment"), d.deployment, keys, "deployment")


def check_references(spec: Spec, doc: Document, cat: Catalog) -> list[SpecIssue]:
    """Every cross-reference problem of `spec`, located in `doc`."""
    c = _Checker(spec, doc, cat)
    c.unique_ids()
    c.equipment()
    c.power_chain()
    c.cooling()
    c.deployments()
    c.workload()
    c.plan()
    c.roadmap()
    c.calibration()
    return c.issues


def _cycles(nodes: Iterable[str], edges: list[tuple[str, str]]) -> Iterable[list[str]]:
    """The elementary cycles of the feed graph; a graph without one (every valid spec) never imports networkx.

    Kahn's peeling finds whether there is a cycle in pure Python; networkx, slow to import, names them.
    """
    indegree = dict.fromkeys(nodes, 0)
    for _, v in edges:
        indegree[v] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    peeled = 0
    while ready:
        n = ready.pop()
        peeled += 1
        for u, v in edges:
            if u == n:
                indegree[v] -= 1
                if indegree[v] == 0:
                    ready.append(v)
    if peeled == len(indegree):
        return []
    import networkx as nx

    g = nx.DiGraph(edges)
    g.add_nodes_from(indegree)
    return nx.simple_cycles(g)
