"""Every bounds check of the binary readers, crossed by exactly one byte.

For each check: the structure that ends exactly at its bound is read (no error, no note
about the bound), and the same structure one byte longer (or its container one byte
shorter) is refused or reported at the right place. A check that drifts by one (``>``
for ``>=``), or that is removed, fails here; a test that only reads well-formed data or
wildly broken data would not notice.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

import pytest

from appveto.apk import native
from appveto.apk._reader import Reader, ReadError
from appveto.apk.archive import open_archive
from appveto.apk.axml import parse_axml, read_string_pool
from appveto.apk.dex import HEADER_SIZE, parse_dex
from appveto.apk.resources import parse_resources
from appveto.apk.signing import _block_pairs, _lp
from appveto.errors import ApkError
from tests.apk.test_axml import build_axml, simple_manifest
from tests.apk.test_native import _sample_elf
from tests.apkbuilder import ClassSpec, MethodSpec, build_dex, build_resources

# ------------------------------------------------------------------ Reader

BUF = bytes(range(0xF0, 0x100))  # high bytes: a signed read differs from an unsigned one

# (name, read of n bytes at the reader's position); each must succeed on exactly n bytes left
READS: list[tuple[str, int, Callable[[Reader], object]]] = [
    ("u8", 1, Reader.u8),
    ("u16", 2, Reader.u16),
    ("u32", 4, Reader.u32),
    ("i32", 4, Reader.i32),
    ("u64", 8, Reader.u64),
    ("bytes", 5, lambda r: r.bytes(5)),
    ("skip", 5, lambda r: r.skip(5)),
]


@pytest.mark.parametrize(("name", "n", "read"), READS, ids=[r[0] for r in READS])
@pytest.mark.parametrize("end", [None, 11], ids=["buffer-end", "sub-reader-end"])
def test_reader_reads_up_to_its_end_and_not_one_byte_more(
    name: str, n: int, read: Callable[[Reader], object], end: int | None
) -> None:
    limit = len(BUF) if end is None else end
    fits = Reader(BUF, limit - n, end)
    value = read(fits)
    assert fits.pos == limit and fits.remaining() == 0
    raw = BUF[limit - n : limit]  # the bytes just before the end, read little-endian
    if name == "bytes":
        assert value == raw
    elif name != "skip":
        assert value == int.from_bytes(raw, "little", signed=name == "i32")
    over = Reader(BUF, limit - n + 1, end)
    with pytest.raises(ReadError) as err:
        read(over)
    assert err.value.offset == limit - n + 1
    assert f"need {n} bytes, {n - 1} left" in str(err.value)
    assert over.pos == limit - n + 1  # a refused read does not move


@pytest.mark.parametrize("end", [None, 11], ids=["buffer-end", "sub-reader-end"])
def test_positioned_reads_check_their_own_offset(end: int | None) -> None:
    limit = len(BUF) if end is None else end
    r = Reader(BUF, 0, end)
    assert r.u16_at(limit - 2) == int.from_bytes(BUF[limit - 2 : limit], "little")
    assert r.u32_at(limit - 4) == int.from_bytes(BUF[limit - 4 : limit], "little")
    assert r.bytes_at(limit - 3, 3) == BUF[limit - 3 : limit]
    for call in (lambda: r.u16_at(limit - 1), lambda: r.u32_at(limit - 3), lambda: r.bytes_at(limit - 2, 3)):
        with pytest.raises(ReadError):
            call()
    with pytest.raises(ReadError):
        r.u16_at(-1)
    assert r.pos == 0


def test_negative_lengths_and_an_end_beyond_the_buffer() -> None:
    r = Reader(BUF, 4)
    for call in (lambda: r.skip(-1), lambda: r.bytes(-1)):
        with pytest.raises(ReadError):
            call()
    assert r.pos == 4
    wide = Reader(BUF, 0, len(BUF) + 1)  # an end past the buffer is clamped to it
    assert wide.end == len(BUF)
    wide.skip(len(BUF))
    with pytest.raises(ReadError):
        wide.u8()


@pytest.mark.parametrize(
    ("raw", "value", "length"),
    [
        (b"\x00", 0, 1),
        (b"\x7f", 127, 1),
        (b"\x80\x01", 128, 2),
        (b"\x80\x00", 0, 2),
        (b"\x81\x7f", 0x3F81, 2),
    ],
)
def test_uleb128_values_and_lengths(raw: bytes, value: int, length: int) -> None:
    r = Reader(raw + b"\x55")
    assert (r.uleb128(), r.pos) == (value, length)


def test_uleb128_of_five_bytes_at_most_and_within_the_end() -> None:
    assert Reader(b"\xff\xff\xff\xff\x0f").uleb128() == 0xFFFFFFFF
    with pytest.raises(ReadError) as err:
        Reader(b"\xff\xff\xff\xff\xff\x01").uleb128()
    assert str(err.value) == "uleb128 longer than 5 bytes at offset 0x5"
    with pytest.raises(ReadError, match="need 1 bytes"):
        Reader(b"\xff\xff\x01", 0, 2).uleb128()  # the last byte lies past the sub-reader's end


# ------------------------------------------------------------------ signing: length prefixes


def _prefixed(n: int, payload: bytes) -> bytes:
    return struct.pack("<I", n) + payload


def test_length_prefix_that_fills_its_parent_exactly() -> None:
    parent = Reader(_prefixed(4, b"abcd") + b"TAIL", 0, 8)  # the parent ends at byte 8
    sub = _lp(parent)
    assert (sub.pos, sub.end, parent.pos) == (4, 8, 8)
    assert sub.bytes(4) == b"abcd"


def test_length_prefix_one_byte_past_its_parent_is_refused() -> None:
    """The parent ends at byte 8; its prefix claims 5 bytes: the sub-reader would reach byte 9
    (and with a large claim, far into whatever follows the parent in the buffer)."""
    for claim in (5, 20):
        parent = Reader(_prefixed(claim, b"abcd") + b"TAIL" * 8, 0, 8)
        with pytest.raises(ReadError) as err:
            _lp(parent)
        assert err.value.offset == 4 and f"need {claim} bytes, 4 left" in str(err.value)


def _signing_block(pair_length_delta: int) -> tuple[bytes, int]:
    """An APK Signing Block with one pair (id + 4-byte value) followed by a central directory
    offset; the pair's length field is off by ``pair_length_delta``."""
    value = struct.pack("<I", 0x12345678) + b"VALU"
    pair = struct.pack("<Q", len(value) + pair_length_delta) + value
    size = len(pair) + 8 + 16  # pairs, footer size field, magic (the header's own 8 bytes not counted)
    block = struct.pack("<Q", size) + pair + struct.pack("<Q", size) + b"APK Sig Block 42"
    return block + b"CDCD", len(block)


