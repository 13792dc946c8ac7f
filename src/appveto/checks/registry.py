"""The check registry: stable IDs, metadata and lifecycle of every check.

A check is a pure function ``(Apk, KnowledgeBase) -> Iterator[Finding]`` registered
with :func:`check`, or, for iOS, ``(Ipa, KnowledgeBase) -> Iterator[Finding]`` registered
with :func:`ios_check` (family IOS, ``platform`` ios, the function in ``ios_func``).
Its docstring is its documentation and must carry the headings
What it checks / Why it matters / Example / Remediation / References. IDs are never
reused: a retired check stays registered with :func:`retire` as ``removed``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from appveto.findings import CheckId, Confidence, Evidence, Finding, Severity

if TYPE_CHECKING:
    from appveto.apk.model import Apk
    from appveto.ipa.model import Ipa
    from appveto.kb.model import KnowledgeBase

CheckFn = Callable[["Apk", "KnowledgeBase"], Iterator[Finding]]
IosCheckFn = Callable[["Ipa", "KnowledgeBase"], Iterator[Finding]]

HEADINGS: tuple[str, ...] = ("What it checks", "Why it matters", "Example", "Remediation", "References")

FAMILY_MODULES: tuple[str, ...] = (
    "appveto.checks.man",
    "appveto.checks.perm",
    "appveto.checks.obf",
    "appveto.checks.trk",
    "appveto.checks.net",
    "appveto.checks.jur",
    "appveto.checks.sig",
    "appveto.checks.tamp",
    "appveto.checks.ios",
)

_ID_RE = re.compile(r"^AV-(MAN|PERM|OBF|TRK|NET|SIG|JUR|TAMP|IOS)-\d{3}$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Family(StrEnum):
    MAN = "MAN"
    PERM = "PERM"
    OBF = "OBF"
    TRK = "TRK"
    NET = "NET"
    SIG = "SIG"
    JUR = "JUR"
    TAMP = "TAMP"
    IOS = "IOS"


class Platform(StrEnum):
    """Which app model a check reads."""

    ANDROID = "android"
    IOS = "ios"


class Status(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class Subscore(StrEnum):
    """The four parts of the risk score (see :mod:`appveto.scoring`)."""

    DATA_ACCESS = "data-access"
    AUDITABILITY = "auditability"
    JURISDICTION = "data-jurisdiction"
    HYGIENE = "security-hygiene"


@dataclass(frozen=True, slots=True)
class Check:
    id: CheckId
    slug: str
    title: str
    family: Family
    severity: Severity
    """Default severity; a finding may carry another one when its message says why."""
    subscore: Subscore
    status: Status
    doc: str
    func: CheckFn | None
    absence_claim: bool = False
    """True when the check claims that something is absent; its confidence is capped
    by the scan's coverage."""
    removed_reason: str | None = None
    platform: Platform = Platform.ANDROID
    ios_func: IosCheckFn | None = None
    """The function of an iOS check (``func`` is then None, so APK scans never call it)."""

    def sections(self) -> dict[str, str]:
        """The docstring split by heading (the text before the first heading is 'Summary')."""
        return split_sections(self.doc)


class RegistryError(Exception):
    """A developer error in a check definition (raised at import, caught by the tests)."""


_REGISTRY: dict[CheckId, Check] = {}


def _validate(cid: str, slug: str, doc: str | None, *, removed: bool) -> None:
    if not _ID_RE.match(cid):
        raise RegistryError(f"{cid}: IDs look like AV-<FAMILY>-<NNN>")
    if not _SLUG_RE.match(slug):
        raise RegistryError(f"{cid}: slug {slug!r} must be lower-case words joined by '-'")
    if cid in _REGISTRY:
        raise RegistryError(f"{cid}: registered twice (IDs are never reused)")
    if any(c.slug == slug for c in _REGISTRY.values()):
        raise RegistryError(f"{cid}: slug {slug!r} is already used")
    if not removed:
        sections = split_sections(doc or "")
        missing = [h for h in HEADINGS if h not in sections]
        if missing:
            raise RegistryError(f"{cid}: docstring lacks the heading(s) {', '.join(missing)}")


