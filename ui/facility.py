"""Facility page: pick an example or upload a spec, edit its YAML, see located errors, download."""

from __future__ import annotations

import streamlit as st

from ui import state


def _on_edit() -> None:
    ss = st.session_state
    ss.drafts[ss.current] = ss.editor


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


def page() -> None:
    ss = st.session_state
    st.title("Facility")
    left, right = st.columns([2, 3])
    with left:
        upload = st.file_uploader("Upload a spec, or its weather file (or pick an example in the sidebar)",
                                  type=["yaml", "yml", *state.WEATHER_SUFFIXES], key="upload")
        if upload is not None:
            problem = state.take_upload(upload.name, upload.getvalue())
            if problem:
                st.error(problem)
        if len(ss.drafts) > 1:
            st.selectbox("Open drafts", list(ss.drafts), index=list(ss.drafts).index(ss.current), key="draft_pick", on_change=_on_draft)
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
        st.text_area(f"{ss.current}", key="editor", height=560, on_change=_on_edit)
        if issues:
            _show_issues(ss.drafts[ss.current], issues)