def test_signing_block_pair_that_ends_at_the_footer_and_one_byte_past_it() -> None:
    data, cd = _signing_block(0)
    problems: list[str] = []
    pairs, start = _block_pairs(data, cd, problems)
    assert problems == [] and start == 0
    ((block_id, _at, value),) = pairs
    assert block_id == 0x12345678 and value.bytes(value.remaining()) == b"VALU"
    data, cd = _signing_block(1)
    problems = []
    pairs, _ = _block_pairs(data, cd, problems)
    assert pairs == [] and problems == ["APK Signing Block: pair at 0x8 has bad length 9"]


# ------------------------------------------------------------------ DEX

DEX = build_dex((ClassSpec("Lcom/example/A;", methods=(MethodSpec("Lcom/example/A;", "run", "()V"),)),))

# (table, header offset of its size field, item size)
DEX_TABLES = [
    ("string_ids", 0x38, 4),
    ("type_ids", 0x40, 4),
    ("proto_ids", 0x48, 12),
    ("field_ids", 0x50, 8),
    ("method_ids", 0x58, 8),
    ("class_defs", 0x60, 32),
]


@pytest.mark.parametrize(("table", "at", "item"), DEX_TABLES, ids=[t[0] for t in DEX_TABLES])
def test_dex_table_that_ends_at_the_file_end_and_one_byte_past_it(table: str, at: int, item: int) -> None:
    count = max(struct.unpack_from("<I", DEX, at)[0], 1)
    for past, outside in ((0, False), (1, True)):
        data = bytearray(DEX)
        offset = len(data) - count * item + past
        struct.pack_into("<II", data, at, count, offset)
        try:
            parse_dex(bytes(data), entry="classes.dex")
        except ApkError as exc:
            message = str(exc)
            assert ("lies outside" in message and table in message) is outside, message
            if outside:
                assert exc.diagnostics()[0].offset == offset
        else:
            assert not outside, f"{table} one byte past the end was read"


