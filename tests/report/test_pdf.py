"""PDF for the decision file: printed by Chromium, checked with pdftotext."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appveto.cli.main import main
from appveto.report.verdict import verdict
from tests.conftest import corpus_apk, require_tool
from tests.report.helpers import record


@pytest.fixture(autouse=True)
def _tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("chromium")
    require_tool("pdftotext")
    monkeypatch.setenv("APPVETO_DATA_DIR", str(tmp_path / "no-data"))


def pdf_text(path: Path) -> str:
    assert path.read_bytes()[:5] == b"%PDF-"
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return " ".join(out.stdout.split())


def test_scan_pdf_holds_the_key_facts(tmp_path: Path) -> None:
    name = "dendroid-rat-dexguarded.apk"
    out = tmp_path / "report.pdf"
    assert (
        main(
            ["scan", str(corpus_apk(name)), "--format", "pdf", "--now", "2026-11-29T12:00:00", "-o", str(out)]
        )
        == 0
    )
    text = pdf_text(out)
    rec = record(name)
    assert rec.package and rec.score is not None and rec.sha256
    assert rec.package in text
    assert f"score {rec.score.total} of 100" in text
    assert f"Verdict: {verdict(rec).headline}" in text
    assert rec.sha256[:32] in text.replace(" ", "")


def test_compare_pdf(tmp_path: Path) -> None:
    names = ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk")
    out = tmp_path / "compare.pdf"
    assert main(["compare", *(str(corpus_apk(n)) for n in names), "--format", "pdf", "-o", str(out)]) == 0
    text = pdf_text(out)
    for n in names:
        r = record(n)
        assert r.package and r.package in text
    assert "appveto comparison" in text
