"""Numbers as a planner reads them: units, thousands separators, readable names. No Streamlit here.

Every page formats through this module so a figure looks the same everywhere:

- `number(x)`: thousands separators and sensible digits (`23,501`, `0.4123`, `105.3 M`, `3,320 T`).
- `quantity(x, unit)`: a number and its unit (`63.6 MW`, `$0.2224`, `64.0 %`).
- `field(name, x)`: a value formatted by its field name's unit suffix (`it_power_mw` -> `57.7 MW`).
- `label(name)`: a snake_case name as words with its unit (`ttft_s_p50` -> `TTFT p50 (s)`).
- `kpi(key, x)` / `KPIS`: the KPIs' labels, units and help texts, shared by cards and tables.
- `delta(new, old, unit)`: the change a card's badge shows, or None when there is none; `relative(x)` a signed %.
- `frame(df)`: a table of strings for display (the raw table goes to the download).

New pages (Roadmap, Operate...) add their field suffixes to `SUFFIXES` and their KPIs to `KPIS`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Unit suffixes of field names (matched longest first, so `_usd_per_mwh` wins over `_mwh`).
SUFFIXES: dict[str, str] = {
    "_usd_per_mwh": "USD/MWh", "_per_million_tokens_usd": "USD/M tokens", "_usd": "USD", "_mwh": "MWh", "_mw": "MW",
    "_kw": "kW", "_kva": "kVA", "_gbps": "Gb/s", "_m3": "m³", "_l_per_kwh": "L/kWh", "_l": "L", "_t": "t", "_c": "°C",
    "_s": "s", "_h": "h", "_per_s_per_gpu": "tok/s/GPU", "_per_s_per_user": "tok/s/user", "_tokens_per_s": "tok/s",
    "_per_s": "/s", "_per_joule": "tok/J", "_per_s_per_mw": "tok/s/MW", "_hours": "h",
}
FRACTIONS = {"availability", "utilization", "share", "it_cap_fraction", "relative_humidity", "fraction"}
ACRONYMS = {"ttft": "TTFT", "tpot": "TPOT", "pue": "PUE", "wue": "WUE", "it": "IT", "gpu": "GPU", "gpus": "GPUs", "sla": "SLA",
            "usd": "USD", "co2": "CO₂", "ups": "UPS", "cdu": "CDU", "crah": "CRAH", "kpi": "KPI", "mtbf": "MTBF", "mttr": "MTTR",
            "p5": "p5", "p50": "p50", "p95": "p95", "id": "id"}
LABELS = {  # names whose words alone would not say it
    "tokens_per_s_per_gpu": "Throughput per GPU", "tokens_per_s_per_user": "Interactivity", "ttft_s": "Time to first token",
    "tpot_s": "Time per output token", "it_kw": "IT power", "loss_kw": "Conversion losses", "pue": "PUE", "hour": "Hour of the year",
}
_LARGE = ((1e12, "T"), (1e9, "B"), (1e6, "M"))  # trillion, billion, million: a planner's shorthand


_IN_CELL = {"%", "USD", "USD/yr"}
_BY_LENGTH = sorted(SUFFIXES, key=len, reverse=True)


@dataclass(frozen=True)
class Kpi:
    label: str
    unit: str
    help: str
    higher_is_better: bool | None = None


KPIS: dict[str, Kpi] = {
    "output_tokens_per_s": Kpi("Throughput", "tok/s", "Output tokens per second served at the SLA, averaged over the year.", True),
    "tokens_per_joule": Kpi("Tokens per joule", "tok/J", "Output tokens per joule of facility energy (IT, cooling, losses, network).", True),
    "tokens_per_s_per_mw": Kpi("Tokens/s per MW", "tok/s/MW", "Throughput per MW of mean facility power.", True),
    "cost_per_million_tokens_usd": Kpi("Cost per 1M tokens", "USD", "Annual cost (annualized capex plus opex) over the year's output tokens, per million.", False),
    "pue": Kpi("PUE", "", "Power usage effectiveness: facility energy over IT energy for the year (1.0 is perfect).", False),
    "availability": Kpi("Availability", "%", "Capacity-weighted share of the year the GPUs can serve, from every component's MTBF and MTTR.", True),
    "utilization": Kpi("Utilization", "%", "Mean share of the GPUs' capacity in use: the demand served over what the fleet could serve.", True),
    "it_power_mw": Kpi("IT power, mean", "MW", "GPU systems' mean electrical power over the year."),
    "facility_power_mw": Kpi("Facility power, mean", "MW", "Mean power drawn from the utility over the year."),
    "peak_facility_power_mw": Kpi("Facility power, peak", "MW", "Highest hourly facility power of the year."),
    "energy_mwh": Kpi("Energy", "MWh/yr", "Facility energy over the year."),
    "capped_hours": Kpi("Hours capped", "h", "Hours in which the interconnect or the cooling capped the IT load."),
    "unmet_heat_hours": Kpi("Hours with heat unmet", "h", "Hours some heat was not rejected at the plant's supply temperature (water left warmer) or not moved by the loops."),
    "cooling_capped_hours": Kpi("Hours capped by cooling", "h", "Hours in which the cooling capacity capped the IT load."),
    "tokens_lost_to_cap": Kpi("Tokens lost to caps", "tokens", "Output tokens the caps cost over the year."),
    "tokens_lost_to_failures": Kpi("Tokens lost to failures", "tokens", "Output tokens failures cost over the year."),
    "annual_cost_usd": Kpi("Annual cost", "USD/yr", "Annualized capex plus the year's opex."),
    "capex_usd": Kpi("Capex", "USD", "Capital cost of the facility and its IT."),
    "water_m3": Kpi("Water", "m³/yr", "Water the cooling plant uses over the year."),
    "wue_l_per_kwh": Kpi("WUE", "L/kWh", "Water usage effectiveness: litres per kWh of IT energy."),
    "co2_t": Kpi("CO₂", "t/yr", "Emissions of the grid energy over the year."),
    "output_tokens_per_year": Kpi("Output tokens per year", "tokens", "Output tokens served over the year."),
    "gpus": Kpi("GPUs", "", "GPUs deployed."),
    "demand_output_tokens_per_s": Kpi("Demand", "tok/s", "Mean output tokens per second asked of the facility."),
    "capacity_output_tokens_per_s": Kpi("Capacity", "tok/s", "Output tokens per second the fleet serves at the SLA when fully used."),
}


def number(x: Any, digits: int = 4) -> str:
    """A number with thousands separators; big counts in words, small ones to `digits` significant figures."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool) or not isinstance(x, int | float) and not hasattr(x, "__float__"):
        return str(x)
    v = float(x)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    for scale, word in _LARGE:
        if abs(v) >= scale:
            return f"{number(v / scale, digits)} {word}"
    if abs(v) >= 10 ** (digits - 1) or float(v).is_integer():
        return f"{v:,.0f}"
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    return f"{v:,.{max(digits - 1 - int(math.floor(math.log10(abs(v)))), 0)}f}" if v else "0"


