"""A solved plan written back as a facility spec: the same schema, with the open choices filled in.

The written spec is the input with its `plan:` section removed and:
- one deployment per hall and rack variant, with the plan's racks and its model mix;
- each open equipment group at the chosen equipment, units and redundancy; a group the
  plan leaves without units is removed, and with it whatever no longer serves anything
  (a hall without feeds or loops, a loop without a hall, a plant without loops, a power
  node that feeds nothing), so the spec stays valid;
- workload shares set to the plan's split of GPUs over the models.
Fabrics need no choice: the twin sizes them from the GPUs of their halls.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from optimizer.problem import outside_groups_usd, parse_system_id
from optimizer.solution import Solution
from optimizer.spec_roles import COOLING_SECTIONS, POWER_SECTIONS, group_roles, open_groups, parse_option_id
from twin.errors import SpecError
from twin.spec import Spec
from twin.yamlio import load_yaml

SHARE_DECIMALS = 9
SECTIONS = [("power", sec) for sec in POWER_SECTIONS] + [("cooling", sec) for sec in COOLING_SECTIONS]
REQUIRED = {
    "generators": (),
    "transformers": ("fed_by",),
    "ups": ("fed_by",),
    "distribution": ("fed_by",),
    "plants": (),
    "loops": ("plants",),
}


def plan_to_spec_yaml(spec: Spec, solution: Solution) -> str:
    """The plan as facility YAML, headed by a comment that says where it came from and what it predicts."""
    if not solution.racks:
        raise ValueError("the plan places no racks, so there is no facility to write")
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data.pop("plan", None)
    if solution.utility_kw is not None:  # the interconnect bought, to the kW above, so that the plan fits it
        data["site"]["utility_mw"] = math.ceil(solution.utility_kw - 1e-6) / 1000.0
        econ = data.setdefault("economics", {})  # its capital recovery as opex: the twin has no interconnect price
        econ["other_opex_usd_per_year"] = spec.economics.other_opex_usd_per_year + solution.utility_annual_usd
    data["deployments"] = _deployments(spec, solution)
    _set_equipment(data, spec, solution)
    _prune(data)
    _set_shares(data, spec, solution)
    data = {k: data[k] for k in Spec.model_fields if k in data}  # the schema's section order
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)
    return _header(spec, solution) + body


def _deployments(spec: Spec, solution: Solution) -> list[dict]:
    out = []
    for (hall, variant), racks in solution.racks.items():
        system, per_rack = parse_system_id(variant)
        dep: dict[str, Any] = {"hall": hall, "system": system, "racks": racks}
        if per_rack is not None:
            dep["systems_per_rack"] = per_rack
        serving = {m: x for (h, v, m), x in solution.serving.items() if (h, v) == (hall, variant)}
        if serving:
            dep["mix"] = _rounded_shares(serving)
        out.append(dep)
    return out


def _rounded_shares(weights: dict[str, float]) -> dict[str, float]:
    """Shares of the weights, rounded, adding up to exactly 1."""
    total = sum(weights.values())
    shares = {k: round(w / total, SHARE_DECIMALS) for k, w in weights.items()}
    last = max(shares, key=shares.get)
    shares[last] = round(1.0 - sum(v for k, v in shares.items() if k != last), SHARE_DECIMALS)
    return shares


def _groups(data: dict) -> list[dict]:
    """Every power and cooling group in the data."""
    return [g for top, sec in SECTIONS for g in data[top].get(sec, [])]


def _set_equipment(data: dict, spec: Spec, solution: Solution) -> None:
    """Open groups at the chosen units; those left without units are dropped."""
    roles = group_roles(spec)
    opened = open_groups(spec, roles)
    for top, sec in SECTIONS:
        for g in data[top].get(sec, []):
            choice = solution.equipment.get((roles[g["id"]].scope, g["id"]))
            if g["id"] in opened and choice is not None:
                equipment, redundancy = parse_option_id(choice.option)
                g.update(equipment=equipment, units=choice.installed_units, redundancy=redundancy)
            elif g["id"] in opened:
                g["units"] = 0
        if sec in data[top]:
            data[top][sec] = [g for g in data[top][sec] if g.get("units") != 0]


def _prune(data: dict) -> None:
    """Remove, until none is left, what references removed items or serves nothing."""
    while True:
        ids = {g["id"] for g in _groups(data)} | {"utility"}
        halls = [h for h in data["halls"] if _filter(h, ("power_feeds", "cooling_loops"), ids)]
        used = {i for h in halls for key in ("power_feeds", "cooling_loops") for i in h[key]}
        used |= {i for g in _groups(data) for key in ("fed_by", "powered_by", "plants") for i in g.get(key, [])}
        changed = len(halls) != len(data["halls"])
        data["halls"] = halls
        for top, sec in SECTIONS:
            if sec in data[top]:
                kept = [
                    g
                    for g in data[top][sec]
                    if g["id"] in used and _filter(g, REQUIRED[sec], ids) and _filter(g, ("powered_by",), ids, needed=False)
                ]
                changed |= len(kept) != len(data[top][sec])
                data[top][sec] = kept
        data["deployments"] = [d for d in data["deployments"] if d["hall"] in {h["id"] for h in halls}]
        if not changed:
            return


def _filter(item: dict, keys: tuple[str, ...], ids: set[str], needed: bool = True) -> bool:
    """Drop removed ids from the item's reference lists; False when one is left empty (unless not `needed` and empty before)."""
    ok = True
    for key in keys:
        if key in item:
            before = item[key]
            item[key] = [i for i in before if i in ids]
            ok &= bool(item[key]) or not (needed or before)
    return ok


