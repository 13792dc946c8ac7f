"""What a scan could see: the coverage that caps every claim of absence.

:func:`measure` computes, once per APK, the measured share of obfuscated names, the
protectors and packers found, dynamic code loading, reflection, string encryption,
code hidden in assets, native code, manifest classes missing from the DEX and parts
the reader could not parse, and from them the share of code a reviewer can read.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from appveto.apk.model import Apk, ComponentKind, DexLocation, ZipEntry, descriptor_to_java
from appveto.apk.native import MAX_DOT_SYMBOLS
from appveto.checks.facts import Facts, facts, manifest_ev, memo
from appveto.findings import Confidence, Evidence, EvidenceKind, Location
from appveto.kb.model import KnowledgeBase, ProtectorKind


class Auditability(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class PackageNames:
    """Obfuscated class names in one Java package."""

    package: str
    classes: int
    obfuscated: int

    @property
    def share(self) -> float:
        return self.obfuscated / self.classes if self.classes else 0.0


@dataclass(frozen=True, slots=True)
class ProtectorHit:
    name: str
    kind: ProtectorKind
    vendor: str | None
    evidence: tuple[Evidence, ...]
    heuristic: bool = False
    """True when recognised by structure rather than by a named marker."""


@dataclass(frozen=True, slots=True)
class Coverage:
    dex_files: int
    classes: int
    obfuscated_classes: int
    methods: int
    obfuscated_methods: int
    fields: int
    obfuscated_fields: int
    packages: tuple[PackageNames, ...]
    """The largest packages, by class count (at most 15)."""
    protectors: tuple[ProtectorHit, ...]
    dynamic_loading: tuple[Evidence, ...]
    reflection: tuple[Evidence, ...]
    reflection_heavy: bool
    string_encryption: tuple[Evidence, ...]
    hidden_code: tuple[Evidence, ...]
    hidden_bytes: int
    missing_classes: tuple[Evidence, ...]
    native_libs: int
    native_bytes: int
    """Bytes of native code for one ABI (the largest), as one device would load it."""
    jni_exports: int
    dex_bytes: int
    unreadable_parts: tuple[str, ...]
    readable_share: float
    """Estimated share (0..1) of the app's code a reviewer can read from this APK."""
    auditability: Auditability
    code_hidden: bool
    """True when code that runs is not in the DEX this scan read: claims that code
    does *not* do something cannot be made."""
    hidden_reasons: tuple[str, ...]
    loaders: tuple[Evidence, ...] = ()
    """Every way the code reaches a class loader or loads native code it wrote, however
    reached (direct call, const-class or a string name plus reflection, reflection on
    loadDex/openDexFile/defineClass, System.load of a written file), with how in the note."""
    hidden_decoded: tuple[Evidence, ...] = ()
    """Hidden payloads decoded and read (their API use feeds the permission verdicts)."""
    string_decoders: tuple[Evidence, ...] = ()
    """The app's string-decoder routines, with call counts and the share of strings."""
    decoding_budget: str = ""
    """The fixed per-APK budget for reading code and decoding payloads, and what was spent."""

    @property
    def obfuscated_class_share(self) -> float:
        return self.obfuscated_classes / self.classes if self.classes else 0.0

    @property
    def obfuscated_method_share(self) -> float:
        return self.obfuscated_methods / self.methods if self.methods else 0.0

    @property
    def obfuscated_field_share(self) -> float:
        return self.obfuscated_fields / self.fields if self.fields else 0.0

    @property
    def native_share(self) -> float:
        total = self.dex_bytes + self.native_bytes + self.hidden_bytes
        return self.native_bytes / total if total else 0.0

    def cap(self, confidence: Confidence) -> Confidence:
        """The confidence an absence claim may keep under this coverage."""
        if self.code_hidden:
            return Confidence.LOW
        limit = {Auditability.HIGH: Confidence.HIGH, Auditability.MEDIUM: Confidence.MEDIUM}.get(
            self.auditability, Confidence.LOW
        )
        order = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)
        return order[min(order.index(confidence), order.index(limit))]

    def summary(self) -> str:
        """One sentence a reviewer understands."""
        pct = round(self.readable_share * 100)
        text = f"about {pct}% of the code can be read ({self.auditability} auditability)"
        if self.hidden_reasons:
            text += "; hidden or unreadable: " + "; ".join(self.hidden_reasons)
        return text


