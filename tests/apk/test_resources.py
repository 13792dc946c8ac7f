"""resources.arsc: synthetic tables (configurations, references, sparse and compact
entries, tampering) and the real corpus compared with ``aapt`` and androguard."""

from __future__ import annotations

import struct
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from appveto.apk.resources import ResourceTable, parse_resources
from appveto.errors import ApkError, AppvetoError
from tests.apk.test_axml import string_pool
from tests.conftest import corpus_params, require_tool

# ----------------------------------------------------------------------- builder

Value = tuple[str, object]  # ("string", "x") | ("ref", 0x7f..) | ("bool", True) | ("int", 3) | ("bag", None)


@dataclass
class Res:
    type: str
    key: str
    values: dict[str, Value]
    """Config qualifier ('' default, 'fr', 'hdpi', 'v21') -> value."""


@dataclass
class Table:
    data: bytes
    ids: dict[str, int] = field(default_factory=dict)
    """'type/key' -> resource ID."""


def _config(qualifier: str) -> bytes:
    cfg = bytearray(64)
    struct.pack_into("<I", cfg, 0, 64)
    if qualifier == "fr":
        cfg[8:10] = b"fr"
    elif qualifier == "fr-rCA":
        cfg[8:10] = b"fr"
        cfg[10:12] = b"CA"
    elif qualifier == "b+sr+Latn":
        cfg[8:10] = b"sr"
        cfg[36:40] = b"Latn"
    elif qualifier == "fil-rPH":  # three-letter language, packed into two bytes
        v = 0x8000 | (ord("f") - 97) | (ord("i") - 97) << 5 | (ord("l") - 97) << 10
        cfg[8:10] = bytes([v >> 8, v & 0xFF])
        cfg[10:12] = b"PH"
    elif qualifier == "hdpi":
        struct.pack_into("<H", cfg, 14, 240)
    elif qualifier == "v21":
        struct.pack_into("<H", cfg, 24, 21)
    elif qualifier:
        raise ValueError(qualifier)
    return bytes(cfg)


