"""Derived, read-only views of an :class:`Apk` that several checks share.

Computing them once per APK keeps the checks within the time budget. The cache is
a memo of pure functions keyed by object identity (the value is recomputed for any
other Apk object), bounded to a few entries, so a check stays a pure function of
``(apk, kb)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TypeVar

from appveto.apk.dexcode import CodeBudget
from appveto.apk.hidden import HiddenScan, find_hidden
from appveto.apk.model import Apk, DexFile, DexLocation, FieldRef, MethodRef, descriptor_to_java
from appveto.checks.codefacts import CodeFacts, read_code_facts
from appveto.findings import Evidence, EvidenceKind, Location

T = TypeVar("T")

_MEMO_SIZE = 4
_lock = threading.Lock()
_memo: dict[tuple[int, str], tuple[object, object]] = {}


def memo(apk: Apk, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per (apk object, key); bounded, identity-checked."""
    k = (id(apk), key)
    with _lock:
        hit = _memo.get(k)
    if hit is not None and hit[0] is apk:
        return hit[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        if len(_memo) >= _MEMO_SIZE * 8:
            for old in list(_memo)[: len(_memo) // 2]:
                del _memo[old]
        _memo[k] = (apk, value)
    return value


def release(apk: Apk) -> None:
    """Drop every memoised value of ``apk`` (call when its scan is done: frees the tables)."""
    with _lock:
        for k in [k for k, v in _memo.items() if v[0] is apk]:
            del _memo[k]


_ENCODED_LINE = re.compile(r"^(?![L(\[])[A-Za-z0-9+/=_\-]{32,}$", re.M)
"""A string constant of 32 characters or more in the base64 alphabet (one per line of the
blob): a candidate payload or payload chunk."""


def facts(apk: Apk) -> Facts:
    return memo(apk, "facts", lambda: Facts(apk))


class Facts:
    """Lazily computed tables over the primary DEX files (those Android loads)."""

    def __init__(self, apk: Apk) -> None:
        self.apk = apk

    @cached_property
    def primary(self) -> tuple[DexFile, ...]:
        return tuple(d for d in self.apk.dex if d.location is DexLocation.PRIMARY)

    @cached_property
    def defined(self) -> frozenset[str]:
        """Descriptors of the classes the primary DEX files define."""
        out: set[str] = set()
        for d in self.primary:
            out.update(d.class_defs)
        return frozenset(out)

    @cached_property
    def defined_java(self) -> frozenset[str]:
        return frozenset(descriptor_to_java(c) for c in self.defined)

    @cached_property
    def strings_by_dex(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(d.strings) for d in self.primary)

    @cached_property
    def strings(self) -> frozenset[str]:
        if len(self.strings_by_dex) == 1:
            return self.strings_by_dex[0]
        return frozenset().union(*self.strings_by_dex)

    @cached_property
    def blob(self) -> str:
        """Every string constant on its own line, for fast regex scans."""
        return "\n".join(sorted(self.strings))

    @cached_property
    def method_refs(self) -> frozenset[MethodRef]:
        out: set[MethodRef] = set()
        for d in self.primary:
            out.update(d.method_refs)
        return frozenset(out)

    @cached_property
    def refs_by_class(self) -> dict[str, list[tuple[MethodRef, str]]]:
        """Framework and library method references grouped by class (with their DEX entry)."""
        out: dict[str, list[tuple[MethodRef, str]]] = {}
        defined = self.defined
        for d in self.primary:
            entry = d.entry
            for m in d.method_refs:
                if m.class_name not in defined:
                    out.setdefault(m.class_name, []).append((m, entry))
        return out

    @cached_property
    def field_refs(self) -> frozenset[FieldRef]:
        out: set[FieldRef] = set()
        for d in self.primary:
            out.update(d.field_refs)
        return frozenset(out)

    @cached_property
    def dex_bytes(self) -> int:
        return sum(d.size for d in self.primary)

    # ------------------------------------------------------------- hidden code

    @cached_property
    def code(self) -> CodeFacts:
        """Loaders, string decoders and payload strings read from the primary DEX bytecode."""

        archive = self.apk.archive

        def reader(entry: str) -> Callable[[], bytes]:
            return lambda: archive.read(entry)

        encoded = frozenset(m.group() for m in _ENCODED_LINE.finditer(self.blob))
        return read_code_facts(((d, reader(d.entry)) for d in self.primary), CodeBudget(), encoded)

    @cached_property
    def hidden(self) -> HiddenScan:
        """Payloads hidden in the APK (assets, resources, strings, appended data), decoded
        within a fixed budget; XOR keys are tried from the app's short string constants."""

        def keys() -> Iterator[str]:
            for dec in self.code.decoders:
                yield from dec.keys
            for d in self.primary:
                yield from (s for s in d.strings if 2 <= len(s) <= 64 and s[0] not in "L([")

        return find_hidden(self.apk, strings=self.code.payload_strings, keys=keys)

    @cached_property
    def hidden_dex(self) -> tuple[tuple[DexFile, str], ...]:
        """DEX files decoded from hidden payloads, each with where it came from
        (``assets/x (base64)``)."""
        return tuple((c.dex, c.origin) for c in self.hidden.code if c.dex is not None)

    @cached_property
    def hidden_strings(self) -> dict[str, str]:
        """Strings the primary DEX does not show in clear, with their origin: the string
        constants of decoded hidden code and of hidden native code, and the plain text of
        constants decoded by the app's own string decoders. For endpoint and tracker checks:
        what they report from here is marked as coming from hidden code."""
        out: dict[str, str] = {}
        for c in self.hidden.code:
            origin = f"in hidden code decoded from {c.origin}"
            if c.dex is not None:
                for s in c.dex.strings:
                    out.setdefault(s, origin)
            if c.native is not None:
                for s in c.native.strings_sample:
                    out.setdefault(s, origin)
        for dec in self.code.decoders:
            for _enc, plain in dec.decoded:
                out.setdefault(plain, f"decrypted from a string constant by {dec.java} ({dec.scheme})")
        return out

    @cached_property
    def hidden_classes(self) -> dict[str, str]:
        """Class descriptors defined by decoded hidden code, with their origin."""
        out: dict[str, str] = {}
        for dex, origin in self.hidden_dex:
            for c in dex.class_defs:
                out.setdefault(c, f"in hidden code decoded from {origin}")
        return out

    # ------------------------------------------------------------------ helpers

    def has_method(self, class_descriptor: str, *names: str) -> bool:
        """A reference to a method of a class the app does not define (framework or library)."""
        refs = self.refs_by_class.get(class_descriptor, ())
        return any(not names or m.name in names for m, _ in refs)

    def method_evidence(
        self, class_descriptor: str, *names: str, note: str | None = None
    ) -> Iterator[Evidence]:
        """Evidence for references to ``class->name`` (any of ``names``), one per ref."""
        for m, entry in self.refs_by_class.get(class_descriptor, ()):
            if not names or m.name in names:
                yield method_ev(m, entry, note)

    def dex_entry_of_string(self, s: str) -> str | None:
        for d, table in zip(self.primary, self.strings_by_dex, strict=True):
            if s in table:
                return d.entry
        return None

    def string_evidence(self, s: str, note: str | None = None) -> Evidence:
        return Evidence(EvidenceKind.STRING, s, Location(entry=self.dex_entry_of_string(s)), note)


def method_ev(m: MethodRef, entry: str, note: str | None = None) -> Evidence:
    return Evidence(
        EvidenceKind.METHOD,
        f"{m.class_name}->{m.name}{m.descriptor}",
        Location(entry=entry, class_name=descriptor_to_java(m.class_name), method=f"{m.name}{m.descriptor}"),
        note,
    )


def field_ev(f: FieldRef, entry: str, note: str | None = None) -> Evidence:
    return Evidence(
        EvidenceKind.FIELD,
        f"{f.class_name}->{f.name}:{f.type}",
        Location(entry=entry, class_name=descriptor_to_java(f.class_name)),
        note,
    )


def manifest_ev(value: str, xpath: str | None = None, note: str | None = None) -> Evidence:
    return Evidence(EvidenceKind.MANIFEST, value, Location(entry="AndroidManifest.xml", xpath=xpath), note)
