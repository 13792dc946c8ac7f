"""JUR: who owns the endpoints and SDKs, and under which jurisdiction they operate.

Ownership comes from the entity dataset (domain -> company -> country of the
controlling company), never from IP geolocation: where a CDN edge sits says
nothing about who controls the data.
"""

from __future__ import annotations

from collections.abc import Iterator

from appveto.apk.model import Apk
from appveto.checks.coverage import measure
from appveto.checks.endpoints import endpoints
from appveto.checks.registry import Subscore, check, finding
from appveto.checks.sdk import match_trackers
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import Entity, KnowledgeBase


def jurisdiction_severity(kb: KnowledgeBase, country: str) -> tuple[Severity, str]:
    """Severity of data flowing to ``country`` seen from the EU/EEA, and the reason."""
    j = kb.jurisdiction(country)
    if j is None:
        return Severity.MEDIUM, f"{country}: no EU adequacy decision is known to appveto"
    if j.eu_eea:
        return Severity.INFO, f"{j.name}: EU/EEA"
    if j.adequacy:
        note = f" ({j.note})" if j.note else ""
        return Severity.LOW, f"{j.name}: EU adequacy decision{note}"
    return Severity.MEDIUM, f"{j.name}: no EU adequacy decision"


@check(
    "AV-JUR-001",
    "endpoint-owner-jurisdiction",
    "Endpoints owned by a company under a given jurisdiction",
    Severity.MEDIUM,
    subscore=Subscore.JURISDICTION,
)
def endpoint_owner(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Maps the app's endpoints to the companies that own them and their jurisdiction.

    What it checks:
        Each endpoint against the entity dataset: the host and its parents, walking up
        through private public-suffix entries (``www.googleapis.com`` -> ``googleapis.com``)
        to the registrable domain, and IP literals against the networks an entity
        publishes; one finding per owning company, with the endpoints as evidence. The
        severity reflects the jurisdiction seen from the EU/EEA: no adequacy decision
        (medium), adequacy (low), EU/EEA (info). Shared CDN and cloud domains are
        reported as hosting only (info).

    Why it matters:
        The question behind the 2023 bans: can user data reach a company subject to
        another state's access laws? The answer is the owner of the endpoint, not the
        location of a server.

    Example:
        ``log.tiktokv.com`` -> tiktokv.com -> ByteDance Ltd. -> CN.

    Remediation:
        Weigh the jurisdiction in the app's risk decision; block the entity's domains
        by DNS where the app must stay.

    References:
        https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en
        https://github.com/duckduckgo/tracker-radar
    """
    owners: dict[str, tuple[Entity, list[str], list[Evidence], bool]] = {}
    for ep in endpoints(apk):
        owned = kb.owner_of(ep.host)
        if owned is None:
            continue
        e, infra = owned.entity, owned.infrastructure
        slot = owners.setdefault(e.name, (e, [], [], True))
        slot[1].append(ep.host)
        slot[2].extend(ep.evidence[:1])
        owners[e.name] = (e, slot[1], slot[2], slot[3] and infra)
    for name, (e, hosts, evs, infra_only) in sorted(owners.items()):
        sev, why = jurisdiction_severity(kb, e.country)
        if infra_only:
            sev = Severity.INFO
            why += "; hosting/CDN only (the app's operator, not the host, controls the data)"
        ev = [Evidence(EvidenceKind.ENDPOINT, h, Location(), f"owned by {name}") for h in sorted(hosts)[:5]]
        yield finding(
            "AV-JUR-001",
            f"{len(hosts)} endpoint(s) owned by {name} ({e.country}) — {why}",
            subject=name,
            severity=sev,
            confidence=Confidence.MEDIUM,
            evidence=tuple(ev + evs[:3]),
        )


@check(
    "AV-JUR-002",
    "sdk-vendor-jurisdiction",
    "Embedded SDK vendor under a given jurisdiction",
    Severity.MEDIUM,
    subscore=Subscore.JURISDICTION,
)
def sdk_vendor(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Maps embedded tracker SDKs to their vendor and the vendor's jurisdiction.

    What it checks:
        Each matched tracker SDK's vendor (from the tracker list, or the entity owning
        the SDK's website) against the entity dataset; one finding per vendor.

    Why it matters:
        An SDK sends data to its vendor whatever endpoints the app itself uses; the
        vendor's home jurisdiction governs access to that data.

    Example:
        Pangle (``com.bytedance.sdk.openadsdk``) -> ByteDance Ltd. -> CN.

    Remediation:
        Ask the vendor to remove or disable the SDK; weigh it in the decision.

    References:
        https://reports.exodus-privacy.eu.org/en/trackers/
    """
    vendors: dict[str, tuple[Entity, list[str], list[Evidence]]] = {}
    for m in match_trackers(apk, kb):
        if not m.tracker.vendor:
            continue
        e = kb.entity_named(m.tracker.vendor)
        if e is None:
            continue
        slot = vendors.setdefault(e.name, (e, [], []))
        slot[1].append(m.tracker.name)
        slot[2].extend(m.evidence[:1])
    for name, (e, sdks, evs) in sorted(vendors.items()):
        sev, why = jurisdiction_severity(kb, e.country)
        yield finding(
            "AV-JUR-002",
            f"SDK(s) {', '.join(sorted(set(sdks)))} by {name} ({e.country}) — {why}",
            subject=name,
            severity=sev,
            confidence=Confidence.MEDIUM,
            evidence=tuple(evs[:5]),
        )


@check(
    "AV-JUR-003",
    "data-recipients-unverifiable",
    "No data recipient found, but the code is hidden",
    Severity.MEDIUM,
    subscore=Subscore.JURISDICTION,
)
def unverifiable(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Warns that the absence of known data recipients proves nothing when code is hidden.

    What it checks:
        No endpoint or SDK could be tied to a known company, while the coverage shows
        code that this scan could not read (packer, code loaded at run time, encrypted
        strings).

    Why it matters:
        A packed app would otherwise score zero on data jurisdiction simply by hiding
        its endpoints; the jurisdiction question stays open.

    Example:
        A Bangcle-packed app whose visible DEX holds no URL at all.

    Remediation:
        Observe the app's traffic in a controlled environment, or decide on the basis
        that its data recipients are unknown.

    References:
        https://github.com/Exodus-Privacy/exodus/issues/558
    """
    cov = measure(apk, kb)
    if not cov.code_hidden:
        return
    owned = any(kb.owner_of(ep.host) is not None for ep in endpoints(apk))
    vendors = any(m.tracker.vendor and kb.entity_named(m.tracker.vendor) for m in match_trackers(apk, kb))
    if owned or vendors:
        return
    yield finding(
        "AV-JUR-003",
        "no endpoint or SDK could be tied to a company, but code is hidden: " + "; ".join(cov.hidden_reasons),
        confidence=Confidence.HIGH,
        evidence=(Evidence(EvidenceKind.METRIC, f"readable share {cov.readable_share}", note=cov.summary()),),
    )
