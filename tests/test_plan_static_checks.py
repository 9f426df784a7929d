"""The written plan passes the twin's own N-1 load checks (`aift twin`), busway losses and CDU pumps included.

The 100 MW reference with everything open: its UPS groups power the CDU pumps and feed
busways with losses, and its plants take the CDUs' pump heat on top of the IT's, so sizing
for the racks' nameplate alone leaves them 1-2 % short of the twin's design load.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from benchmarks.bench_plan import OPEN, REFERENCE
from optimizer.plan_yaml import plan_to_spec_yaml
from optimizer.problem import problem_from_spec
from optimizer.solve import solve
from optimizer.static_sizing import meet_static_checks
from tests.cli_support import aift
from tests.plan_support import PLAN_SMALL, plan, static_check_failures
from twin.analysis import node_loads
from twin.loader import load_spec, load_spec_text
from twin.overrides import apply_overrides


def test_the_reference_plan_passes_the_n_minus_1_checks():
    p, sol, _, written = plan(apply_overrides(load_spec(REFERENCE), OPEN), rel_gap=1e-3)
    assert static_check_failures(p, written) == []
    kinds = {n.kind for n in node_loads(written)}
    assert {"ups", "busway", "cdu", "dry_cooler"} <= kinds  # the checks cover the groups the issue named
    ups = [st for h in p.halls for st in h.stages if st.id.startswith("ups")]
    assert all(st.load_factor > 1.0 for st in ups)  # their busways lose power and they run the CDU pumps


def test_a_plan_written_by_the_cli_passes_them(monkeypatch, tmp_path):
    spec_file, out = tmp_path / "site.yaml", tmp_path / "plan.yaml"
    shutil.copy(PLAN_SMALL, spec_file)
    assert aift(monkeypatch, "plan", spec_file, "--out", out, "--no-verify") == 0
    assert static_check_failures(problem_from_spec(load_spec(spec_file)), load_spec(out)) == []


def test_a_group_the_twin_finds_short_gets_the_units_it_lacks():
    # Sized for the racks' nameplate alone (load factors of 1), the reference's UPS groups come out short of
    # the twin's design load (their busways' losses, the CDU pumps); the check adds what they lack, at its cost.
    spec = apply_overrides(load_spec(REFERENCE), OPEN)
    p = problem_from_spec(spec)
    bare = replace(
        p,
        halls=tuple(replace(h, stages=tuple(replace(st, load_factor=1.0) for st in h.stages)) for h in p.halls),
        site_stages=tuple(replace(st, load_factor=1.0) for st in p.site_stages),
    )
    sol = solve(bare, rel_gap=1e-3)
    assert static_check_failures(bare, load_spec_text(plan_to_spec_yaml(spec, sol)))
    fixed = meet_static_checks(spec, bare, sol)
    assert static_check_failures(bare, load_spec_text(plan_to_spec_yaml(spec, fixed))) == []
    added = {k: c.installed_units - sol.equipment[k].installed_units for k, c in fixed.equipment.items() if c != sol.equipment[k]}
    assert added
    assert all(n > 0 for n in added.values())
    assert fixed.capex_usd > sol.capex_usd
    assert fixed.annual_cost_usd > sol.annual_cost_usd
    assert fixed.racks == sol.racks
