"""The scan document: its JSON Schema, and byte-stable JSON output.

``results[]`` holds one :class:`~appveto.scan.record.ScanRecord` (the scan use case's
result model) per input, in input order; this module only serialises them.

The JSON Schema is generated from these models (``appveto schema scan`` prints it);
the same models read a saved document back (:func:`load_document`), so ``compare``
and ``diff`` accept saved JSON as well as APKs. Output is sorted and carries no clock
but ``--now``: the same input and ``--now`` give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from appveto import __version__
from appveto.errors import Diagnostic, ReportError
from appveto.report.registry import renderer
from appveto.scan.record import ScanRecord

SCHEMA_VERSION = "1.1"
"""1.0: the reader's facts; 1.1 adds findings, coverage, score, verdicts, trackers,
endpoints, failures and provenance beside them (additive: 1.0 readers keep working)."""

SCHEMA_ID = "https://appveto.org/schema/scan-1.1.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScanDocument(_Frozen):
    """The document ``appveto scan --format json`` writes."""

    schema_version: Literal["1.1"] = "1.1"
    appveto_version: str = __version__
    results: tuple[ScanRecord, ...]


def document(records: Sequence[ScanRecord]) -> ScanDocument:
    return ScanDocument(results=tuple(records))


# ------------------------------------------------------------------ output


def dumps(value: Any) -> str:
    """Stable JSON: sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@renderer(
    "scan",
    "json",
    description="the scan document (appveto schema scan)",
)
def render_json(records: Sequence[ScanRecord]) -> str:
    return dumps(document(records).model_dump(mode="json"))


def scan_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`ScanDocument`."""
    schema = ScanDocument.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_schema() -> str:
    return dumps(scan_schema())


def load_document(path: str | Path) -> ScanDocument:
    """Read a saved scan document; errors name the file and the failing field."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"{p}: {exc.strerror or exc}", diagnostics=(Diagnostic(str(exc.strerror or exc), file=str(p)),)
        ) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise ReportError(
            f"{p}: not JSON",
            diagnostics=(Diagnostic(f"not JSON: {exc}", file=str(p), line=line, column=col),),
        ) from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else None
        raise ReportError(
            f"{p}: not an appveto scan document",
            diagnostics=(
                Diagnostic(
                    f"expected an appveto scan document with schema_version {SCHEMA_VERSION!r}, "
                    f"found {found!r} (write it with 'appveto scan --format json')",
                    file=str(p),
                ),
            ),
        )
    try:
        return ScanDocument.model_validate(data)
    except ValidationError as exc:
        diags = tuple(
            Diagnostic(f"at {'/'.join(str(x) for x in e['loc'])}: {e['msg']}", file=str(p))
            for e in exc.errors()[:20]
        )
        raise ReportError(f"{p}: does not match the scan schema", diagnostics=diags) from None
