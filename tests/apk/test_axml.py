"""Android binary XML: synthetic documents with known tricks, and the real corpus
compared with Debian's ``aapt dump xmltree`` (Android's own tool)."""

from __future__ import annotations

import re
import struct
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest

from appveto.apk.android_attrs import framework_attr_id, framework_attr_name
from appveto.apk.axml import AxmlNode, parse_axml, read_string_pool, render_value, to_xml_text
from appveto.apk.model import TamperKind
from appveto.errors import ApkError, AppvetoError, LimitExceeded
from tests.conftest import corpus_params, require_tool

ANDROID = "http://schemas.android.com/apk/res/android"

# Public IDs of android.R.attr (developer.android.com reference), typed in by hand so
# the table in appveto.apk.android_attrs is checked against an independent source.
R_ATTR = {
    "label": 0x01010001,
    "name": 0x01010003,
    "permission": 0x01010006,
    "protectionLevel": 0x01010009,
    "debuggable": 0x0101000F,
    "exported": 0x01010010,
    "authorities": 0x01010018,
    "priority": 0x0101001C,
    "scheme": 0x01010027,
    "host": 0x01010028,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270,
    "maxSdkVersion": 0x01010271,
    "allowBackup": 0x01010280,
    "usesCleartextTraffic": 0x010104EC,
    "networkSecurityConfig": 0x01010527,
    "compileSdkVersion": 0x01010572,
    "appComponentFactory": 0x0101057A,
    "dataExtractionRules": 0x0101063E,
}


# ----------------------------------------------------------------------- builder


@dataclass
class Ref:
    """A TYPE_REFERENCE value."""

    id: int


@dataclass
class A:
    """An attribute to write. ``resid`` None means: the framework ID for android-namespaced
    names in R_ATTR, no ID otherwise; pass 0 to force no ID."""

    name: str | None
    value: str | int | bool | Ref
    ns: str | None = ANDROID
    resid: int | None = None
    raw: str | None = None  # override of the raw string (TYPE_STRING values)


@dataclass
class E:
    tag: str
    attrs: list[A] = field(default_factory=list)
    children: list[E] = field(default_factory=list)
    line: int = 1
    text: str | None = None


def _len8(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])


