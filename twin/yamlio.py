"""The one place that reads YAML: strict, YAML 1.2 scalars, and line marks for every field.

PyYAML speaks YAML 1.1, where `no` is False, `1e6` is a string and `10:30` is 630.
Planners should not meet those surprises, so the resolver here follows YAML 1.2's core
schema. The loader also rejects duplicate keys and explicit tags, and bounds the file
size and the size of the document after anchors are expanded (a "billion laughs" file).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from twin.errors import SpecError, SpecIssue

MAX_FILE_BYTES = 5_000_000
MAX_EXPANDED_NODES = 200_000

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _regex, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_regex), list(_first))

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
}


@dataclass
class Document:
    """A parsed YAML document with the line and column of every path in it."""

    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def mark(self, path: Path_) -> tuple[int | None, int | None]:
        """Line and column of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (None, None))

    def issue(self, path: Path_, message: str) -> SpecIssue:
        """A SpecIssue located at `path` of this document."""
        line, col = self.mark(path)
        return SpecIssue(self.file, line, col, dotted(path), message)


def dotted(path: Path_) -> str:
    """`("halls", 0, "positions")` -> `halls[0].positions`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    """Turns a composed node tree into plain Python objects, collecting marks and issues."""

    def __init__(self, file: str, loader: _Loader):
        self.file = file
        self.loader = loader
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.issues: list[SpecIssue] = []
        self.budget = MAX_EXPANDED_NODES

    def _issue(self, node: yaml.Node, path: Path_, message: str) -> None:
        m = node.start_mark
        self.issues.append(SpecIssue(self.file, m.line + 1, m.column + 1, dotted(path), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STANDARD_TAGS:
            self._issue(node, path, f"YAML tag {node.tag!r} is not allowed; write plain values")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self._mapping(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        out: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    value = self.build(src, path)
                    if isinstance(value, dict):
                        merged.update({k: v for k, v in value.items() if k not in merged})
                    else:
                        self._issue(src, path, "a merge key '<<' needs a mapping")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._issue(key_node, path, "mapping keys must be plain scalars")
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, Hashable) or key is None:
                self._issue(key_node, path, "mapping keys must be plain scalars")
                continue
            key = str(key)
            child = (*path, key)
            if key in out:
                first = self.marks.get(child, (None, None))[0]
                self._issue(key_node, child, f"duplicate key {key!r} (first defined on line {first})")
                continue
            self.marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            try:
                out[key] = self.build(value_node, child)
            except _TooLarge as exc:
                exc.node = key_node  # report the outermost key whose value blows the budget
                raise
        for k, v in merged.items():
            out.setdefault(k, v)
        return out


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


def load_yaml(path: str | Path, text: str | None = None) -> Document:
    """Read one YAML document strictly; raise SpecError listing every problem found."""
    file = str(path)
    if text is None:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise SpecError([SpecIssue(file, None, None, "", f"cannot read file: {exc.strerror}")]) from None
        if size > MAX_FILE_BYTES:
            raise SpecError([SpecIssue(file, None, None, "", f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")])
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError([SpecIssue(file, None, None, "", f"not UTF-8 text ({exc.reason})")]) from None
        except OSError as exc:
            raise SpecError([SpecIssue(file, None, None, "", f"cannot read file: {exc.strerror}")]) from None
    elif len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise SpecError([SpecIssue(file, None, None, "", f"document is larger than {MAX_FILE_BYTES:,} bytes")])

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(file, loader)
        data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(s for s in (exc.context, exc.problem) if s)
        raise SpecError([SpecIssue(file, mark.line + 1 if mark else None, mark.column + 1 if mark else None, "", f"YAML syntax error: {msg}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue(file, None, None, "", f"YAML error: {exc}")]) from None
    except _TooLarge as exc:
        m = exc.node.start_mark
        raise SpecError([SpecIssue(file, m.line + 1, m.column + 1, "", f"document expands to more than {MAX_EXPANDED_NODES:,} nodes (anchors and aliases); refusing to load")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(file, None, None, "", "document is nested too deeply")]) from None
    finally:
        loader.dispose()
    if builder.issues:
        raise SpecError(builder.issues)
    return Document(file, data, builder.marks)
