"""The facility spec: examples validate, the schema matches, quantities and YAML 1.2 scalars parse."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from tests.conftest import EXAMPLES, ROOT, SMALL
from twin.catalog import GpuSpec
from twin.errors import SpecError
from twin.loader import load_spec, load_spec_text, shipped_catalog
from twin.schema import spec_json_schema
from twin.yamlio import load_yaml


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates(path):
    spec = load_spec(path)
    assert spec.deployments, "an example facility deploys racks"


def test_three_examples_exist():
    names = {p.stem for p in EXAMPLES}
    assert {"reference-100mw-gb300", "pilot-2mw-h100", "retrofit-mixed-gen"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_schema_validates_every_example(path):
    jsonschema.validate(load_yaml(path).data, spec_json_schema())  # YAML 1.2, as editors read it
    assert path.read_text().startswith("# yaml-language-server: $schema=schema/facility.schema.json")


def test_shipped_schema_file_is_current():
    shipped = json.loads((ROOT / "facility_specs" / "schema" / "facility.schema.json").read_text())
    assert shipped == spec_json_schema(), "run: aift schema --out facility_specs/schema/facility.schema.json --force"


def test_catalog_has_required_entries_each_with_a_source():
    cat = shipped_catalog()
    assert {"hgx-h100", "hgx-h200", "hgx-b200", "hgx-b300", "gb200-nvl72", "gb300-nvl72", "mi300x", "mi325x", "mi355x"} <= set(cat.systems)
    assert {"llama-3.3-70b", "llama-3.1-405b", "deepseek-r1", "gpt-oss-120b"} <= set(cat.models)
    kinds = {e.kind for e in cat.equipment.values()}
    assert {"transformer", "ups", "generator", "chiller", "dry_cooler", "cdu", "crah", "switch", "transceiver", "pdu", "busway"} <= kinds
    for entry in [*cat.systems.values(), *cat.models.values(), *cat.equipment.values()]:
        assert len(entry.source.strip()) > 10, entry.id


def test_reference_facility_size(small_text):
    spec = load_spec(ROOT / "facility_specs" / "reference-100mw-gb300.yaml")
    sysm = spec.cat.systems["gb300-nvl72"]
    racks = sum(d.racks for d in spec.deployments)
    assert spec.site.utility_mw == 100.0
    assert racks * sysm.rack_max_kw / 1000 < spec.site.utility_mw


def test_quantity_strings_convert_to_the_field_unit(small_text):
    a = load_spec_text(small_text.replace("utility_mw: 5 MW", "utility_mw: 5000 kW"))
    b = load_spec_text(small_text.replace("utility_mw: 5 MW", "utility_mw: 5"))
    assert a.site.utility_mw == pytest.approx(b.site.utility_mw) == pytest.approx(5.0)
    c = load_spec_text(small_text.replace("max_rack_kw: 150", "max_rack_kw: 0.15 MW"))
    assert c.halls[0].max_rack_kw == pytest.approx(150.0)


def test_yaml_1_2_scalars(small_text):
    spec = load_spec_text(small_text.replace("facility_capex", "x").replace("name: small", "name: no\neconomics: {facility_capex_usd_per_mw: 6e6}"))
    assert spec.name == "no"  # YAML 1.1 would have read False
    assert spec.economics.facility_capex_usd_per_mw == 6e6  # YAML 1.1 would have read a string


def test_inline_catalog_overrides_and_adds(small_text):
    text = small_text + (
        "catalog:\n  models:\n    - {id: tiny-8b, params_total_b: 8, params_active_b: 8, layers: 32, hidden_size: 4096,"
        " kv_heads: 8, head_dim: 128, precisions: [fp8], source: 'test entry, made up for the test'}\n"
    )
    spec = load_spec_text(text.replace("{model: gpt-oss-120b, precision: fp4, share: 0.5}", "{model: tiny-8b, precision: fp8, share: 0.5}"))
    assert spec.cat.models["tiny-8b"].layers == 32
    assert "tiny-8b" not in shipped_catalog().models


def test_every_problem_is_reported_at_once(small_text):
    text = small_text.replace("racks: 20}", "racks: -1}").replace("fabric: fab\n", "fabric: fabb\n").replace("postions", "x")
    text = text.replace("    positions: 24\n", "    postions: 24\n")
    with pytest.raises(SpecError) as exc:
        load_spec_text(text, "t.yaml")
    fields = {i.path for i in exc.value.issues}
    assert {"deployments[0].racks", "halls[0].postions"} <= fields


def test_spec_hash_changes_with_content(small_text):
    a = load_spec_text(small_text)
    b = load_spec_text(small_text.replace("price_usd_per_mwh: 80", "price_usd_per_mwh: 81"))
    assert a.spec_hash() != b.spec_hash()
    assert a.spec_hash() == load_spec(SMALL).spec_hash()


def test_generated_reference_is_current():
    from twin.docs import spec_reference_markdown

    assert (ROOT / "docs" / "spec-reference.md").read_text() == spec_reference_markdown(), "run: python -m twin.docs > docs/spec-reference.md"


def test_a_gpu_without_a_bf16_rate_is_refused():
    with pytest.raises(ValidationError, match="bf16"):
        GpuSpec(name="x", hbm_gb=80, hbm_tbps=3.35, dense_tflops={"fp8": 1979}, tdp_w=700)
