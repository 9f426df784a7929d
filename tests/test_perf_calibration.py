"""The shipped calibration: sourced, within its bounds, and meeting issue 13's accuracy target on both tables."""

from __future__ import annotations

import statistics
from pathlib import Path

from twin.loader import shipped_catalog
from twin.perf.calibration import FAMILY_KEYS, read_document
from twin.perf.fit import fit_points
from twin.perf.reference import REFERENCE_CSV, load_points, predict


def test_every_parameter_has_a_source_and_fitted_ones_stay_in_bounds():
    doc = read_document()
    params = [p for fam in doc["families"].values() for p in fam.values()]
    params += list(doc["parallelism"].values()) + list(doc["serving"].values())
    params += [e["max_concurrency"] for e in doc["engines"].values()]
    assert all(len(p["source"]) > 10 for p in params)
    for p in params:
        if "bounds" in p:
            assert p["bounds"][0] <= p["value"] <= p["bounds"][1]
            assert p["bounds"][0] <= p["default"] <= p["bounds"][1]
    systems = shipped_catalog().systems.values()
    assert {s.family for s in systems} <= set(doc["families"])
    assert all(set(FAMILY_KEYS) == set(f) for f in doc["families"].values())


def test_reference_points_ship_in_the_repo_with_their_sources():
    assert REFERENCE_CSV.is_relative_to(Path(__file__).resolve().parents[1])  # the repo, not a shared folder
    points = load_points()
    assert len(points) >= 30
    assert all(p.source.startswith(("InferenceX", "NVIDIA")) for p in points)


def test_model_meets_the_accuracy_targets_on_the_reference_points():
    cat = shipped_catalog()
    ratios = [predict(p, cat) / p.throughput_per_gpu for p in fit_points(cat)]
    assert statistics.median(abs(r - 1) for r in ratios) <= 0.20
    assert max(max(r, 1 / r) for r in ratios) <= 2.0
