"""Endpoints named in the APK: URLs, host names and IP literals (no network access).

Sources: DEX string constants, resource strings, manifest intent-filter data, strings
of native libraries, the subject CN of X.509 certificates shipped in the APK, and the
strings only hidden code shows (code decoded from hidden payloads, constants the app's own
string decoders decrypt: source ``hidden-code``, evidence naming where it was decoded from).
Each endpoint carries its registrable domain (Public Suffix List) and verifiable evidence.

A name is a host only when it could be one: a public suffix the list knows with a
registrable label in front of it (``sd`` alone is a suffix, not a host); a bare string
outside a URL also needs a common top-level domain and at most :data:`MAX_BARE_LABELS`
labels (``nio.write.enqueuing.timeout.in.ms`` is a Java property, not a host). An IP
literal counts when it is a whole string (optionally with a port) or the host of a URL,
is not a loopback, unspecified, multicast or reserved address, and, as a bare string, is
neither an ASN.1 object identifier of certificate code nor a four-part version number
(:class:`_OidContext`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from appveto.apk.model import Apk, descriptor_to_java
from appveto.checks.facts import Facts, facts, memo
from appveto.findings import Evidence, EvidenceKind, Location
from appveto.kb.domains import is_ip_literal, public_suffix, registrable_domain


class EndpointSource(StrEnum):
    DEX = "dex"
    RESOURCES = "resources"
    MANIFEST = "manifest"
    NATIVE = "native"
    CERTIFICATE = "certificate"
    HIDDEN = "hidden-code"
    """Strings of code decoded from a hidden payload, or decrypted by the app's own string
    decoder (:mod:`appveto.apk.hidden`, :mod:`appveto.checks.codefacts`)."""


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
MAX_BARE_LABELS = 4
"""A host name found as a bare string (no URL around it) has at most this many labels."""
_IP_LINE_RE = re.compile(r"(?m)^[0-9A-Fa-f:.\[\]]{7,53}$")
_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".cert")
MAX_CERT_BYTES = 256 * 1024
"""Certificates larger than this are not read (a certificate chain is a few kilobytes)."""


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
        if ip and not _usable_ip(h):
            return
        if not ip and registrable_domain(h) is None:
            return  # no known public suffix, or a bare suffix ("sd")
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
    oids = _OidContext(f.blob.split("\n") if "." in f.blob else ())
    for m in _IP_LINE_RE.finditer(f.blob):
        ip_text = ip_of(m.group(0))
        if ip_text is not None and not oids.holds(ip_text):
            add(
                ip_text,
                None,
                None,
                EndpointSource.DEX,
                f.string_evidence(m.group(0), "IP address in a DEX string"),
            )
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
        lib_oids = _OidContext(lib.strings_sample)
        for s in lib.strings_sample:
            for m in _URL_RE.finditer(s):
                ev = Evidence(
                    EvidenceKind.NATIVE, m.group(0), Location(entry=lib.entry), "URL in native code"
                )
                add(m.group(2), m.group(1), m.group(0), EndpointSource.NATIVE, ev)
            bare = s.strip().casefold()
            ip_text = ip_of(bare)
            if ip_text is not None and not lib_oids.holds(ip_text):
                ev = Evidence(EvidenceKind.NATIVE, s, Location(entry=lib.entry), "IP address in native code")
                add(ip_text, None, None, EndpointSource.NATIVE, ev)
            elif _HOST_RE.fullmatch(bare) and _plausible_bare_host(bare):
                add(
                    bare,
                    None,
                    None,
                    EndpointSource.NATIVE,
                    Evidence(
                        EvidenceKind.NATIVE, bare, Location(entry=lib.entry), "host name in native code"
                    ),
                )

    for text, loc, origin in _hidden_texts(f):
        for m in _URL_RE.finditer(text):
            ev = Evidence(EvidenceKind.STRING, m.group(0), loc, f"URL {origin}")
            add(m.group(2), m.group(1), m.group(0), EndpointSource.HIDDEN, ev)
        bare = text.strip().casefold()
        ip_text = ip_of(bare)
        if ip_text is not None:
            add(
                ip_text,
                None,
                None,
                EndpointSource.HIDDEN,
                Evidence(EvidenceKind.STRING, text, loc, f"IP address {origin}"),
            )
        elif _HOST_RE.fullmatch(bare) and _plausible_bare_host(bare):
            add(
                bare,
                None,
                None,
                EndpointSource.HIDDEN,
                Evidence(EvidenceKind.STRING, bare, loc, f"host name {origin}"),
            )

    for entry, cn in certificate_names(apk):
        ev = Evidence(
            EvidenceKind.ENTRY, cn, Location(entry=entry), f"subject CN of a certificate in {entry}"
        )
        if is_ip_literal(cn.strip("[]")) or _HOST_RE.fullmatch(cn.casefold()):
            add(cn, None, None, EndpointSource.CERTIFICATE, ev)

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


def _hidden_texts(f: Facts) -> Iterable[tuple[str, Location, str]]:
    """The strings only hidden code shows: those of DEX and native code decoded from hidden
    payloads (located at the payload's entry) and the plain text of constants the app's own
    string decoders decrypt (located at the decoder), each with its origin for the evidence."""
    for code in f.hidden.code:
        loc = Location(entry=_origin_entry(code.origin))
        origin = f"in hidden code decoded from {code.origin}"
        if code.dex is not None:
            for s in code.dex.strings:
                yield s, loc, origin
        if code.native is not None:
            for s in code.native.strings_sample:
                yield s, loc, origin
    for dec in f.code.decoders:
        loc = Location(
            entry=dec.entry,
            class_name=descriptor_to_java(dec.method.class_name),
            method=f"{dec.method.name}{dec.method.descriptor}",
        )
        for _enc, plain in dec.decoded:
            yield plain, loc, f"decrypted from a string constant by {dec.java} ({dec.scheme})"


def _origin_entry(origin: str) -> str:
    """The archive entry a hidden payload's origin starts from: ``assets/x`` of
    ``assets/x (base64)``, ``lib.so`` of ``lib.so@4096 (zlib)``, the first chunk of
    ``a.part1+a.part2 (...)``."""
    head = origin.split(" (", 1)[0]
    return re.split(r"[@+!]| string ", head, maxsplit=1)[0] or origin


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


_NUMERIC_DOTTED = re.compile(r"[0-9]+(?:\.[0-9]+)+")


class _OidContext:
    """Dotted quads that are no addresses. A quad whose four numbers are all below 16 is a
    version number (``5.2.4.1``), unless written as public resolvers are (``a.a.b.b``:
    ``8.8.4.4``, ``1.1.1.1``). ASN.1 object identifiers (``2.5.29.14``, ``1.3.36.8``) look
    like IPv4 addresses too: a dotted quad starting with arc 0, 1 or 2 is taken for an OID
    when the same strings hold a sibling quad (the same first three arcs) or a longer OID of
    the same first two arcs (``2.5.29.32.0``, ``1.3.6.1.5.5.7``): certificate code names them
    by families. A C2 address stands alone."""

    def __init__(self, strings: Iterable[str]) -> None:
        self.prefixes: set[str] = set()
        self.triples: dict[str, int] = {}
        for s in strings:
            if not _NUMERIC_DOTTED.fullmatch(s):
                continue
            arcs = s.split(".")
            if arcs[0] not in ("0", "1", "2"):
                continue
            if len(arcs) >= 5 or any(int(a) > 255 for a in arcs):
                self.prefixes.add(".".join(arcs[:2]))
            elif len(arcs) == 4:
                key = ".".join(arcs[:3])
                self.triples[key] = self.triples.get(key, 0) + 1

    def holds(self, ip: str) -> bool:
        """True when the bare string ``ip`` is rather an OID or a version number."""
        arcs = ip.split(".")
        if len(arcs) != 4:
            return False
        n = [int(a) for a in arcs]
        if max(n) < 16 and not (n[0] == n[1] and n[2] == n[3]):
            return True  # a version (5.2.4.1, 2.12.9.2); resolvers are written 8.8.4.4, 1.1.1.1
        if arcs[0] not in ("0", "1", "2"):
            return False
        return ".".join(arcs[:2]) in self.prefixes or self.triples.get(".".join(arcs[:3]), 0) > 1


def ip_of(text: str) -> str | None:
    """The IP address a whole string names: ``185.1.2.3``, ``185.1.2.3:8080``, ``2001:db8::1``,
    ``[2001:db8::1]:443``; None for anything else (a version ``1.2.3`` has three parts)."""
    t = text.strip()
    if t.startswith("[") and "]" in t:
        inner, _, rest = t[1:].partition("]")
        if rest and not re.fullmatch(r":\d{1,5}", rest):
            return None
        t = inner
    elif t.count(":") == 1 and "." in t:
        t, _, port = t.partition(":")
        if not port.isdigit() or len(port) > 5:
            return None
    try:
        ip = ipaddress.ip_address(t)
    except ValueError:
        return None
    return ip.compressed


def _usable_ip(text: str) -> bool:
    ip = ipaddress.ip_address(text)
    return not (ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved)


def certificate_names(apk: Apk) -> tuple[tuple[str, str], ...]:
    """(entry, subject CN) of each X.509 certificate shipped as a file of the APK (PEM or
    DER, outside ``META-INF/``, at most :data:`MAX_CERT_BYTES`); unreadable files are skipped."""
    return memo(apk, "certificate-names", lambda: _certificate_names(apk))


def _certificate_names(apk: Apk) -> tuple[tuple[str, str], ...]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from appveto.errors import ApkError

    out: list[tuple[str, str]] = []
    for e in apk.entries:
        name = e.name
        if name.startswith("META-INF/") or not name.casefold().endswith(_CERT_SUFFIXES):
            continue
        if e.uncompressed_size > MAX_CERT_BYTES:
            continue
        try:
            data = apk.archive.read(e, max_size=MAX_CERT_BYTES)
        except (ApkError, OSError, ValueError):
            continue
        certs: list[x509.Certificate] = []
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs = x509.load_pem_x509_certificates(data)
            else:
                certs = [x509.load_der_x509_certificate(data)]
        except ValueError:
            continue
        for c in certs[:16]:
            try:
                attrs = c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            except ValueError:
                continue
            for a in attrs:
                cn = a.value if isinstance(a.value, str) else a.value.decode("utf-8", "replace")
                cn = cn.strip().removeprefix("*.")
                if cn and (name, cn) not in out:
                    out.append((name, cn))
    return tuple(out)


def _plausible_bare_host(host: str) -> bool:
    """A dotted lower-case string that names a host rather than a Java package, a property
    name or a file."""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1] not in _BARE_TLDS or labels[-1] in _FILE_SUFFIXES:
        return False
    if len(labels) > MAX_BARE_LABELS:
        return False
    if any(label.isdigit() for label in labels) or len(labels[-2]) < 2:
        return False
    if public_suffix(labels[0]) == labels[0] and len(labels) > 2:
        return False  # reversed-domain Java package: com.example.app
    if labels[0] in ("android", "androidx", "java", "javax", "kotlin", "dalvik", "sun", "org", "com", "net"):
        return False
    return registrable_domain(host) is not None
