"""Android binary XML (``AndroidManifest.xml`` and compiled ``res/xml`` files).

The reader follows Android's own parser (``ResXMLTree``/``ResXMLParser`` in
``frameworks/base/libs/androidfw/ResourceTypes.cpp`` and ``XmlBlock``) rather than the
letter of the format, because that is what decides what an installed app really
declares:

* chunks are walked by their ``size`` and nodes are read at ``node + headerSize``, with
  attributes at ``attributeStart`` and a stride of ``attributeSize``, however odd;
* before the first XML node, the last string pool and the last resource map win;
  after it, only XML nodes count and every other chunk type is skipped;
* an attribute is known to the platform by the resource ID that the resource map gives
  its name index, not by its string name: an attribute whose string is ``package`` but
  whose ID is that of ``versionName`` *is* ``android:versionName``; nameless attributes
  (empty or missing string) are still found by their ID;
* start and end tags are paired by nesting depth, not by name, as ``XmlPullParser``
  does.

Where the bytes deviate from what ``aapt`` writes (a tampered string pool, a wrong
chunk size, a duplicate attribute, trailing bytes...) the reader goes on as far as
the data allows and records a :class:`~appveto.apk.model.Tampering` of kind
``MANIFEST_ANOMALY``. Only input too broken to yield a root element raises
:class:`~appveto.errors.ApkError` (with the entry and offset).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from appveto.apk.android_attrs import framework_attr_name
from appveto.apk.model import Tampering, TamperKind, XmlElement
from appveto.errors import ApkError, LimitExceeded

__all__ = [
    "ANDROID_NS",
    "AxmlAttribute",
    "AxmlDocument",
    "AxmlNode",
    "ValueType",
    "parse_axml",
    "render_value",
    "to_xml_text",
]

ANDROID_NS = "http://schemas.android.com/apk/res/android"

# Chunk types (ResourceTypes.h)
RES_NULL_TYPE = 0x0000
RES_STRING_POOL_TYPE = 0x0001
RES_TABLE_TYPE = 0x0002
RES_XML_TYPE = 0x0003
RES_XML_FIRST_CHUNK_TYPE = 0x0100
RES_XML_START_NAMESPACE_TYPE = 0x0100
RES_XML_END_NAMESPACE_TYPE = 0x0101
RES_XML_START_ELEMENT_TYPE = 0x0102
RES_XML_END_ELEMENT_TYPE = 0x0103
RES_XML_CDATA_TYPE = 0x0104
RES_XML_LAST_CHUNK_TYPE = 0x017F
RES_XML_RESOURCE_MAP_TYPE = 0x0180

_UTF8_FLAG = 0x100
_NO_INDEX = 0xFFFFFFFF

MAX_DEPTH = 256
"""Deeper nesting is refused: no real manifest comes close, and consumers recurse."""
MAX_ANOMALIES = 64
"""Anomalies recorded per document; further ones are summarised in one entry."""

_HDR = struct.Struct("<HHI")
_POOL = struct.Struct("<IIIII")
_NODE = struct.Struct("<HHIII")  # chunk header + lineNumber + comment
_ATTR_EXT = struct.Struct("<IIHHHHHH")
_ATTR = struct.Struct("<IIIHBBI")
_NS_EXT = struct.Struct("<II")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")


class ValueType:
    """``Res_value`` data types."""

    NULL = 0x00
    REFERENCE = 0x01
    ATTRIBUTE = 0x02
    STRING = 0x03
    FLOAT = 0x04
    DIMENSION = 0x05
    FRACTION = 0x06
    DYNAMIC_REFERENCE = 0x07
    DYNAMIC_ATTRIBUTE = 0x08
    INT_DEC = 0x10
    INT_HEX = 0x11
    INT_BOOLEAN = 0x12
    INT_COLOR_ARGB8 = 0x1C
    INT_COLOR_RGB8 = 0x1D
    INT_COLOR_ARGB4 = 0x1E
    INT_COLOR_RGB4 = 0x1F
    FIRST_INT = 0x10
    LAST_INT = 0x1F


# ----------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class AxmlAttribute:
    """One attribute as Android sees it, with both its raw and its typed value."""

    namespace: str | None
    """Namespace URI, None when the attribute has none."""
    name: str
    """The string-pool name ('' when the string is missing or empty)."""
    resource_id: int | None
    """The resource ID from the resource map (how the platform identifies it)."""
    value_type: int
    data: int
    raw: str | None
    """The raw string value (what ``XmlPullParser.getAttributeValue`` returns first)."""
    string: str | None
    """The string of a ``TYPE_STRING`` typed value."""
    qualified_name: str
    """``android:name`` for framework attributes, ``prefix:name`` or ``name`` otherwise."""
    value: str
    """The value rendered as ``aapt``/Android render it."""
    offset: int


@dataclass(frozen=True, slots=True)
class AxmlNode:
    """An element with its attributes in document order."""

    tag: str
    namespace: str | None
    attributes: tuple[AxmlAttribute, ...]
    children: tuple[AxmlNode, ...]
    line: int | None
    offset: int
    text: str | None = None
    """Character data inside the element (CDATA chunks), trimmed; None when empty."""

    def attr(self, resource_id: int) -> AxmlAttribute | None:
        """The attribute Android reads for a resource ID, exactly as ``TypedArray`` does.

        ``RetrieveAttributes`` (``AttributeResolution.cpp``) walks the element's attributes
        and the requested IDs together, both assumed sorted by ID. Its outcome for one ID
        is: the first attribute (in document order) whose ID is at least the requested one
        counts, and only if its ID is equal. So a duplicate loses to the first, and an
        attribute placed after one with a higher ID is never seen by the platform.
        """
        for a in self.attributes:
            rid = a.resource_id
            if not rid or rid < resource_id:
                continue
            return a if rid == resource_id else None
        return None

    def attr_by_name(self, name: str, namespace: str | None = None) -> AxmlAttribute | None:
        """``XmlPullParser.getAttributeValue(namespace, name)``: by string name, first wins."""
        for a in self.attributes:
            if a.name == name and a.namespace == namespace:
                return a
        return None

    def to_element(self, resolve: Callable[[int], str | None] | None = None) -> XmlElement:
        """The generic element tree; ``resolve`` maps a reference (``@0x7f...``) to its value
        (e.g. :meth:`ResourceTable.resolve <appveto.apk.resources.ResourceTable.resolve>`)."""
        if resolve is None:
            attributes = tuple((a.qualified_name, a.value) for a in self.attributes)
        else:
            attributes = tuple((a.qualified_name, _resolved_text(a, resolve)) for a in self.attributes)
        return XmlElement(
            tag=self.tag,
            attributes=attributes,
            children=tuple(c.to_element(resolve) for c in self.children),
            line=self.line,
            text=self.text,
        )


def _resolved_text(attr: AxmlAttribute, resolve: Callable[[int], str | None]) -> str:
    if attr.value_type in (ValueType.REFERENCE, ValueType.DYNAMIC_REFERENCE) and attr.data:
        found = resolve(attr.data)
        if found is not None:
            return found
    return attr.value


@dataclass(frozen=True, slots=True)
class AxmlDocument:
    root: XmlElement
    anomalies: tuple[Tampering, ...]
    tree: AxmlNode
    """The same document with raw attribute facts (resource IDs, types, raw strings)."""


def to_xml_text(root: XmlElement) -> str:
    """The element tree as indented text XML (for reports and people; not re-parsable
    into the same binary document). Attribute and element names are written as
    decoded, values escaped; prefixes other than ``android`` get a placeholder
    namespace so the text stays well-formed."""

    def ncname(part: str) -> bool:
        return part[:1].isalpha() and all(c.isascii() and (c.isalnum() or c in "_-.") for c in part)

    def name_ok(name: str) -> str:
        parts = name.split(":")
        reserved = (len(parts) == 2 and parts[0].lower().startswith("xml")) or name.lower().startswith(
            "xmlns"
        )
        return name if len(parts) <= 2 and all(ncname(p) for p in parts) and not reserved else "_invalid"

    prefixes: set[str] = set()
    for element in root.iter():
        for key, _ in element.attributes:
            if ":" in key and name_ok(key) == key:
                prefixes.add(key.split(":", 1)[0])
        if ":" in element.tag and name_ok(element.tag) == element.tag:
            prefixes.add(element.tag.split(":", 1)[0])
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    declarations = [f'xmlns:android="{ANDROID_NS}"'] if "android" in prefixes else []
    declarations += [f'xmlns:{p}="urn:appveto:unknown:{p}"' for p in sorted(prefixes - {"android"})]

    def emit(e: XmlElement, depth: int, extra: list[str]) -> None:
        pad = "  " * depth
        attrs = list(extra)
        seen: set[str] = set()
        for k, v in e.attributes:
            key = name_ok(k)
            if key in seen:  # a repeated attribute (a tampering trick) stays visible
                n = 2
                while f"{key}__dup{n}" in seen:
                    n += 1
                key = f"{key}__dup{n}"
            seen.add(key)
            attrs.append(f'{key}="{_escape(v)}"')
        head = f"{pad}<{name_ok(e.tag)}" + "".join(f"\n{pad}    {a}" for a in attrs)
        if not e.children and e.text is None:
            lines.append(head + " />")
            return
        lines.append(head + ">")
        if e.text is not None:
            lines.append(f"{pad}  {_escape(e.text)}")
        for c in e.children:
            emit(c, depth + 1, [])
        lines.append(f"{pad}</{name_ok(e.tag)}>")

    emit(root, 0, declarations)
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return "".join(c if _xml_char(c) else f"\\u{ord(c):04x}" for c in out)


def _xml_char(c: str) -> bool:
    """Characters XML 1.0 allows; others are shown as ``\\uXXXX`` text."""
    o = ord(c)
    return o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or 0x10000 <= o <= 0x10FFFF


# ----------------------------------------------------------------- diagnostics


class AnomalyLog:
    """Collects deviations, capped so hostile input cannot flood a report."""

    __slots__ = ("dropped", "entry", "items", "seen")

    def __init__(self, entry: str) -> None:
        self.entry = entry
        self.items: list[Tampering] = []
        self.dropped = 0
        self.seen: set[str] = set()

    def add(self, offset: int | None, detail: str, *, once: str | None = None) -> None:
        if once is not None:
            if once in self.seen:
                return
            self.seen.add(once)
        if len(self.items) >= MAX_ANOMALIES:
            self.dropped += 1
            return
        self.items.append(Tampering(TamperKind.MANIFEST_ANOMALY, self.entry, offset, detail))

    def result(self) -> tuple[Tampering, ...]:
        if self.dropped:
            return (
                *self.items,
                Tampering(
                    TamperKind.MANIFEST_ANOMALY,
                    self.entry,
                    None,
                    f"{self.dropped} further anomalies not listed",
                ),
            )
        return tuple(self.items)


# ----------------------------------------------------------------- string pool


class NoteFn(Protocol):
    def __call__(self, offset: int | None, detail: str, *, once: str | None = None) -> None: ...


def read_string_pool(buf: bytes, start: int, end: int, note: NoteFn) -> tuple[str | None, ...]:
    """Decode a ``ResStringPool`` chunk at ``start`` (bounded by ``end``).

    Lenient like Android's lazy ``stringAt``: a string that cannot be read is None and
    the rest of the pool stays usable. Counts are clamped to what the chunk holds, and
    the total decoded size is budgeted so overlapping offsets cannot blow up memory.
    """
    header_size, size = _HDR.unpack_from(buf, start)[1:]
    chunk_end = min(start + size, end) if size >= 8 else end
    if start + size > end:
        note(start, f"string pool size {size:#x} runs past its container (clamped)")
    if header_size < 28 or start + 28 > chunk_end:
        note(start, f"string pool header too small ({header_size:#x})")
        return ()
    count, style_count, flags, strings_start, styles_start = _POOL.unpack_from(buf, start + 8)
    utf8 = bool(flags & _UTF8_FLAG)
    table = start + header_size
    room = max((chunk_end - table) // 4, 0)
    if count > room:
        note(start, f"string pool declares {count} strings, room for {room} offsets (clamped)")
        count = room
    if style_count and (style_count > room - count or styles_start == 0):
        note(start, f"string pool declares {style_count} styles that do not fit (ignored)")
    base = start + strings_start
    limit = chunk_end
    if style_count and strings_start < styles_start < chunk_end - start:
        limit = start + styles_start
    if count and (base < table or base >= chunk_end):
        note(start, f"string data start {strings_start:#x} outside the pool")
    offsets = struct.unpack_from(f"<{count}I", buf, table) if count else ()
    budget = 2 * (chunk_end - start) + 65536
    cache: dict[int, str | None] = {}
    out: list[str | None] = []
    bad = 0
    for index, off in enumerate(offsets):
        if off in cache:
            out.append(cache[off])
            continue
        p = base + off
        s: str | None
        if p < table or p >= chunk_end:
            s = None
            bad += 1
            if bad <= 3:
                note(start, f"string #{index} offset {off:#x} outside the pool")
        else:
            lim = limit if p < limit else chunk_end
            s = None
            if utf8:
                # Inline fast path for the usual string (lengths under 0x80 bytes, NUL right
                # after, valid UTF-8); anything else goes through _utf8_at and its notes.
                q = p + 1 if buf[p] < 0x80 else p + 2
                if q < lim and buf[q] < 0x80:
                    e = q + 1 + buf[q]
                    if e < lim and buf[e] == 0:
                        try:
                            s = buf[q + 1 : e].decode("utf-8")
                        except UnicodeDecodeError:
                            s = None
            if s is None:
                s = (_utf8_at if utf8 else _utf16_at)(buf, p, lim, index, note)
            if s is not None:
                budget -= len(s)
                if budget < 0:
                    note(start, "string pool strings overlap beyond any real pool (rest dropped)")
                    out.extend([None] * (count - index))
                    break
        cache[off] = s
        out.append(s)
    if bad > 3:
        note(start, f"{bad} string offsets outside the pool in all")
    return tuple(out)


def _decode_len8(buf: bytes, p: int, lim: int) -> tuple[int, int]:
    if p >= lim:
        raise IndexError
    n = buf[p]
    p += 1
    if n & 0x80:
        if p >= lim:
            raise IndexError
        n = ((n & 0x7F) << 8) | buf[p]
        p += 1
    return n, p


def _utf8_at(buf: bytes, p: int, lim: int, index: int, note: NoteFn) -> str | None:
    try:
        _, p = _decode_len8(buf, p, lim)
        n8, p = _decode_len8(buf, p, lim)
    except IndexError:
        note(p, f"string #{index}: length runs past the pool")
        return None
    if p + n8 <= lim:
        raw = buf[p : p + n8]
        if p + n8 < lim and buf[p + n8] != 0:
            note(p, f"string #{index} is not NUL-terminated", once="utf8-nul")
    else:
        note(p, f"string #{index}: length {n8} runs past the pool (cut)")
        raw = buf[p:lim]
        nul = raw.find(b"\x00")
        if nul >= 0:
            raw = raw[:nul]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # CESU-8 (surrogate pairs as two 3-byte sequences), as older aapt wrote them
        paired = raw.decode("utf-8", errors="surrogatepass").encode("utf-16-le", errors="surrogatepass")
        return paired.decode("utf-16-le")
    except UnicodeError:
        note(p, f"string #{index}: invalid UTF-8 (UTF-8 flag on non-UTF-8 data?)", once="utf8-bad")
        return raw.decode("utf-8", errors="replace")


def _utf16_at(buf: bytes, p: int, lim: int, index: int, note: NoteFn) -> str | None:
    if p + 2 > lim:
        note(p, f"string #{index}: length runs past the pool")
        return None
    n = _U16.unpack_from(buf, p)[0]
    p += 2
    if n & 0x8000:
        if p + 2 > lim:
            note(p, f"string #{index}: length runs past the pool")
            return None
        n = ((n & 0x7FFF) << 16) | _U16.unpack_from(buf, p)[0]
        p += 2
    if p + 2 * n <= lim:
        raw = buf[p : p + 2 * n]
    else:
        note(p, f"string #{index}: length {n} runs past the pool (cut)")
        raw = buf[p : lim - ((lim - p) & 1)]
        for i in range(0, len(raw), 2):
            if raw[i] == 0 and raw[i + 1] == 0:
                raw = raw[:i]
                break
    try:
        return raw.decode("utf-16-le")
    except UnicodeDecodeError:
        note(p, f"string #{index}: invalid UTF-16 (lone surrogate?)", once="utf16-bad")
        return raw.decode("utf-16-le", errors="replace")


# ---------------------------------------------------------------- typed values

_DIM_UNITS = ("px", "dp", "sp", "pt", "in", "mm")
_FRAC_UNITS = ("%", "%p")
_RADIX_MULT = (1.0 / (1 << 8), 1.0 / (1 << 15), 1.0 / (1 << 23), 1.0 / (1 << 31))


def _complex_to_float(data: int) -> float:
    mantissa = data & 0xFFFFFF00
    if mantissa & 0x80000000:
        mantissa -= 1 << 32
    return mantissa * _RADIX_MULT[(data >> 4) & 3]


def _float_text(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    text = f"{value:.6g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def render_value(value_type: int, data: int, string: str | None = None) -> str:
    """A typed value as text, the way ``aapt`` and ``TypedValue.coerceToString`` show it.

    References are ``@0x7f030000`` (resolve them through ``resources.arsc``), booleans
    ``true``/``false``, integers decimal, colours ``#aarrggbb``.
    """
    t = value_type
    if t == ValueType.STRING:
        return string if string is not None else ""
    if t in (ValueType.REFERENCE, ValueType.DYNAMIC_REFERENCE):
        return "@null" if data == 0 else f"@0x{data:08x}"
    if t in (ValueType.ATTRIBUTE, ValueType.DYNAMIC_ATTRIBUTE):
        return f"?0x{data:08x}"
    if t == ValueType.INT_BOOLEAN:
        return "true" if data else "false"
    if t == ValueType.INT_DEC:
        return str(data - (1 << 32) if data & 0x80000000 else data)
    if t == ValueType.INT_HEX:
        return f"0x{data:x}"
    if ValueType.INT_COLOR_ARGB8 <= t <= ValueType.INT_COLOR_RGB4:
        return f"#{data:08x}"
    if t == ValueType.FLOAT:
        return _float_text(_F32.unpack(_U32.pack(data & 0xFFFFFFFF))[0])
    if t == ValueType.DIMENSION:
        return _float_text(_complex_to_float(data)) + (
            _DIM_UNITS[data & 0xF] if (data & 0xF) < len(_DIM_UNITS) else ""
        )
    if t == ValueType.FRACTION:
        return _float_text(_complex_to_float(data) * 100) + _FRAC_UNITS[data & 1]
    if t == ValueType.NULL:
        return ""
    if ValueType.FIRST_INT <= t <= ValueType.LAST_INT:
        return str(data)
    return f"(type 0x{t:02x})0x{data:x}"


# ----------------------------------------------------------------------- parse


class _Open:
    __slots__ = ("attributes", "children", "line", "namespace", "offset", "tag", "texts")

    def __init__(
        self,
        tag: str,
        namespace: str | None,
        attributes: tuple[AxmlAttribute, ...],
        line: int | None,
        offset: int,
    ) -> None:
        self.tag = tag
        self.namespace = namespace
        self.attributes = attributes
        self.line = line
        self.offset = offset
        self.children: list[AxmlNode] = []
        self.texts: list[str] = []

    def close(self) -> AxmlNode:
        text = "".join(self.texts).strip() or None
        return AxmlNode(
            self.tag, self.namespace, self.attributes, tuple(self.children), self.line, self.offset, text
        )


def parse_axml(data: bytes, *, entry: str = "AndroidManifest.xml") -> AxmlDocument:
    """Parse Android binary XML into an element tree plus the anomalies seen.

    Raises :class:`~appveto.errors.ApkError` (entry and offset set) only when no root
    element can be recovered; :class:`~appveto.errors.LimitExceeded` when elements nest
    deeper than :data:`MAX_DEPTH`.
    """
    return _Parser(bytes(data), entry).run()


class _Parser:
    def __init__(self, buf: bytes, entry: str) -> None:
        self.buf = buf
        self.entry = entry
        self.anomalies = AnomalyLog(entry)
        self.strings: tuple[str | None, ...] = ()
        self.resmap: tuple[int, ...] = ()
        self.prefixes: dict[str, list[str]] = {}
        self.attr_names: dict[tuple[int, int], tuple[str | None, str, int | None, str]] = {}

    def note(self, offset: int | None, detail: str, *, once: str | None = None) -> None:
        self.anomalies.add(offset, detail, once=once)

    def error(self, message: str, offset: int) -> ApkError:
        return ApkError.at(message, entry=self.entry, offset=offset)

    def string(self, index: int) -> str | None:
        if index == _NO_INDEX:
            return None
        if index < len(self.strings):
            return self.strings[index]
        self.note(None, f"string index {index} beyond the pool ({len(self.strings)} strings)", once="idx")
        return None

    # -- document level

    def run(self) -> AxmlDocument:
        buf = self.buf
        n = len(buf)
        if n < 8:
            raise self.error(f"binary XML too short ({n} bytes)", 0)
        doc_type, header_size, size = _HDR.unpack_from(buf, 0)
        if doc_type != RES_XML_TYPE:
            if doc_type == RES_TABLE_TYPE or buf[:1] in (b"<", b"\xef", b"\xff", b"\xfe"):
                raise self.error(f"not Android binary XML (chunk type {doc_type:#06x})", 0)
            self.note(0, f"document chunk type {doc_type:#06x}, not RES_XML_TYPE (Android does not check)")
        end = n
        if size > n:
            self.note(0, f"document size {size:#x} exceeds the data ({n:#x} bytes); Android refuses this")
        elif size < 8:
            self.note(0, f"document size {size:#x} too small (ignored)")
        else:
            end = size
            if size < n:
                self.note(size, f"{n - size} bytes after the document end (ignored by Android)")
        if header_size < 8 or header_size > end:
            self.note(0, f"document header size {header_size:#x} invalid (8 assumed)")
            header_size = 8
        pos = header_size
        first_node = -1
        pools = maps = 0
        while pos + 8 <= end:
            ctype, chs, csize = _HDR.unpack_from(buf, pos)
            if not self._chunk_ok(pos, chs, csize, end, 8):
                break
            if ctype == RES_STRING_POOL_TYPE:
                pools += 1
                if pools > 1:
                    self.note(pos, "second string pool before the first node (it replaces the first)")
                self.strings = read_string_pool(buf, pos, end, self.note)
            elif ctype == RES_XML_RESOURCE_MAP_TYPE:
                maps += 1
                if maps > 1:
                    self.note(pos, "second resource map (it replaces the first)")
                count = max(min(csize, end - pos) - chs, 0) // 4
                self.resmap = struct.unpack_from(f"<{count}I", buf, pos + chs)
            elif RES_XML_FIRST_CHUNK_TYPE <= ctype <= RES_XML_LAST_CHUNK_TYPE:
                first_node = pos
                break
            else:
                self.note(pos, f"unknown chunk type {ctype:#06x} skipped")
            pos += max(csize, 8)
        if not pools:
            self.note(None, "no string pool: element and attribute names are missing")
        if first_node < 0:
            raise self.error("binary XML has no element", min(pos, end))
        root = self._nodes(first_node, end)
        return AxmlDocument(root=root.to_element(), anomalies=self.anomalies.result(), tree=root)

    def _chunk_ok(self, pos: int, header_size: int, size: int, end: int, min_header: int) -> bool:
        """Android's ``validate_chunk``, reporting instead of failing where we can go on."""
        if header_size < min_header or header_size > size:
            self.note(pos, f"chunk header size {header_size:#x} / size {size:#x} inconsistent; stopped")
            return False
        if size > end - pos:
            self.note(pos, f"chunk size {size:#x} runs past the document end; stopped")
            return False
        if (header_size | size) & 3:
            self.note(
                pos,
                f"chunk size {size:#x} or header size {header_size:#x} not 4-byte aligned"
                " (Android rejects this)",
                once="align",
            )
        return True

    # -- nodes

    def _nodes(self, pos: int, end: int) -> AxmlNode:
        buf = self.buf
        stack: list[_Open] = []
        roots: list[AxmlNode] = []
        while pos + 8 <= end:
            ctype, hsize, size = _HDR.unpack_from(buf, pos)
            # fast path for well-formed nodes; the full check reports what is wrong
            if (hsize < 8 or hsize > size or size > end - pos or (hsize | size) & 3) and not self._chunk_ok(
                pos, hsize, size, end, 8
            ):
                break
            nxt = pos + size
            if not RES_XML_FIRST_CHUNK_TYPE <= ctype <= RES_XML_CDATA_TYPE:
                self.note(pos, f"chunk type {ctype:#06x} among XML nodes skipped")
                pos = nxt
                continue
            if hsize < 16:
                self.note(pos, f"XML node header size {hsize:#x} below 16; stopped")
                break
            line = _U32.unpack_from(buf, pos + 8)[0]
            ext = pos + hsize
            ext_room = size - hsize
            if ctype == RES_XML_START_ELEMENT_TYPE:
                if ext_room < _ATTR_EXT.size:
                    self.note(pos, "start element too small for its extension; stopped")
                    break
                if len(stack) >= MAX_DEPTH:
                    raise LimitExceeded.at(
                        f"elements nest deeper than {MAX_DEPTH}", entry=self.entry, offset=pos
                    )
                opened = self._start(pos, ext, ext_room, line)
                if opened is None:
                    break
                stack.append(opened)
            elif ctype == RES_XML_END_ELEMENT_TYPE:
                if ext_room < 8:
                    self.note(pos, "end element too small for its extension; stopped")
                    break
                if not stack:
                    self.note(pos, "end tag without a start tag (ignored)")
                else:
                    _ns_i, name_i = _NS_EXT.unpack_from(buf, ext)
                    top = stack.pop()
                    name = self.string(name_i) or ""
                    if name != top.tag:
                        self.note(
                            pos, f"end tag '{name}' closes '{top.tag}' (paired by depth)", once="endtag"
                        )
                    node = top.close()
                    if stack:
                        stack[-1].children.append(node)
                    else:
                        roots.append(node)
            elif ctype in (RES_XML_START_NAMESPACE_TYPE, RES_XML_END_NAMESPACE_TYPE):
                if ext_room < 8:
                    self.note(pos, "namespace node too small for its extension; stopped")
                    break
                prefix_i, uri_i = _NS_EXT.unpack_from(buf, ext)
                uri = self.string(uri_i)
                prefix = self.string(prefix_i)
                if uri is not None:
                    prefs = self.prefixes.setdefault(uri, [])
                    if ctype == RES_XML_START_NAMESPACE_TYPE:
                        prefs.append(prefix or "")
                    elif prefs:
                        prefs.pop()
            elif ctype == RES_XML_CDATA_TYPE:
                if ext_room < 12:
                    self.note(pos, "CDATA node too small for its extension; stopped")
                    break
                if stack:
                    text = self.string(_U32.unpack_from(buf, ext)[0])
                    if text:
                        stack[-1].texts.append(text)
            pos = nxt
        if stack:
            self.note(pos, f"{len(stack)} element(s) not closed at the document end")
            while stack:
                node = stack.pop().close()
                if stack:
                    stack[-1].children.append(node)
                else:
                    roots.append(node)
        if not roots:
            raise self.error("binary XML has no element", min(pos, end))
        if len(roots) > 1:
            self.note(
                roots[1].offset, f"{len(roots) - 1} extra root element(s) ignored (Android reads the first)"
            )
        return roots[0]

    def _start(self, pos: int, ext: int, ext_room: int, line: int) -> _Open | None:
        buf = self.buf
        ns_i, name_i, a_start, a_size, a_count, _id, _cls, _style = _ATTR_EXT.unpack_from(buf, ext)
        tag = self.string(name_i)
        if tag is None or tag == "":
            self.note(pos, "element without a name", once="noname")
            tag = ""
        namespace = self.string(ns_i)
        if a_count and a_start + a_size * a_count > ext_room:
            self.note(
                pos,
                f"attributes of <{tag}> overrun the node ({a_count} x {a_size:#x} at {a_start:#x});"
                " Android refuses this; read what fits",
            )
            a_count = max((ext_room - a_start) // a_size, 0) if a_size else 0
        if a_count and a_size < _ATTR.size:
            self.note(
                pos, f"attribute size {a_size:#x} below 20 in <{tag}>; attributes overlap", once="asize"
            )
            if a_size == 0:
                a_count = min(a_count, 1)
        elif a_count and a_size != _ATTR.size:
            self.note(pos, f"unusual attribute size {a_size:#x} in <{tag}> (honoured)", once="asize")
        if a_start != _ATTR_EXT.size and a_count:
            self.note(pos, f"unusual attributeStart {a_start:#x} in <{tag}> (honoured)", once="astart")
        attrs: list[AxmlAttribute] = []
        seen: set[str] = set()
        last_id = 0
        base = ext + a_start
        for i in range(a_count):
            at = base + i * a_size
            if at + _ATTR.size > len(buf):
                self.note(at, "attribute runs past the data; stopped")
                break
            attr = self._attribute(at, tag)
            if attr.qualified_name in seen:
                self.note(
                    at,
                    f"<{tag}> repeats attribute '{attr.qualified_name}' (the first one counts)",
                )
            seen.add(attr.qualified_name)
            attrs.append(attr)
            rid = attr.resource_id
            if rid:
                if rid < last_id:
                    self.note(
                        at,
                        f"'{attr.qualified_name}' of <{tag}> is invisible to Android: an attribute with a"
                        " higher resource ID comes before it (TypedArray walks IDs in sorted order)",
                    )
                else:
                    last_id = rid
        return _Open(tag, namespace, tuple(attrs), line, pos)

    def _attribute(self, at: int, tag: str) -> AxmlAttribute:
        ns_i, name_i, raw_i, vsize, _res0, vtype, vdata = _ATTR.unpack_from(self.buf, at)
        key = (ns_i, name_i)
        cached = self.attr_names.get(key)
        if cached is None:
            cached = self._attr_name(ns_i, name_i, tag, at)
            self.attr_names[key] = cached
        namespace, name, resid, qualified = cached
        strings = self.strings
        raw = strings[raw_i] if raw_i < len(strings) else self.string(raw_i)
        string = None
        if vtype == ValueType.STRING:
            string = strings[vdata] if vdata < len(strings) else self.string(vdata)
            if string is None:
                string = raw
            elif raw is not None and raw != string:
                self.note(at, f"attribute '{qualified}': raw value and typed value differ")
        if vsize != 8:
            self.note(at, f"Res_value size {vsize} (8 expected)", once="vsize")
        value = render_value(vtype, vdata, string)
        return AxmlAttribute(namespace, name, resid, vtype, vdata, raw, string, qualified, value, at)

    def _attr_name(
        self, ns_i: int, name_i: int, tag: str, at: int
    ) -> tuple[str | None, str, int | None, str]:
        namespace = self.string(ns_i)
        name = self.string(name_i) or ""
        resid = None
        if name_i != _NO_INDEX and name_i < len(self.resmap) and self.resmap[name_i]:
            resid = self.resmap[name_i]
        framework = framework_attr_name(resid) if resid is not None else None
        if framework is not None:
            qualified = f"android:{framework}"
            if name != framework:
                if name:
                    self.note(
                        at,
                        f"<{tag}> attribute named '{name}' has the resource ID of '{framework}'"
                        f" ({resid:#010x}); Android reads it as android:{framework}",
                    )
                else:
                    self.note(
                        at, f"<{tag}> has nameless attributes known only by resource ID", once="nameless"
                    )
            if namespace != ANDROID_NS:
                self.note(
                    at, f"framework attribute android:{framework} outside the android namespace", once="ns"
                )
            return namespace, name, resid, qualified
        if not name:
            display = f"0x{resid:08x}" if resid is not None else "?"
            self.note(at, f"<{tag}> attribute without a name ({display})", once=f"anon{display}")
            name_text = f"attr_{display}"
        else:
            name_text = name
        if namespace is None:
            return namespace, name, resid, name_text
        if namespace == ANDROID_NS:
            return namespace, name, resid, f"android:{name_text}"
        prefs = self.prefixes.get(namespace)
        prefix = prefs[-1] if prefs else ""
        return namespace, name, resid, f"{prefix}:{name_text}" if prefix else name_text
