"""Cost allocation per tenant: showback by tokens served, chargeback by reserved GPUs; both add up to the annual cost."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import aift
from tests.conftest import PILOT
from twin.allocation import allocate, tenant_costs
from twin.evaluate import evaluate
from twin.loader import load_spec
from twin.overrides import apply_overrides


def test_two_tenants_by_hand():
    # A facility costing $1,000,000 a year. Tenant A: 3e9 tokens on 600 GPUs; B: 1e9 tokens on 400 GPUs.
    # Showback by tokens: A 3/4 -> $750,000 ($250 per million tokens), B 1/4 -> $250,000 ($250/Mtok).
    # Chargeback by GPUs:  A 6/10 -> $600,000 ($200/Mtok),              B 4/10 -> $400,000 ($400/Mtok).
    a, b = allocate(1_000_000.0, {"a": (["m1"], 3e9, 600.0), "b": (["m2"], 1e9, 400.0)})
    assert (a.showback_usd, a.chargeback_usd, b.showback_usd, b.chargeback_usd) == pytest.approx((750_000, 600_000, 250_000, 400_000))
    assert (a.showback_usd_per_million_tokens, a.chargeback_usd_per_million_tokens) == pytest.approx((250.0, 200.0))
    assert (b.showback_usd_per_million_tokens, b.chargeback_usd_per_million_tokens) == pytest.approx((250.0, 400.0))
    assert a.showback_usd + b.showback_usd == pytest.approx(1_000_000.0)
    assert a.chargeback_usd + b.chargeback_usd == pytest.approx(1_000_000.0)


def test_a_tenant_with_no_tokens_pays_its_reservation_and_has_no_cost_per_token():
    # tenants come back sorted by name; $100 over 1 + 3 GPUs: the idle tenant holds a quarter
    busy, idle = allocate(100.0, {"idle": (["m"], 0.0, 1.0), "busy": (["n"], 1e6, 3.0)})
    assert (idle.showback_usd, idle.chargeback_usd, idle.showback_usd_per_million_tokens) == (0.0, 25.0, None)
    assert busy.showback_usd == 100.0


def test_tenants_of_the_pilot_add_up_to_its_annual_cost():
    # The pilot serves llama-3.3-70b on 70 % and gpt-oss-120b on 30 % of every deployment's racks,
    # so the reserved GPUs split 0.7 / 0.3 of the 1,024 GPUs whatever the model's speeds.
    spec = apply_overrides(load_spec(PILOT), {"workload.models[0].tenant": "search", "workload.models[1].tenant": "chat"})
    ev = evaluate(spec)
    costs = {t.tenant: t for t in tenant_costs(spec, ev)}
    assert set(costs) == {"search", "chat"}
    assert costs["search"].capacity_share == pytest.approx(0.7)
    assert costs["chat"].gpus == pytest.approx(0.3 * 1024)
    annual = ev.kpis["annual_cost_usd"]
    assert sum(t.showback_usd for t in costs.values()) == pytest.approx(annual, rel=1e-12)
    assert sum(t.chargeback_usd for t in costs.values()) == pytest.approx(annual, rel=1e-12)
    tokens = sum(t.output_tokens_per_year for t in costs.values())
    assert tokens == pytest.approx(ev.kpis["output_tokens_per_year"], rel=1e-9)
    # by tokens, every tenant pays the facility's own cost per token
    assert costs["chat"].showback_usd_per_million_tokens == pytest.approx(ev.kpis["cost_per_million_tokens_usd"], rel=1e-9)


def test_evaluate_reports_tenants(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "pilot.yaml"
    spec.write_text(PILOT.read_text().replace("      share: 0.7\n", "      share: 0.7\n      tenant: search\n"))
    assert aift(monkeypatch, "evaluate", spec, "--json") == 0
    tenants = {t["tenant"]: t for t in json.loads(capsys.readouterr().out)["tenants"]}
    assert set(tenants) == {"search", "unassigned"}
    assert tenants["search"]["models"] == ["llama-3.3-70b"]
