"""DEX header and ID tables: strings, types, protos, fields, methods, class definitions.

The reader follows the layout in the Android "Dalvik Executable format" document and the
checks of ART's ``dex_file_verifier``. Header deviations that ART rejects or tolerates
(``header_size``, checksum, endian tag, file size, misaligned sections, a map_list that
disagrees with the header, classes defined twice) are recorded as
header anomalies and the tables are still read, as every tool that ignores those fields
would read them: an obfuscator that breaks the header must not hide the code from us.
A table that lies outside the file, or an index that points past its table, makes the
file unreadable and raises :class:`ApkError` naming the entry and the offset.

Reading is built for large multidex apps: whole tables are unpacked at once through
``memoryview.cast`` (little-endian hosts) or :mod:`array`, string data is split in one
pass when it is laid out contiguously (as ``dx``/``d8`` write it) and decoded with the
ASCII fast path, and only strings with bytes >= 0x80 go through the MUTF-8 decoder.
"""

from __future__ import annotations

import gc
import re
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate, repeat
from typing import Any

from appveto.apk.model import DexFile, DexLocation, FieldRef, MethodRef
from appveto.errors import ApkError, LimitExceeded

__all__ = ["decode_mutf8", "looks_like_dex", "parse_dex"]

HEADER_SIZE = 0x70
"""``sizeof(DexFile::Header)`` for versions 035 to 040."""
HEADER_SIZE_V41 = 0x78
"""Version 041 adds ``container_size`` and ``header_offset``."""
ENDIAN_CONSTANT = 0x12345678
REVERSE_ENDIAN_CONSTANT = 0x78563412
KNOWN_VERSIONS = frozenset({"035", "037", "038", "039", "040", "041"})
MAX_EXACT_INVALID = 64 * 1024
"""Invalid MUTF-8 strings up to this size are decoded unit by unit (exactly as described
in :func:`decode_mutf8`); longer ones by the C UTF-8 codec with replacement."""
MAX_TABLE_ITEMS = 1 << 22
"""Largest ID table read (4,194,304 items). Real DEX files stay far below: type and proto
indices are 16-bit, d8 splits code at 65,536 methods, and the largest apps hold a few
hundred thousand strings per file. A hostile header cannot make us build tens of millions
of Python objects from one entry."""

_MAGIC = re.compile(rb"dex\n0[0-9]{2}\x00")
_HEADER = struct.Struct("<8sI20s20I")
_U32 = struct.Struct("<I")
_LITTLE = sys.byteorder == "little"
_HIGH_LEAD = re.compile(rb"[\xf0-\xff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

try:  # Intel ISA-L's Adler-32 (about 4x faster) when installed; same values as zlib's
    from isal.isal_zlib import adler32 as _adler32
except ImportError:  # pragma: no cover - isal is a dependency, but stays optional here
    from zlib import adler32 as _adler32


def looks_like_dex(data: bytes) -> bool:
    """True when ``data`` starts with a DEX magic ``dex\\n0NN\\0`` (8 bytes are enough)."""
    return _MAGIC.match(bytes(data[:8])) is not None


# ---------------------------------------------------------------------------- MUTF-8


def decode_mutf8(raw: bytes) -> str:
    """Decode Modified UTF-8 as ART reads it; never raises.

    ``C0 80`` is U+0000, a supplementary character is a surrogate pair written as two
    3-byte sequences, and overlong 2- and 3-byte forms are accepted as Java accepts them.
    Bytes that start no valid sequence (stray continuation bytes, 4-byte UTF-8 leads,
    truncated sequences) and unpaired surrogates become U+FFFD. An invalid string longer
    than ``MAX_EXACT_INVALID`` bytes is decoded leniently as UTF-8 with replacement.
    """
    if raw.isascii():
        return raw.decode("ascii")
    if _HIGH_LEAD.search(raw) is None:
        # Without 4-byte leads, MUTF-8 is UTF-8 once C0 80 is NUL and surrogates are let
        # through; the strict codec rejects every other deviation, so success is exact.
        try:
            text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            pass
        else:
            if _SURROGATE.search(text) is None:
                return text
            # Pair surrogates into code points; lone ones become U+FFFD.
            return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if len(raw) > MAX_EXACT_INVALID:
        # A huge string that is not valid MUTF-8: decoded by the C codec with replacement
        # rather than byte by byte, so that hostile data cannot stall the reader.
        return raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "replace")
    units = array("H")
    append = units.append
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b < 0x80:
            append(b)
            i += 1
        elif 0xC0 <= b < 0xE0 and i + 1 < n and raw[i + 1] & 0xC0 == 0x80:
            append(((b & 0x1F) << 6) | (raw[i + 1] & 0x3F))
            i += 2
        elif 0xE0 <= b < 0xF0 and i + 2 < n and raw[i + 1] & 0xC0 == 0x80 and raw[i + 2] & 0xC0 == 0x80:
            append(((b & 0x0F) << 12) | ((raw[i + 1] & 0x3F) << 6) | (raw[i + 2] & 0x3F))
            i += 3
        else:
            append(0xFFFD)
            i += 1
    if not _LITTLE:
        units.byteswap()
    # The UTF-16 codec pairs surrogates into code points and replaces lone ones.
    return units.tobytes().decode("utf-16-le", "replace")


