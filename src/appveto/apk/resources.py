"""``resources.arsc``: just enough of the resource table to resolve references.

The manifest refers to resources by ID (``@0x7f0b0012`` for the label,
``@0x7f140003`` for the network security config...). :class:`ResourceTable` maps such
an ID to its string value or file path, preferring the default configuration, and
exposes every string of the global value pool (endpoint extraction reads them).

Parsing is lazy where it pays: the chunks are walked once to index the type chunks
of each package (by package and type ID, with their configuration), and an entry is
decoded only when it is resolved. Like Android's ``ResTable``/``LoadedArsc``, the first
global string pool wins, unknown chunk types are skipped, and a broken chunk stops
only the part of the table it belongs to; each deviation is recorded as a
:class:`~appveto.apk.model.Tampering`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from appveto.apk.axml import AnomalyLog, ValueType, read_string_pool, render_value
from appveto.apk.model import Tampering
from appveto.errors import ApkError

__all__ = ["ResourceTable", "parse_resources"]

RES_STRING_POOL_TYPE = 0x0001
RES_TABLE_TYPE = 0x0002
RES_TABLE_PACKAGE_TYPE = 0x0200
RES_TABLE_TYPE_TYPE = 0x0201

_HDR = struct.Struct("<HHI")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")
_VALUE = struct.Struct("<HBBI")

_FLAG_SPARSE = 0x01
_FLAG_OFFSET16 = 0x02
_ENTRY_COMPLEX = 0x0001
_ENTRY_COMPACT = 0x0008
_NO_ENTRY = 0xFFFFFFFF
MAX_REFERENCE_DEPTH = 8


@dataclass(frozen=True, slots=True)
class _TypeChunk:
    config: str
    """Qualifiers as ``aapt`` writes them (``fr-rCA``, ``hdpi-v4``); '' for the default."""
    offsets: int
    """Absolute offset of the entry offset array."""
    count: int
    entries: int
    """Absolute offset of the entry data."""
    end: int
    flags: int


@dataclass(frozen=True, slots=True)
class _Package:
    id: int
    name: str
    type_names: tuple[str | None, ...]
    keys: tuple[str | None, ...]
    type_id_offset: int


@dataclass(frozen=True, slots=True)
class ResourceTable:
    """The resolvable part of ``resources.arsc`` (frozen; entries decoded on demand)."""

    strings: tuple[str, ...]
    """Every string of the global value pool, in pool order (unreadable ones as '')."""
    packages: tuple[tuple[int, str], ...]
    """(package ID, package name) in table order."""
    anomalies: tuple[Tampering, ...]
    _buf: bytes = field(repr=False, compare=False)
    _packages: Mapping[int, _Package] = field(repr=False, compare=False)
    _types: Mapping[tuple[int, int], tuple[_TypeChunk, ...]] = field(repr=False, compare=False)

    def resolve(self, ref: int, *, config: str | None = None) -> str | None:
        """The string value (or ``res/...`` file path) of the resource ``ref``.

        ``config`` picks a configuration by its qualifiers (``fr``, ``xhdpi``...); the
        default configuration is used first otherwise, then the first one that has the
        entry. References to references are followed (at most
        :data:`MAX_REFERENCE_DEPTH` hops); None when the ID is unknown, the entry is a
        bag (style, array, plural) or a framework resource.
        """
        seen: set[int] = set()
        for _ in range(MAX_REFERENCE_DEPTH):
            if ref in seen:
                return None
            seen.add(ref)
            value = self._value(ref, config)
            if value is None:
                return None
            vtype, data = value
            if vtype in (ValueType.REFERENCE, ValueType.DYNAMIC_REFERENCE):
                if data == 0:
                    return None
                ref = data
                continue
            if vtype == ValueType.STRING:
                return self.strings[data] if data < len(self.strings) else None
            return render_value(vtype, data)
        return None

    def entry_name(self, ref: int) -> str | None:
        """``@type/name`` of a resource ID (``@xml/network_security_config``)."""
        found = self._locate(ref)
        if found is None:
            return None
        package, type_name, chunks, index = found
        for chunk in chunks:
            at = self._entry_offset(chunk, index)
            if at is None:
                continue
            try:
                size, flags, key = _ENTRY.unpack_from(self._buf, at)
            except struct.error:
                continue
            if flags & _ENTRY_COMPACT:
                key = size
            name = package.keys[key] if key < len(package.keys) else None
            if name is not None:
                return f"@{type_name or '?'}/{name}"
        return None

    def configs(self, ref: int) -> tuple[str, ...]:
        """The configurations that define ``ref`` ('' is the default one)."""
        found = self._locate(ref)
        if found is None:
            return ()
        _, _, chunks, index = found
        return tuple(c.config for c in chunks if self._entry_offset(c, index) is not None)

    def configurations(self) -> tuple[tuple[int, int, str], ...]:
        """(package ID, type ID, qualifiers) of every type chunk, in table order per type
        ('' is the default configuration; qualifiers are written as ``aapt`` writes them)."""
        return tuple((pkg, tid, c.config) for (pkg, tid), chunks in self._types.items() for c in chunks)

    # -- internals

    def _locate(self, ref: int) -> tuple[_Package, str | None, tuple[_TypeChunk, ...], int] | None:
        pkg_id = (ref >> 24) & 0xFF
        type_id = (ref >> 16) & 0xFF
        package = self._packages.get(pkg_id)
        if package is None and pkg_id == 0x7F:
            package = self._packages.get(0)  # a shared library built with ID 0x00
            pkg_id = 0
        if package is None:
            return None
        chunks = self._types.get((pkg_id, type_id))
        if not chunks:
            return None
        tindex = type_id - 1 - package.type_id_offset
        type_name = package.type_names[tindex] if 0 <= tindex < len(package.type_names) else None
        return package, type_name, chunks, ref & 0xFFFF

    def _entry_offset(self, chunk: _TypeChunk, index: int) -> int | None:
        at = self._entry_offset_unchecked(chunk, index)
        return at if at is not None and chunk.entries <= at and at + 8 <= chunk.end else None

    def _entry_offset_unchecked(self, chunk: _TypeChunk, index: int) -> int | None:
        buf = self._buf
        try:
            if chunk.flags & _FLAG_SPARSE:
                lo, hi = 0, chunk.count
                while lo < hi:
                    mid = (lo + hi) // 2
                    idx, off = struct.unpack_from("<HH", buf, chunk.offsets + 4 * mid)
                    if idx == index:
                        return int(chunk.entries + off * 4)
                    if idx < index:
                        lo = mid + 1
                    else:
                        hi = mid
                return None
            if index >= chunk.count:
                return None
            if chunk.flags & _FLAG_OFFSET16:
                off16 = _U16.unpack_from(buf, chunk.offsets + 2 * index)[0]
                return None if off16 == 0xFFFF else chunk.entries + off16 * 4
            off = _U32.unpack_from(buf, chunk.offsets + 4 * index)[0]
        except struct.error:
            return None
        if off == _NO_ENTRY:
            return None
        return int(chunk.entries + off)

    def _value(self, ref: int, config: str | None) -> tuple[int, int] | None:
        found = self._locate(ref)
        if found is None:
            return None
        _, _, chunks, index = found
        ordered: list[_TypeChunk] = []
        if config is not None:
            ordered.extend(c for c in chunks if c.config == config)
        ordered.extend(c for c in chunks if c.config == "")
        ordered.extend(chunks)
        for chunk in ordered:
            at = self._entry_offset(chunk, index)
            if at is None:
                continue
            value = self._simple_value(at, chunk.end)
            if value is not None:
                return value
        return None

    def _simple_value(self, at: int, end: int) -> tuple[int, int] | None:
        buf = self._buf
        size, flags, key_or_data = _ENTRY.unpack_from(buf, at)
        if flags & _ENTRY_COMPACT:
            return flags >> 8, key_or_data
        if flags & _ENTRY_COMPLEX:
            return None
        v = at + size
        if size < 8 or v + 8 > end:
            return None
        _vsize, _res0, vtype, data = _VALUE.unpack_from(buf, v)
        return vtype, data


# ------------------------------------------------------------------------ parse


def parse_resources(data: bytes, *, entry: str = "resources.arsc") -> ResourceTable:
    """Index a resource table. Raises :class:`~appveto.errors.ApkError` only when the data
    is not a resource table at all; damaged parts become anomalies."""
    buf = bytes(data)
    notes = AnomalyLog(entry)
    n = len(buf)
    if n < 12:
        raise ApkError.at(f"resource table too short ({n} bytes)", entry=entry, offset=0)
    ctype, header_size, size = _HDR.unpack_from(buf, 0)
    if ctype != RES_TABLE_TYPE:
        raise ApkError.at(f"not a resource table (chunk type {ctype:#06x})", entry=entry, offset=0)
    end = n
    if size > n:
        notes.add(0, f"table size {size:#x} exceeds the data ({n:#x} bytes)")
    elif size >= 12:
        end = size
        if size < n:
            notes.add(size, f"{n - size} bytes after the table end")
    if header_size < 12 or header_size > end:
        notes.add(0, f"table header size {header_size:#x} invalid (12 assumed)")
        header_size = 12
    declared_packages = _U32.unpack_from(buf, 8)[0]
    strings: tuple[str | None, ...] | None = None
    packages: dict[int, _Package] = {}
    order: list[tuple[int, str]] = []
    types: dict[tuple[int, int], list[_TypeChunk]] = {}
    pos = header_size
    while pos + 8 <= end:
        ctype, chs, csize = _HDR.unpack_from(buf, pos)
        if chs < 8 or csize < chs or csize > end - pos:
            notes.add(pos, f"chunk {ctype:#06x} header/size {chs:#x}/{csize:#x} invalid; table walk stopped")
            break
        if ctype == RES_STRING_POOL_TYPE:
            if strings is None:
                strings = read_string_pool(buf, pos, pos + csize, notes.add)
            else:
                notes.add(pos, "second global string pool ignored (Android keeps the first)")
        elif ctype == RES_TABLE_PACKAGE_TYPE:
            _package(buf, pos, pos + csize, chs, notes, packages, order, types)
        else:
            notes.add(pos, f"unknown table chunk {ctype:#06x} skipped")
        pos += csize
    if declared_packages != len(order):
        notes.add(8, f"table declares {declared_packages} packages, {len(order)} found")
    if strings is None:
        notes.add(None, "resource table has no global string pool")
        strings = ()
    return ResourceTable(
        strings=tuple(s if s is not None else "" for s in strings),
        packages=tuple(order),
        anomalies=notes.result(),
        _buf=buf,
        _packages=packages,
        _types={k: tuple(v) for k, v in types.items()},
    )


def _package(
    buf: bytes,
    start: int,
    end: int,
    header_size: int,
    notes: AnomalyLog,
    packages: dict[int, _Package],
    order: list[tuple[int, str]],
    types: dict[tuple[int, int], list[_TypeChunk]],
) -> None:
    if header_size < 0x11C or start + 0x11C > end:
        notes.add(start, f"package header size {header_size:#x} too small; package skipped")
        return
    pkg_id = _U32.unpack_from(buf, start + 8)[0]
    raw_name = buf[start + 12 : start + 12 + 256]
    nul = 0
    while nul < 256 and raw_name[nul : nul + 2] != b"\x00\x00":
        nul += 2
    name = raw_name[:nul].decode("utf-16-le", errors="replace")
    type_strings, _last_type, key_strings, _last_key = struct.unpack_from("<IIII", buf, start + 268)
    type_id_offset = _U32.unpack_from(buf, start + 284)[0] if header_size >= 288 else 0
    if pkg_id > 0xFF:
        notes.add(start, f"package ID {pkg_id:#x} out of range; package skipped")
        return
    type_names = _sub_pool(buf, start, end, type_strings, notes, "type")
    keys = _sub_pool(buf, start, end, key_strings, notes, "key")
    if pkg_id in packages:
        notes.add(start, f"package ID {pkg_id:#04x} appears twice; the first is used for its names")
    else:
        packages[pkg_id] = _Package(
            pkg_id, name, type_names, keys, type_id_offset if type_id_offset < 256 else 0
        )
    order.append((pkg_id, name))
    pos = start + header_size
    while pos + 8 <= end:
        ctype, chs, csize = _HDR.unpack_from(buf, pos)
        if chs < 8 or csize < chs or csize > end - pos:
            notes.add(pos, f"package chunk {ctype:#06x} header/size invalid; rest of package skipped")
            return
        if ctype == RES_TABLE_TYPE_TYPE:
            chunk = _type_chunk(buf, pos, chs, csize, notes)
            if chunk is not None:
                type_id, tc = chunk
                types.setdefault((pkg_id, type_id), []).append(tc)
        pos += csize


def _sub_pool(
    buf: bytes, start: int, end: int, rel: int, notes: AnomalyLog, what: str
) -> tuple[str | None, ...]:
    at = start + rel
    if rel == 0 or at + 8 > end:
        notes.add(start, f"package {what} string pool offset {rel:#x} outside the package")
        return ()
    if _HDR.unpack_from(buf, at)[0] != RES_STRING_POOL_TYPE:
        notes.add(at, f"package {what} string pool has a wrong chunk type")
        return ()
    return read_string_pool(buf, at, end, notes.add)


def _type_chunk(
    buf: bytes, pos: int, header_size: int, size: int, notes: AnomalyLog
) -> tuple[int, _TypeChunk] | None:
    if header_size < 20 + 4:
        notes.add(pos, f"type chunk header size {header_size:#x} too small; skipped")
        return None
    type_id, flags, _res, count, entries_start = struct.unpack_from("<BBHII", buf, pos + 8)
    if type_id == 0:
        notes.add(pos, "type chunk with type ID 0 skipped")
        return None
    cfg_size = _U32.unpack_from(buf, pos + 20)[0]
    cfg_size = min(cfg_size, header_size - 20)
    config = _config_name(buf[pos + 20 : pos + 20 + cfg_size])
    end = pos + size
    offsets = pos + header_size
    width = 4 if flags & _FLAG_SPARSE or not flags & _FLAG_OFFSET16 else 2
    room = max((end - offsets) // width, 0)
    if count > room:
        notes.add(pos, f"type chunk declares {count} entries, room for {room}")
        count = room
    entries = pos + entries_start
    if entries_start > size:
        notes.add(pos, f"type chunk entries start {entries_start:#x} outside the chunk; skipped")
        return None
    return type_id, _TypeChunk(config, offsets, count, entries, end, flags)


# ----------------------------------------------------------------- configurations

_DENSITIES = {
    120: "ldpi",
    160: "mdpi",
    213: "tvdpi",
    240: "hdpi",
    320: "xhdpi",
    480: "xxhdpi",
    640: "xxxhdpi",
    0xFFFE: "anydpi",
    0xFFFF: "nodpi",
}
_ORIENTATIONS = {1: "port", 2: "land", 3: "square"}
_SIZES = {1: "small", 2: "normal", 3: "large", 4: "xlarge"}
_UI_TYPES = {2: "desk", 3: "car", 4: "television", 5: "appliance", 6: "watch", 7: "vrheadset"}


def _locale_part(two: bytes, base: int) -> str:
    if not two[0]:
        return ""
    if two[0] & 0x80:  # packed three-letter code (unpackLanguageOrRegion)
        v = (two[0] << 8) | two[1]
        chars = (v & 0x1F, (v >> 5) & 0x1F, (v >> 10) & 0x1F)
        return "".join(chr(base + c) for c in chars)
    return two.decode("latin-1").rstrip("\x00")


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1")


def _locale_qualifier(cfg: bytes, lang: str, region: str) -> str:
    """``appendDirLocale``: legacy ``fr-rCA``, or ``b+sr+Latn`` when a script, variant or
    numbering system was given."""
    script = _text(cfg[36:40]) if not cfg[52] else ""
    variant = _text(cfg[40:48])
    numbers = _text(cfg[53:61])
    if not script and not variant and not numbers:
        return lang + (f"-r{region}" if region else "")
    out = "b+" + lang
    if script:
        out += "+" + script
    if region:
        out += "+" + region
    if variant:
        out += "+" + variant
    if numbers:
        out += "+u+nu+" + numbers
    return out


def _config_name(cfg: bytes) -> str:
    """``ResTable_config`` -> qualifiers in ``aapt`` order (a usable subset)."""
    cfg = cfg.ljust(64, b"\x00")
    if not any(cfg[4:]):
        return ""
    mcc, mnc = struct.unpack_from("<HH", cfg, 4)
    parts: list[str] = []
    if mcc:
        parts.append(f"mcc{mcc}")
    if mnc:
        parts.append(f"mnc{mnc}")
    lang = _locale_part(cfg[8:10], ord("a"))
    region = _locale_part(cfg[10:12], ord("0"))
    if lang:
        parts.append(_locale_qualifier(cfg, lang, region))
    orientation, _touch, density = struct.unpack_from("<BBH", cfg, 12)
    sdk = _U16.unpack_from(cfg, 24)[0]
    layout, ui_mode, sw = struct.unpack_from("<BBH", cfg, 28)
    w_dp, h_dp = struct.unpack_from("<HH", cfg, 32)
    if layout & 0xC0 == 0x80:
        parts.append("ldrtl")
    elif layout & 0xC0 == 0x40:
        parts.append("ldltr")
    if sw:
        parts.append(f"sw{sw}dp")
    if w_dp:
        parts.append(f"w{w_dp}dp")
    if h_dp:
        parts.append(f"h{h_dp}dp")
    if layout & 0x0F in _SIZES:
        parts.append(_SIZES[layout & 0x0F])
    if layout & 0x30 == 0x20:
        parts.append("long")
    elif layout & 0x30 == 0x10:
        parts.append("notlong")
    if orientation in _ORIENTATIONS:
        parts.append(_ORIENTATIONS[orientation])
    if ui_mode & 0x0F in _UI_TYPES:
        parts.append(_UI_TYPES[ui_mode & 0x0F])
    if ui_mode & 0x30 == 0x20:
        parts.append("night")
    elif ui_mode & 0x30 == 0x10:
        parts.append("notnight")
    if density:
        parts.append(_DENSITIES.get(density, f"{density}dpi"))
    if sdk:
        parts.append(f"v{sdk}")
    return "-".join(parts) if parts else "(" + cfg[4:].hex() + ")"
