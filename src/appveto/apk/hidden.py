"""Hidden payloads: code kept in an APK in a simple encoding, found and decoded statically.

Droppers and packers keep their real code where Android does not load it from: in
``assets/``, ``res/raw/``, resource strings, DEX string literals (whole or split into
chunks that the code joins), or appended to an image or another file; and in a simple
encoding so that no magic number or entropy flag gives it away: base64 (standard or
URL-safe), hex, single- or multi-byte XOR, gzip/zlib, or a chain of these.

:func:`find_hidden` looks in those places and peels encodings off, one layer at a time,
until a DEX, a zip (APK/JAR) or an ELF file appears. XOR keys come from the app's own
string constants or from known plaintext (the fixed bytes of a DEX header, including its
``file_size``, ``header_size`` and ``endian_tag``; the zip local-header and ELF magics;
the base64 forms of those magics). Nothing is executed; everything happens in memory.

All of it runs within a :class:`DecodeBudget` counted in bytes read, bytes produced and
decoding steps per APK (never wall-clock time). What the budget stops, and what looks
like a payload but does not decode, is returned as :class:`Undecoded` with its place, so
that the scan says what it could not read. This module parses; it judges nothing.
"""

from __future__ import annotations

import binascii
import math
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from appveto.apk.model import Apk, DexFile, DexLocation, NativeLib, ZipEntry
from appveto.errors import ApkError

__all__ = [
    "BudgetUse",
    "DecodeBudget",
    "HiddenPayload",
    "HiddenScan",
    "PayloadKind",
    "Undecoded",
    "decode_blob",
    "find_hidden",
]

_MIB = 1024 * 1024
_MIN_UNDECODED = 8 * 1024
"""Decoded data of no known format is reported from this size on: a smaller blob (a key,
a certificate, a token) is no code."""


@dataclass(frozen=True, slots=True)
class DecodeBudget:
    """The fixed work allowed per APK for finding and decoding hidden payloads."""

    max_input_bytes: int = 96 * _MIB
    """Bytes of archive entries and strings examined, in total."""
    max_entry_bytes: int = 32 * _MIB
    """Largest single candidate read whole (a larger one is sniffed, then noted)."""
    max_output_bytes: int = 128 * _MIB
    """Bytes produced by every decoding step together (a zip bomb stops here)."""
    max_steps: int = 4000
    """Decoding attempts (one encoding tried on one blob)."""
    max_depth: int = 5
    """Layers of encoding peeled off one payload."""
    max_payloads: int = 32
    """Decoded payloads kept."""
    max_keys: int = 4096
    """Candidate XOR keys taken from the app's string constants."""

    def describe(self) -> str:
        return (
            f"{self.max_input_bytes // _MIB} MiB read, {self.max_output_bytes // _MIB} MiB decoded, "
            f"{self.max_steps} steps, {self.max_depth} layers per APK"
        )


@dataclass(slots=True)
class BudgetUse:
    """What one :func:`find_hidden` call spent (mutable while it runs)."""

    budget: DecodeBudget
    input_bytes: int = 0
    output_bytes: int = 0
    steps: int = 0
    exhausted: str | None = None

    def read(self, n: int) -> bool:
        if self.input_bytes + n > self.budget.max_input_bytes:
            self._stop(f"input budget of {self.budget.max_input_bytes // _MIB} MiB reached")
            return False
        self.input_bytes += n
        return True

    def step(self) -> bool:
        self.steps += 1
        if self.steps > self.budget.max_steps:
            self._stop(f"step budget of {self.budget.max_steps} reached")
            return False
        return True

    def room(self) -> int:
        """Output bytes still allowed."""
        return max(0, self.budget.max_output_bytes - self.output_bytes)

    def produce(self, n: int) -> None:
        self.output_bytes += n

    def _stop(self, why: str) -> None:
        if self.exhausted is None:
            self.exhausted = why

    def describe(self) -> str:
        b = self.budget
        text = (
            f"read {self.input_bytes:,} of {b.max_input_bytes:,} bytes, decoded {self.output_bytes:,} of "
            f"{b.max_output_bytes:,} bytes, {self.steps} of {b.max_steps} steps"
        )
        return text + (f"; stopped: {self.exhausted}" if self.exhausted else "")


