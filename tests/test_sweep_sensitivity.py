"""Tornado tables: the parameter that moves a KPI most ranks first, by the documented method."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from optimizer.sensitivity import tornado

BASE = {"a": 2, "b": 20, "c": "x"}


def _kpi(a, b, c):
    return 3.0 * a + 0.5 * b + (7.0 if c == "y" else 0.0) + 0.1 * a * b  # a and b interact


def _frame(points) -> pd.DataFrame:
    return pd.DataFrame([{"param.a": a, "param.b": b, "param.c": c, "kpi.cost": _kpi(a, b, c)} for a, b, c in points])


def test_a_grid_through_the_base_holds_the_others_at_base():
    swings = tornado(_frame(itertools.product([1, 2, 3], [10, 20, 30], ["x", "y"])), "cost", BASE)
    by = {s.parameter: s for s in swings}
    assert [s.parameter for s in swings] == ["b", "a", "c"]
    assert all(s.method == "others held" for s in swings)
    assert by["a"].swing == pytest.approx(2 * (3.0 + 0.1 * 20))  # a from 1 to 3 at b = 20, c = x
    assert by["b"].swing == pytest.approx(20 * (0.5 + 0.1 * 2))
    assert (by["c"].swing, by["c"].low_at, by["c"].high_at) == (pytest.approx(7.0), "x", "y")


def test_a_grid_that_misses_the_base_uses_median_levels():
    swings = tornado(_frame(itertools.product([1, 3, 5], [10, 30], ["x"])), "cost", BASE)
    by = {s.parameter: s for s in swings}
    assert by["a"].swing == pytest.approx(4 * (3.0 + 0.1 * 10))  # b held at its lower median level, 10
    assert by["b"].swing == pytest.approx(20 * (0.5 + 0.1 * 3))  # a held at its median level, 3


def test_one_at_a_time_scenarios_read_each_move_from_the_base():
    points = [(2, 20, "x"), (1, 20, "x"), (3, 20, "x"), (2, 40, "x"), (2, 20, "y")]
    by = {s.parameter: s for s in tornado(_frame(points), "cost", BASE)}
    assert by["a"].swing == pytest.approx(2 * (3.0 + 2.0))
    assert by["b"].swing == pytest.approx(20 * 0.7)
    assert by["c"].swing == pytest.approx(7.0)


def test_a_random_sample_is_read_by_main_effects_in_quantile_bins():
    rng = np.random.default_rng(0)
    frame = _frame(zip(rng.uniform(1, 3, 400), rng.uniform(10, 30, 400), rng.choice(["x", "y"], 400), strict=True))
    swings = tornado(frame, "cost", BASE)
    assert [s.parameter for s in swings] == ["b", "a", "c"]
    assert all(s.method == "others averaged" for s in swings)
    assert {s.parameter: s.levels for s in swings} == {"a": 5, "b": 5, "c": 2}


def test_failed_runs_are_left_out():
    frame = _frame(itertools.product([1, 3], [20], ["x"]))
    frame.loc[len(frame)] = {"param.a": 9, "param.b": 20, "param.c": "x", "kpi.cost": np.nan}
    [a, *_] = tornado(frame, "cost", BASE)
    assert (a.parameter, a.levels, a.high_at) == ("a", 2, "3")
