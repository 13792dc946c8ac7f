"""Fuzz the zip reader with mutations of real corpus files and of hand-built hostile zips.

Only :class:`~appveto.errors.AppvetoError` subclasses may escape ``open_archive`` and
``Archive.read``; every example must finish within the deadline and inflate no more
than the limits allow.
"""

from __future__ import annotations

import os
import struct
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.apk.archive import Limits, open_archive
from appveto.apk.model import Tampering, TamperKind
from appveto.errors import AppvetoError
from tests.apk.test_archive import Ent, build_zip, deflate
from tests.conftest import corpus_apks
from tests.workcount import cpu_per_example

_MAX_SEED = 40_000
# APPVETO_FUZZ_EXAMPLES=20000 runs a longer, randomised campaign; the default is a fixed, quick one
_EXAMPLES = int(os.environ.get("APPVETO_FUZZ_EXAMPLES", "0"))
_LIMITS = Limits(max_entries=2_000, max_total_inflated=64 << 20, max_entry_inflated=4 << 20, max_ratio=50)


@cache
def _seeds() -> tuple[bytes, ...]:
    """Small corpus files (when the shared corpus is there) and synthetic hostile zips."""
    seeds = [p.read_bytes() for p in corpus_apks() if p.stat().st_size <= _MAX_SEED]
    payload = b"AndroidManifest " * 64
    seeds += [
        build_zip(
            [Ent("AndroidManifest.xml", payload, method=8), Ent("classes.dex", b"dex\n035\x00" * 8)]
        ).data,
        build_zip([Ent("a", payload, method=30208), Ent("b", payload, method=8, flags=1)]).data,
        build_zip([Ent("z", b"z" * 4000, method=8, zip64=True)], zip64_eocd=True).data,
        build_zip(
            [
                Ent(
                    "d",
                    payload,
                    method=8,
                    flags=8,
                    lfh_sizes=(0, 0),
                    lfh_crc=0,
                    descriptor=b"PK\x07\x08" + b"\0" * 12,
                )
            ],
            prefix=b"dex\n035\x00" + b"\x01" * 64,
        ).data,
        build_zip([Ent("x", payload), Ent("x", payload, lfh_at=0)], hidden=[Ent("h", b"h")]).data,
        build_zip([Ent("bomb", b"\0" * 200_000, method=8, body=deflate(b"\0" * 200_000))]).data,
    ]
    return tuple(seeds)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    seeds = _seeds()
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        n = len(data)
        # the structures live at the end (EOCD, central directory) and at local headers
        pos = draw(st.one_of(st.integers(0, n - 1), st.integers(max(0, n - 400), n - 1)))
        op = draw(st.sampled_from(["flip", "byte", "u32", "truncate", "splice", "insert", "delete"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[pos] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x08, 0x50, 0x4B]))
        elif op == "u32" and pos + 4 <= n:
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, n, n - pos, 0x7FFFFFFF, 30208]))
            struct.pack_into("<I", data, pos, value)
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(seeds))
            if other:
                start = draw(st.integers(0, len(other) - 1))
                chunk = other[start : start + draw(st.integers(1, 512))]
                data[pos : pos + len(chunk)] = chunk
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
    return bytes(data)


def _exercise(data: bytes) -> None:
    try:
        archive = open_archive(data, name="fuzz.apk", limits=_LIMITS)
    except AppvetoError as exc:
        assert exc.diagnostics()[0].file == "fuzz.apk"
        return
    assert archive.start_offset <= archive.cd_offset <= archive.eocd_offset < len(data)
    assert all(isinstance(t, Tampering) and isinstance(t.kind, TamperKind) for t in archive.tampering)
    assert len(archive.names()) == len(archive.entries) <= _LIMITS.max_entries
    for entry in archive.entries[:64]:
        assert archive.get(entry.name) is not None
        try:
            head = archive.read_head(entry, 16)
            assert len(head) <= 16
            out = archive.read(entry)
            assert out.startswith(head)
        except AppvetoError as exc:
            assert exc.diagnostics()[0].entry == entry.name
            continue
        assert len(out) <= _LIMITS.max_entry_inflated
        assert len(out) == entry.uncompressed_size


@settings(
    max_examples=_EXAMPLES or 400,
    deadline=None,  # wall-clock: see cpu_per_example below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not _EXAMPLES,
)
@given(_mutated())
@cpu_per_example(1.0)
def test_fuzz_mutated_archives(data: bytes) -> None:
    _exercise(data)


@settings(max_examples=_EXAMPLES // 4 or 150, deadline=None, derandomize=not _EXAMPLES)
@given(st.binary(max_size=2048))
@cpu_per_example(1.0)
def test_fuzz_random_bytes_with_an_end_record(tail: bytes) -> None:
    """Arbitrary bytes around a plausible end record: directory pointers into the noise."""
    n = len(tail)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 3, 3, min(n, 120), max(0, n - 120), 0)
    _exercise(tail + eocd)
    _exercise(b"PK\x01\x02" + tail + eocd)


_u32 = st.one_of(st.integers(0, 2000), st.sampled_from([0xFFFFFFFF, 0x7FFFFFFF]))
_ent = st.builds(
    Ent,
    name=st.one_of(st.text(max_size=12), st.binary(max_size=12)),
    payload=st.binary(max_size=300),
    method=st.sampled_from([0, 8, 8, 1, 99, 30208]),
    flags=st.sampled_from([0, 1, 8, 9, 0x800]),
    lfh_name=st.none() | st.binary(max_size=12),
    lfh_method=st.none() | st.sampled_from([0, 8, 12]),
    lfh_flags=st.none() | st.sampled_from([0, 1, 8]),
    lfh_sizes=st.none() | st.tuples(_u32, _u32),
    lfh_crc=st.none() | _u32,
    cd_sizes=st.none() | st.tuples(_u32, _u32),
    lfh_extra=st.binary(max_size=12),
    cd_extra=st.binary(max_size=12),
    descriptor=st.none() | st.binary(max_size=24),
    zip64=st.booleans(),
    lfh_at=st.none() | st.just(0),
)


@settings(
    max_examples=_EXAMPLES // 4 or 150,
    deadline=None,  # wall-clock: see cpu_per_example below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not _EXAMPLES,
)
@given(
    entries=st.lists(_ent, min_size=1, max_size=5),
    prefix=st.binary(max_size=40),
    absolute=st.booleans(),
    comment=st.binary(max_size=30),
    trailer=st.binary(max_size=30),
    eocd_count=st.none() | st.integers(0, 8),
    hidden=st.lists(_ent, max_size=2),
    zip64_eocd=st.booleans(),
    cd_size_delta=st.integers(-4, 4),
)
@cpu_per_example(1.0)
def test_fuzz_forged_headers(
    entries: list[Ent],
    prefix: bytes,
    absolute: bool,
    comment: bytes,
    trailer: bytes,
    eocd_count: int | None,
    hidden: list[Ent],
    zip64_eocd: bool,
    cd_size_delta: int,
) -> None:
    """Zips whose every header field is forged at random, combined with Janus-style prefixes."""
    built = build_zip(
        entries,
        prefix=prefix,
        absolute=absolute,
        comment=comment,
        trailer=trailer,
        eocd_count=eocd_count,
        hidden=hidden,
        zip64_eocd=zip64_eocd,
        cd_size_delta=cd_size_delta,
    )
    _exercise(built.data)
