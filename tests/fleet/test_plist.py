"""The fast XML plist reader gives what plistlib gives, and refuses what it must."""

from __future__ import annotations

import plistlib
import re
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
    assert _plist.with_lists(loads_xml(data, tables=True)) == plistlib.loads(data)


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


# Arrays of dictionaries with the same string-valued keys (installed apps) are read a
# whole array at a time (_plist._tokens); they must give what the strict reader gives.

_PRELUDE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n'
)
_raw_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # any, escaped below
_gap = st.sampled_from(["", "\n", "\n\t\t", " ", "x", "\t \n"])


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _flat_dict(pairs: list[tuple[str, str]], gap: str) -> str:
    inner = "".join(f"{gap}<key>{_esc(k)}</key>{gap}<string>{_esc(v)}</string>" for k, v in pairs)
    return f"<dict>{inner}{gap}</dict>"


def _doc(body: str) -> bytes:
    return (_PRELUDE + body + "\n</plist>\n").encode("utf-8", "surrogatepass")


def _plain_tokens(data: bytes) -> list[Any]:
    text = data.decode()
    head = _plist._PRELUDE.match(text)
    assert head is not None
    return _plist._tokens(text[head.end() : text.rfind("</plist>")])[0]


def _whole_arrays(data: bytes) -> int:
    return sum(1 for token in _plain_tokens(data) if token[0].__class__ is list)


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(
        st.one_of(_raw_text, st.sampled_from(["Identifier", "Name", ".*(", "\\1", "a b"])),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(st.lists(_raw_text, min_size=5, max_size=5), max_size=6),
    gap=_gap,
    odd=st.one_of(
        st.none(), st.tuples(st.integers(0, 5), st.sampled_from(["drop", "int", "empty", "swap", "extra"]))
    ),
)
def test_whole_array_same_as_tree_reader(
    keys: list[str], rows: list[list[str]], gap: str, odd: tuple[int, str] | None
) -> None:
    dicts = [_flat_dict(list(zip(keys, row, strict=False)), gap) for row in rows]
    if odd is not None and dicts:
        i, how = odd[0] % len(dicts), odd[1]
        pairs = list(zip(keys, rows[i], strict=False))
        if how == "drop":
            dicts[i] = _flat_dict(pairs[1:], gap)
        elif how == "int":
            dicts[i] = _flat_dict(pairs, gap)[:-7] + "<key>n</key><integer>1</integer></dict>"
        elif how == "empty":
            dicts[i] = _flat_dict(pairs, gap).replace("<string></string>", "<string/>")
        elif how == "swap":
            dicts[i] = _flat_dict(pairs[::-1], gap)
        else:
            dicts[i] = _flat_dict([*pairs, ("x", "y")], gap)
    data = _doc(
        f"<dict>{gap}<key>InstalledApplicationList</key>{gap}<array>{gap}{gap.join(dicts)}{gap}</array></dict>"
    )
    fast, strict = _both(data)
    assert fast is _plist._UNUSUAL or fast == strict
    tabled = _plist._loads_plain(data, True)
    assert (tabled is _plist._UNUSUAL) == (fast is _plist._UNUSUAL)
    assert tabled is _plist._UNUSUAL or _plist.with_lists(tabled) == fast
    if strict is not PlistError:
        assert loads_xml(data) == strict == plistlib.loads(data)
        assert _plist.with_lists(loads_xml(data, tables=True)) == strict
    texts = "".join(keys) + "".join("".join(row) for row in rows)
    if odd is None and rows and re.search(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]", texts) is None:
        assert _whole_arrays(data) == 1  # the usual case must take the whole-array path
        assert fast == strict
        table = tabled["InstalledApplicationList"]
        assert isinstance(table, _plist.StringTable)
        assert table.dicts() == fast["InstalledApplicationList"]
        columns = table.columns()
        rebuilt = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        assert rebuilt == table.dicts()


def test_whole_array_is_taken_for_apps() -> None:
    apps = [
        {"Identifier": f"com.a{i}", "Name": f"A {i}", "ShortVersion": "1.0", "Version": "1"} for i in range(5)
    ]
    data = plistlib.dumps(
        [{"UDID": "u", "InstalledApplicationList": apps}, {"UDID": "v", "InstalledApplicationList": apps[:1]}]
    )
    assert _whole_arrays(data) == 2
    fast, strict = _both(data)
    assert fast == strict == plistlib.loads(data)