def test_dex_header_of_exactly_its_size() -> None:
    with pytest.raises(ApkError, match=f"needs {HEADER_SIZE} bytes, the entry has {HEADER_SIZE - 1}"):
        parse_dex(DEX[: HEADER_SIZE - 1], entry="classes.dex")
    data = bytearray(DEX[:HEADER_SIZE])
    data[0x38:0x70] = bytes(0x38)  # every table empty: a bare header is a (strange) DEX
    assert parse_dex(bytes(data), entry="classes.dex").class_defs == ()


def test_dex_string_offset_at_the_last_byte_and_at_the_file_end() -> None:
    ids_off = struct.unpack_from("<I", DEX, 0x3C)[0]
    data = bytearray(DEX)
    struct.pack_into("<I", data, ids_off, len(data))
    with pytest.raises(ApkError, match=r"string_ids item 0 points to .* outside the file") as err:
        parse_dex(bytes(data), entry="classes.dex")
    assert err.value.diagnostics()[0].offset == ids_off
    struct.pack_into("<I", data, ids_off, len(data) - 1)  # inside: read, then found unterminated
    data[-1] = 0x01
    with pytest.raises(ApkError, match="not NUL-terminated"):
        parse_dex(bytes(data), entry="classes.dex")


# ------------------------------------------------------------------ binary XML

AXML = build_axml(simple_manifest())


def _notes(data: bytes) -> str:
    try:
        doc = parse_axml(data)
    except ApkError as exc:
        return f"error: {exc}"
    return "\n".join(t.detail for t in doc.anomalies)


def test_axml_document_size_equal_to_the_data_and_one_byte_more() -> None:
    assert _notes(AXML) == ""
    data = bytearray(AXML)
    struct.pack_into("<I", data, 4, len(AXML) + 1)
    assert f"document size {len(AXML) + 1:#x} exceeds the data" in _notes(bytes(data))


def _last_chunk(data: bytes) -> int:
    """Offset of the document's last chunk (the final END_NAMESPACE/END_ELEMENT)."""
    pos, last = 8, 8
    while pos < len(data):
        last = pos
        pos += struct.unpack_from("<I", data, pos + 4)[0]
    return last


def test_axml_chunk_that_ends_at_the_document_end_and_one_byte_past_it() -> None:
    last = _last_chunk(AXML)
    size = struct.unpack_from("<I", AXML, last + 4)[0]
    assert last + size == len(AXML)
    data = bytearray(AXML)
    struct.pack_into("<I", data, last + 4, size + 1)
    assert "runs past the document end" in _notes(bytes(data))


def test_string_pool_that_fills_its_container_and_one_byte_less() -> None:
    pool_at = 8
    size = struct.unpack_from("<I", AXML, pool_at + 4)[0]
    notes: list[str] = []
    strings = read_string_pool(AXML, pool_at, pool_at + size, lambda _o, d, **_k: notes.append(d))
    assert notes == [] and "manifest" in strings
    read_string_pool(AXML, pool_at, pool_at + size - 1, lambda _o, d, **_k: notes.append(d))
    assert any("runs past its container" in n for n in notes)


# ------------------------------------------------------------------ resources.arsc

ARSC = build_resources("org.example.app")


def test_resource_table_size_equal_to_the_data_and_one_byte_more() -> None:
    assert parse_resources(ARSC).anomalies == ()
    data = bytearray(ARSC)
    struct.pack_into("<I", data, 4, len(ARSC) + 1)
    assert any("exceeds the data" in a.detail for a in parse_resources(bytes(data)).anomalies)


