"""Golden files (snapshots): one comparison for every golden test of the suite.

A golden test never skips because an output changed: a difference fails with a unified
diff of the first lines that differ. Regenerating is explicit: ``make goldens`` (which sets
``APPVETO_UPDATE_GOLDEN=1``) rewrites the files, and the rewritten files are reviewed in
the commit like any other change. A missing golden file fails too; tests never write into
the repository unless asked to.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("APPVETO_UPDATE_GOLDEN") == "1"
DIFF_LINES = 80


def golden_diff(want: bytes, got: bytes, label: str) -> str:
    """A unified diff of two golden texts (at most :data:`DIFF_LINES` lines), or '' if equal."""
    if want == got:
        return ""
    lines = list(
        difflib.unified_diff(
            want.decode("utf-8", "replace").splitlines(True),
            got.decode("utf-8", "replace").splitlines(True),
            f"golden/{label}",
            "now",
            n=2,
        )
    )
    if not lines:  # the same text up to line ends or undecodable bytes
        return f"golden/{label}: the bytes differ (line endings or encoding)\n"
    more = len(lines) - DIFF_LINES
    return "".join(lines[:DIFF_LINES]) + (f"... {more} more diff lines\n" if more > 0 else "")


def assert_golden(path: Path, data: str | bytes, label: str | None = None) -> None:
    """``path`` holds exactly ``data``; ``make goldens`` writes it instead."""
    got = data.encode("utf-8") if isinstance(data, str) else data
    name = label or path.name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got)
        return
    if not path.exists():
        pytest.fail(f"golden/{name} is missing: run `make goldens`, review and commit it", pytrace=False)
    diff = golden_diff(path.read_bytes(), got, name)
    if diff:
        pytest.fail(
            f"output differs from golden/{name}; if the change is intended, run `make goldens` and "
            f"review the diff in the commit:\n{diff}",
            pytrace=False,
        )
