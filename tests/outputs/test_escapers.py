"""One escaping rule per medium: terminal, CSV, HTML, e-mail, Markdown."""

from __future__ import annotations

import csv
import email
import io
from email import policy
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appveto.outputs import csvcells, htmltext, mail, markdown, terminal

HOSTILE = (
    "\x1b[31mred\x1b[0m",
    "line\r\nforged",
    "\u202egnp.exe",
    "a\u2028b\u0085c",
    "\u2066iso\u2069",
    "nul\x00",
    "\udcff",
)


@pytest.mark.parametrize("value", HOSTILE)
def test_terminal_line_leaves_nothing_that_drives_a_terminal(value: str) -> None:
    out = terminal.line(value)
    assert out.isprintable(), out
    assert "\n" not in out and "\r" not in out and "\x1b" not in out


@given(st.text())
def test_terminal_line_is_one_printable_line(value: str) -> None:
    out = terminal.line(value)
    assert not terminal.has_unsafe(out)
    assert not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in out)
    assert not any(c in out for c in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_terminal_block_keeps_line_breaks_only() -> None:
    assert terminal.block("a\nb\x1b[2J\u202e\n") == "a\nb\\x1b[2J\\u202e\n"


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1", "\r=1", "\uff1d1+1"],
)
def test_csv_cells_never_start_a_formula(value: str) -> None:
    doc = csvcells.document(["value", "other"], [[value, "plain"], [None, 3]])
    rows = list(csv.reader(io.StringIO(doc)))
    assert rows[1][0] == "'" + value and csvcells.original(rows[1][0]) == value
    assert rows[1][1] == "plain" and rows[2] == ["", "3"]
    assert all(line.startswith('"') for line in doc.split("\n") if line)  # every cell quoted


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[str, str]] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append((self.stack[-1] if self.stack else "", data))


@pytest.mark.parametrize("value", [*HOSTILE, "<script>alert(1)</script>", "\u05e9\u05dc\u05d5\u05dd x"])
def test_html_text_is_text_and_isolated(value: str) -> None:
    doc = f"<p>{htmltext.text(value)}</p>"
    p = _Texts()
    p.feed(doc)
    shown = "".join(t for _, t in p.texts)
    assert "\x1b" not in shown and "\u202e" not in shown and "\r" not in shown
    assert "<script>" not in doc
    if htmltext.needs_isolation(value):
        assert doc.startswith("<p><bdi>") and all(tag == "bdi" for tag, _ in p.texts)
    assert htmltext.attr('"><img src=x>') == "&quot;&gt;&lt;img src=x&gt;"


def test_an_rtl_value_is_wrapped_in_bdi() -> None:
    assert htmltext.text("\u05e9\u05dc\u05d5\u05dd") == "<bdi>\u05e9\u05dc\u05d5\u05dd</bdi>"
    assert htmltext.text("plain") == "plain"
    assert htmltext.text("\u202eevil") == "\\u202eevil"


def test_a_display_name_with_addresses_is_one_recipient() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["To"] = mail.address("bob@example.org", "Mallory <mallory@evil.example>, Bob")
    msg["From"] = mail.address("office@example.org")
    msg.set_content("x")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    (only,) = parsed["To"].addresses
    assert only.addr_spec == "bob@example.org"
    assert only.display_name == "Mallory <mallory@evil.example>, Bob"


@pytest.mark.parametrize(
    ("addr", "name"),
    [
        ("bob@example.org\r\nBcc: eve@evil.example", None),
        ("bob@example.org", "Bob\r\nBcc: eve@evil.example"),
        ("bob@example.org, eve@evil.example", None),
        ("not an address", None),
        ("", None),
        ("<bob@example.org>", None),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(addr: str, name: str | None) -> None:
    with pytest.raises(mail.MailValueError) as info:
        mail.address(addr, name)
    assert "\r" not in str(info.value) and "\n" not in str(info.value)


def test_header_text_refuses_line_breaks() -> None:
    assert mail.header_text("p-1", "person ID") == "p-1"
    with pytest.raises(mail.MailValueError, match="person ID"):
        mail.header_text("p-1\nX-Evil: 1", "person ID")


def test_markdown_values_are_literal() -> None:
    assert markdown.text("[click](https://evil.example) *x* <b>") == (
        "\\[click\\](https://evil.example) \\*x\\* \\<b\\>"
    )
    assert markdown.text("a\n# heading") == "a\\\\n# heading"  # shows as a\n# heading
