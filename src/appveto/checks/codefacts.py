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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, pairwise
from operator import itemgetter

from appveto.apk.dexcode import CodeBudget, CodeReader, MethodCode, MethodInfo
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
_MAX_CLINITS = 4000
"""Static initializers whose code ranges are read per DEX file (to tell decoder calls
made while a class loads)."""
_MAX_DECODERS = 64
"""Decoder candidates (by call count) whose bodies are read, per DEX file."""
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


_WATCHED = frozenset(
    c for group in (_REFLECT_CTOR, _FOR_NAME, _GET_METHOD, _NATIVE_LOAD, _FILE_WRITES, _B64_DECODE, _CIPHER)
    for c, _names in group
) | frozenset(_LOADERS) | {_DEXFILE}  # fmt: skip


def _by_class(dex: DexFile) -> dict[str, list[tuple[int, MethodRef]]]:
    """References to methods of the framework classes this module asks about, by class
    (one pass over the method table)."""
    out: dict[str, list[tuple[int, MethodRef]]] = {}
    watched = _WATCHED
    for i, m in enumerate(dex.method_refs):
        if m.class_name in watched:
            out.setdefault(m.class_name, []).append((i, m))
    return out


def _refs(
    index: dict[str, list[tuple[int, MethodRef]]], wanted: tuple[tuple[str, tuple[str, ...]], ...]
) -> dict[int, MethodRef]:
    return {i: m for cls, names in wanted for i, m in index.get(cls, ()) if m.name in names}


def _sites(
    data: bytes, opcodes: bytes, indices: Iterable[int], region: tuple[int, int] | None = None
) -> list[tuple[int, int]]:
    """(offset, index) of instructions ``opcode vAA, index@BBBB`` in ``data`` (even offsets),
    within ``region`` (the code section) when given.

    A byte-pattern search (at C speed): a hit is a candidate, which the caller confirms
    by decoding the method that holds it."""
    wanted = set(indices)
    if not wanted or not data:
        return []
    start, end = region or (0, len(data))
    ops = b"[" + re.escape(opcodes) + b"]"
    if len(wanted) <= 16:
        alts = b"|".join(re.escape(struct.pack("<H", i)) for i in sorted(wanted))
        rx = re.compile(ops + b"(?=.(" + alts + b"))", re.S)
    else:
        rx = re.compile(ops + b"(?=.(..))", re.S)  # a lookahead: overlapping hits are all seen
    out: list[tuple[int, int]] = []
    for m in rx.finditer(data, start, end):
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
        self._methods: list[tuple[int, int, int, int, int]] = []
        self._decoded: dict[int, MethodCode] = {}
        self.index = _by_class(dex)
        self._invokes: Counter[bytes] | None = None
        self._clinits: list[tuple[int, int]] | None = None

    @property
    def data(self) -> bytes:
        """The DEX bytes, read when a question first needs them."""
        if self._data is None:
            try:
                self._data = self._read()
            except ApkError:
                self._data = b""  # an unreadable entry is an ApkProblem of the loader already
        return self._data

    def sites(self, opcodes: bytes, indices: Iterable[int]) -> list[tuple[int, int]]:
        return _sites(self.data, opcodes, indices, self.reader.code_region())

    def clinit_ranges(self) -> list[tuple[int, int]]:
        """Code ranges of the static initializers, read class by class (no full index)."""
        if self._clinits is None:
            self._clinits = []
            data = self.data
            owners = sorted({m.class_name for m in self.dex.method_refs if m.name == "<clinit>"})
            for cls in owners[:_MAX_CLINITS]:
                for info in self.reader.methods_of(cls):
                    if info.ref.name == "<clinit>" and info.code_off and info.code_off + 16 <= len(data):
                        n = struct.unpack_from("<I", data, info.code_off + 12)[0]
                        self._clinits.append((info.code_off + 16, info.code_off + 16 + 2 * n))
        return self._clinits

    @property
    def invoke_counts(self) -> Counter[bytes]:
        """Method index (2 bytes) -> ``invoke-static`` with one to three arguments calling
        it: one C-speed pass over the code section, to pick the few worth locating."""
        if self._invokes is None:
            start, end = self.reader.code_region()
            self._invokes = Counter(re.findall(rb"\x71[\x10\x20\x30](..)", self.data[start:end], re.S))
        return self._invokes

    @property
    def has_reader(self) -> bool:
        return self._reader is not None

    @property
    def reader(self) -> CodeReader:
        if self._reader is None:
            self._reader = CodeReader(self.data, self.dex, self._budget)
        return self._reader

    def method_at(self, offset: int) -> MethodCode | None:
        """The decoded method whose code holds ``offset`` (None when no method does)."""
        import bisect

        if self._starts is None:
            data = self.data
            spans: list[tuple[int, int, int, int, int]] = []
            for code_off, idx, flags in self.reader.code_spans():
                if code_off + 16 <= len(data):
                    n = struct.unpack_from("<I", data, code_off + 12)[0]
                    spans.append((code_off + 16, code_off + 16 + 2 * n, idx, flags, code_off))
            spans.sort(key=lambda s: s[0])
            self._budget.spend(len(spans))  # the class data read counts as work
            self._methods = spans
            self._starts = [s[0] for s in spans]
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        start, end, idx, flags, code_off = self._methods[i]
        if not start <= offset < end:
            return None
        hit = self._decoded.get(start)
        if hit is None:
            hit = self.reader.decode(MethodInfo(self.dex.method_refs[idx], flags, code_off))
            self._decoded[start] = hit
        return hit


