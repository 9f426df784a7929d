"""Shared fixtures: paths to the examples and the small test facility."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "facility_specs").glob("*.yaml"))
SMALL = ROOT / "tests" / "specs" / "small.yaml"
REFERENCE = ROOT / "facility_specs" / "reference-100mw-gb300.yaml"
PILOT = ROOT / "facility_specs" / "pilot-2mw-h100.yaml"
RETROFIT = ROOT / "facility_specs" / "retrofit-mixed-gen.yaml"


@pytest.fixture(scope="session")
def small_text() -> str:
    return SMALL.read_text()


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path, monkeypatch):
    """The app keeps drafts and scenarios in `$AIFT_RUNS`: a test's own folder unless its module chose one."""
    if "AIFT_RUNS" not in os.environ:
        monkeypatch.setenv("AIFT_RUNS", str(tmp_path / "runs"))
