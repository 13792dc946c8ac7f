"""Validate a JSON value against a schema of a Google API discovery document.

Discovery documents (``discoveryVersion: v1``) describe request bodies with a JSON
Schema dialect of their own: ``$ref`` holds a bare schema id from the document's
``schemas``, enums come with ``enumDeprecated``, fields can be ``readOnly`` or
``deprecated``, 64-bit integers travel as strings (``format: int64``) and maps use
``additionalProperties``. ``jsonschema`` does not understand those conventions, so
this small walker does: every property must be known, every type and enum value
valid, and read-only or deprecated fields are reported, each problem with its JSON
path. The document is a parameter (appveto does not ship it; the tests load the
copy in google-api-python-client).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_INT_RE = re.compile(r"^-?[0-9]+$")


@dataclass(frozen=True, slots=True, order=True)
class SchemaProblem:
    path: str
    """JSON path of the offending value, e.g. ``$.applications[0].installType``."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate(
    value: Any, schema_id: str, document: Mapping[str, Any], *, max_depth: int = 64
) -> tuple[SchemaProblem, ...]:
    """Every problem of ``value`` against ``document['schemas'][schema_id]``, sorted by path."""
    schemas = document.get("schemas")
    if not isinstance(schemas, Mapping) or schema_id not in schemas:
        return (SchemaProblem("$", f"the discovery document has no schema '{schema_id}'"),)
    problems: list[SchemaProblem] = []
    _check(value, {"$ref": schema_id}, schemas, "$", problems, max_depth)
    return tuple(sorted(problems))


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any] | None:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        target = schemas.get(ref)
        if not isinstance(target, Mapping) or seen > 32:
            return None
        # Keep the referring schema's own flags (deprecated, readOnly) visible to the caller.
        schema = target
        seen += 1
    return schema


def _check(
    value: Any,
    schema: Mapping[str, Any],
    schemas: Mapping[str, Any],
    path: str,
    out: list[SchemaProblem],
    depth: int,
) -> None:
    if depth <= 0:
        out.append(SchemaProblem(path, "value nested too deeply"))
        return
    if schema.get("deprecated"):
        out.append(SchemaProblem(path, "field is deprecated"))
    if schema.get("readOnly"):
        out.append(SchemaProblem(path, "field is read-only (output only)"))
    resolved = _resolve(schema, schemas)
    if resolved is None:
        out.append(SchemaProblem(path, f"unresolvable $ref '{schema.get('$ref')}'"))
        return
    kind = resolved.get("type")
    fmt = resolved.get("format")
    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, Mapping):
            out.append(SchemaProblem(path, f"expected an object, got {_json_type(value)}"))
            return
        props = resolved.get("properties")
        extra = resolved.get("additionalProperties")
        for key in sorted(value):
            sub = f"{path}.{key}"
            if isinstance(props, Mapping) and key in props:
                _check(value[key], props[key], schemas, sub, out, depth - 1)
            elif isinstance(extra, Mapping):
                _check(value[key], extra, schemas, sub, out, depth - 1)
            else:
                out.append(SchemaProblem(sub, "unknown property"))
        return
    if kind == "array":
        if not isinstance(value, list):
            out.append(SchemaProblem(path, f"expected an array, got {_json_type(value)}"))
            return
        items = resolved.get("items", {})
        for i, item in enumerate(value):
            _check(item, items, schemas, f"{path}[{i}]", out, depth - 1)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append(SchemaProblem(path, f"expected a boolean, got {_json_type(value)}"))
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(SchemaProblem(path, f"expected an integer, got {_json_type(value)}"))
        elif fmt == "int32" and not -(2**31) <= value < 2**31:
            out.append(SchemaProblem(path, "integer out of int32 range"))
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(SchemaProblem(path, f"expected a number, got {_json_type(value)}"))
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append(SchemaProblem(path, f"expected a string, got {_json_type(value)}"))
            return
        if fmt in ("int64", "uint64") and not _INT_RE.match(value):
            out.append(SchemaProblem(path, f"expected a decimal {fmt} in a string"))
        enum = resolved.get("enum")
        if isinstance(enum, list):
            if value not in enum:
                out.append(SchemaProblem(path, f"'{value}' is not one of {', '.join(map(str, enum))}"))
            else:
                flags = resolved.get("enumDeprecated")
                if isinstance(flags, list) and len(flags) == len(enum) and flags[enum.index(value)]:
                    out.append(SchemaProblem(path, f"enum value '{value}' is deprecated"))
        return
    out.append(SchemaProblem(path, f"schema has unknown type '{kind}'"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