_LOADER_NAMES = frozenset(descriptor_to_java(c) for c in (*_LOADERS, _DEXFILE))


def _string_indices(dex: DexFile, wanted: frozenset[str]) -> dict[str, int]:
    """Indices of the ``wanted`` strings in the (sorted) string table, by binary search."""
    import bisect

    out: dict[str, int] = {}
    strings = dex.strings
    for w in wanted:
        i = bisect.bisect_left(strings, w)
        if i < len(strings) and strings[i] == w:
            out[w] = i
        elif w in strings:  # a table not in order (a crafted file): the slow way
            out[w] = strings.index(w)
    return out


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
    # 1. direct calls: constructors of the loaders, DexFile.loadDex / new DexFile
    direct = _refs(
        d.index, (*((c, ("<init>",)) for c in _LOADERS), (_DEXFILE, ("loadDex", "<init>", "openDexFile")))
    )
    for _i, m in sorted(direct.items()):
        name = descriptor_to_java(m.class_name).rsplit(".", 1)[-1]
        what = f"{name}.{'constructor' if m.name == '<init>' else m.name}"
        where = Location(
            entry=dex.entry, class_name=descriptor_to_java(m.class_name), method=f"{m.name}{m.descriptor}"
        )
        ev = Evidence(
            EvidenceKind.METHOD, f"{m.class_name}->{m.name}{m.descriptor}", where, "dynamic code loading"
        )
        yield LoaderUse(
            f"{what} called directly", ev, m.class_name in _FROM_DATA or m.class_name == _DEXFILE, False
        )
    # 2. the loader class as a constant (const-class) or a name (const-string), then
    #    reflection: getConstructor/newInstance, Class.forName, ClassLoader.loadClass
    reflect = _refs(d.index, (*_REFLECT_CTOR, *_FOR_NAME))
    if reflect:
        type_idx = {
            t: i
            for i, t in enumerate(dex.types)
            if t.startswith("Ldalvik/system/") and (t in _LOADERS or t == _DEXFILE)
        }
        str_idx = {s: i for s, i in _string_indices(dex, _LOADER_NAMES).items()}
        for t, ti in type_idx.items():
            for off, _ in d.sites(b"\x1c", (ti,))[:_MAX_HITS]:
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
            for off, _ in d.sites(b"\x1a", (si,))[:_MAX_HITS]:
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
    getters = _refs(d.index, _GET_METHOD)
    if getters:
        names = _string_indices(dex, frozenset(_REFLECTED_LOADER_METHODS))
        for s, si in names.items():
            for off, _ in d.sites(b"\x1a", (si,))[:_MAX_HITS]:
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
    loads = _refs(d.index, _NATIVE_LOAD)
    writes = _refs(d.index, _FILE_WRITES)
    if loads and writes:
        for off, _ in d.sites(_INVOKES, loads)[:_MAX_HITS]:
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
    refs = dex.method_refs
    shaped = {d for d in set(map(itemgetter(2), refs)) if _decoder_shaped(d)}
    if not shaped:
        return {}
    defined = set(dex.class_defs)
    hits = compress(range(len(refs)), map(shaped.__contains__, map(itemgetter(2), refs)))
    return {i: refs[i] for i in hits if refs[i].class_name in defined}


def _decoder_shaped(desc: str) -> bool:
    if not desc.endswith(")" + _STRING):
        return False
    params = _params(desc)
    if not 1 <= len(params) <= 3:
        return False
    if all(p in _INT_PARAMS for p in params):
        return True
    return all(p in _DECODER_PARAMS for p in params) and params[0] not in _INT_PARAMS


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
    if site + 6 > len(data):
        return ()
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


_NATURAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 ._/:-$")


