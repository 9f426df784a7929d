"""ui.fmt: the one formatting helper of the app; every expected string is worked by hand in its comment."""

from __future__ import annotations

import pandas as pd
import pytest

from ui import fmt


@pytest.mark.parametrize(("value", "text"), [
    (23500.8, "23,501"),                 # a GPU count the issue saw as 23500.8: whole, with separators
    (3320095661971412.0, "3,320 T"),     # 3.320e15 tokens = 3,320 trillion
    (105279542.8, "105.3 M"),            # 105.28e6 to four significant figures
    (0.41234, "0.4123"),
    (12, "12"),
    (None, "–"),
])
def test_numbers_have_separators_and_sensible_digits(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.2223545, "USD", "$0.2224"),
    (738238268.2, "USD/yr", "$738.2 M/yr"),
    (0.9991350244, "%", "99.914 %"),     # 99.91350244 % to three decimals: availabilities differ in the last digits
    (0.64, "%", "64.0 %"),
    (63.615, "MW", "63.62 MW"),
])
def test_quantities_carry_their_unit(value, unit, text):
    assert fmt.quantity(value, unit) == text


@pytest.mark.parametrize(("name", "text"), [
    ("ttft_s_p50", "Time to first token p50 (s)"),
    ("price_usd_per_mwh", "Price (USD/MWh)"),
    ("served_output_tokens_per_s", "Served output tokens (tok/s)"),
    ("it_power_mw", "IT power, mean (MW)"),
    ("dry_bulb_c", "Dry bulb (°C)"),
])
def test_snake_case_names_become_labels_with_units(name, text):
    assert fmt.label(name) == text


def test_small_moves_still_show_a_badge():
    # UPS redundancy moves availability by 1e-5: 0.001 percentage points, shown with two significant figures
    assert fmt.delta(0.99914, 0.99913, "%") == "+0.0010 pp"
    # 1.1 against 1.0 is +10 %
    assert fmt.delta(1.1, 1.0, "") == "+10.00 %"
    assert fmt.delta(0.5, 0.5, "") is None


def test_a_formatted_frame_holds_no_raw_float():
    df = pd.DataFrame({"it_kw": [1234.6], "pue": [1.10270], "availability": [0.999], "system": ["gb300-nvl72"]})
    view = fmt.frame(df)
    # 1234.6 kW rounds to 1,235; PUE to four figures; a fraction as a percentage
    assert list(view.columns) == ["IT power (kW)", "PUE", "Availability", "System"]
    assert view.iloc[0].tolist() == ["1,235", "1.103", "99.900 %", "gb300-nvl72"]
