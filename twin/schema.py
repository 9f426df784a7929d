"""The JSON Schema of the facility spec, for editors (yaml-language-server) and other tools."""

from __future__ import annotations

from typing import Any

from twin.spec import Spec

SCHEMA_ID = "https://ai-factory-twin.dev/schema/facility.schema.json"


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a facility spec as the loader accepts it."""
    schema = Spec.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
