"""The app's session state, under documented keys, and the spec the pages share.

Keys in `st.session_state`:
- `drafts`: {name: YAML text} — every spec the user opened or edited, never dropped.
- `current`: name of the draft shown in the editor.
- `editor`: the editor widget's text (mirrors `drafts[current]`).
- `baseline`: {"for", "name", "kpis"} — set when a plan is loaded: the facility it replaced, which
  the What-if cards compare the plan (draft `for`) against.
- `folders`: {name: folder} — the folder each draft lives in; the files it names must be
  inside it (twin/spec_files.py): `facility_specs/` for the examples, the spec's own folder
  for the one named on the command line, this session's upload folder for uploads.
- `upload_dir`: this session's upload folder (created on the first upload).
- `lever_*`, `lever_spec`, `lever_values`: the What-if levers, the spec hash they were reset for,
  and their values kept while another page is shown (ui.whatif).
- `draft_token`: this browser's key to its drafts on the server (ui.draft_store).

Saved scenarios go to the results store (the runs folder, `$AIFT_RUNS` or `./runs`),
where `aift runs` sees them too; so do the drafts, under `drafts/`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import streamlit as st

from twin.errors import SpecError, SpecIssue
from twin.loader import load_spec_text
from twin.spec import Spec
from twin.yamlio import MAX_FILE_BYTES
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
        path = initial_spec_path()
        saved = draft_store.load(runs_dir(), tok)
        if saved is not None:
            ss.drafts, ss.current = saved
        else:
            ss.drafts = {path.name: path.read_text(encoding="utf-8")}
            ss.current = path.name
        # a restored draft reads files from where its name says it came from, never from a path the store holds
        ss.folders = {n: EXAMPLES[n].resolve().parent if n in EXAMPLES else path.resolve().parent if n == path.name else upload_dir()
                      for n in ss.drafts}
        wanted = url_state.facility()
        if wanted and wanted != ss.current and (wanted in ss.drafts or wanted in EXAMPLES):
            example = EXAMPLES.get(wanted)
            open_draft(wanted, None if wanted in ss.drafts else example.read_text(encoding="utf-8"), example.resolve().parent if example else None)


def persist() -> None:
    """Keep this browser's drafts on the server (after every change)."""
    ss = st.session_state
    draft_store.save(runs_dir(), ss.draft_token, ss.drafts, ss.current)


def _on_example() -> None:
    name = st.session_state.example
    open_draft(name, EXAMPLES[name].read_text(encoding="utf-8"), EXAMPLES[name].resolve().parent)


def upload_dir() -> Path:
    """This session's upload folder: the only folder an uploaded spec may read files from."""
    ss = st.session_state
    if "upload_dir" not in ss:
        ss.upload_dir = Path(tempfile.mkdtemp(prefix="aift-upload-"))
    return ss.upload_dir


WEATHER_SUFFIXES = ("csv", "epw")
MAX_UPLOADED_FILES = 16  # weather files per session; each under the upload limit (5 MB)


def take_upload(name: str, blob: bytes) -> str | None:
    """Open an uploaded spec as a draft, or keep an uploaded weather file in this session's folder.

    Returns what is wrong with the upload, or None. Only the file's base name is used, so an
    upload lands in the session's folder and nowhere else.
    """
    ss = st.session_state
    name = Path(name).name
    if not name or name.startswith("."):
        return f"{name!r} is not a file name to keep."
    if len(blob) > MAX_FILE_BYTES:
        return f"{name} is {len(blob):,} bytes; the limit is {MAX_FILE_BYTES:,}."
    if name.lower().endswith(tuple(f".{s}" for s in WEATHER_SUFFIXES)):
        target = upload_dir() / name
        if target.is_file() and target.stat().st_size == len(blob):
            return None
        if not target.exists() and len(list(upload_dir().iterdir())) >= MAX_UPLOADED_FILES:
            return f"this session already keeps {MAX_UPLOADED_FILES} uploaded files; reuse one of their names."
        target.write_bytes(blob)
        st.cache_data.clear()  # results computed before this file existed (or with its old content) are stale
        return None
    if name in ss.drafts:
        return None
    try:
        open_draft(name, blob.decode("utf-8"), upload_dir())
    except UnicodeDecodeError:
        return f"{name} is not UTF-8 text."
    return None


def draft_folder(name: str) -> Path:
    """The folder draft `name` lives in (its file references resolve inside it)."""
    return st.session_state.folders.get(name) or upload_dir()


def example_picker() -> None:
    """The sidebar's facility picker, on every page."""
    st.sidebar.selectbox("Facility", list(EXAMPLES), index=None, key="example", on_change=_on_example,
                         placeholder=f"showing {st.session_state.current}")


def open_draft(name: str, text: str | None = None, folder: Path | None = None, replace: bool = False) -> None:
    """Show draft `name` in the editor; `text` creates it (an upload, in `folder` or the upload folder, or an example),
    or replaces it when `replace`."""
    ss = st.session_state
    if text is not None and (replace or name not in ss.drafts):
        ss.drafts[name] = text
        ss.folders[name] = folder or upload_dir()
    ss.current = name
    ss.editor = ss.drafts[name]
    ss._editor_for = name
    persist()


@st.cache_data(show_spinner=False, max_entries=32)
def _parse(text: str, name: str, folder: str) -> tuple[Spec | None, list[SpecIssue]]:
    try:
        return load_spec_text(text, name, folder=Path(folder)), []
    except SpecError as exc:
        return None, exc.issues


def current_spec() -> tuple[Spec | None, list[SpecIssue]]:
    """The current draft parsed in its folder: (spec, []) when valid, (None, issues) when not."""
    ss = st.session_state
    return _parse(ss.drafts[ss.current], ss.current, str(draft_folder(ss.current)))


def require_spec() -> Spec | None:
    """The valid current spec, or an error box pointing to the Facility page."""
    spec, issues = current_spec()
    if spec is None:
        st.error(f"The spec '{st.session_state.current}' has {len(issues)} problem(s); fix them on the Facility page.")
    return spec
