"""Hourly outdoor weather for one year: a synthetic climate, a real TMY year, or a weather file.

Cooling power depends on the outdoor dry-bulb (dry coolers, air-cooled chillers) or wet-bulb
(towers) temperature hour by hour, so every source ends as a `Weather`: two 8760-hour arrays.

Synthetic climates (engineering reference 6): daily mean = annual mean + seasonal cosine
(warmest on `warmest_day`) + a day-to-day anomaly, an AR(1) series from a seeded
`numpy.random.Generator` whose spread is larger in winter than in summer (as in the TMY
files); each hour adds a diurnal cosine peaking at 15:00. Humidity keeps each day's dew
point fixed at the value giving `relative_humidity` at the daily mean temperature, so
afternoons are drier than nights.

Preset calibration (on the TMY files shipped in pvlib, engineering reference 2.4):
`mean_c` and `relative_humidity` are the TMY annual means; `seasonal_swing_c` and
`warmest_day` the first harmonic of the TMY daily means; `daily_swing_c` their mean half
daily range; the winter spread and the persistence the winter residual spread and lag-1
autocorrelation of the daily means. The summer spread, the least constrained figure
(summer anomalies are skewed: sunny spells in Sand Point, a flat sea-breeze summer in
Miami), is then solved so that the 99.6th-percentile dry-bulb of the typical year
(`WEATHER_SEED`) equals the TMY value; it ends below the fitted one in Miami (0.24 vs
1.1 K) and above it in Sand Point (4.7 vs 2.0 K). Wet-bulb is a check, not a target:

| preset | TMY source | mean | Tdb 99.6 % | Twb 99.6 % (TMY / synthetic) |
| --- | --- | --- | --- | --- |
| temperate | Greensboro NC 723170TYA | 14.4 | 33.3 | 25.5 / 25.4 |
| hot-humid | Miami FL 12839.tm2 | 24.3 | 31.7 | 26.2 / 25.4 |
| cold | Sand Point AK 703165TY | 4.4 | 16.6 | 12.3 / 13.1 |
| hot-dry | none shipped: Phoenix AZ normals [E] | 24.1 | 43.4 | 24.2 / 24.2 |

Hot-dry figures are planner estimates from NOAA 1991-2020 Phoenix normals and the ASHRAE
0.4 % design conditions (43.4 C dry-bulb, 24.2 C evaporation wet-bulb), quoted from memory;
its humidity is set to meet that wet-bulb, since one constant RH cannot carry both the dry
June and the monsoon. Wet-bulb is solved from the ASHRAE psychrometric equations (the ones
psychrolib implements, vectorized here: psychrolib's scalar loop takes ~0.5 s per year).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from twin.errors import SpecError, SpecIssue
from twin.spec import Climate
from twin.yamlio import read_text_file

HOURS = 8760
DAYS = 365
WEATHER_SEED = 8760  # the synthetic "typical year"; other seeds give other years of the same climate
SEA_LEVEL_PA = 101325.0
MAX_FILE_ISSUES = 20
MAX_WEATHER_BYTES = 50_000_000  # a year of EPW is about 1.6 MB
QUOTE_CHARS = 20  # a bad value is quoted only once the file is known to be weather, and briefly
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Weather:
    """One year of hourly outdoor temperatures, hour 0 = 1 January 00:00-01:00 local time."""

    dry_bulb_c: np.ndarray
    wet_bulb_c: np.ndarray
    source: str

    def __post_init__(self):
        for name in ("dry_bulb_c", "wet_bulb_c"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.dry_bulb_c.shape != self.wet_bulb_c.shape or self.dry_bulb_c.ndim != 1:
            raise ValueError("dry_bulb_c and wet_bulb_c must be 1-D arrays of equal length")

    def shifted(self, offset_c: float) -> Weather:
        """Every hour warmer by `offset_c` K; the wet-bulb depression is kept (slightly pessimistic for towers)."""
        if offset_c == 0:
            return self
        return replace(
            self,
            dry_bulb_c=self.dry_bulb_c + offset_c,
            wet_bulb_c=self.wet_bulb_c + offset_c,
            source=f"{self.source}, shifted {offset_c:+g} K",
        )


@dataclass(frozen=True)
class SyntheticClimate:
    """Parameters of a synthetic year; the first four are the spec's `site.climate` fields."""

    mean_c: float
    seasonal_swing_c: float
    daily_swing_c: float
    relative_humidity: float
    summer_spread_c: float  # standard deviation of daily-mean anomalies at the warmest time of year
    winter_spread_c: float  # ... and at the coldest
    persistence: float  # lag-1 autocorrelation of the daily anomalies
    warmest_day: float = 200.0  # day of year of the seasonal peak


