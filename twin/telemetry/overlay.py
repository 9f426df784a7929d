"""The calibration overlay: correction factors fitted from telemetry, applied by the twin wherever it predicts.

`aift calibrate` writes it as a small YAML file with one `calibration:` section, the same
section a spec may hold inline. The twin applies it at three places: a deployment's
output tokens/s at SLA is multiplied by `throughput_factor` (`twin.production`), its IT
power (idle and dynamic) by `power_factor`, and the facility's PUE is raised by
`pue_offset`, an overhead of that share of IT power the energy model does not explain
(`twin.energy`). Each factor carries its standard error and the time its current regime
began, so a reader knows how far to trust it and since when it holds.
"""

from __future__ import annotations

from pydantic import Field

from twin.catalog import Strict


class DeploymentCalibration(Strict):
    """Fitted factors of one deployment, named by its `HALL/SYSTEM` key."""

    deployment: str = Field(description="Deployment key, HALL/SYSTEM (/2, /3... for a repeated pair).")
    throughput_factor: float = Field(1.0, gt=0.05, le=5.0, description="Measured over predicted output tokens/s at the same load and SLA.")
    throughput_factor_se: float = Field(0.0, ge=0.0, description="Standard error of throughput_factor.")
    power_factor: float = Field(1.0, gt=0.05, le=5.0, description="Measured over predicted IT power at the same utilization.")
    power_factor_se: float = Field(0.0, ge=0.0, description="Standard error of power_factor.")
    throughput_since: str | None = Field(None, description="Start of the period throughput_factor was fitted on (ISO 8601, UTC): when the current behaviour began.")
    power_since: str | None = Field(None, description="Start of the period power_factor was fitted on (ISO 8601, UTC).")


class Calibration(Strict):
    """Correction factors fitted from measurements (`aift calibrate`)."""

    fitted_from: str = Field("", description="What the factors were fitted on: files and period, for the reader.")
    deployments: list[DeploymentCalibration] = Field(default_factory=list, description="Per-deployment factors; a deployment not listed is uncorrected.")
    pue_offset: float = Field(0.0, ge=-0.5, le=2.0, description="Measured minus predicted PUE at the same weather and IT load.")
    pue_offset_se: float = Field(0.0, ge=0.0, description="Standard error of pue_offset.")
    pue_since: str | None = Field(None, description="Start of the period pue_offset was fitted on (ISO 8601, UTC).")

    def factors(self, keys: list[str]) -> tuple[list[float], list[float]]:
        """Throughput and power factors in deployment order (1 for a deployment not listed)."""
        by_key = {d.deployment: d for d in self.deployments}
        return ([by_key[k].throughput_factor if k in by_key else 1.0 for k in keys],
                [by_key[k].power_factor if k in by_key else 1.0 for k in keys])


class CalibrationFile(Strict):
    """A calibration overlay file: the `calibration:` section alone."""

    calibration: Calibration
