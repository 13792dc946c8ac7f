"""Anti-analysis indicators, matched as whole tokens (never as substrings).

An indicator is evidence only when the code names it: a string literal that *is* the
indicator (``"frida-server"``, ``"/system/xbin/su"``, ``"TracerPid:"``; a path counts by
its last component), or a name in the code (package, class, method, native library, JNI
export) with the indicator as one of its words (``de.robv.android.xposed``,
``isFridaRunning``, ``libfrida-gadget.so``). ``blackfriday`` and ``exposed`` hold the
letters of ``frida`` and ``xposed`` but not the words, so they are no evidence.

A finding names the token that matched and where, never a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from appveto.apk.model import Apk
from appveto.checks.facts import facts, memo
from appveto.findings import Evidence, EvidenceKind, Location


@dataclass(frozen=True, slots=True)
class IndicatorFamily:
    label: str
    literals: frozenset[str]
    """String literals that are this indicator (compared case-insensitively, after the
    trailing ``:``/``=`` and blanks are stripped; a path by its last component too)."""
    words: frozenset[str]
    """Words of names in the code (lower case; a name is split at ``.``, ``/``, ``$``,
    ``_``, ``-`` and lower-to-upper case changes)."""


def _fam(label: str, literals: Iterable[str], words: Iterable[str]) -> IndicatorFamily:
    return IndicatorFamily(label, frozenset(s.casefold() for s in literals), frozenset(words))


FAMILIES: tuple[IndicatorFamily, ...] = (
    _fam(
        "root detection",
        (
            "/system/xbin/su",
            "/system/bin/su",
            "/sbin/su",
            "/su/bin/su",
            "/system/sd/xbin/su",
            "/system/bin/failsafe/su",
            "/data/local/su",
            "/data/local/bin/su",
            "/data/local/xbin/su",
            "/system/xbin/daemonsu",
            "/system/app/Superuser.apk",
            "Superuser.apk",
            "test-keys",
            "com.topjohnwu.magisk",
            "eu.chainfire.supersu",
            "com.noshufou.android.su",
            "com.koushikdutta.superuser",
            "com.thirdparty.superuser",
            "com.yellowes.su",
            "com.scottyab.rootbeer",
        ),
        ("rootbeer", "magisk", "supersu"),
    ),
    _fam(
        "emulator detection",
        (
            "ro.kernel.qemu",
            "ro.hardware.virtual",
            "goldfish",
            "ranchu",
            "generic_x86",
            "generic_x86_64",
            "vbox86",
            "vbox86p",
            "sdk_gphone",
            "sdk_gphone_x86",
            "sdk_gphone64_arm64",
            "Genymotion",
            "/dev/socket/qemud",
            "/dev/qemu_pipe",
            "init.goldfish.rc",
            "ueventd.goldfish.rc",
            "qemu.hw.mainkeys",
        ),
        ("genymotion", "goldfish", "qemu"),
    ),
    _fam(
        "debugger / instrumentation detection",
        (
            "TracerPid",
            "frida",
            "frida-server",
            "frida-gadget",
            "frida-agent",
            "gum-js-loop",
            "gmain",
            "linjector",
            "xposed",
            "XposedBridge",
            "XposedBridge.jar",
            "de.robv.android.xposed",
            "de.robv.android.xposed.installer",
            "com.saurik.substrate",
            "LIBFRIDA",
        ),
        ("frida", "xposed", "tracerpid"),
    ),
)

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_DESCRIPTOR = re.compile(r"\[*L[A-Za-z0-9_$/\-]+;")
_SPLIT = re.compile(r"[./$_\-\s;:\[\]()<>,]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_words(name: str) -> frozenset[str]:
    """The lower-case words of a name: ``Lde/robv/XposedBridge;`` -> de, robv, xposed, bridge."""
    if _DESCRIPTOR.fullmatch(name):
        name = name.lstrip("[")[1:-1]
    out: set[str] = set()
    for part in _SPLIT.split(name):
        if not part:
            continue
        out.add(part.casefold())
        out.update(w.casefold() for w in _CAMEL.findall(part))
    return frozenset(out)


def literal_forms(s: str) -> tuple[str, ...]:
    """What a string literal is, as written (compared case-folded with
    :attr:`IndicatorFamily.literals`): the literal without blanks and a trailing ``:``/``=``,
    and a path's last component."""
    t = s.strip().rstrip(":=").strip()
    if not t:
        return ()
    base = t.rsplit("/", 1)[-1] if "/" in t and not t.endswith("/") else t
    return (t, base) if base != t else (t,)


