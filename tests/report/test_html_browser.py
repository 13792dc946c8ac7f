"""The HTML reports in a real headless Chromium: self-contained, no console errors, no
network, accessible structure and contrast; a screenshot of each page is saved.

Set APPVETO_SCREENSHOT_DIR to keep the screenshots (they go to pytest's tmp dir otherwise).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appveto.report.compare import compare_records
from appveto.report.diff import diff_records
from appveto.report.html import render_compare_html, render_diff_html, render_html
from appveto.report.pdf import CHROMIUM_ARGS
from tests.conftest import require_tool
from tests.report.helpers import record

ALLOWED = ("file:", "data:", "about:")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


def _luminance(rgb: tuple[float, float, float]) -> float:
    def ch(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (ch(x) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(css: str) -> tuple[float, float, float]:
    nums = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return (nums[0], nums[1], nums[2])


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(_rgb(fg)), _luminance(_rgb(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


_COLOURS_JS = """
(sel) => Array.from(document.querySelectorAll(sel)).slice(0, 40).map(el => {
  let bg = 'rgb(255, 255, 255)';
  for (let n = el; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
  }
  return [getComputedStyle(el).color, bg, el.textContent.slice(0, 40)];
})
"""

_STRUCTURE_JS = """
() => ({
  lang: document.documentElement.lang,
  h1: document.querySelectorAll('h1').length,
  levels: Array.from(document.querySelectorAll('h1,h2,h3,h4')).map(h => +h.tagName[1]),
  thWithoutScope: document.querySelectorAll('th:not([scope])').length,
  tablesWithoutCaption: Array.from(document.querySelectorAll('table')).filter(t => !t.caption).length,
  svgWithoutLabel: Array.from(document.querySelectorAll('svg')).filter(
      s => !s.getAttribute('aria-label') || s.getAttribute('role') !== 'img').length,
  scripts: document.querySelectorAll('script').length,
  images: document.querySelectorAll('img').length,
  width: document.documentElement.scrollWidth,
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  brokenLinks: Array.from(document.querySelectorAll('a[href^="#"]')).filter(
      a => !document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)))).length,
  text: document.body.innerText,
})
"""


def open_report(browser: Any, html: str, tmp_path: Path, name: str, width: int = 1366) -> dict[str, Any]:
    """Load the file from disk as a person would, refuse every request that is not
    file:/data:, and return what the page showed."""
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    console: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        requests.append(url)
        if url.startswith(ALLOWED):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on(
        "console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    page.goto(path.as_uri(), wait_until="load")
    info: dict[str, Any] = page.evaluate(_STRUCTURE_JS)
    info["colours"] = {
        sel: page.evaluate(_COLOURS_JS, sel) for sel in ("body p", "th", "td", ".sev", "h2", ".small")
    }
    shot_dir = Path(os.environ.get("APPVETO_SCREENSHOT_DIR") or tmp_path)
    shot_dir.mkdir(parents=True, exist_ok=True)
    shot = shot_dir / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    info["requests"] = requests
    info["console"] = console
    info["screenshot"] = shot
    return info


def assert_good_page(info: dict[str, Any]) -> None:
    outside = [u for u in info["requests"] if not u.startswith(ALLOWED)]
    assert outside == [], f"the page asked for {outside}"
    assert info["console"] == []
    assert info["lang"] == "en"
    assert info["scripts"] == 0 and info["images"] == 0
    levels = info["levels"]
    assert levels and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), f"heading levels skip: {levels}"
    assert info["thWithoutScope"] == 0
    assert info["tablesWithoutCaption"] == 0
    assert info["svgWithoutLabel"] == 0
    assert info["width"] <= 1366, f"the page is {info['width']} px wide: it does not fit a 1366 px screen"
    assert len(info["ids"]) == len(set(info["ids"])), "an anchor is used twice"
    assert info["brokenLinks"] == 0
    for sel, rows in info["colours"].items():
        for fg, bg, text in rows:
            assert contrast(fg, bg) >= 4.5, f"{sel} '{text}': contrast {contrast(fg, bg):.2f} ({fg} on {bg})"
    shot: Path = info["screenshot"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_scan_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    rec = record("exodus-instapaper-trackers.apk")
    info = open_report(browser, render_html([rec]), tmp_path, "scan-report")
    assert_good_page(info)
    text = info["text"]
    assert rec.score is not None and rec.package and rec.sha256
    first = text.index("Verdict")
    assert first < text.index("Score and what makes it") < text.rindex("Provenance")
    for fact in (
        rec.package,
        str(rec.score.total),
        rec.sha256,
        "Endpoints by owner and jurisdiction",
        "Signer identity",
        "What this scan could not see",
        "Trackers and their vendors",
    ):
        assert fact in text, fact
    for t in rec.trackers:
        assert t.name in text
    for d in rec.datasets:
        assert d.name in text and d.date in text


def test_packed_app_report_states_its_limits(browser: Any, tmp_path: Path) -> None:
    rec = record("dendroid-rat-dexguarded.apk")
    assert rec.coverage is not None and rec.coverage.code_hidden
    info = open_report(browser, render_html([rec]), tmp_path, "scan-report-packed")
    assert_good_page(info)
    assert "Part of the code is hidden from this scan" in info["text"]
    for reason in rec.coverage.hidden_reasons:
        assert reason in info["text"]


def test_compare_page_in_chromium(browser: Any, tmp_path: Path) -> None:
    recs = [
        record(n)
        for n in ("exodus-instapaper-trackers.apk", "newsrepublic-adsdks.apk", "dendroid-rat-dexguarded.apk")
    ]
    info = open_report(browser, render_compare_html(compare_records(recs)), tmp_path, "compare")
    assert_good_page(info)
    for r in recs:
        assert r.package and r.package in info["text"]


def test_hostile_strings_stay_text(browser: Any, tmp_path: Path) -> None:
    evil = '<img src="http://evil.example/x.png"><script>console.error("pwned")</script>'
    rec = record("fdroid-souch-smsbypass.apk").model_copy(update={"label": evil, "version_name": evil})
    info = open_report(browser, render_html([rec]), tmp_path, "hostile")
    assert_good_page(info)
    assert evil in info["text"]


def test_diff_page_in_chromium(browser: Any, tmp_path: Path) -> None:
    d = diff_records(record("dendroid-rat-original.apk"), record("dendroid-rat-dexguarded.apk"))
    info = open_report(browser, render_diff_html(d), tmp_path, "diff")
    assert_good_page(info)
    assert "auditability-drop" in info["text"]
    assert d.score is not None and f"{d.score.new}" in info["text"]


def test_several_apps_on_one_page(browser: Any, tmp_path: Path) -> None:
    recs = [
        record(n)
        for n in ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk", "exodus-instapaper-trackers.apk")
    ]
    info = open_report(browser, render_html(recs), tmp_path, "scan-several")
    assert_good_page(info)  # unique anchors, links that land, fits 1366 px
    text = info["text"]
    assert text.index("Every app of this report") < text.index("Score and what makes it")
    for i, r in enumerate(recs, 1):
        assert f"app{i}" in info["ids"] and f"app{i}-score" in info["ids"]
        assert r.package and r.package in text


def test_compliance_page_in_chromium(browser: Any, tmp_path: Path) -> None:
    from tests.report.test_evaluation_html import evaluation_html

    html, ev = evaluation_html(tmp_path / "world")
    info = open_report(browser, html, tmp_path, "compliance")
    assert_good_page(info)
    text = info["text"]
    assert (
        text.index("need")
        < text.index("Devices by status")
        < text.index("By authority")
        < text.index("By unit")
    )
    assert text.index("By unit") < text.index("Every result")
    for r in ev.rollups:
        assert r.name in text and r.id in text