def _natural(s: str) -> bool:
    """Looks like a name, a path, a URL or words: mostly lower-case letters, digits and
    separators, not a run of hex digits, few capitals (what a decoded class or method name
    looks like, and what base64, hex or XOR output mostly does not)."""
    if len(s) < 2 or not _printable(s) or (len(s) >= 8 and _HEX_TEXT.fullmatch(s)):
        return False
    letters = [c for c in s if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) > 0.35 * len(letters):
        return False
    return sum(1 for c in s.lower() if c in _NATURAL) >= 0.85 * len(s)


def _try_schemes(
    literals: list[str], keys: list[str], lits: list[int], base64_used: bool
) -> tuple[str, dict[str, str]]:
    """The decoding (of a few simple schemes) under which most literals become natural text
    (names, paths, URLs); none when the literals already read as such."""
    sample = literals[:200]
    if not sample or sum(map(_natural, sample)) >= 0.5 * len(sample):
        return "", {}
    outer: list[tuple[str, str | None]] = [("", None)]
    if base64_used or all(_B64_TEXT.fullmatch(x) for x in sample):
        outer.append(("base64", "b64"))
    if all(_HEX_TEXT.fullmatch(x) and len(x) % 2 == 0 for x in sample):
        outer.append(("hex", "hex"))
    inner: list[tuple[str, str | int | None]] = [("", None)]
    inner += [(f"xor key '{k}'", k) for k in [k for k in keys if k][:8]]
    inner += [(f"xor {v & 0xFF:#04x}", v & 0xFF) for v in dict.fromkeys(lits[:16]) if v & 0xFF]
    schemes = [
        (", ".join(x for x in (o_label, i_label) if x), (o_how, i_how))
        for o_label, o_how in outer
        for i_label, i_how in inner
        if o_how is not None or i_how is not None
    ]
    best: tuple[str, dict[str, str]] = ("", {})
    for label, how in schemes:
        plain: dict[str, str] = {}
        for lit in sample:
            out = _apply(lit, how)
            if out is not None and out != lit and _natural(out):
                plain[lit] = out
        if len(plain) > len(best[1]):
            best = (label, plain)
    if best[1] and len(best[1]) >= 0.6 * len(sample):
        label = best[0]
        how = dict(schemes)[label]
        full = {
            lit: out
            for lit in literals[:_MAX_DECODED]
            if (out := _apply(lit, how)) is not None and _natural(out)
        }
        return label, full
    return "", {}


def _apply(lit: str, how: tuple[str | None, str | int | None]) -> str | None:
    outer, key = how
    try:
        if outer == "b64":
            text = base64.b64decode(lit + "=" * (-len(lit) % 4), validate=True).decode("latin-1")
        elif outer == "hex":
            text = bytes.fromhex(lit).decode("latin-1")
        else:
            text = lit
        if key is not None:
            text = _xor_text(text, key)
        return text.encode("latin-1").decode("utf-8") if outer else text
    except (binascii.Error, ValueError, UnicodeError):
        return None


def _xor_text(text: str, key: str | int) -> str:
    if isinstance(key, int):
        return "".join(chr(ord(c) ^ key) for c in text)
    if not key:
        return text
    return "".join(chr(ord(c) ^ ord(key[i % len(key)])) for i, c in enumerate(text))


def _static_strings(d: _Dex, body: MethodCode) -> set[str]:
    """Constant values of the static String fields ``body`` reads, where a static
    initializer stores a string constant straight into them (a key kept in a field)."""
    out: set[str] = set()
    wanted = {
        i.target
        for i in body.insns
        if i.opcode == 0x62 and isinstance(i.target, str) and i.target.endswith(":Ljava/lang/String;")
    }
    for cls in sorted({w.split("->", 1)[0] for w in wanted})[:4]:
        for m in d.reader.methods_of(cls):
            if m.ref.name != "<clinit>":
                continue
            insns = d.reader.decode(m).insns
            for prev, cur in pairwise(insns):
                if cur.opcode == 0x69 and cur.target in wanted and prev.opcode in (0x1A, 0x1B):
                    out.add(str(prev.target))
    return out


