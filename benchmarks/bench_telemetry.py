"""The operate loop on synthetic telemetry of the reference facility: read, calibrate, and how close the fit comes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from twin.loader import load_spec
from twin.telemetry.calibrate import calibrate
from twin.telemetry.mapping import load_mapping
from twin.telemetry.read import read_telemetry
from twin.telemetry.synth import Faults, SynthOptions, synthesize

TITLE = "Telemetry: read and calibrate a week of 15-min scrapes of the 100 MW reference (goal: each under 30 s; fit within 2 %)"
ROOT = Path(__file__).resolve().parent.parent


def run() -> list[dict]:
    spec = load_spec(ROOT / "facility_specs" / "reference-100mw-gb300.yaml")
    faults = Faults()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        synthesize(spec, out, SynthOptions(days=7, interval_s=900), faults)
        t_synth = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in out.iterdir()) / 1e6
        t0 = time.perf_counter()
        tm = read_telemetry([out])
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = calibrate(spec, tm, load_mapping(out / "mapping.yaml", spec))
        t_cal = time.perf_counter() - t0
    fit = {(f["deployment"], f["quantity"]): f["value"] for f in r.fits}
    found = {"hall-4 throughput": (fit[("hall-4/gb300-nvl72", "throughput")], faults.hall_throughput),
             "hall-1 power": (fit[("hall-1/gb300-nvl72", "power")], faults.deployment_power),
             "PUE offset": (fit[("site", "pue_offset")], faults.pue_offset)}
    rows = [{"step": "synthesize", "seconds": round(t_synth, 2), "detail": f"{size_mb:.0f} MB"},
            {"step": "read", "seconds": round(t_read, 2), "detail": f"{len(tm.samples):,} samples"},
            {"step": "calibrate", "seconds": round(t_cal, 2), "detail": f"{len(r.fits)} fits"}]
    rows += [{"step": f"fit: {name}", "seconds": None, "detail": f"{got:.4f} (injected {want:g}, {100 * (got / want - 1):+.2f} %)"}
             for name, (got, want) in found.items()]
    return rows