def measure(apk: Apk, kb: KnowledgeBase) -> Coverage:
    return memo(apk, f"coverage:{id(kb)}", lambda: _measure(apk, kb))


# ------------------------------------------------------------------- names

_KEYWORD_TEXT = """
abstract assert boolean break byte case catch char class const continue default do double else enum
extends final finally float for goto if implements import instanceof int interface long native new
package private protected public return short static strictfp super switch synchronized this throw
throws transient try void volatile while true false null aux con nul prn com1 com2 lpt1 lpt2
"""
_KEYWORDS = frozenset(_KEYWORD_TEXT.split())


@lru_cache(maxsize=1 << 16)
def obfuscated_name(simple: str) -> bool:
    """A name chosen by an obfuscator rather than a person.

    Short lower-case names (ProGuard/R8: ``a``, ``b``, ``ab``, ``abc``), names outside
    printable ASCII (lookalike Unicode, as DexGuard and others use), Java keywords and
    Windows device names in any letter case (``iF``, ``aux``), and names without letters.
    """
    if not simple or simple.isdigit():
        return False
    if not simple.isascii() or not simple.isprintable():
        return True
    if simple.casefold() in _KEYWORDS and simple not in ("Null", "True", "False"):
        return True
    if len(simple) <= 3 and simple.isalpha() and simple.islower():
        return True
    return len(simple) <= 2 and simple.isalpha() and simple not in ("R", "UI", "IO", "Id", "OS")


def _simple(descriptor: str) -> tuple[str, str]:
    """``Lcom/x/Foo$Bar;`` -> (``com.x``, ``Bar``)."""
    body = descriptor[1:-1] if descriptor.startswith("L") and descriptor.endswith(";") else descriptor
    pkg, _, name = body.rpartition("/")
    inner = name.rsplit("$", 1)[-1] if "$" in name else name
    return pkg.replace("/", "."), inner


_UNUSUAL_NAME_RE = re.compile(r"[\u02b0-\u02ff\u1400-\u167f\uff61-\uffdc\u0300-\u036f]")


# ---------------------------------------------------------------- measure


_DYNAMIC = (
    ("Ldalvik/system/DexClassLoader;", ("<init>",)),
    ("Ldalvik/system/InMemoryDexClassLoader;", ("<init>",)),
    ("Ldalvik/system/PathClassLoader;", ("<init>",)),
    ("Ldalvik/system/DelegateLastClassLoader;", ("<init>",)),
    ("Ldalvik/system/BaseDexClassLoader;", ("<init>",)),
    ("Ldalvik/system/DexFile;", ("loadDex", "<init>", "loadClass")),
)
_REFLECTION = (
    ("Ljava/lang/reflect/Method;", ("invoke",)),
    ("Ljava/lang/Class;", ("forName", "getDeclaredMethod", "getMethod")),
    ("Ljava/lang/reflect/Constructor;", ("newInstance",)),
)
_STRING_CRYPTO_MARKERS = (
    "com.github.megatronking.stringfog",
    "ALLATORIxDEMO",
    "Lcom/github/megatronking/stringfog",
)
_MEDIA_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"fLaC",
    b"\x1f\x8b",
    b"BZh",
    b"7z\xbc\xaf",
    b"\xfd7zXZ",
    b"OTTO",
    b"\x00\x01\x00\x00",
    b"wOFF",
    b"wOF2",
    b"\x28\xb5\x2f\xfd",
    b"SQLite format 3",
)
_STD_PREFIXES = (
    "res/",
    "META-INF/",
    "lib/",
    "kotlin/",
    "okhttp3/",
    "org/",
    "com/",
    "javax/",
    "androidsupportmultidexversion",
)
_HIDDEN_MIN = 32 * 1024
_MAX_EXAMINED = 256
_MEDIA_EXTENSIONS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "webp",
        "bmp",
        "ico",
        "svg",
        "mp3",
        "ogg",
        "oga",
        "wav",
        "m4a",
        "aac",
        "flac",
        "opus",
        "mp4",
        "m4v",
        "webm",
        "mkv",
        "3gp",
        "avi",
        "mov",
        "ttf",
        "otf",
        "woff",
        "woff2",
        "json",
        "xml",
        "html",
        "htm",
        "css",
        "js",
        "txt",
        "csv",
        "md",
        "pdf",
    ]
)


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = Counter(data)
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _names(f: Facts) -> tuple[int, int, int, int, int, int, tuple[PackageNames, ...], int, int]:
    per_pkg: dict[str, list[int]] = {}
    obf_classes = 0
    unusual = 0
    in_o = 0
    for desc in f.defined:
        pkg, simple = _simple(desc)
        hit = obfuscated_name(simple)
        if not simple.isascii() and _UNUSUAL_NAME_RE.search(simple):
            unusual += 1
        if desc.startswith("Lo/") and desc.count("/") == 1:
            in_o += 1
        obf_classes += hit
        slot = per_pkg.setdefault(pkg, [0, 0])
        slot[0] += 1
        slot[1] += hit
    defined = f.defined
    own_methods = {(m.class_name, m.name) for m in f.method_refs if m.class_name in defined}
    own_methods = {k for k in own_methods if k[1] not in ("<init>", "<clinit>")}
    methods = len(own_methods)
    obf_m = sum(1 for _, name in own_methods if obfuscated_name(name))
    own_fields = [fr.name for fr in f.field_refs if fr.class_name in defined]
    fields = len(own_fields)
    obf_f = sum(1 for name in own_fields if obfuscated_name(name))
    top = sorted(per_pkg.items(), key=lambda kv: (-kv[1][0], kv[0]))[:15]
    pkgs = tuple(PackageNames(k or "(default package)", v[0], v[1]) for k, v in top)
    return len(f.defined), obf_classes, methods, obf_m, fields, obf_f, pkgs, unusual, in_o


