"""Generate the field-by-field reference of the facility spec from the pydantic models.

The models are the one source of truth: each field's type, unit, default and
docstring appear in `docs/spec-reference.md`, which a test keeps current.
Regenerate with `python -m twin.docs > docs/spec-reference.md`.
"""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from twin.spec import Spec


def _models_in(tp) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for a in typing.get_args(tp) for m in _models_in(a)]


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        k, v = typing.get_args(tp)
        return f"map {_type_name(k)} -> {_type_name(v)}"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _unit(field) -> str:
    extra = field.json_schema_extra
    return extra.get("unit", "") if isinstance(extra, dict) else ""


def spec_reference_markdown() -> str:
    """Markdown tables, one per model reachable from Spec, in breadth-first order."""
    out = ["# Facility spec reference", "", "Generated from `twin/spec.py` and `twin/catalog.py` by `python -m twin.docs`.",
           "Numbers are in the unit of the field's name; fields with a unit also accept quantity strings such as `\"1.2 MW\"`.", ""]
    queue, seen = [Spec], set()
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        out += [f"## {model.__name__}", "", (model.__doc__ or "").strip().split("\n\n")[0], "",
                "| field | type | unit | default | meaning |", "|---|---|---|---|---|"]
        for name, f in model.model_fields.items():
            default = "required" if f.is_required() else ("(computed)" if f.default is PydanticUndefined else repr(f.default))
            if f.default_factory is not None:
                default = "(defaults)"
            out.append(f"| `{name}` | {_type_name(f.annotation)} | {_unit(f)} | {default} | {f.description or ''} |")
            queue += [m for m in _models_in(f.annotation) if m not in seen]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(spec_reference_markdown(), end="")