def _set_shares(data: dict, spec: Spec, solution: Solution) -> None:
    """Workload shares: the plan's split of GPUs over the models."""
    gpus: dict[str, float] = {}
    for (_, variant, model), racks in solution.serving.items():
        system, per_rack = parse_system_id(variant)
        entry = spec.cat.systems[system]
        gpus[model] = gpus.get(model, 0.0) + racks * (per_rack or entry.systems_per_rack) * entry.gpus_per_system
    if gpus:
        shares = _rounded_shares({wm["model"]: gpus.get(wm["model"], 0.0) for wm in data["workload"]["models"]})
        for wm in data["workload"]["models"]:
            wm["share"] = shares[wm["model"]]


def _header(spec: Spec, s: Solution) -> str:
    source = spec.path or spec.name
    lines = [
        f"Generated by `aift plan` from {source} (spec {spec.name!r}, hash {spec.spec_hash()}); its plan: section is resolved and removed.",
        f"Objective {s.objective}, {s.status}, proven gap {s.mip_gap:.3%}. Predicted by the plan's linear model",
        "(`aift evaluate` scores this file with the full twin):",
        f"  cost per million output tokens: ${s.cost_per_mtok_usd:.4f}",
        f"  output tokens per year: {s.tokens_per_year:.4g} ({s.tokens_per_year / 8760 / 3600:,.0f} tokens/s)",
        f"  annual cost: ${s.annual_cost_usd:,.0f}; capex: ${s.capex_usd + outside_groups_usd(spec)[0]:,.0f}",
        f"  facility power at the design hour: {s.design_facility_kw / 1000:,.2f} MW; mean: {s.mean_facility_kw / 1000:,.2f} MW",
        f"  GPUs: {s.gpus:,}",
    ]
    return "".join(f"# {line}\n" for line in lines)


class _Dumper(yaml.SafeDumper):
    """Flat items on one line, as the examples write them; strings quoted where YAML 1.2 would read something else."""


def _mapping(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=_flat(data, depth=2) and len(str(data)) < 160)


def _flat(value, depth: int) -> bool:
    """A scalar, or collections nested at most `depth` levels deep (a dict of lists is 2)."""
    if not isinstance(value, (dict, list)):
        return True
    return depth > 0 and all(_flat(v, depth - 1) for v in (value.values() if isinstance(value, dict) else value))


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    try:
        plain = load_yaml("<string>", text=data).data == data
    except SpecError:
        plain = False
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=None if plain and data else '"')


_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(str, _string)
