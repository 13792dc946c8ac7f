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


def _file_record(path: Path) -> object:
    sink = RecordingSink()
    try:
        apple.IMPORTER.read(path, path.name, sink)
    except FleetError as exc:
        return str(exc)
    return sink.events, sink.app_keys, list(sink.rows)


def test_a_repeated_key_keeps_its_last_value(tmp_path: Path) -> None:
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
    got = _file_record(path)
    assert got[1] == [("unknown", "last", "N", "1", None)]  # type: ignore[index]


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


def test_same_apps_on_two_platforms(tmp_path: Path) -> None:
    """The same app list on an iPhone and an iPad gives each device its platform's keys."""
    apps = "\n\t".join(
        f"<dict><key>Identifier</key><string>com.a{i % 3}</string><key>Name</key><string>A {i % 3}</string>"
        f"<key>ShortVersion</key><string> 1.{i % 3} </string></dict>"
        for i in range(7)
    )
    path = tmp_path / "apps.plist"
    path.write_text(_two_platforms(apps), encoding="utf-8")
    keys = _file_record(path)[1]  # type: ignore[index]
    assert sorted({k[0] for k in keys}) == ["ios", "ipados"]
    assert ("ios", "com.a1", "A 1", "1.1", None) in keys and ("ipados", "com.a1", "A 1", "1.1", None) in keys


def test_an_unusual_app_takes_the_general_loop(tmp_path: Path) -> None:
    """A blank name sends its list the general way (the app keeps its identifier)."""
    app = (
        "<dict><key>Identifier</key><string>{}</string><key>Name</key><string>{}</string>"
        "<key>ShortVersion</key><string>1</string></dict>"
    )
    odd = app.format("com.b", " ")
    usual = app.format("com.a", "A")
    path = tmp_path / "apps.plist"
    path.write_text(_two_platforms(usual + odd), encoding="utf-8")
    got = _file_record(path)
    assert ("ios", "com.b", None, "1", None) in got[1]  # type: ignore[index]
