"""Synthetic telemetry of a facility: the scrape files and meter table a running factory would export, with faults injected.

The twin's own predictions at a drifting load (the spec's demand profile with noise)
are written in the formats operators' tools write: one DCGM exporter file per
deployment (`GPUS_SCRAPED` GPUs of it), one vLLM file per deployment (token counters,
queue gauges, TTFT and TPOT histograms, KV-cache and prefix-cache metrics), successive
scrapes with millisecond timestamps and the `instance`/`job` labels Prometheus adds,
a site meter table (`meters.csv`), and the mapping file that ties them to the spec.
Faults scale what is written from their start on: a hall's throughput, a deployment's
power, the site's PUE. One engine restarts (a counter reset) and one scrape is lost
(a gap), so the reader's handling of both is exercised. Same seed, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import lognorm

from twin.demand import hourly_demand
from twin.deployments import deployment_keys
from twin.evaluate import spec_weather
from twin.overrides import apply_overrides
from twin.production import mix_of, streams
from twin.spec import Spec
from twin.telemetry.predict import board_power_w, dynamic_share, energy_at, hour_of_year, uncalibrated
from twin.weather import Weather

GPUS_SCRAPED = 8  # GPUs of each deployment whose DCGM series are written
GAP_SCRAPES = 4  # scrapes lost in a row on one engine series
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)
TPOT_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
START = "2026-06-01T00:00:00Z"


@dataclass(frozen=True)
class Faults:
    """Injected departures from the twin; `None` targets pick the spec's last hall and first deployment."""

    hall: str | None = None
    hall_throughput: float = 0.85
    deployment: str | None = None
    deployment_power: float = 1.10
    pue_offset: float = 0.05
    start_day: float = 1.0  # throughput and power faults begin this many days in; the PUE offset holds throughout


@dataclass(frozen=True)
class SynthOptions:
    days: float = 7.0
    interval_s: float = 900.0
    seed: int = 0
    start: str = START
    noise: float = 0.01  # relative noise on every measured value


def _model_name(spec: Spec, model: str) -> str:
    return spec.cat.models[model].name.replace(" ", "-")


def _slug(key: str) -> str:
    return key.replace("/", "-")


def synthesize(spec: Spec, out: Path, options: SynthOptions = SynthOptions(), faults: Faults = Faults()) -> list[Path]:
    """Write the telemetry files under `out` (created); returns the paths written."""
    spec = uncalibrated(spec)
    rng = np.random.default_rng(options.seed)
    keys = deployment_keys(spec)
    hall = faults.hall or spec.halls[-1].id
    faulty = faults.deployment or keys[0]
    t = pd.Timestamp(options.start).timestamp() + options.interval_s * np.arange(int(options.days * 86400 / options.interval_s))
    late = t >= t[0] + faults.start_day * 86400
    h = hour_of_year(t)
    demand = hourly_demand(spec.workload.demand)[h]
    ss = streams(spec)
    ndep = len(spec.deployments)
    busy = np.clip(demand[None, :] * (1 + 0.05 * rng.standard_normal((ndep, t.size))), 0.05, 1.0)
    tput = np.array([np.where(late, faults.hall_throughput, 1.0) if d.hall == hall else np.ones(t.size) for d in spec.deployments])
    power = np.array([np.where(late, faults.deployment_power, 1.0) if k == faulty else np.ones(t.size) for k in keys])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    dyn = dynamic_share(spec, ss)
    for k, key in enumerate(keys):
        written.append(_write_dcgm(spec, k, key, t, busy[k], power[k], dyn, rng, options, out))
        written.append(_write_engine(spec, k, key, t, busy[k], tput[k], ss, rng, options, out))
    written.append(_write_meters(spec, ss, t, busy, keys, faulty, faults, late, rng, options, out))
    written.append(_write_mapping(spec, keys, out))
    return written


