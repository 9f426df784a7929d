"""The Plan page with design alternatives: every combination in a table, the chosen plan below it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
CHOICES = Path(__file__).parent / "specs" / "plan-choices.yaml"


def test_plan_page_shows_every_alternative_and_the_chosen_one():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run().switch_page("ui/pages/facility.py").run()
    at.file_uploader(key="upload").upload(CHOICES.name, CHOICES.read_bytes(), "application/x-yaml").run()
    at.switch_page("ui/pages/plan.py").run()
    at.button(key="plan_run").click().run()
    assert not at.exception
    table = at.session_state.plan_alternatives
    assert len(table) == 4  # 2 supply temperatures x 2 kinds of plant
    assert table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    # The chosen row is the best by the rule shown: fewest unmet-heat hours, then the twin's cost per token.
    best = table.sort_values(["unmet_heat_hours", "twin_cost_per_million_tokens_usd"]).iloc[0]
    assert (chosen["supply_c"], chosen["equipment"]) == (best["supply_c"], best["equipment"])
    shown = next(d.value for d in at.dataframe if "Chosen" in d.value.columns)
    assert len(shown) == 4
    assert not [c for c in shown.columns if shown[c].map(lambda v: isinstance(v, float)).any()]  # formatted text only
    assert f"supply_c: {chosen['supply_c']}" in at.session_state.plan_result.yaml_text
