"""What-if overrides: change fields of a spec by dotted path without editing its file.

Paths name fields as in error messages: `site.tariff.price_usd_per_mwh`,
`halls[0].positions`, and list items may also be picked by id: `halls[hall-2].positions`,
`deployments[1].racks`. The result is validated like a file, so an override that breaks
the spec fails with a message naming the override.
"""

from __future__ import annotations

import re
from typing import Any

from twin.errors import SpecError, SpecIssue
from twin.loader import parse_spec
from twin.spec import Spec
from twin.yamlio import Document

_PART = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def split_path(path: str) -> list[str | int]:
    """`halls[0].positions` -> ['halls', 0, 'positions']; ids in brackets stay strings."""
    parts: list[str | int] = []
    for name, index in _PART.findall(path):
        if name:
            parts.append(name)
        else:
            parts.append(int(index) if index.lstrip("-").isdigit() else f"#{index}")
    if not parts:
        raise ValueError(f"empty override path {path!r}")
    return parts


def _step(node: Any, part: str | int, path: str) -> Any:
    if isinstance(part, str) and part.startswith("#"):
        ident = part[1:]
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, dict) and item.get("id", item.get("model")) == ident:
                    return i
        raise KeyError(f"{path}: no item with id {ident!r}")
    if isinstance(part, int):
        if not isinstance(node, list) or not -len(node) <= part < len(node):
            raise KeyError(f"{path}: index {part} is out of range")
        return part
    if not isinstance(node, dict):
        raise KeyError(f"{path}: {part!r} is not a field here")
    return part


def leads_to(field: str, path: str) -> bool:
    """Whether the spec field `field` (as errors name it, items by index) is the override `path` or on its way.

    An item the path picks by id matches any index: errors cannot say which id an index is.
    """
    f, p = split_path(field), split_path(path)
    return len(f) <= len(p) and all(a == b or (isinstance(a, int) and str(b).startswith("#")) for a, b in zip(f, p, strict=False))


def set_path(data: dict, path: str, value: Any) -> None:
    """Set `value` at a dotted `path` of plain data, creating mappings on the way."""
    parts = split_path(path)
    node: Any = data
    for i, part in enumerate(parts):
        key = _step(node, part, path)
        if i == len(parts) - 1:
            node[key] = value
        else:
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]


def apply_overrides(spec: Spec, overrides: dict[str, Any]) -> Spec:
    """A new Spec with every override applied; SpecError names the override that broke it."""
    if not overrides:
        return spec
    data = spec.model_dump(mode="python", exclude_unset=True, by_alias=True)
    issues = []
    for path, value in overrides.items():
        try:
            set_path(data, path, value)
        except (KeyError, ValueError) as exc:
            issues.append(SpecIssue("<overrides>", None, None, path, str(exc.args[0])))
    if issues:
        raise SpecError(issues)
    name = f"{spec.path or spec.name} (with overrides: {', '.join(overrides)})"
    new = parse_spec(Document(name, data), spec._base_catalog)
    new._path, new._files_root = spec.path, spec.files_root
    return new
