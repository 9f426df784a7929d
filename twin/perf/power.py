"""System IT power at an operating point, and tokens per joule of the system alone.

Power follows DESIGN.md's linear rack model `P_idle + (P_max - P_idle) * u`, with `u` the
share of time the GPUs' binding resource (HBM or tensor cores) is busy: the fixed
per-layer latencies and collective waits of a decode step draw little above idle.
"""

from __future__ import annotations

from twin.catalog import SystemEntry


def system_power_kw(system: SystemEntry, utilization: float) -> float:
    """IT power of one catalog system (server or NVL72 rack) with its GPUs busy `utilization` of the time."""
    u = min(max(utilization, 0.0), 1.0)
    return system.idle_kw + (system.max_kw - system.idle_kw) * u


def tokens_per_joule(system: SystemEntry, tokens_per_s_per_gpu: float, power_kw: float) -> float:
    """Output tokens per joule of system IT power."""
    return tokens_per_s_per_gpu * system.gpus_per_system / (power_kw * 1e3)
