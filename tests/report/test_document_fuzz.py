"""Saved scan documents are input too: whatever the bytes, load_document returns a
document or raises a located ReportError, never anything else."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.errors import ReportError
from appveto.report.json_report import SCHEMA_VERSION, load_document, render_json
from tests.report.helpers import record

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def _load(tmp: Path, data: bytes) -> bool:
    """Load ``data``: a refusal names the file in every reason; a document read is written back
    and read again to the same facts. True when the bytes were a document."""
    path = tmp / "doc.json"
    path.write_bytes(data)
    try:
        doc = load_document(path)
    except ReportError as exc:
        diags = exc.diagnostics()
        assert diags and all(d.file == str(path) for d in diags)
        return False
    again = tmp / "again.json"
    again.write_text(render_json(list(doc.results)), encoding="utf-8")
    assert load_document(again).results == doc.results
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    _load(tmp_path, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(results=st.lists(_json, max_size=3))
def test_random_results(tmp_path: Path, results: list[object]) -> None:
    _load(tmp_path, json.dumps({"schema_version": SCHEMA_VERSION, "results": results}).encode())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**6), junk=st.binary(max_size=8))
def test_mangled_real_document(tmp_path: Path, cut: int, junk: bytes) -> None:
    good = render_json([record("fdroid-souch-smsbypass.apk")]).encode()
    at = cut % len(good)
    mangled = good[:at] + junk + good[at + len(junk) :]
    assert _load(tmp_path, mangled) or mangled != good


def test_deep_nesting(tmp_path: Path) -> None:
    assert not _load(tmp_path, b"[" * 100_000 + b"]" * 100_000)
    nested = b"[" * 50_000 + b"]" * 50_000
    assert not _load(tmp_path, b'{"schema_version": "1.1", "results": ' + nested + b"}")


def test_the_real_document_reads_back() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        assert _load(Path(tmp), render_json([record("fdroid-souch-smsbypass.apk")]).encode())
