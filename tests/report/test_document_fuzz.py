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


def _load(tmp: Path, data: bytes) -> None:
    path = tmp / "doc.json"
    path.write_bytes(data)
    try:
        load_document(path)
    except ReportError as exc:
        assert all(d.file == str(path) for d in exc.diagnostics())


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
    _load(tmp_path, good[:at] + junk + good[at + len(junk) :])


def test_deep_nesting(tmp_path: Path) -> None:
    _load(tmp_path, b"[" * 100_000 + b"]" * 100_000)
    _load(tmp_path, b'{"schema_version": "1.1", "results": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
