"""Operate page: load telemetry (or generate it), calibrate the twin, see expected against measured, build the scorecard.

Keys in `st.session_state`:
- `operate_dir`: folder holding the telemetry in use (uploaded or synthetic).
- `operate_result`: the `CalibrationResult` of the last run.
- `operate_scorecard`: {"html", "md"} of the last scorecard built.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from optimizer.scorecard.charts import measured_vs_twin
from optimizer.scorecard.data import build_scorecard
from optimizer.scorecard.render import render_html, render_markdown
from twin.errors import SpecError
from twin.evaluate import evaluate
from twin.telemetry.apply import calibration_yaml, with_calibration
from twin.telemetry.calibrate import calibrate
from twin.telemetry.mapping import load_mapping
from twin.telemetry.read import EXPOSITION, METERS, QUERY_RANGE, read_telemetry
from twin.telemetry.synth import SynthOptions, synthesize
from ui import state

KPIS = {"cost_per_million_tokens_usd": "Cost per 1M tokens (USD)", "output_tokens_per_s": "Throughput (tok/s)", "pue": "PUE"}


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="aift-telemetry-"))


def _load(spec) -> None:
    """Pick the telemetry: synthetic for this facility, or uploaded files."""
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Synthetic telemetry** of this facility, with faults injected (a hall at 85 % throughput, one deployment's power +10 %, PUE +0.05).")
        days = st.number_input("Days", 1, 30, 3, key="operate_days")
        if st.button("Generate synthetic telemetry", key="operate_synth"):
            folder = _folder()
            synthesize(spec, folder, SynthOptions(days=float(days), interval_s=1800.0))
            st.session_state.operate_dir = folder
            st.session_state.pop("operate_result", None)
    with c2:
        kinds = sorted(e.lstrip(".") for e in EXPOSITION | QUERY_RANGE | METERS) + ["yaml"]
        files = st.file_uploader("Or upload scrapes, query_range answers, meter tables (and a mapping.yaml)", type=kinds,
                                 accept_multiple_files=True, key="operate_upload")
        if files and st.button("Use the uploaded files", key="operate_use_upload"):
            folder = _folder()
            for f in files:
                (folder / Path(f.name).name).write_bytes(f.getvalue())
            st.session_state.operate_dir = folder
            st.session_state.pop("operate_result", None)


def _calibrate(spec, folder: Path) -> None:
    mapping_file = folder / "mapping.yaml"
    try:
        mapping = load_mapping(mapping_file, spec) if mapping_file.exists() else None
        tm = read_telemetry([folder])
        tm.findings.raise_errors()
    except SpecError as exc:
        st.error("The telemetry has problems:\n\n" + "\n".join(f"- `{i}`" for i in exc.issues[:30]))
        return
    st.session_state.operate_result = calibrate(spec, tm, mapping)
    st.session_state.operate_notes = tm.findings.note_lines()


def _show(spec, result) -> None:
    st.subheader("Drift report")
    for line in result.drift or ["Everything within 2 % of the twin."]:
        st.markdown(f"- {line}")
    st.dataframe(pd.DataFrame(result.fits), key="operate_fits", hide_index=True)
    st.plotly_chart(measured_vs_twin(result.series), key="operate_chart")
    st.subheader("Calibrated KPIs")
    before, after = evaluate(spec).kpis, evaluate(with_calibration(spec, result.calibration)).kpis
    cols = st.columns(len(KPIS))
    for col, (k, label) in zip(cols, KPIS.items(), strict=True):
        col.metric(label, f"{after[k]:,.4g}", delta=f"{after[k] - before[k]:+,.4g} vs the spec", delta_color="off")
    overlay = calibration_yaml(result.calibration, f"Calibration of {spec.name}, from the Operate page.")
    c1, c2 = st.columns(2)
    c1.download_button("Download the calibration overlay", overlay, file_name="calibrated.yaml", key="operate_download_overlay")
    if spec.calibration is None and c2.button("Use the calibrated twin on every page", key="operate_adopt"):
        # a new draft: the spec's text with the overlay's section appended, so What-if, Simulate and Plan use it
        ss = st.session_state
        name = f"{Path(ss.current).stem}-calibrated.yaml"
        state.open_draft(name, ss.drafts[ss.current].rstrip("\n") + "\n\n" + overlay, state.draft_folder(ss.current))
        st.success(f"Opened {name}: the spec with its calibration section. The other pages now show the calibrated twin.")
    notes = st.session_state.get("operate_notes", [])
    if notes or result.measured.unmapped:
        with st.expander(f"{len(notes)} note(s), {len(result.measured.unmapped)} unmapped series"):
            st.text("\n".join([*notes, *(f"unmapped: {s}: {w}" for s, w in result.measured.unmapped)]))


def _scorecard(spec, folder: Path) -> None:
    st.subheader("Scorecard")
    plan = st.toggle("Include the scaling path (runs the planner)", value=False, key="operate_plan")
    if st.button("Build the scorecard", key="operate_build"):
        mapping_file = folder / "mapping.yaml"
        with st.spinner("Calibrating, simulating failures" + (", planning" if plan else "") + "…"):
            tm = read_telemetry([folder])
            sc = build_scorecard(spec, spec.name, tm, load_mapping(mapping_file, spec) if mapping_file.exists() else None, plan=plan)
        st.session_state.operate_scorecard = {"html": render_html(sc), "md": render_markdown(sc)}
    report = st.session_state.get("operate_scorecard")
    if report:
        c1, c2 = st.columns(2)
        c1.download_button("Download HTML", report["html"], file_name=f"scorecard-{spec.name}.html", key="operate_download_html")
        c2.download_button("Download Markdown", report["md"], file_name=f"scorecard-{spec.name}.md", key="operate_download_md")
        with st.expander("Scorecard (Markdown)"):
            st.markdown(report["md"])


def page() -> None:
    st.title("Operate")
    spec = state.require_spec()
    if spec is None:
        return
    _load(spec)
    folder = st.session_state.get("operate_dir")
    if folder is None:
        st.info("Generate synthetic telemetry or upload files to calibrate the twin against what the factory measures.")
        return
    st.caption(f"Telemetry: {len(list(Path(folder).iterdir()))} file(s) in {folder}")
    if st.button("Calibrate the twin", key="operate_calibrate", type="primary"):
        _calibrate(spec, Path(folder))
    result = st.session_state.get("operate_result")
    if result is not None:
        _show(spec, result)
        _scorecard(spec, Path(folder))