def test_resource_chunk_that_ends_at_the_table_end_and_one_byte_past_it() -> None:
    last = None
    pos = 12  # top-level chunks start after the 12-byte table header
    while pos < len(ARSC):
        last = pos
        pos += struct.unpack_from("<I", ARSC, pos + 4)[0]
    assert last is not None and pos == len(ARSC)
    data = bytearray(ARSC)
    size = struct.unpack_from("<I", data, last + 4)[0]
    struct.pack_into("<I", data, last + 4, size + 1)
    assert any("table walk stopped" in a.detail for a in parse_resources(bytes(data)).anomalies)


# ------------------------------------------------------------------ zip archive


def _stored_zip() -> tuple[bytes, int]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.bin", b"0123456789")
    data = buf.getvalue()
    return data, data.index(b"PK\x01\x02")


@pytest.mark.parametrize("field", ["stored", "deflated"])
def test_entry_data_that_ends_at_the_file_end_and_one_byte_past_it(field: str) -> None:
    data, cd = _stored_zip()
    start = 30 + len("a.bin")
    for past in (0, 1):
        patched = bytearray(data)
        size = len(data) - start + past
        if field == "stored":
            struct.pack_into("<II", patched, cd + 20, size, size)  # csize, usize
        else:
            struct.pack_into("<H", patched, cd + 10, 8)  # method: deflated
            struct.pack_into("<II", patched, cd + 20, size, 10)
        archive = open_archive(bytes(patched), name="t.apk")
        try:
            out = archive.read("a.bin")
        except ApkError as exc:
            assert ("runs past the end of the file" in str(exc)) is bool(past), str(exc)
            assert exc.diagnostics()[0].entry == "a.bin"
        else:
            assert not past
            if field == "stored":
                assert out.startswith(b"0123456789") and len(out) == size


# ------------------------------------------------------------------ ELF

ELF = _sample_elf()


def _section_header(data: bytes, name: bytes) -> int:
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shnum, shstrndx = struct.unpack_from("<HH", data, 0x3C)
    names = struct.unpack_from("<Q", data, shoff + shstrndx * 64 + 24)[0]
    for i in range(shnum):
        at = shoff + i * 64
        n = struct.unpack_from("<I", data, at)[0]
        if data[names + n :].startswith(name + b"\x00"):
            return at
    raise AssertionError(name)


def test_elf_section_that_ends_at_the_file_end_and_one_byte_past_it() -> None:
    at = _section_header(ELF, b".rodata")
    offset = struct.unpack_from("<Q", ELF, at + 24)[0]
    for past in (0, 1):
        data = bytearray(ELF)
        struct.pack_into("<Q", data, at + 32, len(ELF) - offset + past)
        lib = native.parse_native("lib/arm64-v8a/libx.so", bytes(data))
        assert (lib.problem is not None and "section .rodata" in lib.problem) is bool(past), lib.problem


def test_elf_section_headers_that_end_at_the_file_end_and_one_more() -> None:
    shnum = struct.unpack_from("<H", ELF, 0x3C)[0]
    assert native.parse_native("lib/x86/libx.so", ELF).problem is None
    data = bytearray(ELF)
    struct.pack_into("<H", data, 0x3C, shnum + 1)  # the headers are the file's last bytes
    problem = native.parse_native("lib/x86/libx.so", bytes(data)).problem
    assert problem is not None and "run past the end of the file" in problem


def test_elf_reads_at_the_last_byte_and_past_it() -> None:
    elf = native._Elf(ELF)
    elf._unpack("I", len(ELF) - 4)
    assert elf.blob(len(ELF) - 3, 3) == ELF[-3:]
    elf.cstring(len(ELF) - 1)
    for call in (
        lambda: elf._unpack("I", len(ELF) - 3),
        lambda: elf.blob(len(ELF) - 2, 3),
        lambda: elf.cstring(len(ELF)),
        lambda: elf.blob(-1, 1),
    ):
        with pytest.raises(native._Damaged):
            call()
