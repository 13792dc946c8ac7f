"""ELF facts of the native libraries in ``lib/<abi>/*.so``.

For each library: the ABI folder it ships in, the ELF machine, the strings of the
``.comment`` section (compiler fingerprints such as ``GCC: (GNU) 4.9``, ``Android clang``,
``Obfuscator-LLVM``, ``Hikari``), the dynamic symbols that are JNI entry points
(``Java_*`` and ``JNI_OnLoad``, defined in the library, as ``nm -D --defined-only`` lists
them), the defined symbol names that start with ``.`` (made by compiler passes, never by
source code: e.g. the ``.datadiv_decode<n>`` string decoders of O-LLVM-family string
encryption) and a bounded sample of printable strings from ``.rodata`` that look like
endpoints (URLs, dotted names, IPv4 addresses; which of them are hosts is decided by the
endpoint extraction against the Public Suffix List of the knowledge base).

The ELF structures are read by a small bounds-checked parser (headers, section headers,
program headers, symbol tables): it is many times faster than a general ELF library on
large libraries and has a single failure mode. Hostile or damaged files never raise: a
file that is not ELF, is truncated, or whose tables point outside it becomes
``NativeLib(problem=...)`` with whatever could be read. When the section headers are
stripped (a packer trick), the dynamic symbols are read through ``PT_DYNAMIC`` and the
strings from the read-only loadable segments instead.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from appveto.apk.model import NativeLib

__all__ = [
    "MAX_ENDPOINT_SAMPLES",
    "LibraryGroup",
    "group_libraries",
    "libraries_text",
    "machine_name",
    "parse_native",
]

MAX_ENDPOINT_SAMPLES = 256
"""At most this many endpoint-like strings are kept per library (candidates: the endpoint
extraction keeps those whose suffix the Public Suffix List knows)."""
MAX_STRING_LEN = 512
MAX_COMMENT_STRINGS = 32
MAX_JNI_EXPORTS = 10_000
MAX_DOT_SYMBOLS = 64
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
# fmt: off
_NOT_TLDS = frozenset(
    {
        "so", "a", "o", "c", "h", "cc", "cpp", "hpp", "java", "class", "dex", "jar", "apk", "zip",
        "odex", "oat", "vdex", "art", "txt", "xml", "json", "png", "jpg", "jpeg", "gif", "webp", "bin",
        "dat", "cfg", "conf", "ini", "log", "tmp", "db", "sqlite", "pem", "crt", "der", "key", "smali",
        "js", "css", "html", "htm", "py", "sh", "mk", "md", "lock", "sig", "prop", "rc", "init", "kt",
        "proto", "pb", "plist", "lua", "jsx", "ts", "cs", "go", "rs", "elf",
    }
)
# fmt: on


@dataclass(frozen=True, slots=True)
class LibraryGroup:
    """One native library as a developer wrote it: the same file name built for several ABIs."""

    name: str
    abis: tuple[str, ...]
    entries: tuple[str, ...]
    largest: int
    """Size in bytes of its largest build."""


def group_libraries(libs: Iterable[NativeLib]) -> tuple[LibraryGroup, ...]:
    """The libraries by file name, each with the ABIs it is built for (``lib/<abi>/<name>``)."""
    by_name: dict[str, list[NativeLib]] = {}
    for lib in libs:
        by_name.setdefault(lib.name, []).append(lib)
    return tuple(
        LibraryGroup(
            name,
            tuple(sorted({b.abi for b in builds if b.abi})),
            tuple(sorted(b.entry for b in builds)),
            max(b.size for b in builds),
        )
        for name, builds in sorted(by_name.items())
    )


def libraries_text(libs: Iterable[NativeLib]) -> str:
    """``1 native library (libdivajni.so) in 7 ABIs``: libraries counted once, whatever the ABIs."""
    groups = group_libraries(libs)
    abis = sorted({a for g in groups for a in g.abis})
    n = len(groups)
    names = ", ".join(g.name for g in groups[:3]) + (", ..." if n > 3 else "")
    text = f"{n} native librar{'y' if n == 1 else 'ies'} ({names})"
    if abis:
        text += f" in {len(abis)} ABI{'' if len(abis) == 1 else 's'}"
    return text


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
        # Whether the last labels are a public suffix is the knowledge base's question
        # (appveto.kb.domains, the one Public Suffix List reader): checks/endpoints.py asks it.
        yield name


def _comment_strings(raw: bytes) -> tuple[str, ...]:
    out: list[str] = []
    for piece in raw.split(b"\x00"):
        text = piece.decode("utf-8", "replace").strip()
        if text and text not in out:
            out.append(text[:MAX_STRING_LEN])
            if len(out) >= MAX_COMMENT_STRINGS:
                break
    return tuple(out)


_DOT_NAME = re.compile(rb"\x00(\.[\x21-\x7e]{1,255})(?=\x00)")


def _dot_names(strtab: bytes, into: set[str]) -> None:
    """Names starting with ``.`` in a symbol string table (``.strtab``), bounded."""
    for m in _DOT_NAME.finditer(strtab):
        if len(into) >= MAX_DOT_SYMBOLS:
            return
        into.add(m.group(1).decode("ascii"))


class _Damaged(Exception):
    """A structure of the ELF file lies outside it or is inconsistent."""


class _Section:
    __slots__ = ("entsize", "link", "name", "offset", "size", "type")

    def __init__(self, name: str, type_: int, offset: int, size: int, link: int, entsize: int) -> None:
        self.name = name
        self.type = type_
        self.offset = offset
        self.size = size
        self.link = link
        self.entsize = entsize


class _Elf:
    """A bounds-checked reader of the ELF structures we need (headers, sections, symbols)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.is64 = data[4] == 2
        self.end = "<" if data[5] == 1 else ">"
        fields = self._unpack("HHIQQQIHHHHHH" if self.is64 else "HHIIIIIHHHHHH", 16)
        self.phoff, self.shoff = fields[4], fields[5]
        self.phentsize, self.phnum = fields[8], fields[9]
        self.shentsize, self.shnum, self.shstrndx = fields[10], fields[11], fields[12]

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        st = struct.Struct(self.end + fmt)
        if offset < 0 or offset + st.size > self.size:
            raise _Damaged(f"{st.size} bytes at {offset:#x} lie outside the file of {self.size} bytes")
        return st.unpack_from(self.data, offset)

    def cstring(self, offset: int, limit: int = MAX_STRING_LEN) -> str:
        if not 0 <= offset < self.size:
            raise _Damaged(f"string at {offset:#x} lies outside the file")
        end = self.data.find(b"\x00", offset, min(self.size, offset + limit))
        raw = self.data[offset : end if end >= 0 else min(self.size, offset + limit)]
        return raw.decode("utf-8", "replace")

    def blob(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise _Damaged(f"{size} bytes at {offset:#x} lie outside the file of {self.size} bytes")
        return self.data[offset : offset + size]

    def sections(self) -> list[_Section]:
        if self.shoff == 0:
            return []
        entsize = 64 if self.is64 else 40
        if self.shentsize < entsize:
            raise _Damaged(f"e_shentsize {self.shentsize} is below {entsize}")
        fmt = "IIQQQQIIQQ" if self.is64 else "IIIIIIIIII"
        count, strndx = self.shnum, self.shstrndx
        if count == 0 or strndx == 0xFFFF:  # extended numbering: the values live in section 0
            first = self._unpack(fmt, self.shoff)
            count = count or first[5]
            strndx = first[6] if strndx == 0xFFFF else strndx
        if self.shoff + count * self.shentsize > self.size:
            raise _Damaged(f"{count} section headers at {self.shoff:#x} run past the end of the file")
        raw = []
        for i in range(count):
            name, type_, _fl, _addr, off, size, link, _info, _al, ent = self._unpack(
                fmt, self.shoff + i * self.shentsize
            )
            raw.append((name, type_, off, size, link, ent))
        names_at = raw[strndx][2] if 0 < strndx < count else None
        out = []
        for name, type_, off, size, link, ent in raw:
            label = ""
            if names_at is not None and name:
                try:
                    label = self.cstring(names_at + name, 256)
                except _Damaged:
                    label = ""
            out.append(_Section(label, type_, off, size, link, ent))
        return out

    def segments(self) -> list[tuple[int, int, int, int, int]]:
        """(type, flags, offset, vaddr, filesz) of each program header."""
        if self.phoff == 0 or self.phnum == 0:
            return []
        if self.phentsize < (56 if self.is64 else 32):
            raise _Damaged(f"e_phentsize {self.phentsize} is too small")
        out = []
        for i in range(min(self.phnum, 4096)):
            at = self.phoff + i * self.phentsize
            if self.is64:
                type_, flags, off, vaddr, _pa, filesz, _mem, _al = self._unpack("IIQQQQQQ", at)
            else:
                type_, off, vaddr, _pa, filesz, _mem, flags, _al = self._unpack("IIIIIIII", at)
            out.append((type_, flags, off, vaddr, filesz))
        return out

    def jni_symbols(
        self, symtab: int, count: int, strtab: int, strsize: int, dots: set[str] | None = None
    ) -> list[str]:
        """Defined JNI symbols of a symbol table (file offsets), read in one pass.

        Defined symbols whose names start with ``.`` go into ``dots`` when it is given.
        """
        entsize = 24 if self.is64 else 16
        count = max(0, min(count, (self.size - symtab) // entsize if symtab < self.size else 0))
        table = self.blob(symtab, count * entsize)
        fmt = self.end + ("IBBHQQ" if self.is64 else "IIIBBH")
        name_at, shndx_at = (0, 3) if self.is64 else (0, 5)
        data = self.data
        str_end = min(self.size, strtab + strsize) if strsize else self.size
        out: list[str] = []
        for sym in struct.iter_unpack(fmt, table):
            off = strtab + sym[name_at]
            if sym[shndx_at] == 0 or off >= str_end:  # SHN_UNDEF: an import
                continue
            if data.startswith(b"Java_", off) or data.startswith(b"JNI_OnLoad\x00", off):
                out.append(self.cstring(off, 4096))
                if len(out) >= MAX_JNI_EXPORTS:
                    break
            elif dots is not None and data[off] == 0x2E and len(dots) < MAX_DOT_SYMBOLS:
                dots.add(self.cstring(off, 256))
        return out

    def vaddr_to_offset(self, vaddr: int, loads: list[tuple[int, int, int, int, int]]) -> int | None:
        for type_, _flags, off, seg_vaddr, filesz in loads:
            if type_ == 1 and seg_vaddr <= vaddr < seg_vaddr + filesz:
                return off + (vaddr - seg_vaddr)
        return None

    def dynamic_jni_symbols(
        self, segs: list[tuple[int, int, int, int, int]], dots: set[str] | None = None
    ) -> list[str]:
        """JNI symbols through ``PT_DYNAMIC`` (when section headers are stripped or lie)."""
        dyn = next((s for s in segs if s[0] == 2), None)  # PT_DYNAMIC
        if dyn is None:
            return []
        entsize = 16 if self.is64 else 8
        fmt = self.end + ("qQ" if self.is64 else "iI")
        tags: dict[int, int] = {}
        for i in range(min(dyn[4] // entsize, 4096)):
            tag, val = self._unpack(fmt[1:], dyn[2] + i * entsize)
            if tag == 0:
                break
            tags.setdefault(tag, val)
        if 6 not in tags or 5 not in tags:  # DT_SYMTAB, DT_STRTAB
            return []
        symtab = self.vaddr_to_offset(tags[6], segs)
        strtab = self.vaddr_to_offset(tags[5], segs)
        if symtab is None or strtab is None:
            return []
        sym_size = 24 if self.is64 else 16
        if 4 in tags:  # DT_HASH: nchain is the number of symbols
            hash_at = self.vaddr_to_offset(tags[4], segs)
            count = self._unpack("II", hash_at)[1] if hash_at is not None else 0
        else:  # .dynsym is laid out just before .dynstr by every linker
            count = (strtab - symtab) // sym_size if strtab > symtab else 0
        return self.jni_symbols(symtab, count, strtab, tags.get(10, 0), dots)


def parse_native(entry: str, data: bytes) -> NativeLib:
    """Read what a vetter needs from one ``.so``; never raises on bad input."""
    abi, name = _abi_and_name(entry)
    if not isinstance(data, bytes):
        data = bytes(data)
    size = len(data)
    e_machine = _header_machine(data)
    machine = machine_name(e_machine) if e_machine is not None else None
    if data[:4] != _ELF_MAGIC:
        return NativeLib(entry, abi, name, size, problem=f"not an ELF file (starts with {data[:4]!r})")
    if len(data) < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
        return NativeLib(
            entry, abi, name, size, machine=machine, problem="truncated or invalid ELF identification"
        )

    comment: tuple[str, ...] = ()
    exports: list[str] = []
    dots: set[str] = set()
    sample: tuple[str, ...] = ()
    problems: list[str] = []
    elf = _Elf(data) if size >= (64 if data[4] == 2 else 52) else None
    if elf is None:
        problems.append("truncated ELF header")
    else:
        sections: list[_Section] = []
        try:
            sections = elf.sections()
        except _Damaged as exc:
            problems.append(f"section headers: {exc}")
        rodata: list[bytes] = []
        for sec in sections:
            try:
                if sec.name == ".comment" and sec.type != 8:  # not SHT_NOBITS
                    comment = _comment_strings(elf.blob(sec.offset, min(sec.size, 64 * 1024)))
                elif sec.type == 11 and not exports:  # SHT_DYNSYM
                    strtab = sections[sec.link] if 0 < sec.link < len(sections) else None
                    if strtab is not None:
                        step = sec.entsize or (24 if elf.is64 else 16)
                        exports = elf.jni_symbols(
                            sec.offset, sec.size // step, strtab.offset, strtab.size, dots
                        )
                elif sec.type == 2 and 0 < sec.link < len(sections):  # SHT_SYMTAB: names only
                    names = sections[sec.link]
                    _dot_names(elf.blob(names.offset, min(names.size, MAX_SCAN_BYTES)), dots)
                elif sec.name.startswith(".rodata") and sec.type == 1:  # SHT_PROGBITS
                    rodata.append(elf.blob(sec.offset, sec.size))
            except _Damaged as exc:
                problems.append(f"section {sec.name or '?'}: {exc}")
        segments: list[tuple[int, int, int, int, int]] = []
        if not exports or not rodata:
            try:
                segments = elf.segments()
            except _Damaged as exc:
                problems.append(f"program headers: {exc}")
        if not exports and segments:
            try:
                exports = elf.dynamic_jni_symbols(segments, dots)
            except _Damaged as exc:
                problems.append(f"dynamic segment: {exc}")
        if not rodata:
            # No .rodata section header (stripped by a packer): the read-only loadable segments.
            rodata = [
                data[off : off + filesz]
                for type_, flags, off, _v, filesz in segments
                if type_ == 1 and not flags & 0x2 and 0 <= off < size
            ]
        sample = _endpoints(rodata)
    return NativeLib(
        entry,
        abi,
        name,
        size,
        machine=machine,
        comment=comment,
        jni_exports=tuple(sorted(set(exports))),
        strings_sample=sample,
        problem="; ".join(problems)[:MAX_STRING_LEN] if problems else None,
        dot_symbols=tuple(sorted(dots)[:MAX_DOT_SYMBOLS]),
    )