# ------------------------------------------------------------------------------ tables


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while millions of acyclic tuples and strings are built.

    Each allocation burst otherwise triggers collections that rescan every young object,
    which costs more than building them. Nothing built here can form a cycle, and the
    tables live as long as the APK model, so afterwards every tracked object is moved
    straight to the oldest generation (``gc.freeze`` then ``gc.unfreeze``) instead of
    being scanned by the young-generation passes on the way. That is skipped when the
    application keeps objects frozen on purpose (``gc.get_freeze_count() > 0``, as
    pre-fork servers do) or had disabled the collector itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class _Dex:
    """One parse: the buffer, the entry name and the helpers that raise located errors."""

    __slots__ = ("anomalies", "data", "entry", "mv", "size")

    def __init__(self, data: bytes, entry: str) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)
        self.data = data
        self.mv = memoryview(data)
        self.entry = entry
        self.size = len(data)
        self.anomalies: list[str] = []

    def error(self, message: str, offset: int | None) -> ApkError:
        return ApkError.at(message, entry=self.entry, offset=offset)

    def table(self, name: str, count: int, offset: int, item_size: int) -> memoryview:
        """The bytes of an ID table, after checking that it lies inside the file."""
        if count == 0:
            return self.mv[0:0]
        end = offset + count * item_size
        if offset < HEADER_SIZE or end > self.size:
            raise self.error(
                f"{name} table ({count} items of {item_size} bytes at {offset:#x}) lies outside "
                f"the file of {self.size} bytes",
                offset,
            )
        if count > MAX_TABLE_ITEMS:
            raise LimitExceeded.at(
                f"{name} table declares {count} items, more than the limit of {MAX_TABLE_ITEMS}",
                entry=self.entry,
                offset=offset,
            )
        if offset % 4:
            self.anomalies.append(f"{name} table at {offset:#x} is not 4-byte aligned")
        return self.mv[offset:end]

    def u32_columns(self, name: str, count: int, offset: int, width: int) -> memoryview | array[int]:
        """The table as a flat sequence of u32 (``width`` words per item)."""
        raw = self.table(name, count, offset, 4 * width)
        if _LITTLE:
            return raw.cast("I")
        words = array("I", raw.tobytes())
        words.byteswap()
        return words

    def u16_columns(self, name: str, count: int, offset: int, width: int) -> memoryview | array[int]:
        """The table as a flat sequence of u16 (``width`` halfwords per item)."""
        raw = self.table(name, count, offset, 2 * width)
        if _LITTLE:
            return raw.cast("H")
        halves = array("H", raw.tobytes())
        halves.byteswap()
        return halves

    def check_indices(
        self, name: str, values: list[int], limit: int, what: str, table_offset: int, item_size: int
    ) -> None:
        """Raise, at the offending item, when an index points past the table it refers to."""
        if values and max(values) >= limit:
            bad = next(i for i, v in enumerate(values) if v >= limit)
            raise self.error(
                f"{name} item {bad} refers to {what} {values[bad]}, but there are only {limit}",
                table_offset + bad * item_size,
            )


