"""Shared field types: ids, fractions and quantities that accept `"1.2 MW"` as well as numbers.

A numeric field carries its unit in its name (`capacity_kw`); a bare number is in that
unit. Where a unit is natural a planner may also write a quantity string, which pint
converts to the field's unit. pint is loaded only when such a string appears.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=64),
    Field(description="Identifier: lower-case letters, digits, '.', '_' and '-'."),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_COUNT = 10_000_000  # no count of a facility (units, racks, positions) comes near it
PosInt = Annotated[int, Field(gt=0, le=MAX_COUNT)]
NonNegInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Tokens = Annotated[int, Field(gt=0, le=1_000_000_000)]  # sequence lengths: contexts already pass ten million tokens


@cache
def _registry():
    import pint

    ureg = pint.UnitRegistry()
    ureg.define("tok = [token] = token")
    return ureg


# Quantity strings of power in a power field (`100 MW`) are read without pint, whose registry
# costs most of a second to build; anything else goes to pint.
_POWER_W = {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9}
_SIMPLE = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*")


def _simple_power(text: str, unit: str) -> float | None:
    m = _SIMPLE.fullmatch(text)
    if m is None or m.group(2) not in _POWER_W or unit not in _POWER_W:
        return None
    return float(m.group(1)) * _POWER_W[m.group(2)] / _POWER_W[unit]


def to_unit(value: Any, unit: str) -> Any:
    """Convert a quantity string such as `"1.2 MW"` to a magnitude in `unit`.

    Numbers pass through unchanged (they are already in the field's unit); strings
    that are plain numbers are parsed as numbers.
    """
    if not isinstance(value, str):
        return value
    text = value.strip().replace("_", "")
    try:
        return float(text)
    except ValueError:
        pass
    if (simple := _simple_power(text, unit)) is not None:
        return simple
    import pint

    ureg = _registry()
    try:
        q = ureg.Quantity(text)
    except (pint.errors.PintError, ValueError, SyntaxError, TypeError, AttributeError) as exc:
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}") from exc
    if isinstance(q, (int, float)):
        return float(q)
    try:
        return float(q.to(unit).magnitude)
    except pint.errors.DimensionalityError:
        raise ValueError(f"{value!r} is not convertible to {unit}") from None


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


def quantity(unit: str, *, ge: float | None = 0.0, gt: float | None = None, le: float | None = None):
    """A float field in `unit` that also accepts quantity strings, non-negative by default."""
    bounds: dict[str, float] = {}
    if gt is not None:
        bounds["gt"] = gt
    elif ge is not None:
        bounds["ge"] = ge
    if le is not None:
        bounds["le"] = le
    return Annotated[
        float,
        BeforeValidator(lambda v: to_unit(v, unit), json_schema_input_type=float | str),
        AfterValidator(_finite),
        Field(json_schema_extra={"unit": unit}, **bounds),
    ]


Kw = quantity("kW")
PosKw = quantity("kW", gt=0)
Mw = quantity("MW")
MAX_INTERCONNECT_MW = 1e6  # a terawatt, a third of the world's generating capacity: beyond it a typo the solver reads as infinite
PosMw = quantity("MW", gt=0, le=MAX_INTERCONNECT_MW)
Hours = quantity("hour", gt=0)
Mtbf = quantity("hour", ge=1)  # a unit failing more than hourly is not equipment a plan can rely on
UnitKw = quantity("kW", ge=1, le=1e6)  # one unit of power or cooling equipment: 1 kW to 1 GW
UnitKva = quantity("kVA", ge=1, le=1e6)
Gbps = Annotated[float, AfterValidator(_finite), Field(ge=1, le=1e5)]  # a network port or NIC, Gb/s
Seconds = quantity("s", gt=0)
MAX_USD = 1e15  # ten times the world's yearly output: a larger sum of money is a typo the solver reads as infinite
Usd = Annotated[float, AfterValidator(_finite), Field(ge=0, le=MAX_USD)]
NonNeg = Annotated[float, AfterValidator(_finite), Field(ge=0)]
Pos = Annotated[float, AfterValidator(_finite), Field(gt=0)]
Celsius = quantity("degC", ge=-80, le=80)
Kelvin = quantity("K", ge=0, le=100)
Gb = quantity("GB", gt=0)
Tbps = quantity("TB/s", gt=0)