PRESETS: dict[str, SyntheticClimate] = {
    "temperate": SyntheticClimate(14.4, 11.4, 5.35, 0.695, 2.72, 6.07, 0.73, 196),
    "hot-humid": SyntheticClimate(24.3, 4.06, 3.34, 0.725, 0.24, 3.24, 0.64, 204),
    "cold": SyntheticClimate(4.4, 5.67, 1.81, 0.735, 4.67, 3.81, 0.83, 209),
    "hot-dry": SyntheticClimate(24.1, 10.7, 6.1, 0.265, 3.06, 3.00, 0.70, 200),
}

CLIMATE_FIELDS = ("mean_c", "seasonal_swing_c", "daily_swing_c", "relative_humidity")  # spec overrides of a preset
_PVLIB_TMY = {"greensboro": "723170TYA.CSV", "miami": "12839.tm2", "sand-point": "703165TY.csv"}
TMY_PRESETS = tuple(f"tmy:{name}" for name in _PVLIB_TMY)


# --- psychrometrics ------------------------------------------------------------------------


def saturation_pressure_pa(t_c):
    """Saturation vapour pressure over water (ice below the triple point), Pa: ASHRAE Fundamentals 2017 ch. 1 eq. 5-6."""
    t = np.asarray(t_c, dtype=float) + 273.15
    over_ice = -5.6745359e03 / t + 6.3925247 - 9.677843e-03 * t + 6.2215701e-07 * t**2 + 2.0747825e-09 * t**3 - 9.484024e-13 * t**4
    over_water = -5.8002206e03 / t + 1.3914993 - 4.8640239e-02 * t + 4.1764768e-05 * t**2 - 1.4452093e-08 * t**3
    ln_p = np.where(t <= 273.16, over_ice + 4.1635019 * np.log(t), over_water + 6.5459673 * np.log(t))
    return np.exp(ln_p)


def _humidity_ratio(vapour_pa, pressure_pa):
    return np.maximum(0.621945 * vapour_pa / (pressure_pa - vapour_pa), 1e-7)


def wet_bulb_c(dry_bulb_c, relative_humidity, pressure_pa=SEA_LEVEL_PA, iterations: int = 32) -> np.ndarray:
    """Thermodynamic wet-bulb temperature by vectorized bisection (ASHRAE ch. 1 eq. 33/35, as psychrolib).

    The bracket [Tdb - 60 K, Tdb] holds every wet-bulb on Earth; 32 halvings leave < 1e-7 K.
    """
    tdb = np.asarray(dry_bulb_c, dtype=float)
    w = _humidity_ratio(np.clip(relative_humidity, 0.0, 1.0) * saturation_pressure_pa(tdb), pressure_pa)
    lo, hi = tdb - 60.0, tdb.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ws = _humidity_ratio(saturation_pressure_pa(mid), pressure_pa)
        w_mid = np.where(
            mid >= 0.0,
            ((2501.0 - 2.326 * mid) * ws - 1.006 * (tdb - mid)) / (2501.0 + 1.86 * tdb - 4.186 * mid),
            ((2830.0 - 0.24 * mid) * ws - 1.006 * (tdb - mid)) / (2830.0 + 1.86 * tdb - 2.1 * mid),
        )
        above = w_mid > w
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


# --- synthetic climates --------------------------------------------------------------------


def _daily_anomaly(c: SyntheticClimate, rng: np.random.Generator) -> np.ndarray:
    """Day-to-day weather: a standardized AR(1) series scaled by a seasonal spread, zero mean over the year."""
    spin_up = 60
    noise = rng.standard_normal(DAYS + spin_up)
    series = lfilter([math.sqrt(1 - c.persistence**2)], [1.0, -c.persistence], noise)[spin_up:]
    series = (series - series.mean()) / series.std()
    warmth = np.cos(2 * np.pi * (np.arange(DAYS) + 0.5 - c.warmest_day) / DAYS)
    spread = c.winter_spread_c + (c.summer_spread_c - c.winter_spread_c) * (1 + warmth) / 2
    anomaly = series * spread
    return anomaly - anomaly.mean()


