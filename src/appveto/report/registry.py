"""Formats plug in here: a :class:`Reporter` per format name; CLI choices are the keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from appveto.scan.record import ScanRecord


class RenderScan(Protocol):
    def __call__(self, records: Sequence[ScanRecord]) -> str | bytes: ...


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str
    media_type: str
    extension: str
    binary: bool
    render: RenderScan
    description: str


def _json(records: Sequence[ScanRecord]) -> str:
    from appveto.report.json_report import render_json

    return render_json(records)


def _sarif(records: Sequence[ScanRecord]) -> str:
    from appveto.report.sarif import render_sarif

    return render_sarif(records)


def _html(records: Sequence[ScanRecord]) -> str:
    from appveto.report.html import render_html

    return render_html(records)


def _pdf(records: Sequence[ScanRecord]) -> bytes:
    from appveto.report.html import render_html
    from appveto.report.pdf import html_to_pdf

    return html_to_pdf(render_html(records))


def _text(records: Sequence[ScanRecord]) -> str:
    from appveto.report.text import render_scan_text

    return render_scan_text(records)


REPORTERS: dict[str, Reporter] = {
    r.name: r
    for r in (
        Reporter("text", "text/plain", "txt", False, _text, "a summary per APK for a terminal"),
        Reporter("json", "application/json", "json", False, _json, "the scan document (appveto schema scan)"),
        Reporter("sarif", "application/sarif+json", "sarif", False, _sarif, "SARIF 2.1.0, one run per APK"),
        Reporter("html", "text/html", "html", False, _html, "one self-contained page for people"),
        Reporter("pdf", "application/pdf", "pdf", True, _pdf, "the HTML report printed by Chromium"),
    )
}
