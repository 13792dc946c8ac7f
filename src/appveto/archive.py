"""Zip access as lenient as Android's installer, with limits, recording every deviation.

This is the one zip reader of appveto: APKs (``appveto.apk``) and IPAs (``appveto.ipa``)
are both read through it, with the same limits. Its observations describe what Android
does with each deviation; the IPA reader keeps the fact and leaves the Android note out.

An APK is read the way Android reads it, not the way ``zipfile`` or ``unzip`` do:

* **Entries come from the central directory (CD)**, never from a scan of local headers.
  Android's ``libziparchive`` (``MapCentralDirectory`` / ``ParseZipArchive`` /
  ``FindEntry`` in ``zip_archive.cc``) finds the end-of-central-directory record (EOCD) by
  scanning backwards from the end of the file over at most 64 KiB + 22 bytes, takes the
  CD offset, size and entry count from it, walks exactly that many CD records, and only
  touches a local file header (LFH) when an entry is opened: to find where its data
  starts (``LFH offset + 30 + LFH name length + LFH extra length``).
* **Compression method, sizes and CRC come from the CD.** Android's resource loader
  (``ApkAssets``/``ZipAssetsProvider``, which is what reads ``AndroidManifest.xml`` and
  ``resources.arsc`` at install time) inflates an entry only when the CD method is 8
  (deflate) and maps everything else as stored, ``uncompressed_size`` bytes long. This is
  why BadPack-style APKs with a bogus method (e.g. 30208) install while jadx, apktool and
  ``zipfile`` fail. :meth:`Archive.read` does the same. (``libziparchive``'s own
  extraction, used for native libraries and by ART for DEX, refuses methods other than
  0 and 8; the observation says so.)
* Android ignores the "encrypted" general-purpose bit (bit 0): the data is read as plain.
* Extra fields are skipped except the zip64 extended-information field (0x0001), which is
  parsed when a CD or LFH size/offset field is 0xFFFFFFFF (Android 11+ supports zip64).
* A data descriptor (flag bit 3) makes Android skip the LFH/CD comparison of sizes and CRC
  and compare the descriptor with the CD after extraction instead.
* The signature verifier (``apksig``: ``ZipUtils``, ``ApkUtils.findZipSections``,
  ``LocalFileRecord``) is stricter still: it accepts an EOCD only when its comment ends
  exactly at the end of the file (so it too prefers a consistent record to a decoy),
  rejects a CD that overlaps the EOCD (and, for v2+ signatures, one the EOCD does not
  immediately follow), and for v1 (JAR) signatures reads each entry through its local
  header, refusing a name mismatch and methods other than stored/deflate.

Android also *rejects* a number of deviations that this reader tolerates so that an analyst
still sees the content (each observation's ``detail`` says what Android does):

* bytes after the EOCD and its comment ("extraneous bytes", ``kInvalidFile``);
* a CD that overlaps the EOCD (``cd_offset + cd_size > eocd_offset``, ``kInvalidOffset``);
* an LFH at or after the CD start ("bad LFH offset");
* a file that does not start with an LFH signature (the Janus fix, CVE-2017-13156,
  Android bug 64211847): a DEX or anything else prepended before the archive;
* duplicate entry names (``kDuplicateEntry``; the "Master Key" family of bugs);
* names that are not valid UTF-8 or contain NUL (``kInvalidEntryName``);
* an LFH whose name, sizes or CRC differ from the CD without a data descriptor
  (``kInconsistentInformation`` when that entry is opened);
* an archive with no entries (``kEmptyArchive``).

The "Master Key" family (2013) lives on in these checks: duplicate names (bug 8219321), a
local extra-field length of 0x8000 or more that Java read as negative (bug 9695860) and a
local name length that differs from the CD's (the follow-up Saurik described) each let the
Java verifier and the native loader read different bytes.

**Duplicate names.** Current Android refuses such an APK outright. Before the Master Key
fixes (Android 4.3/4.4) the Java signature verifier used the *last* entry of a name and the
native loader the *first*, which is what made those bugs exploitable. :meth:`Archive.get`
returns the **first** entry in CD order (the one native code loaded); every duplicate is a
``DUPLICATE_NAME`` observation, and all of them stay in :attr:`Archive.entries`.

**Prepended data (Janus).** CD offsets may be absolute (what Android requires: a Janus APK
rewrites them to account for the prepended DEX) or relative to the start of the archive
(what ``zipfile`` also accepts: the CD is found just before the EOCD and every offset is
shifted). Either way :attr:`Archive.start_offset` is where the zip begins and every offset
in :class:`~appveto.apk.model.ZipEntry` is absolute in :attr:`Archive.data`.

Nothing is ever extracted to disk. Inflation is streaming raw deflate (``zlib``, wbits -15)
with the output capped at the entry's declared size and at :class:`Limits`, so a zip bomb
cannot exhaust memory.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import stat
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType, ModuleType

from appveto.errors import ApkError, LimitExceeded

__all__ = ["Archive", "Limits", "TamperKind", "Tampering", "ZipEntry", "open_archive"]

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB


class TamperKind(StrEnum):
    """Deviations from the zip spec (or from what Android expects) seen while reading."""

    DATA_BEFORE_ARCHIVE = "data-before-archive"  # Janus: bytes prepended before the first local header
    DEX_MAGIC_AT_START = "dex-magic-at-start"  # Janus: the file also parses as a DEX
    TRAILING_DATA = "trailing-data"  # bytes after the end of central directory
    BAD_COMPRESSION_METHOD = "bad-compression-method"  # method not 0/8 (Android treats as stored/deflated)
    METHOD_MISMATCH = "method-mismatch"  # local header method differs from central directory
    SIZE_MISMATCH = "size-mismatch"  # local header sizes differ from central directory
    CRC_MISMATCH = "crc-mismatch"
    NAME_MISMATCH = "name-mismatch"  # local header name differs from central directory
    FAKE_ENCRYPTION = "fake-encryption"  # general-purpose bit 0 set on readable data
    DATA_DESCRIPTOR = "data-descriptor"  # bit 3 set (informational)
    EXTRA_FIELD_ANOMALY = "extra-field-anomaly"  # malformed, oversized or mismatched extra fields
    ZIP64 = "zip64"
    DUPLICATE_NAME = "duplicate-name"
    PATH_TRAVERSAL = "path-traversal"  # '..' components, absolute names, backslashes
    UNUSUAL_NAME = "unusual-name"  # NUL or control characters, very long names
    OVERLAPPING_ENTRIES = "overlapping-entries"
    CD_COUNT_MISMATCH = "cd-count-mismatch"  # EOCD entry count disagrees with the directory
    TRUNCATED = "truncated"  # central directory or an entry runs past the end of the file
    COMMENT_ANOMALY = "comment-anomaly"
    MANIFEST_ANOMALY = "manifest-anomaly"  # binary XML tricks tolerated by Android
    DEX_HEADER_ANOMALY = "dex-header-anomaly"  # header_size, checksum, map tricks
    INFLATE_ERROR = "inflate-error"  # an entry's data could not be inflated
    BAD_LOCAL_HEADER = "bad-local-header"  # no local header where the central directory points
    EMPTY_ARCHIVE = "empty-archive"  # no entries (Android: kEmptyArchive, not installable)


@dataclass(frozen=True, slots=True, order=True)
class Tampering:
    """One observation of a deviation; ``entry`` and ``offset`` say where."""

    kind: TamperKind
    entry: str | None
    offset: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """An entry as the central directory describes it (Android's view)."""

    name: str
    method: int
    """Compression method from the central directory (0 stored, 8 deflate; other values
    are tampering, and Android treats anything not 8 as stored)."""
    compressed_size: int
    uncompressed_size: int
    crc32: int
    flags: int
    local_header_offset: int
    data_offset: int
    """Absolute offset of the entry's data in the file, from the local header."""
    index: int
    """Position in the central directory."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Safety limits applied while opening and reading an archive.

    The defaults accept every real APK we know of (the largest have tens of thousands of
    entries and a few GiB of content) while bounding memory and time on hostile input.
    """

    max_entries: int = 100_000
    """Central-directory entries; more raises :class:`LimitExceeded` at open."""
    max_total_inflated: int = 4 * _GIB
    """Sum of the declared uncompressed sizes; more raises at open. :meth:`Archive.read`
    never returns more than an entry declares, so this also bounds what can be inflated."""
    max_entry_inflated: int = 256 * _MIB
    """Largest single entry :meth:`Archive.read` returns; a larger one raises for that entry."""
    max_ratio: int = 200
    """Largest uncompressed/compressed ratio of a deflated entry of at least
    ``ratio_min_size`` bytes (deflate tops out near 1032:1; real content rarely exceeds
    20:1, sparse binaries a few hundred)."""
    ratio_min_size: int = 8 * _MIB
    """Entries smaller than this are never refused for their ratio: they cannot matter."""


_LFH_SIG = 0x04034B50
_CDH_SIG = 0x02014B50
_EOCD_SIG = 0x06054B50
_Z64_EOCD_SIG = 0x06064B50
_Z64_LOC_SIG = 0x07064B50
_DD_SIG = 0x08074B50

_LFH_MAGIC = b"PK\x03\x04"
_CDH_MAGIC = b"PK\x01\x02"
_EOCD_MAGIC = b"PK\x05\x06"
_DEX_MAGIC = b"dex\n"
_SIG_BLOCK_MAGIC = b"APK Sig Block 42"

_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_CDH = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_LFH = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_Z64_LOC = struct.Struct("<IIQI")  # 20 bytes
_Z64_EOCD = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_TLV = struct.Struct("<HH")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_DD32 = struct.Struct("<III")
_DD64 = struct.Struct("<IQQ")

_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF
_MAX_COMMENT = 0xFFFF
_FLAG_ENCRYPTED = 0x0001
_FLAG_DATA_DESCRIPTOR = 0x0008
_METHOD_STORED = 0
_METHOD_DEFLATED = 8
_ZIP64_EXTRA_ID = 0x0001

_MAX_EOCD_CANDIDATES = 4096
_PER_KIND_CAP = 200
_MAX_NAME_LEN = 1024
_INFLATE_CHUNK = 256 * _KIB


def _load_fast_zlib() -> ModuleType | None:
    """``isal.isal_zlib`` (Intel ISA-L) when installed: the same API and the same bytes as
    ``zlib``, inflating about 2.5 times faster. Optional; ``zlib`` is used without it."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


_FAST_ZLIB = _load_fast_zlib()

_SUSPICIOUS_NAME = re.compile(r"[\x00-\x1f\x7f]")


class _Recorder:
    """Collects observations, at most ``_PER_KIND_CAP`` per kind plus one summary each."""

    __slots__ = ("counts", "items")

    def __init__(self) -> None:
        self.items: list[Tampering] = []
        self.counts: dict[TamperKind, int] = {}

    def add(self, kind: TamperKind, entry: str | None, offset: int | None, detail: str) -> None:
        n = self.counts.get(kind, 0) + 1
        self.counts[kind] = n
        if n <= _PER_KIND_CAP:
            self.items.append(Tampering(kind, entry, offset, detail))

    def result(self) -> tuple[Tampering, ...]:
        out = list(self.items)
        for kind, n in self.counts.items():
            if n > _PER_KIND_CAP:
                out.append(
                    Tampering(
                        kind, None, None, f"{n - _PER_KIND_CAP} more '{kind.value}' observations not listed"
                    )
                )
        return tuple(out)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Archive:
    """An opened APK/zip: its central directory as Android sees it, and what deviates.

    Immutable after construction. Offsets are absolute in :attr:`data`. Build one with
    :func:`open_archive`.
    """

    name: str
    """The file name used in messages."""
    data: bytes | mmap.mmap = field(repr=False)
    """The whole file (a read-only mmap for paths). The signing parser reads the APK
    Signing Block, which sits just before :attr:`cd_offset`, from it."""
    start_offset: int
    """Where the zip begins: the length of data prepended before the first local header."""
    cd_offset: int
    cd_size: int
    eocd_offset: int
    entries: tuple[ZipEntry, ...]
    """Central-directory order, only the records Android reads (the EOCD's count)."""
    tampering: tuple[Tampering, ...]
    limits: Limits = field(default_factory=Limits, repr=False)
    _index: Mapping[str, ZipEntry] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (
            f"Archive(name={self.name!r}, entries={len(self.entries)}, tampering={len(self.tampering)}, "
            f"start_offset={self.start_offset}, cd_offset={self.cd_offset}, cd_size={self.cd_size}, "
            f"eocd_offset={self.eocd_offset})"
        )

    def get(self, name: str) -> ZipEntry | None:
        """The entry named ``name`` (the first in CD order when the name is duplicated)."""
        return self._index.get(name)

    def names(self) -> tuple[str, ...]:
        """Entry names in CD order (duplicates included)."""
        return tuple(e.name for e in self.entries)

    def close(self) -> None:
        """Release the file mapping early (otherwise it goes with the object)."""
        if isinstance(self.data, mmap.mmap) and not self.data.closed:
            # BufferError: a caller still holds a memoryview; the GC unmaps it later
            with contextlib.suppress(BufferError):
                self.data.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, entry: ZipEntry | str, *, max_size: int | None = None) -> bytes:
        """The inflated bytes of ``entry``, as Android would read them.

        The CD method decides: 8 is raw deflate, anything else is stored and
        ``uncompressed_size`` bytes are returned (Android's resource loader). Output is
        capped at the declared size, ``max_size`` and :attr:`Limits.max_entry_inflated`.
        Like Android (``kInconsistentInformation``), a deflate stream that does not end
        exactly at the declared size is an error; unlike Android, bytes left over after the
        end of the stream are ignored (as ``zipfile`` does). The CRC is not checked (Android
        does not either: ``kCrcChecksEnabled = false``).

        Raises :class:`LimitExceeded` (size or ratio over the limits) or
        :class:`ApkError` (no such entry, data outside the file, corrupt deflate stream),
        both naming the file, the entry and the offset.
        """
        entry = self._resolve(entry)
        name = entry.name
        size = entry.uncompressed_size
        cap = (
            self.limits.max_entry_inflated
            if max_size is None
            else min(max_size, self.limits.max_entry_inflated)
        )
        if size > cap:
            which = "max_entry_inflated" if cap == self.limits.max_entry_inflated else "max_size"
            raise LimitExceeded.at(
                f"entry declares {size} bytes uncompressed, over the {which} limit of {cap}",
                file=self.name,
                entry=name,
                offset=entry.local_header_offset,
            )
        start = self._data_start(entry)
        data = self.data
        if entry.method != _METHOD_DEFLATED:
            end = start + size
            if end > len(data):
                raise ApkError.at(
                    f"stored data ({size} bytes) runs past the end of the file",
                    file=self.name,
                    entry=name,
                    offset=start,
                )
            return bytes(data[start:end])
        csize = entry.compressed_size
        if size == 0:
            return b""  # nothing to inflate, whatever the stream holds
        limits = self.limits
        if size >= limits.ratio_min_size and (csize == 0 or size > csize * limits.max_ratio):
            ratio = "infinite" if csize == 0 else f"{size / csize:.0f}:1"
            raise LimitExceeded.at(
                f"compression ratio {ratio} of a {size}-byte entry is over the limit of "
                f"{limits.max_ratio}:1 (zip bomb?)",
                file=self.name,
                entry=name,
                offset=start,
            )
        if start + csize > len(data):
            raise ApkError.at(
                f"compressed data ({csize} bytes) runs past the end of the file",
                file=self.name,
                entry=name,
                offset=start,
            )
        return _inflate(data, start, csize, size, file=self.name, entry=name)

    def read_head(self, entry: ZipEntry | str, n: int) -> bytes:
        """At most the first ``n`` inflated bytes of ``entry`` (magic sniffing without
        inflating the whole entry). Same method rules as :meth:`read`; a stream that ends
        early just gives fewer bytes. Raises :class:`ApkError` like :meth:`read`."""
        entry = self._resolve(entry)
        start = self._data_start(entry)
        want = max(0, min(n, entry.uncompressed_size, self.limits.max_entry_inflated))
        data = self.data
        if entry.method != _METHOD_DEFLATED:
            return bytes(data[start : start + want])
        end = min(start + entry.compressed_size, len(data))
        d = zlib.decompressobj(-15)
        out = bytearray()
        pos = start
        try:
            with memoryview(data) as view:
                while pos < end and len(out) < want and not d.eof:
                    chunk_end = min(pos + 16 * _KIB, end)
                    out += d.decompress(view[pos:chunk_end], want - len(out))
                    pos = chunk_end
        except zlib.error as exc:
            raise ApkError.at(
                f"corrupt deflate data after {len(out)} inflated bytes: {exc}",
                file=self.name,
                entry=entry.name,
                offset=start,
            ) from exc
        return bytes(out[:want])

    def _resolve(self, entry: ZipEntry | str) -> ZipEntry:
        if isinstance(entry, str):
            found = self._index.get(entry)
            if found is None:
                raise ApkError.at("no such entry in the central directory", file=self.name, entry=entry)
            return found
        return entry

    def _data_start(self, entry: ZipEntry) -> int:
        if entry.data_offset < 0:
            raise ApkError.at(
                "entry has no readable local file header (Android cannot open it either)",
                file=self.name,
                entry=entry.name,
                offset=entry.local_header_offset,
            )
        return entry.data_offset


def _inflate(data: bytes | mmap.mmap, start: int, csize: int, size: int, *, file: str, entry: str) -> bytes:
    """Stream raw deflate from ``data[start:start+csize]``; the result must be ``size`` bytes."""
    # The usual case in one call (with ISA-L when installed): the output is capped at
    # size + 1 bytes (one more tells "too long"), so memory stays bounded; anything else
    # takes the streaming path below, which says what went wrong.
    fast = _FAST_ZLIB or zlib
    try:
        with memoryview(data) as view:
            d = fast.decompressobj(-15)
            whole: bytes = d.decompress(view[start : start + csize], size + 1)
        if d.eof and len(whole) == size:
            return whole
    except (zlib.error, fast.error):
        pass
    d = zlib.decompressobj(-15)
    out = bytearray()
    pos = start
    end = start + csize
    try:
        with memoryview(data) as view:
            while pos < end and not d.eof:
                chunk_end = min(pos + _INFLATE_CHUNK, end)
                buf: bytes = d.decompress(view[pos:chunk_end], size - len(out) + 1)
                out += buf
                while d.unconsumed_tail and len(out) <= size and not d.eof:
                    out += d.decompress(d.unconsumed_tail, size - len(out) + 1)
                if len(out) > size:
                    raise ApkError.at(
                        f"deflate stream inflates to more than the declared {size} bytes",
                        file=file,
                        entry=entry,
                        offset=start,
                    )
                pos = chunk_end
    except zlib.error as exc:
        raise ApkError.at(
            f"corrupt deflate data after {len(out)} inflated bytes: {exc}",
            file=file,
            entry=entry,
            offset=start,
        ) from exc
    if len(out) > size:
        raise ApkError.at(
            f"deflate stream inflates to more than the declared {size} bytes",
            file=file,
            entry=entry,
            offset=start,
        )
    if not d.eof:
        raise ApkError.at(
            f"deflate stream is truncated ({len(out)} of {size} bytes inflated)",
            file=file,
            entry=entry,
            offset=start,
        )
    if len(out) != size:
        raise ApkError.at(
            f"deflate stream inflates to {len(out)} bytes, the central directory declares {size}",
            file=file,
            entry=entry,
            offset=start,
        )
    return bytes(out)


# ---------------------------------------------------------------------------- opening


def open_archive(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    limits: Limits = Limits(),  # frozen, so a shared default is safe
) -> Archive:
    """Open a zip/APK from a path (memory-mapped read-only) or from bytes.

    Raises :class:`ApkError` when the input is not a zip at all (no end-of-central-
    directory record, no central directory where it says) and :class:`LimitExceeded`
    when it has more entries or declares more content than ``limits`` allow. Every other
    deviation is tolerated and recorded in :attr:`Archive.tampering`.
    """
    data: bytes | mmap.mmap
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source) if not isinstance(source, bytes) else source
        display = name if name is not None else "<bytes>"
    else:
        path = os.fspath(source)
        display = name if name is not None else path
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise ApkError.at("cannot read the file: Is a directory", file=display)
                if not stat.S_ISREG(st.st_mode):
                    raise ApkError.at(
                        "cannot read the file: not a regular file (a device, pipe or socket)", file=display
                    )
                data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if st.st_size > 0 else b""
            finally:
                os.close(fd)
        except OSError as exc:
            raise ApkError.at(f"cannot read the file: {exc.strerror or exc}", file=display) from exc
    try:
        return _Parser(data, display, limits).parse()
    except BaseException:
        if isinstance(data, mmap.mmap):
            data.close()
        raise


