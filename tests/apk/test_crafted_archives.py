"""The APK reader on crafted archives: every outcome is an Apk with located problems or a
located ApkError, in bounded time and memory."""

from __future__ import annotations

import contextlib
import struct
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appveto.apk import load_apk
from appveto.apk.model import Apk, TamperKind
from appveto.errors import ApkError
from tests.apkbuilder import ApkSpec, build_apk, build_dex
from tests.conftest import corpus_apk
from tests.workcount import assert_linear, cpu_seconds, growth, returns_unblocked

ENTRY_LIMIT = 256 << 20  # Limits.max_entry_inflated
BOMB = ENTRY_LIMIT + (4 << 20)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """Raw deflate of BOMB zero bytes: about 260 KiB that inflate past the per-entry limit."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    return b"".join([*(c.compress(chunk) for _ in range(BOMB >> 20)), c.flush()])


def zip_of(entries: list[tuple[str, bytes, int]], *, shared_body: bool = False) -> bytes:
    """A zip of (name, raw deflate body, declared size). With ``shared_body`` every central
    record points at the first local header (an overlapping, Fifield-style bomb)."""
    body: list[bytes] = []
    cds: list[bytes] = []
    pos = 0
    for i, (name, comp, usize) in enumerate(entries):
        nb = name.encode()
        offset = 0 if shared_body else pos
        if not shared_body or i == 0:
            lfh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(comp), usize, len(nb), 0)
            body.append(lfh + nb + comp)
            pos += len(lfh) + len(nb) + len(comp)
        cd = struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            0,
            len(comp),
            usize,
            len(nb),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        cds.append(cd + nb)
    cd_bytes = b"".join(cds)
    n = min(len(entries), 0xFFFF)
    return b"".join(body) + cd_bytes + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd_bytes), pos, 0)


def stored_deflate(blob: bytes) -> bytes:
    c = zlib.compressobj(0, zlib.DEFLATED, -15)
    return c.compress(blob) + c.flush()


def load_bounded(path: Path, *, seconds: float = 10, mib: int = 96) -> Apk:
    """load_apk within a bound of this process's CPU time (generous: a bomb inflated or a
    quadratic parse costs minutes; the machine's load does not count) and of memory."""
    tracemalloc.start()
    cpu = 0.0
    try:
        apk, cpu = cpu_seconds(lambda: load_apk(str(path)))
        return apk
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert cpu < seconds, f"{cpu:.1f} s of CPU"
        assert peak < mib << 20, f"peak {peak >> 20} MiB"


def problem_for(apk: Apk, entry: str) -> str:
    found = [p.message for p in apk.problems if p.entry == entry]
    assert found, f"no problem recorded for {entry}: {apk.problems}"
    return found[0]


# --------------------------------------------------------------------------- truncation