def build_arsc(
    resources: list[Res],
    *,
    package: str = "org.example.app",
    pkg_id: int = 0x7F,
    mode: str = "dense",  # dense | offset16 | sparse | compact
    extra_chunk: bytes = b"",
) -> Table:
    values: list[str] = []
    for r in resources:
        for v in r.values.values():
            if v[0] == "string" and v[1] not in values:
                values.append(str(v[1]))
    type_names: list[str] = []
    keys: list[str] = []
    by_type: dict[str, list[Res]] = {}
    for r in resources:
        if r.type not in type_names:
            type_names.append(r.type)
        if r.key not in keys:
            keys.append(r.key)
        by_type.setdefault(r.type, []).append(r)
    table = Table(b"")
    chunks = bytearray()
    for ti, tname in enumerate(type_names, start=1):
        items = by_type[tname]
        for ei, r in enumerate(items):
            table.ids[f"{tname}/{r.key}"] = (pkg_id << 24) | (ti << 16) | ei
        chunks += struct.pack("<HHIBBHI", 0x202, 16, 16 + 4 * len(items), ti, 0, 0, len(items))
        chunks += b"\x00\x00\x00\x00" * len(items)
        configs: list[str] = []
        for r in items:
            for q in r.values:
                if q not in configs:
                    configs.append(q)
        for q in configs:
            entries = bytearray()
            offs: list[int | None] = []
            for r in items:
                if q not in r.values:
                    offs.append(None)
                    continue
                offs.append(len(entries))
                kind, v = r.values[q]
                key = keys.index(r.key)
                if kind == "bag":
                    entries += struct.pack("<HHIII", 16, 1, key, 0, 0)
                    continue
                vtype, data = {
                    "string": lambda v: (0x03, values.index(str(v))),
                    "ref": lambda v: (0x01, int(v)),  # type: ignore[call-overload]
                    "bool": lambda v: (0x12, 0xFFFFFFFF if v else 0),
                    "int": lambda v: (0x10, int(v) & 0xFFFFFFFF),  # type: ignore[call-overload]
                }[kind](v)
                if mode == "compact":
                    entries += struct.pack("<HHI", key, 0x08 | (vtype << 8), data)
                else:
                    entries += struct.pack("<HHIHBBI", 8, 0, key, 8, 0, vtype, data)
            flags = {"dense": 0, "offset16": 0x02, "sparse": 0x01, "compact": 0}[mode]
            if mode == "sparse":
                present = [(i, o) for i, o in enumerate(offs) if o is not None]
                offsets = b"".join(struct.pack("<HH", i, o // 4) for i, o in present)
                count = len(present)
            elif mode == "offset16":
                offsets = b"".join(struct.pack("<H", 0xFFFF if o is None else o // 4) for o in offs)
                if len(offsets) % 4:
                    offsets += b"\xff\xff"
                count = len(offs)
            else:
                offsets = b"".join(struct.pack("<I", 0xFFFFFFFF if o is None else o) for o in offs)
                count = len(offs)
            header_size = 20 + 64
            entries_start = header_size + len(offsets)
            size = entries_start + len(entries)
            chunks += struct.pack("<HHIBBHII", 0x201, header_size, size, ti, flags, 0, count, entries_start)
            chunks += _config(q) + offsets + bytes(entries)
    tpool = string_pool(type_names)
    kpool = string_pool(keys)
    name = package.encode("utf-16-le").ljust(256, b"\x00")
    pkg_header_size = 288
    body = tpool + kpool + bytes(chunks)
    pkg = struct.pack("<HHII", 0x200, pkg_header_size, pkg_header_size + len(body), pkg_id) + name
    pkg += struct.pack("<IIIII", pkg_header_size, len(type_names), pkg_header_size + len(tpool), len(keys), 0)
    pkg += body
    gpool = string_pool(values, utf8=True)
    content = gpool + extra_chunk + pkg
    table.data = struct.pack("<HHII", 0x0002, 12, 12 + len(content), 1) + content
    return table


SAMPLE = [
    Res("string", "app_name", {"": ("string", "Example"), "fr": ("string", "Exemple")}),
    Res("string", "only_fr", {"fr": ("string", "Seulement")}),
    Res("xml", "network_security_config", {"": ("string", "res/xml/network_security_config.xml")}),
    Res("string", "alias", {"": ("ref", 0)}),  # patched below to point at app_name
    Res("bool", "flag", {"": ("bool", True)}),
    Res("integer", "answer", {"": ("int", 42)}),
    Res("style", "Theme", {"": ("bag", None)}),
]


def sample(mode: str = "dense") -> tuple[ResourceTable, dict[str, int]]:
    first = build_arsc(SAMPLE, mode=mode)
    app_name = first.ids["string/app_name"]
    items = [Res(r.type, r.key, {"": ("ref", app_name)}) if r.key == "alias" else r for r in SAMPLE]
    built = build_arsc(items, mode=mode)
    return parse_resources(built.data), built.ids


# ------------------------------------------------------------------ synthetic


@pytest.mark.parametrize("mode", ["dense", "offset16", "sparse", "compact"])
def test_resolve_values_and_configs(mode: str) -> None:
    table, ids = sample(mode)
    assert table.anomalies == ()
    assert table.packages == ((0x7F, "org.example.app"),)
    assert table.resolve(ids["string/app_name"]) == "Example"
    assert table.resolve(ids["string/app_name"], config="fr") == "Exemple"
    assert table.resolve(ids["string/app_name"], config="de") == "Example"  # default first
    assert table.resolve(ids["string/only_fr"]) == "Seulement"  # no default: first config that has it
    assert table.resolve(ids["xml/network_security_config"]) == "res/xml/network_security_config.xml"
    assert table.resolve(ids["string/alias"]) == "Example"  # reference followed
    assert table.resolve(ids["bool/flag"]) == "true"
    assert table.resolve(ids["integer/answer"]) == "42"
    assert table.resolve(ids["style/Theme"]) is None  # a bag has no single value
    assert table.entry_name(ids["xml/network_security_config"]) == "@xml/network_security_config"
    assert table.configs(ids["string/app_name"]) == ("", "fr")
    assert "Example" in table.strings and "res/xml/network_security_config.xml" in table.strings


def test_configuration_qualifiers_are_written_like_aapt() -> None:
    qualifiers = ["", "fr", "fr-rCA", "b+sr+Latn", "fil-rPH", "hdpi", "v21"]
    built = build_arsc([Res("string", "s", {q: ("string", q or "default") for q in qualifiers})])
    table = parse_resources(built.data)
    assert [c for _, _, c in table.configurations()] == qualifiers
    ref = built.ids["string/s"]
    for q in qualifiers:
        assert table.resolve(ref, config=q) == (q or "default")


def test_unknown_ids() -> None:
    table, ids = sample()
    assert table.resolve(0x7F7F0000) is None
    assert table.resolve(ids["string/app_name"] + 100) is None
    assert table.resolve(0x01040000) is None  # framework resources are not in the app table
    assert table.entry_name(0x12345678) is None


def test_reference_loops_end() -> None:
    first = build_arsc([Res("string", "a", {"": ("ref", 0)}), Res("string", "b", {"": ("ref", 0)})])
    a, b = first.ids["string/a"], first.ids["string/b"]
    table = parse_resources(
        build_arsc([Res("string", "a", {"": ("ref", b)}), Res("string", "b", {"": ("ref", a)})]).data
    )
    assert table.resolve(a) is None


def test_unknown_chunk_and_trailing_bytes_are_anomalies() -> None:
    built = build_arsc(SAMPLE, extra_chunk=struct.pack("<HHI", 0x0999, 8, 8))
    table = parse_resources(built.data + b"\x00" * 8)
    text = "\n".join(a.detail for a in table.anomalies)
    assert "unknown table chunk 0x0999" in text
    assert table.resolve(built.ids["string/app_name"]) == "Example"


def test_truncated_table_keeps_what_it_can() -> None:
    """Cut anywhere, the table says it was cut, keeps no string it did not read whole (and every
    string once the cut is past the pool), and resolves the sample's name either right or not at
    all (never to garbage)."""
    built = build_arsc(SAMPLE)
    full = parse_resources(built.data)
    ref = built.ids["string/app_name"]
    assert full.resolve(ref) == "Example" and not full.anomalies
    pool_end = 12 + struct.unpack_from("<I", built.data, 16)[0]  # the global pool follows the header
    for cut in [*range(12, len(built.data), 5), len(built.data) - 1]:
        table = parse_resources(built.data[:cut])
        assert any("exceeds the data" in a.detail for a in table.anomalies), cut
        assert len(table.strings) <= len(full.strings)
        for got, want in zip(table.strings, full.strings, strict=False):
            assert got in ("", want), (cut, got, want)
        if cut >= pool_end:
            assert table.strings == full.strings, cut
        assert table.resolve(ref) in (None, "Example"), cut


@pytest.mark.parametrize("mode", ["dense", "offset16", "sparse", "compact"])
def test_entry_offsets_out_of_range_are_no_entry(mode: str) -> None:
    built = build_arsc(SAMPLE, mode=mode)
    data = bytearray(built.data)
    # every type chunk: point the first entry offset far outside the chunk
    pos = 0
    while True:
        pos = data.find(b"\x01\x02\x54\x00", pos + 1)  # RES_TABLE_TYPE_TYPE, header size 84
        if pos < 0:
            break
        struct.pack_into("<I", data, pos + 84, 0x00FFFFF0 if mode != "offset16" else 0xFFF0FFF0)
    table = parse_resources(bytes(data))
    full = parse_resources(built.data)
    broken = 2 if mode == "offset16" else 1  # offset16 packs two offsets in the word written
    for ref in built.ids.values():
        if ref & 0xFFFF < broken:  # an entry pointed outside its chunk: no entry, no name
            assert (table.resolve(ref), table.entry_name(ref)) == (None, None), hex(ref)
        else:  # every other entry reads as before
            assert (table.resolve(ref), table.entry_name(ref)) == (full.resolve(ref), full.entry_name(ref))


@pytest.mark.parametrize("data", [b"", b"\x02\x00", struct.pack("<HHI", 3, 8, 16) + b"\x00" * 8])
def test_not_a_table(data: bytes) -> None:
    with pytest.raises(ApkError) as info:
        parse_resources(data, entry="resources.arsc")
    assert info.value.diagnostics()[0].entry == "resources.arsc"


# --------------------------------------------------------------------- corpus


def arsc_bytes(path: Path) -> bytes | None:
    try:
        from appveto.apk.archive import open_archive
    except ImportError:
        try:
            with zipfile.ZipFile(path) as z:
                return z.read("resources.arsc")
        except (KeyError, zipfile.BadZipFile, NotImplementedError, OSError):
            return None
    try:
        with open_archive(path) as archive:
            if archive.get("resources.arsc") is None:
                return None
            return archive.read("resources.arsc")
    except AppvetoError:
        return None


def aapt_strings(apk: Path) -> list[str] | None:
    tool = require_tool("aapt")
    out = subprocess.run(
        [tool, "dump", "strings", str(apk)], check=False, capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0 or ("String pool of" not in out.stdout and out.stderr):
        return None
    found: list[str] = []
    for line in out.stdout.splitlines():
        head, sep, rest = line.partition(": ")
        if sep and head.startswith("String #"):
            found.append(rest)
    return found


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_global_strings_match_aapt(corpus_file: Path) -> None:
    data = arsc_bytes(corpus_file)
    if data is None:
        pytest.skip("no resources.arsc")
    table = parse_resources(data)
    expected = aapt_strings(corpus_file)
    if expected is None:
        pytest.skip("aapt cannot read the table")
    assert len(table.strings) == len(expected)
    # aapt prints one line per string: compare those without line breaks
    for ours, theirs in zip(table.strings, expected, strict=True):
        if "\n" not in ours and "\r" not in ours:
            assert ours == theirs


def aapt_configurations(apk: Path) -> dict[int, list[str]] | None:
    tool = require_tool("aapt")
    out = subprocess.run(
        [tool, "dump", "resources", str(apk)], check=False, capture_output=True, text=True, timeout=120
    )
    if "Package Group" not in out.stdout or "Package Groups (0)" in out.stdout:
        return None  # aapt could not open the archive
    found: dict[int, list[str]] = {}
    current = None
    for line in out.stdout.splitlines():
        head = line.strip()
        if head.startswith("type ") and "configCount=" in head:
            current = int(head.split()[1]) + 1  # aapt prints the type index, IDs start at 1
        elif head.startswith("config ") and head.endswith(":") and current is not None:
            name = head[len("config ") : -1]
            found.setdefault(current, []).append("" if name == "(default)" else name)
    return found


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_configurations_match_aapt(corpus_file: Path) -> None:
    data = arsc_bytes(corpus_file)
    if data is None:
        pytest.skip("no resources.arsc")
    table = parse_resources(data)
    expected = aapt_configurations(corpus_file)
    if expected is None:
        pytest.skip("aapt cannot read the table")
    ours: dict[int, list[str]] = {}
    for _, type_id, config in table.configurations():
        ours.setdefault(type_id, []).append(config)
    assert ours == expected


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_resolves_like_androguard(corpus_file: Path) -> None:
    data = arsc_bytes(corpus_file)
    if data is None:
        pytest.skip("no resources.arsc")
    table = parse_resources(data)
    from loguru import logger

    logger.disable("androguard")  # silence its loguru output, leave other handlers alone
    from androguard.core.axml import ARSCParser

    try:
        ag = ARSCParser(data)
    except Exception as exc:  # androguard itself cannot read it
        pytest.skip(f"androguard cannot parse: {exc}")
    checked = 0
    for package in ag.get_packages_names():
        default = ag.get_resolved_strings().get(package, {}).get("DEFAULT", {})
        for rid, value in sorted(default.items())[:400]:
            ours = table.resolve(rid)
            if value == "":
                continue  # androguard gives '' for references (which we follow) and bags
            assert ours == value, hex(rid)
            name = ag.get_resource_xml_name(rid)
            if name:
                assert table.entry_name(rid) == "@" + name.rpartition(":")[2].lstrip("@"), hex(rid)
            checked += 1
    assert checked or not ag.get_packages_names()
