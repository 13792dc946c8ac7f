"""Compose the parsers into one :class:`Apk`.

Only a file that is not a zip archive at all raises: every other part that cannot
be read (manifest, resources, a DEX file, signing, a native library) becomes an
:class:`ApkProblem` and the rest of the APK is still read. Tampering observations
of every parser are gathered in one sorted tuple.
"""

from __future__ import annotations

import hashlib
import mmap
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from appveto.apk.archive import Archive, Limits, open_archive
from appveto.apk.model import (
    Apk,
    ApkProblem,
    DexFile,
    DexLocation,
    EmbeddedDex,
    Manifest,
    NativeLib,
    SigningInfo,
    Tampering,
    TamperKind,
    ZipEntry,
)
from appveto.errors import ApkError

if TYPE_CHECKING:
    import threading

_PRIMARY_DEX = re.compile(r"^classes(\d*)\.dex$")
_NATIVE = re.compile(r"^lib/([^/]+)/([^/]+\.so)$")
_NESTED_SUFFIXES = (".jar", ".apk", ".zip", ".dex", ".odex", ".dat", ".bin", ".so")
_PEEK_PREFIXES = ("assets/", "res/raw/")
_DEX_MAGIC = b"dex\n"
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_PEEK = 64 * 1024 * 1024
_PROBLEMS_PER_PART = 200
"""Problems listed per part; the rest are counted in one summary problem, as the archive
does for tampering observations (a crafted APK of 60,000 broken libraries stays readable)."""

T = TypeVar("T")


def _primary_dex_order(entries: tuple[ZipEntry, ...]) -> list[ZipEntry]:
    """classes.dex, classes2.dex, ... as ART loads them: consecutive, stopping at a gap."""
    by_index: dict[int, ZipEntry] = {}
    for e in entries:
        m = _PRIMARY_DEX.match(e.name)
        if m is None:
            continue
        n = int(m.group(1)) if m.group(1) else 1
        by_index.setdefault(n, e)
    ordered: list[ZipEntry] = []
    n = 1
    while n in by_index:
        ordered.append(by_index[n])
        n += 1
    return ordered


def load_apk(path: str, *, limits: Limits | None = None) -> Apk:
    """Read an APK from ``path``. Raises :class:`ApkError` only when it is not a zip at all."""
    from appveto.apk.dex import looks_like_dex, parse_dex
    from appveto.apk.manifest import parse_manifest
    from appveto.apk.native import parse_native
    from appveto.apk.resources import ResourceTable, parse_resources
    from appveto.apk.signing import parse_signing

    archive = open_archive(path, limits=limits or Limits())
    data = archive.data
    size = len(data)
    # The three digests of the whole file are computed while the parts are parsed: hashlib
    # lets go of the GIL on large buffers, so with a second core they cost no wall time.
    # (Should a parser fail unexpectedly, the daemon thread just finishes its hashing.)
    digests: list[str] = []
    hasher = _start_digests(data, digests)

    problems: list[ApkProblem] = []
    tampering: list[Tampering] = list(archive.tampering)

    def attempt(part: str, entry: str | None, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ApkError as exc:
            diag = exc.diagnostics()[0]
            problems.append(ApkProblem(part, diag.message, entry or diag.entry, diag.offset))
            return None

    # resources.arsc (labels, network security config path, strings)
    resources: ResourceTable | None = None
    if archive.get("resources.arsc") is not None:
        resources = attempt(
            "resources",
            "resources.arsc",
            lambda: parse_resources(archive.read("resources.arsc"), entry="resources.arsc"),
        )
        if resources is not None:
            tampering.extend(resources.anomalies)

    # AndroidManifest.xml
    manifest: Manifest | None = None
    if archive.get("AndroidManifest.xml") is None:
        problems.append(ApkProblem("manifest", "the archive has no AndroidManifest.xml", None, None))
    else:
        parsed = attempt(
            "manifest",
            "AndroidManifest.xml",
            lambda: parse_manifest(archive.read("AndroidManifest.xml"), resources=resources),
        )
        if parsed is not None:
            manifest, anomalies = parsed
            tampering.extend(anomalies)

    # DEX: the primary classes*.dex files, then DEX found elsewhere.
    dex_files: list[DexFile] = []
    primary = _primary_dex_order(archive.entries)
    primary_names = {e.name for e in primary}
    for entry, data_of in _dex_reads(archive, primary):
        dex = attempt(
            "dex",
            entry.name,
            lambda e=entry, d=data_of: parse_dex(d(), entry=e.name, location=DexLocation.PRIMARY),  # type: ignore[misc]
        )
        if dex is not None:
            dex_files.append(dex)
            tampering.extend(
                Tampering(TamperKind.DEX_HEADER_ANOMALY, dex.entry, None, a) for a in dex.header_anomalies
            )
    for e in archive.entries:
        if _PRIMARY_DEX.match(e.name) and e.name not in primary_names:
            problems.append(
                ApkProblem("dex", "not loaded by Android: the classesN.dex sequence has a gap", e.name, None)
            )
    embedded = _embedded_dex(archive, primary_names, looks_like_dex, problems)

    signing = attempt("signing", None, lambda: parse_signing(archive, file=path))
    if signing is None:
        signing = SigningInfo(schemes=(), signers=())

    native: list[NativeLib] = []
    for e in archive.entries:
        if _NATIVE.match(e.name):
            lib = attempt("native", e.name, lambda e=e: parse_native(e.name, archive.read(e)))  # type: ignore[misc]
            if lib is not None:
                native.append(lib)

    if hasher is not None:
        hasher.join()
    if len(digests) != 3:  # no thread could be started: compute them here
        digests[:] = _digests(data)
    sha256, sha1, md5 = digests

    return Apk(
        path=path,
        size=size,
        sha256=sha256,
        sha1=sha1,
        md5=md5,
        entries=archive.entries,
        tampering=tuple(sorted(set(tampering), key=_tamper_key)),
        manifest=manifest,
        dex=tuple(dex_files),
        embedded_dex=embedded,
        signing=signing,
        native_libs=tuple(sorted(native, key=lambda n: n.entry)),
        resource_strings=resources.strings if resources is not None else (),
        problems=_capped(problems),
        archive=archive,
    )


def _digests(data: bytes | mmap.mmap) -> list[str]:
    return [hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.md5(data).hexdigest()]


def _start_digests(data: bytes | mmap.mmap, into: list[str]) -> threading.Thread | None:
    """Hash ``data`` into ``into`` on a helper thread; None when no thread can be started."""
    import threading

    hasher = threading.Thread(target=lambda: into.extend(_digests(data)), name="appveto-digests", daemon=True)
    try:
        hasher.start()
    except RuntimeError:
        return None
    return hasher


def _capped(problems: list[ApkProblem]) -> tuple[ApkProblem, ...]:
    kept: list[ApkProblem] = []
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.part] = counts.get(p.part, 0) + 1
        if counts[p.part] <= _PROBLEMS_PER_PART:
            kept.append(p)
    for part, n in counts.items():
        if n > _PROBLEMS_PER_PART:
            kept.append(ApkProblem(part, f"{n - _PROBLEMS_PER_PART} more '{part}' problems not listed"))
    return tuple(kept)


