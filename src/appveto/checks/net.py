"""NET: endpoints over cleartext, IP literals and the network security config."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from appveto.apk.model import Apk, XmlElement
from appveto.checks.endpoints import endpoints
from appveto.checks.facts import memo
from appveto.checks.registry import Subscore, check, finding
from appveto.errors import ApkError
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import KnowledgeBase


def _private(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host in ("localhost",) or host.endswith((".local", ".localhost", ".lan", ".internal"))
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_reserved


@check(
    "AV-NET-001",
    "cleartext-endpoint",
    "Endpoint contacted over cleartext",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def cleartext_endpoint(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports public endpoints named with ``http://``, ``ws://`` or ``ftp://`` URLs.

    What it checks:
        URLs in DEX strings, resources, manifest and native libraries whose scheme is
        not encrypted, for hosts that are not local or private addresses.

    Why it matters:
        Data sent to them can be read and altered on the network path. The URL's
        presence does not prove it is used; the evidence shows where it is.

    Example:
        ``http://api.example-analytics.com/v1/collect``

    Remediation:
        Ask the vendor to move the endpoint to HTTPS; enforce it with a network
        security config that forbids cleartext.

    References:
        https://developer.android.com/privacy-and-security/security-config ;
        OWASP MASVS-NETWORK-1
    """
    for ep in endpoints(apk):
        if ep.cleartext and not _private(ep.host):
            yield finding(
                "AV-NET-001",
                f"cleartext URL(s) to {ep.host}: {', '.join(ep.urls[:2])}",
                subject=ep.host,
                confidence=Confidence.MEDIUM,
                evidence=ep.evidence,
            )


