"""Shared by the report tests: a fixed clock, scans of corpus files by their bare name
(so outputs hold no machine path), golden-file comparison."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pytest

from appveto.kb import load_baseline
from appveto.kb.model import KnowledgeBase
from appveto.report.json_report import ScanRecord, load_document, scan_record
from tests.conftest import REPO, corpus_apk

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NOW_ARG = "2026-11-29T12:00:00+00:00"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("APPVETO_UPDATE_GOLDEN") == "1"
GOLDEN_APKS = ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk", "dendroid-rat-dexguarded.apk")


@lru_cache(maxsize=1)
def kb() -> KnowledgeBase:
    return load_baseline()


@contextmanager
def in_dir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def record(name: str) -> ScanRecord:
    """The scan record of a corpus APK, scanned by its bare file name at :data:`NOW`."""
    return _record(name, str(corpus_apk(name).parent))


@lru_cache(maxsize=64)
def _record(name: str, folder: str) -> ScanRecord:
    with in_dir(Path(folder)):
        return scan_record(name, kb(), now=NOW)


def check_golden(name: str, text: str | bytes) -> None:
    """Compare with ``golden/<name>``; APPVETO_UPDATE_GOLDEN=1 rewrites it."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            path.write_bytes(data)
            pytest.fail(
                f"golden/{name} was missing and has been written: review and commit it", pytrace=False
            )
        path.write_bytes(data)
        return
    want = path.read_bytes()
    if want != data:
        diff = "".join(
            list(
                difflib.unified_diff(
                    want.decode("utf-8", "replace").splitlines(True),
                    data.decode("utf-8", "replace").splitlines(True),
                    f"golden/{name}",
                    "now",
                    n=2,
                )
            )[:80]
        )
        pytest.fail(
            f"output differs from golden/{name}; if the change is intended, regenerate with "
            f"APPVETO_UPDATE_GOLDEN=1 pytest tests/report and review the diff:\n{diff}",
            pytrace=False,
        )


# What a scan's judgement depends on (reader, checks, scoring, reference data). The
# rendering goldens are made from a frozen scan of each APK; whether that frozen scan
# still equals a fresh one is only asked while these files are unchanged.
PIPELINE_PARTS = (
    "src/appveto/__init__.py",
    "src/appveto/findings.py",
    "src/appveto/scan.py",
    "src/appveto/scoring.py",
    "src/appveto/apk",
    "src/appveto/checks",
    "src/appveto/kb",
)
FINGERPRINT = GOLDEN / "pipeline.sha256"


def pipeline_fingerprint() -> str:
    import hashlib

    h = hashlib.sha256()
    for part in PIPELINE_PARTS:
        root = REPO / part
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".json"))
        )
        for f in files:
            h.update(f.relative_to(REPO).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def frozen(name: str) -> ScanRecord:
    """The frozen scan of a golden APK (``golden/<stem>.scan.json``, itself appveto's output)."""
    path = GOLDEN / f"{Path(name).stem}.scan.json"
    if UPDATE:
        from appveto.report.json_report import render_json

        path.write_text(render_json([record(name)]), encoding="utf-8")
        FINGERPRINT.write_text(pipeline_fingerprint() + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"golden/{path.name} is missing: run APPVETO_UPDATE_GOLDEN=1 pytest tests/report", pytrace=False
        )
    from appveto.errors import ReportError

    try:
        return load_document(path).results[0]
    except ReportError as exc:
        pytest.fail(
            f"golden/{path.name} no longer fits the scan models ({exc}); if the models changed on "
            "purpose, regenerate with APPVETO_UPDATE_GOLDEN=1 pytest tests/report and review the diff",
            pytrace=False,
        )
