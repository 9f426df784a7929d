"""Fit the twin to what the factory measured: throughput and power factors per deployment, a PUE offset for the site.

Per deployment, measured output tokens/s against the twin's prediction at the measured
GPU utilization (`throughput_factor`), and measured GPU board power against the
prediction at that utilization (`power_factor`). For the site, measured PUE (utility over
IT meter) against the energy model's at the measured weather and load, with the fitted
power factors applied (`pue_offset`). Each fit is on the current regime (`twin.telemetry.fit`);
the drift report says what under-delivers, by how much and since when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from twin.demand import hourly_demand
from twin.deployments import deployment_keys
from twin.production import streams
from twin.spec import Spec
from twin.telemetry.apply import with_calibration
from twin.telemetry.fit import Fit, fit_factor, fit_offset
from twin.telemetry.mapping import Mapper, Mapping
from twin.telemetry.measured import Measured, measure
from twin.telemetry.overlay import Calibration, DeploymentCalibration
from twin.telemetry.predict import (
    board_power_w,
    deployment_kw,
    dynamic_share,
    energy_at,
    hour_of_year,
    measured_weather,
    tokens_at,
    uncalibrated,
)
from twin.telemetry.read import Telemetry

DRIFT_TOLERANCE = 0.02  # a factor within 2 % of 1 (or a PUE within 0.02) is on plan


@dataclass
class CalibrationResult:
    """The overlay, the fits behind it, the drift report and the measured-against-predicted series."""

    calibration: Calibration
    fits: list[dict]  # per deployment and quantity: value, se, n, since
    drift: list[str]
    series: pd.DataFrame  # long: time, deployment (or "site"), quantity, measured, predicted
    measured: Measured


def iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def calibrate(spec: Spec, tm: Telemetry, mapping: Mapping | None = None, step_s: float = 3600.0) -> CalibrationResult:
    """Fit the overlay from `tm`; deployments or the site without the needed series keep factor 1 and are reported."""
    raw = uncalibrated(spec)
    ss = streams(raw)
    m = measure(raw, tm, Mapper(raw, mapping), step_s)
    keys = deployment_keys(raw)
    t0 = m.edges[:-1]
    dyn = dynamic_share(raw, ss)
    util = m.util
    pred_tokens = tokens_at(raw, ss, util)
    pred_board = board_power_w(raw, dyn, util)
    fits, drift, entries, frames = [], [], [], []
    for k, key in enumerate(keys):
        tp = fit_factor(pred_tokens[k], m.tokens[k])
        pw = fit_factor(pred_board[k], m.gpu_power_w[k])
        for quantity, f in (("throughput", tp), ("power", pw)):
            fits.append(_fit_row(key, quantity, f, t0))
            drift.extend(_drift(key, quantity, f, t0))
        if tp or pw:
            entries.append(DeploymentCalibration(
                deployment=key, throughput_factor=tp.value if tp else 1.0, throughput_factor_se=tp.se if tp else 0.0,
                power_factor=pw.value if pw else 1.0, power_factor_se=pw.se if pw else 0.0,
                throughput_since=iso(t0[tp.start]) if tp else None, power_since=iso(t0[pw.start]) if pw else None))
        frames.append(_long(t0, key, "output tokens/s", m.tokens[k], pred_tokens[k]))
        frames.append(_long(t0, key, "IT power kW", deployment_kw(raw, m.gpu_power_w)[k], deployment_kw(raw, pred_board)[k]))
    cal = Calibration(deployments=entries, fitted_from=f"{len(tm.files)} file(s), {iso(m.edges[0])} to {iso(m.edges[-1])}")
    pue_fit, pue_frame = _pue(raw, ss, m, cal)
    fits.append(_fit_row("site", "pue_offset", pue_fit, t0))
    drift.extend(_drift("site", "pue_offset", pue_fit, t0))
    if pue_fit:
        cal = cal.model_copy(update=dict(pue_offset=pue_fit.value, pue_offset_se=pue_fit.se, pue_since=iso(t0[pue_fit.start])))
    frames.append(pue_frame)
    series = pd.concat(frames, ignore_index=True)
    return CalibrationResult(cal, fits, drift, series, m)


def fleet(series: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """Measured and predicted `quantity` summed over the deployments that measured it, per bin (NaN where one is missing)."""
    q = series[series["quantity"] == quantity]
    seen = q.groupby("deployment")["measured"].apply(lambda x: x.notna().any())
    q = q[q["deployment"].isin(seen[seen].index)]
    return q.groupby("time")[["measured", "predicted"]].sum(min_count=max(int(seen.sum()), 1))


def _pue(raw: Spec, ss, m: Measured, cal: Calibration) -> tuple[Fit | None, pd.DataFrame]:
    """PUE offset: measured PUE minus the energy model's at the measured weather and load, fitted power factors applied."""
    site, t0 = m.site, m.edges[:-1]
    pue_meas = (site["utility_kw"] / site["it_kw"]).to_numpy(float)
    ok = np.isfinite(pue_meas) & np.isfinite(site["outdoor_c"].to_numpy(float))
    pred = np.full(len(t0), np.nan)
    if ok.sum() >= 3:
        # a deployment without a utilization reading at a bin runs, as the twin plans, at the demand of that hour
        planned = hourly_demand(raw.workload.demand)[hour_of_year(t0[ok])]
        util = np.where(np.isfinite(m.util[:, ok]), m.util[:, ok], planned[None, :])
        with_power = with_calibration(raw, cal)
        weather = measured_weather(raw, t0[ok], site["outdoor_c"].to_numpy(float)[ok], site["wet_bulb_c"].to_numpy(float)[ok])
        pred[ok] = energy_at(with_power, ss, util, weather).pue
    return fit_offset(pue_meas - pred), _long(t0, "site", "PUE", pue_meas, pred)


def _long(t0: np.ndarray, who: str, quantity: str, measured: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"time": pd.to_datetime(t0, unit="s", utc=True), "deployment": who, "quantity": quantity,
                         "measured": measured, "predicted": predicted})


def _fit_row(who: str, quantity: str, f: Fit | None, t0: np.ndarray) -> dict:
    if f is None:
        return {"deployment": who, "quantity": quantity, "value": None, "se": None, "bins": 0, "since": None, "before": None}
    return {"deployment": who, "quantity": quantity, "value": f.value, "se": f.se, "bins": f.n, "since": iso(t0[f.start]), "before": f.before}


def _drift(who: str, quantity: str, f: Fit | None, t0: np.ndarray) -> list[str]:
    """Sentences for the drift report: what departs from the twin, by how much, since when."""
    if f is None:
        what = "PUE (utility and IT meters, outdoor temperature)" if quantity == "pue_offset" else f"{quantity} (series not found or not mapped)"
        return [f"{who}: {what} not measured; no {quantity} fitted"]
    since = f"since {iso(t0[f.start])}" if f.shifted else "over the whole period"
    if quantity == "pue_offset":
        if abs(f.value) <= DRIFT_TOLERANCE:
            return []
        return [f"{who}: PUE {f.value:+.3f} (±{f.se:.4f}) against the twin at the same weather and load, {since}"]
    if abs(f.value - 1.0) <= DRIFT_TOLERANCE:
        return []
    verb = {"throughput": ("under-delivers", "over-delivers"), "power": ("draws less power", "draws more power")}[quantity][f.value > 1]
    change = f" (was {f.before:.3f} before)" if f.shifted else ""
    return [f"{who}: {verb} by {abs(f.value - 1) * 100:.1f} % (factor {f.value:.3f} ± {f.se:.4f}), {since}{change}"]