def _register(
    cid: str,
    slug: str,
    title: str,
    severity: Severity,
    doc: str,
    *,
    subscore: Subscore,
    absence_claim: bool,
    func: CheckFn | None = None,
    ios_func: IosCheckFn | None = None,
) -> None:
    _validate(cid, slug, doc, removed=False)
    family = Family(cid.split("-")[1])
    if (family is Family.IOS) != (ios_func is not None):
        raise RegistryError(f"{cid}: iOS checks, and only they, are in the IOS family")
    _REGISTRY[CheckId(cid)] = Check(
        id=CheckId(cid),
        slug=slug,
        title=title,
        family=family,
        severity=severity,
        subscore=subscore,
        status=Status.ACTIVE,
        doc=_dedent(doc),
        func=func,
        absence_claim=absence_claim,
        platform=Platform.IOS if ios_func is not None else Platform.ANDROID,
        ios_func=ios_func,
    )


def check(
    cid: str,
    slug: str,
    title: str,
    severity: Severity,
    *,
    subscore: Subscore,
    absence_claim: bool = False,
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable ID."""

    def deco(fn: CheckFn) -> CheckFn:
        _register(
            cid,
            slug,
            title,
            severity,
            fn.__doc__ or "",
            subscore=subscore,
            absence_claim=absence_claim,
            func=fn,
        )
        return fn

    return deco


def ios_check(
    cid: str,
    slug: str,
    title: str,
    severity: Severity,
    *,
    subscore: Subscore,
    absence_claim: bool = False,
) -> Callable[[IosCheckFn], IosCheckFn]:
    """Register an iOS check (family IOS, read over an :class:`Ipa`) under a stable ID."""

    def deco(fn: IosCheckFn) -> IosCheckFn:
        _register(
            cid,
            slug,
            title,
            severity,
            fn.__doc__ or "",
            subscore=subscore,
            absence_claim=absence_claim,
            ios_func=fn,
        )
        return fn

    return deco


def retire(cid: str, slug: str, title: str, *, reason: str, subscore: Subscore) -> None:
    """Keep a retired ID resolvable (waivers, SARIF baselines) without running it."""
    _validate(cid, slug, None, removed=True)
    _REGISTRY[CheckId(cid)] = Check(
        id=CheckId(cid),
        slug=slug,
        title=title,
        family=Family(cid.split("-")[1]),
        severity=Severity.INFO,
        subscore=subscore,
        status=Status.REMOVED,
        doc=f"Removed: {reason}",
        func=None,
        removed_reason=reason,
    )


def all_checks() -> tuple[Check, ...]:
    """Every registered check (active and removed), sorted by ID."""
    for mod in FAMILY_MODULES:
        importlib.import_module(mod)
    return tuple(sorted(_REGISTRY.values(), key=lambda c: c.id))


def active_checks() -> tuple[Check, ...]:
    return tuple(c for c in all_checks() if c.status is Status.ACTIVE)


def ios_checks() -> tuple[Check, ...]:
    """The active iOS checks, sorted by ID."""
    return tuple(c for c in active_checks() if c.platform is Platform.IOS and c.ios_func is not None)


def get_check(cid: str) -> Check | None:
    """The check with ID ``cid`` or slug ``cid`` (case-insensitive ID), None when unknown."""
    all_checks()
    found = _REGISTRY.get(CheckId(cid.upper()))
    if found is not None:
        return found
    for c in _REGISTRY.values():
        if c.slug == cid:
            return c
    return None


def finding(
    cid: str,
    message: str,
    *,
    evidence: tuple[Evidence, ...] | list[Evidence] = (),
    subject: str | None = None,
    confidence: Confidence = Confidence.HIGH,
    severity: Severity | None = None,
) -> Finding:
    """A finding of the registered check ``cid`` (its slug, title and default severity)."""
    spec = _REGISTRY[CheckId(cid)]
    return Finding(
        check_id=spec.id,
        slug=spec.slug,
        title=spec.title,
        severity=spec.severity if severity is None else severity,
        confidence=confidence,
        message=message,
        evidence=tuple(sorted(evidence)),
        subject=subject,
    )


def split_sections(doc: str) -> dict[str, str]:
    """Split a check docstring at its heading lines (``Heading:`` or ``Heading`` + underline)."""
    text = _dedent(doc)
    out: dict[str, list[str]] = {"Summary": []}
    current = "Summary"
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip().rstrip(":")
        underline = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if stripped in HEADINGS and (line.strip().endswith(":") or underline):
            current = stripped
            out.setdefault(current, [])
            i += 2 if underline else 1
            continue
        out[current].append(line)
        i += 1
    return {k: "\n".join(v).strip() for k, v in out.items()}


def _dedent(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)
