"""Turn pydantic's errors into `file:line:col: path: message (did you mean X?)` issues."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from twin.catalog import AVAILABLE_PATTERN
from twin.errors import SpecError, SpecIssue
from twin.units import ID_PATTERN
from twin.yamlio import Document, Path_, dotted

M = TypeVar("M", bound=BaseModel)
# What a string pattern asks for, in words: a regular expression is no message for a person.
PATTERN_MEANING = {
    ID_PATTERN: "an id: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit",
    AVAILABLE_PATTERN: "a year from 2000 to 2099 or a year and quarter, e.g. 2026 or 2026Q3",
}


def suggest(word: str, options: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix when `word` is close to one of `options`."""
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _data_path(data: Any, loc: tuple) -> tuple[Path_, Any]:
    """Follow pydantic's `loc` through the raw data, dropping union tags and validator names.

    Returns the path that exists in the data and the value found at its end (or None).
    """
    path: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and part == loc[-1]:
            path.append(part)  # a missing or extra field: name it
            node = None
    return tuple(path), node


def _options(tp: Any) -> list[Any]:
    """Flatten Annotated and unions into the plain types they allow."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _options(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [o for a in typing.get_args(tp) for o in _options(a)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(tp: Any, part: Any) -> Any:
    """The type found one `loc` element below `tp` (a field, an item, or a union member by tag)."""
    for option in _options(tp):
        if _is_model(option):
            if isinstance(part, str) and part in option.model_fields:
                return option.model_fields[part].annotation
            kind = option.model_fields.get("kind")
            if kind is not None and part in typing.get_args(kind.annotation):
                return option
        elif typing.get_origin(option) is list and isinstance(part, int):
            return typing.get_args(option)[0]
        elif typing.get_origin(option) is dict and isinstance(part, str):
            return typing.get_args(option)[1]
    return None


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed where an unknown key was found, for a 'did you mean'."""
    tp: Any = model
    for part in loc[:-1]:
        tp = _step(tp, part)
    return [f for o in _options(tp) if _is_model(o) for f in o.model_fields]


def issues_from(exc: ValidationError, doc: Document, model: type[BaseModel]) -> list[SpecIssue]:
    """One SpecIssue per pydantic error, located in `doc`."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path, _ = _data_path(doc.data, loc)
        msg = err["msg"]
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"unknown field {str(loc[-1])!r}" + suggest(str(loc[-1]), _fields_at(model, loc))
        elif kind == "missing":
            msg = f"required field {str(loc[-1])!r} is missing"
            path = path if path and path[-1] == loc[-1] else (*path, loc[-1])
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            msg = f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}" + suggest(
                str(ctx.get("tag")), str(ctx.get("expected_tags", "")).replace("'", "").split(", ")
            )
        elif kind == "literal_error":
            ctx = err.get("ctx", {})
            given = err.get("input")
            opts = [o.strip().strip("'\"") for o in str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")]
            msg = f"{given!r} is not allowed; expected {ctx.get('expected')}" + suggest(str(given), opts)
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif kind in ("finite_number",):
            msg = "must be a finite number"
        elif kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") in PATTERN_MEANING:
            msg = f"{err.get('input')!r} is not {PATTERN_MEANING[err['ctx']['pattern']]}"
        line, col = doc.mark(path)
        out.append(SpecIssue(doc.file, line, col, dotted(path), msg))
    return out


# The files a user may hand to the wrong command, by the top-level keys that give each away, and what reads it.
FILE_KINDS = {
    "Spec": ("a facility spec", {"site", "workload"}, "aift validate/evaluate/plan ... SPEC"),
    "GridFile": ("a sweep grid", {"spec", "job"}, "aift sweep GRID"),
    "CalibrationFile": ("a calibration overlay", {"calibration"}, "--calibration FILE"),
    "Mapping": ("a telemetry mapping", {"series"}, "--mapping FILE"),
    "CatalogSections": ("a catalog file", {"systems", "models", "equipment"}, "aift perf --catalog FILE"),
}


def wrong_kind(data: dict, model: type[BaseModel]) -> str | None:
    """A sentence when `data` is plainly another kind of file than `model` reads (a spec given as a grid...), else None."""
    for name, (what, keys, use) in FILE_KINDS.items():
        if name != model.__name__ and keys <= set(data) and not keys <= set(model.model_fields):
            return f"this is {what}, not {FILE_KINDS.get(model.__name__, ('a ' + model.__name__,))[0]}: give it as {use}"
    return None


def validate(doc: Document, model: type[M]) -> M:
    """Validate a whole document against `model`, raising SpecError with every problem."""
    if not isinstance(doc.data, dict):
        raise SpecError([SpecIssue(doc.file, 1, 1, "", "the document must be a mapping of sections (key: value)")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        hint = wrong_kind(doc.data, model)
        raise SpecError([SpecIssue(doc.file, 1, 1, "", hint)] if hint else issues_from(exc, doc, model)) from None
