"""Fuzz parse_dex with real DEX bytes: only ApkError escapes, no hang, bounded memory."""

from __future__ import annotations

import re
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.apk.archive import open_archive
from appveto.apk.dex import parse_dex
from appveto.errors import ApkError
from tests.apkbuilder import ClassSpec, FieldSpec, MethodSpec, build_dex
from tests.conftest import corpus_apks
from tests.workcount import cpu_per_example

PRIMARY = re.compile(r"^classes\d*\.dex$")
MAX_SEED = 64 * 1024
# Header fields that locate the tables (sizes and offsets from string_ids to data).
TABLE_FIELDS = tuple(range(0x38, 0x70, 4))


def _seeds() -> list[bytes]:
    seeds = [
        build_dex(
            (
                ClassSpec(
                    "Lcom/example/A;",
                    methods=(MethodSpec("Lcom/example/A;", "f", "(ILjava/lang/String;[J)Z"),),
                    fields=(FieldSpec("Lcom/example/A;", "x", "J"),),
                    strings=("", "\x00", "é\U0001f600", "y" * 200),
                ),
            )
        )
    ]
    # Small real DEX files of the corpus, when it is present (the fuzz runs without it too).
    for apk in corpus_apks():
        try:
            with open_archive(apk) as archive:
                for e in archive.entries:
                    if PRIMARY.match(e.name) and e.uncompressed_size <= MAX_SEED:
                        seeds.append(archive.read(e))
        except ApkError:
            continue
    return seeds


SEEDS = _seeds()


@st.composite
def mutated_dex(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ("truncate", "header", "table_field", "table_field", "table_bytes", "table_bytes", "anywhere")
            )
        )
        if kind == "truncate" and len(data) > 1:
            # Mostly past the header, so that the table checks are reached.
            low = 0x70 if len(data) > 0x71 and draw(st.integers(0, 9)) else 0
            del data[draw(st.integers(low, len(data) - 1)) :]
        elif kind == "header" and len(data) >= 0x70:
            pos = draw(st.integers(8, 0x6F))  # the magic stays: other fields are the attack surface
            data[pos] = draw(st.integers(0, 255))
        elif kind == "table_field" and len(data) >= 0x70:
            pos = draw(st.sampled_from(TABLE_FIELDS))
            value = draw(
                st.one_of(
                    st.integers(0, 0xFFFFFFFF),
                    st.integers(0, len(data) + 16),
                    st.sampled_from((0, 1, 0x70, 0x7FFFFFFF, 0xFFFFFFFF)),
                )
            )
            struct.pack_into("<I", data, pos, value)
        elif kind in ("table_bytes", "anywhere") and len(data) > 0x70:
            lo = 0x70 if kind == "table_bytes" else 0
            hi = min(len(data), 0x70 + 4096) if kind == "table_bytes" else len(data)
            pos = draw(st.integers(lo, hi - 1))
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[pos : pos + len(chunk)] = chunk
    return bytes(data)


@settings(
    max_examples=400,
    deadline=None,  # wall-clock: see cpu_per_example below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(mutated_dex())
@cpu_per_example(2.0)  # per example: a quadratic blow-up fails the test
def test_mutated_dex_raises_only_apk_error(data: bytes) -> None:
    tracemalloc.start()
    try:
        dex = parse_dex(data, entry="classes.dex")
    except ApkError as exc:
        diag = exc.diagnostics()[0]
        assert diag.entry == "classes.dex"
        assert str(exc)
    else:
        assert len(dex.class_defs) <= len(data)
        for s in dex.strings[:50]:
            s.encode("utf-8")  # decoded text is always valid Unicode
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # Nothing a hostile DEX says may make us allocate far more than its own size.
    assert peak < 64 * len(data) + 8_000_000, f"peak {peak} bytes for a {len(data)}-byte input"


@pytest.mark.parametrize("size", [0, 1, 7, 8, 0x6F, 0x70, 0x71])
def test_tiny_inputs(size: int) -> None:
    data = SEEDS[0][:size]
    try:
        parse_dex(data, entry="classes.dex")
    except ApkError as exc:
        assert exc.diagnostics()[0].entry == "classes.dex"


def test_overlapping_strings_are_bounded() -> None:
    """String IDs pointing into one long string: refused, not decoded again for every ID."""
    buf = bytearray(SEEDS[0])
    long_at = len(buf)
    buf += b"\x7f" + b"A" * 200_000 + b"\x00"
    table_at = len(buf)
    for i in range(64):  # 64 IDs, each 1000 bytes further into the same string
        buf += struct.pack("<I", long_at + 1 + 1000 * i)
    struct.pack_into("<II", buf, 0x38, 64, table_at)
    struct.pack_into("<I", buf, 0x20, len(buf))
    with pytest.raises(ApkError, match="overlap") as info:
        parse_dex(bytes(buf), entry="classes.dex")
    assert info.value.diagnostics()[0].offset is not None


def test_overlapping_parameter_lists_are_bounded() -> None:
    """Protos whose parameter lists all reuse one huge type name: refused by the size bound."""
    buf = bytearray(SEEDS[0])
    n_protos, protos_off = struct.unpack_from("<II", buf, 0x48)
    n_types, types_off = struct.unpack_from("<II", buf, 0x40)
    assert n_protos and n_types
    # Type 0's name becomes a 300 KB string; one parameter list names it 60,000 times.
    name_at = len(buf)
    buf += bytes((0x80 | 0x7F, 0x7F)) + b"L" + b"x" * 300_000 + b";\x00"
    strings_off = struct.unpack_from("<I", buf, 0x3C)[0]
    type0_string = struct.unpack_from("<I", buf, types_off)[0]
    struct.pack_into("<I", buf, strings_off + 4 * type0_string, name_at)
    list_at = len(buf) + (-len(buf)) % 4
    buf += b"\x00" * (list_at - len(buf))
    buf += struct.pack("<I", 60_000) + b"\x00\x00" * 60_000
    for i in range(n_protos):
        struct.pack_into("<I", buf, protos_off + 12 * i + 8, list_at)
    struct.pack_into("<I", buf, 0x20, len(buf))
    with pytest.raises(ApkError, match="exceed"):
        parse_dex(bytes(buf), entry="classes.dex")
