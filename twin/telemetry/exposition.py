"""Prometheus text exposition and OpenMetrics files: successive scrapes, each sample with its timestamp.

A file is one scrape, or successive scrapes concatenated; samples carry timestamps
(milliseconds in the Prometheus text format, seconds in OpenMetrics, recognised by the
`# EOF` it ends with). The metric name and labels of each distinct series are parsed once by
`prometheus_client`'s parser (escapes, quoting and name rules are its business); the
value and timestamp of every line are plain numbers. Parsing each line whole would cost
the parser's label scan on every sample of every scrape, some 200 us each.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families as parse_text

from twin.telemetry.findings import Findings
from twin.telemetry.metrics import FAMILY_ROLE, ROLES, family_of
from twin.telemetry.samples import SampleRows

_TYPE = re.compile(r"^#\s*TYPE\s+(\S+)\s+(\S+)")
_VALUES = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}


def _split(line: str) -> tuple[str, list[str]]:
    """`name{labels} value [timestamp]` -> (`name{labels}`, [value, timestamp])."""
    brace = line.rfind("}")
    if brace >= 0:
        return line[: brace + 1], line[brace + 1 :].split()
    parts = line.split()
    return parts[0], parts[1:]


def _number(text: str) -> float:
    return _VALUES[text.lower()] if text.lower() in _VALUES else float(text)


def _series(key: str) -> tuple[str, dict[str, str]]:
    """Name and labels of `name{labels}`, by prometheus_client's parser; ValueError when it rejects them."""
    samples = [s for f in parse_text(key + " 0\n") for s in f.samples]
    if len(samples) != 1:
        raise ValueError("not one sample")
    return samples[0].name, dict(samples[0].labels)


def read_exposition(path: Path, text: str, rows: SampleRows, findings: Findings) -> None:
    """Add every sample of one exposition file to `rows`; parse problems go to `findings`."""
    scale = 1.0 if text.rstrip().endswith("# EOF") else 1e-3  # OpenMetrics (ends with # EOF) stamps in seconds, Prometheus text in ms
    kinds: dict[str, str] = {}
    parsed: dict[str, tuple[str, dict[str, str]] | None] = {}
    unstamped: list[int] = []
    stamped = 0
    pending = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if m := _TYPE.match(line):
                kinds.setdefault(m.group(1), m.group(2))
            continue
        key, rest = _split(line)
        if key not in parsed:
            try:
                parsed[key] = _series(key)
            except (ValueError, TypeError, IndexError) as exc:
                parsed[key] = None
                findings.error(path, n, "", f"not a Prometheus sample ({exc}): {line[:120]!r}")
        if parsed[key] is None:
            continue
        try:
            if not 1 <= len(rest) <= 2:
                raise ValueError(f"want a value and an optional timestamp after the series, got {len(rest)} field(s)")
            value = _number(rest[0])
            t = float(rest[1]) * scale if len(rest) == 2 else None
        except ValueError as exc:
            findings.error(path, n, key, f"{exc}: {line[:120]!r}")
            continue
        if t is None:
            unstamped.append(n)
        else:
            stamped += 1
        pending.append((n, key, value, t))
    if stamped and unstamped:
        findings.error(path, unstamped[0], "", f"{len(unstamped)} sample(s) without a timestamp in a file of timestamped scrapes")
        return
    when = path.stat().st_mtime if unstamped else None
    if unstamped:
        findings.note(path, None, "", "no sample carries a timestamp: the file is taken as one scrape at its modification time")
    handles: dict[str, tuple | None] = {}
    for n, key, value, t in pending:
        if key not in handles:
            handles[key] = _handle(path, n, *parsed[key], kinds, rows, findings)
        if handles[key] is not None:
            rows.append(handles[key], path, n, value, when if t is None else t)


def _handle(path: Path, n: int, name: str, labels: dict[str, str], kinds: dict[str, str], rows: SampleRows, findings: Findings) -> tuple | None:
    """The sample handle of one series, or None (noted or reported) when its metric is unknown or mistyped."""
    family = family_of(name)
    role = FAMILY_ROLE.get(family)
    if role is None:
        findings.note(path, n, name, "unknown metric, ignored", key=("unknown", str(path), family))
        return None
    declared = kinds.get(family, kinds.get(name))
    expected = ROLES[role].kind
    if declared not in (None, expected, "untyped", "unknown") and not (declared == "gauge" and expected == "counter"):
        findings.error(path, n, name, f"declared {declared}, but {family} is a {expected}")
        return None
    return rows.series(family, role, name, labels)