def _dew_point_c(t_c, rh):
    """Magnus dew point (good to ~0.1 K for -40..50 C), used only to hold a day's moisture."""
    g = np.log(rh) + 17.62 * t_c / (243.12 + t_c)
    return 243.12 * g / (17.62 - g)


def _relative_humidity(t_c, dew_c):
    return np.minimum(1.0, np.exp(17.62 * dew_c / (243.12 + dew_c) - 17.62 * t_c / (243.12 + t_c)))


def synthetic_year(c: SyntheticClimate, seed: int = WEATHER_SEED, source: str = "synthetic") -> Weather:
    """An hourly year from a synthetic climate; the same seed gives the same year."""
    hour = np.arange(HOURS)
    day = hour / 24.0
    anomaly = np.interp(day, np.arange(DAYS) + 0.5, _daily_anomaly(c, np.random.default_rng(seed)), period=DAYS)
    daily_mean = c.mean_c + c.seasonal_swing_c * np.cos(2 * np.pi * (day - c.warmest_day) / DAYS) + anomaly
    dry = daily_mean + c.daily_swing_c * np.cos(2 * np.pi * (hour % 24 - 15) / 24)
    rh = _relative_humidity(dry, _dew_point_c(daily_mean, c.relative_humidity))
    return Weather(dry, wet_bulb_c(dry, rh), source)


# --- real years and files ------------------------------------------------------------------


@cache
def tmy_year(name: str) -> Weather:
    """A typical meteorological year shipped inside the pvlib wheel: greensboro, miami or sand-point.

    Cached: pvlib's readers take up to a second and the result is immutable.
    """
    import pvlib

    path = Path(pvlib.__file__).parent / "data" / _PVLIB_TMY[name]
    if path.suffix == ".tm2":
        data, _ = pvlib.iotools.read_tmy2(str(path))
        dry, rh, pa = data["DryBulb"] / 10.0, data["RHum"] / 100.0, data["Pressure"] * 100.0
    else:
        data, _ = pvlib.iotools.read_tmy3(str(path), map_variables=True)
        dry, rh, pa = data["temp_air"], data["relative_humidity"] / 100.0, data["pressure"] * 100.0
    dry = dry.to_numpy(float)
    return Weather(dry, wet_bulb_c(dry, rh.to_numpy(float), pa.to_numpy(float)), f"tmy:{name} (pvlib {path.name})")


class _FileIssues:
    """Collects problems of one weather file, each at its line, and raises them together."""

    def __init__(self, path: Path):
        self.path, self.issues = path, []

    def add(self, line: int | None, message: str, field: str = "") -> None:
        if len(self.issues) < MAX_FILE_ISSUES:
            self.issues.append(SpecIssue(str(self.path), line, None, field, message))

    def number(self, text: str, line: int, field: str, lo: float, hi: float, hint: str = "") -> float:
        try:
            value = float(text)
        except ValueError:
            self.add(line, f"not a number: {text.strip()[:QUOTE_CHARS]!r}", field)
            return math.nan
        if not lo <= value <= hi:
            self.add(line, f"{value:g} outside {lo:g}..{hi:g}{hint}", field)
        return value

    def raise_any(self) -> None:
        if self.issues:
            raise SpecError(self.issues)


def _read_lines(path: Path) -> list[str]:
    return read_text_file(path, MAX_WEATHER_BYTES, what="weather file", strict=False).splitlines()


def _check_hours(issues: _FileIssues, rows: int, first_line: int) -> None:
    if rows != HOURS:
        issues.add(first_line + rows - 1 if rows else None, f"{rows} hourly rows; a weather year needs {HOURS}")


