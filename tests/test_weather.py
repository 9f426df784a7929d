"""Weather: psychrometrics against psychrolib, preset calibration against the TMY years, file readers."""

from __future__ import annotations

import numpy as np
import psychrolib
import pytest

from twin.errors import SpecError
from twin.spec import Climate
from twin.weather import (
    PRESETS,
    TMY_PRESETS,
    read_weather_file,
    synthetic_year,
    tmy_year,
    weather_for,
    wet_bulb_c,
)

psychrolib.SetUnitSystem(psychrolib.SI)


def p996(a) -> float:
    return float(np.percentile(a, 99.6))


def test_wet_bulb_matches_psychrolib():
    rng = np.random.default_rng(1)
    tdb, rh, pa = rng.uniform(-20, 50, 400), rng.uniform(0, 1, 400), rng.uniform(80e3, 104e3, 400)
    ref = np.array([psychrolib.GetTWetBulbFromRelHum(*args) for args in zip(tdb, rh, pa, strict=True)])
    # psychrolib's equations jump at 0 C (ice/water branches); away from it the two agree
    away = np.abs(ref) > 0.5
    np.testing.assert_allclose(wet_bulb_c(tdb, rh, pa)[away], ref[away], atol=0.01)


# engineering reference 2.4, computed from the pvlib TMY files with psychrolib
TMY_TABLE = {
    "greensboro": (14.4, 33.3, 25.5, [4240, 5881, 7589], [5106, 7064]),
    "miami": (24.3, 31.7, 26.2, [400, 1256, 4798], [839, 3066]),
    "sand-point": (4.4, 16.6, 12.3, [8662, 8760, 8760], [8760, 8760]),
}
CALIBRATED_ON = {"temperate": "greensboro", "hot-humid": "miami", "cold": "sand-point"}


def hours_at_or_below(a, thresholds) -> list[int]:
    return [int(np.count_nonzero(a <= t)) for t in thresholds]


@pytest.mark.parametrize("name", list(TMY_TABLE))
def test_tmy_presets_load_a_year_with_the_published_statistics(name):
    w = weather_for(
        Climate(
            preset=f"tmy:{name}"
        )
    )
    mean, tdb, twb, dry_hours, wet_hours = TMY_TABLE[name]
    assert f"tmy:{name}" in TMY_PRESETS
    assert w.dry_bulb_c.shape == w.wet_bulb_c.shape == (8760,)
    assert w.dry_bulb_c.mean() == pytest.approx(mean, abs=0.05)
    assert p996(w.dry_bulb_c) == pytest.approx(tdb, abs=0.05)
    assert p996(w.wet_bulb_c) == pytest.approx(twb, abs=0.05)
    assert hours_at_or_below(w.dry_bulb_c, (15, 20, 25)) == dry_hours
    # psychrolib's own bisection tolerance moves an hour sitting on a threshold
    np.testing.assert_allclose(hours_at_or_below(w.wet_bulb_c, (15, 20)), wet_hours, atol=2)


@pytest.mark.parametrize("preset", list(CALIBRATED_ON))
def test_synthetic_presets_match_their_tmy_year(preset):
    synth, real = synthetic_year(PRESETS[preset]), tmy_year(CALIBRATED_ON[preset])
    assert synth.dry_bulb_c.mean() == pytest.approx(real.dry_bulb_c.mean(), abs=0.05)
    assert p996(synth.dry_bulb_c) == pytest.approx(p996(real.dry_bulb_c), abs=0.1)
    assert p996(synth.wet_bulb_c) == pytest.approx(p996(real.wet_bulb_c), abs=1.0)
    # free-cooling hours within ~5 % of the year at every threshold
    for field, thresholds in (("dry_bulb_c", (15, 20, 25)), ("wet_bulb_c", (15, 20))):
        got, want = hours_at_or_below(getattr(synth, field), thresholds), hours_at_or_below(getattr(real, field), thresholds)
        np.testing.assert_allclose(got, want, atol=450)


def test_hot_dry_preset_meets_its_design_conditions():
    w = synthetic_year(PRESETS["hot-dry"])
    assert w.dry_bulb_c.mean() == pytest.approx(24.1, abs=0.05)
    assert p996(w.dry_bulb_c) == pytest.approx(43.4, abs=0.1)
    assert p996(w.wet_bulb_c) == pytest.approx(24.2, abs=0.2)


