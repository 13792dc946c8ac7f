"""The JSON Schema of policy files, generated from the model so the two never drift.

Editors (e.g. the YAML language server) use it to validate as people type. It covers
the shape of one file (keys, types, enums, formats); the folder-wide rules (references
between files, dates in order, blanket exceptions) are checked by ``appveto policy check``.
"""

from __future__ import annotations

import copy
import functools
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from appveto.policy.model import AuthoritiesFile, Decision

SCHEMA_ID = "https://appveto.org/schema/policy-v1.json"


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one policy file: a decision or an authorities file."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    adapter: TypeAdapter[Decision | AuthoritiesFile] = TypeAdapter(
        Annotated[Decision | AuthoritiesFile, Field(discriminator="kind")]
    )
    schema = adapter.json_schema(mode="validation", ref_template="#/$defs/{model}")
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "appveto policy file",
        "description": (
            "One ban decision (kind: decision) or a list of authorities and their units "
            "(kind: authorities). Dates are YYYY-MM-DD."
        ),
    }
    out.update(schema)
    return out