def _cuts(n: int) -> Iterator[int]:
    yield from sorted(
        {0, 1, 3, 4, 21, 22, 23, 29, 30, 31, 46, *(n * k // 13 for k in range(1, 13)), n - 22, n - 1}
    )


@pytest.mark.parametrize(
    "name", ["fdroid-urzip-badsig.apk", "fdroid-v2-only-sig.apk", "apksig-v31-key-rotation.apk"]
)
def test_truncated_copies_fail_with_the_file_named(tmp_path: Path, name: str) -> None:
    data = corpus_apk(name).read_bytes()
    for cut in _cuts(len(data)):
        f = tmp_path / f"cut-{cut}.apk"
        f.write_bytes(data[:cut])
        try:
            apk = load_bounded(f, seconds=5)
        except ApkError as exc:
            d = exc.diagnostics()[0]
            assert d.file == str(f), (cut, d)
            assert d.offset is not None or "bytes" in d.message, (cut, d)
        else:  # an end record survived the cut: the archive opened, the damage is recorded
            assert apk.problems or apk.tampering, cut


def test_truncated_inside_each_entry_of_a_rebuilt_archive(tmp_path: Path) -> None:
    """The central directory kept, the data cut short under it: each unreadable entry is a
    problem naming it, never an exception."""
    good = build_apk(ApkSpec(package="org.example.cut", sign=None))
    eocd = good.rfind(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", good, eocd + 16)[0]
    tail = good[cd_off:]
    for cut in range(30, cd_off, max(1, cd_off // 40)):
        f = tmp_path / "cut.apk"
        # the data region cut at ``cut`` and padded back with garbage, offsets unchanged
        f.write_bytes(good[:cut] + b"\xa5" * (cd_off - cut) + tail)
        apk = load_bounded(f, seconds=5)
        assert apk.entries, cut


# --------------------------------------------------------------------------- bombs


@pytest.mark.parametrize(
    "name", ["classes.dex", "AndroidManifest.xml", "resources.arsc", "lib/arm64-v8a/libx.so", "assets/x.zip"]
)
def test_zip_bomb_under_each_parsed_name(tmp_path: Path, bomb: bytes, name: str) -> None:
    f = tmp_path / "bomb.apk"
    f.write_bytes(zip_of([(name, bomb, BOMB)]))
    apk = load_bounded(f)
    if name.startswith("assets/"):  # only peeked at: too large to look into, so not opened
        assert all(e.entry != name for e in apk.embedded_dex)
    else:
        assert "limit" in problem_for(apk, name)


def test_declared_size_lie_stops_inflating(tmp_path: Path, bomb: bytes) -> None:
    f = tmp_path / "lie.apk"
    f.write_bytes(zip_of([("classes.dex", bomb, 4096)]))
    apk = load_bounded(f)
    assert "more than the declared" in problem_for(apk, "classes.dex")


def test_overlapping_bomb_is_recorded_and_bounded(tmp_path: Path, bomb: bytes) -> None:
    names = [f"lib/x86/lib{i}.so" for i in range(15)]  # 15 x 260 MiB: under the 4 GiB total
    f = tmp_path / "overlap.apk"
    f.write_bytes(zip_of([(n, bomb, BOMB) for n in names], shared_body=True))
    apk = load_bounded(f, seconds=20)
    assert any(t.kind is TamperKind.OVERLAPPING_ENTRIES for t in apk.tampering)
    for n in names:
        assert any(p.entry == n for p in apk.problems) or any(lib.entry == n for lib in apk.native_libs)


def test_nested_bomb_in_assets(tmp_path: Path, bomb: bytes) -> None:
    inner = zip_of([("x.dex", bomb, BOMB)])
    f = tmp_path / "nested.apk"
    f.write_bytes(zip_of([("assets/inner.zip", stored_deflate(inner), len(inner))]))
    apk = load_bounded(f)
    assert [e.entry for e in apk.embedded_dex] == ["assets/inner.zip!x.dex"]


def test_many_broken_libraries_are_counted_not_listed(tmp_path: Path) -> None:
    """5,000 central records naming libraries over one shared, broken body: the problems
    stay a bounded list with a count of the rest."""
    names = [f"lib/x86/lib{i}.so" for i in range(5_000)]
    f = tmp_path / "many.apk"
    f.write_bytes(zip_of([(n, b"\x03\x00", 64) for n in names], shared_body=True))
    apk = load_bounded(f, seconds=15, mib=128)
    native = [p for p in apk.problems if p.part == "native"]
    assert 0 < len(native) <= 201
    summary = [p for p in native if p.entry is None]
    assert summary and summary[0].message.startswith(f"{5_000 - (len(native) - 1)} more 'native' problems")


def test_central_directory_claiming_huge_counts(tmp_path: Path) -> None:
    good = build_apk(ApkSpec(package="org.example.cd", sign=None))
    eocd = good.rfind(b"PK\x05\x06")
    cases = {
        "count": lambda b: struct.pack_into("<HH", b, eocd + 8, 0xFFFF, 0xFFFF),
        "size": lambda b: struct.pack_into("<I", b, eocd + 12, 0xFFFFFFF0),
        "offset": lambda b: struct.pack_into("<I", b, eocd + 16, 0xFFFFFFF0),
    }
    for what, mutate in cases.items():
        b = bytearray(good)
        mutate(b)
        f = tmp_path / f"cd-{what}.apk"
        f.write_bytes(bytes(b))
        try:
            load_bounded(f, seconds=5)
        except ApkError as exc:
            assert exc.diagnostics()[0].file == str(f)


def test_zip64_end_record_claiming_2_to_the_60_entries(tmp_path: Path) -> None:
    good = build_apk(ApkSpec(package="org.example.z64", sign=None))
    eocd = good.rfind(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", good, eocd + 16)[0]
    b = bytearray(good)
    struct.pack_into("<HHII", b, eocd + 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1 << 60, 1 << 60, 1 << 62, cd_off)
    locator = struct.pack("<IIQI", 0x07064B50, 0, eocd, 1)
    f = tmp_path / "z64.apk"
    f.write_bytes(bytes(b[:eocd]) + z64 + locator + bytes(b[eocd:]))
    with pytest.raises(ApkError) as info:
        load_bounded(f, seconds=5)
    d = info.value.diagnostics()[0]
    assert d.file == str(f) and d.offset is not None


# --------------------------------------------------------------------------- parsers


def test_deeply_nested_binary_xml(tmp_path: Path) -> None:
    depth = 20_000
    pool = _string_pool(["manifest", "x"])
    body = bytearray()
    for i in range(depth):
        body += struct.pack("<HHIII", 0x0102, 16, 36, i + 1, 0xFFFFFFFF)
        body += struct.pack("<IIHHHHHH", 0xFFFFFFFF, 0 if i == 0 else 1, 20, 20, 0, 0, 0, 0)
    for i in range(depth):
        body += struct.pack("<HHIII", 0x0103, 16, 24, i, 0xFFFFFFFF) + struct.pack("<II", 0xFFFFFFFF, 1)
    axml = struct.pack("<HHI", 0x0003, 8, 8 + len(pool) + len(body)) + pool + bytes(body)
    f = tmp_path / "deep.apk"
    f.write_bytes(zip_of([("AndroidManifest.xml", stored_deflate(axml), len(axml))]))
    apk = load_bounded(f)
    assert apk.manifest is None
    assert "deeper" in problem_for(apk, "AndroidManifest.xml")


def _string_pool(strings: list[str]) -> bytes:
    data = bytearray()
    offsets = []
    for s in strings:
        offsets.append(len(data))
        enc = s.encode("utf-16-le")
        data += struct.pack("<H", len(s)) + enc + b"\0\0"
    while len(data) % 4:
        data += b"\0"
    header = 28 + 4 * len(strings)
    return (
        struct.pack("<HHIIIIII", 0x0001, 28, header + len(data), len(strings), 0, 0, header, 0)
        + b"".join(struct.pack("<I", o) for o in offsets)
        + bytes(data)
    )


@pytest.mark.parametrize("field", range(0x38, 0x68, 8), ids=lambda v: f"ids-at-{v:#x}")
def test_dex_tables_claiming_huge_sizes(tmp_path: Path, field: int) -> None:
    apk = _dex_apk(tmp_path, field, (0x7FFFFFFF, 0x70))
    message = problem_for(apk, "classes.dex")
    assert "2147483647" in message and "outside" in message, message
    assert any(p.offset is not None for p in apk.problems if p.entry == "classes.dex")


@pytest.mark.parametrize(
    ("field", "values"), [(0x68, (0x7FFFFFFF, 0x70)), (0x34, (0x7FFFFFF0,))], ids=["data", "map"]
)
def test_dex_sections_out_of_the_file_are_header_anomalies(
    tmp_path: Path, field: int, values: tuple[int, ...]
) -> None:
    apk = _dex_apk(tmp_path, field, values)
    notes = [
        t.detail
        for t in apk.tampering
        if t.kind is TamperKind.DEX_HEADER_ANOMALY and t.entry == "classes.dex"
    ]
    assert any("outside the file" in n for n in notes), notes


def _dex_apk(tmp_path: Path, field: int, values: tuple[int, ...]) -> Apk:
    dex = bytearray(build_dex(()))
    struct.pack_into("<" + "I" * len(values), dex, field, *values)
    f = tmp_path / "dex.apk"
    f.write_bytes(zip_of([("classes.dex", stored_deflate(bytes(dex)), len(dex))]))
    return load_bounded(f, seconds=5)


# --------------------------------------------------------------------------- not files


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.apk"
    os.mkfifo(fifo)

    def writer() -> None:  # only if load_apk blocked: then the test fails, not hangs
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    with pytest.raises(ApkError, match="not a regular file") as info:
        returns_unblocked(lambda: load_apk(str(fifo)), unblock=writer)
    assert info.value.diagnostics()[0].file == str(fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    with pytest.raises(ApkError, match="not a regular file"):
        load_bounded(Path(device), seconds=2)


def test_manifest_with_many_components_parses_in_linear_time() -> None:
    """A 1 MiB APK declaring 30,000 activities took ~30 s (each component was looked up in
    the application's children one by one): the work must grow with the count, not its
    square (lines executed, counted: see tests/workcount.py)."""
    from appveto.apk.manifest import parse_manifest
    from tests.apkbuilder import ComponentSpec, build_manifest

    def blob(n: int) -> bytes:
        comps = tuple(ComponentSpec(kind="activity", name=f"a.B{i}", exported=True) for i in range(n))
        return build_manifest(ApkSpec(package="org.example.wide", components=comps, sign=None))

    def parse(data: bytes) -> None:
        manifest, _ = parse_manifest(data, resources=None)
        assert manifest is not None and len(manifest.components) in (1_000, 4_000)

    assert_linear(growth(parse, blob(1_000), blob(4_000)), 4)
