"""Mach-O facts of the app's executables: architectures, encryption, hardening, links,
class names, endpoint strings and the code signature.

The headers are checked here before anything else reads them: a fat header whose slices
overlap or run past the file, a load-command area larger than the slice, a command whose
size is zero or runs past that area, and the file ranges of segments, encryption and
signature commands that point outside the slice are each a problem naming the entry and
the offset; the slice is then not handed on. A slice that passes is read with LIEF (the
Quarkslab Mach-O parser, fuzzed on OSS-Fuzz) for symbols, libraries and sections.

FairPlay: an App Store binary's ``__TEXT`` pages are encrypted (``cryptid`` 1). Its
class names and strings are then ciphertext; this reader says ``encrypted`` and reads
no string from the encrypted range (imports, libraries and the signature lie outside it
and are still read).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING

from appveto.errors import IpaError
from appveto.ipa.model import CodeSignature, MachOFile, MachOSlice
from appveto.ipa.signing import parse_code_signature

if TYPE_CHECKING:
    import lief

_FAT_MAGIC = 0xCAFEBABE
_FAT_MAGIC_64 = 0xCAFEBABF
_MH_MAGIC = 0xFEEDFACE
_MH_MAGIC_64 = 0xFEEDFACF
_MAX_FAT_ARCHS = 32
_MAX_CMDS = 4096
_LC_SEGMENT = 0x1
_LC_SEGMENT_64 = 0x19
_LC_CODE_SIGNATURE = 0x1D
_LC_ENCRYPTION_INFO = 0x21
_LC_ENCRYPTION_INFO_64 = 0x2C
_LC_SYMTAB = 0x2

_CPU_ARM = 12
_CPU_ARM64 = 12 | 0x01000000
_CPU_X86 = 7
_CPU_X86_64 = 7 | 0x01000000
_ARM_SUBTYPES = {5: "armv4t", 6: "armv6", 7: "armv5", 9: "armv7", 11: "armv7s", 12: "armv7k", 13: "armv8"}

_CANARY = frozenset({"___stack_chk_fail", "___stack_chk_guard"})
_ARC = frozenset(
    {
        "_objc_release",
        "_objc_retain",
        "_objc_storeStrong",
        "_objc_retainAutoreleasedReturnValue",
        "_objc_autoreleaseReturnValue",
        "_swift_release",
        "_swift_retain",
    }
)
_CLASS_SYM = "_OBJC_CLASS_$_"
_URL = re.compile(rb"(?:https?|wss?)://[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#\[\]]{3,2048}")
_CLASS_NAME = re.compile(rb"[A-Za-z_$][A-Za-z0-9_$.]{1,255}")
_STRING_SECTIONS = ("__cstring", "__oslogstring", "__const")
_MAX_URLS = 2000


def cpu_name(cputype: int, subtype: int) -> str:
    sub = subtype & 0x00FFFFFF
    if cputype == _CPU_ARM64:
        return "arm64e" if sub == 2 else "arm64"
    if cputype == _CPU_ARM:
        return _ARM_SUBTYPES.get(sub, f"arm(subtype {sub})")
    if cputype == _CPU_X86_64:
        return "x86_64"
    if cputype == _CPU_X86:
        return "i386"
    return f"cpu {cputype:#x}"


def is_macho(head: bytes) -> bool:
    """True for a thin Mach-O (either byte order) or a plausible fat header (a Java class
    file shares 0xcafebabe but has a version where the slice count would be)."""
    if len(head) < 8:
        return False
    le = struct.unpack_from("<I", head)[0]
    if le in (_MH_MAGIC, _MH_MAGIC_64):
        return True
    be, nfat = struct.unpack_from(">II", head)
    return be in (_FAT_MAGIC, _FAT_MAGIC_64) and 0 < nfat <= _MAX_FAT_ARCHS


def slices_of(
    data: bytes, *, file: str, entry: str
) -> tuple[bool, list[tuple[int, int, int, int]], list[str]]:
    """(fat, [(offset, size, cputype, subtype)], problems) of a Mach-O file. Overlapping
    slices after the first and slices outside the file are problems, not slices.
    Raises :class:`IpaError` when ``data`` is not a Mach-O file at all."""
    n = len(data)
    if n < 28:
        raise IpaError.at(f"{n} bytes is too small for a Mach-O header", file=file, entry=entry, offset=0)
    le = struct.unpack_from("<I", data)[0]
    if le in (_MH_MAGIC, _MH_MAGIC_64):
        cputype, subtype = struct.unpack_from("<ii", data, 4)
        return False, [(0, n, cputype & 0xFFFFFFFF, subtype & 0xFFFFFFFF)], []
    magic, nfat = struct.unpack_from(">II", data)
    if magic not in (_FAT_MAGIC, _FAT_MAGIC_64):
        raise IpaError.at(f"not a Mach-O file (magic {data[:4].hex()})", file=file, entry=entry, offset=0)
    if not 0 < nfat <= _MAX_FAT_ARCHS:
        raise IpaError.at(
            f"fat header declares {nfat} architectures (1..{_MAX_FAT_ARCHS} allowed)",
            file=file,
            entry=entry,
            offset=4,
        )
    wide = magic == _FAT_MAGIC_64
    rec = struct.Struct(">iiQQII" if wide else ">iiIII")
    if 8 + nfat * rec.size > n:
        raise IpaError.at("fat header runs past the end of the file", file=file, entry=entry, offset=8)
    problems: list[str] = []
    found: list[tuple[int, int, int, int]] = []
    for i in range(nfat):
        at = 8 + i * rec.size
        fields = rec.unpack_from(data, at)
        cputype, subtype, offset, size = fields[0], fields[1], fields[2], fields[3]
        name = cpu_name(cputype & 0xFFFFFFFF, subtype & 0xFFFFFFFF)
        if offset < 8 + nfat * rec.size or size <= 0 or offset + size > n:
            problems.append(
                f"fat slice #{i} ({name}) at {offset:#x}, {size} bytes, lies outside the file "
                f"({n} bytes) or over the fat header: not read"
            )
            continue
        clash = next((s for s in found if offset < s[0] + s[1] and s[0] < offset + size), None)
        if clash is not None:
            problems.append(
                f"fat slice #{i} ({name}) at {offset:#x}, {size} bytes, overlaps the slice at {clash[0]:#x}: "
                "not read (a crafted fat header; the kernel refuses overlapping slices)"
            )
            continue
        found.append((offset, size, cputype & 0xFFFFFFFF, subtype & 0xFFFFFFFF))
    return True, found, problems


def _check_load_commands(
    data: bytes, start: int, size: int, *, file: str, entry: str
) -> tuple[tuple[int, int, int] | None, tuple[int, int] | None, list[str]]:
    """Validate the load commands of the slice at ``start``. Returns (encryption
    (cryptoff, cryptsize, cryptid) or None, code signature (dataoff, datasize) or None,
    problems). Raises :class:`IpaError` when the header itself cannot be walked."""
    magic = struct.unpack_from("<I", data, start)[0]
    if magic not in (_MH_MAGIC, _MH_MAGIC_64):
        raise IpaError.at(
            f"slice is not a little-endian Mach-O (magic {data[start : start + 4].hex()})",
            file=file,
            entry=entry,
            offset=start,
        )
    wide = magic == _MH_MAGIC_64
    header = 32 if wide else 28
    if size < header:
        raise IpaError.at("slice is smaller than a Mach-O header", file=file, entry=entry, offset=start)
    ncmds, sizeofcmds = struct.unpack_from("<II", data, start + 16)
    if ncmds > _MAX_CMDS or header + sizeofcmds > size:
        raise IpaError.at(
            f"{ncmds} load commands in {sizeofcmds} bytes do not fit the {size}-byte slice",
            file=file,
            entry=entry,
            offset=start + 16,
        )
    problems: list[str] = []
    enc: tuple[int, int, int] | None = None
    sig: tuple[int, int] | None = None
    pos = start + header
    end = pos + sizeofcmds
    for i in range(ncmds):
        if pos + 8 > end:
            raise IpaError.at(
                f"load command #{i} starts past the load-command area", file=file, entry=entry, offset=pos
            )
        cmd, cmdsize = struct.unpack_from("<II", data, pos)
        if cmdsize < 8 or pos + cmdsize > end:
            raise IpaError.at(
                f"load command #{i} ({cmd:#x}) of {cmdsize} bytes runs past the load-command area",
                file=file,
                entry=entry,
                offset=pos,
            )
        kind = cmd & 0x7FFFFFFF
        if kind in (_LC_SEGMENT, _LC_SEGMENT_64):
            if kind == _LC_SEGMENT_64 and cmdsize >= 72:
                fileoff, filesize = struct.unpack_from("<QQ", data, pos + 40)
            elif kind == _LC_SEGMENT and cmdsize >= 56:
                fileoff, filesize = struct.unpack_from("<II", data, pos + 32)
            else:
                fileoff = filesize = 0
            if fileoff + filesize > size:
                seg = data[pos + 8 : pos + 24].split(b"\x00", 1)[0].decode("ascii", "replace")
                problems.append(
                    f"segment {seg} maps file range {fileoff:#x}+{filesize:#x}, past the {size}-byte slice "
                    f"(load command at {pos:#x})"
                )
        elif kind in (_LC_ENCRYPTION_INFO, _LC_ENCRYPTION_INFO_64) and cmdsize >= 20:
            cryptoff, cryptsize, cryptid = struct.unpack_from("<III", data, pos + 8)
            if cryptoff + cryptsize > size:
                problems.append(
                    f"encryption range {cryptoff:#x}+{cryptsize:#x} lies past the {size}-byte slice "
                    f"(load command at {pos:#x})"
                )
            enc = (cryptoff, cryptsize, cryptid)
        elif kind == _LC_CODE_SIGNATURE and cmdsize >= 16:
            dataoff, datasize = struct.unpack_from("<II", data, pos + 8)
            if dataoff + datasize > size:
                problems.append(
                    f"code signature {dataoff:#x}+{datasize:#x} lies past the {size}-byte slice "
                    f"(load command at {pos:#x}): not read"
                )
            else:
                sig = (dataoff, datasize)
        elif kind == _LC_SYMTAB and cmdsize >= 24:
            symoff, nsyms, stroff, strsize = struct.unpack_from("<IIII", data, pos + 8)
            if symoff + nsyms * (16 if wide else 12) > size or stroff + strsize > size:
                problems.append(f"symbol table points past the {size}-byte slice (load command at {pos:#x})")
        pos += cmdsize
    return enc, sig, problems


def parse_macho(data: bytes, *, file: str, entry: str, role: str) -> MachOFile:
    """Every readable slice of the Mach-O file ``data``. Raises :class:`IpaError` when it
    is not a Mach-O file or no slice could be read (the messages say why)."""
    fat, found, problems = slices_of(data, file=file, entry=entry)
    out: list[MachOSlice] = []
    errors: list[IpaError] = []
    for offset, size, cputype, subtype in found:
        try:
            out.append(
                _slice(
                    data,
                    offset,
                    size,
                    cputype,
                    subtype,
                    file=file,
                    entry=entry,
                    extra=problems if not fat else [],
                )
            )
        except IpaError as exc:
            errors.append(exc)
    if not out:
        if errors:
            raise errors[0]
        raise IpaError.at("no readable slice: " + "; ".join(problems), file=file, entry=entry, offset=0)
    if fat and (problems or errors):
        notes = tuple(problems) + tuple(str(e.diagnostics()[0].message) for e in errors)
        first = out[0]
        out[0] = _with_problems(first, notes)
    return MachOFile(entry=entry, role=role, size=len(data), fat=fat, slices=tuple(out))


def _with_problems(s: MachOSlice, more: Iterable[str]) -> MachOSlice:
    from dataclasses import replace

    return replace(s, problems=(*s.problems, *more))


def _slice(
    data: bytes,
    offset: int,
    size: int,
    cputype: int,
    subtype: int,
    *,
    file: str,
    entry: str,
    extra: list[str],
) -> MachOSlice:
    import lief

    enc, sig_range, problems = _check_load_commands(data, offset, size, file=file, entry=entry)
    problems = extra + problems
    raw = data[offset : offset + size] if (offset or size != len(data)) else data
    lief.logging.disable()
    try:
        parsed = lief.MachO.parse(raw, _config())
    except Exception as exc:  # LIEF raises its own errors on crafted input
        raise IpaError.at(
            f"Mach-O unreadable: {type(exc).__name__}: {exc}", file=file, entry=entry, offset=offset
        ) from None
    if parsed is None or parsed.size < 1:
        raise IpaError.at(
            "Mach-O unreadable (LIEF could not parse the slice)", file=file, entry=entry, offset=offset
        )
    b = parsed.at(0)
    if b is None:
        raise IpaError.at(
            "Mach-O unreadable (LIEF could not parse the slice)", file=file, entry=entry, offset=offset
        )
    encrypted = None if enc is None else enc[2] != 0
    crypt_lo, crypt_hi = (enc[0], enc[0] + enc[1]) if enc is not None and enc[2] != 0 else (0, 0)

    undefined = lief.MachO.Symbol.CATEGORY.UNDEFINED
    bound = lief.MachO.Symbol.ORIGIN.DYLD_BIND
    imported: set[str] = set()
    defined_classes: set[str] = set()
    imported_classes: set[str] = set()
    for sym in b.symbols:
        name = sym.name
        if not isinstance(name, str):
            continue
        is_import = sym.category == undefined or sym.origin == bound or sym.has_binding_info
        if name.startswith(_CLASS_SYM):
            (imported_classes if is_import else defined_classes).add(name[len(_CLASS_SYM) :])
        elif is_import:
            imported.add(name)
    imported_classes -= defined_classes
    swift = False
    urls: set[str] = set()
    for sec in b.sections:
        raw_name = sec.name
        sname = raw_name if isinstance(raw_name, str) else raw_name.decode("utf-8", "replace")
        if sname.startswith("__swift5_"):
            swift = True
        lo, hi = sec.offset, sec.offset + sec.size
        readable = sec.size > 0 and hi <= size and not (lo < crypt_hi and crypt_lo < hi)
        if not readable:
            continue
        if sname == "__objc_classname":
            body = raw[lo:hi]
            defined_classes.update(n.decode("ascii") for n in body.split(b"\x00") if _CLASS_NAME.fullmatch(n))
        elif sname in _STRING_SECTIONS and len(urls) < _MAX_URLS:
            for m in _URL.finditer(raw, lo, hi):
                urls.add(m.group().decode("ascii", "replace").rstrip(".,;:)]'\""))
                if len(urls) >= _MAX_URLS:
                    break
    libs: list[str] = []
    weak: list[str] = []
    for lib in b.libraries:
        libs.append(lib.name)
        if "WEAK" in str(lib.command):
            weak.append(lib.name)
    min_os = sdk = platform = None
    bv = b.build_version if b.has_build_version else None
    vm = b.version_min if b.has_version_min else None
    if bv is not None:
        min_os = _version(bv.minos)
        sdk = _version(bv.sdk)
        platform = str(bv.platform).rsplit(".", 1)[-1].lower()
    elif vm is not None:
        min_os = _version(vm.version)
        sdk = _version(vm.sdk)
        platform = {
            "VERSION_MIN_IPHONEOS": "ios",
            "VERSION_MIN_MACOSX": "macos",
            "VERSION_MIN_TVOS": "tvos",
            "VERSION_MIN_WATCHOS": "watchos",
        }.get(str(vm.command).rsplit(".", 1)[-1])
    signature: CodeSignature | None = None
    if sig_range is not None:
        lo, length = sig_range
        try:
            signature = parse_code_signature(raw[lo : lo + length], file=file, entry=entry, base=offset + lo)
        except IpaError as exc:
            problems.append(str(exc.diagnostics()[0].message))
    hosts = sorted({h for u in urls if (h := _host(u))})
    return MachOSlice(
        cpu=cpu_name(cputype, subtype),
        offset=offset,
        size=size,
        file_type=str(b.header.file_type).rsplit(".", 1)[-1].lower(),
        pie=bool(b.is_pie),
        encrypted=encrypted,
        crypt_offset=enc[0] if enc else None,
        crypt_size=enc[1] if enc else None,
        stack_canary=bool(imported & _CANARY),
        arc=bool(imported & _ARC),
        min_os=min_os,
        sdk=sdk,
        platform=platform,
        libraries=tuple(libs),
        weak_libraries=tuple(weak),
        rpaths=tuple(r.path for r in b.rpaths),
        objc_classes=tuple(sorted(defined_classes)),
        imported_classes=tuple(sorted(imported_classes)),
        swift=swift,
        urls=tuple(sorted(urls)),
        hosts=tuple(hosts),
        code_signature=signature,
        problems=tuple(problems),
    )


def _config() -> lief.MachO.ParserConfig:
    import lief

    cfg = lief.MachO.ParserConfig()
    cfg.parse_dyld_rebases = False  # not needed: no fact here comes from rebase opcodes
    return cfg


def _version(v: object) -> str | None:
    if not isinstance(v, list) or not v:
        return None
    parts = [int(x) for x in v]
    if not any(parts):
        return None  # 0.0.0: not recorded by the linker
    while len(parts) > 2 and parts[-1] == 0:
        parts.pop()
    return ".".join(str(p) for p in parts)


def _host(url: str) -> str | None:
    rest = url.split("://", 1)[1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    host = host.split(":", 1)[0].strip(".").lower()
    return host or None