def _string_slow(dex: _Dex, offset: int) -> str:
    """One string_data_item: uleb128 UTF-16 length, MUTF-8 bytes, NUL."""
    data = dex.data
    p = offset
    for _ in range(5):
        if p >= dex.size:
            raise dex.error("string data runs past the end of the file", offset)
        b = data[p]
        p += 1
        if b < 0x80:
            break
    else:
        raise dex.error("string length (uleb128) is longer than 5 bytes", offset)
    end = data.find(b"\x00", p)
    if end < 0:
        raise dex.error("string data is not NUL-terminated before the end of the file", offset)
    return decode_mutf8(data[p:end])


def _part_to_string(dex: _Dex, part: str) -> str:
    """A split part (uleb128 length then MUTF-8 bytes, as Latin-1) of a non-ASCII string."""
    raw = part.encode("latin-1")
    p = 0
    while p < len(raw) and raw[p] >= 0x80 and p < 4:
        p += 1
    return decode_mutf8(raw[p + 1 :])


def _check_string_offsets(dex: _Dex, offsets: list[int], ids_offset: int) -> None:
    if min(offsets) < HEADER_SIZE or max(offsets) >= dex.size:
        bad = next(i for i, o in enumerate(offsets) if o < HEADER_SIZE or o >= dex.size)
        raise dex.error(
            f"string_ids item {bad} points to {offsets[bad]:#x}, outside the file of {dex.size} bytes",
            ids_offset + 4 * bad,
        )


def _read_strings(dex: _Dex, offsets: list[int], ids_offset: int) -> list[str]:
    n = len(offsets)
    if n == 0:
        return []
    data = dex.data
    size = dex.size
    first = 0
    head: list[str] = []
    if not (HEADER_SIZE <= offsets[0] < size and HEADER_SIZE <= offsets[-1] < size):
        _check_string_offsets(dex, offsets, ids_offset)
    if data[offsets[0]] == 0:
        # The empty string (uleb128 0, NUL) sorts first; its two NULs would break the split.
        head.append(_string_slow(dex, offsets[0]))
        first = 1
    if first < n:
        start = offsets[first]
        last = offsets[-1]
        end = data.find(b"\x00", last + 1 if data[last] != 0 else last + 2)
        if end > start:
            # The contiguous layout that dx and d8 write: split the whole region at once and
            # check that the pieces fall exactly on the string_ids offsets.
            parts = data[start:end].decode("latin-1").split("\x00")
            if len(parts) == n - first and "" not in parts:
                starts = list(accumulate(map((1).__add__, map(len, parts)), initial=start))
                starts.pop()
                if starts == offsets[first:]:
                    # Most strings are short ASCII: their uleb128 length is one byte; the rest
                    # (non-ASCII, or 128 units and longer) go through the MUTF-8 decoder.
                    return head + [p[1:] if p.isascii() else _part_to_string(dex, p) for p in parts]
    # String data in another order (protectors shuffle it): one item at a time. Items that
    # share an offset share the string; overlapping items are bounded so that a hostile
    # file cannot make us decode its bytes again for every ID.
    _check_string_offsets(dex, offsets, ids_offset)
    by_offset: dict[int, str] = {}
    budget = 2 * dex.size + 1_000_000
    out = head
    for o in offsets[first:]:
        text = by_offset.get(o)
        if text is None:
            text = _string_slow(dex, o)
            by_offset[o] = text
            budget -= len(text) + 1
            if budget < 0:
                raise dex.error(
                    "string data items overlap: decoding them would exceed twice the file size", o
                )
        out.append(text)
    return out


