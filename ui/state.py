"""The app's session state, under documented keys, and the spec the pages share.

Keys in `st.session_state`:
- `drafts`: {name: YAML text} — every spec the user opened or edited, never dropped.
- `current`: name of the draft shown in the editor.
- `editor`: the editor widget's text (mirrors `drafts[current]`).
- `baseline`: {"name", "kpis"} — the result the what-if page compares against.

Saved scenarios go to the results store (the runs folder, `$AIFT_RUNS` or `./runs`),
where `aift runs` sees them too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

from twin.errors import SpecError, SpecIssue
from twin.loader import load_spec_text
from twin.spec import Spec

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
    """Fill missing keys once per session."""
    ss = st.session_state
    if "drafts" not in ss:
        path = initial_spec_path()
        ss.drafts = {path.name: path.read_text(encoding="utf-8")}
        ss.current = path.name


def _on_example() -> None:
    name = st.session_state.example
    open_draft(name, EXAMPLES[name].read_text(encoding="utf-8"))


def example_picker() -> None:
    """The sidebar's facility picker, on every page."""
    st.sidebar.selectbox("Facility", list(EXAMPLES), index=None, key="example", on_change=_on_example,
                         placeholder=f"showing {st.session_state.current}")


def open_draft(name: str, text: str | None = None) -> None:
    """Show draft `name` in the editor; `text` creates or replaces it (an upload or an example)."""
    ss = st.session_state
    if text is not None and name not in ss.drafts:
        ss.drafts[name] = text
    ss.current = name
    ss.editor = ss.drafts[name]
    ss._editor_for = name


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