def _write_dcgm(spec, k, key, t, busy, power, dyn, rng, options, out) -> Path:
    dep = spec.deployments[k]
    sys = spec.cat.systems[dep.system]
    host = f"{_slug(key)}-node0"
    lines = []
    metrics = (("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W)."), ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %)."),
               ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C)."), ("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered."))
    gpus = min(GPUS_SCRAPED, sys.gpus_per_system * 2)
    for i, ti in enumerate(t):
        util = np.clip(busy[i] + 0.02 * rng.standard_normal(gpus), 0.0, 1.0)
        watts = board_power_w(spec, dyn, np.tile(util, (len(dyn), 1)))[k] * power[i] * (1 + options.noise * rng.standard_normal(gpus))
        values = (np.round(watts, 3), np.round(util * 100.0, 1), np.round(45.0 + 30.0 * util), np.zeros(gpus))
        for (name, help_), v in zip(metrics, values, strict=True):
            lines.append(f"# HELP {name} {help_}\n# TYPE {name} gauge")
            for g in range(gpus):
                labels = f'gpu="{g}",UUID="GPU-{k:04d}{g:04d}-synthetic",device="nvidia{g}",modelName="NVIDIA {sys.gpu.name}",Hostname="{host}"'
                value = "NaN" if (k == 0 and g == 1 and i == 5 and name == "DCGM_FI_DEV_POWER_USAGE") else f"{v[g]:g}"
                lines.append(f"{name}{{{labels},instance=\"{host}:9400\",job=\"dcgm\"}} {value} {int(ti * 1000)}")
    path = out / f"dcgm-{_slug(key)}.prom"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write_engine(spec, k, key, t, busy, tput, ss, rng, options, out) -> Path:
    """vLLM metrics of one deployment's engines, one series per served model, summed over replicas."""
    inst = f'instance="{_slug(key)}-vllm:8000",job="vllm"'
    workload = {wm.model: wm for wm in spec.workload.models}
    mine = [s for s in ss if s.deployment == k]
    dt = np.diff(t, prepend=t[0])
    lines = []
    for s in mine:
        wm = workload[s.model]
        lab = f'model_name="{_model_name(spec, s.model)}",{inst}'
        rate = s.capacity_tokens_per_s * busy * tput * (1 + options.noise * rng.standard_normal(t.size))
        out_tokens = np.cumsum(rate * dt)
        restart = t.size // 2 if k == 0 and s is mine[0] else None
        if restart is not None:  # the engine restarts: its counters count again from zero
            out_tokens[restart:] -= out_tokens[restart - 1]
        prompt = out_tokens * wm.isl / wm.osl
        requests = out_tokens / wm.osl
        running = busy * s.point.batch_size * s.gpus / s.point.gpus_per_replica
        ttft_cdf = lognorm.cdf(LATENCY_BUCKETS_S, 0.5, scale=s.point.ttft_s)
        tpot_cdf = lognorm.cdf(TPOT_BUCKETS_S, 0.3, scale=s.point.tpot_s)
        for i, ti in enumerate(t):
            if k == len(spec.deployments) - 1 and s is mine[-1] and t.size // 3 <= i < t.size // 3 + GAP_SCRAPES:
                continue  # lost scrapes: a gap in this series
            ms = int(ti * 1000)
            lines += [
                "# TYPE vllm:generation_tokens_total counter", f"vllm:generation_tokens_total{{{lab}}} {out_tokens[i]:.1f} {ms}",
                "# TYPE vllm:prompt_tokens_total counter", f"vllm:prompt_tokens_total{{{lab}}} {prompt[i]:.1f} {ms}",
                "# TYPE vllm:request_success_total counter", f'vllm:request_success_total{{finished_reason="stop",{lab}}} {requests[i]:.0f} {ms}',
                "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{{{lab}}} {running[i]:.0f} {ms}",
                "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{{{lab}}} {rng.poisson(max(busy[i] - 0.7, 0) * 20)} {ms}",
                "# TYPE vllm:kv_cache_usage_perc gauge", f"vllm:kv_cache_usage_perc{{{lab}}} {min(1.0, 0.9 * busy[i]):.4f} {ms}",
                "# TYPE vllm:prefix_cache_queries_total counter", f"vllm:prefix_cache_queries_total{{{lab}}} {prompt[i]:.0f} {ms}",
                "# TYPE vllm:prefix_cache_hits_total counter", f"vllm:prefix_cache_hits_total{{{lab}}} {0.3 * prompt[i]:.0f} {ms}",
            ]
            for name, bounds, cdf, count, mean in (("vllm:time_to_first_token_seconds", LATENCY_BUCKETS_S, ttft_cdf, requests[i], s.point.ttft_s),
                                                   ("vllm:time_per_output_token_seconds", TPOT_BUCKETS_S, tpot_cdf, out_tokens[i], s.point.tpot_s)):
                lines.append(f"# TYPE {name} histogram")
                lines += [f'{name}_bucket{{le="{b:g}",{lab}}} {c * count:.0f} {ms}' for b, c in zip(bounds, cdf, strict=True)]
                lines += [f'{name}_bucket{{le="+Inf",{lab}}} {count:.0f} {ms}', f"{name}_sum{{{lab}}} {count * mean:.3f} {ms}",
                          f"{name}_count{{{lab}}} {count:.0f} {ms}"]
    path = out / f"vllm-{_slug(key)}.prom"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write_meters(spec, ss, t, busy, keys, faulty, faults, late, rng, options, out) -> Path:
    """Site meters from the energy model at the same load and weather, with the power and PUE faults applied."""
    year = spec_weather(spec)
    h = hour_of_year(t)
    weather = Weather(year.dry_bulb_c[h], year.wet_bulb_c[h], year.source)
    energy = {}
    for is_late in (False, True):
        cal = {"deployments": [{"deployment": faulty, "power_factor": faults.deployment_power}] if is_late else [],
               "pue_offset": faults.pue_offset}
        energy[is_late] = energy_at(apply_overrides(spec, {"calibration": cal}), ss, busy, weather)
    pick = lambda attr: np.where(late, getattr(energy[True], attr), getattr(energy[False], attr))  # noqa: E731
    noise = lambda: 1 + 0.2 * options.noise * rng.standard_normal(t.size)  # noqa: E731 - meters are better than GPU sensors
    it = (pick("it_kw") + pick("network_kw")) * noise()
    table = pd.DataFrame({
        "timestamp": pd.to_datetime(t, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hall": "",
        "utility_kw": np.round(pick("facility_kw") * noise(), 2),
        "it_kw": np.round(it, 2),
        "cooling_kw": np.round(pick("cooling_kw") * noise(), 2),
        "outdoor_c": np.round(weather.dry_bulb_c, 2),
        "wet_bulb_c": np.round(weather.wet_bulb_c, 2),
    })
    path = out / "meters.csv"
    table.to_csv(path, index=False)
    return path


def _write_mapping(spec: Spec, keys: list[str], out: Path) -> Path:
    rules = []
    for key in keys:
        rules.append({"match": {"Hostname": f"{_slug(key)}-node*"}, "deployment": key})
        rules.append({"match": {"instance": f"{_slug(key)}-vllm:*"}, "deployment": key})
    mix = {key: sorted(mix_of(spec, spec.deployments[k])) for k, key in enumerate(keys)}
    header = "# Which series belong to which deployment (written by aift telemetry synth).\n# Models served: " + \
        "; ".join(f"{k}: {', '.join(v)}" for k, v in mix.items()) + "\n"
    path = out / "mapping.yaml"
    path.write_text(header + yaml.safe_dump({"series": rules}, sort_keys=False))
    return path
