"""The Apple importer's column-wise path for usual app lists gives what its per-app loop gives."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.errors import FleetError
from appveto.fleet._parallel import RecordingSink
from appveto.fleet.importers import apple
from appveto.fleet.importers._memo import Memo

_KEYS = ("Identifier", "Name", "ShortVersion", "Version", "Source")
_ascii = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
_spaced = st.builds(
    lambda a, s, b: a + s + b,
    st.sampled_from(["", " ", "\t", "\n "]),
    _ascii,
    st.sampled_from(["", " ", "\r\n"]),
)
_hostile = st.one_of(
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "é", "\u3000x\u3000", "x\x85", "\x0b\x0c", "ok"]),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.integers(-5, 10**20),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)


class _Str(str):
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


def _usual_app(values: list[str], source: str | None) -> dict[str, Any]:
    app = dict(zip(_KEYS[:4], values, strict=True))
    if source is not None:
        app["Source"] = source
    return app


def _record(apps: list[Any], fast: bool) -> RecordingSink:
    sink = RecordingSink()
    with pytest.MonkeyPatch.context() as m:
        if not fast:
            m.setattr(apple, "_plain_columns", lambda apps: None)
        resp = {"UDID": "dev", "Status": "Acknowledged", "InstalledApplicationList": apps}
        apple.IMPORTER._response(resp, "[0]", {}, sink)
    return sink


def _same(apps: list[Any]) -> None:
    fast = _record(apps, True)
    slow = _record(apps, False)
    assert fast.events == slow.events
    assert fast.app_keys == slow.app_keys
    assert [type(v) for k in fast.app_keys for v in k] == [type(v) for k in slow.app_keys for v in k]
    assert list(fast.rows) == list(slow.rows)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(st.one_of(_spaced, _ascii.filter(str.strip)), min_size=4, max_size=4), max_size=8),
    source=st.one_of(st.none(), _spaced),
)
def test_usual_lists(rows: list[list[str]], source: str | None) -> None:
    apps = [_usual_app(r, source) for r in rows]
    _same(apps)
    clean = all(v.strip() for r in rows for v in r[:3]) and (source is None or source.strip())
    assert (apple._plain_columns(apps) is not None) == bool(apps and clean)


@settings(max_examples=500, deadline=None)
@given(
    rows=st.lists(
        st.one_of(
            st.lists(_ascii.filter(str.strip), min_size=4, max_size=4).map(lambda r: _usual_app(r, None)),
            st.dictionaries(st.sampled_from(_KEYS), st.one_of(_hostile, _spaced), max_size=5),
            st.sampled_from([None, "app", [], _Dict(Identifier="a", Name="b", ShortVersion="1")]),
        ),
        max_size=8,
    )
)
def test_odd_lists(rows: list[Any]) -> None:
    _same(rows)


@pytest.mark.parametrize(
    "apps",
    [
        [],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": None}],
        [
            {"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": "AppStore"},
            {"Identifier": "b", "Name": "B", "ShortVersion": "2"},
        ],
        [{"Identifier": "a", "Name": "A", "ShortVersion": " ", "Version": " 7 "}],
        [
            {"Identifier": "a", "Name": "A", "ShortVersion": "1.0"},
            {"Identifier": " ", "Name": "\t", "ShortVersion": "1"},
        ],
        [{"Identifier": _Str(" a "), "Name": _Str("A"), "ShortVersion": _Str("1 ")}],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": _Str("x")}],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": 5}],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": ""}],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1", "Source": "x\u00e9"}],
        [
            {"Identifier": "a", "Name": "A", "ShortVersion": "1"},
            {"Identifier": "a", "Name": b"A", "ShortVersion": "1"},
        ],
        [{"Identifier": "a", "Name": "A", "ShortVersion": 3}],
        [{"Identifier": "a", "Name": "A", "ShortVersion": True}],
        [{"Identifier": "a\x00", "Name": "A", "ShortVersion": "1"}],
        [{"Identifier": "a", "Name": "\ud800", "ShortVersion": "1"}],
        [{"Identifier": "a", "Name": "Å", "ShortVersion": "1"}],
        [{"Name": "Mac App", "ShortVersion": "1"}],
        [_Dict(Identifier="a", Name="A", ShortVersion="1")],
        [{"Identifier": "a", "Name": "A", "ShortVersion": "1"}, None],
    ],
)
def test_edge_lists(apps: list[Any]) -> None:
    _same(apps)


def _refusal(tmp_path: Path, data: bytes) -> str | None:
    path = tmp_path / "f.plist"
    path.write_bytes(data)
    try:
        apple.IMPORTER.read(path, "f.plist", RecordingSink())
    except FleetError as exc:
        return str(exc)
    return None


_GOOD = {"UDID": "u", "InstalledApplicationList": [{"Identifier": "a", "Name": "A", "ShortVersion": "1"}]}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b" \t\r\n", "the file is empty"),
        (b"\x0b\x0c ", "the file is empty"),
        (b"\xef\xbb\xbf", "not a property list"),
        (b"\xef\xbb\xbf \n{}", "not a property list"),
        (b"\x0b<plist/>", "not a property list"),
        (b"\xef\xbb\xbf\n" + plistlib.dumps(_GOOD), "declaration not at start"),
        (b"\xef\xbb\xbf" + plistlib.dumps(_GOOD), None),
        (b"\n\t<plist><dict/></plist>", "no 'InstalledApplicationList' key"),
        (b" \r\n" + plistlib.dumps(_GOOD, fmt=plistlib.FMT_BINARY), "not a property list"),
        (plistlib.dumps(_GOOD, fmt=plistlib.FMT_BINARY), None),
        (plistlib.dumps(_GOOD), None),
    ],
)
def test_head_of_the_file(tmp_path: Path, data: bytes, expected: str | None) -> None:
    """The checks before parsing (empty file, what the file starts with)."""
    got = _refusal(tmp_path, data)
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected in got


def _file_record(path: Path, tables: bool) -> object:
    from appveto.fleet.importers import _plist

    sink = RecordingSink()
    with pytest.MonkeyPatch.context() as m:
        if not tables:
            m.setattr(apple, "loads_xml", lambda data, tables=False: _plist.loads_xml(data))
        try:
            apple.IMPORTER.read(path, path.name, sink)
        except FleetError as exc:
            return str(exc)
    return sink.events, sink.app_keys, list(sink.rows)


_table_values = st.one_of(
    st.sampled_from(["", " ", "ok", " ok ", "é", "a\x00b", "\u3000x", "com.x", "1.0"]), _ascii
)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.sampled_from([*_KEYS, "Other"]), min_size=1, max_size=6),
    rows=st.lists(st.lists(_table_values, min_size=6, max_size=6), min_size=1, max_size=5),
    extra=st.sampled_from(["none", "status", "query"]),
)
def test_app_lists_read_as_tables(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str], rows: list[list[str]], extra: str
) -> None:
    """A file whose app lists the plist reader gives as tables (every app the same string
    keys) imports exactly as when the reader gives lists of dictionaries."""
    apps = "".join(
        "<dict>"
        + "".join(f"<key>{k}</key><string>{v}</string>" for k, v in zip(keys, row, strict=False))
        + "</dict>"
        for row in rows
    )
    tail = {
        "none": "",
        "status": "<key>Status</key><array><dict><key>a</key><string>b</string></dict></array>",
        "query": "<key>QueryResponses</key><dict><key>L</key><array>"
        "<dict><key>a</key><string>b</string></dict></array></dict>",
    }[extra]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<array>'
        f"<dict><key>UDID</key><string>u1</string><key>InstalledApplicationList</key><array>{apps}</array>{tail}</dict>"
        f"<dict><key>UDID</key><string>u2</string><key>InstalledApplicationList</key><array>{apps}</array></dict>"
        "</array>\n</plist>\n"
    )
    path = tmp_path_factory.mktemp("t") / "apps.plist"
    path.write_text(body, encoding="utf-8", errors="surrogatepass")
    assert _file_record(path, True) == _file_record(path, False)


def test_a_repeated_key_in_a_table_keeps_its_last_value(tmp_path: Path) -> None:
    app = (
        "<dict><key>Identifier</key><string>first</string><key>Name</key><string>N</string>"
        "<key>ShortVersion</key><string>1</string><key>Identifier</key><string>last</string></dict>"
    )
    path = tmp_path / "dup.plist"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n'
        "<dict><key>UDID</key><string>u</string>"
        f"<key>InstalledApplicationList</key><array>{app}{app}</array></dict>\n</plist>\n",
        encoding="utf-8",
    )
    tabled = _file_record(path, True)
    assert tabled == _file_record(path, False)
    assert tabled[1] == [("unknown", "last", "N", "1", None)]  # type: ignore[index]


def _two_platforms(apps: str) -> str:
    """An iPhone and an iPad (from their DeviceInformation responses) with the same app list."""
    devices = ""
    for udid, product in (("u1", "iPhone15,2"), ("u2", "iPad13,1"), ("u3", "iPhone14,5")):
        devices += (
            f"<dict><key>UDID</key><string>{udid}</string><key>QueryResponses</key>"
            f"<dict><key>ProductName</key><string>{product}</string></dict></dict>"
            f"<dict><key>UDID</key><string>{udid}</string>"
            f"<key>InstalledApplicationList</key><array>\n\t{apps}\n</array></dict>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<array>{devices}</array>\n</plist>\n'
    )


@pytest.mark.parametrize("bound", [None, 1, 2])
def test_app_texts_remembered_per_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bound: int | None
) -> None:
    """The same app text read again (on another device, of another platform) gives that
    device's key; small memory bounds (the memos start afresh often) change nothing."""
    from appveto.fleet.importers import _plist

    limit = bound or 65_536
    monkeypatch.setattr(apple, "_TABLE_KEYS", Memo(limit))
    monkeypatch.setattr(_plist, "_PIECES", Memo(limit))
    apps = "\n\t".join(
        f"<dict><key>Identifier</key><string>com.a{i % 3}</string><key>Name</key><string>A {i % 3}</string>"
        f"<key>ShortVersion</key><string> 1.{i % 3} </string></dict>"
        for i in range(7)
    )
    path = tmp_path / "apps.plist"
    path.write_text(_two_platforms(apps), encoding="utf-8")
    got = _file_record(path, True)
    assert got == _file_record(path, False)
    keys = got[1]  # type: ignore[index]
    assert sorted({k[0] for k in keys}) == ["ios", "ipados"]
    assert ("ios", "com.a1", "A 1", "1.1", None) in keys and ("ipados", "com.a1", "A 1", "1.1", None) in keys
    if bound is None:
        # three apps, each text once (the first app of a list has no text before its <dict>)
        assert len(_plist._PIECES.group(("Identifier", "Name", "ShortVersion"))) == 4
    else:
        assert _plist._PIECES.held <= bound and apple._TABLE_KEYS.held <= bound


def test_an_unusual_app_text_read_before_still_takes_the_general_loop(tmp_path: Path) -> None:
    """A text remembered as not usual (a blank name) sends its list, each time, the general way."""
    app = (
        "<dict><key>Identifier</key><string>{}</string><key>Name</key><string>{}</string>"
        "<key>ShortVersion</key><string>1</string></dict>"
    )
    odd = app.format("com.b", " ")
    usual = app.format("com.a", "A")
    path = tmp_path / "apps.plist"
    path.write_text(_two_platforms(usual + odd), encoding="utf-8")
    got = _file_record(path, True)
    assert got == _file_record(path, False)
    assert ("ios", "com.b", None, "1", None) in got[1]  # type: ignore[index]
