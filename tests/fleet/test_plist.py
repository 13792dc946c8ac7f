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
