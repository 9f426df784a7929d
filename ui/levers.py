"""The What-if levers as data: each names its widget key, its spec path, the spec's value and a help text.

Pure (no Streamlit): the page draws them (ui.whatif), the URL carries them (ui.url_state), and a
lever's value becomes an override (twin.overrides) only when it differs from the spec's own value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from twin.spec import ClimatePreset, Spec

PRESETS = list(get_args(ClimatePreset))
PROFILES = ["flat", "diurnal", "business"]
REDUNDANCY = ["N", "N+1", "N+2", "2N"]
CLIMATE_PARAMETERS = ("mean_c", "seasonal_swing_c", "daily_swing_c", "relative_humidity")


@dataclass(frozen=True)
class Lever:
    """One widget: `kind` is number (float), count (int), slider or choice; `also` are overrides it brings along."""

    key: str
    label: str
    path: str
    default: Any
    kind: Literal["number", "count", "slider", "choice"]
    help: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    options: tuple = ()
    unit: str = ""
    group: str = ""
    also: dict[str, Any] = field(default_factory=dict)

    def parse(self, text: str) -> Any:
        """A value from the URL's text; ValueError when it is not one this lever takes."""
        if self.kind == "choice":
            if text not in self.options:
                raise ValueError(f"{self.label}: {text!r} is not one of {', '.join(map(str, self.options))}")
            return text
        value = int(text) if self.kind == "count" else float(text)
        if not self.lo <= value <= self.hi:
            raise ValueError(f"{self.label}: {value:g} is outside {self.lo:g}..{self.hi:g}")
        return value


def levers_of(spec: Spec) -> list[Lever]:
    """Every lever of `spec`, at the spec's own values."""
    site, wl = spec.site, spec.workload
    climate = site.climate
    out = [
        Lever("lever_price", "Electricity price (USD/MWh)", "site.tariff.price_usd_per_mwh", float(site.tariff.price_usd_per_mwh), "number",
              "Flat energy price; time-of-use bands and demand charges of the spec still apply on top.", 0.0, 1000.0, 5.0, unit="USD/MWh", group="Site"),
    ]
    if climate.file is None:  # a weather file is the year itself: no preset to pick
        out.append(Lever("lever_climate", "Climate", "site.climate.preset", climate.preset, "choice",
              "Synthetic climate preset or a real typical meteorological year (tmy:...). Hotter, wetter air costs cooling energy and can cap IT.",
              options=tuple(PRESETS), group="Site",
              also={f"site.climate.{f}": None for f in CLIMATE_PARAMETERS if getattr(climate, f) is not None}))
    out += [
        Lever("lever_offset", "Temperature offset (K)", "site.climate.offset_c", float(climate.offset_c), "slider",
              "Shifts every hour of the year by this many kelvin: a warmer year or a climate-change margin.", -10.0, 10.0, 0.5, unit="K", group="Site"),
        Lever("lever_demand", "Peak demand (share of capacity)", "workload.demand.level", float(wl.demand.level), "slider",
              "Demand at the daily peak as a share of what the fleet can serve at the SLA; the profile shapes the other hours.",
              0.05, 1.0, 0.05, unit="%", group="Demand"),
    ]
    if isinstance(wl.demand.profile, str):
        out.append(Lever("lever_profile", "Demand profile", "workload.demand.profile", wl.demand.profile, "choice",
                         "Shape of demand over the day: flat, diurnal (evening peak) or business hours.", options=tuple(PROFILES), group="Demand"))
    for i, wm in enumerate(wl.models):
        out += [
            Lever(f"lever_sla_tps_{i}", f"{wm.model}: min tok/s per user", f"workload.models[{i}].sla.min_tokens_per_s_per_user",
                  float(wm.sla.min_tokens_per_s_per_user), "number",
                  "Interactivity each user must get. Higher means smaller batches: fewer tokens per GPU.", 1.0, 1000.0, 5.0, unit="tok/s/user", group="SLA"),
            Lever(f"lever_sla_ttft_{i}", f"{wm.model}: max TTFT (s)", f"workload.models[{i}].sla.max_ttft_s", float(wm.sla.max_ttft_s), "number",
                  "Longest acceptable time to first token. It changes the result only when the operating point's TTFT would exceed it.",
                  0.05, 120.0, 0.5, unit="s", group="SLA"),
        ]
    systems = tuple(sorted(spec.cat.systems))
    for i, d in enumerate(spec.deployments):
        out += [
            Lever(f"lever_system_{i}", f"{d.hall}: system (deployment {i + 1})", f"deployments[{i}].system", d.system, "choice",
                  "Catalog GPU system of these racks; power, cooling and the token model follow it.", options=systems, group="Systems"),
            Lever(f"lever_racks_{i}", f"{d.hall}: racks (deployment {i + 1})", f"deployments[{i}].racks", int(d.racks), "count",
                  "Racks of this deployment, up to the hall's positions.", 1, spec.hall(d.hall).positions, 1, unit="racks", group="Systems"),
        ]
    for i, u in enumerate(spec.power.ups):
        out.append(Lever(f"lever_ups_{i}", f"UPS {u.id} redundancy ({u.units} modules)", f"power.ups[{i}].redundancy", u.redundancy, "choice",
                         "Modules that may fail while the rest carry the load: N none, N+1 one, N+2 two, 2N half. Moves availability and losses.",
                         options=tuple(REDUNDANCY), group="Power"))
    return out


def overrides(levers: list[Lever], values: dict[str, Any]) -> dict[str, Any]:
    """The dotted-path overrides of the levers whose value differs from the spec's."""
    ov: dict[str, Any] = {}
    for lever in levers:
        value = values.get(lever.key, lever.default)
        if value != lever.default:
            ov[lever.path] = int(value) if lever.kind == "count" else value
            ov.update(lever.also)
    return ov


def describe(levers: list[Lever], values: dict[str, Any]) -> str:
    """The moved levers in words (`Electricity price (USD/MWh) 90`), or '' when none moved."""
    return ", ".join(f"{lv.label} {_text(values[lv.key])}" for lv in levers if lv.key in values and values[lv.key] != lv.default)


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