@dataclass(slots=True)
class _Eocd:
    offset: int
    disk: int
    cd_disk: int
    count_disk: int
    count: int
    cd_size: int
    cd_offset: int
    comment_len: int
    zip64_offset: int = -1
    """Offset of the zip64 EOCD record when one is used, else -1."""


class _Parser:
    __slots__ = ("data", "index", "limits", "n", "name", "rec", "spans", "spans_sorted")

    def __init__(self, data: bytes | mmap.mmap, name: str, limits: Limits) -> None:
        self.data = data
        self.name = name
        self.limits = limits
        self.n = len(data)
        self.rec = _Recorder()
        self.index: dict[str, ZipEntry] = {}
        self.spans: list[tuple[int, int, str]] = []
        """(local header offset, end of data, name) of every entry with a local header."""
        self.spans_sorted = True

    def _error(self, message: str, offset: int | None, entry: str | None = None) -> ApkError:
        return ApkError.at(message, file=self.name, entry=entry, offset=offset)

    # ------------------------------------------------------------------ EOCD
    def _find_eocd(self) -> tuple[_Eocd, int, int]:
        """The EOCD to use, its CD start in the file and the offset delta (0: absolute)."""
        data, n = self.data, self.n
        if n < _EOCD.size:
            raise self._error(
                f"not a zip archive: {n} bytes is too small for an end-of-central-directory record", 0
            )
        floor = max(0, n - _MAX_COMMENT - _EOCD.size)
        candidates: list[int] = []
        pos = n - _EOCD.size + 4
        while len(candidates) < _MAX_EOCD_CANDIDATES:
            i = data.rfind(_EOCD_MAGIC, floor, pos)
            if i < 0:
                break
            candidates.append(i)
            pos = i + 3
        if not candidates:
            raise self._error(
                "not a zip archive: no end-of-central-directory record in the last 64 KiB", floor
            )
        # Android takes the signature nearest the end; a record whose comment ends exactly at
        # the end of the file and whose directory is where it says wins here, so that a decoy
        # record planted in a comment or in trailing bytes does not hide the real archive.
        exact: tuple[int, _Eocd, tuple[int, int]] | None = None
        loose: tuple[int, _Eocd, tuple[int, int]] | None = None
        for idx, off in enumerate(candidates):
            cand = self._parse_eocd(off, quiet=True)
            located = self._locate_cd(cand)
            if located is None:
                continue
            if off + _EOCD.size + cand.comment_len == n:
                exact = (idx, cand, located)
                break
            if loose is None:
                loose = (idx, cand, located)
        picked = exact or loose
        if picked is None:
            last = self._parse_eocd(candidates[0], quiet=True)
            raise self._error(
                f"no central directory where the end record says ({last.count} entries at offset "
                f"{last.cd_offset:#x}, {last.cd_size} bytes)",
                last.cd_offset,
            )
        idx, _, located = picked
        if idx > 0:
            self.rec.add(
                TamperKind.COMMENT_ANOMALY,
                None,
                candidates[0],
                f"{idx} end-of-central-directory signature(s) after the real record at {picked[1].offset:#x} "
                "(a decoy in the comment or trailing bytes); Android takes the last one and rejects the file",
            )
        chosen = (picked[1], located[0], located[1])
        eocd = chosen[0]
        self._parse_eocd(eocd.offset, quiet=False)  # record its anomalies once
        return chosen

    def _parse_eocd(self, off: int, *, quiet: bool) -> _Eocd:
        data, n, rec = self.data, self.n, self.rec
        _sig, disk, cd_disk, count_disk, count, cd_size, cd_off, clen = _EOCD.unpack_from(data, off)
        eocd = _Eocd(off, disk, cd_disk, count_disk, count, cd_size, cd_off, clen)
        end = off + _EOCD.size + clen
        if not quiet:
            if end > n:
                rec.add(
                    TamperKind.COMMENT_ANOMALY,
                    None,
                    off,
                    f"archive comment claims {clen} bytes but only {n - off - _EOCD.size} remain; "
                    "Android rejects the file",
                )
            elif end < n:
                tail = bytes(data[end : end + 4])
                rec.add(
                    TamperKind.TRAILING_DATA,
                    None,
                    end,
                    f"{n - end} bytes after the end of central directory and its comment "
                    f"(starting {tail.hex()}); current Android rejects the file (extraneous bytes)",
                )
            if clen and _CDH_MAGIC in data[off + _EOCD.size : min(end, n)]:
                rec.add(
                    TamperKind.COMMENT_ANOMALY,
                    None,
                    off + _EOCD.size,
                    "archive comment contains a central-directory signature (hidden second directory?)",
                )
            if disk != 0 or cd_disk != 0:
                rec.add(
                    TamperKind.CD_COUNT_MISMATCH,
                    None,
                    off,
                    f"end record names disk {disk} / directory disk {cd_disk} (multi-disk fields must be 0)",
                )
            if count_disk != count:
                rec.add(
                    TamperKind.CD_COUNT_MISMATCH,
                    None,
                    off,
                    f"end record counts {count_disk} entries on this disk but {count} in total; "
                    f"Android uses {count}",
                )
        if _U16_MAX in (count_disk, count, clen) or _U32_MAX in (cd_size, cd_off):
            self._read_zip64_eocd(eocd, quiet=quiet)
        return eocd

    def _read_zip64_eocd(self, eocd: _Eocd, *, quiet: bool) -> None:
        data, rec = self.data, self.rec
        loc = eocd.offset - _Z64_LOC.size
        if loc < 0 or _U32.unpack_from(data, loc)[0] != _Z64_LOC_SIG:
            if not quiet:
                rec.add(
                    TamperKind.ZIP64,
                    None,
                    eocd.offset,
                    "end record has zip64 marker values (0xFFFF/0xFFFFFFFF) but no zip64 locator precedes "
                    "it; Android rejects the file, the 32-bit values are used",
                )
            return
        _sig, _disk, z64_off, _disks = _Z64_LOC.unpack_from(data, loc)
        candidates = [z64_off, loc - _Z64_EOCD.size]
        for cand in candidates:
            if 0 <= cand <= loc - _Z64_EOCD.size and _U32.unpack_from(data, cand)[0] == _Z64_EOCD_SIG:
                (_s, _rsize, _vm, _vn, _d, _cdd, count_disk, count, cd_size, cd_off) = _Z64_EOCD.unpack_from(
                    data, cand
                )
                eocd.count = count
                eocd.count_disk = count_disk
                eocd.cd_size = cd_size
                eocd.cd_offset = cd_off
                eocd.zip64_offset = cand
                if not quiet:
                    where = "" if cand == z64_off else f" (the locator points to {z64_off:#x})"
                    rec.add(
                        TamperKind.ZIP64,
                        None,
                        cand,
                        f"zip64 end of central directory at {cand:#x}{where}: {count} entries; "
                        "APKs never need zip64 and Android before 11 cannot open it",
                    )
                return
        if not quiet:
            rec.add(
                TamperKind.ZIP64,
                None,
                loc,
                f"zip64 locator points to {z64_off:#x} where there is no zip64 end record; "
                "Android rejects the file, the 32-bit values are used",
            )

    def _locate_cd(self, eocd: _Eocd) -> tuple[int, int] | None:
        """(absolute CD start, delta of every stored offset) or None when not found."""
        data = self.data
        cd_off = eocd.cd_offset
        end_ref = eocd.zip64_offset if eocd.zip64_offset >= 0 else eocd.offset
        if cd_off + _CDH.size <= end_ref and data[cd_off : cd_off + 4] == _CDH_MAGIC:
            return (cd_off, 0)
        if eocd.count == 0:
            return (min(cd_off, end_ref), 0)
        # offsets relative to the start of the archive: the CD sits just before the end record
        cand = end_ref - eocd.cd_size
        if cand > cd_off and cand + _CDH.size <= end_ref and data[cand : cand + 4] == _CDH_MAGIC:
            # only when the first record's local header is where the shifted offset says
            delta = cand - cd_off
            lfh = _U32.unpack_from(data, cand + 42)[0]
            if lfh == _U32_MAX or data[lfh + delta : lfh + delta + 4] == _LFH_MAGIC:
                return (cand, delta)
        return None

    # ------------------------------------------------------------------ whole archive
    def parse(self) -> Archive:
        data, rec, limits = self.data, self.rec, self.limits
        eocd, cd_start, delta = self._find_eocd()
        if eocd.count > limits.max_entries:
            raise LimitExceeded.at(
                f"the central directory declares {eocd.count} entries, "
                f"over the limit of {limits.max_entries}",
                file=self.name,
                offset=eocd.offset,
            )
        if delta:
            rec.add(
                TamperKind.DATA_BEFORE_ARCHIVE,
                None,
                0,
                f"central directory found at {cd_start:#x}, not at the {eocd.cd_offset:#x} the end record "
                f"says: offsets are relative to an archive that starts {delta} bytes into the file; "
                "Android reads offsets as absolute and rejects it",
            )
        end_ref = eocd.zip64_offset if eocd.zip64_offset >= 0 else eocd.offset
        cd_end = cd_start + eocd.cd_size
        if cd_end > end_ref:
            rec.add(
                TamperKind.TRUNCATED,
                None,
                cd_start,
                f"central directory ({eocd.cd_size} bytes at {cd_start:#x}) overlaps the end record at "
                f"{end_ref:#x} by {cd_end - end_ref} bytes; Android rejects the file (bad offsets)",
            )
        elif cd_end < end_ref and eocd.zip64_offset < 0:
            rec.add(
                TamperKind.TRAILING_DATA,
                None,
                cd_end,
                f"{end_ref - cd_end} bytes between the end of the central directory and its end record "
                "(zipfile-style readers then shift every offset by that much)",
            )
        entries, total = self._read_cd(eocd, cd_start, delta)
        if total > limits.max_total_inflated:
            raise LimitExceeded.at(
                f"entries declare {total} bytes uncompressed in total, over the limit of "
                f"{limits.max_total_inflated}",
                file=self.name,
                offset=cd_start,
            )
        index = self.index
        self._check_overlaps(cd_start)
        start = self._start_offset(entries, cd_start, delta)
        if not entries:
            rec.add(
                TamperKind.EMPTY_ARCHIVE,
                None,
                eocd.offset,
                "the archive has no entries; Android rejects it (kEmptyArchive)",
            )
        return Archive(
            name=self.name,
            data=data,
            start_offset=start,
            cd_offset=cd_start,
            cd_size=eocd.cd_size,
            eocd_offset=eocd.offset,
            entries=entries,
            tampering=rec.result(),
            limits=limits,
            _index=MappingProxyType(index),
        )

    def _duplicate(self, e: ZipEntry, first: ZipEntry) -> None:
        self.rec.add(
            TamperKind.DUPLICATE_NAME,
            e.name,
            e.local_header_offset,
            f"central-directory entry #{e.index} repeats the name of entry #{first.index}; Android "
            "rejects the APK (kDuplicateEntry), this reader uses the first",
        )

    def _start_offset(self, entries: tuple[ZipEntry, ...], cd_start: int, delta: int) -> int:
        head = bytes(self.data[:4])
        if delta:
            start = delta  # already recorded with the relative offsets
        elif head == _LFH_MAGIC:
            start = 0
        else:
            offsets = [e.local_header_offset for e in entries if e.data_offset >= 0]
            start = min(min(offsets) if offsets else cd_start, cd_start)
        if start > 0 and not delta:
            self.rec.add(
                TamperKind.DATA_BEFORE_ARCHIVE,
                None,
                0,
                f"{start} bytes before the first local header (starting {head.hex()}); Android since the "
                "Janus fix (CVE-2017-13156, December 2017) rejects a file that does not start with a "
                "local header",
            )
        if head == _DEX_MAGIC:
            self.rec.add(
                TamperKind.DEX_MAGIC_AT_START,
                None,
                0,
                "the file starts with DEX magic: it is both a DEX and a zip (Janus, CVE-2017-13156); "
                "unpatched Android runs the prepended DEX while verifying the zip's signature",
            )
        return start

    def _check_overlaps(self, cd_start: int) -> None:
        n = self.n
        spans = self.spans if self.spans_sorted else sorted(self.spans)
        prev_end = -1
        prev_name = ""
        for start, end, name in spans:
            if prev_end >= 0 and start > prev_end:
                self._hidden_local_headers(prev_end, start)
            if start < prev_end:
                self.rec.add(
                    TamperKind.OVERLAPPING_ENTRIES,
                    name,
                    start,
                    f"local header at {start:#x} lies inside the data of '{prev_name}' (ends {prev_end:#x}); "
                    "overlapping entries are a zip-bomb and parser-confusion technique",
                )
            if end > prev_end:
                prev_end, prev_name = end, name
            if end > n:
                self.rec.add(
                    TamperKind.TRUNCATED,
                    name,
                    start,
                    f"entry data runs to {end:#x}, past the end of the file ({n:#x})",
                )
            elif end > cd_start:
                self.rec.add(
                    TamperKind.OVERLAPPING_ENTRIES,
                    name,
                    start,
                    f"entry data runs to {end:#x}, past the central directory start {cd_start:#x}; "
                    "Android refuses to open the entry (bad compressed length)",
                )
        if 0 <= prev_end < cd_start:
            self._hidden_local_headers(prev_end, self._signing_block_start(prev_end, cd_start))

    def _signing_block_start(self, floor: int, cd_start: int) -> int:
        """Where the APK Signing Block begins (it ends at the CD), or ``cd_start`` when absent."""
        data = self.data
        if cd_start - 24 >= floor and data[cd_start - 16 : cd_start] == _SIG_BLOCK_MAGIC:
            size = int(_U64.unpack_from(data, cd_start - 24)[0])
            begin = cd_start - 8 - size
            if floor <= begin < cd_start:
                return begin
        return cd_start

    def _hidden_local_headers(self, begin: int, end: int) -> None:
        """Local headers in a gap that no CD record points to: stream readers see them, Android not."""
        data = self.data
        at = data.find(_LFH_MAGIC, begin, end)
        if at < 0 or at + _LFH.size > end:
            return
        nlen = _LFH.unpack_from(data, at)[9]
        name = bytes(data[at + _LFH.size : min(at + _LFH.size + nlen, end, at + _LFH.size + 256)])
        self.rec.add(
            TamperKind.CD_COUNT_MISMATCH,
            name.decode("utf-8", "backslashreplace"),
            at,
            f"local file header at {at:#x} that no central-directory record points to; Android never "
            "sees it, readers that walk local headers (ZipInputStream, streaming unzip) do",
        )

    # ------------------------------------------------------------------ central directory
    def _read_cd(self, eocd: _Eocd, cd_start: int, delta: int) -> tuple[tuple[ZipEntry, ...], int]:
        data, n, rec = self.data, self.n, self.rec
        unpack_cdh = _CDH.unpack_from
        unpack_lfh = _LFH.unpack_from
        index = self.index
        spans = self.spans
        last_lfh = -1
        u32_max = _U32_MAX
        deflated = _METHOD_DEFLATED
        declared = eocd.count
        cd_region_end = cd_start + eocd.cd_size
        hard_cap = self.limits.max_entries
        entries: list[ZipEntry] = []
        hidden: list[str] = []
        total = 0
        dd_count = 0
        dd_first: ZipEntry | None = None
        pos = cd_start
        i = 0
        while True:
            if i >= declared and (pos >= cd_region_end or i >= declared + hard_cap):
                break
            if pos + _CDH.size > n:
                if i < declared:
                    rec.add(
                        TamperKind.TRUNCATED,
                        None,
                        pos,
                        f"central directory ends after {i} of {declared} records (the file ends); "
                        "Android rejects it",
                    )
                break
            fields = unpack_cdh(data, pos)
            if fields[0] != _CDH_SIG:
                if i < declared:
                    rec.add(
                        TamperKind.TRUNCATED,
                        None,
                        pos,
                        f"no central-directory signature for record #{i} of {declared} "
                        f"(found {bytes(data[pos : pos + 4]).hex()}); Android rejects the file",
                    )
                break
            (
                _,
                made_by,
                _needed,
                flags,
                method,
                _mtime,
                _mdate,
                crc,
                csize,
                usize,
                nlen,
                xlen,
                clen,
                _disk,
                _iattr,
                eattr,
                lfh_off,
            ) = fields
            name_at = pos + _CDH.size
            rec_end = name_at + nlen + xlen + clen
            if rec_end > n:
                rec.add(
                    TamperKind.TRUNCATED,
                    None,
                    pos,
                    f"central-directory record #{i} runs past the end of the file; Android rejects it",
                )
                break
            name_end = name_at + nlen
            raw_name = data[name_at:name_end]
            try:
                name = raw_name.decode("utf-8")
            except UnicodeDecodeError:
                name = self._decode_name(raw_name, pos)
                self._check_name(raw_name.decode("utf-8", "replace"), pos, shown=name)
            else:
                if (
                    not name.isascii()
                    or not name.isprintable()
                    or ".." in name
                    or "\\" in name
                    or name[:1] == "/"
                    or not name
                    or len(name) > _MAX_NAME_LEN
                ):
                    self._check_name(name, pos)
            if i >= declared:
                hidden.append(name)
                pos = rec_end
                i += 1
                continue
            if rec_end > cd_region_end and pos < cd_region_end:
                rec.add(
                    TamperKind.TRUNCATED,
                    name,
                    pos,
                    f"central-directory record #{i} runs {rec_end - cd_region_end} bytes past the directory "
                    "size the end record gives",
                )
            if u32_max in (usize, csize, lfh_off):
                usize, csize, lfh_off = self._zip64_extra(
                    data, name_end, xlen, usize, csize, lfh_off, name, pos, need_offset=True
                )
            elif xlen:
                self._check_extra(data, name_end, xlen, name, pos, "central")
            if (
                flags & _FLAG_ENCRYPTED
                or (method != _METHOD_DEFLATED and (method != _METHOD_STORED or csize != usize))
                or (made_by >> 8 == 3 and (eattr >> 16) & 0o170000 == 0o120000)
            ):
                self._cd_anomalies(name, pos, flags, method, csize, usize, made_by, eattr)
            abs_lfh = lfh_off + delta
            # fast path: a local header that agrees with the central directory in every field
            data_offset = -1
            dd = 0
            if abs_lfh + _LFH.size <= n and abs_lfh < cd_start:
                (lsig, _v, lflags, lmethod, _t, _d, lcrc, lcsize, lusize, lnlen, lxlen) = unpack_lfh(
                    data, abs_lfh
                )
                lname_at = abs_lfh + _LFH.size
                data_offset = lname_at + lnlen + lxlen
                dd = lflags & _FLAG_DATA_DESCRIPTOR
                if not (
                    lsig == _LFH_SIG
                    and lflags == flags
                    and lmethod == method
                    and lnlen == nlen
                    and data_offset <= n
                    and (dd or (lcrc == crc and lcsize == csize and lusize == usize))
                    and data[lname_at : lname_at + nlen] == raw_name
                    and (
                        lxlen == 0
                        or (4 <= lxlen < 0x8000 and _TLV.unpack_from(data, lname_at + nlen)[1] + 4 == lxlen)
                    )
                ):
                    data_offset = -2
            if data_offset < 0:
                data_offset, dd = self._read_lfh(
                    abs_lfh, raw_name, name, flags, method, crc, csize, usize, cd_start, pos
                )
            entry = ZipEntry(name, method, csize, usize, crc, flags, abs_lfh, data_offset, i)
            first = index.setdefault(name, entry)
            if first is not entry:
                self._duplicate(entry, first)
            if data_offset >= 0:
                if abs_lfh < last_lfh:
                    self.spans_sorted = False
                last_lfh = abs_lfh
                spans.append(
                    (
                        abs_lfh,
                        data_offset + (csize if method == deflated or csize > usize else usize),
                        name,
                    )
                )
            if dd:
                dd_count += 1
                if dd_first is None:
                    dd_first = entry
                self._check_descriptor(entry)
            entries.append(entry)
            total += usize
            pos = rec_end
            i += 1
        if dd_count and dd_first is not None:
            rec.add(
                TamperKind.DATA_DESCRIPTOR,
                dd_first.name,
                dd_first.local_header_offset,
                f"{dd_count} entries use a trailing data descriptor (flag bit 3; common with old jarsigner "
                "builds; informational)",
            )
        if hidden:
            shown = ", ".join(repr(h) for h in hidden[:5])
            more = f" and {len(hidden) - 5} more" if len(hidden) > 5 else ""
            rec.add(
                TamperKind.CD_COUNT_MISMATCH,
                hidden[0],
                cd_start,
                f"the central directory holds {len(hidden)} record(s) beyond the {declared} the end record "
                f"counts ({shown}{more}); Android never sees them, zipfile-based tools do",
            )
        elif len(entries) < declared:
            rec.add(
                TamperKind.CD_COUNT_MISMATCH,
                None,
                eocd.offset,
                f"the end record counts {declared} entries, the central directory holds {len(entries)}",
            )
        return tuple(entries), total

    def _decode_name(self, raw: bytes, at: int) -> str:
        name = raw.decode("utf-8", "backslashreplace")
        self.rec.add(
            TamperKind.UNUSUAL_NAME,
            name,
            at,
            "entry name is not valid UTF-8 (shown with \\x escapes); Android rejects the APK "
            "(kInvalidEntryName)",
        )
        return name

    def _cd_anomalies(
        self, name: str, pos: int, flags: int, method: int, csize: int, usize: int, made_by: int, eattr: int
    ) -> None:
        rec = self.rec
        if method not in (_METHOD_STORED, _METHOD_DEFLATED):
            rec.add(
                TamperKind.BAD_COMPRESSION_METHOD,
                name,
                pos,
                f"compression method {method} in the central directory; Android's resource loader reads "
                "the entry as stored (uncompressed_size bytes), libziparchive extraction fails",
            )
        elif method == _METHOD_STORED and csize != usize:
            rec.add(
                TamperKind.SIZE_MISMATCH,
                name,
                pos,
                f"stored entry with compressed size {csize} != uncompressed size {usize}; "
                "Android reads uncompressed_size bytes",
            )
        if flags & _FLAG_ENCRYPTED:
            rec.add(
                TamperKind.FAKE_ENCRYPTION,
                name,
                pos,
                "general-purpose bit 0 (encrypted) set in the central directory; Android ignores it and "
                "reads the data as plain, while zipfile/apktool/jadx refuse the entry",
            )
        if made_by >> 8 == 3 and (eattr >> 16) & 0o170000 == 0o120000:
            rec.add(
                TamperKind.UNUSUAL_NAME,
                name,
                pos,
                "entry is marked as a Unix symbolic link (Android reads it as a regular file)",
            )

    def _unusual_length(self, name: str, at: int, entry: str) -> None:
        what = "empty entry name" if not name else f"entry name of {len(name)} characters"
        self.rec.add(TamperKind.UNUSUAL_NAME, entry, at, f"{what} (breaks extraction tools)")

    def _check_name(self, name: str, at: int, shown: str | None = None) -> None:
        rec = self.rec
        entry = name if shown is None else shown
        if "\x00" in name:
            rec.add(
                TamperKind.UNUSUAL_NAME,
                entry,
                at,
                "entry name contains NUL; Android rejects the APK (kInvalidEntryName), C tools truncate it",
            )
        elif _SUSPICIOUS_NAME.search(name):
            rec.add(TamperKind.UNUSUAL_NAME, entry, at, "entry name contains control characters")
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
            rec.add(
                TamperKind.PATH_TRAVERSAL,
                entry,
                at,
                "entry name escapes the extraction directory ('..' component or absolute path; zip-slip); "
                "Android refuses such native-library names, extraction tools may write outside their target",
            )
        elif "\\" in name:
            rec.add(
                TamperKind.PATH_TRAVERSAL,
                entry,
                at,
                "entry name contains a backslash (a path separator for Windows extraction tools)",
            )
        if not name or len(name) > _MAX_NAME_LEN:
            self._unusual_length(name, at, entry)

    def _check_extra(
        self, data: bytes | mmap.mmap, at: int, length: int, name: str, where: int, which: str
    ) -> None:
        """Extra fields are skipped by Android; report only a structure that does not parse."""
        end = at + length
        p = at
        while p + 4 <= end:
            hid, size = _TLV.unpack_from(data, p)
            if (hid == 0 and size == 0) or p + 4 + size > end:
                break
            p += 4 + size
        if p == end or not any(data[p:end]):
            return  # well formed, or zipalign's legacy zero padding
        self.rec.add(
            TamperKind.EXTRA_FIELD_ANOMALY,
            name,
            where,
            f"malformed {which} extra field ({length} bytes): a block at +{p - at} does not fit; "
            "Android skips extra fields, some tools misparse them",
        )

    def _zip64_extra(
        self,
        data: bytes | mmap.mmap,
        at: int,
        length: int,
        usize: int,
        csize: int,
        lfh_off: int,
        name: str,
        where: int,
        *,
        need_offset: bool,
        note: bool = True,
    ) -> tuple[int, int, int]:
        """Resolve 0xFFFFFFFF fields from the zip64 extended-information extra field."""
        end = at + length
        p = at
        while p + 4 <= end:
            hid, size = _TLV.unpack_from(data, p)
            body = p + 4
            if body + size > end:
                break
            if hid == _ZIP64_EXTRA_ID:
                complete = size in (24, 28)
                q = body
                stop = body + size
                values = [usize, csize, lfh_off]
                wanted = [usize == _U32_MAX, csize == _U32_MAX, need_offset and lfh_off == _U32_MAX]
                for k in range(3):
                    if (wanted[k] or complete) and q + 8 <= stop:
                        values[k] = _U64.unpack_from(data, q)[0]
                        q += 8
                    elif wanted[k]:
                        break
                if note:
                    self.rec.add(
                        TamperKind.ZIP64,
                        name,
                        where,
                        "entry sizes or offset come from a zip64 extra field (Android 11+ only)",
                    )
                if any(v == _U32_MAX for v, w in zip(values, wanted, strict=True) if w):
                    self.rec.add(
                        TamperKind.EXTRA_FIELD_ANOMALY,
                        name,
                        where,
                        "zip64 extra field is too short for the 0xFFFFFFFF fields it must resolve; "
                        "Android rejects the entry",
                    )
                return values[0], values[1], values[2]
            p = body + size
        self.rec.add(
            TamperKind.EXTRA_FIELD_ANOMALY,
            name,
            where,
            "a size or offset is 0xFFFFFFFF but there is no zip64 extra field; Android rejects the file",
        )
        return usize, csize, lfh_off

    # ------------------------------------------------------------------ local headers
    def _read_lfh(
        self,
        off: int,
        raw_name: bytes,
        name: str,
        cd_flags: int,
        cd_method: int,
        cd_crc: int,
        cd_csize: int,
        cd_usize: int,
        cd_start: int,
        cd_pos: int,
    ) -> tuple[int, int]:
        """Data offset (-1 when there is no local header) and the data-descriptor flag (bit 3)."""
        data, n, rec = self.data, self.n, self.rec
        if off + _LFH.size > n or data[off : off + 4] != _LFH_MAGIC:
            found = bytes(data[off : off + 4]).hex() if off + 4 <= n else "end of file"
            rec.add(
                TamperKind.BAD_LOCAL_HEADER,
                name,
                off,
                f"no local file header where the central directory points ({found}); "
                "Android cannot open the entry",
            )
            return -1, 0
        (_sig, _ver, flags, method, _mt, _md, crc, csize, usize, nlen, xlen) = _LFH.unpack_from(data, off)
        if off >= cd_start:
            rec.add(
                TamperKind.BAD_LOCAL_HEADER,
                name,
                off,
                f"local header at {off:#x} is not before the central directory ({cd_start:#x}); "
                "Android rejects the file (bad LFH offset)",
            )
        name_at = off + _LFH.size
        data_offset = name_at + nlen + xlen
        if data_offset > n:
            rec.add(
                TamperKind.TRUNCATED,
                name,
                off,
                "local header name/extra fields run past the end of the file",
            )
            return -1, 0
        if nlen != len(raw_name) or data[name_at : name_at + nlen] != raw_name:
            local = bytes(data[name_at : name_at + nlen]).decode("utf-8", "backslashreplace")
            rec.add(
                TamperKind.NAME_MISMATCH,
                name,
                off,
                f"local header names the entry {local!r}; Android opens by the central-directory name and "
                "fails the entry (kInconsistentInformation); tools walking local headers see this name",
            )
        if xlen >= 0x8000:
            rec.add(
                TamperKind.EXTRA_FIELD_ANOMALY,
                name,
                off,
                f"local extra field of {xlen} bytes (>= 0x8000): Android bug 9695860, where Java read the "
                "length as a negative 16-bit value and verified other bytes than the native loader ran",
            )
        if xlen and _U32_MAX not in (usize, csize):
            self._check_extra(data, name_at + nlen, xlen, name, off, "local")
        dd = flags & _FLAG_DATA_DESCRIPTOR
        if dd != cd_flags & _FLAG_DATA_DESCRIPTOR:
            rec.add(
                TamperKind.DATA_DESCRIPTOR,
                name,
                off,
                f"data-descriptor flag (bit 3) is {'set' if dd else 'clear'} in the local header but "
                f"{'set' if cd_flags & _FLAG_DATA_DESCRIPTOR else 'clear'} in the central directory; "
                "Android follows the local header",
            )
        if (flags & _FLAG_ENCRYPTED) and not (cd_flags & _FLAG_ENCRYPTED):
            rec.add(
                TamperKind.FAKE_ENCRYPTION,
                name,
                off,
                "general-purpose bit 0 (encrypted) set in the local header only; Android ignores it",
            )
        if method != cd_method:
            rec.add(
                TamperKind.METHOD_MISMATCH,
                name,
                off,
                f"local header says compression method {method}, the central directory {cd_method}; "
                "Android uses the central directory",
            )
        if not dd:
            if usize == _U32_MAX and csize == _U32_MAX:
                usize, csize, _ = self._zip64_extra(
                    data, name_at + nlen, xlen, usize, csize, 0, name, off, need_offset=False, note=False
                )
            if csize != cd_csize or usize != cd_usize:
                rec.add(
                    TamperKind.SIZE_MISMATCH,
                    name,
                    off,
                    f"local header sizes {csize}/{usize} (compressed/uncompressed) differ from the central "
                    f"directory's {cd_csize}/{cd_usize}; Android fails the entry (kInconsistentInformation), "
                    "this reader uses the central directory",
                )
            if crc != cd_crc:
                rec.add(
                    TamperKind.CRC_MISMATCH,
                    name,
                    off,
                    f"local header CRC {crc:#010x} differs from the central directory's {cd_crc:#010x}; "
                    "Android fails the entry (kInconsistentInformation)",
                )
        return data_offset, dd

    def _check_descriptor(self, e: ZipEntry) -> None:
        """Android compares the descriptor after the data with the central directory."""
        data, n = self.data, self.n
        at = e.data_offset + (e.compressed_size if e.method != _METHOD_STORED else e.uncompressed_size)
        if at + 4 > n:
            self.rec.add(TamperKind.TRUNCATED, e.name, at, "data descriptor runs past the end of the file")
            return
        p = at + 4 if _U32.unpack_from(data, at)[0] == _DD_SIG else at
        wide = e.compressed_size >= _U32_MAX or e.uncompressed_size >= _U32_MAX
        layout = _DD64 if wide else _DD32
        if p + layout.size > n:
            self.rec.add(TamperKind.TRUNCATED, e.name, at, "data descriptor runs past the end of the file")
            return
        crc, csize, usize = layout.unpack_from(data, p)
        if csize != e.compressed_size or usize != e.uncompressed_size:
            self.rec.add(
                TamperKind.SIZE_MISMATCH,
                e.name,
                at,
                f"data descriptor sizes {csize}/{usize} differ from the central directory's "
                f"{e.compressed_size}/{e.uncompressed_size}; Android fails the entry",
            )
        if crc != e.crc32:
            self.rec.add(
                TamperKind.CRC_MISMATCH,
                e.name,
                at,
                f"data descriptor CRC {crc:#010x} differs from the central directory's {e.crc32:#010x}; "
                "Android fails the entry",
            )
