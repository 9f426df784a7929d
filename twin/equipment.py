"""Physics of one group of identical units: usable capacity under redundancy, and losses.

Vectorized over loads (numpy arrays or floats), so the analytic year and the static
analysis call the same curves. Loss forms follow the engineering reference:
transformers and PDUs `p0 + pk·x²`, UPS modules `a + b·x + c·x²` (Schneider WP 108),
busways `pk·x²`, where `x` is the load per active unit over its rating.
"""

from __future__ import annotations

import numpy as np

from twin.catalog import Cdu, Chiller, Crah, Distribution, Generator, Switch, Transceiver, Transformer, UpsModule

POWER_FACTOR = 0.99  # facility power factor, to size kVA-rated gear (engineering reference 1.4)


def unit_capacity_kw(eq) -> float:
    """Rated real power (or heat) one unit carries, kW."""
    if isinstance(eq, Transformer):
        return eq.capacity_kva * POWER_FACTOR
    if isinstance(eq, (UpsModule, Distribution, Generator, Chiller, Cdu, Crah)):
        return eq.capacity_kw
    raise TypeError(f"{type(eq).__name__} has no capacity in kW")


def usable_units(units: int, redundancy: str) -> int:
    """Units whose capacity may be counted: N -> all, N+1 -> k-1, N+2 -> k-2, 2N -> half."""
    if redundancy == "2N":
        return units // 2
    return units - {"N": 0, "N+1": 1, "N+2": 2}[redundancy]


def usable_capacity_kw(eq, units: int, redundancy: str) -> float:
    """Capacity the group may carry while still surviving the failures its scheme allows."""
    return unit_capacity_kw(eq) * usable_units(units, redundancy)


def loss_kw(eq, load_kw, units: int):
    """Losses of a group sharing `load_kw` equally over all `units` installed units, kW.

    All installed units carry load (modules share the bus), so part-load losses
    include the no-load losses of the redundant units: the cost of redundancy.
    """
    load = np.asarray(load_kw, dtype=float)
    rating = unit_capacity_kw(eq) * units
    x = load / rating
    if isinstance(eq, Transformer) or (isinstance(eq, Distribution) and eq.no_load_loss_frac > 0):
        frac = eq.no_load_loss_frac + eq.load_loss_frac * x**2
    elif isinstance(eq, Distribution):
        frac = eq.load_loss_frac * x**2
    elif isinstance(eq, UpsModule):
        frac = eq.loss_a + eq.loss_b * x + eq.loss_c * x**2
    else:
        raise TypeError(f"{type(eq).__name__} is not a power-conversion stage")
    out = frac * rating
    return out if out.ndim else float(out)


def input_kw(eq, output_kw, units: int):
    """Power drawn at the input of a stage delivering `output_kw` (output plus losses)."""
    return np.asarray(output_kw, dtype=float) + loss_kw(eq, output_kw, units)


def efficiency(eq, load_kw, units: int):
    """Output over input at this load; 0 where there is no load."""
    load = np.asarray(load_kw, dtype=float)
    inp = input_kw(eq, load, units)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where(inp > 0, load / inp, 0.0)
    return eff if eff.ndim else float(eff)


def network_unit_power_kw(eq) -> float:
    """Power of one switch (without optics) or one transceiver, kW."""
    if isinstance(eq, Switch):
        return eq.power_kw
    if isinstance(eq, Transceiver):
        return eq.power_w / 1000.0
    raise TypeError(f"{type(eq).__name__} is not network equipment")
