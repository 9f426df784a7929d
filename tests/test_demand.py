"""Hourly demand shapes."""

from __future__ import annotations

import numpy as np
import pytest

from twin.demand import hourly_demand
from twin.spec import Demand


@pytest.mark.parametrize("profile", ["flat", "diurnal", "business"])
def test_peak_equals_level_and_shape_repeats_weekly(profile):
    d = hourly_demand(Demand(level=0.8, profile=profile))
    assert d.shape == (8760,)
    assert d.max() == pytest.approx(0.8)
    assert np.allclose(d[: 7 * 24], d[7 * 24 : 14 * 24])


def test_diurnal_low_at_night_high_in_the_afternoon():
    d = hourly_demand(Demand(level=1.0, profile="diurnal"))
    monday = d[:24]
    assert monday.argmax() == 15
    assert monday.argmin() == 3
    assert monday[3] == pytest.approx(0.55)
    assert d[5 * 24 + 15] == pytest.approx(0.9)  # Saturday afternoon


def test_business_hours_and_weekends():
    d = hourly_demand(Demand(level=1.0, profile="business"))
    assert d[10] == 1.0
    assert d[2] == pytest.approx(0.35)
    assert d[6 * 24 + 10] == pytest.approx(0.40)
    # weekly mean worked by hand: weekdays (11 h at 1 + 2 ramps at 0.675 + 11 h at 0.35), weekends 0.4
    weekday = (11 * 1.0 + 2 * 0.675 + 11 * 0.35) / 24
    assert d[: 7 * 24].mean() == pytest.approx((5 * weekday + 2 * 0.4) / 7)


def test_custom_day():
    day = [0.5] * 12 + [1.0] * 12
    d = hourly_demand(Demand(level=0.5, profile=day))
    assert d[0] == 0.25
    assert d[12] == 0.5
    assert d[24 * 6 + 13] == 0.5
