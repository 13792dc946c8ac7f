"""ELF facts of the native libraries in ``lib/<abi>/*.so``.

For each library: the ABI folder it ships in, the ELF machine, the strings of the
``.comment`` section (compiler fingerprints such as ``GCC: (GNU) 4.9``, ``Android clang``,
``Obfuscator-LLVM``, ``Hikari``), the dynamic symbols that are JNI entry points
(``Java_*`` and ``JNI_OnLoad``, defined in the library, as ``nm -D --defined-only`` lists
them) and a bounded sample of printable strings from ``.rodata`` that look like
endpoints (URLs, host names, IPv4 addresses).

Hostile or damaged files never raise: a file that is not ELF, is truncated, or that
pyelftools cannot walk becomes ``NativeLib(problem=...)`` with whatever was read before
the problem. When the section headers are stripped (a packer trick), the dynamic
symbols are read through the ``PT_DYNAMIC`` segment and the strings from the loadable
segments instead.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterable, Iterator
from functools import cache

from publicsuffixlist import PublicSuffixList

from appveto.apk.model import NativeLib

__all__ = ["MAX_ENDPOINT_SAMPLES", "machine_name", "parse_native"]

MAX_ENDPOINT_SAMPLES = 64
"""At most this many endpoint-like strings are kept per library."""
MAX_STRING_LEN = 512
MAX_COMMENT_STRINGS = 32
MAX_JNI_EXPORTS = 10_000
MAX_SCAN_BYTES = 64 * 1024 * 1024

# e_machine values (System V gABI) named as binutils' readelf names them.
_MACHINES = {
    0: "None",
    3: "Intel 80386",
    8: "MIPS R3000",
    20: "PowerPC",
    21: "PowerPC64",
    40: "ARM",
    50: "Intel IA-64",
    62: "Advanced Micro Devices X86-64",
    183: "AArch64",
    243: "RISC-V",
    258: "LoongArch",
}

_ELF_MAGIC = b"\x7fELF"
_PRINTABLE = re.compile(rb"[\x20-\x7e]{6,%d}" % MAX_STRING_LEN)
_URL = re.compile(r"\b(?:https?|wss?|ftp|tcp|udp|rtmp)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+", re.I)
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?::\d{1,5})?\b")
_HOST = re.compile(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,10}[A-Za-z]{2,24}\b")
# Dotted names that are files, symbols or Java/C++ identifiers rather than hosts.
_NOT_TLDS = frozenset(
    {
        "so", "a", "o", "c", "h", "cc", "cpp", "hpp", "java", "class", "dex", "jar", "apk", "zip",
        "odex", "oat", "vdex", "art", "txt", "xml", "json", "png", "jpg", "jpeg", "gif", "webp", "bin",
        "dat", "cfg", "conf", "ini", "log", "tmp", "db", "sqlite", "pem", "crt", "der", "key", "smali",
        "js", "css", "html", "htm", "py", "sh", "mk", "md", "lock", "sig", "prop", "rc", "init", "kt",
        "proto", "pb", "plist", "lua", "jsx", "ts", "cs", "go", "rs", "elf",
    }
)


def machine_name(e_machine: int) -> str:
    """readelf's name of an ELF ``e_machine`` value, ``EM_<n>`` for one not listed."""
    return _MACHINES.get(e_machine, f"EM_{e_machine}")


def _abi_and_name(entry: str) -> tuple[str, str]:
    parts = entry.split("/")
    name = parts[-1]
    abi = parts[1] if len(parts) >= 3 and parts[0] == "lib" else ""
    return abi, name


def _header_machine(data: bytes) -> int | None:
    """``e_machine`` straight from the identification bytes (works on truncated files)."""
    if len(data) < 20 or data[:4] != _ELF_MAGIC:
        return None
    fmt = ">H" if data[5] == 2 else "<H"
    return int(struct.unpack_from(fmt, data, 18)[0])


def _endpoints(blobs: Iterable[bytes]) -> tuple[str, ...]:
    found: list[str] = []
    seen: set[str] = set()
    scanned = 0
    for blob in blobs:
        scanned += len(blob)
        if scanned > MAX_SCAN_BYTES:
            break
        for m in _PRINTABLE.finditer(blob):
            text = m.group().decode("ascii")
            for hit in _endpoint_hits(text):
                if hit not in seen:
                    seen.add(hit)
                    found.append(hit)
                    if len(found) >= MAX_ENDPOINT_SAMPLES:
                        return tuple(found)
    return tuple(found)


