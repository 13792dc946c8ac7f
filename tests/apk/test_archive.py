"""The lenient zip reader: real corpus, Python's zipfile as an oracle, and hand-built hostile zips."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from appveto.apk.archive import Archive, Limits, open_archive
from appveto.apk.model import TamperKind, ZipEntry
from appveto.errors import ApkError, AppvetoError, LimitExceeded
from tests.conftest import corpus_params, require_shared
from tests.workcount import assert_linear, growth

# --------------------------------------------------------------------------- zip builder

_LFH = struct.Struct("<IHHHHHIIIHH")
_CDH = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_U32_MAX = 0xFFFFFFFF


@dataclass
class Ent:
    """One entry of a hand-built zip; every header field can be forged."""

    name: str | bytes
    payload: bytes = b""
    method: int = 0
    """CD method. 8 deflates the payload; anything else writes it as is (BadPack style)."""
    flags: int = 0
    lfh_name: bytes | None = None
    lfh_method: int | None = None
    lfh_flags: int | None = None
    lfh_sizes: tuple[int, int] | None = None
    """(compressed, uncompressed) written in the local header."""
    lfh_crc: int | None = None
    cd_sizes: tuple[int, int] | None = None
    cd_crc: int | None = None
    lfh_extra: bytes = b""
    cd_extra: bytes = b""
    body: bytes | None = None
    """Bytes written as the entry data (default: the payload, deflated for method 8)."""
    descriptor: bytes | None = None
    """Raw bytes written right after the data (a data descriptor)."""
    zip64: bool = False
    lfh_at: int | None = None
    """Point the CD record at the local header of entry #lfh_at instead of its own."""

    def raw_name(self) -> bytes:
        return self.name.encode() if isinstance(self.name, str) else self.name


@dataclass
class Built:
    data: bytes
    lfh_offsets: list[int] = field(default_factory=list)


def deflate(payload: bytes, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(payload) + c.flush()


def build_zip(
    entries: list[Ent],
    *,
    prefix: bytes = b"",
    absolute: bool = True,
    comment: bytes = b"",
    trailer: bytes = b"",
    eocd_count: int | None = None,
    hidden: list[Ent] | None = None,
    zip64_eocd: bool = False,
    cd_size_delta: int = 0,
) -> Built:
    """A zip from scratch. ``absolute`` offsets count the prefix (what Android needs)."""
    base = len(prefix) if absolute else 0
    out = bytearray(prefix)
    offsets: list[int] = []
    bodies: list[bytes] = []
    for e in entries:
        body = e.body if e.body is not None else (deflate(e.payload) if e.method == 8 else e.payload)
        bodies.append(body)
        crc = zlib.crc32(e.payload)
        rel = len(out) - len(prefix)
        offsets.append(rel + base)
        name = e.lfh_name if e.lfh_name is not None else e.raw_name()
        csize, usize = e.lfh_sizes if e.lfh_sizes is not None else (len(body), len(e.payload))
        extra = e.lfh_extra
        if e.zip64:
            extra = struct.pack("<HHQQ", 1, 16, usize, csize) + extra
            csize = usize = _U32_MAX
        out += _LFH.pack(
            0x04034B50,
            20,
            e.lfh_flags if e.lfh_flags is not None else e.flags,
            e.lfh_method if e.lfh_method is not None else e.method,
            0,
            0x21,
            e.lfh_crc if e.lfh_crc is not None else crc,
            csize,
            usize,
            len(name),
            len(extra),
        )
        out += name + extra + body
        if e.descriptor is not None:
            out += e.descriptor

    def cd_record(e: Ent, body: bytes, lfh_off: int) -> bytes:
        name = e.raw_name()
        csize, usize = e.cd_sizes if e.cd_sizes is not None else (len(body), len(e.payload))
        extra = e.cd_extra
        if e.zip64:
            extra = struct.pack("<HHQQQ", 1, 24, usize, csize, lfh_off) + extra
            csize = usize = lfh_off = _U32_MAX
        return (
            _CDH.pack(
                0x02014B50,
                20,
                20,
                e.flags,
                e.method,
                0,
                0x21,
                e.cd_crc if e.cd_crc is not None else zlib.crc32(e.payload),
                csize,
                usize,
                len(name),
                len(extra),
                0,
                0,
                0,
                0,
                lfh_off,
            )
            + name
            + extra
        )

    cd_start = len(out)
    for i, (e, body) in enumerate(zip(entries, bodies, strict=True)):
        out += cd_record(e, body, offsets[e.lfh_at if e.lfh_at is not None else i])
    for e in hidden or []:
        out += cd_record(e, deflate(e.payload) if e.method == 8 else e.payload, offsets[0])
    cd_size = len(out) - cd_start + cd_size_delta
    cd_off = cd_start - len(prefix) + base
    count = len(entries) if eocd_count is None else eocd_count
    if zip64_eocd:
        z64 = len(out) - len(prefix) + base
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_off)
        out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        out += _EOCD.pack(0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _U32_MAX, _U32_MAX, len(comment))
    else:
        out += _EOCD.pack(0x06054B50, 0, 0, count, count, cd_size, cd_off, len(comment))
    out += comment + trailer
    return Built(bytes(out), [o + (0 if absolute else len(prefix)) for o in offsets])


