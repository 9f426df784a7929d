"""The fleet's production at SLA: each deployment's racks split over the models they serve.

A deployment serves the workload's models in the workload shares, or in its own `mix`.
Each (deployment, model) pair runs at the token model's operating point for that
system and model; its capacity is GPUs x share x output tokens/s per GPU, times the
deployment's measured `throughput_factor` when the spec carries a calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.deployments import deployment_keys, deployment_systems
from twin.perf import OperatingPoint, PerfError, operating_point
from twin.spec import Deployment, Spec, WorkloadModel


@dataclass(frozen=True)
class Stream:
    """One deployment's share serving one model, at its operating point."""

    deployment: int  # index in spec.deployments
    hall: str
    system: str
    model: str
    share: float  # of the deployment's systems
    systems: float  # systems serving this model (share x installed)
    gpus: float
    point: OperatingPoint
    factor: float = 1.0  # calibrated: measured over predicted output tokens/s

    @property
    def capacity_tokens_per_s(self) -> float:
        """Output tokens/s at SLA with every GPU of the stream serving."""
        return self.gpus * self.point.tokens_per_s_per_gpu * self.factor


def mix_of(spec: Spec, dep: Deployment) -> dict[str, float]:
    """Share of a deployment's systems serving each model."""
    if dep.mix is not None:
        return {m: s for m, s in dep.mix.items() if s > 0}
    return {wm.model: wm.share for wm in spec.workload.models if wm.share > 0}


def streams(spec: Spec) -> list[Stream]:
    """Every (deployment, model) stream at its operating point; PerfError names the pair that fails."""
    workload = {wm.model: wm for wm in spec.workload.models}
    factors = spec.calibration.factors(deployment_keys(spec))[0] if spec.calibration else [1.0] * len(spec.deployments)
    out = []
    for i, dep in enumerate(spec.deployments):
        system = spec.cat.systems[dep.system]
        n = deployment_systems(spec, dep)
        for model_id, share in mix_of(spec, dep).items():
            wm: WorkloadModel = workload[model_id]
            try:
                point = operating_point(system, spec.cat.models[model_id], wm)
            except PerfError as exc:
                raise PerfError(f"deployments[{i}] ({dep.system} in {dep.hall}) serving {model_id}: {exc}") from None
            out.append(Stream(i, dep.hall, dep.system, model_id, share, n * share, n * share * system.gpus_per_system, point, factors[i]))
    return out
