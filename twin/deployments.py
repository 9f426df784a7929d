"""What a spec's deployments install: systems and their full-load IT power."""

from __future__ import annotations

from twin.spec import Deployment, Spec


def deployment_systems(spec: Spec, dep: Deployment) -> int:
    """Systems installed by a deployment (the spec may override the catalog's systems per rack)."""
    return dep.racks * (dep.systems_per_rack or spec.cat.systems[dep.system].systems_per_rack)


def rack_max_kw(spec: Spec) -> float:
    """Installed IT power at full load over all deployments, kW."""
    return sum(deployment_systems(spec, d) * spec.cat.systems[d.system].max_kw for d in spec.deployments)


def deployment_keys(spec: Spec) -> list[str]:
    """A readable key per deployment, `HALL/SYSTEM` (with `/2`, `/3`... for repeats), as telemetry mappings and calibrations name them."""
    seen: dict[str, int] = {}
    keys = []
    for d in spec.deployments:
        base = f"{d.hall}/{d.system}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}/{seen[base]}")
    return keys