@check(
    "AV-NET-002",
    "ip-literal-endpoint",
    "Endpoint given as a public IP address",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def ip_literal(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports endpoints that are a public IP address instead of a host name.

    What it checks:
        Endpoints whose host is an IPv4 or IPv6 literal outside private, loopback and
        reserved ranges: in a URL, as a whole DEX or native string (``185.62.190.12``,
        ``185.62.190.12:8443``) or as the subject CN of a certificate shipped in the APK.
        Object identifiers and four-part version numbers are not taken for addresses.

    Why it matters:
        Hard-coded addresses bypass DNS-based blocking and certificate checks on host
        names, and are typical of command-and-control servers.

    Example:
        ``http://185.62.190.12:8080/gate.php``

    Remediation:
        Ask the vendor who operates the address; block it at the firewall.

    References:
        https://attack.mitre.org/techniques/T1071/
    """
    for ep in endpoints(apk):
        if ep.ip_literal and not _private(ep.host):
            yield finding(
                "AV-NET-002",
                f"IP literal endpoint {ep.host} ({', '.join(ep.urls[:2]) or 'in ' + ', '.join(ep.sources)})",
                subject=ep.host,
                evidence=ep.evidence,
            )


def _nsc(apk: Apk) -> tuple[str, XmlElement] | None:
    return memo(apk, "nsc", lambda: _read_nsc(apk))


def _read_nsc(apk: Apk) -> tuple[str, XmlElement] | None:
    m = apk.manifest
    if m is None or not m.application.network_security_config:
        return None
    path = m.application.network_security_config
    try:
        from appveto.apk.axml import parse_axml

        data = apk.archive.read(path, max_size=1024 * 1024)
        return path, parse_axml(data, entry=path).root
    except (ApkError, OSError, ValueError, KeyError):
        return None


def _attr(e: XmlElement, name: str) -> str | None:
    for k, v in e.attributes:
        if k == name or k.endswith(":" + name):
            return v
    return None


@check(
    "AV-NET-003",
    "nsc-cleartext-permitted",
    "Network security config permits cleartext",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def nsc_cleartext(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags a network security config that allows cleartext traffic.

    What it checks:
        ``cleartextTrafficPermitted="true"`` on ``base-config`` (all hosts) or on a
        ``domain-config`` (the listed domains).

    Why it matters:
        The config overrides the platform's HTTPS-only default; traffic to those hosts
        can be read and modified on the path.

    Example:
        ``<base-config cleartextTrafficPermitted="true"/>``

    Remediation:
        Remove the exception, or limit it to hosts that carry no personal data.

    References:
        https://developer.android.com/privacy-and-security/security-config#CleartextTrafficPermitted
    """
    got = _nsc(apk)
    if got is None:
        return
    path, root = got
    for e in root.iter():
        if e.tag in ("base-config", "domain-config") and _attr(e, "cleartextTrafficPermitted") == "true":
            domains = [_text_of(d) for d in e.children if d.tag == "domain"]
            scope = (
                "all hosts"
                if e.tag == "base-config"
                else ", ".join(d for d in domains if d) or "listed domains"
            )
            yield finding(
                "AV-NET-003",
                f"cleartext permitted for {scope}",
                subject=scope,
                severity=Severity.MEDIUM if e.tag == "base-config" else Severity.LOW,
                evidence=(
                    Evidence(
                        EvidenceKind.ENTRY,
                        f'<{e.tag} cleartextTrafficPermitted="true">',
                        Location(entry=path),
                        None,
                    ),
                ),
            )


def _text_of(e: XmlElement) -> str:
    return _attr(e, "text") or _attr(e, "name") or ""


@check(
    "AV-NET-004",
    "nsc-user-ca-trusted",
    "Network security config trusts user-installed CAs",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def user_ca(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags trust anchors that include user-installed certificate authorities.

    What it checks:
        ``<certificates src="user"/>`` in ``base-config`` or ``domain-config`` trust
        anchors (``debug-overrides`` are ignored: they apply only to debuggable builds).

    Why it matters:
        Any CA the user (or malware, or a hostile network's captive portal) installs
        can then intercept the app's TLS traffic.

    Example:
        ``<trust-anchors><certificates src="user"/></trust-anchors>``

    Remediation:
        Trust only system CAs, or pin the vendor's certificates.

    References:
        https://developer.android.com/privacy-and-security/security-config#TrustingAdditionalCas
    """
    got = _nsc(apk)
    if got is None:
        return
    path, root = got
    for cfg in root.iter():
        if cfg.tag not in ("base-config", "domain-config"):
            continue
        for ta in cfg.children:
            if ta.tag != "trust-anchors":
                continue
            for cert in ta.children:
                if cert.tag == "certificates" and _attr(cert, "src") == "user":
                    yield finding(
                        "AV-NET-004",
                        f"user-installed CAs are trusted ({cfg.tag})",
                        subject=cfg.tag,
                        evidence=(
                            Evidence(
                                EvidenceKind.ENTRY,
                                '<certificates src="user"/>',
                                Location(entry=path),
                                cfg.tag,
                            ),
                        ),
                    )


@check(
    "AV-NET-005",
    "nsc-certificate-pinning",
    "Certificate pinning configured",
    Severity.INFO,
    subscore=Subscore.HYGIENE,
)
def pinning(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports pin sets in the network security config, and expired ones.

    What it checks:
        ``<pin-set>`` elements: the number of pins and the ``expiration`` date, which
        is compared with the scan time when one is given.

    Why it matters:
        Pinning protects the app's traffic from interception by rogue CAs; an expired
        pin set silently turns the protection off.

    Example:
        ``<pin-set expiration="2018-01-01"><pin digest="SHA-256">…</pin></pin-set>``

    Remediation:
        Keep pins current with backup pins; ask the vendor to update expired ones.

    References:
        https://developer.android.com/privacy-and-security/security-config#CertificatePinning
    """
    got = _nsc(apk)
    if got is None:
        return
    path, root = got
    for ps in root.iter("pin-set"):
        pins = [p for p in ps.children if p.tag == "pin"]
        exp = _attr(ps, "expiration")
        expired = bool(exp and kb.now is not None and exp < kb.now.date().isoformat())
        yield finding(
            "AV-NET-005",
            f"{len(pins)} certificate pin(s)"
            + (f", expiring {exp}" if exp else "")
            + (" — EXPIRED, pinning is off" if expired else ""),
            subject=f"pin-set:{exp or ''}",
            severity=Severity.LOW if expired else Severity.INFO,
            evidence=(Evidence(EvidenceKind.ENTRY, "<pin-set>", Location(entry=path), f"expiration={exp}"),),
        )