def _is_name(s: str) -> bool:
    """A DEX string that is a type descriptor or a Java identifier (a name, not text)."""
    return bool(_DESCRIPTOR.fullmatch(s) or _IDENT.fullmatch(s))


@dataclass(frozen=True, slots=True)
class IndicatorHit:
    family: str
    token: str
    """The indicator as the code names it (a literal, or the word of a name)."""
    where: str
    """The string, name or symbol that holds it."""
    evidence: Evidence


_KEYS = sorted(
    {w for f in FAMILIES for w in f.words} | {lit for f in FAMILIES for lit in f.literals},
    key=len,
    reverse=True,
)
_PREFILTER = re.compile("|".join(re.escape(k) for k in _KEYS).encode())
"""Every indicator and word, searched in the lower-cased blob: a line without any of
them cannot match, so only candidate lines are split into words."""


def _candidates(blob: str) -> Iterator[str]:
    raw = blob.encode("utf-8", "surrogatepass")
    folded = raw.lower()
    pos = 0
    while True:
        m = _PREFILTER.search(folded, pos)
        if m is None:
            return
        start = raw.rfind(b"\n", 0, m.start()) + 1
        end = raw.find(b"\n", m.end())
        yield raw[start : end if end >= 0 else len(raw)].decode("utf-8", "surrogatepass")
        if end < 0:
            return
        pos = end + 1


def _match(s: str) -> Iterator[tuple[str, str]]:
    """(family label, matched token) for one string of the code."""
    forms = literal_forms(s)
    words = name_words(s) if _is_name(s) else frozenset()
    for fam in FAMILIES:
        lit = next((f for f in forms if f.casefold() in fam.literals), None)
        if lit is not None:
            yield fam.label, lit
            continue
        w = next((w for w in sorted(words) if w in fam.words), None)
        if w is not None:
            yield fam.label, w


def indicator_hits(apk: Apk) -> tuple[IndicatorHit, ...]:
    """Every anti-analysis indicator the code names, sorted (memoised per APK)."""
    return memo(apk, "anti-analysis", lambda: _hits(apk))


def _hits(apk: Apk) -> tuple[IndicatorHit, ...]:
    f = facts(apk)
    out: list[IndicatorHit] = []
    for s in _candidates(f.blob):
        for label, token in _match(s):
            kind = "name" if _is_name(s) else "string"
            out.append(IndicatorHit(label, token, s, f.string_evidence(s, f"{label}: {kind} {token!r}")))
    for lib in apk.native_libs:
        for s in (lib.name.removeprefix("lib"), *lib.jni_exports):
            if not _PREFILTER.search(s.lower().encode("utf-8", "surrogatepass")):
                continue
            for label, token in _match_native(s):
                ev = Evidence(
                    EvidenceKind.NATIVE, s, Location(entry=lib.entry), f"{label}: native name {token!r}"
                )
                out.append(IndicatorHit(label, token, s, ev))
    return tuple(sorted(set(out), key=lambda h: (h.family, h.token, h.where)))


def _match_native(s: str) -> Iterator[tuple[str, str]]:
    words = name_words(s)
    for fam in FAMILIES:
        w = next((w for w in sorted(words) if w in fam.words), None)
        if w is not None:
            yield fam.label, w
