"""The one place that reads YAML: strict, YAML 1.2 scalars, and line marks for every field.

PyYAML speaks YAML 1.1, where `no` is False, `1e6` is a string and `10:30` is 630.
Planners should not meet those surprises, so the resolver here follows YAML 1.2's core
schema. The loader also rejects duplicate keys and explicit tags, and bounds the file
size and the size of the document after anchors are expanded (a "billion laughs" file).
"""

from __future__ import annotations

import re
import stat
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
# The node kind each standard tag may sit on: `!!map [a]` or `!!int abc` is a mistake, not data.
_SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null")}
_TAG_KIND = {"tag:yaml.org,2002:map": yaml.MappingNode, "tag:yaml.org,2002:seq": yaml.SequenceNode}
_MAX_DIGITS = 4000  # below Python's int <-> str conversion limit (4300 digits)


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

    def scalar(self, node: yaml.Node, path: Path_) -> Any:
        """The value of a scalar node, or None with an issue when its tag cannot read it."""
        kind = node.tag.rsplit(":", 1)[-1]
        if node.tag not in _SCALAR_TAGS or not isinstance(node, yaml.ScalarNode):
            self._issue(node, path, f"YAML tag '!!{kind}' does not fit a {_node_kind(node)}; write plain values")
            return None
        if kind == "int" and len(node.value) > _MAX_DIGITS:
            self._issue(node, path, f"a number of {len(node.value):,} digits is too long")
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, KeyError, TypeError, OverflowError):
            self._issue(node, path, f"{node.value[:40]!r} is not a valid {kind} (YAML tag '!!{kind}')")
            return None

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STANDARD_TAGS:
            self._issue(node, path, f"YAML tag {node.tag!r} is not allowed; write plain values")
            return None
        if node.tag in _TAG_KIND and not isinstance(node, _TAG_KIND[node.tag]):
            self._issue(node, path, f"YAML tag '!!{node.tag.rsplit(':', 1)[-1]}' does not fit a {_node_kind(node)}; write plain values")
            return None
        if isinstance(node, yaml.ScalarNode) or node.tag in _SCALAR_TAGS:
            return self.scalar(node, path)
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
            n_issues = len(self.issues)
            key = self.scalar(key_node, path)
            if len(self.issues) > n_issues:
                continue
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


def _node_kind(node: yaml.Node) -> str:
    return {yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}.get(type(node), "plain value")


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset of `text`."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


def read_text_file(path: str | Path, limit: int = MAX_FILE_BYTES, what: str = "file", strict: bool = True) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes; SpecError naming the file otherwise.

    A directory, a pipe or a device (`/dev/zero`) is refused before reading, and the read is
    bounded, so no input can block or exhaust memory. `what` names the file in messages;
    without `strict`, bytes that are not UTF-8 become U+FFFD.
    """
    file = str(path)

    def fail(message: str) -> SpecError:
        return SpecError([SpecIssue(file, None, None, "", message)])

    try:
        st = Path(path).stat()
    except OSError as exc:
        raise fail(f"cannot read {what}: {exc.strerror}") from None
    except ValueError as exc:  # a NUL byte in the name
        raise fail(f"cannot read {what}: {exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise fail(f"cannot read {what}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise fail(f"cannot read {what}: not a regular file (a pipe, socket or device)")
    if st.st_size > limit:
        raise fail(f"file is {st.st_size:,} bytes; the limit is {limit:,}")
    try:
        with open(path, "rb") as f:
            blob = f.read(limit + 1)
    except OSError as exc:
        raise fail(f"cannot read {what}: {exc.strerror}") from None
    if len(blob) > limit:
        raise fail(f"file is more than {limit:,} bytes; the limit is {limit:,}")
    try:
        return blob.decode("utf-8", "strict" if strict else "replace")
    except UnicodeDecodeError as exc:
        line = blob.count(b"\n", 0, exc.start) + 1
        raise SpecError([SpecIssue(file, line, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start:,})")]) from None


def load_yaml(path: str | Path, text: str | None = None) -> Document:
    """Read one YAML document strictly; raise SpecError listing every problem found."""
    file = str(path)
    if text is None:
        text = read_text_file(path)
    elif len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise SpecError([SpecIssue(file, None, None, "", f"document is larger than {MAX_FILE_BYTES:,} bytes")])

    loader = None
    try:
        loader = _Loader(text)  # the reader rejects control characters here, before any parsing
        node = loader.get_single_node()
        builder = _Builder(file, loader)
        data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(s for s in (exc.context, exc.problem) if s)
        raise SpecError([SpecIssue(file, mark.line + 1 if mark else None, mark.column + 1 if mark else None, "", f"YAML syntax error: {msg}")]) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise SpecError([SpecIssue(file, line, col, "", f"character U+{char:04X} is not allowed in YAML (control characters and NUL)")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([SpecIssue(file, None, None, "", f"YAML error: {exc}")]) from None
    except _TooLarge as exc:
        m = exc.node.start_mark
        raise SpecError([SpecIssue(file, m.line + 1, m.column + 1, "", f"document expands to more than {MAX_EXPANDED_NODES:,} nodes (anchors and aliases); refusing to load")]) from None
    except RecursionError:
        raise SpecError([SpecIssue(file, None, None, "", "document is nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.issues:
        raise SpecError(builder.issues)
    return Document(file, data, builder.marks)
