"""What-if overrides by dotted path."""

from __future__ import annotations

import pytest

from tests.conftest import SMALL
from twin.errors import SpecError
from twin.loader import load_spec
from twin.overrides import apply_overrides, split_path


def test_split_path():
    assert split_path("halls[0].positions") == ["halls", 0, "positions"]
    assert split_path("halls[hall-2].max_rack_kw") == ["halls", "#hall-2", "max_rack_kw"]


def test_override_changes_only_the_named_field():
    spec = load_spec(SMALL)
    new = apply_overrides(spec, {"site.tariff.price_usd_per_mwh": 120, "halls[hall-1].positions": 30, "deployments[0].racks": 24})
    assert new.site.tariff.price_usd_per_mwh == 120
    assert new.halls[0].positions == 30
    assert new.deployments[0].racks == 24
    assert spec.site.tariff.price_usd_per_mwh == 80  # the original is untouched
    assert new.site.utility_mw == spec.site.utility_mw
    assert new.path == spec.path


def test_override_accepts_quantities_and_new_sections():
    new = apply_overrides(load_spec(SMALL), {"site.utility_mw": "7000 kW", "site.climate.offset_c": 2.5})
    assert new.site.utility_mw == pytest.approx(7.0)
    assert new.site.climate.offset_c == 2.5


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"halls[9].positions": 3}, "out of range"),
        ({"halls[nope].positions": 3}, "no item with id"),
        ({"deployments[0].racks": 99}, "99 racks are deployed"),
        ({"site.tariff.price_usd_per_mwh": -1}, "greater than or equal to 0"),
        ({"site.tarif.price_usd_per_mwh": 1}, "did you mean 'tariff'"),
    ],
)
def test_bad_override_is_a_spec_error(override, fragment):
    with pytest.raises(SpecError, match=fragment):
        apply_overrides(load_spec(SMALL), override)