def _dex_reads(archive: Archive, entries: list[ZipEntry]) -> Iterator[tuple[ZipEntry, Callable[[], bytes]]]:
    """Each primary DEX entry with a function giving its inflated bytes.

    With several entries, the next one is inflated on a helper thread while the current
    one is parsed (inflation releases the GIL), so the two overlap on a second core. At
    most two inflated entries are held at once; a read error surfaces when its bytes are
    asked for, like a direct read.
    """
    if len(entries) < 2:
        for e in entries:
            yield e, (lambda e=e: archive.read(e))  # type: ignore[misc]
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="appveto-inflate") as pool:
        pending = pool.submit(archive.read, entries[0])
        for i, e in enumerate(entries):
            current = pending
            if i + 1 < len(entries):
                pending = pool.submit(archive.read, entries[i + 1])
            yield e, current.result
            del current


def _tamper_key(t: Tampering) -> tuple[str, str, int, str]:
    return (t.kind.value, t.entry or "", t.offset if t.offset is not None else -1, t.detail)


def _embedded_dex(
    archive: Archive,
    primary_names: set[str],
    looks_like_dex: Callable[[bytes], bool],
    problems: list[ApkProblem],
) -> tuple[EmbeddedDex, ...]:
    """DEX files outside the primary set: stray ``*.dex``, DEX in assets, DEX inside nested archives."""
    found: list[EmbeddedDex] = []
    for e in archive.entries:
        if e.name in primary_names or e.name.endswith("/"):
            continue
        lower = e.name.lower()
        candidate = lower.endswith(_NESTED_SUFFIXES) or lower.startswith(_PEEK_PREFIXES)
        if not candidate or _NATIVE.match(e.name) or e.uncompressed_size > _MAX_PEEK:
            continue
        try:
            head = archive.read_head(e, 8)
            if looks_like_dex(head):
                found.append(EmbeddedDex(e.name, DexLocation.ASSET, e.uncompressed_size, parsed=False))
            elif head[:4] == _ZIP_MAGIC:
                found.extend(_nested_dex(e.name, archive.read(e), looks_like_dex))
        except ApkError as exc:
            problems.append(ApkProblem("dex", exc.diagnostics()[0].message, e.name, None))
    return tuple(found)


def _nested_dex(outer: str, blob: bytes, looks_like_dex: Callable[[bytes], bool]) -> list[EmbeddedDex]:
    try:
        inner = open_archive(blob, name=outer)
    except ApkError as exc:
        return [EmbeddedDex(outer, DexLocation.NESTED, len(blob), parsed=False, note=f"unreadable: {exc}")]
    out: list[EmbeddedDex] = []
    for ie in inner.entries:
        if ie.name.lower().endswith(".dex"):
            try:
                head = inner.read_head(ie, 8)
            except ApkError:
                head = b""
            out.append(
                EmbeddedDex(
                    f"{outer}!{ie.name}",
                    DexLocation.NESTED,
                    ie.uncompressed_size,
                    parsed=False,
                    note=None if looks_like_dex(head) else "named .dex but no DEX magic (encrypted?)",
                )
            )
    return out
