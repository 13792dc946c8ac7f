"""Text report: goldens with a fixed --now, the verdict up front."""

from __future__ import annotations

from appveto.report.text import render_scan_text
from appveto.scan import error_record
from tests.report.helpers import record


def test_verdict_comes_first_and_errors_are_shown() -> None:
    rec = record("quark-ahmyth-rat.apk")
    text = render_scan_text([rec, error_record("gone.apk", "gone.apk: no such file")])
    lines = text.splitlines()
    assert lines[0] == "== quark-ahmyth-rat.apk"
    assert lines[1].strip().startswith("verdict") and str(rec.score.total if rec.score else "") in lines[1]
    assert "== gone.apk" in text and "error: gone.apk: no such file" in text
