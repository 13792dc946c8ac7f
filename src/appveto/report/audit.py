"""The audit trail of ``appveto serve`` as a document: CSV (through the CSV rule) or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from appveto.outputs import csvcells
from appveto.report.registry import renderer


@dataclass(frozen=True, slots=True)
class AuditRows:
    """The entries of the trail, oldest first, as rows of ``columns``."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[object, ...]]


@renderer("audit", "csv", description="one row per entry; no cell a spreadsheet evaluates")
def render_csv(trail: AuditRows) -> str:
    return csvcells.document(trail.columns, trail.rows)


@renderer(
    "audit",
    "jsonl",
    description="one JSON object per line and entry",
    media_type="application/jsonl",
    extension="jsonl",
)
def render_jsonl(trail: AuditRows) -> str:
    return "".join(
        json.dumps(dict(zip(trail.columns, row, strict=True)), ensure_ascii=False, sort_keys=True) + "\n"
        for row in trail.rows
    )