def _proto_descriptors(dex: _Dex, count: int, offset: int, types: list[str]) -> list[str]:
    """``(params)return`` for every proto_id_item."""
    if count == 0:
        return []
    words = dex.u32_columns("proto_ids", count, offset, 3)
    returns = words[1::3].tolist()
    params = words[2::3].tolist()
    dex.check_indices("proto_ids", returns, len(types), "type", offset, 12)
    data = dex.data
    size = dex.size
    n_types = len(types)
    type_lens = list(map(len, types))
    longest = max(type_lens, default=0)
    halves = dex.mv[: size & ~1].cast("H") if _LITTLE else None
    # Descriptors are built from type names; overlapping parameter lists in a hostile file
    # could multiply them, so their total size is bounded by the file's size.
    budget = 16 * size + 1_000_000
    cache: dict[int, str] = {0: "()"}
    for poff in set(params):
        if poff == 0:
            continue
        if poff + 4 > size or poff < HEADER_SIZE:
            i = params.index(poff)
            raise dex.error(
                f"proto_ids item {i}: parameter list at {poff:#x} lies outside the file", offset + 12 * i
            )
        (k,) = _U32.unpack_from(data, poff)
        end = poff + 4 + 2 * k
        if end > size:
            raise dex.error(f"parameter list of {k} types at {poff:#x} runs past the end of the file", poff)
        idx: Sequence[int]
        if halves is not None and not poff & 1:
            idx = halves[(poff + 4) >> 1 : end >> 1]
        else:
            idx = struct.unpack_from(f"<{k}H", data, poff + 4)
        if k * longest > budget and sum(type_lens[t] for t in idx if t < n_types) > budget:
            raise dex.error("parameter lists overlap: their descriptors would exceed the file size", poff)
        try:
            text = "(" + "".join(map(types.__getitem__, idx)) + ")"
        except IndexError:
            raise dex.error(
                f"parameter list at {poff:#x} refers to type {max(idx)}, but there are only {n_types}", poff
            ) from None
        budget -= len(text)
        cache[poff] = text
    budget -= sum(map(len, map(cache.__getitem__, params))) + sum(map(type_lens.__getitem__, returns))
    if budget < 0:
        raise dex.error("proto descriptors would exceed the file size many times over", offset)
    return list(map(str.__add__, map(cache.__getitem__, params), map(types.__getitem__, returns)))


# map_list item types of the ID sections, in header order (string_ids ... class_defs).
_MAP_ID_TYPES = ((0x0001, "string_ids"), (0x0002, "type_ids"), (0x0003, "proto_ids"),
                 (0x0004, "field_ids"), (0x0005, "method_ids"), (0x0006, "class_defs"))  # fmt: skip


def _check_map(dex: _Dex, map_off: int, sections: list[int]) -> None:
    """Compare the map_list with the header, as ART's verifier does; record what differs."""
    (n,) = _U32.unpack_from(dex.data, map_off)
    if map_off % 4:
        dex.anomalies.append(f"map_list at {map_off:#x} is not 4-byte aligned")
    if n > 0xFFFF or map_off + 4 + 12 * n > dex.size:
        dex.anomalies.append(f"map_list of {n} items at {map_off:#x} runs past the end of the file")
        return
    items: dict[int, tuple[int, int]] = {}
    raw = dex.data[map_off + 4 : map_off + 4 + 12 * n]
    for type_, _unused, size, offset in struct.iter_unpack("<HHII", raw):
        if type_ in items:
            dex.anomalies.append(f"map_list lists item type {type_:#06x} twice")
        items.setdefault(type_, (size, offset))
    if 0x0000 not in items:
        dex.anomalies.append("map_list has no header_item")
    if 0x1000 not in items:  # TYPE_MAP_LIST
        dex.anomalies.append("map_list does not list itself (map_list item missing)")
    for i, (type_, name) in enumerate(_MAP_ID_TYPES):
        count, offset = sections[2 * i], sections[2 * i + 1]
        listed = items.get(type_)
        if listed is None:
            if count:
                dex.anomalies.append(f"map_list has no {name} item but the header declares {count}")
        elif listed != (count, offset) and count:
            dex.anomalies.append(
                f"map_list puts {name} at {listed[1]:#x} ({listed[0]} items), "
                f"the header at {offset:#x} ({count} items)"
            )


