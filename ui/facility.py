"""Facility page: pick an example or upload a spec, edit its YAML, see located errors, download."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from twin.yamlio import MAX_FILE_BYTES
from ui import state


def _on_edit() -> None:
    ss = st.session_state
    ss.drafts[ss.current] = ss.editor
    state.persist()


def _on_draft() -> None:
    state.open_draft(st.session_state.draft_pick)


def _show_issues(text: str, issues) -> None:
    st.error(f"{len(issues)} problem(s) — your edits are kept; fix them here:")
    lines = text.splitlines()
    for issue in issues:
        where = f"line {issue.line}, column {issue.col}" if issue.line else "file"
        st.markdown(f"- **{where}** · `{issue.path or '(document)'}` — {issue.message}")
        if issue.line and 0 < issue.line <= len(lines):
            lo = max(issue.line - 2, 0)
            snippet = "\n".join(f"{'>' if i + 1 == issue.line else ' '}{i + 1:4d} | {lines[i]}" for i in range(lo, min(issue.line + 1, len(lines))))
            st.code(snippet, language=None)


def _copy_name(name: str, drafts: dict) -> str:
    """`spec (2).yaml`, `spec (3).yaml`...: the first name not open."""
    stem, dot, ext = name.rpartition(".")
    return next(f"{stem} ({i}){dot}{ext}" for i in range(2, len(drafts) + 3) if f"{stem} ({i}){dot}{ext}" not in drafts)


def _take_upload(upload) -> None:
    """Take an upload (ui.state.take_upload checks it); a spec whose name is open with other text asks first."""
    ss = st.session_state
    handled = ss.setdefault("uploads_handled", set())
    mark = (upload.file_id, upload.name)
    if mark in handled:
        return
    name, blob = Path(upload.name).name, upload.getvalue()
    text = None
    if name in ss.drafts and len(blob) <= MAX_FILE_BYTES:
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None or ss.drafts[name] == text:
        if problem := state.take_upload(upload.name, blob):
            st.error(problem)
            return
        handled.add(mark)
        if text is not None:
            state.open_draft(name)
        return
    copy = _copy_name(name, ss.drafts)
    st.warning(f"A draft named **{name}** is open and differs from the upload. Replace it, or open the upload as **{copy}**?")
    c1, c2, c3 = st.columns(3)
    if c1.button("Replace my draft", key="upload_replace"):
        handled.add(mark)
        state.open_draft(name, text, state.upload_dir(), replace=True)
        st.rerun()
    if c2.button(f"Open as {copy}", key="upload_copy"):
        handled.add(mark)
        state.open_draft(copy, text, state.upload_dir())
        st.rerun()
    if c3.button("Keep my draft", key="upload_keep"):
        handled.add(mark)
        st.rerun()


def page() -> None:
    ss = st.session_state
    st.title("Facility")
    left, right = st.columns([2, 3])
    with left:
        upload = st.file_uploader("Upload a spec, or its weather file (or pick an example in the sidebar)",
                                  type=["yaml", "yml", *state.WEATHER_SUFFIXES], key="upload")
        if upload is not None:
            _take_upload(upload)
        if len(ss.drafts) > 1:
            ss.draft_pick = ss.current  # the picker always names the draft in the editor
            st.selectbox("Open drafts", list(ss.drafts), key="draft_pick", on_change=_on_draft,
                         help="Every spec opened or edited in this browser; edits are kept on the server and survive a reload.")
        spec, issues = state.current_spec()
        if spec is not None:
            gpus = sum(d.racks * (d.systems_per_rack or spec.cat.systems[d.system].systems_per_rack) * spec.cat.systems[d.system].gpus_per_system for d in spec.deployments)
            st.success(f"**{spec.name}** is valid: {len(spec.halls)} halls, {sum(d.racks for d in spec.deployments):,} racks, {gpus:,} GPUs, {spec.site.utility_mw:g} MW interconnect.")
            if spec.description:
                st.caption(spec.description)
        st.download_button("Download this spec", ss.drafts[ss.current], file_name=ss.current, mime="application/x-yaml", key="download")
    with right:
        if "editor" not in ss or ss.get("_editor_for") != ss.current:
            ss.editor = ss.drafts[ss.current]
            ss._editor_for = ss.current
        st.text_area(f"{ss.current}", key="editor", height=560, on_change=_on_edit,
                     help="Edit and press Ctrl+Enter (or click outside) to check; problems are listed below with their line.")
        with st.expander("The draft with line numbers", expanded=bool(issues)):
            st.code(ss.drafts[ss.current], language="yaml", line_numbers=True)
        if issues:
            _show_issues(ss.drafts[ss.current], issues)
