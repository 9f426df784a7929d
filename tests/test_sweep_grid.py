"""Grid files: grids, named scenarios and seeded samples; stable scenario ids; located errors."""

from __future__ import annotations

import pytest

from optimizer.scenarios import load_sweep, scenario_id, short_labels
from tests.conftest import ROOT
from tests.sweep_support import write_grid
from twin.errors import SpecError

GRID = "job: static\ngrid:\n  site.tariff.price_usd_per_mwh: [40, 70, 100]\n  deployments[0].racks: [10, 20]\n"


def test_a_grid_is_the_full_product_with_readable_names(tmp_path):
    sweep = load_sweep(write_grid(tmp_path / "prices.yaml", GRID))
    assert (sweep.name, sweep.mode, sweep.job, len(sweep.scenarios)) == ("prices", "grid", "static", 6)
    assert sweep.scenarios[0].name == "price_usd_per_mwh=40, racks=10"
    assert sweep.scenarios[-1].overrides == {"site.tariff.price_usd_per_mwh": 100, "deployments[0].racks": 20}
    assert sweep.base_values == {"site.tariff.price_usd_per_mwh": 80.0, "deployments[0].racks": 20}


def test_ids_are_stable_and_name_spec_job_overrides_and_seed(tmp_path):
    first = load_sweep(write_grid(tmp_path / "a.yaml", GRID))
    reordered = load_sweep(write_grid(tmp_path / "b.yaml", "job: static\ngrid:\n  deployments[0].racks: [20, 10]\n  site.tariff.price_usd_per_mwh: [100, 70, 40]\n"))
    assert {s.id for s in first.scenarios} == {s.id for s in reordered.scenarios}
    assert first.id == reordered.id  # the same scenarios are the same sweep, so it resumes
    ids = {scenario_id("h", "static", {"a": 1}, 0), scenario_id("h2", "static", {"a": 1}, 0), scenario_id("h", "sleepy", {"a": 1}, 0),
           scenario_id("h", "static", {"a": 2}, 0), scenario_id("h", "static", {"a": 1}, 1)}
    assert len(ids) == 5


def test_named_scenarios_may_include_the_base(tmp_path):
    body = "job: static\nscenarios:\n  - {name: base}\n  - {name: cheap power, overrides: {site.tariff.price_usd_per_mwh: 30}}\n"
    sweep = load_sweep(write_grid(tmp_path / "named.yaml", body))
    assert [(s.name, s.overrides) for s in sweep.scenarios] == [("base", {}), ("cheap power", {"site.tariff.price_usd_per_mwh": 30})]
    assert sweep.parameters == ("site.tariff.price_usd_per_mwh",)


SAMPLE = """job: static
sample:
  n: 40
  seed: {seed}
  parameters:
    site.tariff.price_usd_per_mwh: [40.0, 100.0]
    deployments[0].racks: [10, 20]
    site.climate.preset: [temperate, hot-dry, cold]
    halls[hall-1].max_rack_kw: {{choices: [140, 150]}}
"""


def test_a_sample_is_reproducible_from_its_seed(tmp_path):
    one = load_sweep(write_grid(tmp_path / "s1.yaml", SAMPLE.format(seed=7)))
    again = load_sweep(write_grid(tmp_path / "s2.yaml", SAMPLE.format(seed=7)))
    other = load_sweep(write_grid(tmp_path / "s3.yaml", SAMPLE.format(seed=8)))
    assert one.scenarios == again.scenarios
    assert one.scenarios != other.scenarios
    values = [s.overrides for s in one.scenarios]
    assert all(40.0 <= v["site.tariff.price_usd_per_mwh"] <= 100.0 for v in values)
    assert {v["deployments[0].racks"] for v in values} <= set(range(10, 21))
    assert all(isinstance(v["deployments[0].racks"], int) for v in values)
    assert {v["site.climate.preset"] for v in values} == {"temperate", "hot-dry", "cold"}
    assert {v["halls[hall-1].max_rack_kw"] for v in values} == {140, 150}  # a pair of choices, not a range


@pytest.mark.parametrize(
    ("body", "where", "fragment"),
    [
        ("job: static\ngrid: {a.b: [1]}\nscenarios: [{name: x}]\n", ":1:1:", "exactly one of grid, scenarios or sample"),
        ("job: statik\ngrid: {a.b: [1]}\n", ":2:1: job:", "did you mean 'static'"),
        ("job: static\ngrid:\n  a.b: []\n", ":4:3: grid.a.b:", "at least 1 item"),
        ("job: static\nsample: {n: 3, parameters: {a.b: [5, 1]}}\n", ":3:", "low is above high"),
        ("job: static\nscenarios: [{name: x}, {name: x}]\n", ":1:1:", "names must be unique: x"),
        ("job: static\ngird: {a.b: [1]}\n", ":3:1: gird:", "did you mean 'grid'"),
    ],
)
def test_grid_errors_point_at_the_line(tmp_path, body, where, fragment):
    path = write_grid(tmp_path / "bad.yaml", body)
    with pytest.raises(SpecError) as info:
        load_sweep(path)
    text = str(info.value)
    assert f"{path}{where}" in text, text
    assert fragment in text, text


def test_a_missing_base_spec_is_reported_at_its_line(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("job: static\nspec: nowhere.yaml\ngrid: {a.b: [1]}\n")
    with pytest.raises(SpecError, match=r"g.yaml:2:1: spec: no such file"):
        load_sweep(path)


def test_short_labels_tell_paths_apart():
    labels = short_labels(["halls[0].positions", "halls[1].positions", "site.tariff.price_usd_per_mwh"])
    assert labels == {"halls[0].positions": "halls[0].positions", "halls[1].positions": "halls[1].positions",
                      "site.tariff.price_usd_per_mwh": "price_usd_per_mwh"}


def test_the_example_grid_loads():
    sweep = load_sweep(ROOT / "facility_specs" / "sweeps" / "reference-what-ifs.yaml")
    assert len(sweep.scenarios) == 27
    assert sweep.base_values["economics.discount_rate"] == sweep.spec.economics.discount_rate
