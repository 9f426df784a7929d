"""`aift` starts without the heavy libraries: each command imports what it needs when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REFERENCE, ROOT

HEAVY = ["pandas", "scipy", "pyomo", "pvlib", "dask", "streamlit", "networkx", "pint"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in json.loads(out.splitlines()[-1])}


def test_importing_the_cli_imports_no_heavy_library():
    loaded = _modules_after("import optimizer.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_validating_a_spec_imports_no_heavy_library():
    code = (f"import sys; sys.argv = ['aift', 'validate', {str(REFERENCE)!r}]\n"
            "from optimizer.cli import app\ncode = app(standalone_mode=False)\nassert code in (None, 0), code")
    loaded = _modules_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_power_cycle_is_still_named_in_full():
    # tx-1 -> ups-a -> bus-a -> tx-1 in tests/bad_specs/power-cycle.yaml: the cycle check that
    # no longer imports networkx for a valid spec still names the cycle of a broken one.
    r = subprocess.run([sys.executable, "-m", "optimizer.cli", "validate", "tests/bad_specs/power-cycle.yaml"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "cycle in the power chain: tx-1 -> ups-a -> bus-a -> tx-1" in r.stderr
