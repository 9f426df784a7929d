"""Apply a calibration overlay file to a spec, or write one: the file holds the `calibration:` section alone."""

from __future__ import annotations

from pathlib import Path

import yaml

from twin.deployments import deployment_keys, deployment_systems
from twin.errors import SpecError
from twin.overrides import apply_overrides
from twin.spec import Spec
from twin.telemetry.overlay import Calibration, CalibrationFile
from twin.validation import suggest, validate
from twin.yamlio import load_yaml


def load_calibration(path: Path, spec: Spec) -> Calibration:
    """Read an overlay and check it names only this spec's deployments (SpecError with file, line and field)."""
    doc = load_yaml(path)
    cal = validate(doc, CalibrationFile).calibration
    keys = deployment_keys(spec)
    issues = [doc.issue(("calibration", "deployments", i, "deployment"), f"unknown deployment {d.deployment!r}" + suggest(d.deployment, keys))
              for i, d in enumerate(cal.deployments) if d.deployment not in keys]
    if issues:
        raise SpecError(issues)
    return cal


def with_calibration(spec: Spec, cal: Calibration) -> Spec:
    """The spec with `cal` as its calibration section (replacing any it had)."""
    return apply_overrides(spec, {"calibration": cal.model_dump(mode="json", exclude_defaults=True)})


def calibrated(spec: Spec, path: Path | None) -> Spec:
    """The spec with the overlay at `path` applied; the spec itself when `path` is None."""
    return spec if path is None else with_calibration(spec, load_calibration(Path(path), spec))


def system_factors(spec: Spec) -> dict[str, tuple[float, float]]:
    """Per catalog system, the GPU-weighted mean (throughput, power) factors of its deployments.

    The planner sizes by system, not by deployment, so a system's racks, old or new, take
    the factors its deployments measured; a system not deployed is uncorrected.
    """
    if spec.calibration is None:
        return {}
    tput, power = spec.calibration.factors(deployment_keys(spec))
    sums: dict[str, list[float]] = {}
    for k, d in enumerate(spec.deployments):
        gpus = deployment_systems(spec, d) * spec.cat.systems[d.system].gpus_per_system
        acc = sums.setdefault(d.system, [0.0, 0.0, 0.0])
        acc[0] += gpus * tput[k]
        acc[1] += gpus * power[k]
        acc[2] += gpus
    return {sid: (t / g, p / g) for sid, (t, p, g) in sums.items() if g > 0}


def calibration_yaml(cal: Calibration, header: str = "") -> str:
    """The overlay file's text: a comment header, then the `calibration:` section."""
    data = {k: _rounded(v) for k, v in cal.model_dump(mode="json").items()}
    body = yaml.safe_dump({"calibration": data}, sort_keys=False, width=120)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + body


def _rounded(v):
    """Six significant digits: the standard errors are far larger than what is cut."""
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    return v
