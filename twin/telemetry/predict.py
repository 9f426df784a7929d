"""The twin's predictions at measured conditions: tokens/s and GPU power at a measured utilization, PUE at measured weather.

The load a deployment is under is its GPU utilization `u` (DCGM_FI_DEV_GPU_UTIL / 100),
read as the twin's busy share. At that load the twin predicts

    output tokens/s   sum over its streams of capacity at SLA x u
    system power      idle + (P_op - idle) x u, per stream share (P_op: operating-point power)
    GPU board power   tdp x system power / system max power

The last line assumes GPU boards take the same share of a system's power at every load
(DCGM measures boards only; CPUs, NICs and fans are not in it). PUE is the energy model's
at the measured outdoor temperature with every deployment at its measured utilization.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.deployments import deployment_systems
from twin.energy import EnergyResult, hourly_power
from twin.evaluate import spec_weather
from twin.network import network
from twin.overrides import apply_overrides
from twin.production import Stream
from twin.spec import Spec
from twin.weather import Weather

HOURS_PER_YEAR = 8760


def uncalibrated(spec: Spec) -> Spec:
    """The spec without its calibration: fits are always against the twin as built."""
    return spec if spec.calibration is None else apply_overrides(spec, {"calibration": None})


def hour_of_year(t: np.ndarray) -> np.ndarray:
    """Hour of the (UTC) year of each Unix time, 0..8759, wrapping a leap year's last day."""
    stamps = pd.to_datetime(np.asarray(t, dtype=float), unit="s", utc=True)
    start = pd.to_datetime(stamps.year.astype(str) + "-01-01", utc=True)
    return (np.asarray((stamps - start).total_seconds()) // 3600).astype(int) % HOURS_PER_YEAR


def dynamic_share(spec: Spec, ss: list[Stream]) -> np.ndarray:
    """Per deployment, the share of `max - idle` drawn when all its GPUs are busy at their operating points."""
    out = np.zeros(len(spec.deployments))
    for s in ss:
        system = spec.cat.systems[s.system]
        out[s.deployment] += s.share * (s.point.system_power_kw - system.idle_kw) / (system.max_kw - system.idle_kw)
    return np.clip(out, 0.0, 1.0)


def tokens_at(spec: Spec, ss: list[Stream], util: np.ndarray) -> np.ndarray:
    """Predicted output tokens/s per deployment and bin at utilization `util` (deployments, bins)."""
    capacity = np.zeros(len(spec.deployments))
    for s in ss:
        capacity[s.deployment] += s.capacity_tokens_per_s
    return capacity[:, None] * util


def board_power_w(spec: Spec, dyn: np.ndarray, util: np.ndarray) -> np.ndarray:
    """Predicted mean GPU board power, W, per deployment and bin at utilization `util`."""
    out = np.empty_like(util)
    for k, d in enumerate(spec.deployments):
        sys = spec.cat.systems[d.system]
        out[k] = sys.gpu.tdp_w * (sys.idle_kw + (sys.max_kw - sys.idle_kw) * dyn[k] * util[k]) / sys.max_kw
    return out


def deployment_kw(spec: Spec, board_w: np.ndarray) -> np.ndarray:
    """A deployment's IT power, kW, from its mean GPU board power (the inverse of `board_power_w`)."""
    out = np.empty_like(board_w)
    for k, d in enumerate(spec.deployments):
        sys = spec.cat.systems[d.system]
        out[k] = deployment_systems(spec, d) * sys.max_kw * board_w[k] / sys.gpu.tdp_w
    return out


def measured_weather(spec: Spec, t: np.ndarray, dry_c: np.ndarray, wet_c: np.ndarray | None) -> Weather:
    """Weather at the bins: the measured dry-bulb; the measured wet-bulb, else the spec climate's depression at that hour."""
    year = spec_weather(spec)
    h = hour_of_year(t)
    fallback = dry_c - (year.dry_bulb_c[h] - year.wet_bulb_c[h])
    wet_c = fallback if wet_c is None else np.where(np.isfinite(wet_c), wet_c, fallback)
    return Weather(dry_c, np.minimum(wet_c, dry_c), "measured")


def energy_at(spec: Spec, ss: list[Stream], util: np.ndarray, weather: Weather) -> EnergyResult:
    """The energy model with every deployment at utilization `util` (deployments, bins) in `weather`."""
    return hourly_power(spec, dynamic_share(spec, ss)[:, None] * util, weather, network(spec).power_kw)