def quantity(x: Any, unit: str, digits: int = 4) -> str:
    """A number with its unit: `%` multiplies a fraction by 100, `USD` is written as dollars."""
    if x is None or isinstance(x, str):
        return number(x)
    if unit == "%":  # availabilities live in the last digits: 99.914 %, not 99.91 %
        return f"{100 * float(x):.{1 + 2 * (0.99 < float(x) < 1)}f} %"
    if unit in ("USD", "USD/yr"):
        text = number(x, digits)
        return ("−$" + text[1:] if text.startswith("-") else "$" + text) + ("/yr" if unit == "USD/yr" else "")
    return f"{number(x, digits)} {unit}".rstrip()


def unit_of(name: str) -> str:
    """The unit a field's name declares (`peak_kw` -> `kW`); `%` for fractions; '' when none."""
    base = re.sub(r"_(p\d+|mean|std_error)$", "", name)
    if base in KPIS:
        return KPIS[base].unit
    if base in FRACTIONS or base.endswith(("_fraction", "_share")):
        return "%"
    return next((SUFFIXES[s] for s in _BY_LENGTH if base.endswith(s)), "")


def cell(x: Any, unit: str) -> str:
    """`x` for a cell or card whose header already names `unit`: `$` and `%` stay, other units go."""
    return quantity(x, unit) if unit in _IN_CELL else number(x)


