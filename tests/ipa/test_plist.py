"""Hostile property lists: a located error, never a traceback, in time linear in the input."""

from __future__ import annotations

import contextlib
import datetime as _dt
import plistlib
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.errors import IpaError
from appveto.ipa import plist
from appveto.ipa.model import PlistDict, PlistValue


def bplist(objects: list[bytes], top: int = 0, *, ref_size: int = 1, table_at: int | None = None) -> bytes:
    """A binary plist of pre-encoded ``objects`` (references already ``ref_size`` wide)."""
    body = b"bplist00"
    offsets = []
    for o in objects:
        offsets.append(len(body))
        body += o
    off_size = 4
    table = len(body) if table_at is None else table_at
    body += b"".join(struct.pack(">I", o) for o in offsets)
    return body + struct.pack(">6xBBQQQ", off_size, ref_size, len(objects), top, table)


def array(*refs: int) -> bytes:
    return bytes([0xA0 | len(refs), *refs]) if len(refs) < 15 else bytes([0xAF, 0x10, len(refs), *refs])


def _err(data: bytes) -> str:
    with pytest.raises(IpaError) as info:
        plist.load(data, file="x.ipa", entry="Payload/A.app/Info.plist")
    d = info.value.diagnostics()[0]
    assert d.file == "x.ipa" and d.entry == "Payload/A.app/Info.plist"
    return d.message


def test_cycle_is_refused_with_its_offset() -> None:
    data = bplist([array(1), array(0)])
    with pytest.raises(IpaError) as info:
        plist.load(data, file="x.ipa", entry="e")
    assert "cycle" in info.value.message and info.value.diagnostics()[0].offset is not None


def test_self_reference_is_refused() -> None:
    assert "cycle" in _err(bplist([array(0)]))


def test_reference_bomb_is_refused_in_linear_time() -> None:
    # 60 arrays, each holding the next one twice: 2**60 values once expanded
    objs = [array(i + 1, i + 1) for i in range(60)] + [b"\x10\x01"]
    assert "reference bomb" in _err(bplist(objs))


def test_shared_objects_within_the_budget_are_read() -> None:
    objs = [array(*([1] * 10)), bytes([0x51]) + b"a"]
    assert plist.load(bplist(objs), file="f", entry=None) == ("a",) * 10


def test_deep_nesting_is_refused() -> None:
    objs = [bytes([0xA1]) + struct.pack(">H", i + 1) for i in range(300)] + [b"\x08"]
    assert "deeper" in _err(bplist(objs, ref_size=2))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bplist([array(5)]), "beyond"),
        (bplist([array(1)], table_at=10_000), "outside the file"),
        (bplist([bytes([0x5F, 0x13]) + b"\xff" * 8]), "past the end"),
        (bplist([b"\x77"]), "unknown marker"),
        (bplist([array(0)], top=3), "top object"),
        (b"bplist00" + b"\x00" * 10, "too small"),
    ],
)
def test_malformed_binary_plists_are_located(data: bytes, words: str) -> None:
    assert words in _err(data)


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0'?><plist><dict><key>a</key>",  # truncated
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<plist><string>&b;</string></plist>",
        b"<plist><dict><key>a</key><integer>" + b"9" * 5000 + b"</integer></dict></plist>",
        b"<plist><frobnicate/></plist>",
        b"\x89PNG\r\n\x1a\n",
        b"",
    ],
)
def test_broken_xml_and_non_plists_are_errors(data: bytes) -> None:
    _err(data)


def test_deep_xml_is_refused() -> None:
    data = b"<plist>" + b"<array>" * 500 + b"</array>" * 500 + b"</plist>"
    assert "deeper" in _err(data)


def test_top_level_must_be_a_dictionary_where_asked() -> None:
    with pytest.raises(IpaError, match="not a dictionary"):
        plist.load_dict(plistlib.dumps([1, 2]), file="f", entry="e")


def _thaw(v: PlistValue) -> Any:
    if isinstance(v, PlistDict):
        return {k: _thaw(x) for k, x in v.items}
    if isinstance(v, tuple):
        return [_thaw(x) for x in v]
    return v


# Only what XML 1.0 can carry (its Char production): plistlib writes any str into an XML
# plist, but expat refuses C0 controls, surrogates and the noncharacters U+FFFE/U+FFFF, so
# such a string would make an unreadable document, not a difference between the readers.
_text = st.text(
    st.characters(min_codepoint=0x20, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"),
    max_size=20,
)
_values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False),
        _text,
        st.binary(max_size=20),
        st.datetimes(min_value=_dt.datetime(1990, 1, 1), max_value=_dt.datetime(2100, 1, 1)).map(
            lambda d: d.replace(microsecond=0)
        ),
    ),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(_text, _values, max_size=6), binary=st.booleans())
def test_valid_plists_read_as_plistlib_reads_them(value: dict[str, Any], binary: bool) -> None:
    data = plistlib.dumps(value, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)
    assert _thaw(plist.load(data, file="f", entry=None)) == plistlib.loads(data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=40, max_size=300))
def test_fuzzed_binary_plists_never_raise_anything_else(data: bytes) -> None:
    with contextlib.suppress(IpaError):
        plist.load(b"bplist00" + data, file="f", entry=None)
