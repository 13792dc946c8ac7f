"""Shared by the report tests: a fixed clock, scans of corpus files by their bare name
(so outputs hold no machine path), golden-file comparison."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import pytest

from appveto.kb import load_baseline
from appveto.kb.model import KnowledgeBase
from appveto.report.json_report import load_document
from appveto.scan import ScanRecord, scan_apk
from tests.conftest import corpus_apk
from tests.goldens import UPDATE, assert_golden

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NOW_ARG = "2026-11-29T12:00:00+00:00"
GOLDEN = Path(__file__).parent / "golden"
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
        return scan_apk(name, kb(), now=NOW)


def check_golden(name: str, text: str | bytes) -> None:
    """Compare with ``golden/<name>`` (a difference fails with the diff); ``make goldens`` rewrites it."""
    assert_golden(GOLDEN / name, text)


def frozen(name: str) -> ScanRecord:
    """The frozen scan of a golden APK (``golden/<stem>.scan.json``, itself appveto's output)."""
    path = GOLDEN / f"{Path(name).stem}.scan.json"
    if UPDATE:
        from appveto.report.json_report import render_json

        path.write_text(render_json([record(name)]), encoding="utf-8")
    if not path.exists():
        pytest.fail(f"golden/{path.name} is missing: run `make goldens`", pytrace=False)
    from appveto.errors import ReportError

    try:
        return load_document(path).results[0]
    except ReportError as exc:
        pytest.fail(
            f"golden/{path.name} no longer fits the scan models ({exc}); if the models changed on "
            "purpose, run `make goldens` and review the diff",
            pytrace=False,
        )