def _decoders(d: _Dex) -> Iterator[StringDecoder]:
    cands = _decoder_candidates(d.dex)
    if not cands:
        return
    rough = d.invoke_counts
    n_calls = {i: rough.get(struct.pack("<H", i), 0) for i in cands}
    likely = sorted((i for i, n in n_calls.items() if n >= _MIN_SITES), key=lambda i: -n_calls[i])
    b64_refs = set(_refs(d.index, _B64_DECODE).values())
    cipher_refs = set(_refs(d.index, _CIPHER).values())
    # 1. bodies that do decoding work (the rest are helpers, not decoders)
    working: list[tuple[int, MethodCode, bool, bool, int]] = []
    for idx in likely[:_MAX_DECODERS]:
        info = d.reader.find_method(cands[idx])
        if info is None or not info.is_static:
            continue
        body = d.reader.decode(info)
        targets = {i.target for i in body.invokes()}
        b64 = bool(targets & b64_refs)
        cipher = bool(targets & cipher_refs)
        xors = body.xor_count()
        pool = _calls_any(body, _NEW_STRING) and any(
            (i.opcode == 0x62 and isinstance(i.target, str) and i.target.endswith(_ARRAY_TYPES))
            or i.opcode == 0x26
            for i in body.insns
        )
        if b64 or cipher or xors or pool:
            working.append((idx, body, b64, cipher, xors))
    # 2. their call sites, located in a few passes over the code
    located: dict[int, list[int]] = {}
    for k in range(0, len(working), 8):
        for off, idx in d.sites(b"\x71\x77", [w[0] for w in working[k : k + 8]]):
            located.setdefault(idx, []).append(off)
    for idx, body, b64, cipher, xors in working:
        ref = cands[idx]
        sites = located.get(idx, [])
        if len(sites) < _MIN_SITES:
            continue
        by_index = all(p in _INT_PARAMS for p in _params(ref.descriptor))
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
            keys = sorted(
                {a[-1] for a in literal_sets if len(a) >= 2} | set(body.strings()) | _static_strings(d, body),
                key=len,
            )
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
        clinits = d.clinit_ranges()
        in_clinit = any(a <= s < b for s in sites[:200] for a, b in clinits)
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


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"
_HEX_ALPHABET = "0123456789abcdefABCDEF"
_MAX_CHUNK_CANDIDATES = 32
"""Base64 literals per DEX file whose places in the code are looked up (the most common
lengths first: the pieces of one payload share one length)."""


def _payload_strings(d: _Dex, encoded: frozenset[str]) -> Iterator[tuple[str, str]]:
    """Long literals in an encoding alphabet, and literals the code joins: base64 pieces
    loaded by ``const-string`` instructions a few bytes apart (a StringBuilder chain or an
    array initializer), joined in code order."""
    dex = d.dex
    chunk_idx: dict[int, str] = {}
    present = encoded.intersection(dex.strings)
    for s, i in sorted(_string_indices(dex, frozenset(present)).items(), key=lambda kv: kv[1]):
        if len(s) >= 256:
            yield f'{dex.entry} string "{s[:16]}..."', s
        if s.strip(_HEX_ALPHABET) and re.search(r"[0-9]", s) and re.search(r"[A-Z]", s):
            chunk_idx[i] = s
    if len(chunk_idx) < 2:
        return
    # pieces of one payload mostly share one length: the most common lengths first
    by_len = Counter(len(v) for v in chunk_idx.values())
    ordered = sorted(chunk_idx, key=lambda i: (-by_len[len(chunk_idx[i])], i))[:_MAX_CHUNK_CANDIDATES]
    hits: list[tuple[int, int]] = []
    for k in range(0, len(ordered), 16):
        hits.extend(d.sites(b"\x1a", ordered[k : k + 16]))
    hits.sort()
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
    dex_files: Iterable[tuple[DexFile, Callable[[], bytes]]],
    budget: CodeBudget | None = None,
    encoded: frozenset[str] = frozenset(),
) -> CodeFacts:
    """Read loaders, string decoders and payload strings from ``(dex, read bytes)`` pairs;
    a file's bytes are read only when its ID tables name something to look for.
    ``encoded`` are the string constants (of any of the files) of 32 characters or more
    written only in the base64 alphabet: candidate payloads and payload chunks."""
    budget = budget or CodeBudget()
    loaders: list[LoaderUse] = []
    decoders: list[StringDecoder] = []
    payloads: list[tuple[str, str]] = []
    problems: list[str] = []
    constants = 0
    for dex, read in dex_files:
        d = _Dex(dex, read, budget)
        found = list(_decoders(d))
        if found:  # the share's denominator: string constants that name no type or member
            names = set(dex.types)
            names.update(map(itemgetter(1), dex.method_refs))
            names.update(map(itemgetter(1), dex.field_refs))
            constants += len(dex.strings) - len(names.intersection(dex.strings))
        decoders.extend(found)
        plain = {p for dec in found for _, p in dec.decoded}
        loaders.extend(_loaders(d, plain))
        payloads.extend(_payload_strings(d, encoded))
        if d.has_reader:
            problems.extend(f"{dex.entry}: {p}" for p in d.reader.problems[:5])
        if budget.exhausted:
            problems.append(f"{dex.entry}: code reading stopped: {budget.exhausted}")
            break
    uniq = {(u.how, u.evidence): u for u in loaders}
    return CodeFacts(
        tuple(uniq.values()), tuple(decoders), constants, tuple(payloads), budget.describe(), tuple(problems)
    )