def string_pool(strings: list[str], *, utf8: bool = False) -> bytes:
    offsets: list[int] = []
    data = bytearray()
    for s in strings:
        offsets.append(len(data))
        if utf8:
            b = s.encode("utf-8")
            data += _len8(len(s.encode("utf-16-le")) // 2) + _len8(len(b)) + b + b"\x00"
        else:
            u = s.encode("utf-16-le")
            data += struct.pack("<H", len(u) // 2) + u + b"\x00\x00"
    while len(data) % 4:
        data += b"\x00"
    strings_start = 28 + 4 * len(strings)
    header = struct.pack(
        "<HHIIIIII", 1, 28, strings_start + len(data), len(strings), 0, 0x100 if utf8 else 0, strings_start, 0
    )
    return header + struct.pack(f"<{len(offsets)}I", *offsets) + bytes(data)


def _resid(a: A) -> int | None:
    if a.resid is not None:
        return a.resid or None
    if a.ns == ANDROID and a.name in R_ATTR:
        return R_ATTR[a.name]
    return None


def build_axml(
    root: E,
    *,
    utf8: bool = False,
    attr_size: int = 20,
    attr_start: int = 20,
    node_header: int = 16,
    between: bytes = b"",
    trailing: bytes = b"",
    declare_ns: bool = True,
    sort_attrs: bool = True,
) -> bytes:
    """Write binary XML the way aapt lays it out, with knobs for the usual tricks.

    Like aapt, attributes are sorted by resource ID (those without one last) unless
    ``sort_attrs`` is false."""
    with_id: list[tuple[str, int]] = []
    others: list[str] = []

    def collect(e: E) -> None:
        for a in e.attrs:
            rid = _resid(a)
            if rid is not None and a.name is not None:
                if (a.name, rid) not in with_id:
                    with_id.append((a.name, rid))
            elif a.name is not None:
                others.append(a.name)
            if isinstance(a.value, str):
                others.append(a.value)
            if a.raw is not None:
                others.append(a.raw)
            if a.ns is not None:
                others.append(a.ns)
        others.append(e.tag)
        if e.text is not None:
            others.append(e.text)
        for c in e.children:
            collect(c)

    collect(root)
    others[:0] = ["android", ANDROID]
    strings = [n for n, _ in with_id]
    plain: dict[str, int] = {}
    for s in others:
        if s not in plain:
            plain[s] = len(strings)
            strings.append(s)
    id_index = {key: i for i, key in enumerate(with_id)}

    def sidx(s: str | None) -> int:
        return 0xFFFFFFFF if s is None else plain[s]

    pool = string_pool(strings, utf8=utf8)
    resmap = struct.pack("<HHI", 0x180, 8, 8 + 4 * len(with_id)) + b"".join(
        struct.pack("<I", rid) for _, rid in with_id
    )
    nodes = bytearray()
    pad = b"\x00" * (node_header - 16)

    def node(kind: int, line: int, ext: bytes) -> bytes:
        return struct.pack("<HHIII", kind, node_header, node_header + len(ext), line, 0xFFFFFFFF) + pad + ext

    ns_ext = struct.pack("<II", plain["android"], plain[ANDROID])
    if declare_ns:
        nodes += node(0x100, root.line, ns_ext)

    def emit(e: E) -> None:
        body = bytearray()
        ordered = sorted(e.attrs, key=lambda a: _resid(a) or 1 << 32) if sort_attrs else e.attrs
        for a in ordered:
            rid = _resid(a)
            name_i = id_index[(a.name, rid)] if rid is not None and a.name is not None else sidx(a.name)
            v = a.value
            if isinstance(v, bool):
                vtype, data, raw = 0x12, 0xFFFFFFFF if v else 0, 0xFFFFFFFF
            elif isinstance(v, int):
                vtype, data, raw = 0x10, v & 0xFFFFFFFF, 0xFFFFFFFF
            elif isinstance(v, Ref):
                vtype, data, raw = 0x01, v.id, 0xFFFFFFFF
            else:
                vtype, data = 0x03, plain[v]
                raw = plain[a.raw] if a.raw is not None else data
            rec = struct.pack("<IIIHBBI", sidx(a.ns), name_i, raw, 8, 0, vtype, data)
            body += rec + b"\x00" * max(attr_size - 20, 0)
        ext = struct.pack("<IIHHHHHH", 0xFFFFFFFF, plain[e.tag], attr_start, attr_size, len(e.attrs), 0, 0, 0)
        ext += b"\x00" * (attr_start - 20) + bytes(body)
        while len(ext) % 4:
            ext += b"\x00"
        nodes.extend(node(0x102, e.line, ext))
        if e.text is not None:
            nodes.extend(node(0x104, e.line, struct.pack("<IHBBI", plain[e.text], 8, 0, 0x03, plain[e.text])))
        for c in e.children:
            emit(c)
        nodes.extend(node(0x103, e.line, struct.pack("<II", 0xFFFFFFFF, plain[e.tag])))

    emit(root)
    if declare_ns:
        nodes += node(0x101, root.line, ns_ext)
    body = pool + resmap + between + bytes(nodes)
    return struct.pack("<HHI", 3, 8, 8 + len(body)) + body + trailing


def simple_manifest() -> E:
    return E(
        "manifest",
        [A("versionCode", 7), A("versionName", "1.2"), A("package", "org.example.app", ns=None)],
        [
            E("uses-sdk", [A("minSdkVersion", 21), A("targetSdkVersion", 33)], line=2),
            E("uses-permission", [A("name", "android.permission.INTERNET")], line=3),
            E(
                "application",
                [A("label", "Example"), A("debuggable", True)],
                [E("activity", [A("name", ".Main")], line=5)],
                line=4,
            ),
        ],
    )


def details(doc_anomalies: tuple[object, ...]) -> str:
    return "\n".join(getattr(a, "detail", "") for a in doc_anomalies)


# ------------------------------------------------------------------ synthetic


def test_framework_attr_table_matches_public_ids() -> None:
    for name, rid in R_ATTR.items():
        assert framework_attr_name(rid) == name
        assert framework_attr_id(name) == rid
    assert framework_attr_name(0x7F010000) is None
    assert framework_attr_name(0x01000000) is None


def test_plain_document() -> None:
    doc = parse_axml(build_axml(simple_manifest()))
    root = doc.root
    assert root.tag == "manifest"
    assert root.get("android:versionCode") == "7"
    assert root.get("android:versionName") == "1.2"
    assert root.get("package") == "org.example.app"
    assert [c.tag for c in root.children] == ["uses-sdk", "uses-permission", "application"]
    app = root.children[2]
    assert app.get("android:debuggable") == "true"
    assert app.line == 4
    assert app.children[0].get("android:name") == ".Main"
    assert doc.anomalies == ()
    assert doc.tree.attr(R_ATTR["versionCode"]) is not None


def test_character_data_becomes_text() -> None:
    # a network security config: host names are element text, attributes have no namespace
    nsc = E(
        "network-security-config",
        [],
        [
            E(
                "domain-config",
                [A("cleartextTrafficPermitted", True, ns=None)],
                [E("domain", [A("includeSubdomains", True, ns=None)], text="  example.org \n")],
            )
        ],
    )
    doc = parse_axml(build_axml(nsc, declare_ns=False), entry="res/xml/network_security_config.xml")
    domain_config = doc.root.children[0]
    assert domain_config.get("cleartextTrafficPermitted") == "true"
    assert domain_config.children[0].text == "example.org"
    assert domain_config.children[0].get("includeSubdomains") == "true"
    assert doc.root.text is None


def test_utf8_pool_and_non_ascii() -> None:
    root = E("manifest", [A("package", "org.ex", ns=None), A("versionName", "über 𝄞 中文")])
    for utf8 in (False, True):
        doc = parse_axml(build_axml(root, utf8=utf8))
        assert doc.root.get("android:versionName") == "über 𝄞 中文"
        assert doc.anomalies == ()


def test_attribute_is_known_by_resource_id_not_by_string() -> None:
    # maldroid's trick: a string 'package' carrying versionName's resource ID
    root = E(
        "manifest",
        [
            A("versionCode", 1),
            A("package", "com.acme.decoy", resid=R_ATTR["versionName"]),
            A("package", "com.real.app", ns=None),
        ],
    )
    doc = parse_axml(build_axml(root))
    assert doc.root.get("android:versionName") == "com.acme.decoy"
    assert doc.root.get("package") == "com.real.app"
    assert doc.tree.attr_by_name("package").raw == "com.real.app"  # type: ignore[union-attr]
    assert "resource ID of 'versionName'" in details(doc.anomalies)
    assert all(a.kind is TamperKind.MANIFEST_ANOMALY for a in doc.anomalies)


def test_nameless_attributes_resolve_by_id() -> None:
    # obad's trick: empty attribute names, only the resource map says what they are
    root = E(
        "manifest",
        [A("package", "com.x.y", ns=None)],
        [E("uses-permission", [A("", "android.permission.SEND_SMS", resid=R_ATTR["name"], ns=None)])],
    )
    doc = parse_axml(build_axml(root))
    perm = doc.root.children[0]
    assert perm.get("android:name") == "android.permission.SEND_SMS"
    assert "nameless" in details(doc.anomalies)


def test_missing_name_index_and_unknown_namespace() -> None:
    root = E(
        "manifest",
        [
            A("package", "com.x.y", ns=None),
            A(None, "v", ns=None),
            A("custom", "c", ns="http://example.org/ns"),
        ],
    )
    doc = parse_axml(build_axml(root))
    names = [k for k, _ in doc.root.attributes]
    assert "package" in names and "custom" in names
    assert any(k.startswith("attr_") for k in names)


def test_text_rendering_is_well_formed_and_keeps_tricks_visible() -> None:
    root = E(
        "manifest",
        [
            A("package", 'a.b"<&>', ns=None),
            A("versionName", "one"),
            A("versionName", "two"),
            A("x", "1", ns="urn:x"),
        ],
        [E("domain", [], text="example.org & co")],
    )
    text = to_xml_text(parse_axml(build_axml(root, sort_attrs=False)).root)
    parsed = ElementTree.fromstring(text.encode())
    android = "{" + ANDROID + "}"
    assert parsed.get("package") == 'a.b"<&>'
    assert parsed.get(android + "versionName") == "one"
    assert parsed.get(android + "versionName__dup2") == "two"
    assert parsed[0].text is not None and parsed[0].text.strip() == "example.org & co"


def test_typed_values_render_like_aapt() -> None:
    assert render_value(0x12, 0xFFFFFFFF) == "true"
    assert render_value(0x12, 0) == "false"
    assert render_value(0x10, 0xFFFFFFFF) == "-1"
    assert render_value(0x11, 0x1F) == "0x1f"
    assert render_value(0x01, 0x7F030000) == "@0x7f030000"
    assert render_value(0x02, 0x01010036) == "?0x01010036"
    assert render_value(0x1C, 0xFF00FF00) == "#ff00ff00"
    assert render_value(0x04, 0x3F800000) == "1.0"
    assert render_value(0x05, (16 << 8) | 1) == "16.0dp"
    assert render_value(0x03, 5, "text") == "text"
    assert render_value(0x77, 3).startswith("(type 0x77)")


def test_odd_layouts_are_honoured() -> None:
    doc = parse_axml(build_axml(simple_manifest(), attr_size=24, attr_start=28, node_header=20))
    assert doc.root.get("android:versionName") == "1.2"
    assert doc.root.children[2].children[0].get("android:name") == ".Main"
    text = details(doc.anomalies)
    assert "unusual attribute size" in text and "attributeStart" in text


def test_unknown_chunks_are_skipped() -> None:
    junk = struct.pack("<HHI", 0x0777, 8, 16) + b"ABCDEFGH"
    doc = parse_axml(build_axml(simple_manifest(), between=junk))
    assert doc.root.get("package") == "org.example.app"
    assert "unknown chunk type 0x0777" in details(doc.anomalies)


def test_trailing_data_and_wrong_document_type() -> None:
    data = bytearray(build_axml(simple_manifest(), trailing=b"\x00" * 12))
    doc = parse_axml(bytes(data))
    assert "after the document end" in details(doc.anomalies)
    data[0:2] = b"\x00\x00"  # Android does not check the document chunk type
    doc = parse_axml(bytes(data))
    assert doc.root.get("package") == "org.example.app"
    assert "not RES_XML_TYPE" in details(doc.anomalies)


def test_unaligned_chunk_size_is_reported() -> None:
    base = build_axml(simple_manifest())
    # grow the first start-element node by 2 bytes of padding: size no longer 4-aligned
    first = base.index(struct.pack("<HH", 0x102, 16))
    size = struct.unpack_from("<I", base, first + 4)[0]
    patched = base[: first + 4] + struct.pack("<I", size + 2) + base[first + 8 : first + size] + b"\x00\x00"
    patched += base[first + size :]
    patched = patched[:4] + struct.pack("<I", len(patched)) + patched[8:]
    doc = parse_axml(patched)
    assert doc.root.get("package") == "org.example.app"
    assert "not 4-byte aligned" in details(doc.anomalies)


def test_string_pool_with_too_large_count_and_wild_offsets() -> None:
    data = bytearray(build_axml(simple_manifest()))
    count = struct.unpack_from("<I", data, 16)[0]
    struct.pack_into("<I", data, 16, count + 10_000)  # count beyond the chunk
    doc = parse_axml(bytes(data))
    assert "declares" in details(doc.anomalies)
    assert doc.root.tag == "manifest"


def test_string_pool_utf8_flag_on_utf16_data() -> None:
    data = bytearray(build_axml(simple_manifest()))
    struct.pack_into("<I", data, 24, 0x100)  # claim UTF-8, data stays UTF-16
    doc = parse_axml(bytes(data))
    # the pool cannot be read as UTF-8: names are lost, and the loss is reported ...
    assert doc.root.tag == ""
    found = details(doc.anomalies)
    assert "is not NUL-terminated" in found and "element without a name" in found
    # ... while typed values, found by their attributes' resource IDs, are still right
    assert dict(doc.root.attributes)["android:versionCode"] == "7"
    uses_sdk = dict(doc.root.children[0].attributes)
    assert (uses_sdk["android:minSdkVersion"], uses_sdk["android:targetSdkVersion"]) == ("21", "33")


def _utf8_pool(raw_strings: list[tuple[int, bytes]]) -> bytes:
    """A UTF-8 pool from (UTF-16 length, encoded bytes) pairs, bytes written as given."""
    data = bytearray()
    offsets = []
    for n16, b in raw_strings:
        offsets.append(len(data))
        data += bytes([n16, len(b)]) + b + b"\x00"
    while len(data) % 4:
        data += b"\x00"
    start = 28 + 4 * len(offsets)
    head = struct.pack("<HHIIIIII", 1, 28, start + len(data), len(offsets), 0, 0x100, start, 0)
    return head + struct.pack(f"<{len(offsets)}I", *offsets) + bytes(data)


def test_utf8_pool_with_cesu8_surrogates() -> None:
    clef = "\U0001d11e"
    high, low = struct.unpack("<2H", clef.encode("utf-16-le"))
    cesu = (chr(high) + chr(low)).encode("utf-8", "surrogatepass")  # two 3-byte sequences
    lone = chr(high).encode("utf-8", "surrogatepass")
    notes: list[str] = []
    pool = _utf8_pool([(2, cesu), (1, lone), (2, b"ok")])
    strings = read_string_pool(pool, 0, len(pool), lambda off, d, once=None: notes.append(d))
    assert strings[0] == clef  # older aapt wrote CESU-8; Android decodes it
    assert "\ufffd" in (strings[1] or "")  # a lone surrogate is replaced, and reported
    assert strings[2] == "ok"
    assert any("invalid UTF-8" in n for n in notes)


def test_string_offset_out_of_range() -> None:
    data = bytearray(build_axml(simple_manifest()))
    struct.pack_into("<I", data, 8 + 28, 0xFFFFFF00)  # offset of string #0
    doc = parse_axml(bytes(data))
    assert "outside the pool" in details(doc.anomalies)


def test_end_tags_pair_by_depth_and_unclosed_elements() -> None:
    data = build_axml(simple_manifest())
    # drop every end-element node: the elements nest and are closed at the end
    out = bytearray(data[:8])
    pos = 8
    while pos < len(data):
        ctype, _, size = struct.unpack_from("<HHI", data, pos)
        if ctype != 0x103:
            out += data[pos : pos + size]
        pos += size
    struct.pack_into("<I", out, 4, len(out))
    doc = parse_axml(bytes(out))
    assert doc.root.tag == "manifest"
    assert doc.root.children[0].tag == "uses-sdk"
    assert "not closed" in details(doc.anomalies)


def test_attribute_after_a_higher_id_is_invisible_to_android() -> None:
    perm = E("uses-permission", [A("maxSdkVersion", 22), A("name", "android.permission.SEND_SMS")])
    doc = parse_axml(build_axml(E("manifest", [A("package", "a.b", ns=None)], [perm]), sort_attrs=False))
    node = doc.tree.children[0]
    assert doc.root.children[0].get("android:name") == "android.permission.SEND_SMS"  # in the file
    assert node.attr(R_ATTR["name"]) is None  # but not for the platform
    assert node.attr(R_ATTR["maxSdkVersion"]) is not None
    assert "invisible to Android" in details(doc.anomalies)
    sorted_doc = parse_axml(build_axml(E("manifest", [A("package", "a.b", ns=None)], [perm])))
    assert sorted_doc.tree.children[0].attr(R_ATTR["name"]) is not None
    assert "invisible" not in details(sorted_doc.anomalies)


def test_duplicate_attribute_first_wins() -> None:
    root = E("manifest", [A("package", "a.b", ns=None), A("versionName", "one"), A("versionName", "two")])
    doc = parse_axml(build_axml(root))
    assert doc.root.get("android:versionName") == "one"
    assert "repeats attribute" in details(doc.anomalies)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x03\x00\x08\x00", struct.pack("<HHI", 3, 8, 8), struct.pack("<HHI", 2, 12, 12) + b"\0" * 4],
)
def test_unusable_input_raises_located_apk_error(data: bytes) -> None:
    with pytest.raises(ApkError) as info:
        parse_axml(data, entry="res/xml/x.xml")
    diag = info.value.diagnostics()[0]
    assert diag.entry == "res/xml/x.xml"
    assert diag.offset is not None


def test_text_xml_is_refused() -> None:
    with pytest.raises(ApkError, match="not Android binary XML"):
        parse_axml(b'<?xml version="1.0"?><manifest/>')


def test_deep_nesting_is_limited() -> None:
    e = E("leaf")
    for _ in range(400):
        e = E("n", children=[e])
    with pytest.raises(LimitExceeded):
        parse_axml(build_axml(e))


def test_memoryview_and_bytearray_input() -> None:
    data = build_axml(simple_manifest())
    for view in (memoryview(data), bytearray(data)):
        doc = parse_axml(view)  # type: ignore[arg-type]
        assert doc.root.get("package") == "org.example.app"


# --------------------------------------------------------------------- corpus


def manifest_bytes(path: Path) -> bytes | None:
    """AndroidManifest.xml as Android reads it; None when the APK has none/cannot open."""
    try:
        from appveto.apk.archive import open_archive
    except ImportError:  # archive module not there yet
        try:
            with zipfile.ZipFile(path) as z:
                return z.read("AndroidManifest.xml")
        except (KeyError, zipfile.BadZipFile, NotImplementedError, OSError):
            return None
    try:
        with open_archive(path) as archive:
            if archive.get("AndroidManifest.xml") is None:
                return None
            return archive.read("AndroidManifest.xml")
    except AppvetoError:
        return None


_ELEMENT = re.compile(r"^\s*E: (\S+) \(line=(\d+)\)")
_ATTRIBUTE = re.compile(r"^\s*A: (.*?)\((0x[0-9a-f]{8})\)=(.*)$")


def aapt_xmltree(apk: Path) -> list[tuple[str, int, dict[int, str]]]:
    tool = require_tool("aapt")
    out = subprocess.run(
        [tool, "dump", "xmltree", str(apk), "AndroidManifest.xml"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elements: list[tuple[str, int, dict[int, str]]] = []
    for line in out.stdout.splitlines():
        m = _ELEMENT.match(line)
        if m:
            # Android's parser uses the local name: <android:uses-permission> is uses-permission
            elements.append((m.group(1).rpartition(":")[2], int(m.group(2)), {}))
            continue
        m = _ATTRIBUTE.match(line)
        if m and elements:
            value = m.group(3)
            rid = int(m.group(2), 16)
            sm = re.match(r'^"(.*)" \(Raw: ', value)
            if sm:
                elements[-1][2].setdefault(rid, sm.group(1))
            else:
                im = re.match(r"^\(type (0x[0-9a-f]+)\)(0x[0-9a-f]+)$", value)
                if im and int(im.group(1), 16) in (0x10, 0x11):
                    elements[-1][2].setdefault(rid, str(int(im.group(2), 16)))
    return elements


def _preorder(node: AxmlNode) -> list[AxmlNode]:
    out: list[AxmlNode] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_matches_aapt_xmltree(corpus_file: Path) -> None:
    data = manifest_bytes(corpus_file)
    if data is None:
        pytest.skip("no readable AndroidManifest.xml")
    doc = parse_axml(data)
    expected = aapt_xmltree(corpus_file)
    if not expected:
        pytest.skip("aapt cannot read this manifest")
    ours = _preorder(doc.tree)
    assert [(n.tag, n.line) for n in ours] == [(t, ln) for t, ln, _ in expected]
    for node, (_tag, _line, attrs) in zip(ours, expected, strict=True):
        for rid, value in attrs.items():
            # aapt prints the file's attributes; Android may not see all of them (node.attr)
            attr = next((a for a in node.attributes if a.resource_id == rid), None)
            assert attr is not None, (node.tag, hex(rid))
            if attr.value_type in (0x10, 0x11):
                assert str(attr.data) == value
            elif "\\" not in value and "\n" not in value:
                assert attr.value == value, (node.tag, hex(rid))