def kinds(a: Archive) -> set[TamperKind]:
    return {t.kind for t in a.tampering}


def of_kind(a: Archive, kind: TamperKind) -> list[str | None]:
    return [t.entry for t in a.tampering if t.kind == kind]


def simple(n: int = 2) -> list[Ent]:
    return [Ent(f"f{i}.txt", (f"content {i} " * 50).encode(), method=8 if i % 2 else 0) for i in range(n)]


# --------------------------------------------------------------------------- corpus


def _manifest_notes() -> dict[str, str]:
    path = require_shared("corpus/apk/MANIFEST.tsv")
    rows = path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    col = header.index("notes")
    return {r.split("\t")[0]: r.split("\t")[col] for r in rows[1:] if r.strip()}


def _expected_zip_anomalies(note: str) -> list[tuple[TamperKind, str | None, str]]:
    """(kind, entry, argument) from the 'zip anomalies=' part of a MANIFEST note."""
    m = re.search(r"zip anomalies=([^|]*)", note)
    if m is None:
        return []
    out: list[tuple[TamperKind, str | None, str]] = []
    for raw in m.group(1).split(";"):
        token = raw.strip()
        if mm := re.fullmatch(r"local/central-name-mismatch:(\S+)", token):
            out.append((TamperKind.NAME_MISMATCH, mm.group(1), ""))
        elif mm := re.match(r"data-before-first-local-header\((\d+) bytes", token):
            out.append((TamperKind.DATA_BEFORE_ARCHIVE, None, mm.group(1)))
        elif token.startswith("file-starts-with-dex-magic"):
            out.append((TamperKind.DEX_MAGIC_AT_START, None, ""))
        elif mm := re.fullmatch(r"unusual-compression-method\((\d+)\):(\S+)", token):
            out.append((TamperKind.BAD_COMPRESSION_METHOD, mm.group(2), mm.group(1)))
        elif mm := re.fullmatch(r"path-traversal-name:(\S+)", token):
            out.append((TamperKind.PATH_TRAVERSAL, mm.group(1), ""))
    return out


