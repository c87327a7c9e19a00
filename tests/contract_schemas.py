"""Validate data against the schemas of the API contract (tests/contract/openapi.yaml).

`validate("Membership", data)` raises jsonschema.ValidationError when `data` breaks the contract.
Formats (uuid, date-time, email) are checked too, since the contract's examples all follow them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

CONTRACT_PATH = Path(__file__).parent / "contract" / "openapi.yaml"
_CONTRACT_URI = "urn:memberships:contract"

__all__ = ["CONTRACT_PATH", "ValidationError", "contract", "schema_names", "validate", "validator"]


@lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    with CONTRACT_PATH.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


@lru_cache(maxsize=1)
def _registry() -> Registry:
    # OpenAPI 3.0 schemas are JSON Schema draft 4 with extensions; the whole document is one
    # resource so that "#/components/schemas/..." references resolve inside it.
    resource = Resource.from_contents(contract(), default_specification=DRAFT4)
    return Registry().with_resource(_CONTRACT_URI, resource)


def schema_names() -> list[str]:
    return sorted(contract()["components"]["schemas"])


@lru_cache(maxsize=None)
def validator(schema_name: str) -> OAS30Validator:
    if schema_name not in contract()["components"]["schemas"]:
        raise KeyError(f"no schema {schema_name!r} in the contract")
    schema = {"$ref": f"{_CONTRACT_URI}#/components/schemas/{schema_name}"}
    return OAS30Validator(
        schema, registry=_registry(), format_checker=OAS30Validator.FORMAT_CHECKER
    )


def validate(schema_name: str, instance: Any) -> None:
    """Raise ValidationError unless `instance` satisfies the contract's schema `schema_name`."""
    validator(schema_name).validate(instance)
