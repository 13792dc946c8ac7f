"""The fast XML plist reader gives what plistlib gives, and refuses what it must."""

from __future__ import annotations

import plistlib
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.fleet.importers._plist import PlistError, loads_xml
from tests.fleet import payloads as pl

_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"), max_size=20
)
_scalars = st.one_of(
    _text,
    st.integers(-(2**63), 2**64 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=30),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.lists(_values, max_size=4), st.dictionaries(_text, _values, max_size=5)))
def test_same_as_plistlib(value: Any) -> None:
    data = plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=False)
    assert loads_xml(data) == plistlib.loads(data)


def test_a_real_response() -> None:
    data = pl.plist(pl.apple_response("u", [pl.apple_app(pl.TIKTOK, "TikTok", "34.8.0", "348003")]))
    assert loads_xml(data) == plistlib.loads(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa">]><plist><string>&a;</string></plist>',
            "entity declarations",
        ),
        (b"<plist><dict><key>a</key></dict></plist>", "without a value"),
        (b"<plist><dict><string>a</string><string>b</string></dict></plist>", "expected <key>"),
        (b"<plist><integer>x1</integer></plist>", "not an integer"),
        (b"<plist><date>yesterday</date></plist>", "not an ISO 8601"),
        (b"<plist><blob/></plist>", "unknown plist element <blob>"),
        (b"<html><body/></html>", "root element is <html>"),
        (b"<plist><dict>", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="UT-8"?><plist><true/></plist>', "unknown encoding"),
        (b"<plist>" + b"<array>" * 300 + b"</array>" * 300 + b"</plist>", "nested too deeply"),
    ],
)
def test_refusals(data: bytes, message: str) -> None:
    with pytest.raises(PlistError, match=message):
        loads_xml(data)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "latin-1"])
def test_entity_declarations_refused_in_every_encoding(encoding: str) -> None:
    declared = encoding.upper()[:6]
    doc = (
        f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE plist [<!ENTITY a "aaaa">]>'
        "<plist><string>&a;&a;</string></plist>"
    ).encode(encoding)
    with pytest.raises(PlistError, match="entity declarations"):
        loads_xml(doc)


def test_position_of_broken_xml() -> None:
    with pytest.raises(PlistError) as info:
        loads_xml(b"<plist>\n<dict>\n<key>a</key>\n<string>b</strin>\n</dict></plist>")
    assert (info.value.line, info.value.column) == (4, 12)


# Hostile input: byte edits of real responses give a value or a PlistError (located when
# expat knows where), never another exception; a valid result equals plistlib's.

_EDIT_BYTES = [*b"<>/ak&\r\x01\n\t\"'?!-[]", 0xEF, 0xBF, 0xBE, 0xC3]


def _mutated(data: bytes, edits: list[tuple[float, int, int]]) -> bytes:
    out = bytearray(data)
    for where, op, byte in edits:
        i = int(where * len(out))
        if op == 0:
            out[i] = byte
        elif op == 1:
            out.insert(i, byte)
        elif op == 2:
            del out[i]
        else:
            out[i:i] = out[i : i + 12]  # duplicate a slice (tags, keys)
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 3), st.sampled_from(_EDIT_BYTES)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_input_gives_a_value_or_a_plist_error(edits: list[tuple[float, int, int]]) -> None:
    apps = [pl.apple_app(pl.TIKTOK, "TikTok", "34.8.0", "348003"), pl.apple_app("com.a.b", "A", "2", "1")]
    data = _mutated(pl.plist([pl.apple_response("u", apps)]), edits)
    try:
        value = loads_xml(data)
    except PlistError as exc:
        assert str(exc)
        return
    try:
        expected = plistlib.loads(data, fmt=plistlib.FMT_XML)
    except Exception:  # plistlib is stricter (text between elements, odd leaves)
        return
    assert value == expected


@pytest.mark.parametrize(
    "doc",
    [
        b"<plist><dict><key>a</key><string>b</string></dict></plist>",
        b"<plist><array><dict/><array/><string/><true></true><integer>0x1F</integer></array></plist>",
        b"<plist><string>a<!-- c -->b</string></plist>",
        b"<plist><string><![CDATA[<x>]]></string></plist>",
        b"<plist><string>a\r\nb</string></plist>",
        b"<plist><string>a&#65;&amp;</string></plist>",
        b"\xef\xbb\xbf<plist><true/></plist>",
        b"<plist><string>\xc3\xa9t\xc3\xa9</string></plist>",
        b"<plist>" + b"<array>" * 150 + b"</array>" * 150 + b"</plist>",
    ],
)
def test_layouts_read_as_plistlib_reads_them(doc: bytes) -> None:
    """Comments, CDATA, CRLF, character and entity references, BOMs."""
    assert loads_xml(doc) == plistlib.loads(doc, fmt=plistlib.FMT_XML)


@pytest.mark.parametrize(
    "doc",
    [
        b"<plist><dict><key>a</key><key>b</key><string>c</string></dict></plist>",
        b"<plist><string>a</string><string>b</string></plist>",
        b"<plist><array></dict></plist>",
        b"<plist><string>\xff</string></plist>",
        b"<plist><string>\xef\xbf\xbe</string></plist>",
        b"<plist><string>a\x0bb</string></plist>",
        b"<plist><string>x</string></plist>junk",
        b'  <?xml version="1.0"?><plist><true/></plist>',  # the declaration must come first
        b"<plist>" + b"<array>" * 250 + b"</array>" * 250 + b"</plist>",
    ],
)
def test_broken_documents_are_refused(doc: bytes) -> None:
    with pytest.raises(PlistError):
        loads_xml(doc)


def test_depth_limit() -> None:
    from appveto.fleet.importers._plist import MAX_DEPTH

    def nested(depth: int) -> bytes:
        return b"<plist>" + b"<array>" * depth + b"</array>" * depth + b"</plist>"

    assert loads_xml(nested(MAX_DEPTH)) is not None
    with pytest.raises(PlistError, match="nested too deeply"):
        loads_xml(nested(MAX_DEPTH + 1))