def _expectation(file: str) -> dict[str, object]:
    path = require_shared("corpus/labels/expectations.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for e in doc["entries"]:
        if e["file"] == file and isinstance(e.get("expected"), dict):
            return dict(e["expected"])
    pytest.skip(f"no expectations for {file}")
    raise AssertionError("unreachable")


def _check_invariants(a: Archive) -> None:
    n = len(a.data)
    assert 0 <= a.start_offset <= a.cd_offset <= a.eocd_offset <= n - 22
    assert a.names() == tuple(e.name for e in a.entries)
    for i, e in enumerate(a.entries):
        assert isinstance(e, ZipEntry)
        assert e.index == i
        assert e.data_offset == -1 or 0 <= e.local_header_offset < e.data_offset <= n
        first = a.get(e.name)
        assert first is not None and first.index <= e.index
    for t in a.tampering:
        assert isinstance(t.kind, TamperKind)
        assert t.detail


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_opens_or_raises_typed_error(corpus_file: Path) -> None:
    try:
        a = open_archive(corpus_file)
    except AppvetoError as exc:
        assert exc.diagnostics()[0].file == str(corpus_file)
        return
    with a:
        _check_invariants(a)
        for e in a.entries[:50]:
            try:
                a.read(e)
            except AppvetoError as exc:
                d = exc.diagnostics()[0]
                assert d.file == str(corpus_file) and d.entry == e.name


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_matches_zipfile(corpus_file: Path) -> None:
    """Where Python's zipfile reads a file, names and every inflated entry agree."""
    try:
        zf = zipfile.ZipFile(corpus_file)
    except zipfile.BadZipFile:
        pytest.skip("zipfile cannot read this file (covered by the tampering tests)")
    with zf, open_archive(corpus_file) as a:
        infos = zf.infolist()
        assert [i.filename for i in infos] == list(a.names())
        for info, e in zip(infos, a.entries, strict=True):
            assert (e.compressed_size, e.uncompressed_size, e.crc32) == (
                info.compress_size,
                info.file_size,
                info.CRC,
            )
            try:
                expected = zf.read(info)
            except (NotImplementedError, zipfile.BadZipFile, RuntimeError):
                continue  # BadPack and friends: covered below
            assert a.read(e) == expected, e.name


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_tampering_matches_labels(corpus_file: Path) -> None:
    """Every zip anomaly the corpus MANIFEST notes is observed; clean files stay clean."""
    notes = _manifest_notes()
    note = notes.get(corpus_file.name, "")
    expected = _expected_zip_anomalies(note)
    try:
        a = open_archive(corpus_file)
    except ApkError:
        assert not expected, "a file with listed anomalies must still open"
        return
    with a:
        for kind, entry, arg in expected:
            seen = [t for t in a.tampering if t.kind == kind]
            assert seen, f"{kind} not observed ({note})"
            if entry is not None:
                assert entry in {t.entry for t in seen}
            if kind == TamperKind.DATA_BEFORE_ARCHIVE:
                assert a.start_offset == int(arg)
                assert a.data[a.start_offset : a.start_offset + 4] == b"PK\x03\x04"
            if kind == TamperKind.BAD_COMPRESSION_METHOD and entry is not None:
                got = a.get(entry)
                assert got is not None and got.method == int(arg)
        if "zip anomalies=" not in note:
            # informational observations only on the files the corpus calls clean
            assert kinds(a) <= {TamperKind.DATA_DESCRIPTOR, TamperKind.EMPTY_ARCHIVE}, a.tampering
        # structural facts checked independently of the reader
        data = corpus_file.read_bytes()
        eocd = data.rfind(b"PK\x05\x06")
        _s, _d, _c, _n1, count, cd_size, cd_off, _cl = _EOCD.unpack_from(data, eocd)
        if cd_off + cd_size > eocd:
            assert TamperKind.TRUNCATED in kinds(a)
        if count == 0:
            assert a.entries == () and TamperKind.EMPTY_ARCHIVE in kinds(a)
        if not data.startswith(b"PK\x03\x04") and count:
            assert TamperKind.DATA_BEFORE_ARCHIVE in kinds(a)


def test_badpack_manifest_extracted_like_android() -> None:
    name = "apkinspector-badpack-compression.apk"
    path = require_shared("corpus/apk") / name
    exp = _expectation(name)
    eocd = exp["eocd"]
    lfh = exp["AndroidManifest.xml_local_header"]
    assert isinstance(eocd, dict) and isinstance(lfh, dict)
    with open_archive(path) as a:
        assert len(a.entries) == eocd["total_entries"]
        assert a.cd_size == eocd["cd_size"]
        assert a.cd_offset == eocd["cd_offset"]
        e = a.get("AndroidManifest.xml")
        assert e is not None
        assert e.method == lfh["compression_method"]
        assert (e.compressed_size, e.uncompressed_size, e.crc32) == (
            lfh["compressed_size"],
            lfh["uncompressed_size"],
            lfh["crc32"],
        )
        assert "AndroidManifest.xml" in of_kind(a, TamperKind.BAD_COMPRESSION_METHOD)
        manifest = a.read(e)
        assert hashlib.sha256(manifest).hexdigest() == exp["AndroidManifest.xml_extracted_sha256"]


def test_truncated_cd_sample() -> None:
    path = require_shared("corpus/apk") / "apksig-truncated-cd.apk"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)
    with open_archive(path) as a:
        assert TamperKind.TRUNCATED in kinds(a)
        assert a.cd_offset + a.cd_size > a.eocd_offset
        mismatched = of_kind(a, TamperKind.NAME_MISMATCH)
        assert mismatched and all(m in a.names() for m in mismatched)


