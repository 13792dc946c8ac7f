"""The HTML report without a browser: self-contained on every corpus APK, escaped, valid nesting."""

from __future__ import annotations

from html.parser import HTMLParser

from appveto.report.html import CSP, render_html
from appveto.scan import error_record
from tests.report.helpers import record

VOID = {"meta", "link", "br", "rect", "hr", "img", "input"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.refs: list[str] = []
        self.problems: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k in ("src", "href", "action", "poster", "srcset", "xlink:href") and v is not None:
                self.refs.append(v)
            if k.startswith("on"):
                self.problems.append(f"event handler {k} on <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            return
        self.stack.pop()


def check(html: str) -> _Checker:
    c = _Checker()
    c.feed(html)
    c.close()
    assert c.problems == []
    assert c.stack == [], f"unclosed: {c.stack}"
    assert all(r.startswith(("#", "data:")) for r in c.refs), [r for r in c.refs if not r.startswith("#")]
    assert c.tags.get("script", 0) == 0 and c.tags.get("img", 0) == 0
    assert f'content="{CSP}"' in html
    return c


def test_hostile_values_are_escaped() -> None:
    evil = '"><script>alert(1)</script><a href="https://evil.example/">x</a>'
    rec = record("quark-ahmyth-rat.apk").model_copy(update={"label": evil, "file": evil})
    html = render_html([rec])
    c = check(html)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert evil in "".join(c.text)  # read back, a person sees the value as it was


def test_unreadable_input_and_batches() -> None:
    html = render_html(
        [error_record("x.apk", "x.apk: not a zip archive"), record("fdroid-souch-smsbypass.apk")]
    )
    c = check(html)
    assert c.tags["article"] == 2 and "not a zip archive" in html and "could not be read" in html


def test_several_apps_have_a_summary_and_their_own_anchors() -> None:
    import re

    names = ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk")
    html = render_html([record(n) for n in names] + [error_record("x.apk", "x.apk: not a zip archive")])
    c = check(html)
    assert c.tags["article"] == 3
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) and {"app1", "app2", "app3", "app1-score", "app2-score"} <= set(ids)
    assert {r[1:] for r in c.refs if r.startswith("#")} <= set(ids)  # every link lands
    summary = html[: html.index("<article")]
    assert all(f'href="#app{i}"' in summary for i in (1, 2, 3))
