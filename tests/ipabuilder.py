"""Build small IPAs for tests: a zip with Info.plist, privacy manifests, a provisioning
profile and a Mach-O executable linked by the test with LLVM's assembler and linker.

* :func:`link_macho` assembles a tiny arm64 iOS program with ``llvm-mc`` and links it with
  ``ld64.lld`` against text stubs (``.tbd``) of the system libraries and frameworks it is
  told to use: every load command, symbol and string in it is real linker output.
* :func:`sign` adds an ``LC_CODE_SIGNATURE`` SuperBlob (CodeDirectory with identifier and
  team ID, an entitlements plist, a CMS signature made with ``cryptography``), the way
  ``codesign`` lays it out at the end of ``__LINKEDIT``.
* :func:`provisioning_profile` wraps a profile plist in CMS SignedData, as Apple does.
* :func:`fat` joins slices under a fat header; :func:`build_ipa` zips a bundle.
"""

from __future__ import annotations

import datetime as _dt
import io
import plistlib
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from tests.conftest import require_tool

_TBD = """--- !tapi-tbd
tbd-version: 4
targets: [ arm64-ios ]
install-name: '{install}'
exports:
  - targets: [ arm64-ios ]
    symbols: [ {symbols} ]
    objc-classes: [ {classes} ]
...
"""


def link_macho(
    work: Path,
    *,
    defined_classes: tuple[str, ...] = (),
    imported: dict[str, tuple[str, ...]] | None = None,
    strings: tuple[str, ...] = (),
    canary: bool = True,
    arc: bool = True,
    min_os: str = "14.0",
    sdk: str = "17.0",
    rpaths: tuple[str, ...] = ("@executable_path/Frameworks",),
) -> bytes:
    """An arm64 iOS executable. ``imported`` maps a framework name (``AdSupport``) or a
    dylib install name to the Objective-C classes the program references from it."""
    mc = require_tool("llvm-mc")
    ld = shutil.which("ld64.lld") or require_tool("ld64.lld-14")  # Debian names it by version
    imported = imported or {}
    lines = [".section __TEXT,__text", ".globl _main", ".p2align 2", "_main:"]
    system_syms = []
    if canary:
        lines.append("  adrp x8, ___stack_chk_guard@GOTPAGE")
        lines.append("  bl ___stack_chk_fail")
        system_syms += ["___stack_chk_guard", "___stack_chk_fail"]
    if arc:
        lines.append("  bl _objc_release")
    lines += ["  mov w0, #0", "  ret", ".section __TEXT,__cstring,cstring_literals"]
    lines += [f'l_s{i}: .asciz "{s}"' for i, s in enumerate(strings)]
    lines += [".section __DATA,__objc_data", ".p2align 3"]
    for c in defined_classes:
        lines += [f".globl _OBJC_CLASS_$_{c}", f"_OBJC_CLASS_$_{c}: .quad 0"]
    lines += [".section __DATA,__data", ".p2align 3"]
    k = 0
    for classes in imported.values():
        for c in classes:
            lines.append(f"l_r{k}: .quad _OBJC_CLASS_$_{c}")
            k += 1
    (work / "main.s").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [
            mc,
            f"-triple=arm64-apple-ios{min_os}",
            "-filetype=obj",
            str(work / "main.s"),
            "-o",
            str(work / "main.o"),
        ],
        check=True,
    )
    stubs = [
        _tbd(work, "libSystem.tbd", "/usr/lib/libSystem.B.dylib", [*system_syms, "dyld_stub_binder"], []),
        _tbd(
            work,
            "libobjc.tbd",
            "/usr/lib/libobjc.A.dylib",
            ["_objc_release"] if arc else ["_objc_msgSend"],
            [],
        ),
    ]
    args = [ld, "-arch", "arm64", "-platform_version", "ios", min_os, sdk, "-headerpad", "0x800"]
    for name, classes in imported.items():
        if name.startswith("/"):
            stubs.append(_tbd(work, f"lib{len(stubs)}.tbd", name, [], list(classes)))
        else:
            fw = work / f"{name}.framework"
            fw.mkdir(exist_ok=True)
            _tbd(fw, f"{name}.tbd", f"/System/Library/Frameworks/{name}.framework/{name}", [], list(classes))
            args += ["-F", str(work), "-framework", name]
    for r in rpaths:
        args += ["-rpath", r]
    out = work / "app"
    subprocess.run([*args, "-o", str(out), str(work / "main.o"), *map(str, stubs)], check=True)
    return out.read_bytes()


def _tbd(where: Path, file: str, install: str, symbols: list[str], classes: list[str]) -> Path:
    path = where / file
    path.write_text(_TBD.format(install=install, symbols=", ".join(symbols), classes=", ".join(classes)))
    return path


# ------------------------------------------------------------------ load commands

LC_ENCRYPTION_INFO_64 = 0x2C
LC_CODE_SIGNATURE = 0x1D