def read_epw(path: Path) -> Weather:
    """EnergyPlus weather: 8 header lines, then year,month,day,hour,minute,flags,DryBulb,DewPoint,RH,Pressure,...

    A leap-year file (8784 rows) loses 29 February.
    """
    issues = _FileIssues(path)
    lines = _read_lines(path)
    if not lines or not lines[0].startswith("LOCATION"):
        issues.add(1, "not an EPW file: the first line must start with LOCATION")
        issues.raise_any()
    dry, rh, pa = [], [], []
    for lineno, text in enumerate(lines[8:], start=9):
        if not text.strip():
            continue
        fields = text.split(",")
        if len(fields) < 10:
            issues.add(lineno, f"{len(fields)} fields; EPW rows have at least 10")
            continue
        if fields[1].strip() == "2" and fields[2].strip() == "29":
            continue
        missing = " (EPW missing-value code?)"
        dry.append(issues.number(fields[6], lineno, "dry_bulb", -70, 70, missing))
        rh.append(issues.number(fields[8], lineno, "relative_humidity", 0, 110, missing) / 100.0)
        pa.append(issues.number(fields[9], lineno, "pressure", 31000, 120000, missing))
    _check_hours(issues, len(dry), 9)
    issues.raise_any()
    dry_a = np.array(dry)
    return Weather(dry_a, wet_bulb_c(dry_a, np.minimum(rh, 1.0), np.array(pa)), f"epw:{path.name}")


def read_csv(path: Path) -> Weather:
    """A CSV with a header: `dry_bulb_c` and either `wet_bulb_c` or `relative_humidity` (0..1), 8760 rows."""
    issues = _FileIssues(path)
    lines = _read_lines(path)
    header = [h.strip().lower() for h in lines[0].split(",")] if lines else []
    humid = "wet_bulb_c" if "wet_bulb_c" in header else "relative_humidity"
    if "dry_bulb_c" not in header or humid not in header:
        issues.add(1, "not a weather CSV: its header line needs the columns dry_bulb_c and either wet_bulb_c or relative_humidity")
        issues.raise_any()
    i_dry, i_hum = header.index("dry_bulb_c"), header.index(humid)
    hum_range = (-70, 70, "") if humid == "wet_bulb_c" else (0, 1, " (a fraction, not percent)")
    dry, hum = [], []
    for lineno, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        fields = text.split(",")
        if len(fields) <= max(i_dry, i_hum):
            issues.add(lineno, f"{len(fields)} fields; the header has {len(header)}")
            continue
        d = issues.number(fields[i_dry], lineno, "dry_bulb_c", -70, 70)
        h = issues.number(fields[i_hum], lineno, humid, *hum_range)
        if humid == "wet_bulb_c" and h > d + 0.05:
            issues.add(lineno, f"wet-bulb {h:g} above dry-bulb {d:g}", humid)
        dry.append(d)
        hum.append(h)
    _check_hours(issues, len(dry), 2)
    issues.raise_any()
    dry_a, hum_a = np.array(dry), np.array(hum)
    wet = np.minimum(hum_a, dry_a) if humid == "wet_bulb_c" else wet_bulb_c(dry_a, hum_a)
    return Weather(dry_a, wet, f"csv:{path.name}")


def read_weather_file(path: str | Path) -> Weather:
    """An EPW (`.epw`) or CSV (anything else) weather file."""
    path = Path(path)
    return read_epw(path) if path.suffix.lower() == ".epw" else read_csv(path)


# --- the spec's climate --------------------------------------------------------------------


def synthetic_climate(climate: Climate) -> SyntheticClimate:
    """The preset with the spec's overrides applied."""
    return replace(PRESETS[climate.preset], **{f: getattr(climate, f) for f in CLIMATE_FIELDS if getattr(climate, f) is not None})


def weather_for(climate: Climate, base_dir: Path | None = None, seed: int = WEATHER_SEED) -> Weather:
    """The hourly year a spec's `site.climate` describes, shifted by its `offset_c`.

    A `file` (relative to `base_dir`, the spec's folder) wins over the preset; a `tmy:` preset
    reads the pvlib year; otherwise the synthetic preset with its overrides (the spec
    rejects synthetic parameters next to a file or a TMY year).
    """
    if climate.file is not None:
        path = Path(climate.file)
        weather = read_weather_file(path if path.is_absolute() or base_dir is None else base_dir / path)
    elif climate.preset.startswith("tmy:"):
        weather = tmy_year(climate.preset.removeprefix("tmy:"))
    else:
        overrides = [f for f in CLIMATE_FIELDS if getattr(climate, f) is not None]
        weather = synthetic_year(
            synthetic_climate(climate),
            seed,
            f"synthetic:{climate.preset}" + (" (" + ", ".join(overrides) + " changed)" if overrides else ""),
        )
    return weather.shifted(climate.offset_c)