def test_empty_eocd_only_sample() -> None:
    path = require_shared("corpus/apk") / "apksig-empty-eocd-only.apk"
    with open_archive(path) as a:
        assert a.entries == () and a.names() == ()
        assert kinds(a) == {TamperKind.EMPTY_ARCHIVE}
        assert a.get("AndroidManifest.xml") is None
        with pytest.raises(ApkError) as exc:
            a.read("AndroidManifest.xml")
        assert exc.value.diagnostics()[0].entry == "AndroidManifest.xml"


def test_bytes_and_path_give_the_same_archive() -> None:
    path = require_shared("corpus/apk") / "fdroid-janus.apk"
    with open_archive(path) as a:
        b = open_archive(path.read_bytes(), name="janus")
        assert b.name == "janus" and a.name == str(path)
        assert a.entries == b.entries and a.tampering == b.tampering
        assert (a.start_offset, a.cd_offset, a.cd_size, a.eocd_offset) == (
            b.start_offset,
            b.cd_offset,
            b.cd_size,
            b.eocd_offset,
        )


# --------------------------------------------------------------------------- well-formed


def test_zipfile_written_archive_round_trips() -> None:
    import io

    buf = io.BytesIO()
    payloads = {f"dir/file{i}.bin": bytes(range(256)) * (i + 1) for i in range(20)}
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (n, p) in enumerate(payloads.items()):
            zf.writestr(n, p, compress_type=zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED)
    a = open_archive(buf.getvalue())
    assert a.tampering == ()
    assert a.names() == tuple(payloads)
    for n, p in payloads.items():
        assert a.read(n) == p
    assert a.start_offset == 0 and a.name == "<bytes>"


def test_stored_read_is_a_slice_and_deflate_matches() -> None:
    ents = simple(4)
    a = open_archive(build_zip(ents).data)
    assert a.tampering == ()
    for e in ents:
        assert a.read(str(e.name)) == e.payload


# --------------------------------------------------------------------------- hostile zips


def test_not_a_zip_is_a_located_error() -> None:
    with pytest.raises(ApkError) as exc:
        open_archive(b"\x00" * 5000, name="junk.apk")
    d = exc.value.diagnostics()[0]
    assert d.file == "junk.apk" and d.offset is not None
    with pytest.raises(ApkError) as exc:
        open_archive(b"PK\x05\x06", name="tiny.apk")
    assert exc.value.diagnostics()[0].offset == 0
    with pytest.raises(ApkError) as exc:
        open_archive(b"", name="empty.apk")
    assert not isinstance(exc.value, LimitExceeded)


def test_eocd_pointing_nowhere_is_a_located_error() -> None:
    data = bytearray(build_zip(simple()).data)
    struct.pack_into("<I", data, len(data) - 6, 3)  # cd offset -> 3 (nothing there)
    with pytest.raises(ApkError) as exc:
        open_archive(bytes(data), name="x.apk")
    assert "central directory" in str(exc.value) and exc.value.diagnostics()[0].offset == 3


def test_missing_file_is_an_apk_error(tmp_path: Path) -> None:
    with pytest.raises(ApkError) as exc:
        open_archive(tmp_path / "nope.apk")
    assert exc.value.diagnostics()[0].file == str(tmp_path / "nope.apk")


def test_zip_bomb_over_ratio_limit() -> None:
    bomb = b"\x00" * (16 * 1024 * 1024)
    a = open_archive(build_zip([Ent("assets/bomb.bin", bomb, method=8)]).data, name="bomb.apk")
    e = a.entries[0]
    assert e.uncompressed_size / e.compressed_size > a.limits.max_ratio
    with pytest.raises(LimitExceeded) as exc:
        a.read(e)
    d = exc.value.diagnostics()[0]
    assert d.file == "bomb.apk" and d.entry == "assets/bomb.bin" and "ratio" in d.message
    # a small entry with the same ratio is harmless and read
    small = open_archive(build_zip([Ent("z", b"\x00" * 100_000, method=8)]).data)
    assert small.read("z") == b"\x00" * 100_000