_STUB_PROTOS = frozenset(f"({a}{b}{c})Ljava/lang/String;" for a in "ISB" for b in "ISB" for c in "ISB")
_STUB_TABLES = frozenset(("[B", "[S"))
_STUB_MAX_FIELDS = 4


def _string_stubs(f: Facts) -> list[str]:
    """Classes shaped like a DexGuard string-decryption stub, from the ID tables alone.

    A small app class (at most four fields referenced) with an obfuscated method
    ``(int, int, int) -> String`` (``short``/``byte`` variants too) and an obfuscated
    ``byte[]`` or ``short[]`` field: the encrypted string pool and its decoder.
    """
    defined = f.defined
    protos = _STUB_PROTOS
    # m[2] first: one hashed-set probe per reference, the rest only for the few hits
    cand = {m[0] for m in f.method_refs if m[2] in protos and m[0] in defined and obfuscated_name(m[1])}
    if not cand:
        return []
    fields: dict[str, list[tuple[str, str]]] = {}
    for fr in f.field_refs:
        if fr.class_name in cand:
            fields.setdefault(fr.class_name, []).append((fr.name, fr.type))
    return sorted(
        c
        for c, fs in fields.items()
        if len(fs) <= _STUB_MAX_FIELDS and any(t in _STUB_TABLES and obfuscated_name(n) for n, t in fs)
    )