class PayloadKind(StrEnum):
    DEX = "dex"
    ZIP = "zip"
    ELF = "elf"


@dataclass(frozen=True, slots=True)
class HiddenPayload:
    """Code found hidden in the APK and decoded."""

    source: str
    """Where it was: an entry (``assets/x``), ``entry@offset`` for appended data,
    ``classes.dex string "..."`` or several sources joined with ``+`` for chunks."""
    encodings: tuple[str, ...]
    """The layers peeled off, outermost first (``base64``, ``xor key 'k'``, ``zlib``...)."""
    kind: PayloadKind
    data: bytes = field(repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def origin(self) -> str:
        """``assets/x (base64, zlib)``: what a person reads in evidence."""
        how = ", ".join(self.encodings) if self.encodings else "stored as is"
        return f"{self.source} ({how})"


@dataclass(frozen=True, slots=True)
class Undecoded:
    """Something that looks like a hidden payload and could not be decoded."""

    source: str
    reason: str
    size: int


@dataclass(frozen=True, slots=True)
class HiddenCode:
    """One readable piece of code inside a decoded payload: a DEX (with its bytes, for the
    bytecode reader) or an ELF library."""

    origin: str
    """Where it came from and how it was encoded: ``assets/x (base64)``, with
    ``!classes.dex`` for a DEX inside a decoded zip."""
    dex: DexFile | None = None
    native: NativeLib | None = None
    data: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class HiddenScan:
    payloads: tuple[HiddenPayload, ...]
    code: tuple[HiddenCode, ...]
    undecoded: tuple[Undecoded, ...]
    budget: DecodeBudget
    spent: str
    """The budget used, as a sentence (stated in the scan result)."""
    exhausted: str | None = None


# ------------------------------------------------------------------- sniffing

_DEX_MAGIC = re.compile(rb"dex\n0[0-9]{2}\x00")
_ZIP_MAGIC = b"PK\x03\x04"
_ELF_MAGIC = b"\x7fELF"
_GZIP_MAGIC = b"\x1f\x8b\x08"
_B64_CHARS = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")
_HEX_CHARS = re.compile(rb"[0-9A-Fa-f\s]+")
_WS = re.compile(rb"\s+")
# base64 forms of the magics (any alignment of the first byte is the start of the text)
_B64_MAGICS = (b"ZGV4CjAz", b"UEsDB", b"f0VMR", b"H4sI", b"eJ")
_HEX_MAGICS = (b"6465780a303", b"504b0304", b"7f454c46", b"1f8b08")

_STANDARD_NAMES = re.compile(
    r"classes\d*\.dex|AndroidManifest\.xml|resources\.arsc|META-INF/.*|lib/[^/]+/[^/]+\.so"
)


def kind_of(data: bytes) -> PayloadKind | None:
    head = bytes(data[:8])
    if _DEX_MAGIC.match(head):
        return PayloadKind.DEX
    if head.startswith(_ZIP_MAGIC):
        return PayloadKind.ZIP
    if head.startswith(_ELF_MAGIC) and len(data) >= 52:
        return PayloadKind.ELF
    return None


def _xor(data: bytes, key: bytes) -> bytes:
    """``data`` XOR ``key`` repeated, at C speed (one big-integer operation)."""
    n = len(data)
    if not n:
        return b""
    stream = (key * (n // len(key) + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def _dex_tables(size: int) -> list[dict[int, int]]:
    """Byte positions of a DEX header whose values are known without the key: the magic,
    ``file_size`` (the payload's length), ``header_size``, ``endian_tag`` and
    ``string_ids_off`` (right after the header as d8 and dx write it); variants without
    the fields a packer may have changed."""
    base = dict(enumerate(b"dex\n03"))
    base[7] = 0
    base.update(enumerate(struct.pack("<II", 0x70, 0x12345678), 36))
    with_size = dict(base)
    with_size.update(enumerate(struct.pack("<I", size), 32))
    strings_off = dict(enumerate(struct.pack("<I", 0x70), 60))
    return [{**with_size, **strings_off}, with_size, {**base, **strings_off}, base]


_OTHER_KNOWN = (
    dict(enumerate(_ZIP_MAGIC)),
    dict(enumerate(_ELF_MAGIC)),
    dict(enumerate(_GZIP_MAGIC)),
    *(dict(enumerate(m)) for m in _B64_MAGICS[:3]),
)


def _known_plaintext_keys(head: bytes, total: int, max_len: int = 32) -> Iterator[bytes]:
    """XOR keys (shortest period first) under which a blob of ``total`` bytes starting with
    ``head`` starts like a known format."""
    seen: set[bytes] = set()
    tables = [t for t in (*_dex_tables(total), *_OTHER_KNOWN) if len(head) > max(t)]
    for period in range(1, max_len + 1):
        for known in tables:
            if len(known) < period + 2:
                continue  # fewer than two known bytes left to check the key: any data would fit
            key: list[int | None] = [None] * period
            ok = True
            for pos, plain in known.items():
                k = head[pos] ^ plain
                slot = key[pos % period]
                if slot is None:
                    key[pos % period] = k
                elif slot != k:
                    ok = False
                    break
            if not ok or any(k is None for k in key):
                continue
            kb = bytes(k for k in key if k is not None)
            if (
                not any(kb)
                or kb in seen
                or any(kb == kb[:p] * (period // p) for p in range(1, period) if period % p == 0)
            ):
                continue  # a zero key is no encoding; a repeated key was tried at its period
            seen.add(kb)
            yield kb


_MAGIC_PREFIXES = (b"dex\n", _ZIP_MAGIC, _ELF_MAGIC, b"\x1f\x8b\x08\x00", *(m[:4] for m in _B64_MAGICS[:3]))


def key_index(keys: Iterable[bytes]) -> dict[bytes, list[bytes]]:
    """Keys by their first four bytes (repeated): a blob's head XOR a magic is looked up."""
    out: dict[bytes, list[bytes]] = {}
    for k in keys:
        if k:
            out.setdefault((k * 4)[:4], []).append(k)
    return out


# ------------------------------------------------------------------- decoding


@dataclass(slots=True)
class _Ctx:
    use: BudgetUse
    key_table: Callable[[], dict[bytes, list[bytes]]]
    found: list[HiddenPayload]
    undecoded: list[Undecoded]
    seen: set[int] = field(default_factory=set)
    _keys: dict[bytes, list[bytes]] | None = None

    @property
    def keys(self) -> dict[bytes, list[bytes]]:
        """The XOR key table, built on first use."""
        if self._keys is None:
            self._keys = self.key_table()
        return self._keys


def _layers(blob: bytes, ctx: _Ctx) -> Iterator[tuple[str, bytes]]:
    """Each way one encoding layer can be peeled off ``blob`` (bounded)."""
    room = ctx.use.room()
    head = bytes(blob[:64])
    if head.startswith(_GZIP_MAGIC) or (
        len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0
    ):
        wbits = 31 if head.startswith(_GZIP_MAGIC) else 15
        name = "gzip" if wbits == 31 else "zlib"
        if ctx.use.step():
            d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(blob, room + 1)
            except zlib.error:
                out = b""
            if len(out) > room:
                ctx.use.produce(room)
                ctx.use._stop(f"output budget of {ctx.use.budget.max_output_bytes // _MIB} MiB reached")
                raise _OverBudget(f"{name} stream expands past the decoding budget (zip bomb?)")
            ctx.use.produce(len(out))
            if out:
                yield name, out
    stripped_head = _WS.sub(b"", head)
    b64_text = len(stripped_head) >= 8 and _B64_CHARS.fullmatch(head) and not _HEX_CHARS.fullmatch(head[:32])
    if b64_text and (any(m in stripped_head[:12] for m in _B64_MAGICS) or _plausible_b64(blob)):
        decoded = _b64(blob, ctx)
        if decoded is not None:
            yield decoded
    if len(stripped_head) >= 8 and _HEX_CHARS.fullmatch(head) and ctx.use.step():
        text = _WS.sub(b"", blob)
        if len(text) // 2 <= room:
            try:
                out_h = binascii.unhexlify(text[: len(text) & ~1])
            except binascii.Error:
                out_h = b""
            ctx.use.produce(len(out_h))
            if out_h:
                yield "hex", out_h
        else:
            raise _OverBudget("hex text decodes past the decoding budget")
    # XOR: keys from the app's constants, then known plaintext
    if len(blob) >= 16 and _B64_CHARS.fullmatch(head) is None:
        candidates = [k for m in _MAGIC_PREFIXES for k in ctx.keys.get(_xor(head[:4], m), ())]
        for key in dict.fromkeys(candidates):
            if not valid_start(_xor(head, key)):
                continue
            if not ctx.use.step() or len(blob) > room:
                break
            ctx.use.produce(len(blob))
            yield _key_label(key, "a string constant of the app"), _xor(blob, key)
        for key in _known_plaintext_keys(head, len(blob)):
            if not ctx.use.step() or len(blob) > room:
                break
            if not valid_start(_xor(head, key)):
                continue
            ctx.use.produce(len(blob))
            yield _key_label(key, "known plaintext"), _xor(blob, key)


def valid_start(head: bytes) -> bool:
    """``head`` (64 bytes or the whole blob) starts like a DEX, zip, ELF, gzip stream or
    base64 text beyond its magic: what an XOR key must produce to be believed (four bytes
    of magic alone match any data under some four-byte key)."""
    if _DEX_MAGIC.match(head[:8]):
        return len(head) < 44 or head[36:44] == struct.pack("<II", 0x70, 0x12345678)
    if head.startswith(_ZIP_MAGIC) and len(head) >= 30:
        version, _flags, method = struct.unpack_from("<HHH", head, 4)
        name_len = struct.unpack_from("<H", head, 26)[0]
        name = head[30 : 30 + min(name_len, 16)]
        return (
            version <= 63 and method in (0, 8) and 0 < name_len <= 1024 and all(32 <= b < 127 for b in name)
        )
    if head.startswith(_ELF_MAGIC) and len(head) >= 20:
        return head[4] in (1, 2) and head[5] in (1, 2) and head[6] == 1 and head[16] in (1, 2, 3, 4)
    if head.startswith(_GZIP_MAGIC) and len(head) >= 10:
        return head[3] < 32 and head[8] in (0, 2, 4) and (head[9] <= 13 or head[9] == 255)
    if head.startswith(_B64_MAGICS[:3]):
        return _B64_CHARS.fullmatch(head[:64]) is not None
    return False


def _key_label(key: bytes, how: str) -> str:
    shown = key.decode("latin-1") if all(32 <= b < 127 for b in key) else key.hex()
    kind = "single-byte" if len(key) == 1 else f"{len(key)}-byte"
    return f"xor {kind} key '{shown}' ({how})"


def _plausible_b64(blob: bytes) -> bool:
    sample = _WS.sub(b"", bytes(blob[:4096]))
    if len(sample) < 64:
        return False
    # mixed case and digits: base64 of binary data (not a word list or a number)
    return bool(
        re.search(rb"[a-z]", sample) and re.search(rb"[A-Z]", sample) and re.search(rb"[0-9]", sample)
    )


def _b64(blob: bytes, ctx: _Ctx) -> tuple[str, bytes] | None:
    if not ctx.use.step():
        return None
    text = _WS.sub(b"", blob)
    if len(text) * 3 // 4 > ctx.use.room():
        raise _OverBudget("base64 text decodes past the decoding budget")
    url = b"-" in text or b"_" in text
    text = text.rstrip(b"=")
    text = text[: len(text) - (len(text) % 4 == 1)]
    text += b"=" * (-len(text) % 4)
    try:
        out = binascii.a2b_base64(
            text.translate(bytes.maketrans(b"-_", b"+/")) if url else text, strict_mode=False
        )
    except binascii.Error:
        return None
    ctx.use.produce(len(out))
    return ("base64url" if url else "base64"), out


class _OverBudget(Exception):
    pass


def decode_blob(blob: bytes, source: str, ctx: _Ctx, encodings: tuple[str, ...] = (), depth: int = 0) -> bool:
    """Peel layers off ``blob`` until a DEX/zip/ELF appears; record it. True when found."""
    kind = kind_of(blob)
    if kind is not None:
        if encodings or depth == 0:
            key = hash(bytes(blob[:4096])) ^ len(blob)
            if key not in ctx.seen and len(ctx.found) < ctx.use.budget.max_payloads:
                ctx.seen.add(key)
                ctx.found.append(HiddenPayload(source, encodings, kind, bytes(blob)))
        return True
    if depth >= ctx.use.budget.max_depth:
        if encodings:
            ctx.undecoded.append(
                Undecoded(
                    source,
                    f"still encoded after {depth} layers ({', '.join(encodings)}): depth limit",
                    len(blob),
                )
            )
        return False
    try:
        for name, out in _layers(blob, ctx):
            if out == blob:
                continue
            if decode_blob(out, source, ctx, (*encodings, name), depth + 1):
                return True
            if ctx.use.exhausted:
                break
    except _OverBudget as exc:
        ctx.undecoded.append(Undecoded(source, f"{exc}; {', '.join(encodings) or 'outer layer'}", len(blob)))
        return False
    if encodings and len(blob) >= _MIN_UNDECODED and _entropy(bytes(blob[:65536])) > 7.2:
        ctx.undecoded.append(
            Undecoded(
                source,
                f"decodes ({', '.join(encodings)}) to {len(blob):,} bytes of high-entropy data of no known "
                "format (encrypted?)",
                len(blob),
            )
        )
    return False


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


# ------------------------------------------------------------------- finding


def _candidate_entries(apk: Apk) -> list[ZipEntry]:
    out = []
    for e in apk.entries:
        if e.name.endswith("/") or _STANDARD_NAMES.fullmatch(e.name):
            continue
        if e.uncompressed_size < 64:
            continue
        out.append(e)
    # assets and raw resources first, then the rest, smaller first: a budget spent on one
    # huge file must not hide many small payloads
    out.sort(key=lambda e: (not e.name.startswith(("assets/", "res/raw/")), e.uncompressed_size, e.name))
    return out


_APPENDED = re.compile(rb"dex\n0[0-9]{2}\x00|PK\x03\x04|\x7fELF[\x01\x02]")


def find_hidden(
    apk: Apk,
    *,
    strings: Iterable[tuple[str, str]] = (),
    keys: Iterable[str] | Callable[[], Iterable[str]] = (),
    budget: DecodeBudget | None = None,
) -> HiddenScan:
    """Find and decode payloads hidden in ``apk``.

    ``strings`` are (where, text) candidates from the code (long literals, joined chunks),
    ``keys`` the app's short string constants (candidate XOR keys), or a function giving
    them (called only when a blob needs XOR keys).
    """
    budget = budget or DecodeBudget()
    use = BudgetUse(budget)

    def key_table() -> dict[bytes, list[bytes]]:
        key_list: list[bytes] = []
        for k in keys() if callable(keys) else keys:
            if 1 <= len(k) <= 64:
                try:
                    key_list.append(k.encode("latin-1"))
                except UnicodeEncodeError:
                    key_list.append(k.encode("utf-8"))
                if len(key_list) >= budget.max_keys:
                    break
        return key_index(dict.fromkeys(key_list))

    ctx = _Ctx(use, key_table, [], [])
    joined = _chunked_entries(apk, ctx)
    for e in _candidate_entries(apk):
        if e.name in joined:
            continue
        if use.exhausted:
            ctx.undecoded.append(Undecoded(e.name, f"not examined: {use.exhausted}", e.uncompressed_size))
            continue
        _examine_entry(apk, e, ctx)
    for where, text in strings:
        if use.exhausted:
            break
        raw = text.encode("latin-1", "replace")
        if not use.read(len(raw)):
            break
        decode_blob(raw, where, ctx)
    for i, text in enumerate(apk.resource_strings):
        if (
            len(text) >= 256
            and not use.exhausted
            and _B64_CHARS.fullmatch(text[:256].encode("latin-1", "replace"))
        ):
            raw = text.encode("latin-1", "replace")
            if use.read(len(raw)):
                decode_blob(raw, f"resources.arsc string #{i}", ctx)
    code: list[HiddenCode] = []
    kept: list[HiddenPayload] = []
    for p in ctx.found:
        pieces = _read_payload(p, ctx)
        if pieces or p.encodings:
            kept.append(p)
            code.extend(pieces)
    return HiddenScan(
        tuple(kept), tuple(code), tuple(_dedupe(ctx.undecoded)), budget, use.describe(), use.exhausted
    )


def _read_payload(p: HiddenPayload, ctx: _Ctx) -> list[HiddenCode]:
    """The DEX files and ELF library a decoded payload holds, read by the same readers."""
    from appveto.apk.archive import Limits, open_archive
    from appveto.apk.dex import looks_like_dex, parse_dex
    from appveto.apk.native import parse_native

    out: list[HiddenCode] = []
    if p.kind is PayloadKind.DEX:
        try:
            dex = parse_dex(p.data, entry=p.source, location=DexLocation.HIDDEN)
        except ApkError as exc:
            ctx.undecoded.append(
                Undecoded(p.source, f"decoded DEX unreadable: {exc.diagnostics()[0].message}", p.size)
            )
        else:
            out.append(HiddenCode(p.origin, dex=dex, data=p.data))
    elif p.kind is PayloadKind.ELF:
        out.append(HiddenCode(p.origin, native=parse_native(p.source, p.data), data=p.data))
    else:
        room = ctx.use.room()
        limits = Limits(
            max_entry_inflated=max(1, min(room, ctx.use.budget.max_entry_bytes)), max_total_inflated=1 << 40
        )
        try:
            inner = open_archive(p.data, name=p.source, limits=limits)
        except ApkError as exc:
            ctx.undecoded.append(
                Undecoded(p.source, f"decoded zip unreadable: {exc.diagnostics()[0].message}", p.size)
            )
            return out
        for ie in inner.entries:
            if len(out) >= ctx.use.budget.max_payloads:
                break
            name = ie.name.lower()
            if not name.endswith((".dex", ".jar", ".apk")) and not name.startswith("classes"):
                continue
            where = f"{p.source}!{ie.name}"
            if ie.uncompressed_size > ctx.use.room():
                ctx.use._stop(f"output budget of {ctx.use.budget.max_output_bytes // _MIB} MiB reached")
                ctx.undecoded.append(
                    Undecoded(
                        where,
                        f"{ie.uncompressed_size:,} bytes: past the decoding budget (zip bomb?)",
                        ie.uncompressed_size,
                    )
                )
                continue
            try:
                blob = inner.read(ie)
            except ApkError as exc:
                ctx.undecoded.append(
                    Undecoded(where, f"unreadable: {exc.diagnostics()[0].message}", ie.uncompressed_size)
                )
                continue
            ctx.use.produce(len(blob))
            if not looks_like_dex(blob):
                continue
            try:
                dex = parse_dex(blob, entry=where, location=DexLocation.HIDDEN)
            except ApkError as exc:
                ctx.undecoded.append(
                    Undecoded(where, f"DEX unreadable: {exc.diagnostics()[0].message}", len(blob))
                )
                continue
            out.append(HiddenCode(f"{p.origin}!{ie.name}", dex=dex, data=blob))
    return out


def _dedupe(items: list[Undecoded]) -> list[Undecoded]:
    seen: set[str] = set()
    out = []
    for u in items:
        if u.source not in seen:
            seen.add(u.source)
            out.append(u)
    return out


def _examine_entry(apk: Apk, e: ZipEntry, ctx: _Ctx) -> None:
    use = ctx.use
    budget = use.budget
    archive = apk.archive
    try:
        if e.uncompressed_size > budget.max_entry_bytes:
            head = archive.read_head(e, 4096)
            use.read(len(head))
            if kind_of(head) is not None or _looks_encoded(head):
                ctx.undecoded.append(
                    Undecoded(
                        e.name,
                        f"{e.uncompressed_size:,} bytes that look like an encoded payload: larger than the "
                        f"{budget.max_entry_bytes // _MIB} MiB a candidate may be decoded from",
                        e.uncompressed_size,
                    )
                )
            return
        if not use.read(e.uncompressed_size):
            ctx.undecoded.append(Undecoded(e.name, f"not examined: {use.exhausted}", e.uncompressed_size))
            return
        data = archive.read(e, max_size=budget.max_entry_bytes)
    except ApkError as exc:
        ctx.undecoded.append(
            Undecoded(e.name, f"unreadable: {exc.diagnostics()[0].message}", e.uncompressed_size)
        )
        return
    if kind_of(data) is not None:
        # a plain DEX/zip/ELF stored under another name: read as it is (zips are searched
        # for DEX inside by the caller)
        decode_blob(data, e.name, ctx)
        return
    if _looks_encoded(data[:4096]) and decode_blob(data, e.name, ctx):
        return
    # appended to another file: a magic past the start
    for m in _APPENDED.finditer(data, 1):
        if not use.step():
            break
        blob = data[m.start() :]
        if decode_blob(blob, f"{e.name}@{m.start()}", ctx):
            break
    for marker in (*_B64_MAGICS[:3], *_HEX_MAGICS[:3]):
        pos = data.find(marker, 1)
        if pos > 0 and use.step():
            end = pos
            chars = _HEX_CHARS if marker in _HEX_MAGICS else _B64_CHARS
            mt = chars.match(data, pos)
            if mt is not None:
                end = mt.end()
            if end - pos >= 64:
                decode_blob(data[pos:end], f"{e.name}@{pos}", ctx)


def _looks_encoded(head: bytes) -> bool:
    """Text of one encoding alphabet, a compressed stream, or no known format at all."""
    if not head:
        return False
    if head.startswith(_GZIP_MAGIC) or (
        len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0
    ):
        return True
    if _B64_CHARS.fullmatch(head) or _HEX_CHARS.fullmatch(head):
        return True
    return not _is_known_format(head)


_KNOWN_FORMATS = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"OggS", b"ID3", b"fLaC", b"BZh", b"7z\xbc\xaf",
    b"\xfd7zXZ", b"OTTO", b"\x00\x01\x00\x00", b"wOFF", b"wOF2", b"\x28\xb5\x2f\xfd", b"SQLite format 3",
    b"\x03\x00\x08\x00", b"\x02\x00\x0c\x00", b"%PDF", b"{", b"[", b"<", b"\xef\xbb\xbf",
)  # fmt: skip


def _is_known_format(head: bytes) -> bool:
    if head.startswith(_KNOWN_FORMATS) or head[4:8] == b"ftyp":
        return True
    # mostly printable text (a config, a licence, JavaScript) is no payload
    sample = head[:1024]
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable >= 0.95 * len(sample)


_CHUNK = re.compile(r"^(.*?)[._-]?(?:part|chunk|p)?(\d{1,4})$", re.IGNORECASE)


def _chunked_entries(apk: Apk, ctx: _Ctx) -> set[str]:
    """Entries that are numbered pieces of one file (``x.part1``, ``x.part2``...), joined;
    returns the names of the pieces that decoded together."""
    done: set[str] = set()
    groups: dict[str, list[tuple[int, ZipEntry]]] = {}
    for e in apk.entries:
        if not e.name.startswith(("assets/", "res/raw/")) or e.name.endswith("/"):
            continue
        m = _CHUNK.match(e.name)
        if m and m.group(1):
            groups.setdefault(m.group(1), []).append((int(m.group(2)), e))
    for _stem, parts in sorted(groups.items()):
        if len(parts) < 2 or ctx.use.exhausted:
            continue
        parts.sort(key=lambda p: p[0])
        total = sum(p[1].uncompressed_size for p in parts)
        if total > ctx.use.budget.max_entry_bytes:
            continue
        if not ctx.use.read(total):
            break
        try:
            blob = b"".join(apk.archive.read(e) for _n, e in parts)
        except ApkError:
            continue
        if decode_blob(blob, "+".join(e.name for _n, e in parts), ctx):
            done.update(e.name for _n, e in parts)
    return done
