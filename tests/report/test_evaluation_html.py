"""The compliance page (``fleet evaluate --format html``) without a browser: summary first,
a chart of the statuses with its numbers in a table, roll-ups per authority and unit with
names and IDs, every result, the page's CSP and unique anchors (tests/report/
test_html_browser.py opens it in Chromium at 1366 px)."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from appveto.compliance.evaluate import evaluate
from appveto.compliance.model import Evaluation
from appveto.fleet.queries import StoreFleet
from appveto.fleet.store import Store
from appveto.policy import load_policies
from appveto.report.evaluation import HTML_COLUMNS
from appveto.report.html import CSP
from appveto.report.registry import render
from tests.compliance import world

AT = date(2024, 3, 20)


def evaluation_html(root: Path) -> tuple[str, Evaluation]:
    root.mkdir(parents=True, exist_ok=True)
    policies = load_policies(world.write_policies(root))
    with Store.open(f"sqlite:///{root / 'store.db'}") as store:
        world.load_fleet(store, root)
        ev = evaluate(policies, StoreFleet(store), at=AT)
    html = render("evaluation", "html", ev)
    assert isinstance(html, str)
    return html, ev


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.order: list[str] = []
        self.ids: list[str] = []
        self.th_without_scope = 0
        self.tables: dict[str, list[list[str]]] = {}
        self.svg_labels: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
            self.order.append(a["id"] or "")
        if tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        if tag == "svg":
            self.svg_labels.append(a.get("aria-label") or "")
        if tag == "caption":
            self._caption = True
        if tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        if tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._caption = False
        if tag == "table":
            self._table = None
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._caption:
            self._table = data
            self.tables[data] = []
        elif self._cell is not None:
            self._cell.append(data)


def test_summary_first_then_chart_rollups_and_every_result(tmp_path: Path) -> None:
    html, ev = evaluation_html(tmp_path / "world")
    assert f'content="{CSP}"' in html
    p = _Page()
    p.feed(html)
    p.close()
    assert len(p.ids) == len(set(p.ids)), "an anchor is used twice"
    assert p.th_without_scope == 0
    sections = [
        i for i in p.order if i in ("summary", "statuses", "decisions", "by-authority", "by-org_unit")
    ]
    assert sections == ["summary", "statuses", "decisions", "by-authority", "by-org_unit"]
    # the chart's text alternative and its table hold the same counts
    (label,) = p.svg_labels
    counts = p.tables["Devices and people per status, all decisions in force"]
    assert len(counts) > 2  # header + several statuses
    for row in counts[1:]:
        assert f"{row[0]}: {row[2]} devices" in label
    # roll-ups: one row per authority / unit, with its name and its ID
    for kind, caption in (
        ("authority", "Devices per status in each authority"),
        ("org_unit", "Devices per status in each unit (a unit includes its sub-units)"),
    ):
        rows = p.tables[caption][1:]
        expected = [r for r in ev.rollups if r.kind == kind]
        assert len(rows) == len(expected) > 0
        for r in expected:
            assert any(row[0].startswith(r.name) and r.id in row[0] for row in rows), r
    # decisions: title and ID
    decisions = p.tables[next(c for c in p.tables if c.startswith("Decisions on"))][1:]
    for d in ev.decisions:
        assert any(d.title in row[0] and d.decision_id in row[0] for row in decisions)
    results = p.tables[f"{len(ev.results)} results, by decision, person, device and app"]
    assert results[0] == list(HTML_COLUMNS) and len(results) == len(ev.results) + 1
