"""Native libraries: a built ELF, damaged inputs, and every corpus .so against binutils' readelf."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.apk.archive import open_archive
from appveto.apk.model import NativeLib
from appveto.apk.native import MAX_DOT_SYMBOLS, MAX_ENDPOINT_SAMPLES, machine_name, parse_native
from appveto.errors import ApkError
from tests.conftest import corpus_apks, require_tool
from tests.workcount import cpu_per_example

NATIVE = re.compile(r"^lib/([^/]+)/([^/]+\.so)$")

# ------------------------------------------------------------------ a built ELF

_SYM = struct.Struct("<IBBHQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")


def build_elf(
    *,
    rodata: bytes,
    comment: bytes,
    symbols: tuple[tuple[str, int], ...],
    machine: int = 183,
    static_symbols: tuple[str, ...] = (),
) -> bytes:
    """A 64-bit little-endian shared object with .rodata, .comment, .dynsym/.dynstr sections
    (and .symtab/.strtab holding ``static_symbols`` as local functions when given)."""
    dynstr = bytearray(b"\x00")
    dynsym = bytearray(_SYM.pack(0, 0, 0, 0, 0, 0))
    for name, shndx in symbols:
        dynsym += _SYM.pack(len(dynstr), 0x12, 0, shndx, 0x1000 if shndx else 0, 16)  # GLOBAL FUNC
        dynstr += name.encode() + b"\x00"
    strtab = bytearray(b"\x00")
    symtab = bytearray(_SYM.pack(0, 0, 0, 0, 0, 0))
    for name in static_symbols:
        symtab += _SYM.pack(len(strtab), 0x02, 0, 7, 0x2000, 16)  # LOCAL FUNC
        strtab += name.encode() + b"\x00"
    names = [b"", b".rodata", b".comment", b".dynsym", b".dynstr", b".shstrtab", b".symtab", b".strtab"]
    shstrtab = bytearray()
    name_off = []
    for n in names:
        name_off.append(len(shstrtab))
        shstrtab += n + b"\x00"
    body = bytearray(b"\x00" * _EHDR.size)
    placed = []
    blobs = [rodata, comment, bytes(dynsym), bytes(dynstr), bytes(shstrtab)]
    kinds = [(1, 0x2, 0, 0, 0), (1, 0x30, 0, 0, 1), (11, 0x2, 4, 1, 24), (3, 0x2, 0, 0, 0), (3, 0, 0, 0, 0)]
    if static_symbols:
        blobs += [bytes(symtab), bytes(strtab)]
        kinds += [(2, 0, 7, len(static_symbols) + 1, 24), (3, 0, 0, 0, 0)]
    for blob in blobs:
        body += b"\x00" * ((-len(body)) % 8)
        placed.append((len(body), len(blob)))
        body += blob
    body += b"\x00" * ((-len(body)) % 8)
    shoff = len(body)
    shdrs = [_SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    for i, ((off, size), (sh_type, flags, link, info, entsize)) in enumerate(zip(placed, kinds, strict=True)):
        shdrs.append(_SHDR.pack(name_off[i + 1], sh_type, flags, 0, off, size, link, info, 8, entsize))
    body += b"".join(shdrs)
    ident = b"\x7fELF\x02\x01\x01" + b"\x00" * 9
    header = _EHDR.pack(ident, 3, machine, 1, 0, 0, shoff, 0, 64, 56, 0, 64, len(shdrs), 5)
    body[: _EHDR.size] = header
    return bytes(body)


def _sample_elf() -> bytes:
    rodata = (
        b"\x00%s: error\x00https://c2.example.com/gate.php?id=\x00api.tracker.example.org\x00"
        b"libc.so\x00java.lang.String\x00version 1.2.3\x00http://10.0.0.1:8080/x\x00"
        b"connect 203.0.113.7:443 now\x00settings.current\x00"
    )
    comment = b"\x00Android (123 based on r1) clang version 9.0.8\x00Obfuscator-LLVM 4.0\x00"
    symbols = (
        ("Java_com_example_Native_run", 7),
        ("JNI_OnLoad", 7),
        ("Java_com_example_Imported_call", 0),  # undefined: an import, not an export
        ("helper", 7),
        ("JNI_OnLoadX", 7),
        (".datadiv_decode9876543210987654321", 7),  # named by a compiler pass
        (".imported.dot", 0),  # undefined: not this library's
    )
    return build_elf(rodata=rodata, comment=comment, symbols=symbols)


def test_built_elf() -> None:
    lib = parse_native("lib/arm64-v8a/libsample.so", _sample_elf())
    assert isinstance(lib, NativeLib)
    assert lib.problem is None
    assert (lib.abi, lib.name, lib.machine) == ("arm64-v8a", "libsample.so", "AArch64")
    assert lib.comment == ("Android (123 based on r1) clang version 9.0.8", "Obfuscator-LLVM 4.0")
    assert lib.jni_exports == ("JNI_OnLoad", "Java_com_example_Native_run")
    assert "https://c2.example.com/gate.php?id=" in lib.strings_sample
    assert "api.tracker.example.org" in lib.strings_sample
    assert "http://10.0.0.1:8080/x" in lib.strings_sample
    assert "203.0.113.7:443" in lib.strings_sample
    # which dotted names have a public suffix is the endpoint extraction's question (the one
    # Public Suffix List reader is appveto.kb.domains): "settings.current" is left to it
    for noise in ("libc.so", "java.lang.String", "1.2.3"):
        assert noise not in lib.strings_sample
    assert lib.dot_symbols == (".datadiv_decode9876543210987654321",)


def test_dot_symbols_from_the_static_symbol_table_are_bounded() -> None:
    static = ("plain_helper", ".datadiv_decode1", "x.y", *(f".pass{i:03d}" for i in range(200)))
    lib = parse_native(
        "lib/arm64-v8a/libstatic.so",
        build_elf(rodata=b"", comment=b"", symbols=(("JNI_OnLoad", 7),), static_symbols=static),
    )
    assert lib.problem is None
    assert len(lib.dot_symbols) == MAX_DOT_SYMBOLS
    assert lib.dot_symbols == tuple(sorted(lib.dot_symbols))
    assert all(n.startswith(".") for n in lib.dot_symbols)
    assert ".datadiv_decode1" in lib.dot_symbols  # first in the table, so inside the bound
    small = parse_native(
        "lib/arm64-v8a/libsmall.so",
        build_elf(rodata=b"", comment=b"", symbols=(), static_symbols=("main", ".datadiv_decode42")),
    )
    assert small.dot_symbols == (".datadiv_decode42",)


def test_endpoint_sample_is_bounded() -> None:
    rodata = b"\x00".join(f"https://h{i}.example.net/p".encode() for i in range(500))
    lib = parse_native("lib/x86/libmany.so", build_elf(rodata=rodata, comment=b"", symbols=(), machine=3))
    assert len(lib.strings_sample) == MAX_ENDPOINT_SAMPLES
    assert lib.machine == "Intel 80386"


def test_not_elf_and_truncated() -> None:
    lib = parse_native("lib/armeabi-v7a/libfake.so", b"PK\x03\x04 not an ELF")
    assert lib.problem is not None and "not an ELF" in lib.problem
    assert (lib.abi, lib.name, lib.machine) == ("armeabi-v7a", "libfake.so", None)
    empty = parse_native("lib/x86/libempty.so", b"")
    assert empty.problem is not None and empty.size == 0
    data = _sample_elf()
    cut = parse_native("lib/arm64-v8a/libcut.so", data[: len(data) - 100])
    assert cut.machine == "AArch64"  # read from the identification bytes before the damage
    assert cut.problem is not None


def test_stripped_section_headers_fall_back_to_nothing_silently() -> None:
    data = bytearray(_sample_elf())
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff = 0
    struct.pack_into("<H", data, 0x3C, 0)  # e_shnum = 0
    lib = parse_native("lib/arm64-v8a/libstripped.so", bytes(data))
    assert lib.machine == "AArch64"
    assert lib.comment == ()


def test_machine_names() -> None:
    assert machine_name(40) == "ARM"
    assert machine_name(62) == "Advanced Micro Devices X86-64"
    assert machine_name(9999) == "EM_9999"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
@cpu_per_example(2.0)  # per example, not wall-clock (the machine is loaded)
def test_damaged_elf_never_raises(data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        blob = bytearray(_sample_elf())
    else:
        statics = (".datadiv_decode1", "local", ".x")
        blob = bytearray(
            build_elf(rodata=b"", comment=b"", symbols=(("JNI_OnLoad", 7),), static_symbols=statics)
        )
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            del blob[data.draw(st.integers(0, len(blob))) :]
        elif blob:
            pos = data.draw(st.integers(0, len(blob) - 1))
            chunk = data.draw(st.binary(min_size=1, max_size=8))
            blob[pos : pos + len(chunk)] = chunk
    lib = parse_native("lib/arm64-v8a/libfuzz.so", bytes(blob))
    assert lib.size == len(blob)
    assert len(lib.strings_sample) <= MAX_ENDPOINT_SAMPLES
    assert len(lib.dot_symbols) <= MAX_DOT_SYMBOLS
    assert all(n.startswith(".") for n in lib.dot_symbols)


# ------------------------------------------------------------------------ corpus


def _readelf(tool: str, path: Path, *args: str) -> str:
    return subprocess.run(
        [tool, "-W", *args, str(path)], capture_output=True, text=True, errors="replace", check=False
    ).stdout


def _readelf_jni(tool: str, path: Path) -> set[str]:
    names: set[str] = set()
    for line in _readelf(tool, path, "--dyn-syms").splitlines():
        cols = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(cols) >= 8 and cols[0].endswith(":") and cols[6] != "UND":
            name = cols[7].split("@")[0]
            if name.startswith("Java_") or name == "JNI_OnLoad":
                names.add(name)
    return names


def _readelf_dot_names(tool: str, path: Path) -> set[str]:
    """Symbol names starting with '.': defined dynamic symbols and any static-table name."""
    names: set[str] = set()
    table = ""
    for line in _readelf(tool, path, "--syms").splitlines():
        if line.startswith("Symbol table"):
            table = ".dynsym" if "'.dynsym'" in line else ".symtab"
        cols = line.split()
        # Num: Value Size Type Bind Vis Ndx Name (readelf shows SECTION symbols by their
        # section's name; their own name is empty)
        if len(cols) < 8 or not cols[0].endswith(":") or cols[3] == "SECTION":
            continue
        if cols[7].startswith(".") and (table == ".symtab" or cols[6] != "UND"):
            names.add(cols[7].split("@")[0])
    return names


def _readelf_comment(tool: str, path: Path) -> tuple[str, ...]:
    out: list[str] = []
    for line in _readelf(tool, path, "-p", ".comment").splitlines():
        m = re.match(r"\s*\[\s*[0-9a-f]+\]\s+(.*)$", line)
        if m and m.group(1).strip() not in out:
            out.append(m.group(1).strip())
    return tuple(out)


def _native_apks() -> list[object]:
    """One parameter per corpus APK that ships lib/<abi>/*.so (names only are read here)."""
    params: list[object] = []
    for apk in corpus_apks():
        try:
            with open_archive(apk) as archive:
                if any(NATIVE.match(n) for n in archive.names()):
                    params.append(pytest.param(apk, id=apk.name))
        except ApkError:
            continue
    return params or [pytest.param(None, id="corpus-absent")]


@pytest.mark.parametrize("corpus_file", _native_apks(), indirect=True)
def test_corpus_native_matches_readelf(corpus_file: Path, tmp_path: Path) -> None:
    with open_archive(corpus_file) as archive:
        libs = [(e.name, archive.read(e)) for e in archive.entries if NATIVE.match(e.name)]
    readelf = require_tool("readelf")
    for entry, data in libs:
        lib = parse_native(entry, data)
        m = NATIVE.match(entry)
        assert m is not None
        assert (lib.entry, lib.abi, lib.name, lib.size) == (entry, m.group(1), m.group(2), len(data))
        path = tmp_path / m.group(2)
        path.write_bytes(data)
        header = _readelf(readelf, path, "-h")
        machine = re.search(r"^\s*Machine:\s+(.*)$", header, re.M)
        if machine is None:
            assert lib.problem is not None
            continue
        assert lib.machine == machine.group(1).strip(), entry
        assert set(lib.jni_exports) == _readelf_jni(readelf, path), entry
        assert lib.comment == _readelf_comment(readelf, path), entry
        dots = _readelf_dot_names(readelf, path)
        assert set(lib.dot_symbols) <= dots, entry
        assert len(lib.dot_symbols) == min(len(dots), MAX_DOT_SYMBOLS), entry
        assert lib.problem is None, f"{entry}: {lib.problem}"
        # Packers strip the section headers: the exports must still be found via PT_DYNAMIC.
        stripped = parse_native(entry, _strip_section_headers(data))
        assert stripped.jni_exports == lib.jni_exports, f"{entry}: stripped section headers"
        assert set(stripped.dot_symbols) <= dots, f"{entry}: stripped section headers"
        assert stripped.machine == lib.machine
        # ... and without DT_HASH (GNU_HASH-only libraries): the table size comes from the layout.
        no_hash = parse_native(entry, _strip_section_headers(_without_dt_hash(data)))
        assert no_hash.jni_exports == lib.jni_exports, f"{entry}: no DT_HASH"


def _strip_section_headers(data: bytes) -> bytes:
    out = bytearray(data)
    if out[4] == 2:  # ELF64: e_shoff at 0x28, e_shnum at 0x3C
        struct.pack_into("<Q", out, 0x28, 0)
        struct.pack_into("<H", out, 0x3C, 0)
    else:  # ELF32: e_shoff at 0x20, e_shnum at 0x30
        struct.pack_into("<I", out, 0x20, 0)
        struct.pack_into("<H", out, 0x30, 0)
    return bytes(out)


def _without_dt_hash(data: bytes) -> bytes:
    """Turn the DT_HASH entry of the dynamic segment into DT_DEBUG (which readers ignore)."""
    out = bytearray(data)
    is64 = out[4] == 2
    phoff = struct.unpack_from("<Q" if is64 else "<I", out, 0x20 if is64 else 0x1C)[0]
    phentsize, phnum = struct.unpack_from("<HH", out, 0x36 if is64 else 0x2A)
    for i in range(phnum):
        at = phoff + i * phentsize
        if struct.unpack_from("<I", out, at)[0] != 2:  # PT_DYNAMIC
            continue
        off, size = (
            struct.unpack_from("<QQQQ", out, at + 8)[0::3]
            if is64
            else struct.unpack_from("<IIII", out, at + 4)[0::3]
        )
        step = 16 if is64 else 8
        for j in range(size // step):
            tag_at = off + j * step
            tag = struct.unpack_from("<q" if is64 else "<i", out, tag_at)[0]
            if tag == 4:  # DT_HASH
                struct.pack_into("<q" if is64 else "<i", out, tag_at, 21)
    return bytes(out)


def test_libraries_are_counted_once_with_their_abis() -> None:
    from appveto.apk.native import group_libraries, libraries_text

    abis = ("arm64-v8a", "armeabi", "armeabi-v7a", "mips", "mips64", "x86", "x86_64")
    libs = [NativeLib(f"lib/{a}/libdivajni.so", a, "libdivajni.so", 1000 + i) for i, a in enumerate(abis)]
    (g,) = group_libraries(libs)
    assert (g.name, g.abis, g.largest, len(g.entries)) == ("libdivajni.so", tuple(sorted(abis)), 1006, 7)
    assert libraries_text(libs) == "1 native library (libdivajni.so) in 7 ABIs"
    two = [*libs[:4], NativeLib("lib/x86/libtool-checker.so", "x86", "libtool-checker.so", 5)]
    assert libraries_text(two) == "2 native libraries (libdivajni.so, libtool-checker.so) in 5 ABIs"


def test_diva_reports_one_library_in_seven_abis() -> None:
    from appveto.apk import load_apk
    from appveto.checks.obf import native
    from appveto.kb import load_baseline
    from tests.conftest import corpus_apk

    (f,) = native(load_apk(str(corpus_apk("diva-native.apk"))), load_baseline())
    assert f.message.startswith("1 native library (libdivajni.so) in 7 ABIs, ")
