"""The what-if in the address bar: the facility and every moved lever as query parameters.

`?facility=reference-100mw-gb300.yaml&price=90&ups_0=N%2B1` reopens the same what-if after a
reload or in a colleague's browser. Lever parameters are the lever keys without `lever_`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.levers import Lever

FACILITY = "facility"


def _param(lever: Lever) -> str:
    return lever.key.removeprefix("lever_")


def lever_values(levers: list[Lever]) -> tuple[dict[str, Any], list[str]]:
    """The lever values the URL carries, and a sentence per parameter it could not use."""
    values, problems = {}, []
    for lever in levers:
        text = st.query_params.get(_param(lever))
        if text is None:
            continue
        try:
            values[lever.key] = lever.parse(text)
        except ValueError as exc:
            problems.append(f"URL parameter {_param(lever)}: {exc}")
    return values, problems


def write(facility: str, levers: list[Lever], values: dict[str, Any]) -> None:
    """Put the facility and the moved levers in the URL; drop parameters of levers back at the spec's value."""
    wanted = {FACILITY: facility}
    wanted |= {_param(lv): _text(values[lv.key]) for lv in levers if lv.key in values and values[lv.key] != lv.default}
    known = {FACILITY} | {_param(lv) for lv in levers}
    stale = [k for k in st.query_params if k in known and k not in wanted or _looks_like_lever(k) and k not in wanted]
    for k in stale:
        del st.query_params[k]
    for k, v in wanted.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


def facility() -> str | None:
    """The facility the URL names, if any."""
    return st.query_params.get(FACILITY)


def _looks_like_lever(param: str) -> bool:
    """Parameters of another facility's levers (`racks_3` when this one has two deployments)."""
    return param.split("_")[0] in {"price", "climate", "offset", "demand", "profile", "sla", "system", "racks", "ups"}


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