def _check_header(dex: _Dex) -> tuple[str, tuple[int, ...]]:
    if dex.size < HEADER_SIZE:
        raise dex.error(f"a DEX header needs {HEADER_SIZE} bytes, the entry has {dex.size}", 0)
    magic, checksum, _signature, *fields = _HEADER.unpack_from(dex.data, 0)
    if not magic.startswith(b"dex\n") or _MAGIC.match(magic) is None:
        raise dex.error(f"not a DEX file: magic {magic!r}", 0)
    version = magic[4:7].decode("ascii")
    if version not in KNOWN_VERSIONS:
        dex.anomalies.append(f"unknown DEX version {version} (ART accepts 035 and 037 to 041)")
    file_size, header_size, endian_tag = fields[0], fields[1], fields[2]
    expected_header = HEADER_SIZE_V41 if version == "041" else HEADER_SIZE
    if header_size != expected_header:
        dex.anomalies.append(
            f"header_size is {header_size}, not {expected_header}: ART's dex_file_verifier rejects "
            "the file ('Bad header size'); tools that trust the field fail; read with the standard layout"
        )
    if endian_tag != ENDIAN_CONSTANT:
        what = "reverse-endian" if endian_tag == REVERSE_ENDIAN_CONSTANT else "unknown"
        dex.anomalies.append(
            f"endian_tag {endian_tag:#010x} ({what}) is not {ENDIAN_CONSTANT:#010x}: ART rejects it; "
            "read as little-endian"
        )
    if file_size != dex.size:
        more = "larger" if file_size > dex.size else "smaller"
        dex.anomalies.append(
            f"file_size {file_size} is {more} than the entry ({dex.size} bytes): ART rejects it"
        )
    covered = dex.mv[12 : min(file_size, dex.size)] if file_size > 12 else dex.mv[12:]
    actual = _adler32(covered) & 0xFFFFFFFF
    if actual != checksum:
        dex.anomalies.append(
            f"checksum {checksum:#010x} does not match the Adler-32 of the file ({actual:#010x})"
        )
    link_size, link_off, map_off = fields[3], fields[4], fields[5]
    if map_off == 0 or map_off + 4 > dex.size:
        dex.anomalies.append(f"map_off {map_off:#x} lies outside the file")
    else:
        _check_map(dex, map_off, fields[6:18])
    if link_size and link_off + link_size > dex.size:
        dex.anomalies.append(f"link section ({link_size} bytes at {link_off:#x}) lies outside the file")
    data_size, data_off = fields[18], fields[19]
    if data_off + data_size > dex.size:
        dex.anomalies.append(f"data section ({data_size} bytes at {data_off:#x}) lies outside the file")
    if version == "041" and header_size >= HEADER_SIZE_V41 and dex.size >= HEADER_SIZE_V41:
        container_size = _U32.unpack_from(dex.data, HEADER_SIZE)[0]
        if container_size > file_size:
            dex.anomalies.append(
                f"DEX 041 container of {container_size} bytes: only the first DEX ({file_size} bytes) is read"
            )
    if fields[8] > 0xFFFF or fields[10] > 0xFFFF:
        dex.anomalies.append(
            f"type_ids_size {fields[8]} / proto_ids_size {fields[10]}: the format allows at most 65535"
        )
    return version, tuple(fields[6:18])