def test_read_head_inflates_only_a_prefix() -> None:
    bomb = b"dex\n035\x00" + b"\x00" * (4 * 1024 * 1024)
    ents = [Ent("assets/x.bin", bomb, method=8), Ent("s", b"PK\x03\x04stored"), Ent("odd", b"abc", method=99)]
    a = open_archive(build_zip(ents).data, limits=Limits(max_entry_inflated=1024 * 1024))
    with pytest.raises(LimitExceeded):
        a.read("assets/x.bin")
    assert a.read_head("assets/x.bin", 8) == b"dex\n035\x00"
    assert a.read_head("s", 4) == b"PK\x03\x04"
    assert a.read_head("s", 1000) == b"PK\x03\x04stored"
    assert a.read_head("odd", 2) == b"ab"
    broken = open_archive(build_zip([Ent("c", b"x" * 100, method=8, body=b"\xff" * 20)]).data)
    with pytest.raises(ApkError):
        broken.read_head("c", 8)


def test_lying_size_cannot_inflate_past_declared() -> None:
    big = b"A" * (8 * 1024 * 1024)
    body = deflate(big)
    ent = Ent("lie.bin", b"x" * 1000, method=8, body=body, lfh_sizes=(len(body), 1000))
    a = open_archive(build_zip([ent]).data, name="lie.apk")
    tracemalloc.start()
    try:
        with pytest.raises(ApkError) as exc:
            a.read("lie.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"inflating a lying entry peaked at {peak} bytes"
    assert "more than the declared 1000" in str(exc.value)
    assert exc.value.diagnostics()[0].entry == "lie.bin"


def test_entry_size_limits() -> None:
    ents = [Ent("a.bin", b"a" * 5000, method=8), Ent("b.bin", b"b" * 10)]
    data = build_zip(ents).data
    a = open_archive(data, limits=Limits(max_entry_inflated=4096))
    with pytest.raises(LimitExceeded) as exc:
        a.read("a.bin")
    assert exc.value.diagnostics()[0].entry == "a.bin"
    assert a.read("b.bin") == b"b" * 10
    with pytest.raises(LimitExceeded):
        open_archive(data).read("a.bin", max_size=100)
    with pytest.raises(LimitExceeded) as exc2:
        open_archive(data, name="t.apk", limits=Limits(max_total_inflated=1000))
    assert exc2.value.diagnostics()[0].file == "t.apk"


def test_too_many_entries() -> None:
    data = build_zip([Ent(f"e{i}", b"") for i in range(11)]).data
    assert len(open_archive(data, limits=Limits(max_entries=11)).entries) == 11
    with pytest.raises(LimitExceeded) as exc:
        open_archive(data, name="many.apk", limits=Limits(max_entries=10))
    assert exc.value.diagnostics()[0].file == "many.apk" and "11 entries" in str(exc.value)


def test_fake_encryption_bit_is_ignored_like_android() -> None:
    ents = [Ent("classes.dex", b"dex\n035\x00" + b"1" * 100, method=8, flags=1), Ent("ok", b"fine")]
    data = build_zip(ents).data
    with pytest.raises(RuntimeError):  # zipfile refuses "encrypted" entries
        zipfile.ZipFile(__import__("io").BytesIO(data)).read("classes.dex")
    a = open_archive(data)
    assert of_kind(a, TamperKind.FAKE_ENCRYPTION) == ["classes.dex"]
    assert a.read("classes.dex") == ents[0].payload


def test_bogus_method_read_as_stored() -> None:
    ent = Ent("AndroidManifest.xml", b"\x03\x00\x08\x00" + b"m" * 200, method=30208)
    a = open_archive(build_zip([ent]).data)
    assert of_kind(a, TamperKind.BAD_COMPRESSION_METHOD) == ["AndroidManifest.xml"]
    assert a.read("AndroidManifest.xml") == ent.payload


def test_local_central_mismatches_use_the_central_directory() -> None:
    p = b"payload " * 40
    ents = [
        Ent("method.bin", p, method=8, lfh_method=0),
        Ent("sizes.bin", p, method=0, lfh_sizes=(1, 2)),
        Ent("crc.bin", p, method=0, lfh_crc=0x1234),
        Ent("name.bin", p, method=0, lfh_name=b"other.bin"),
    ]
    a = open_archive(build_zip(ents).data)
    assert of_kind(a, TamperKind.METHOD_MISMATCH) == ["method.bin"]
    assert of_kind(a, TamperKind.SIZE_MISMATCH) == ["sizes.bin"]
    assert of_kind(a, TamperKind.CRC_MISMATCH) == ["crc.bin"]
    assert of_kind(a, TamperKind.NAME_MISMATCH) == ["name.bin"]
    detail = next(t.detail for t in a.tampering if t.kind == TamperKind.NAME_MISMATCH)
    assert "other.bin" in detail
    for e in ents:
        assert a.read(str(e.name)) == p


def test_data_descriptor() -> None:
    p = b"descriptor " * 30
    body = deflate(p)
    good = struct.pack("<IIII", 0x08074B50, zlib.crc32(p), len(body), len(p))
    bad = struct.pack("<III", zlib.crc32(p) ^ 1, len(body), len(p) + 1)  # no signature, wrong values
    ents = [
        Ent("good", p, method=8, flags=8, lfh_sizes=(0, 0), lfh_crc=0, descriptor=good),
        Ent("bad", p, method=8, flags=8, lfh_sizes=(0, 0), lfh_crc=0, descriptor=bad),
    ]
    data = build_zip(ents).data
    a = open_archive(data)
    dd = [t for t in a.tampering if t.kind == TamperKind.DATA_DESCRIPTOR]
    assert len(dd) == 1 and "2 entries" in dd[0].detail
    assert of_kind(a, TamperKind.SIZE_MISMATCH) == ["bad"]
    assert of_kind(a, TamperKind.CRC_MISMATCH) == ["bad"]
    assert a.read("good") == p == a.read("bad")
    assert zipfile.ZipFile(__import__("io").BytesIO(data)).read("good") == p


def test_zip64() -> None:
    ents = [Ent("big.bin", b"z" * 3000, method=8, zip64=True), Ent("small", b"s" * 10)]
    data = build_zip(ents, zip64_eocd=True).data
    zf = zipfile.ZipFile(__import__("io").BytesIO(data))  # the oracle reads it too
    assert zf.read("big.bin") == b"z" * 3000
    a = open_archive(data)
    assert TamperKind.ZIP64 in kinds(a)
    assert "big.bin" in of_kind(a, TamperKind.ZIP64)
    e = a.get("big.bin")
    assert e is not None and e.uncompressed_size == 3000 and e.local_header_offset == 0
    assert a.read(e) == b"z" * 3000 and a.read("small") == b"s" * 10
    assert kinds(a) <= {TamperKind.ZIP64}
    assert of_kind(a, TamperKind.ZIP64).count("big.bin") == 1


def test_zip64_markers_without_locator_fall_back() -> None:
    data = bytearray(build_zip(simple()).data)
    struct.pack_into("<H", data, len(data) - 12, 0xFFFF)  # total entries = 0xFFFF, no locator
    struct.pack_into("<H", data, len(data) - 14, 0xFFFF)
    a = open_archive(bytes(data))
    assert TamperKind.ZIP64 in kinds(a)
    assert len(a.entries) == 2  # the records that are there, no more


def test_duplicate_names_first_wins() -> None:
    ents = [Ent("classes.dex", b"first"), Ent("x", b"x"), Ent("classes.dex", b"second")]
    a = open_archive(build_zip(ents).data)
    assert a.names() == ("classes.dex", "x", "classes.dex")
    assert of_kind(a, TamperKind.DUPLICATE_NAME) == ["classes.dex"]
    first = a.get("classes.dex")
    assert first is not None and first.index == 0
    assert a.read("classes.dex") == b"first"
    assert a.read(a.entries[2]) == b"second"


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute-offsets", "relative-offsets"])
def test_prepended_data(absolute: bool) -> None:
    prefix = b"dex\n035\x00" + bytes(range(256)) * 4
    ents = simple(3)
    built = build_zip(ents, prefix=prefix, absolute=absolute)
    a = open_archive(built.data)
    assert a.start_offset == len(prefix)
    assert TamperKind.DATA_BEFORE_ARCHIVE in kinds(a)
    assert TamperKind.DEX_MAGIC_AT_START in kinds(a)
    assert [e.local_header_offset for e in a.entries] == built.lfh_offsets
    assert a.data[a.cd_offset : a.cd_offset + 4] == b"PK\x01\x02"
    for e in ents:
        assert a.read(str(e.name)) == e.payload
    relative_noted = any("relative" in t.detail for t in a.tampering)
    assert relative_noted is not absolute


def test_trailing_data_and_decoy_eocd() -> None:
    ents = simple()
    a = open_archive(build_zip(ents, trailer=b"garbage after the end" * 3).data)
    assert TamperKind.TRAILING_DATA in kinds(a)
    assert a.read("f1.txt") == ents[1].payload
    decoy = _EOCD.pack(0x06054B50, 0, 0, 1, 1, 46, 12345, 0)
    b = open_archive(build_zip(ents, comment=b"hi" + decoy).data)
    assert TamperKind.COMMENT_ANOMALY in kinds(b)
    assert b.names() == ("f0.txt", "f1.txt")


def test_hidden_records_beyond_the_count() -> None:
    ents = simple(2)
    data = build_zip(ents, hidden=[Ent("evil.dex", b"hidden")]).data
    a = open_archive(data)
    assert a.names() == ("f0.txt", "f1.txt")
    assert of_kind(a, TamperKind.CD_COUNT_MISMATCH) == ["evil.dex"]


def test_local_header_no_record_points_to() -> None:
    ents = [Ent("a", b"A" * 50), Ent("payload.dex", b"dex\n035\x00" * 10), Ent("b", b"B" * 50)]
    data = bytearray(build_zip(ents).data)
    # drop the CD record of the middle entry: its local header stays in the file
    a = open_archive(bytes(data))
    middle = a.entries[1]
    cd = a.cd_offset
    rec_len = 46 + len("payload.dex")
    start = cd + (46 + 1)  # after the record of "a"
    del data[start : start + rec_len]
    eocd = len(data) - 22
    struct.pack_into("<HHI", data, eocd + 8, 2, 2, a.cd_size - rec_len)
    b = open_archive(bytes(data))
    assert b.names() == ("a", "b")
    hidden = [t for t in b.tampering if t.kind == TamperKind.CD_COUNT_MISMATCH]
    assert [(t.entry, t.offset) for t in hidden] == [("payload.dex", middle.local_header_offset)]


def test_count_larger_than_directory() -> None:
    a = open_archive(build_zip(simple(2), eocd_count=5).data)
    assert len(a.entries) == 2
    assert TamperKind.TRUNCATED in kinds(a) and TamperKind.CD_COUNT_MISMATCH in kinds(a)


def test_cd_overlapping_eocd_like_apksig_vector() -> None:
    a = open_archive(build_zip(simple(2), cd_size_delta=1).data)
    assert TamperKind.TRUNCATED in kinds(a)
    assert len(a.entries) == 2


def test_overlapping_entries() -> None:
    ents = [Ent("a", b"A" * 500, method=8), Ent("b", b"A" * 500, method=8, lfh_at=0)]
    a = open_archive(build_zip(ents).data)
    assert of_kind(a, TamperKind.OVERLAPPING_ENTRIES) == ["b"]
    assert of_kind(a, TamperKind.NAME_MISMATCH) == ["b"]  # the shared local header names "a"
    # b's own local header is still in the file, but no record points to it
    assert of_kind(a, TamperKind.CD_COUNT_MISMATCH) == ["b"]
    assert a.entries[0].local_header_offset == a.entries[1].local_header_offset


def test_local_header_missing() -> None:
    data = bytearray(build_zip(simple(2)).data)
    data[0:4] = b"XXXX"
    a = open_archive(bytes(data), name="nolfh.apk")
    assert of_kind(a, TamperKind.BAD_LOCAL_HEADER) == ["f0.txt"]
    assert a.entries[0].data_offset == -1
    with pytest.raises(ApkError) as exc:
        a.read("f0.txt")
    assert exc.value.diagnostics()[0].entry == "f0.txt"
    assert a.read("f1.txt") == simple(2)[1].payload


def test_names() -> None:
    ents = [
        Ent("../../etc/passwd", b"1"),
        Ent("/abs/path", b"2"),
        Ent("lib\\x86\\evil.so", b"3"),
        Ent(b"bad\xff\xfeutf8", b"4"),
        Ent("nul\x00name", b"5"),
        Ent("ctl\x07name", b"6"),
        Ent("ok/..hidden", b"7"),
    ]
    a = open_archive(build_zip(ents).data)
    trav = of_kind(a, TamperKind.PATH_TRAVERSAL)
    assert {"../../etc/passwd", "/abs/path", "lib\\x86\\evil.so"} == set(trav)
    unusual = of_kind(a, TamperKind.UNUSUAL_NAME)
    assert "bad\\xff\\xfeutf8" in unusual and "nul\x00name" in unusual and "ctl\x07name" in unusual
    assert "ok/..hidden" not in trav + unusual
    assert a.read("bad\\xff\\xfeutf8") == b"4"


def test_extra_field_anomaly_and_zipalign_padding() -> None:
    ents = [
        Ent("padded", b"p" * 10, lfh_extra=b"\x00\x00\x00"),  # legacy zipalign zero padding
        Ent("aligned", b"q" * 10, lfh_extra=struct.pack("<HHH", 0xD935, 2, 4)),  # apksigner alignment block
        Ent("broken", b"r" * 10, cd_extra=struct.pack("<HH", 0xCAFE, 40) + b"xx"),
    ]
    a = open_archive(build_zip(ents).data)
    assert of_kind(a, TamperKind.EXTRA_FIELD_ANOMALY) == ["broken"]
    assert [a.read(str(e.name)) for e in ents] == [e.payload for e in ents]


def test_master_key_extra_length_trick() -> None:
    ents = [Ent("classes.dex", b"real", lfh_extra=struct.pack("<HH", 0xCAFE, 0x8000) + bytes(0x8000))]
    a = open_archive(build_zip(ents).data)
    details = [t.detail for t in a.tampering if t.kind == TamperKind.EXTRA_FIELD_ANOMALY]
    assert len(details) == 1 and "9695860" in details[0]
    assert a.read("classes.dex") == b"real"


def test_corrupt_deflate_is_a_located_error() -> None:
    ent = Ent("c.bin", b"hello" * 100, method=8, body=b"\xff" * 40)
    a = open_archive(build_zip([ent]).data, name="c.apk")
    with pytest.raises(ApkError) as exc:
        a.read("c.bin")
    d = exc.value.diagnostics()[0]
    assert (d.file, d.entry) == ("c.apk", "c.bin") and d.offset == a.entries[0].data_offset


def test_entry_data_past_the_end_of_the_file() -> None:
    p = b"stored " * 10
    ents = [Ent("ok", p), Ent("long", p, cd_sizes=(10**6, 10**6), lfh_sizes=(10**6, 10**6))]
    a = open_archive(build_zip(ents).data, name="cut.apk")
    assert "long" in of_kind(a, TamperKind.TRUNCATED)
    assert a.read("ok") == p
    with pytest.raises(ApkError) as exc:
        a.read("long")
    assert exc.value.diagnostics()[0].entry == "long"


def test_archive_is_immutable_and_closes(tmp_path: Path) -> None:
    p = tmp_path / "a.apk"
    p.write_bytes(build_zip(simple()).data)
    a = open_archive(p)
    with pytest.raises(AttributeError):
        a.start_offset = 5  # type: ignore[misc]
    assert a.read("f0.txt") == simple()[0].payload
    assert "entries=2" in repr(a) and "tampering=0" in repr(a)
    a.close()
    a.close()  # idempotent


def test_open_does_linear_work_on_thousands_of_entries() -> None:
    """Opening reads each central record once (overlap and duplicate checks are sorted or
    hashed, never a pass over the entries seen so far): four times the entries, about four
    times the lines executed (counted, not timed: see tests/workcount.py)."""

    def zip_of(n: int) -> bytes:
        return build_zip([Ent(f"res/drawable/icon_{i:05d}.png", b"x" * 64) for i in range(n)]).data

    counts = growth(open_archive, zip_of(1_250), zip_of(5_000))
    assert_linear(counts, 4)
