"""Endpoints named in the APK: URLs, host names and IP literals (no network access).

Sources: DEX string constants, resource strings, manifest intent-filter data and
strings of native libraries. Each endpoint carries its registrable domain (Public
Suffix List) and verifiable evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from appveto.apk.model import Apk
from appveto.checks.facts import facts, memo
from appveto.findings import Evidence, EvidenceKind, Location
from appveto.kb.domains import has_known_suffix, is_ip_literal, public_suffix, registrable_domain


class EndpointSource(StrEnum):
    DEX = "dex"
    RESOURCES = "resources"
    MANIFEST = "manifest"
    NATIVE = "native"


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    registrable_domain: str | None
    ip_literal: bool
    schemes: tuple[str, ...]
    """URL schemes seen with this host (empty for bare host names)."""
    urls: tuple[str, ...]
    """Up to three sample URLs."""
    sources: tuple[EndpointSource, ...]
    evidence: tuple[Evidence, ...]

    @property
    def cleartext(self) -> bool:
        return any(s in ("http", "ws", "ftp") for s in self.schemes)


_URL_RE = re.compile(
    r"(?i)\b(https?|wss?|ftp)://([A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?([^\s\"'<>\\]*)"
)
_HOST_RE = re.compile(
    r"(?m)^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+)$"
)
_FILE_SUFFIXES = frozenset(
    {"so", "zip", "mov", "sh", "py", "pl", "md", "rs", "java", "kt", "dex", "jar", "apk", "txt", "xml"}
)
NON_ENDPOINTS = frozenset(
    {
        "schemas.android.com",
        "www.w3.org",
        "w3.org",
        "xmlpull.org",
        "ns.adobe.com",
        "purl.org",
        "schemas.xmlsoap.org",
        "xml.org",
        "www.xml.org",
        "xml.apache.org",
        "www.apache.org",
        "apache.org",
        "java.sun.com",
        "schemas.microsoft.com",
        "example.com",
        "www.example.com",
        "example.org",
        "example.net",
        "localhost",
        "json-schema.org",
        "xmlns.com",
        "www.slf4j.org",
    }
)
_MAX_EV = 3


def endpoints(apk: Apk) -> tuple[Endpoint, ...]:
    return memo(apk, "endpoints", lambda: _collect(apk))


class _Slot:
    __slots__ = ("evidence", "ip", "schemes", "sources", "urls")

    def __init__(self, ip: bool) -> None:
        self.ip = ip
        self.schemes: set[str] = set()
        self.urls: list[str] = []
        self.sources: set[EndpointSource] = set()
        self.evidence: list[Evidence] = []


def _collect(apk: Apk) -> tuple[Endpoint, ...]:
    acc: dict[str, _Slot] = {}

    def add(host: str, scheme: str | None, url: str | None, src: EndpointSource, ev: Evidence) -> None:
        h = host.strip("[]").strip(".").casefold()
        if not h or h in NON_ENDPOINTS:
            return
        ip = is_ip_literal(h)
        if not ip and not has_known_suffix(h):
            return
        slot = acc.get(h)
        if slot is None:
            slot = acc[h] = _Slot(ip)
        if scheme:
            slot.schemes.add(scheme.lower())
        if url and len(slot.urls) < _MAX_EV and url not in slot.urls:
            slot.urls.append(url)
        slot.sources.add(src)
        if len(slot.evidence) < _MAX_EV and ev not in slot.evidence:
            slot.evidence.append(ev)

    f = facts(apk)
    for m in _URL_RE.finditer(f.blob):
        line = _line_at(f.blob, m.start())
        url = m.group(0)
        add(m.group(2), m.group(1), url, EndpointSource.DEX, f.string_evidence(line, "URL in a DEX string"))
    for m in _HOST_RE.finditer(f.blob):
        host = m.group(1)
        if _plausible_bare_host(host):
            add(host, None, None, EndpointSource.DEX, f.string_evidence(host, "host name in a DEX string"))
    if apk.resource_strings:
        rblob = "\n".join(apk.resource_strings)
        for m in _URL_RE.finditer(rblob):
            ev = Evidence(
                EvidenceKind.STRING, m.group(0), Location(entry="resources.arsc"), "URL in a resource string"
            )
            add(m.group(2), m.group(1), m.group(0), EndpointSource.RESOURCES, ev)
    if apk.manifest is not None:
        for c in apk.manifest.components:
            for flt in c.intent_filters:
                for d in flt.data:
                    if d.host and d.scheme in ("http", "https"):
                        ev = Evidence(
                            EvidenceKind.MANIFEST,
                            f"{d.scheme}://{d.host}",
                            Location(entry="AndroidManifest.xml", xpath=c.xpath or None),
                            f"link handled by {c.name}",
                        )
                        add(d.host, d.scheme, f"{d.scheme}://{d.host}", EndpointSource.MANIFEST, ev)
    for lib in apk.native_libs:
        for s in lib.strings_sample:
            for m in _URL_RE.finditer(s):
                ev = Evidence(
                    EvidenceKind.NATIVE, m.group(0), Location(entry=lib.entry), "URL in native code"
                )
                add(m.group(2), m.group(1), m.group(0), EndpointSource.NATIVE, ev)
            bare = s.strip().casefold()
            if _HOST_RE.fullmatch(bare) and _plausible_bare_host(bare):
                add(
                    bare,
                    None,
                    None,
                    EndpointSource.NATIVE,
                    Evidence(
                        EvidenceKind.NATIVE, bare, Location(entry=lib.entry), "host name in native code"
                    ),
                )

    out: list[Endpoint] = []
    for host, slot in sorted(acc.items()):
        out.append(
            Endpoint(
                host=host,
                registrable_domain=None if slot.ip else registrable_domain(host),
                ip_literal=slot.ip,
                schemes=tuple(sorted(slot.schemes)),
                urls=tuple(slot.urls),
                sources=tuple(sorted(slot.sources)),
                evidence=tuple(sorted(slot.evidence)),
            )
        )
    return tuple(out)


def _line_at(blob: str, pos: int) -> str:
    start = blob.rfind("\n", 0, pos) + 1
    end = blob.find("\n", pos)
    return blob[start : end if end >= 0 else len(blob)]


_BARE_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "io",
        "co",
        "me",
        "tv",
        "cc",
        "mobi",
        "ly",
        "gl",
        "to",
        "ms",
        "fm",
        "cn",
        "ru",
        "de",
        "fr",
        "uk",
        "jp",
        "kr",
        "in",
        "br",
        "eu",
        "us",
        "ca",
        "au",
        "nl",
        "be",
        "ch",
        "it",
        "es",
        "se",
        "no",
        "fi",
        "dk",
        "pl",
        "cz",
        "at",
        "ie",
        "pt",
        "gr",
        "tr",
        "il",
        "ae",
        "sg",
        "hk",
        "tw",
        "vn",
        "th",
        "my",
        "ph",
        "nz",
        "za",
        "mx",
        "ar",
        "cl",
        "ua",
        "by",
        "kz",
        "lu",
    ]
)
"""Top-level domains accepted for bare host names (no URL scheme around them): the common
ones. Newer gTLDs (``.name``, ``.id``, ``.host``, ``.dev``, ``.properties``) collide with
Java property keys and version strings, so they are only accepted inside URLs."""


def _plausible_bare_host(host: str) -> bool:
    """A dotted lower-case string that names a host rather than a Java package or a file."""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1] not in _BARE_TLDS or labels[-1] in _FILE_SUFFIXES:
        return False
    if any(label.isdigit() for label in labels) or len(labels[-2]) < 2:
        return False
    if public_suffix(labels[0]) == labels[0] and len(labels) > 2:
        return False  # reversed-domain Java package: com.example.app
    if labels[0] in ("android", "androidx", "java", "javax", "kotlin", "dalvik", "sun", "org", "com", "net"):
        return False
    return registrable_domain(host) is not None