def _member_refs(
    dex: _Dex,
    table: str,
    count: int,
    offset: int,
    ref_type: Any,
    types: Sequence[str],
    strings: Sequence[str],
    seconds: Sequence[str],
    second_kind: str,
) -> list[Any]:
    """``field_ids`` and ``method_ids`` share one layout: u16 class type, u16 second index
    (field type or proto), u32 name string. Built column-wise; a bad index is located."""
    if not count:
        return []
    halves = dex.u16_columns(table, count, offset, 4)
    c_class = halves[0::4].tolist()
    c_second = halves[1::4].tolist()
    c_name = dex.u32_columns(table, count, offset, 2)[1::2].tolist()
    try:
        return list(
            map(
                tuple.__new__,
                repeat(ref_type),
                zip(
                    map(types.__getitem__, c_class),
                    map(strings.__getitem__, c_name),
                    map(seconds.__getitem__, c_second),
                    strict=True,
                ),
            )
        )
    except IndexError:  # locate the bad index (the fast path does not look for it)
        dex.check_indices(table, c_class, len(types), "type", offset, 8)
        dex.check_indices(table, c_second, len(seconds), second_kind, offset, 8)
        dex.check_indices(table, c_name, len(strings), "string", offset, 8)
        raise dex.error(f"{table}: an index is out of range", offset) from None


def parse_dex(data: bytes, *, entry: str, location: DexLocation = DexLocation.PRIMARY) -> DexFile:
    """Read the header and the ID tables of one DEX file.

    Raises :class:`ApkError` (with ``entry`` and the offset) when the data is not a DEX
    file or a table lies outside it; header deviations are returned as
    ``DexFile.header_anomalies``.
    """
    dex = _Dex(data, entry)
    version, sections = _check_header(dex)
    (
        n_strings,
        strings_off,
        n_types,
        types_off,
        n_protos,
        protos_off,
        n_fields,
        fields_off,
        n_methods,
        methods_off,
        n_classes,
        classes_off,
    ) = sections
    with _gc_paused():
        string_offsets = dex.u32_columns("string_ids", n_strings, strings_off, 1).tolist()
        strings = _read_strings(dex, string_offsets, strings_off)
        del string_offsets

        type_idx = dex.u32_columns("type_ids", n_types, types_off, 1).tolist()
        try:
            types = list(map(strings.__getitem__, type_idx))
        except IndexError:
            dex.check_indices("type_ids", type_idx, len(strings), "string", types_off, 4)
            raise dex.error("type_ids: an index is out of range", types_off) from None
        del type_idx

        protos = _proto_descriptors(dex, n_protos, protos_off, types)

        field_refs: list[FieldRef] = _member_refs(
            dex, "field_ids", n_fields, fields_off, FieldRef, types, strings, types, "type"
        )
        method_refs: list[MethodRef] = _member_refs(
            dex, "method_ids", n_methods, methods_off, MethodRef, types, strings, protos, "proto"
        )

        class_defs: list[str] = []
        if n_classes:
            c_idx = dex.u32_columns("class_defs", n_classes, classes_off, 8)[0::8].tolist()
            try:
                class_defs = list(map(types.__getitem__, c_idx))
            except IndexError:
                dex.check_indices("class_defs", c_idx, len(types), "type", classes_off, 32)
                raise dex.error("class_defs: an index is out of range", classes_off) from None
            if len(set(c_idx)) != len(c_idx):
                dupes = sorted(types[t] for t, k in Counter(c_idx).items() if k > 1)
                dex.anomalies.append(
                    f"{len(dupes)} class(es) defined more than once (ART rejects the file), e.g. {dupes[0]}"
                )

        return DexFile(
            entry=entry,
            location=location,
            size=dex.size,
            version=version,
            strings=tuple(strings),
            types=tuple(types),
            class_defs=tuple(class_defs),
            method_refs=tuple(method_refs),
            field_refs=tuple(field_refs),
            proto_count=n_protos,
            header_anomalies=tuple(dict.fromkeys(dex.anomalies)),
        )
