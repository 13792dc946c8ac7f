"""What the app's bytecode shows about hidden code: class loaders however they are
reached, string-decoder routines and what they decode, payloads split across string
constants.

Read once per APK (through :func:`appveto.checks.facts.facts`) and shared by the
coverage, permission and obfuscation checks. The search is driven by the ID tables:
only a DEX file that names a loader class, a loader method, or defines a method shaped
like a string decoder is read further, and then only the instructions that refer to
those names are located (a byte-pattern search of the code, checked by decoding the
method that holds each hit). All of it counts against one
:class:`~appveto.apk.dexcode.CodeBudget` per APK.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from appveto.apk.dexcode import CodeBudget, CodeReader, MethodCode
from appveto.apk.model import DexFile, MethodRef, descriptor_to_java
from appveto.errors import ApkError
from appveto.findings import Evidence, EvidenceKind, Location

__all__ = ["CodeFacts", "LoaderUse", "StringDecoder", "read_code_facts"]

_LOADERS = (
    "Ldalvik/system/DexClassLoader;",
    "Ldalvik/system/InMemoryDexClassLoader;",
    "Ldalvik/system/PathClassLoader;",
    "Ldalvik/system/DelegateLastClassLoader;",
    "Ldalvik/system/BaseDexClassLoader;",
)
_FROM_DATA = frozenset({"Ldalvik/system/DexClassLoader;", "Ldalvik/system/InMemoryDexClassLoader;"})
_DEXFILE = "Ldalvik/system/DexFile;"
_REFLECT_CTOR = (
    ("Ljava/lang/Class;", ("getConstructor", "getDeclaredConstructor", "newInstance")),
    ("Ljava/lang/reflect/Constructor;", ("newInstance",)),
)
_FOR_NAME = (("Ljava/lang/Class;", ("forName",)), ("Ljava/lang/ClassLoader;", ("loadClass",)))
_GET_METHOD = (("Ljava/lang/Class;", ("getMethod", "getDeclaredMethod")),)
_REFLECTED_LOADER_METHODS = ("loadDex", "openDexFile", "openInMemoryDexFile", "defineClass", "loadClass")
_NATIVE_LOAD = (("Ljava/lang/System;", ("load",)), ("Ljava/lang/Runtime;", ("load", "load0")))
_FILE_WRITES = (
    ("Ljava/io/FileOutputStream;", ("<init>", "write")),
    ("Ljava/nio/file/Files;", ("copy", "write")),
    ("Landroid/content/res/AssetManager;", ("open",)),
)
_B64_DECODE = (("Landroid/util/Base64;", ("decode",)), ("Ljava/util/Base64$Decoder;", ("decode",)))
_CIPHER = (("Ljavax/crypto/Cipher;", ("getInstance", "doFinal", "init")),)
_STRING = "Ljava/lang/String;"
_DECODER_PARAMS = frozenset({_STRING, "[B", "[C", "I", "[I", "[S", "[Ljava/lang/String;"})
_INT_PARAMS = frozenset({"I", "S", "B", "C"})
_ARRAY_TYPES = (":[B", ":[C", ":[S", ":[I")
_NEW_STRING = (("Ljava/lang/String;", ("<init>", "valueOf", "copyValueOf")),)
_MIN_SITES = 5
"""Call sites that make a static String-returning method with decoding work a decoder."""
_MAX_DECODED = 2000
_MAX_HITS = 400
"""Instruction sites located per question (pattern hits decoded to their method)."""
_B64_TEXT = re.compile(r"[A-Za-z0-9+/=_\-]+")
_HEX_TEXT = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True, slots=True)
class LoaderUse:
    """One way the code reaches a class loader (or loads native code it wrote)."""

    how: str
    evidence: Evidence
    from_data: bool
    """True when the loaded code comes from bytes or files the app holds or writes
    (DexClassLoader, InMemoryDexClassLoader, DexFile, defineClass, System.load of a
    written file), False for loaders of installed APKs (PathClassLoader...)."""
    evasive: bool
    """Reached through reflection or a name in a string, not a direct call."""


@dataclass(frozen=True, slots=True)
class StringDecoder:
    """A static routine the app calls to turn encoded constants into strings."""

    method: MethodRef
    entry: str
    call_sites: int
    literals: int
    """Encrypted constants it decodes: the distinct string constants passed to it, or, for
    a decoder taking int indices into an encrypted pool, its call sites."""
    scheme: str
    """What its body does: ``base64``, ``xor``, ``xor key 'k'``, ``cipher``..."""
    decoded: tuple[tuple[str, str], ...]
    """(constant, plain text) for the constants the scheme decoded."""
    in_clinit: bool
    """Called from a static initializer (arrays of strings filled at class load)."""
    keys: tuple[str, ...] = ()
    """String constants of its body and second arguments at its call sites (candidate keys)."""

    @property
    def java(self) -> str:
        return f"{descriptor_to_java(self.method.class_name)}.{self.method.name}{self.method.descriptor}"


@dataclass(frozen=True, slots=True)
class CodeFacts:
    loaders: tuple[LoaderUse, ...]
    decoders: tuple[StringDecoder, ...]
    string_constants: int
    """String constants that are not type or member names (the denominator of the share)."""
    payload_strings: tuple[tuple[str, str], ...]
    """(where, text): long encoded-looking literals and literals the code joins."""
    budget: str
    problems: tuple[str, ...]

    @property
    def decoded_share(self) -> float:
        """Share of the app's strings that go through decoders: encrypted constants over
        encrypted plus plain string constants."""
        through = sum(d.literals for d in self.decoders)
        total = through + self.string_constants
        return through / total if total else 0.0


# ---------------------------------------------------------------------- helpers


def _refs(dex: DexFile, wanted: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[int, MethodRef]:
    out: dict[int, MethodRef] = {}
    for i, m in enumerate(dex.method_refs):
        for cls, names in wanted:
            if m.class_name == cls and m.name in names:
                out[i] = m
    return out


def _sites(data: bytes, opcodes: bytes, indices: Iterable[int]) -> list[tuple[int, int]]:
    """(offset, index) of instructions ``opcode vAA, index@BBBB`` in ``data`` (even offsets).

    A byte-pattern search (at C speed) over the whole file: a hit is a candidate, which
    the caller confirms by decoding the method that holds it."""
    wanted = set(indices)
    if not wanted or not data:
        return []
    ops = b"[" + re.escape(opcodes) + b"]"
    if len(wanted) <= 8:
        alts = b"|".join(re.escape(struct.pack("<H", i)) for i in sorted(wanted))
        rx = re.compile(ops + b"(?=.(" + alts + b"))", re.S)
    else:
        rx = re.compile(ops + b"(?=.(..))", re.S)  # a lookahead: overlapping hits are all seen
    out: list[tuple[int, int]] = []
    for m in rx.finditer(data):
        if m.start() % 2 == 0:
            i = m.group(1)[0] | (m.group(1)[1] << 8)
            if i in wanted:
                out.append((m.start(), i))
                if len(out) >= 50 * _MAX_HITS:
                    break
    return out


_INVOKES = bytes((*range(0x6E, 0x73), *range(0x74, 0x79)))


class _Dex:
    """One DEX file being read: its reader and a lazy offset -> method index."""

    def __init__(self, dex: DexFile, read: Callable[[], bytes], budget: CodeBudget) -> None:
        self.dex = dex
        self._read = read
        self._budget = budget
        self._data: bytes | None = None
        self._reader: CodeReader | None = None
        self._starts: list[int] | None = None
        self._methods: list[tuple[int, int, object]] = []
        self._decoded: dict[int, MethodCode] = {}

    @property
    def data(self) -> bytes:
        """The DEX bytes, read when a question first needs them."""
        if self._data is None:
            try:
                self._data = self._read()
            except ApkError:
                self._data = b""  # an unreadable entry is an ApkProblem of the loader already
        return self._data

    @property
    def reader(self) -> CodeReader:
        if self._reader is None:
            self._reader = CodeReader(self.data, self.dex, self._budget)
        return self._reader

    def method_at(self, offset: int) -> MethodCode | None:
        """The decoded method whose code holds ``offset`` (None when no method does)."""
        import bisect

        if self._starts is None:
            spans = []
            for c in self.reader.classes():
                for m in self.reader.methods_of(c):
                    if m.code_off and m.code_off + 16 <= len(self.data):
                        n = struct.unpack_from("<I", self.data, m.code_off + 12)[0]
                        spans.append((m.code_off + 16, m.code_off + 16 + 2 * n, m))
            spans.sort(key=lambda s: s[0])
            self._budget.spend(len(spans))  # the class data read counts as work
            self._methods = spans  # type: ignore[assignment]
            self._starts = [s[0] for s in spans]
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        start, end, info = self._methods[i]
        if not start <= offset < end:
            return None
        hit = self._decoded.get(start)
        if hit is None:
            hit = self.reader.decode(info)  # type: ignore[arg-type]
            self._decoded[start] = hit
        return hit


def _ev(d: _Dex, code: MethodCode | None, value: str, note: str) -> Evidence:
    if code is None:
        return Evidence(EvidenceKind.STRING, value, Location(entry=d.dex.entry), note)
    m = code.method.ref
    return Evidence(
        EvidenceKind.METHOD,
        value,
        Location(
            entry=d.dex.entry, class_name=descriptor_to_java(m.class_name), method=f"{m.name}{m.descriptor}"
        ),
        note,
    )


def _calls_any(code: MethodCode, wanted: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    return any(code.calls(cls, *names) for cls, names in wanted)


# ---------------------------------------------------------------------- loaders


def _loaders(d: _Dex, decoded_names: set[str]) -> Iterator[LoaderUse]:
    dex = d.dex
    refs = dex.method_refs
    # 1. direct calls: constructors of the loaders, DexFile.loadDex / new DexFile
    for i, m in enumerate(refs):
        if (m.class_name in _LOADERS and m.name == "<init>") or (
            m.class_name == _DEXFILE and m.name in ("loadDex", "<init>", "openDexFile")
        ):
            name = descriptor_to_java(m.class_name).rsplit(".", 1)[-1]
            what = f"{name}.{'constructor' if m.name == '<init>' else m.name}"
            sites = _sites(d.data, _INVOKES, (i,))[:3]
            code = d.method_at(sites[0][0]) if sites else None
            yield LoaderUse(
                f"{what} called directly",
                _ev(d, code, f"{m.class_name}->{m.name}{m.descriptor}", "dynamic code loading"),
                m.class_name in _FROM_DATA or m.class_name == _DEXFILE,
                False,
            )
    # 2. the loader class as a constant (const-class) or a name (const-string), then
    #    reflection: getConstructor/newInstance, Class.forName, ClassLoader.loadClass
    reflect = _refs(dex, (*_REFLECT_CTOR, *_FOR_NAME))
    if reflect:
        type_idx = {t: i for i, t in enumerate(dex.types) if t in _LOADERS or t == _DEXFILE}
        str_idx = {
            s: i
            for i, s in enumerate(dex.strings)
            if s.startswith("dalvik.system.") and ("ClassLoader" in s or s == "dalvik.system.DexFile")
        }
        for t, ti in type_idx.items():
            for off, _ in _sites(d.data, b"\x1c", (ti,))[:_MAX_HITS]:
                code = d.method_at(off)
                if code is not None and _calls_any(code, _REFLECT_CTOR):
                    yield LoaderUse(
                        f"const-class {descriptor_to_java(t)} + reflective construction",
                        _ev(
                            d, code, descriptor_to_java(t), "class loader reached by reflection (const-class)"
                        ),
                        t in _FROM_DATA or t == _DEXFILE,
                        True,
                    )
                    break
        for s, si in str_idx.items():
            for off, _ in _sites(d.data, b"\x1a", (si,))[:_MAX_HITS]:
                code = d.method_at(off)
                if code is not None and _calls_any(code, (*_REFLECT_CTOR, *_FOR_NAME)):
                    yield LoaderUse(
                        f'Class.forName("{s}") + reflective construction',
                        _ev(d, code, s, "class loader named in a string and reached by reflection"),
                        "L" + s.replace(".", "/") + ";" in _FROM_DATA or s.endswith("DexFile"),
                        True,
                    )
                    break
    # 3. reflection on loader methods: getDeclaredMethod("openDexFile" / "defineClass" ...)
    getters = _refs(dex, _GET_METHOD)
    if getters:
        names = {s: i for i, s in enumerate(dex.strings) if s in _REFLECTED_LOADER_METHODS}
        for s, si in names.items():
            for off, _ in _sites(d.data, b"\x1a", (si,))[:_MAX_HITS]:
                code = d.method_at(off)
                if code is not None and any(
                    i.args and s in i.args for i in code.invokes() if i.target in getters.values()
                ):
                    yield LoaderUse(
                        f'reflection on {s} (getMethod/getDeclaredMethod("{s}"))',
                        _ev(d, code, s, "class-loading method reached by reflection"),
                        s != "loadClass",
                        True,
                    )
                    break
    # 4. System.load / Runtime.load of a file the app writes (not loadLibrary of lib/)
    loads = _refs(dex, _NATIVE_LOAD)
    writes = _refs(dex, _FILE_WRITES)
    if loads and writes:
        for off, _ in _sites(d.data, _INVOKES, loads)[:_MAX_HITS]:
            code = d.method_at(off)
            if code is None:
                continue
            cls = code.method.ref.class_name
            if _calls_any(code, _FILE_WRITES) or any(
                _calls_any(other, _FILE_WRITES) for other in d.reader.code_of(cls)
            ):
                yield LoaderUse(
                    "System.load of a file the app writes",
                    _ev(
                        d,
                        code,
                        "java.lang.System.load",
                        "native code loaded from a file the same class writes",
                    ),
                    True,
                    True,
                )
                break
    # 5. loader class names the app decodes from encrypted strings
    for name in sorted(decoded_names):
        if name.startswith("dalvik.system.") and ("ClassLoader" in name or name.endswith("DexFile")):
            yield LoaderUse(
                f'"{name}" decoded from an encrypted string',
                Evidence(
                    EvidenceKind.STRING,
                    name,
                    Location(entry=dex.entry),
                    "class loader named in an encrypted string",
                ),
                True,
                True,
            )


# --------------------------------------------------------------------- decoders


def _decoder_candidates(dex: DexFile) -> dict[int, MethodRef]:
    """Methods the file defines shaped like string decoders: ``String`` from one to three
    ``String``/``byte[]``/``char[]``/``int[]``... parameters, or from one to three ints
    (an index into an encrypted pool, as DexGuard-style and Obad-style decoders take)."""
    defined = set(dex.class_defs)
    out: dict[int, MethodRef] = {}
    for i, m in enumerate(dex.method_refs):
        if m.class_name not in defined or not m.descriptor.endswith(")" + _STRING):
            continue
        params = _params(m.descriptor)
        if not 1 <= len(params) <= 3:
            continue
        if all(p in _INT_PARAMS for p in params) or (
            all(p in _DECODER_PARAMS for p in params) and params[0] not in _INT_PARAMS
        ):
            out[i] = m
    return out


def _params(desc: str) -> list[str]:
    body = desc[1 : desc.index(")")]
    out: list[str] = []
    i = 0
    while i < len(body):
        j = i
        while body[j] == "[":
            j += 1
        if body[j] == "L":
            j = body.index(";", j)
        out.append(body[i : j + 1])
        i = j + 1
    return out


def _literal_args(d: _Dex, site: int) -> tuple[str, ...]:
    """String constants loaded by the const-string instructions right before the invoke
    at ``site`` into the registers it passes."""
    data = d.data
    op, aa = data[site], data[site + 1]
    word = struct.unpack_from("<H", data, site + 4)[0]
    if op == 0x77:
        regs = set(range(word, word + aa))
    else:
        five = (word & 0xF, (word >> 4) & 0xF, (word >> 8) & 0xF, word >> 12, aa & 0xF)
        regs = set(five[: min(aa >> 4, 5)])
    out: list[str] = []
    p = site
    strings = d.dex.strings
    for _ in range(3):
        if p >= 4 and data[p - 4] == 0x1A and data[p - 3] in regs:
            si = struct.unpack_from("<H", data, p - 2)[0]
            if si < len(strings):
                out.append(strings[si])
            p -= 4
        elif p >= 6 and data[p - 6] == 0x1B and data[p - 5] in regs:
            si = struct.unpack_from("<I", data, p - 4)[0]
            if si < len(strings):
                out.append(strings[si])
            p -= 6
        else:
            break
    return tuple(reversed(out))


def _printable(s: str) -> bool:
    return bool(s) and all(32 <= ord(c) < 127 for c in s)


def _try_schemes(
    literals: list[str], keys: list[str], lits: list[int], base64_used: bool
) -> tuple[str, dict[str, str]]:
    """The decoding (of a few simple schemes) under which most literals become text."""
    schemes: list[tuple[str, object]] = []
    if base64_used:
        schemes.append(("base64", None))
    for k in [k for k in keys if k][:8]:
        schemes.append((f"xor key '{k}'", k))
        if base64_used:
            schemes.append((f"base64, xor key '{k}'", ("b64", k)))
    for v in lits[:8]:
        if v & 0xFF > 0:
            schemes.append((f"xor {v & 0xFF:#04x}", v & 0xFF))
            if base64_used:
                schemes.append((f"base64, xor {v & 0xFF:#04x}", ("b64", v & 0xFF)))
    best: tuple[str, dict[str, str]] = ("", {})
    sample = literals[:200]
    for label, how in schemes:
        plain: dict[str, str] = {}
        for lit in sample:
            out = _apply(lit, how)
            if out is not None and out != lit and _printable(out):
                plain[lit] = out
        if len(plain) > len(best[1]):
            best = (label, plain)
    if best[1] and len(best[1]) >= 0.6 * len(sample):
        label = best[0]
        how = dict(schemes)[label]
        full = {
            lit: out
            for lit in literals[:_MAX_DECODED]
            if (out := _apply(lit, how)) is not None and _printable(out)
        }
        return label, full
    return "", {}


def _apply(lit: str, how: object) -> str | None:
    try:
        if how is None:
            return base64.b64decode(lit + "=" * (-len(lit) % 4), validate=True).decode("utf-8")
        if isinstance(how, tuple):
            raw = base64.b64decode(lit + "=" * (-len(lit) % 4), validate=True)
            return _xor_text(raw.decode("latin-1"), how[1])
        return _xor_text(lit, how)  # type: ignore[arg-type]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _xor_text(text: str, key: str | int) -> str:
    if isinstance(key, int):
        return "".join(chr(ord(c) ^ key) for c in text)
    if not key:
        return text
    return "".join(chr(ord(c) ^ ord(key[i % len(key)])) for i, c in enumerate(text))


def _decoders(d: _Dex) -> Iterator[StringDecoder]:
    cands = _decoder_candidates(d.dex)
    if not cands:
        return
    counts: dict[int, list[int]] = {}
    for off, idx in _sites(d.data, b"\x71\x77", cands):
        counts.setdefault(idx, []).append(off)
    b64_refs = set(_refs(d.dex, _B64_DECODE).values())
    cipher_refs = set(_refs(d.dex, _CIPHER).values())
    for idx, sites in sorted(counts.items(), key=lambda kv: -len(kv[1])):
        if len(sites) < _MIN_SITES:
            continue
        ref = cands[idx]
        info = d.reader.find_method(ref)
        if info is None or not info.is_static:
            continue
        body = d.reader.decode(info)
        calls = {i.target for i in body.invokes()}
        b64 = bool(calls & b64_refs)
        cipher = bool(calls & cipher_refs)
        xors = body.xor_count()
        by_index = all(p in _INT_PARAMS for p in _params(ref.descriptor))
        pool = _calls_any(body, _NEW_STRING) and any(
            (i.opcode == 0x62 and isinstance(i.target, str) and i.target.endswith(_ARRAY_TYPES))
            or i.opcode == 0x26
            for i in body.insns
        )
        if not (b64 or cipher or xors or pool):
            continue  # no decoding work: a helper, not a decoder
        if by_index:
            # the constants are int indices into an encrypted pool: every call site is one
            # hidden string; decoding it would mean running the routine, which we do not
            literals: list[str] = []
            n_consts = len(sites)
            scheme, plain = "encrypted pool indexed by int constants", dict[str, str]()
            keys: list[str] = []
        else:
            literal_sets = [_literal_args(d, s) for s in sites[: 20 * _MAX_HITS]]
            literals = sorted({a[0] for a in literal_sets if a})
            fed = sum(1 for a in literal_sets if a)
            if len(literals) < 3 or fed < 0.5 * len(literal_sets):
                continue  # called mostly on run-time data: a codec, not string encryption
            n_consts = len(literals)
            keys = sorted({a[-1] for a in literal_sets if len(a) >= 2} | set(body.strings()), key=len)
            lits = [
                i.target
                for i in body.insns
                if i.opcode in (0xDF, 0xD7, 0x12, 0x13) and isinstance(i.target, int)
            ]
            scheme, plain = "", dict[str, str]()
            if not cipher:
                scheme, plain = _try_schemes(literals, keys, lits, b64)
            scheme = scheme or (
                "cipher (javax.crypto)" if cipher else "base64" if b64 else "xor" if xors else "custom"
            )
        in_clinit = False
        for s in sites[:50]:
            code = d.method_at(s)
            if code is not None and code.method.ref.name == "<clinit>":
                in_clinit = True
                break
        yield StringDecoder(
            ref,
            d.dex.entry,
            len(sites),
            n_consts,
            scheme,
            tuple(sorted(plain.items()))[:_MAX_DECODED],
            in_clinit,
            tuple(keys[:16]),
        )


# ----------------------------------------------------------------------- chunks


def _payload_strings(d: _Dex) -> Iterator[tuple[str, str]]:
    dex = d.dex
    chunk_idx: dict[int, str] = {}
    for i, s in enumerate(dex.strings):
        if len(s) >= 16 and (_B64_TEXT.fullmatch(s) or _HEX_TEXT.fullmatch(s)) and not s.startswith("L"):
            if len(s) >= 256:
                yield f'{dex.entry} string "{s[:16]}..."', s
            if (
                len(chunk_idx) < 20_000
                and re.search(r"[0-9]", s)
                and (re.search(r"[A-Z]", s) or _HEX_TEXT.fullmatch(s))
            ):
                chunk_idx[i] = s
    if len(chunk_idx) < 2:
        return
    hits = sorted(_sites(d.data, b"\x1a", chunk_idx))
    run: list[tuple[int, str]] = []
    for off, si in [*hits, (1 << 62, -1)]:
        if run and off - run[-1][0] > 32:
            if len(run) >= 2:
                text = "".join(s for _, s in run)
                if len(text) >= 128:
                    yield f"{dex.entry} strings joined by the code at {run[0][0]:#x}", text
            run = []
        if si >= 0:
            run.append((off, chunk_idx[si]))


# ------------------------------------------------------------------------ entry


def read_code_facts(
    dex_files: Iterable[tuple[DexFile, Callable[[], bytes]]], budget: CodeBudget | None = None
) -> CodeFacts:
    """Read loaders, string decoders and payload strings from ``(dex, read bytes)`` pairs;
    a file's bytes are read only when its ID tables name something to look for."""
    budget = budget or CodeBudget()
    loaders: list[LoaderUse] = []
    decoders: list[StringDecoder] = []
    payloads: list[tuple[str, str]] = []
    problems: list[str] = []
    constants = 0
    for dex, read in dex_files:
        d = _Dex(dex, read, budget)
        names = set(dex.types) | {m.name for m in dex.method_refs} | {f.name for f in dex.field_refs}
        constants += sum(1 for s in dex.strings if s not in names and not s.startswith(("(", "[")))
        found = list(_decoders(d))
        decoders.extend(found)
        plain = {p for dec in found for _, p in dec.decoded}
        loaders.extend(_loaders(d, plain))
        payloads.extend(_payload_strings(d))
        problems.extend(f"{dex.entry}: {p}" for p in d.reader.problems[:5])
        if budget.exhausted:
            problems.append(f"{dex.entry}: code reading stopped: {budget.exhausted}")
            break
    uniq = {(u.how, u.evidence): u for u in loaders}
    return CodeFacts(
        tuple(uniq.values()), tuple(decoders), constants, tuple(payloads), budget.describe(), tuple(problems)
    )
