"""Compliance outputs read back with the standard parsers: CSV, HTML and e-mail.

The fleet of ``world`` is imported with names that break naive writers (commas, double
quotes, semicolons, angle brackets, ampersands, non-ASCII) in app names, device names and
people's names. ``appveto fleet evaluate`` in JSON, CSV and HTML must then say the same
thing: the CSV read by :mod:`csv`, the HTML table read by :mod:`html.parser` and the JSON
read by :mod:`json` hold the same rows, field for field. Each notice ``.eml`` read by
:mod:`email` has exactly one recipient, the person's own address, under the person's
name, and no header the input could have forged.

The names start with a letter: what an escaper may add before a formula character
(``=``, ``+``, ``-``, ``@``) for spreadsheets is another test's business.
"""

from __future__ import annotations

import csv
import io
import json
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path

import pytest

from appveto.cli import main as cli_main
from tests.compliance import world

APP_NAME = 'TikTok, "Lite"; <b>&amp;</b> édition'
DEVICE_NAME = 'Jane\'s phone, <i>2nd</i> & "work"'
PERSON_NAME = 'Doe, Jane "JJ" <jane@evil.example> (IT) & Zoë'
AT = "2024-04-15"  # after fed-ban's remove_by: overdue devices, notices to send


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    mods = tuple(cli_main.COMMAND_MODULES)
    for m in ("appveto.cli.init_cmd", "appveto.cli.fleet_cmd", "appveto.cli.compliance_cmd"):
        if m not in mods:
            mods += (m,)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", mods)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = cli_main.main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _hostile_inventory(new: bool) -> str:
    rows = list(csv.reader(io.StringIO(world.inventory_csv(new))))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*rows[0], "device_name"])
    for row in rows[1:]:
        app_name = APP_NAME if row[5] == "TikTok" else row[5]
        w.writerow([*row[:5], app_name, f"{DEVICE_NAME} {row[0]}"])
    return out.getvalue()


def _hostile_directory() -> str:
    doc = json.loads(world.directory_json())
    for p in doc["people"]:
        p["display_name"] = f"{PERSON_NAME} {p['id']}"
    return json.dumps(doc)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parse-back")
    mp = pytest.MonkeyPatch()
    mods = tuple(cli_main.COMMAND_MODULES)
    for m in ("appveto.cli.init_cmd", "appveto.cli.fleet_cmd", "appveto.cli.compliance_cmd"):
        if m not in mods:
            mods += (m,)
    mp.setattr(cli_main, "COMMAND_MODULES", mods)
    try:
        ws = root / "ws"
        assert cli_main.main(["init", str(ws)]) == 0
        world.write_policies(ws)
        (root / "directory.json").write_text(_hostile_directory(), encoding="utf-8")
        assert cli_main.main(["directory", "import", str(root / "directory.json"), "-w", str(ws)]) == 0
        for name, at, new in (("old.csv", world.OLD, False), ("new.csv", world.NEW, True)):
            (root / name).write_text(_hostile_inventory(new), encoding="utf-8")
            args = ["fleet", "import", "--source", "generic-csv", str(root / name), "--at", at.isoformat()]
            assert cli_main.main([*args, "-w", str(ws)]) == 0
    finally:
        mp.undo()
    return ws


def _evaluate(ws: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    return _run(capsys, "fleet", "evaluate", "--at", AT, "--format", fmt, "-w", str(ws))


def _plain(value: object) -> str:
    return "" if value is None else str(value)


class _Table(HTMLParser):
    """The header and body cells of the results table, as the text a browser shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_head = False
        self._in_results = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._in_results = ("id", "results-table") in attrs
        if not self._in_results:
            return
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_results = False
        if not self._in_results:
            return
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            (self.head if self._in_head else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_csv_html_and_json_hold_the_same_rows(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_evaluate(workspace, "json", capsys))
    results = doc["results"]
    assert len(results) >= 5
    assert any(r["app_name"] == APP_NAME for r in results)  # the hostile names reached the output
    assert any(r["device_name"] and r["device_name"].startswith(DEVICE_NAME) for r in results)

    rows = list(csv.DictReader(io.StringIO(_evaluate(workspace, "csv", capsys), newline="")))
    columns = list(rows[0])
    assert {"app_name", "device_name", "status"} <= set(columns)
    # limitation rows (what the evaluation could not see) come first, one per JSON limitation
    limits = [r for r in rows if r["status"] == "limitation"]
    assert rows[: len(limits)] == limits
    assert [(r["decision"], r["part"], r["reason"]) for r in limits] == [
        (_plain(x["decision"]), _plain(x["part"]), x["kind"]) for x in doc["limitations"]
    ]
    found = rows[len(limits) :]
    assert found == [{k: _plain(r.get(k)) for k in columns} for r in results]

    table = _Table()
    table.feed(_evaluate(workspace, "html", capsys))
    table.close()
    assert set(table.head) <= set(columns) and "app_name" in table.head
    assert table.rows == [[r[c] for c in table.head] for r in found]


def test_notices_parse_back_with_one_recipient_each(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notices"
    _run(capsys, "fleet", "notices", "--at", AT, "--output", str(out), "-w", str(workspace))
    emls = sorted(out.glob("*.eml"))
    assert emls
    parser = BytesParser(policy=policy.default)
    for path in emls:
        msg = parser.parsebytes(path.read_bytes())
        person = msg["X-Appveto-Person"]
        assert path.stem == person
        assert not msg.defects
        assert {h: msg[h].defects for h in msg if msg[h].defects} == {}
        (to,) = msg["To"].addresses  # one recipient, whatever the name holds
        assert to.addr_spec == f"{person}@example.org"
        # the name as a mail client shows it (RFC 2047 encoded words may add a space between them)
        assert " ".join(to.display_name.split()) == f"{PERSON_NAME} {person}"
        assert msg.get_all("Bcc") is None and msg.get_all("Cc") is None
        assert "\n" not in str(msg["Subject"])
        body = msg.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert world.TIKTOK in text and person in text
