"""The app's Compare page on a damaged results store says what is wrong and how to recover."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.store_support import fill_store


def test_compare_names_a_damaged_store_and_the_repair(monkeypatch, tmp_path):
    runs = fill_store(tmp_path)
    (runs / "index.sqlite").write_bytes(b"not a database\n" * 100)
    monkeypatch.setenv("AIFT_RUNS", str(runs))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run().switch_page("ui/pages/compare.py").run()
    assert not app.exception
    assert "is damaged (file is not a database)" in app.error[0].value
    assert f"aift runs repair --runs {runs}" in app.error[0].value