def _entry_matches(name: str, marker: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if marker.endswith("/"):
        return name.startswith(marker) or f"/{marker}" in name
    if marker.endswith(("-", "_")):
        return base.startswith(marker)
    return base == marker or (base.startswith(marker) and base[len(marker) :].startswith((".", "-", "_")))


def _protectors(
    apk: Apk, kb: KnowledgeBase, f: Facts, unusual: int, in_o: int, stubs: list[str]
) -> list[ProtectorHit]:
    hits: list[ProtectorHit] = []
    all_markers = tuple(m.rstrip("/-_") for p in kb.protectors for m in p.entries)
    names = tuple(n for n in apk.entry_names() if any(m in n for m in all_markers))
    all_prefixes = tuple(c for p in kb.protectors for c in p.classes)
    defined_java = [c for c in f.defined_java if c.startswith(all_prefixes)] if all_prefixes else []
    for p in kb.protectors:
        ev: list[Evidence] = []
        for marker in p.entries:
            for n in names:
                if _entry_matches(n, marker):
                    ev.append(
                        Evidence(EvidenceKind.ENTRY, n, Location(entry=n), f"{p.name} marker '{marker}'")
                    )
        for prefix in p.classes:
            found = sorted(c for c in defined_java if c.startswith(prefix))
            for c in found[:3]:
                ev.append(
                    Evidence(
                        EvidenceKind.CLASS, c, Location(class_name=c), f"{p.name} class prefix '{prefix}'"
                    )
                )
        for s in p.strings:
            if s in f.blob:
                match = next((x for x in f.strings if s in x), s)
                ev.append(f.string_evidence(match, f"{p.name} string marker '{s}'"))
        if apk.manifest is not None and apk.manifest.application.name:
            app_cls = apk.manifest.application.name
            if any(app_cls.startswith(prefix) for prefix in p.classes):
                ev.append(
                    manifest_ev(app_cls, "/manifest/application", f"stub Application class of {p.name}")
                )
        if ev:
            hits.append(ProtectorHit(p.name, p.kind, p.vendor, tuple(sorted(set(ev))[:8])))
    if not any(h.name.startswith("DexGuard") for h in hits):
        total = max(1, len(f.defined))
        if unusual >= 5 or (in_o >= 10 and in_o / total >= 0.05) or len(stubs) >= _STUBS_MIN:
            ev = []
            if unusual >= 5:
                ev.append(
                    Evidence(
                        EvidenceKind.METRIC,
                        f"{unusual} class names use Unicode modifier/syllabic/half-width letters",
                        note="DexGuard-style renaming",
                    )
                )
            if in_o >= 10:
                samples = sorted(c for c in f.defined if c.startswith("Lo/") and c.count("/") == 1)[:3]
                ev.append(
                    Evidence(
                        EvidenceKind.METRIC,
                        f"{in_o} of {total} classes repackaged into the top-level package 'o'",
                        note="DexGuard's default repackaging target; e.g. "
                        + ", ".join(descriptor_to_java(s) for s in samples),
                    )
                )
            if len(stubs) >= _STUBS_MIN:
                ev.append(_stubs_evidence(stubs, "DexGuard-style string encryption"))
            hits.append(
                ProtectorHit(
                    "DexGuard (Guardsquare)", ProtectorKind.OBFUSCATOR, "Guardsquare NV", tuple(ev), True
                )
            )
    for lib in apk.native_libs:
        for cm in kb.compiler_markers:
            for line in lib.comment:
                if any(m in line for m in cm.markers):
                    hits.append(
                        ProtectorHit(
                            cm.name,
                            cm.kind,
                            None,
                            (
                                Evidence(
                                    EvidenceKind.NATIVE, line, Location(entry=lib.entry), ".comment section"
                                ),
                            ),
                        )
                    )
                    break
            made = [s for s in lib.dot_symbols if _generated_by(s, cm.symbols)] if cm.symbols else []
            if made:
                count = f"{len(made)}{'+' if len(lib.dot_symbols) >= MAX_DOT_SYMBOLS else ''}"
                note = (
                    f"symbol named by an obfuscating compiler pass ({cm.name}), not by source code "
                    "(a string decoder); "
                    f"{count} such symbols in this library"
                )
                sym_ev = Evidence(EvidenceKind.NATIVE, made[0], Location(entry=lib.entry), note)
                hits.append(ProtectorHit(cm.name, cm.kind, None, (sym_ev,)))
    merged: dict[str, ProtectorHit] = {}
    for h in hits:
        old = merged.get(h.name)
        if old is None:
            merged[h.name] = h
        else:
            merged[h.name] = ProtectorHit(
                h.name,
                h.kind,
                h.vendor,
                tuple(sorted(set(old.evidence + h.evidence))[:8]),
                old.heuristic and h.heuristic,
            )
    return sorted(merged.values(), key=lambda h: h.name)


_STUBS_MIN = 3
"""String-decryption stubs in at least this many classes make a DexGuard claim."""


def _stubs_evidence(stubs: list[str], note: str) -> Evidence:
    return Evidence(
        EvidenceKind.METRIC,
        f"{len(stubs)} classes pair an obfuscated (int,int,int)->String method with an "
        "obfuscated byte[]/short[] field (string-decryption stubs)",
        note=note + "; e.g. " + ", ".join(descriptor_to_java(c) for c in stubs[:3]),
    )


def _generated_by(symbol: str, prefixes: tuple[str, ...]) -> bool:
    """``symbol`` is one of the prefixes followed by a pass-generated decimal suffix."""
    for p in prefixes:
        if symbol.startswith(p):
            rest = symbol[len(p) :]
            if rest.isascii() and rest.isdigit():
                return True
    return False


def _head(apk: Apk, z: ZipEntry, size: int = 65536) -> bytes:
    """The first ``size`` bytes of an entry's content, inflating only what is needed."""
    data = apk.archive.data
    start = z.data_offset
    if start < 0 or start >= len(data):
        return b""
    if z.method == 8:
        raw = bytes(data[start : start + min(z.compressed_size, 4 * size)])
        try:
            return zlib.decompressobj(-15).decompress(raw, size)
        except zlib.error:
            return b""
    return bytes(data[start : start + min(z.uncompressed_size, size)])


def _hidden(apk: Apk, skip: frozenset[str] | set[str] = frozenset()) -> tuple[list[Evidence], int]:
    ev: list[Evidence] = []
    total = 0
    for e in apk.embedded_dex:
        if e.entry in skip or e.entry.split("!", 1)[0] in skip:
            continue
        if e.location is not DexLocation.PRIMARY:
            note = "DEX outside the primary classes*.dex" + (
                "" if e.parsed else " (not parseable: encrypted or damaged)"
            )
            ev.append(Evidence(EvidenceKind.ENTRY, e.entry, Location(entry=e.entry), note))
            total += e.size
    seen = {e.value for e in ev} | skip
    examined = 0
    for z in apk.entries:
        n = z.name
        if n in seen or z.uncompressed_size < _HIDDEN_MIN or n.endswith("/"):
            continue
        if n.startswith(_STD_PREFIXES) and not n.startswith("res/raw/"):
            continue
        if re.fullmatch(r"classes\d*\.dex|resources\.arsc|AndroidManifest\.xml", n):
            continue
        if n.rsplit(".", 1)[-1].lower() in _MEDIA_EXTENSIONS and "." in n.rsplit("/", 1)[-1]:
            continue
        examined += 1
        if examined > _MAX_EXAMINED:
            break
        head = _head(apk, z)
        if head.startswith(b"dex\n"):
            ev.append(
                Evidence(
                    EvidenceKind.ENTRY, n, Location(entry=n), "plain DEX stored under a non-standard name"
                )
            )
        elif head.startswith(b"\x7fELF") and not n.startswith("lib/"):
            ev.append(Evidence(EvidenceKind.ENTRY, n, Location(entry=n), "ELF code stored outside lib/"))
        elif head.startswith(b"PK\x03\x04"):
            continue  # nested archives: the reader lists the DEX inside them as embedded_dex
        elif head and (head.startswith(_MEDIA_MAGIC) or head[4:8] == b"ftyp"):
            continue
        elif len(head) >= 1024 and _entropy(head) > 7.6:
            note = "high-entropy data of no known format (encrypted or packed payload)"
            ev.append(Evidence(EvidenceKind.ENTRY, n, Location(entry=n, offset=z.data_offset), note))
        else:
            continue
        total += z.uncompressed_size
    return ev, total


def _missing(apk: Apk, f: Facts) -> list[Evidence]:
    m = apk.manifest
    if m is None or not f.primary or not m.application.has_code:
        return []
    wanted: list[tuple[str, str]] = []
    if m.application.name:
        wanted.append((m.application.name, "/manifest/application"))
    for c in m.components:
        if c.kind is ComponentKind.ACTIVITY_ALIAS:
            continue
        wanted.append((c.name, c.xpath or f"/manifest/application/{c.kind}"))
    out: list[Evidence] = []
    hidden_java = {descriptor_to_java(c) for c in f.hidden_classes} if wanted else set()
    for name, xpath in wanted:
        if name and name in hidden_java:
            continue  # defined by hidden code this scan decoded
        if name and name not in f.defined_java and not name.startswith(("android.", "com.android.")):
            out.append(manifest_ev(name, xpath, "declared in the manifest but defined in no primary DEX"))
    return out


def _measure(apk: Apk, kb: KnowledgeBase) -> Coverage:
    f = facts(apk)
    classes, obf_c, methods, obf_m, fields, obf_f, pkgs, unusual, in_o = _names(f)
    stubs = _string_stubs(f)
    protectors = _protectors(apk, kb, f, unusual, in_o, stubs)
    code = f.code
    scan = f.hidden
    dynamic = [
        ev for cls, names in _DYNAMIC for ev in f.method_evidence(cls, *names, note="dynamic code loading")
    ]
    reflection = [
        ev for cls, names in _REFLECTION for ev in f.method_evidence(cls, *names, note="reflection")
    ]
    crypto: list[Evidence] = []
    for marker in _STRING_CRYPTO_MARKERS:
        if marker in f.blob:
            crypto.append(
                Evidence(
                    EvidenceKind.STRING,
                    marker,
                    Location(entry=f.dex_entry_of_string(marker)),
                    "string-encryption library",
                )
            )
    if len(stubs) >= _STUBS_MIN:
        crypto.append(_stubs_evidence(stubs, "the string constants are decrypted at run time"))
    if code.decoders:
        share = round(100 * code.decoded_share, 1)
        crypto.append(
            Evidence(
                EvidenceKind.METRIC,
                f"{len(code.decoders)} string decoder routine(s); "
                f"{share}% of the string constants go through them",
                note="string constants are decoded at run time",
            )
        )
    unreadable = _unreadable_strings(f)
    if unreadable[0] >= 50 and unreadable[0] >= 0.2 * max(1, unreadable[1]):
        crypto.append(
            Evidence(
                EvidenceKind.METRIC,
                f"{unreadable[0]} of {unreadable[1]} string constants are unreadable (binary, high-entropy)",
                note="encrypted strings are decrypted at run time",
            )
        )
    dynamic.extend(u.evidence for u in code.loaders if u.evasive)
    loaders = tuple(
        Evidence(u.evidence.kind, u.evidence.value, u.evidence.location, u.how) for u in code.loaders
    )
    decoded_from = {
        part.split("@", 1)[0]
        for c in scan.code
        for part in c.origin.split(" (", 1)[0].split("!", 1)[0].split("+")
    }
    hidden, hidden_bytes = _hidden(apk, skip=decoded_from)
    decoded_ev: list[Evidence] = []
    decoded_bytes = 0
    for c in scan.code:
        entry = c.origin.split(" (", 1)[0].split("+", 1)[0].split("@", 1)[0]
        if c.dex is not None:
            what = f"DEX of {len(c.dex.class_defs)} classes, {len(c.dex.method_refs)} method references"
            decoded_bytes += c.dex.size
        else:
            what = f"native library ({c.native.machine if c.native else 'ELF'})"
        decoded_ev.append(
            Evidence(
                EvidenceKind.ENTRY, c.origin, Location(entry=entry), f"hidden code decoded statically: {what}"
            )
        )
    undecoded = [
        Evidence(EvidenceKind.ENTRY, u.source, Location(entry=u.source.split("@", 1)[0].split("!", 1)[0]),
                 f"hidden payload not decoded: {u.reason}")
        for u in scan.undecoded
    ]  # fmt: skip
    hidden.extend(undecoded)
    hidden_bytes += sum(u.size for u in scan.undecoded)
    decoder_ev = [
        Evidence(
            EvidenceKind.METHOD,
            f"{dec.method.class_name}->{dec.method.name}{dec.method.descriptor}",
            Location(entry=dec.entry, class_name=descriptor_to_java(dec.method.class_name),
                     method=f"{dec.method.name}{dec.method.descriptor}"),
            f"string decoder ({dec.scheme}): {dec.call_sites} call sites, {dec.literals} constants"
            + (f", {len(dec.decoded)} decoded" if dec.decoded else ", not decoded")
            + (", fills static arrays in <clinit>" if dec.in_clinit else ""),
        )
        for dec in code.decoders
    ]  # fmt: skip
    missing = _missing(apk, f)
    abis: dict[str, int] = {}
    jni = 0
    for lib in apk.native_libs:
        abis[lib.abi] = abis.get(lib.abi, 0) + lib.size
        jni += len(lib.jni_exports)
    native_bytes = max(abis.values(), default=0)
    unreadable_parts = tuple(sorted({f"{p.part}: {p.message}" for p in apk.problems}))

    reasons: list[str] = []
    packers = [p for p in protectors if p.kind in (ProtectorKind.PACKER, ProtectorKind.PROTECTOR)]
    if packers:
        reasons.append("packed or protected by " + ", ".join(p.name for p in packers))
    if any(p.name.startswith("DexGuard") for p in protectors):
        reasons.append("DexGuard protection (string and class encryption, hidden API calls)")
    from_data = [u for u in code.loaders if u.from_data or u.evasive]
    if from_data and not scan.code:
        reasons.append(f"loads code at run time ({from_data[0].how}) that is not in the code this scan read")
    elif dynamic and (hidden or missing):
        reasons.append("code is loaded at run time from data inside the APK")
    elif hidden:
        reasons.append(
            f"{len(hidden)} code or encrypted payload entr{'y' if len(hidden) == 1 else 'ies'} outside DEX"
        )
    app_missing = apk.manifest is not None and any(
        e.location.xpath == "/manifest/application" for e in missing
    )
    n_components = len(apk.manifest.components) if apk.manifest else 0
    if app_missing or (missing and len(missing) >= max(2, n_components // 4)):
        reasons.append(f"{len(missing)} manifest class(es) missing from the DEX")
    if undecoded:
        reasons.append(f"{len(undecoded)} hidden payload(s) could not be decoded")
    if scan.exhausted or "stopped" in " ".join(code.problems):
        reasons.append(f"the decoding budget was reached ({scan.exhausted or code.budget})")
    reflection_heavy = bool(reflection) and bool(crypto)
    undecoded_strings = [d for d in code.decoders if len(d.decoded) < 0.9 * max(1, d.literals)]
    if crypto and (len(crypto) > 1 or not code.decoders or undecoded_strings):
        reasons.append("string constants are encrypted")
    if reflection_heavy:
        reasons.append("reflection over encrypted strings hides call targets")
    if apk.manifest is not None and apk.manifest.application.has_code and not f.primary:
        reasons.append("no readable DEX although the app declares code")
    if any(p.part == "dex" for p in apk.problems):
        reasons.append("a DEX file could not be parsed")
    code_hidden = bool(reasons)

    total_code = f.dex_bytes + decoded_bytes + native_bytes + hidden_bytes
    name_readability = 1.0 - 0.5 * (obf_c / classes if classes else 0.0)
    readable = ((f.dex_bytes + decoded_bytes) * name_readability / total_code) if total_code else 0.0
    if packers or any(p.name.startswith("DexGuard") for p in protectors):
        readable = min(readable, 0.2)
    if code_hidden:
        readable = min(readable, 0.35)
    readable = round(max(0.0, min(1.0, readable)), 3)
    if readable >= 0.7 and not code_hidden:
        level = Auditability.HIGH
    elif readable >= 0.4 and not code_hidden:
        level = Auditability.MEDIUM
    else:
        level = Auditability.LOW
    return Coverage(
        dex_files=len(f.primary),
        classes=classes,
        obfuscated_classes=obf_c,
        methods=methods,
        obfuscated_methods=obf_m,
        fields=fields,
        obfuscated_fields=obf_f,
        packages=pkgs,
        protectors=tuple(protectors),
        dynamic_loading=tuple(sorted(set(dynamic))),
        reflection=tuple(sorted(set(reflection))),
        reflection_heavy=reflection_heavy,
        string_encryption=tuple(crypto),
        hidden_code=tuple(hidden),
        hidden_bytes=hidden_bytes,
        missing_classes=tuple(missing),
        native_libs=len(apk.native_libs),
        native_bytes=native_bytes,
        jni_exports=jni,
        dex_bytes=f.dex_bytes,
        unreadable_parts=unreadable_parts,
        readable_share=readable,
        auditability=level,
        code_hidden=code_hidden,
        hidden_reasons=tuple(reasons),
        loaders=loaders,
        hidden_decoded=tuple(decoded_ev),
        string_decoders=tuple(decoder_ev),
        decoding_budget=f"payloads: {scan.budget.describe()} ({scan.spent}); code: {code.budget}",
    )


_DESCRIPTORISH = re.compile(r"^[\[(]*L[\w/$]+;|^[VZBSCIJFD\[(]")
_ODD_CHAR = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\ufff0-\uffff]")


def _unreadable_strings(f: Facts) -> tuple[int, int]:
    """(unreadable, considered) over string constants of 8+ characters (type descriptors aside)."""
    considered = sum(1 for s in f.strings if len(s) >= 8 and s[0] not in "L([")
    bad = 0
    blob = f.blob
    pos = 0
    while True:
        m = _ODD_CHAR.search(blob, pos)
        if m is None:
            break
        start = blob.rfind("\n", 0, m.start()) + 1
        end = blob.find("\n", m.end())
        line = blob[start : end if end >= 0 else len(blob)]
        if len(line) >= 8 and not _DESCRIPTORISH.match(line):
            printable = sum(1 for ch in line if ch.isprintable())
            if printable < 0.7 * len(line):
                bad += 1
        if end < 0:
            break
        pos = end + 1
    return bad, considered
