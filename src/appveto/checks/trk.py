"""TRK: tracking and advertising SDKs, by code signature and by network signature."""

from __future__ import annotations

from collections.abc import Iterator

from appveto.apk.model import Apk
from appveto.checks.coverage import measure
from appveto.checks.registry import Subscore, check, finding
from appveto.checks.sdk import match_trackers, tracker_endpoints
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Severity
from appveto.kb.model import KnowledgeBase, Tracker


def _vendor_text(kb: KnowledgeBase, t: Tracker) -> str:
    if not t.vendor:
        site = t.website_domain
        return f"an unidentified vendor (website {site})" if site else "an unidentified vendor"
    e = kb.entity_named(t.vendor)
    return f"{t.vendor} ({e.country})" if e else t.vendor


@check(
    "AV-TRK-001",
    "tracker-sdk",
    "Tracker or advertising SDK embedded",
    Severity.LOW,
    subscore=Subscore.DATA_ACCESS,
)
def tracker_code(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports each known tracker SDK whose classes are in the app's DEX.

    What it checks:
        Class names of the primary DEX files, and of DEX code decoded from hidden
        payloads (counted and marked as such), against the code signatures of the
        knowledge base's tracker list: the Exodus Privacy list (shipped with appveto,
        newer after ``appveto data update``) and a few SDKs it lacks. Exodus semantics:
        one tracker per SDK whose signature matches classes of that SDK; each class
        counts for the most specific signature only, so a sub-package of an SDK already
        reported, or a library several SDKs share (the advertising-ID client), adds
        nothing. Each SDK is tied to its vendor and the vendor's jurisdiction.

    Why it matters:
        Tracker SDKs collect device identifiers and usage data for their vendor,
        whatever the app's own purpose. Presence is not proof of use (an SDK may be
        disabled), which the finding says.

    Example:
        ``com.facebook.appevents.AppEventsLogger`` matches "Facebook Analytics"
        (Meta Platforms, Inc., US).

    Remediation:
        Ask the vendor which data the SDK sends and whether it can be disabled; block
        the SDK's endpoints by DNS if the app must stay.

    References:
        https://reports.exodus-privacy.eu.org/en/trackers/ ;
        https://etip.exodus-privacy.eu.org/
    """
    for m in match_trackers(apk, kb):
        if not m.classes:
            continue
        t = m.tracker
        sev = (
            Severity.MEDIUM
            if {"Advertisement", "Profiling", "Location"} & set(t.categories)
            else Severity.LOW
        )
        yield finding(
            "AV-TRK-001",
            f"{t.name} by {_vendor_text(kb, t)}: {m.class_count} class(es) present"
            + (f", {m.hidden_count} of them in hidden code" if m.hidden_count else "")
            + (f" [{', '.join(t.categories)}]" if t.categories else "")
            + " (presence, not proof of use)",
            subject=t.name,
            severity=sev,
            evidence=tuple(e for e in m.evidence if e.kind is EvidenceKind.CLASS),
        )


@check(
    "AV-TRK-002",
    "tracker-endpoint",
    "Tracker endpoint named in the app",
    Severity.LOW,
    subscore=Subscore.DATA_ACCESS,
)
def tracker_network(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports endpoints of a tracker whose SDK code is not in the app.

    What it checks:
        Host names found in DEX strings, resources, manifest and native libraries
        against the network signatures of the tracker list, for trackers that
        ``AV-TRK-001`` did not find by their classes. A host alone is an endpoint, not
        a tracker: it is reported here, never as an embedded SDK.

    Why it matters:
        An endpoint shows where data can go even when the SDK's classes are renamed
        or loaded at run time (Exodus itself never uses its network signatures).

    Example:
        ``graph.facebook.com`` in a DEX string.

    Remediation:
        Block the host by DNS if the tracker is not wanted; ask the vendor.

    References:
        https://reports.exodus-privacy.eu.org/en/trackers/
    """
    for m in tracker_endpoints(apk, kb):
        t = m.tracker
        yield finding(
            "AV-TRK-002",
            f"endpoint(s) {', '.join(m.hosts[:5])} of {t.name} by {_vendor_text(kb, t)}; the SDK's code "
            "is not in the app: an endpoint it names, not an embedded tracker",
            subject=t.name,
            confidence=Confidence.MEDIUM,
            evidence=m.evidence,
        )


@check(
    "AV-TRK-003",
    "tracker-absence-unverifiable",
    "No tracker found, but the code is hidden",
    Severity.LOW,
    subscore=Subscore.AUDITABILITY,
)
def absence(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Warns that "no trackers" means nothing when the code is packed or encrypted.

    What it checks:
        No tracker matched while the coverage shows hidden code (packer, code loaded at
        run time, encrypted strings) or heavy name obfuscation.

    Why it matters:
        Obfuscated and packed apps report "0 trackers" and look clean, while they are
        more likely to hide them (Exodus issue #558).

    Example:
        A DexGuard-protected app whose classes are all renamed to ``o.ˊ``.

    Remediation:
        Do not treat the absence of trackers as a property of the app; observe its
        traffic if it matters.

    References:
        https://github.com/Exodus-Privacy/exodus/issues/558
    """
    if match_trackers(apk, kb):
        return
    cov = measure(apk, kb)
    if cov.code_hidden or cov.obfuscated_class_share >= 0.5:
        why = (
            "; ".join(cov.hidden_reasons)
            or f"{round(cov.obfuscated_class_share * 100)}% of class names obfuscated"
        )
        yield finding(
            "AV-TRK-003",
            f"no known tracker was found, but this says little: {why}",
            confidence=Confidence.HIGH,
            evidence=(
                Evidence(EvidenceKind.METRIC, f"readable share {cov.readable_share}", note=cov.summary()),
            ),
        )