def field(name: str, x: Any) -> str:
    """`x` formatted by the unit its field name declares."""
    return quantity(x, unit_of(name))


def label(name: str, unit: str | None = None) -> str:
    """A snake_case field as words, its unit (or `unit`) in parentheses: `ttft_s_p50` -> `Time to first token p50 (s)`."""
    base, stat = (re.match(r"(.*?)(?:_(p\d+|mean|std_error))?$", name).groups())
    unit = unit_of(base) if unit is None else unit
    if base in KPIS:
        words = KPIS[base].label
    elif base in LABELS:
        words = LABELS[base]
    else:
        suffix = next((s for s in _BY_LENGTH if base.endswith(s)), "")
        stem = base[: len(base) - len(suffix)] + ("_tokens" if suffix == "_tokens_per_s" else "")
        words = " ".join(ACRONYMS.get(w, w) for w in stem.split("_") if w)
        words = words[:1].upper() + words[1:]
    if stat:
        words += f" {stat.replace('_', ' ')}"
    return f"{words} ({unit})" if unit and unit not in ("tokens", "GPUs", "racks", "%", "USD") else words


def kpi(key: str, x: Any) -> str:
    """A KPI's value in its unit."""
    return quantity(x, KPIS[key].unit if key in KPIS else unit_of(key))


def delta(new: float, old: float, unit: str) -> str | None:
    """The change a KPI card shows: percentage points for fractions, relative % otherwise; None when unchanged.

    Small moves still show (UPS redundancy moves availability by ~1e-5): digits grow until the change is visible.
    """
    if new is None or old is None or new == old:
        return None
    if unit == "%":
        pp = 100 * (new - old)
        return f"{pp:+.{_digits_to_show(pp)}f} pp"
    return relative(new / old - 1) if old else None


def relative(change: float | None) -> str:
    """A relative change as a signed percentage with two significant figures at least (`+3.8 %`, `-0.0012 %`)."""
    if change is None or change != change:
        return "–"
    if change == 0:
        return "0 %"
    pct = 100 * change
    return f"{pct:+.{_digits_to_show(pct)}f} %"


def _digits_to_show(x: float) -> int:
    """Decimals that show two significant figures of `x`, at least two."""
    return max(2, 1 - int(math.floor(math.log10(abs(x))))) if x else 2


def frame(df: pd.DataFrame, units: dict[str, str] | None = None) -> pd.DataFrame:
    """A display copy of `df`: columns as readable labels with their unit, numbers as formatted text.

    `units` maps a column to its unit; other columns take the unit their name declares.
    """
    units = units or {}
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            unit = units.get(col, unit_of(str(col)))
            out[label(str(col), "" if unit in _IN_CELL else unit)] = [cell(v, unit) for v in values]
        else:
            out[label(str(col))] = [", ".join(map(str, v)) if isinstance(v, list | tuple) else ("–" if v is None else str(v)) for v in values]
    return out


def kpi_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy of a table whose rows are KPIs (index = KPI keys): each cell in its row's unit, rows by label."""
    out = pd.DataFrame({str(c): [kpi(k, v) for k, v in df[c].items()] for c in df.columns}, index=[label(str(k), "") for k in df.index])
    out.columns = [label(str(c), "") if "_" in str(c) else str(c) for c in df.columns]
    return out