def test_synthetic_year_is_seeded_and_not_a_sinusoid():
    c = PRESETS["temperate"]
    a, b, other = synthetic_year(c), synthetic_year(c), synthetic_year(c, seed=1)
    np.testing.assert_array_equal(a.dry_bulb_c, b.dry_bulb_c)
    assert not np.array_equal(a.dry_bulb_c, other.dry_bulb_c)
    daily = a.dry_bulb_c.reshape(365, 24).mean(axis=1)
    assert np.std(np.diff(daily)) > 1.0  # day-to-day weather, not a smooth seasonal curve
    assert np.all(a.wet_bulb_c <= a.dry_bulb_c + 1e-9)


def test_spec_overrides_and_offset():
    w = weather_for(Climate(preset="cold", mean_c=10.0, offset_c=2.0))
    assert w.dry_bulb_c.mean() == pytest.approx(12.0, abs=1e-9)
    base = weather_for(Climate(preset="cold", mean_c=10.0))
    np.testing.assert_allclose(w.wet_bulb_c - base.wet_bulb_c, 2.0)
    with pytest.raises(ValueError, match="read-only"):
        w.dry_bulb_c[0] = 0.0


def epw_text(rows: int = 8760, leap: bool = False) -> str:
    header = ["LOCATION,Test,ST,USA,TMY3,000000,40.0,-80.0,-5.0,100.0"] + [f"HEADER {i}" for i in range(7)]
    days = [(m, d) for m, n in enumerate((31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), 1) for d in range(1, n + 1)]
    lines = [
        f"1999,{m},{d},{h},60,flags,{10 + (h % 24) / 2:.1f},5.0,{60 if (m, d) != (2, 29) else 99},101325,0"
        for m, d in days
        for h in range(1, 25)
    ]
    return "\n".join(header + lines[:rows]) + "\n"


def test_epw_reader(tmp_path):
    path = tmp_path / "site.epw"
    path.write_text(epw_text())
    w = read_weather_file(path)
    assert w.dry_bulb_c.shape == (8760,)
    assert w.dry_bulb_c[0] == pytest.approx(10.5)
    assert w.wet_bulb_c[0] == pytest.approx(psychrolib.GetTWetBulbFromRelHum(10.5, 0.6, 101325), abs=0.01)
    path.write_text(epw_text(8784, leap=True))
    assert read_weather_file(path).dry_bulb_c.shape == (8760,)


def test_bad_epw_names_file_and_line(tmp_path):
    path = tmp_path / "bad.epw"
    lines = epw_text().splitlines()
    lines[8 + 99] = lines[8 + 99].replace(",60,101325", ",999,101325")  # RH missing-value code on line 108
    lines[8 + 199] = "1999,1,9,8,60,flags,warm"
    path.write_text("\n".join(lines[:-5]))
    with pytest.raises(SpecError) as err:
        read_weather_file(path)
    text = str(err.value)
    assert f"{path}:108:1: relative_humidity: 999 outside 0..110" in text
    assert f"{path}:208:1: 7 fields" in text
    assert "8754 hourly rows; a weather year needs 8760" in text


def test_csv_reader_with_humidity_or_wet_bulb(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("hour,dry_bulb_c,relative_humidity\n" + "".join(f"{i},30,0.5\n" for i in range(8760)))
    w = read_weather_file(path)
    assert w.wet_bulb_c[0] == pytest.approx(psychrolib.GetTWetBulbFromRelHum(30.0, 0.5, 101325), abs=0.01)
    path.write_text("dry_bulb_c,wet_bulb_c\n" + "25,18\n" * 8760)
    assert read_weather_file(path).wet_bulb_c.mean() == pytest.approx(18.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dry_bulb_c,relative_humidity\n" + "30,50\n" * 8760, ":2:1: relative_humidity: 50 outside 0..1"),
        ("dry_bulb_c,wet_bulb_c\n" + "20,25\n" * 8760, ":2:1: wet_bulb_c: wet-bulb 25 above dry-bulb 20"),
        ("temperature\n1\n", ":1:1: not a weather CSV: its header line needs the columns dry_bulb_c"),
    ],
)
def test_bad_csv_names_the_line(tmp_path, text, message):
    path = tmp_path / "w.csv"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        read_weather_file(path)


def test_weather_file_relative_to_the_spec_and_conflicts(tmp_path):
    (tmp_path / "w.csv").write_text("dry_bulb_c,wet_bulb_c\n" + "25,18\n" * 8760)
    w = weather_for(Climate(file="w.csv", offset_c=1.0), tmp_path)
    assert w.dry_bulb_c.mean() == pytest.approx(26.0)
    with pytest.raises(SpecError, match="cannot read weather file"):
        weather_for(Climate(file="missing.csv"), tmp_path)
    with pytest.raises(ValueError, match="cannot change a weather file"):
        Climate(file="w.csv", mean_c=12.0)
