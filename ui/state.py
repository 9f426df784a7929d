"""The app's session state, under documented keys, and the spec the pages share.

Keys in `st.session_state`:
- `drafts`: {name: YAML text} — every spec the user opened or edited, never dropped.
- `current`: name of the draft shown in the editor.
- `editor`: the editor widget's text (mirrors `drafts[current]`).
- `baseline`: {"for", "name", "kpis"} — set when a plan is loaded: the facility it replaced, which
  the What-if cards compare the plan (draft `for`) against.
- `lever_*`, `lever_spec`: the What-if levers and the spec hash they were reset for (ui.whatif).
- `draft_token`: this browser's key to its drafts on the server (ui.draft_store).

Saved scenarios go to the results store (the runs folder, `$AIFT_RUNS` or `./runs`),
where `aift runs` sees them too; so do the drafts, under `drafts/`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

from twin.errors import SpecError, SpecIssue
from twin.loader import load_spec_text
from twin.spec import Spec
from ui import draft_store, url_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {p.name: p for p in sorted((ROOT / "facility_specs").glob("*.yaml"))}
DEFAULT = "reference-100mw-gb300.yaml"


def runs_dir() -> Path:
    """The results store the app saves to and compares from."""
    return Path(os.environ.get("AIFT_RUNS", "runs"))


def initial_spec_path() -> Path:
    """The spec named after `--` on the command line (`streamlit run app.py -- SPEC`), or the reference."""
    args = [a for a in sys.argv[1:] if a.endswith((".yaml", ".yml"))]
    return Path(args[0]) if args else EXAMPLES[DEFAULT]


def init() -> None:
    """Fill missing keys once per session: the drafts this browser had (after a reload), else the spec the URL or command line names."""
    ss = st.session_state
    tok = draft_store.token()
    if "drafts" not in ss:
        saved = draft_store.load(runs_dir(), tok)
        if saved is not None:
            ss.drafts, ss.current = saved
        else:
            path = initial_spec_path()
            ss.drafts = {path.name: path.read_text(encoding="utf-8")}
            ss.current = path.name
        wanted = url_state.facility()
        if wanted and wanted != ss.current and (wanted in ss.drafts or wanted in EXAMPLES):
            open_draft(wanted, None if wanted in ss.drafts else EXAMPLES[wanted].read_text(encoding="utf-8"))


def persist() -> None:
    """Keep this browser's drafts on the server (after every change)."""
    ss = st.session_state
    draft_store.save(runs_dir(), ss.draft_token, ss.drafts, ss.current)


def _on_example() -> None:
    name = st.session_state.example
    open_draft(name, EXAMPLES[name].read_text(encoding="utf-8"))


def example_picker() -> None:
    """The sidebar's facility picker, on every page."""
    st.sidebar.selectbox("Facility", list(EXAMPLES), index=None, key="example", on_change=_on_example,
                         placeholder=f"showing {st.session_state.current}")


def open_draft(name: str, text: str | None = None, replace: bool = False) -> None:
    """Show draft `name` in the editor; `text` creates it (an example, an upload), or replaces it when `replace`."""
    ss = st.session_state
    if text is not None and (replace or name not in ss.drafts):
        ss.drafts[name] = text
    ss.current = name
    ss.editor = ss.drafts[name]
    ss._editor_for = name
    persist()


@st.cache_data(show_spinner=False, max_entries=32)
def _parse(text: str, name: str) -> tuple[Spec | None, list[SpecIssue]]:
    try:
        return load_spec_text(text, name), []
    except SpecError as exc:
        return None, exc.issues


def current_spec() -> tuple[Spec | None, list[SpecIssue]]:
    """The current draft parsed: (spec, []) when valid, (None, issues) when not."""
    ss = st.session_state
    return _parse(ss.drafts[ss.current], ss.current)


def require_spec() -> Spec | None:
    """The valid current spec, or an error box pointing to the Facility page."""
    spec, issues = current_spec()
    if spec is None:
        st.error(f"The spec '{st.session_state.current}' has {len(issues)} problem(s); fix them on the Facility page.")
    return spec
