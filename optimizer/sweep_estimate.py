"""What a sweep will cost, from one scenario run here: CPU time and disk for its series.

A grid's size grows as the product of its lists, so a few innocent lines can describe
10^12 scenarios; the sweep command counts them first and states this estimate before it
refuses (or starts) a large one.
"""

from __future__ import annotations

import time

from twin.spec import Spec


def probe(spec: Spec, job: str, seed: int) -> tuple[float, int]:
    """Seconds and series bytes of the job on the base spec (a failing job: its time, no bytes)."""
    from optimizer.jobs import get_job
    from optimizer.store import encode_series

    t0 = time.perf_counter()
    try:
        result = get_job(job)(spec, seed)
    except Exception:  # noqa: BLE001 - the estimate only needs the time; the sweep will report the error
        return time.perf_counter() - t0, 0
    seconds = time.perf_counter() - t0
    return seconds, len(encode_series(result.series)) if result.series else 0


def estimate(spec: Spec, job: str, seed: int, scenarios: int) -> str:
    """'about 5.5 CPU-hours and 450 GB of series' for `scenarios` runs like the base spec's."""
    seconds, size = probe(spec, job, seed)
    return (f"about {_duration(seconds * scenarios)} of CPU time and {_bytes(size * scenarios)} of series, "
            f"from one {job} run here ({seconds:.3g} s, {_bytes(size)})")


def _duration(s: float) -> str:
    for unit, width in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= 2 * width:
            return f"{s / width:,.3g} {unit}"
    return f"{s:.3g} s"


def _bytes(n: float) -> str:
    for unit, width in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= width:
            return f"{n / width:,.3g} {unit}"
    return f"{n:.0f} bytes"
