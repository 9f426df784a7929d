"""Which deployment, model and tenant each series belongs to: by a mapping file, else by the names the tools report.

A mapping file lists rules; the first whose `match` fits a series' labels (shell globs on
label values) says where it belongs:

    series:
      - match: {Hostname: "h1-*"}        # DCGM exporter series of hall 1's nodes
        hall: hall-1
      - match: {model_name: "meta-llama/Llama-3.3-70B-Instruct", instance: "10.1.*"}
        deployment: hall-1/hgx-h100      # HALL/SYSTEM, as `aift telemetry check` lists them
        tenant: search

Without a rule (or with only `hall`), a GPU series maps by its `modelName` to the one
deployment of that GPU, and an engine series by its `model_name` to the one deployment
serving that model; where that is ambiguous the series stays unmapped and is reported.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from twin.catalog import Strict
from twin.deployments import deployment_keys
from twin.errors import SpecError
from twin.production import mix_of
from twin.spec import Spec
from twin.telemetry.metrics import ROLES
from twin.validation import validate
from twin.yamlio import load_yaml

GPU_ROLES = {r for r in ROLES if r.startswith("gpu_")}


class Rule(Strict):
    """Series whose labels match go to this deployment (or hall), model and tenant."""

    match: dict[str, str] = Field(min_length=1, description="Label name -> shell glob on its value; every one must match.")
    deployment: str | None = Field(None, description="HALL/SYSTEM key of the deployment.")
    hall: str | None = Field(None, description="Hall id: the series belongs to this hall's deployments (then mapped by GPU or model name).")
    model: str | None = Field(None, description="Catalog model id the series serves (when `model_name` is an alias).")
    tenant: str | None = Field(None, description="Tenant the series' tokens are served to.")


class Mapping(Strict):
    """A telemetry mapping file."""

    series: list[Rule] = Field(default_factory=list, description="Rules, first match wins.")


@dataclass(frozen=True)
class Assignment:
    """Where one series belongs; `deployment` None when unmapped (`why` says why)."""

    deployment: int | None
    model: str | None
    tenant: str | None
    why: str = ""


def load_mapping(path: Path, spec: Spec) -> Mapping:
    """Read and check a mapping file against the spec: every deployment, hall and model must exist."""
    doc = load_yaml(path)
    mapping = validate(doc, Mapping)
    keys, halls = set(deployment_keys(spec)), {h.id for h in spec.halls}
    issues = []
    for i, r in enumerate(mapping.series):
        if r.deployment is not None and r.deployment not in keys:
            issues.append(doc.issue(("series", i, "deployment"), f"unknown deployment {r.deployment!r}; the spec has {', '.join(sorted(keys))}"))
        if r.hall is not None and r.hall not in halls:
            issues.append(doc.issue(("series", i, "hall"), f"unknown hall {r.hall!r}; the spec has {', '.join(sorted(halls))}"))
        if r.model is not None and r.model not in {wm.model for wm in spec.workload.models}:
            issues.append(doc.issue(("series", i, "model"), f"model {r.model!r} is not in the spec's workload"))
    if issues:
        raise SpecError(issues)
    return mapping


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.rsplit("/", 1)[-1].lower())


def _gpu_tokens(name: str) -> set[str]:
    """`B300 (GB300) 288GB` -> {B300, GB300}: the words a DCGM `modelName` would contain."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    return {w.upper() for w in words[:1]} | {w.upper() for w in re.findall(r"\(([A-Za-z0-9]+)\)", name)}


def model_for(spec: Spec, model_name: str) -> str | None:
    """The workload model a served `model_name` names (HF repo id, catalog name or id), if exactly one."""
    n = _norm(model_name)
    hits = [wm.model for wm in spec.workload.models
            if n in (_norm(wm.model), _norm(spec.cat.models[wm.model].name)) or n.startswith(_norm(wm.model))]
    return hits[0] if len(hits) == 1 else None


class Mapper:
    """Assigns series to deployments for one spec and mapping."""

    def __init__(self, spec: Spec, mapping: Mapping | None = None):
        self.spec = spec
        self.rules = mapping.series if mapping else []
        self.keys = deployment_keys(spec)

    def _rule(self, labels: dict[str, str]) -> Rule | None:
        for r in self.rules:
            if all(k in labels and fnmatch.fnmatchcase(labels[k], pat) for k, pat in r.match.items()):
                return r
        return None

    def assign(self, role: str, labels: dict[str, str]) -> Assignment:
        r = self._rule(labels)
        tenant = r.tenant if r else None
        model = (r.model if r and r.model else None) or (model_for(self.spec, labels["model_name"]) if "model_name" in labels else None)
        if r and r.deployment:
            return Assignment(self.keys.index(r.deployment), model, tenant)
        deps = range(len(self.spec.deployments))
        if r and r.hall:
            deps = [k for k in deps if self.spec.deployments[k].hall == r.hall]
        if role in GPU_ROLES:
            gpu = labels.get("modelName")
            if gpu is not None:
                words = {w.upper() for w in re.findall(r"[A-Za-z0-9]+", gpu)}
                deps = [k for k in deps if _gpu_tokens(self.spec.cat.systems[self.spec.deployments[k].system].gpu.name) & words]
            what = f"GPU {gpu!r}" if gpu else "a GPU series without modelName"
        else:
            if model is not None:
                deps = [k for k in deps if model in mix_of(self.spec, self.spec.deployments[k])]
            what = f"model {labels.get('model_name')!r}" if model else "an engine series whose model_name names no workload model"
        deps = list(deps)
        if len(deps) == 1 and (role in GPU_ROLES or model is not None or (r and r.hall)):
            return Assignment(deps[0], model, tenant)
        why = f"{what} fits {len(deps)} deployments" + ("; add a rule to the mapping file" if deps else "")
        return Assignment(None, model, tenant, why)