def load_commands(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, cmd, cmdsize) of each load command of a thin 64-bit Mach-O."""
    ncmds = struct.unpack_from("<I", data, 16)[0]
    out = []
    pos = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, pos)
        out.append((pos, cmd, size))
        pos += size
    return out


def set_cryptid(data: bytes, cryptid: int) -> bytes:
    buf = bytearray(data)
    for pos, cmd, _ in load_commands(data):
        if cmd == LC_ENCRYPTION_INFO_64:
            struct.pack_into("<I", buf, pos + 16, cryptid)
            return bytes(buf)
    raise AssertionError("no LC_ENCRYPTION_INFO_64")


def add_load_command(data: bytes, cmd: bytes) -> bytes:
    """Append a load command in the header padding (the linker left 0x800 bytes)."""
    buf = bytearray(data)
    ncmds, sizeofcmds = struct.unpack_from("<II", buf, 16)
    at = 32 + sizeofcmds
    assert not any(buf[at : at + len(cmd)]), "no room in the header padding"
    buf[at : at + len(cmd)] = cmd
    struct.pack_into("<II", buf, 16, ncmds + 1, sizeofcmds + len(cmd))
    return bytes(buf)


# ------------------------------------------------------------------------ signing


def make_identity(
    common_name: str = "iPhone Distribution: Test Org (TEAM123456)", team: str = "TEAM123456"
) -> tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
    """(key, leaf, issuer): a two-certificate chain like Apple's WWDR -> developer."""
    now = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Worldwide Developer Relations CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=3650))
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Org"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(0x1234)
        .not_valid_before(now)
        .not_valid_after(now + _dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    return key, leaf, ca


def _cms(
    content: bytes,
    key: rsa.RSAPrivateKey,
    leaf: x509.Certificate,
    extra: list[x509.Certificate],
    *,
    detached: bool,
) -> bytes:
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(leaf, key, hashes.SHA256())
    for c in extra:
        builder = builder.add_certificate(c)
    options = [pkcs7.PKCS7Options.Binary] + ([pkcs7.PKCS7Options.DetachedSignature] if detached else [])
    return builder.sign(serialization.Encoding.DER, options)


def sign(
    data: bytes,
    *,
    identifier: str,
    team_id: str | None,
    entitlements: dict[str, Any] | None,
    identity: tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate] | None,
) -> bytes:
    """``data`` with an embedded signature appended at the end of ``__LINKEDIT``."""
    ident = identifier.encode() + b"\x00"
    team = (team_id.encode() + b"\x00") if team_id else b""
    header = 88  # CodeDirectory version 0x20400 fields up to execSegFlags
    ident_off = header
    team_off = header + len(ident) if team else 0
    cd_len = header + len(ident) + len(team)
    cd = bytearray(cd_len)
    struct.pack_into(
        ">IIIIIIIIIBBBBI", cd, 0, 0xFADE0C02, cd_len, 0x20400, 0, cd_len, ident_off, 0, 0, 0, 32, 2, 0, 12, 0
    )
    struct.pack_into(">II", cd, 44, 0, team_off)
    cd[ident_off : ident_off + len(ident)] = ident
    if team:
        cd[team_off : team_off + len(team)] = team
    blobs: list[tuple[int, bytes]] = [(0, bytes(cd))]
    if entitlements is not None:
        ents = plistlib.dumps(entitlements)
        blobs.append((5, struct.pack(">II", 0xFADE7171, 8 + len(ents)) + ents))
    if identity is not None:
        key, leaf, ca = identity
        sig = _cms(bytes(cd), key, leaf, [ca], detached=True)
        blobs.append((0x10000, struct.pack(">II", 0xFADE0B01, 8 + len(sig)) + sig))
    index = b""
    body = b""
    offset = 12 + 8 * len(blobs)
    for slot, blob in blobs:
        index += struct.pack(">II", slot, offset + len(body))
        body += blob
    superblob = struct.pack(">III", 0xFADE0CC0, 12 + len(index) + len(body), len(blobs)) + index + body
    pad = (-len(data)) % 16
    dataoff = len(data) + pad
    out = data + b"\x00" * pad + superblob
    out = add_load_command(out, struct.pack("<IIII", LC_CODE_SIGNATURE, 16, dataoff, len(superblob)))
    buf = bytearray(out)
    for pos, cmd, _ in load_commands(out):  # grow __LINKEDIT over the signature
        if cmd == 0x19 and buf[pos + 8 : pos + 18] == b"__LINKEDIT":
            fileoff = struct.unpack_from("<Q", buf, pos + 40)[0]
            size = len(buf) - fileoff
            struct.pack_into("<QQ", buf, pos + 32, (size + 0x3FFF) & ~0x3FFF, fileoff)
            struct.pack_into("<Q", buf, pos + 48, size)
    return bytes(buf)


def provisioning_profile(
    fields: dict[str, Any], identity: tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]
) -> bytes:
    """A ``.mobileprovision``: the plist signed as CMS SignedData with its content."""
    key, leaf, ca = identity
    return _cms(plistlib.dumps(fields), key, leaf, [ca], detached=False)


# ----------------------------------------------------------------------- archives


def fat(*slices: tuple[int, int, bytes], align: int = 0x4000) -> bytes:
    """A fat file of (cputype, cpusubtype, bytes) slices, each page-aligned."""
    header = struct.pack(">II", 0xCAFEBABE, len(slices))
    offset = align
    records = b""
    body = b""
    for cputype, subtype, data in slices:
        records += struct.pack(">iiIII", cputype, subtype, offset, len(data), 14)
        chunk = data + b"\x00" * ((-len(data)) % align)
        body += chunk
        offset += len(chunk)
    head = header + records
    return head + b"\x00" * (align - len(head)) + body


def build_ipa(files: dict[str, bytes], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def info_plist(**overrides: Any) -> bytes:
    base: dict[str, Any] = {
        "CFBundleIdentifier": "org.example.app",
        "CFBundleName": "Example",
        "CFBundleExecutable": "Example",
        "CFBundleShortVersionString": "2.1",
        "CFBundleVersion": "42",
        "CFBundlePackageType": "APPL",
        "MinimumOSVersion": "14.0",
        "UIDeviceFamily": [1, 2],
        "DTPlatformName": "iphoneos",
    }
    base.update(overrides)
    return plistlib.dumps(base, fmt=plistlib.FMT_BINARY)
