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


# --------------------------------------------------------------------------- stated values
# Each rule's output written out by hand (no value computed with the code under test).


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'=1", "=1"),  # a neutralised cell gives back its value
        ("'=", "="),  # the shortest one
        ("'", "'"),  # an apostrophe alone is a value, not a neutralised cell
        ("'a", "'a"),  # an apostrophe before a harmless character is the value's own
        ("a=b", "a=b"),  # a formula character after the first is nothing to undo
        ("ab", "ab"),
        ("", ""),
    ],
)
def test_csv_original_undoes_only_what_cell_did(text: str, value: str) -> None:
    assert csvcells.original(text) == value


def test_csv_document_is_quoted_with_newline_ends() -> None:
    assert csvcells.document(["a", "b"], [["=1", None], ['say "hi"', 2]]) == (
        '"a","b"\n"\'=1",""\n"say ""hi""","2"\n'
    )


@pytest.mark.parametrize("fn", [htmltext.text, htmltext.attr, markdown.text])
def test_none_is_empty_text(fn: object) -> None:
    assert callable(fn)
    assert fn(None) == ""


def test_html_escapes_quotes_in_element_content_too() -> None:
    assert htmltext.text("a \"b\" 'c' & <d>") == "a &quot;b&quot; &#x27;c&#x27; &amp; &lt;d&gt;"
    assert htmltext.attr("\x1b'") == "\\x1b&#x27;"


def test_terminal_escapes_are_python_style() -> None:
    assert terminal.line("a\tb\x1b[0m\r\n\u202e\x85\udcff") == "a\tb\\x1b[0m\\r\\n\\u202e\\x85\\udcff"
    assert terminal.line("plain text \u00e9") == "plain text \u00e9"
    assert terminal.block("x\r\ny\n") == "x\\r\ny\n"
    assert terminal.has_unsafe("a\nb") and not terminal.has_unsafe("a\tb")


def test_encodable_escapes_what_the_stream_cannot_encode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert terminal.encodable("a\udcffb", "utf-8") == "a\\udcffb"
    assert terminal.encodable("caf\u00e9", "ascii") == "caf\\xe9"
    assert terminal.encodable("caf\u00e9", "latin-1") == "caf\u00e9"
    assert terminal.encodable("x\udcff", "no-such-codec") == "x\udcff"  # unknown: left as it is

    class Stream:
        encoding = "ascii"

    monkeypatch.setattr("sys.stdout", Stream())
    assert terminal.encodable("\u00e9") == "\\xe9"  # the stream's own encoding by default
    monkeypatch.setattr("sys.stdout", object())  # a stream that names none: UTF-8
    assert terminal.encodable("\u00e9\udcff") == "\u00e9\\udcff"


NOT_ONE = " is not one address of the form local@domain"


@pytest.mark.parametrize(
    ("addr", "name", "message"),
    [
        ("bob@example.org\nx", None, "e-mail address bob@example.org\\nx holds a line break"),
        ("bob@example.org\r", None, "e-mail address bob@example.org\\r holds a line break"),
        ("bob@example.org", "Bob\rEve", "display name Bob\\rEve holds a line break"),
        ("not an address", None, "e-mail address 'not an address'" + NOT_ONE),
        ("bob @example.org", None, "e-mail address 'bob @example.org'" + NOT_ONE),
        ('""@example.org', None, "e-mail address '\"\"@example.org'" + NOT_ONE),
    ],
)
def test_address_refusals_say_what_and_why(addr: str, name: str | None, message: str) -> None:
    with pytest.raises(mail.MailValueError) as info:
        mail.address(addr, name)
    assert str(info.value) == message


def test_address_values() -> None:
    assert str(mail.address(" bob@example.org ")) == "bob@example.org"
    assert str(mail.address("bob@example.org", " Bob B ")) == "Bob B <bob@example.org>"
    assert str(mail.address("bob@example.org", "")) == "bob@example.org"
    assert str(mail.address("bob@example.org", "Eve\x1b[0m")) == '"Eve\\\\x1b[0m" <bob@example.org>'
    with pytest.raises(mail.MailValueError, match=r"^sender 'x' is not one address"):
        mail.address("x", what="sender")
