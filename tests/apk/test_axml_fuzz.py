"""Fuzzing the binary XML, manifest and resource-table readers with mutated real files.

Property: whatever the bytes, only :class:`~appveto.errors.AppvetoError` subclasses
escape (an ``ApkError`` names the entry and the offset), nothing hangs (hypothesis
deadline) and memory stays bounded (tracemalloc on adversarial string pools).
"""

from __future__ import annotations

import contextlib
import os
import struct
import tracemalloc
from functools import cache
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.apk.axml import parse_axml, to_xml_text
from appveto.apk.manifest import parse_manifest
from appveto.apk.resources import parse_resources
from appveto.errors import ApkError, AppvetoError
from tests.apk.test_axml import A, E, build_axml, manifest_bytes, simple_manifest, string_pool
from tests.apk.test_resources import SAMPLE, arsc_bytes, build_arsc
from tests.conftest import corpus_apks
from tests.workcount import cpu_per_example

FUZZ = settings(
    max_examples=int(os.environ.get("APPVETO_FUZZ_EXAMPLES", "250")),
    deadline=None,  # wall-clock: each test bounds its CPU time per example instead
    derandomize=os.environ.get("APPVETO_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def axml_seeds() -> tuple[bytes, ...]:
    seeds = [build_axml(simple_manifest()), build_axml(simple_manifest(), utf8=True, attr_size=24)]
    real = [b for p in corpus_apks() if (b := manifest_bytes(p)) is not None]
    real.sort(key=len)
    seeds.extend(real[:3])  # the smallest real manifests keep each example fast
    # and the real manifests with the most binary-XML tricks (tampered samples)
    tricky = sorted(real[3:], key=lambda b: -len(parse_axml(b).anomalies))
    seeds.extend(b for b in tricky[:2] if parse_axml(b).anomalies)
    return tuple(seeds)


@cache
def arsc_seeds() -> tuple[bytes, ...]:
    seeds = [build_arsc(SAMPLE).data, build_arsc(SAMPLE, mode="sparse").data]
    real = [b for p in corpus_apks() if (b := arsc_bytes(p)) is not None and len(b) < 8192]
    real.sort(key=len)
    seeds.extend(real[:2])
    return tuple(seeds)


_INTERESTING = (0, 1, 4, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000)

mutation = st.one_of(
    st.tuples(st.just("byte"), st.integers(0, 1 << 20), st.integers(0, 255)),
    st.tuples(st.just("u32"), st.integers(0, 1 << 20), st.sampled_from(_INTERESTING)),
    st.tuples(st.just("u16"), st.integers(0, 1 << 20), st.sampled_from(_INTERESTING)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("dup"), st.integers(0, 1 << 20), st.integers(1, 64)),
    st.tuples(st.just("del"), st.integers(0, 1 << 20), st.integers(1, 64)),
)


def mutate(seed: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(seed)
    for kind, where, value in mutations:
        if not data:
            break
        pos = where % len(data)
        if kind == "byte":
            data[pos] = value
        elif kind == "u32":
            aligned = pos - pos % 4  # chunk fields are 4-byte aligned
            if aligned + 4 <= len(data):
                struct.pack_into("<I", data, aligned, value & 0xFFFFFFFF)
        elif kind == "u16" and pos + 2 <= len(data):
            struct.pack_into("<H", data, pos, value & 0xFFFF)
        elif kind == "cut":
            del data[pos:]
        elif kind == "dup":
            data[pos:pos] = data[pos : pos + value]
        elif kind == "del":
            del data[pos : pos + value]
    return bytes(data)


def _check_error(exc: AppvetoError, entry: str) -> None:
    assert exc.diagnostics()
    if isinstance(exc, ApkError):
        diag = exc.diagnostics()[0]
        assert diag.entry == entry
        assert diag.offset is not None


@FUZZ
@given(st.data(), st.lists(mutation, min_size=1, max_size=6))
@cpu_per_example(2.0)
def test_fuzz_axml_and_manifest(data: st.DataObject, mutations: list[tuple[str, int, int]]) -> None:
    seeds = axml_seeds()
    seed = seeds[data.draw(st.integers(0, len(seeds) - 1), label="seed")]
    blob = mutate(seed, mutations)
    try:
        doc = parse_axml(blob, entry="AndroidManifest.xml")
        assert doc.root.tag == doc.tree.tag
        ElementTree.fromstring(to_xml_text(doc.root).encode())  # always well-formed text
    except AppvetoError as exc:
        _check_error(exc, "AndroidManifest.xml")
    try:
        m, anomalies = parse_manifest(blob, entry="AndroidManifest.xml")
        assert isinstance(m.package, str)
        assert all(a.entry == "AndroidManifest.xml" for a in anomalies)
    except AppvetoError as exc:
        _check_error(exc, "AndroidManifest.xml")


@FUZZ
@given(st.data(), st.lists(mutation, min_size=1, max_size=6))
@cpu_per_example(2.0)
def test_fuzz_resources(data: st.DataObject, mutations: list[tuple[str, int, int]]) -> None:
    seeds = arsc_seeds()
    seed = seeds[data.draw(st.integers(0, len(seeds) - 1), label="seed")]
    blob = mutate(seed, mutations)
    try:
        table = parse_resources(blob, entry="resources.arsc")
    except AppvetoError as exc:
        _check_error(exc, "resources.arsc")
        return
    refs = [(0x7F << 24) | (t << 16) | e for t in range(1, 7) for e in range(3)]
    for ref in (*refs, 0x00010000, 0xFFFFFFFF):
        table.resolve(ref)
        table.resolve(ref, config="fr")
        table.entry_name(ref)
        table.configs(ref)


@FUZZ
@given(st.binary(max_size=512))
@cpu_per_example(2.0)
def test_fuzz_random_bytes(blob: bytes) -> None:
    for parse, entry in ((parse_axml, "a.xml"), (parse_resources, "resources.arsc")):
        try:
            parse(blob, entry=entry)  # type: ignore[operator]
        except AppvetoError as exc:
            _check_error(exc, entry)


# ------------------------------------------------------------ bounded memory


def _overlapping_pool_document(count: int, long_len: int) -> bytes:
    """An XML whose string pool has ``count`` offsets into one long string (each a
    different suffix), the way a hostile file would try to blow up decoding."""
    pool = bytearray(string_pool(["x" * long_len, "manifest"]))
    header = pool[:28]
    strings = pool[28 + 8 :]
    # offsets 0, 2, 4, ... : each starts inside the long UTF-16 string
    offsets = b"".join(struct.pack("<I", (2 * i) % (2 * long_len)) for i in range(count))
    strings_start = 28 + len(offsets)
    size = strings_start + len(strings)
    struct.pack_into("<HHIIIIII", header, 0, 1, 28, size, count, 0, 0, strings_start, 0)
    new_pool = bytes(header) + offsets + bytes(strings)
    doc = build_axml(E("manifest", [A("package", "a.b", ns=None)]))
    old_size = struct.unpack_from("<I", doc, 12)[0]
    body = new_pool + doc[8 + old_size :]
    return struct.pack("<HHI", 3, 8, 8 + len(body)) + body


@pytest.mark.parametrize("count", [20_000, 200_000])
def test_overlapping_string_offsets_do_not_exhaust_memory(count: int) -> None:
    blob = _overlapping_pool_document(count, 30_000)
    tracemalloc.start()
    try:
        with contextlib.suppress(AppvetoError):
            parse_axml(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # naive decoding would need count * 30 000 characters (gigabytes)
    assert peak < 64 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
