"""Prometheus HTTP API answers: `query_range` JSON read from a file, or fetched live from a server.

The answer is `{"status": "success", "data": {"resultType": "matrix", "result": [{"metric":
{...}, "values": [[t, "v"], ...]}]}}`. JSON has no useful line numbers, so problems name the
file and the place in the answer (`data.result[3].values[17]`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from twin.telemetry.findings import Findings
from twin.telemetry.metrics import FAMILY_ROLE, family_of
from twin.telemetry.samples import SampleRows

TIMEOUT_S = 30.0


class FetchError(Exception):
    """The server could not be reached or did not answer a query_range: the message says which and why."""


def read_query_range(path: Path, text: str, rows: SampleRows, findings: Findings) -> None:
    """Add the samples of one `query_range` answer to `rows`."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        findings.error(path, exc.lineno, "", f"not JSON: {exc.msg}")
        return
    except RecursionError:
        findings.error(path, None, "", "not a Prometheus API answer: JSON nested deeper than Python's reader follows")
        return
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("status") != "success" or not isinstance(data, dict):
        findings.error(path, None, "status", "not a successful Prometheus API answer (want status: success and data)")
        return
    if data.get("resultType") != "matrix":
        findings.error(path, None, "data.resultType", f"is {data.get('resultType')!r}; a query_range answer is a 'matrix'")
        return
    for i, result in enumerate(data.get("result") or []):
        where = f"data.result[{i}]"
        metric = result.get("metric") if isinstance(result, dict) else None
        if not isinstance(metric, dict) or "__name__" not in metric:
            findings.error(path, None, f"{where}.metric", "needs the metric's __name__ (query the series, not an expression over them)")
            continue
        name = metric["__name__"]
        if not isinstance(name, str):
            findings.error(path, None, f"{where}.metric.__name__", f"a metric name is text; got {name!r}")
            continue
        family = family_of(name)
        role = FAMILY_ROLE.get(family)
        if role is None:
            findings.note(path, None, where, f"unknown metric {name}, ignored", key=("unknown", str(path), family))
            continue
        handle = rows.series(family, role, name, {k: str(v) for k, v in metric.items() if k != "__name__"})
        for j, pair in enumerate(result.get("values") or []):
            try:
                t, v = float(pair[0]), float(pair[1])
            except (TypeError, ValueError, IndexError):
                findings.error(path, None, f"{where}.values[{j}]", f"want [unix_time, \"value\"], got {pair!r}")
                continue
            rows.append(handle, path, None, v, t)


def fetch_query_range(url: str, query: str, start: float, end: float, step_s: float, timeout_s: float = TIMEOUT_S) -> str:
    """The raw JSON of `GET {url}/api/v1/query_range`; FetchError names the server and the reason."""
    params = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step_s})
    full = f"{url.rstrip('/')}/api/v1/query_range?{params}"
    if urllib.parse.urlparse(full).scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http:// and https:// Prometheus servers can be queried")
    from twin.telemetry.read import MAX_FILE_BYTES  # the reader's limit: an answer no command would read is not saved

    try:
        with urllib.request.urlopen(full, timeout=timeout_s) as r:  # noqa: S310 - scheme checked above
            body = r.read(MAX_FILE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")[:300]
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}: {body}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(f"{url}: cannot reach the Prometheus server ({getattr(exc, 'reason', exc)}; timeout {timeout_s:g} s)") from None
    if len(body) > MAX_FILE_BYTES:
        raise FetchError(f"{url}: the answer is over {MAX_FILE_BYTES >> 20} MB; ask for a shorter range or a coarser --step-s")
    try:
        return body.decode()
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url}: the answer is not UTF-8 text (byte {exc.start}): not a Prometheus server?") from None