@pytest.mark.parametrize(
    ("body", "whole"),
    [
        (
            "<array><dict><key>a</key><string>b</string></dict><dict><key>a</key><string>c</string></dict></array>",
            1,
        ),
        ("<array><dict><key>a</key><string>1</string><key>a</key><string>2</string></dict></array>", 1),
        (
            "<array><dict><key>.*(</key><string>1</string></dict><dict><key>.*(</key><string/></dict></array>",
            0,
        ),
        ("<array><dict><key>\\1</key><string>x</string><key>b</key><string></string></dict></array>", 1),
        (
            "<array><dict><key>a</key><string>b</string></dict><dict><key>b</key><string>b</string></dict></array>",
            0,
        ),
        ("<array><dict><key>a</key><string>b</string></dict><array/></array>", 0),
        ("<array><dict><key>a</key><string>b</string></dict><!-- c --></array>", 0),
        ("<array><dict><key>a</key><string>b</string></dict><?pi x?></array>", 0),
        ("<array><dict><key>a</key><string>b</string></dict>", 0),
        ("<array><dict><key>a</key><string>b</string></dict></array><string/>", 1),
        (
            "<array><dict><key>a</key><string>b</string></dict><array><dict><key>a</key><string>b</string></dict></array></array>",
            0,
        ),
        ("<array><array><dict><key>a</key><string>b</string></dict></array></array>", 1),
        ("<dict><array><dict><key>a</key><string>b</string></dict></array></dict>", 1),
        (
            "<dict><key>k</key><array><dict><key>a</key><string>b</string></dict></array><key>l</key></dict>",
            1,
        ),
        ("<dict><key>k</key><array>x<dict>y<key>a</key>z<string>b</string>w</dict>v</array>u</dict>", 1),
        ("<array><dict><key>a</key><string>b</string></dict></dict></array>", 0),
        ("<array><dict><key>a</key><string>b</string></dict></array></array>", 1),
        ("<array><dict><key>é</key><string>\u3000ü\u00a0</string></dict></array>", 1),
        ("<array><dict><key>a</key><string>&amp;</string></dict></array>", 1),
    ],
)
def test_whole_array_edge_cases(body: str, whole: int) -> None:
    data = _doc(body)
    if b"&" not in data:
        assert _whole_arrays(data) == whole
    fast, strict = _both(data)
    assert fast is _plist._UNUSUAL or fast == strict
    if strict is PlistError:
        assert fast is _plist._UNUSUAL
    else:
        assert fast is not _plist._UNUSUAL or b"&" in data or b"<!--" in data or b"<?pi" in data


@pytest.mark.parametrize("depth", [197, 198, 199, 200])
def test_whole_array_depth_limit(depth: int) -> None:
    flat = "<array><dict><key>a</key><string>b</string></dict></array>"
    data = _doc("<array>" * depth + flat + "</array>" * depth)
    fast, strict = _both(data)
    assert fast is _plist._UNUSUAL or fast == strict
    assert (strict is PlistError) == (depth >= _plist.MAX_DEPTH - 1)
    if strict is PlistError:
        assert fast is _plist._UNUSUAL


def test_whole_array_many_shapes() -> None:
    """More key sets than the per-document budget: the rest go through the general tokens."""
    arrays = [
        f"<array><dict><key>k{i}</key><string>{i}</string></dict></array>"
        for i in range(3 * _plist._SHAPE_BUDGET)
    ]
    data = _doc("<array>" + "".join(arrays) + "</array>")
    fast, strict = _both(data)
    assert fast == strict == [[{f"k{i}": str(i)}] for i in range(3 * _plist._SHAPE_BUDGET)]


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
def test_whole_array_on_mutated_input(edits: list[tuple[float, int, int]]) -> None:
    """Byte edits of a response with plain apps: the strict answer, or a hand-over."""
    apps = [{"Identifier": "com.a", "Name": "A", "ShortVersion": "1.0", "Version": "1"}] * 3
    data = bytearray(plistlib.dumps([{"UDID": "u", "InstalledApplicationList": apps}]))
    for where, op, byte in edits:
        i = int(where * len(data))
        if op == 0:
            data[i] = byte
        elif op == 1:
            data.insert(i, byte)
        elif op == 2:
            del data[i]
        else:
            data[i:i] = data[i : i + 12]
    fast, strict = _both(bytes(data))
    assert fast is _plist._UNUSUAL or fast == strict
    if strict is PlistError:
        assert fast is _plist._UNUSUAL


def test_whole_array_texts_remembered_per_key_sequence() -> None:
    """A dictionary text read in a table of one shape does not make it fit another shape."""
    one = "<dict><key>a</key><string>x</string></dict>"
    two = "<dict><key>a</key><string>x</string><key>b</key><string>y</string></dict>"
    data = _doc(f"<array><array>{one}{one}</array><array>{two}{one}</array><array>{one}{two}</array></array>")
    fast, strict = _both(data)
    assert (
        fast
        == strict
        == [[{"a": "x"}] * 2, [{"a": "x", "b": "y"}, {"a": "x"}], [{"a": "x"}, {"a": "x", "b": "y"}]]
    )
    assert _whole_arrays(data) == 1  # only the first array is a table
    tabled = _plist.loads_xml(data, tables=True)
    assert tabled[0].rows[0] is tabled[0].rows[1]  # one text, one tuple
