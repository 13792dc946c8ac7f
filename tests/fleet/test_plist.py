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


def test_position_of_broken_xml() -> None:
    with pytest.raises(PlistError) as info:
        loads_xml(b"<plist>\n<dict>\n<key>a</key>\n<string>b</strin>\n</dict></plist>")
    assert (info.value.line, info.value.column) == (4, 12)


# The plain-subset reader must agree with the strict tree reader: same value, or it
# hands over (and the strict reader then gives the value or the located error).

from appveto.fleet.importers import _plist  # noqa: E402


def _both(data: bytes) -> tuple[Any, Any]:
    fast = _plist._loads_plain(data)
    try:
        strict: Any = _plist._loads_tree(data)
    except PlistError:
        strict = PlistError
    return fast, strict


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.lists(_values, max_size=4), st.dictionaries(_text, _values, max_size=5)))
def test_plain_reader_same_as_tree_reader(value: Any) -> None:
    data = plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=False)
    fast, strict = _both(data)
    assert fast is _plist._UNUSUAL or fast == strict
    assert loads_xml(data) == plistlib.loads(data)


def test_plain_reader_takes_a_real_response() -> None:
    apps = [pl.apple_app(pl.TIKTOK, "TikTok", "34.8.0", "348003"), pl.apple_app("com.a.b", "A", "1.0", "1")]
    data = pl.plist([pl.apple_response("u", apps), pl.apple_response("v", [])])
    fast, strict = _both(data)
    assert fast is not _plist._UNUSUAL  # the common case must not fall back
    assert fast == strict == plistlib.loads(data)


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.integers(0, 3),
            st.sampled_from([*b"<>/ak&\r\x01\n\t\"'?!-[]", 0xEF, 0xBF, 0xBE, 0xC3]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_plain_reader_on_mutated_input(edits: list[tuple[float, int, int]]) -> None:
    """Byte edits of a real response: the plain reader gives the strict answer or hands over."""
    apps = [pl.apple_app(pl.TIKTOK, "TikTok", "34.8.0", "348003"), pl.apple_app("com.a.b", "A", "2", "1")]
    data = bytearray(pl.plist([pl.apple_response("u", apps)]))
    for where, op, byte in edits:
        i = int(where * len(data))
        if op == 0:
            data[i] = byte
        elif op == 1:
            data.insert(i, byte)
        elif op == 2:
            del data[i]
        else:
            data[i:i] = data[i : i + 12]  # duplicate a slice (tags, keys)
    fast, strict = _both(bytes(data))
    assert fast is _plist._UNUSUAL or fast == strict


@pytest.mark.parametrize(
    "doc",
    [
        b"<plist><dict><key>a</key><string>b</string></dict></plist>",
        b"<plist><dict>junk<key>a</key>x<true/>y</dict>z</plist>",
        b"<plist><array><dict/><array/><string/><true></true><integer>0x1F</integer></array></plist>",
        b"<plist><dict><key>a</key><key>b</key><string>c</string></dict></plist>",
        b"<plist><dict><key>a</key></dict></plist>",
        b"<plist><string>a</string><string>b</string></plist>",
        b"<plist><array></dict></plist>",
        b"<plist><string>a</key></plist>",
        b"<plist><string>a<!-- c -->b</string></plist>",
        b"<plist><string><![CDATA[<x>]]></string></plist>",
        b"<plist><string>a\r\nb</string></plist>",
        b"<plist><string>a&#65;</string></plist>",
        b"<plist><string a='1'>x</string></plist>",
        b"<plist><integer/></plist>",
        b"<plist><blob>1</blob></plist>",
        b"<plist></plist>",
        b"<plist><string>x</string></plist>junk",
        b'  <?xml version="1.0"?><plist><true/></plist>',
        b"\xef\xbb\xbf<plist><true/></plist>",
        b"<plist><string>\xff</string></plist>",
        b"<plist><string>\xef\xbf\xbe</string></plist>",
        b"<plist><string>a\x0bb</string></plist>",
        b"<plist><string>a]]>b</string></plist>",
        b"<plist><string>\xc3\xa9t\xc3\xa9</string></plist>",
        b"<plist>" + b"<array>" * 250 + b"</array>" * 250 + b"</plist>",
    ],
)
def test_plain_reader_edge_cases(doc: bytes) -> None:
    fast, strict = _both(doc)
    assert fast is _plist._UNUSUAL or fast == strict
    if strict is PlistError:
        assert fast is _plist._UNUSUAL
