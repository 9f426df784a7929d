"""Drafts kept on the server per browser, so edits survive a reload.

A browser's drafts live in `<runs>/drafts/<token>.json` (the runs folder is `$AIFT_RUNS` or `./runs`);
the random token rides in the URL (`?session=...`), so a reload or a bookmark finds them again and
another browser does not. A token is 22 URL-safe characters; anything else in the URL is ignored.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path

import streamlit as st

PARAM = "session"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def token() -> str:
    """This browser's token: the URL's when valid, else a new one written to the URL."""
    ss = st.session_state
    if "draft_token" not in ss:
        given = st.query_params.get(PARAM, "")
        ss.draft_token = given if _TOKEN.fullmatch(given) else secrets.token_urlsafe(16)
    if st.query_params.get(PARAM) != ss.draft_token:
        st.query_params[PARAM] = ss.draft_token
    return ss.draft_token


def _file(root: Path, tok: str) -> Path:
    return root / "drafts" / f"{tok}.json"


def load(root: Path, tok: str) -> tuple[dict[str, str], str] | None:
    """The drafts and the open draft's name saved under `tok`, or None."""
    try:
        data = json.loads(_file(root, tok).read_text(encoding="utf-8"))
        drafts, current = data["drafts"], data["current"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(drafts, dict) or current not in drafts or not all(isinstance(v, str) for v in drafts.values()):
        return None
    return drafts, current


def save(root: Path, tok: str, drafts: dict[str, str], current: str) -> None:
    """Write the drafts atomically (a crash leaves the previous file, never half of one)."""
    path = _file(root, tok)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"drafts": drafts, "current": current}, f)
    os.replace(tmp, path)
