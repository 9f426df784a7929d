"""Shadow values cost a solve per limit: only on request, within one time budget for all of them."""

from __future__ import annotations

import json
import shutil

from optimizer.explain import limit_uses, shadow_values
from tests.cli_support import aift
from tests.plan_support import PLAN_SMALL, plan, small_spec


def test_a_plan_has_no_shadow_values_unless_asked(monkeypatch, capsys, tmp_path):
    spec_file = tmp_path / "site.yaml"
    shutil.copy(PLAN_SMALL, spec_file)
    assert aift(monkeypatch, "plan", spec_file, "--json", "--no-verify") == 0
    report = json.loads(capsys.readouterr().out)
    assert any(lim["binding"] for lim in report["limits"])
    assert report["shadow_values"] == []


def test_shadow_values_share_one_budget():
    p, sol, _, _ = plan(small_spec())
    binding = [u.limit.key for u in limit_uses(p, sol) if u.binding]
    assert binding
    assert shadow_values(p, sol, time_limit_s=0.0) == ()  # no time left: none priced, none pretended
    assert {v.limit.key for v in shadow_values(p, sol, time_limit_s=120.0)} == set(binding)


def test_a_shadow_budget_must_be_positive(monkeypatch, capsys, tmp_path):
    spec_file = tmp_path / "site.yaml"
    shutil.copy(PLAN_SMALL, spec_file)
    assert aift(monkeypatch, "plan", spec_file, "--shadow", "--shadow-time", "0") == 2
    assert "--shadow-time must be a positive number" in capsys.readouterr().err