def _endpoint_hits(text: str) -> Iterator[str]:
    urls = [u.group().rstrip(".,;:'\")]") for u in _URL.finditer(text)]
    yield from urls
    if urls:
        return
    for ip in _IPV4.finditer(text):
        yield ip.group()
    for host in _HOST.finditer(text):
        name = host.group()
        tld = name.rsplit(".", 1)[1].lower()
        if tld in _NOT_TLDS or not any(c.isalpha() for c in name.split(".", 1)[0]):
            continue
        # ``java.lang.String`` style identifiers: mixed case after the first label.
        if any(c.isupper() for c in name.split(".", 1)[1]):
            continue
        # The last label must be a real top-level domain (Public Suffix List, shipped offline).
        if _public_suffixes().publicsuffix(name.lower(), accept_unknown=False) is not None:
            yield name


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def _comment_strings(raw: bytes) -> tuple[str, ...]:
    out: list[str] = []
    for piece in raw.split(b"\x00"):
        text = piece.decode("utf-8", "replace").strip()
        if text and text not in out:
            out.append(text[:MAX_STRING_LEN])
            if len(out) >= MAX_COMMENT_STRINGS:
                break
    return tuple(out)


def _is_jni(name: str) -> bool:
    return name.startswith("Java_") or name == "JNI_OnLoad"


def parse_native(entry: str, data: bytes) -> NativeLib:
    """Read what a vetter needs from one ``.so``; never raises on bad input."""
    abi, name = _abi_and_name(entry)
    size = len(data)
    e_machine = _header_machine(data)
    machine = machine_name(e_machine) if e_machine is not None else None
    if data[:4] != _ELF_MAGIC:
        return NativeLib(entry, abi, name, size, problem=f"not an ELF file (starts with {bytes(data[:4])!r})")
    if len(data) < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
        return NativeLib(
            entry, abi, name, size, machine=machine, problem="truncated or invalid ELF identification"
        )

    comment: tuple[str, ...] = ()
    exports: list[str] = []
    sample: tuple[str, ...] = ()
    problem: str | None = None
    try:
        from elftools.elf.elffile import ELFFile

        elf = ELFFile(io.BytesIO(data))
        has_sections = elf.num_sections() > 0 and elf["e_shoff"] < size
        rodata_seen = False
        if has_sections:
            sec = elf.get_section_by_name(".comment")
            if sec is not None and sec["sh_type"] != "SHT_NOBITS":
                comment = _comment_strings(sec.data()[: 64 * 1024])
            dynsym = elf.get_section_by_name(".dynsym")
            if dynsym is not None and hasattr(dynsym, "iter_symbols"):
                exports = _jni_symbols(dynsym.iter_symbols())
            rodata = [
                s.data()
                for s in elf.iter_sections()
                if s.name.startswith(".rodata") and s["sh_type"] == "SHT_PROGBITS"
            ]
            rodata_seen = bool(rodata)
            sample = _endpoints(rodata)
        if not exports:
            exports = _dynamic_segment_exports(elf)
        if not rodata_seen:
            sample = _endpoints(_load_segments(elf, data))
    except Exception as exc:  # pyelftools raises many kinds on damaged files
        problem = f"ELF structure could not be read: {type(exc).__name__}: {exc}"[:MAX_STRING_LEN]
    return NativeLib(
        entry,
        abi,
        name,
        size,
        machine=machine,
        comment=comment,
        jni_exports=tuple(sorted(set(exports))),
        strings_sample=sample,
        problem=problem,
    )


def _jni_symbols(symbols: Iterable[object]) -> list[str]:
    out: list[str] = []
    for sym in symbols:
        name: str = sym.name  # type: ignore[attr-defined]
        if _is_jni(name) and sym["st_shndx"] != "SHN_UNDEF":  # type: ignore[index]
            out.append(name)
            if len(out) >= MAX_JNI_EXPORTS:
                break
    return out


def _dynamic_segment_exports(elf: object) -> list[str]:
    """JNI symbols through ``PT_DYNAMIC`` when there is no ``.dynsym`` section header."""
    for seg in elf.iter_segments():  # type: ignore[attr-defined]
        if seg["p_type"] == "PT_DYNAMIC" and hasattr(seg, "iter_symbols"):
            return _jni_symbols(seg.iter_symbols())
    return []


def _load_segments(elf: object, data: bytes) -> Iterator[bytes]:
    """File bytes of the read-only loadable segments (where ``.rodata`` lives)."""
    for seg in elf.iter_segments():  # type: ignore[attr-defined]
        if seg["p_type"] != "PT_LOAD" or seg["p_flags"] & 0x2:  # skip writable segments
            continue
        start, length = seg["p_offset"], seg["p_filesz"]
        if 0 <= start < len(data):
            yield data[start : start + length]
