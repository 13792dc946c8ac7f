"""IOS: checks of an iOS app (:class:`~appveto.ipa.model.Ipa`), one family for the platform.

Each check is a pure function ``(Ipa, KnowledgeBase) -> Iterator[Finding]``; its
docstring names its Android counterpart where there is one. :func:`coverage` says what
the scan could see of the code (a FairPlay-encrypted binary is not readable: what needs
the code is ``undeterminable``, never "not observed"); :func:`sdk_inventory` ties SDKs to
their vendor; :func:`run_ios_checks` runs them all (the entry point ``scan`` will call).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

from appveto.checks.registry import Subscore, finding, ios_check, ios_checks
from appveto.findings import CheckId, Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.ipa.model import Distribution, Ipa
from appveto.kb.ios import IosTracker
from appveto.kb.model import KnowledgeBase

# ------------------------------------------------------------------ shared views


@dataclass(frozen=True, slots=True)
class IosCoverage:
    """What of the app's code could be read."""

    binaries: int
    encrypted: tuple[str, ...]
    """Entries of FairPlay-encrypted binaries: their strings and class names are unreadable."""
    unreadable: tuple[str, ...]
    """Parts that could not be read at all (IPA problems)."""
    main_binary_read: bool

    @property
    def code_readable(self) -> bool:
        """True when the main binary was read and nothing of the code is encrypted."""
        return self.main_binary_read and not self.encrypted

    def summary(self) -> str:
        if not self.main_binary_read:
            return "the main executable could not be read: code-level facts are undeterminable"
        if self.encrypted:
            return (
                f"{len(self.encrypted)} of {self.binaries} binaries are FairPlay-encrypted (App Store): "
                "their strings and class names are undeterminable; imports and linked libraries are read"
            )
        return f"{self.binaries} binaries read, none encrypted"


def coverage(ipa: Ipa) -> IosCoverage:
    binaries = ipa.all_binaries()
    return IosCoverage(
        binaries=len(binaries),
        encrypted=tuple(b.entry for b in binaries if b.encrypted),
        unreadable=tuple(f"{p.part}: {p.entry or ''} {p.message}".strip() for p in ipa.problems),
        main_binary_read=ipa.main_binary is not None,
    )


@dataclass(frozen=True, slots=True)
class SdkMatch:
    tracker: IosTracker
    classes: tuple[str, ...]
    frameworks: tuple[str, ...]
    hosts: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def _module_of(name: str) -> str | None:
    """The module of a Swift class name mangled as ``_TtC<n><module><n><name>``."""
    if not name.startswith("_TtC"):
        return None
    digits = ""
    for ch in name[4:]:
        if not ch.isdigit():
            break
        digits += ch
    if not digits:
        return None
    start = 4 + len(digits)
    return name[start : start + int(digits)] or None


def sdk_inventory(ipa: Ipa, kb: KnowledgeBase) -> tuple[SdkMatch, ...]:
    """Every known SDK found by class-name prefix, framework/module name or host."""
    classes: dict[str, str] = {}  # class -> entry of the binary defining it
    modules: dict[str, str] = {}
    hosts: dict[str, str] = {}
    for b in ipa.all_binaries():
        for s in b.slices:
            for c in s.objc_classes:
                classes.setdefault(c, b.entry)
                mod = _module_of(c)
                if mod:
                    modules.setdefault(mod, b.entry)
            for lib in s.libraries:
                if ".framework/" in lib:
                    modules.setdefault(lib.rsplit(".framework/", 1)[0].rsplit("/", 1)[-1], b.entry)
            for h in s.hosts:
                hosts.setdefault(h, b.entry)
    for bundle in ipa.bundles:
        if bundle.kind == "framework":
            modules.setdefault(bundle.name, bundle.path)
    for m in ipa.privacy_manifests:
        for d in m.tracking_domains:
            hosts.setdefault(d, m.entry)
    out: list[SdkMatch] = []
    for t in kb.ios.trackers:
        cs = sorted(c for c in classes if t.matches_class(c))
        fws = sorted(m for m in modules if m in t.frameworks)
        hs = sorted(h for h in hosts if t.matches_host(h))
        if not (cs or fws or hs):
            continue
        ev = [Evidence(EvidenceKind.CLASS, c, Location(entry=classes[c], class_name=c)) for c in cs[:10]]
        ev += [Evidence(EvidenceKind.ENTRY, f, Location(entry=modules[f]), note="framework") for f in fws]
        ev += [Evidence(EvidenceKind.ENDPOINT, h, Location(entry=hosts[h])) for h in hs[:10]]
        out.append(SdkMatch(t, tuple(cs), tuple(fws), tuple(hs), tuple(ev)))
    return tuple(out)


def _vendor(kb: KnowledgeBase, vendor: str) -> str:
    e = kb.entity_named(vendor)
    return f"{vendor} ({e.country})" if e else vendor


def _plist_ev(ipa: Ipa, key: str, value: str | None = None) -> Evidence:
    entry = ipa.info.entry if ipa.info else None
    return Evidence(EvidenceKind.MANIFEST, key, Location(entry=entry), note=value)


# ------------------------------------------------------------------------ checks


@ios_check(
    "AV-IOS-001",
    "ios-enterprise-distribution",
    "In-house (Enterprise) build installable on any device",
    Severity.HIGH,
    subscore=Subscore.AUDITABILITY,
)
def enterprise_distribution(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports an app signed for in-house distribution outside the App Store.

    What it checks:
        The ``embedded.mobileprovision`` profile has ``ProvisionsAllDevices`` set: an
        Apple Developer Enterprise Program profile, which lets the app be installed on any
        iPhone by a link or an MDM, without App Review.

    Why it matters:
        Such builds skip Apple's review and are the usual vehicle of sideloaded spyware and
        of apps withdrawn from the store; an Enterprise certificate is meant for an
        organisation's own staff only. (Android counterpart: an APK installed from outside a
        store, which every APK scan implicitly is.)

    Example:
        A profile named "XC iOS: sg.vp.UnCrackable1" with ``ProvisionsAllDevices`` true,
        team "Vantage Point Security Pte. Ltd.".

    Remediation:
        Accept in-house builds only from your own organisation's Enterprise team, and only
        through your MDM; ask the vendor for the App Store or a custom-app (Apple Business
        Manager) distribution.

    References:
        https://developer.apple.com/programs/enterprise/ ;
        https://support.apple.com/guide/deployment/distribute-proprietary-in-house-apps-depce7cefc4d/web
    """
    p = ipa.provision
    if p is None or p.distribution is not Distribution.ENTERPRISE:
        return
    yield finding(
        "AV-IOS-001",
        f"in-house build of team {', '.join(p.team_ids) or '?'} ({p.team_name or 'unnamed'}): profile "
        f"'{p.name or '?'}' provisions all devices: installable outside the App Store, without review",
        subject=p.team_ids[0] if p.team_ids else None,
        evidence=(
            Evidence(EvidenceKind.ENTRY, "ProvisionsAllDevices", Location(entry=p.entry), note="true"),
            *(
                Evidence(
                    EvidenceKind.CERTIFICATE, c.subject, Location(entry=p.entry), note=f"sha256 {c.sha256}"
                )
                for c in p.developer_certificates[:3]
            ),
        ),
    )


@ios_check(
    "AV-IOS-002",
    "ios-not-app-store-build",
    "Development or ad-hoc build",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def non_store_build(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports a development or ad-hoc build, and a debuggable signature.

    What it checks:
        The provisioning profile lists devices (``ProvisionedDevices``: ad-hoc or
        development distribution), or the entitlements the binary is signed with grant
        ``get-task-allow`` (a debugger may attach).

    Why it matters:
        Such a build was never reviewed by Apple and is installable only on the listed
        devices: on a staff phone it means someone registered that phone with the
        developer. ``get-task-allow`` lets any debugger read the app's memory
        (Android counterpart: ``android:debuggable``, AV-MAN).

    Example:
        "XC iOS Ad Hoc: sg.vp.UnCrackable-2", 13 devices.

    Remediation:
        Install only App Store or custom-app builds on managed devices; find out who
        registered the device.

    References:
        https://developer.apple.com/documentation/xcode/distributing-your-app-to-registered-devices ;
        https://developer.apple.com/documentation/bundleresources/entitlements/com_apple_security_get-task-allow
    """
    p = ipa.provision
    if p is not None and p.distribution in (Distribution.AD_HOC, Distribution.DEVELOPMENT):
        yield finding(
            "AV-IOS-002",
            f"{p.distribution.value} build for {len(p.provisioned_devices)} registered device(s) "
            f"(profile '{p.name or '?'}', team {', '.join(p.team_ids) or '?'})",
            subject=str(p.distribution),
            evidence=(
                Evidence(
                    EvidenceKind.ENTRY,
                    "ProvisionedDevices",
                    Location(entry=p.entry),
                    note=f"{len(p.provisioned_devices)} devices",
                ),
            ),
        )
    ents = ipa.entitlements
    if ents is not None and ents.get("get-task-allow") is True:
        entry = ipa.main_binary.entry if ipa.main_binary else None
        yield finding(
            "AV-IOS-002",
            "signed with get-task-allow: a debugger can attach and read the app's memory",
            subject="get-task-allow",
            severity=Severity.HIGH,
            evidence=(Evidence(EvidenceKind.ENTRY, "get-task-allow", Location(entry=entry), note="true"),),
        )


@ios_check(
    "AV-IOS-003",
    "ios-sensitive-access",
    "Access to a protected resource declared",
    Severity.LOW,
    subscore=Subscore.DATA_ACCESS,
)
def sensitive_access(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports each protected resource the app may ask the user for, with the text shown.

    What it checks:
        Every ``NS*UsageDescription`` key of Info.plist, mapped to the resource it unlocks
        (the iOS counterpart of an Android dangerous permission, AV-PERM), and background
        location (``UIBackgroundModes`` ``location``).

    Why it matters:
        iOS only asks when the app first uses the resource, so the declared keys are the
        list of what the app can reach; the purpose text is what the user was told.
        Background location lets the app follow the user when it is not on screen.

    Example:
        ``NSContactsUsageDescription`` = "Find friends": contacts.

    Remediation:
        Compare each access with the app's purpose; restrict it by MDM (privacy
        restrictions) or refuse the app when an access is not needed.

    References:
        https://developer.apple.com/documentation/bundleresources/information-property-list/protected-resources
    """
    info = ipa.info
    if info is None:
        return
    for u in info.usage_descriptions:
        known = kb.ios.usage(u.key)
        if known is not None and not known.sensitive:
            continue
        what = known.capability if known else u.key.removeprefix("NS").removesuffix("UsageDescription")
        sev = Severity.MEDIUM if known and "background" in known.capability else Severity.LOW
        yield finding(
            "AV-IOS-003",
            f'may ask for {what}; the user is told: "{u.text}"'
            + (f" (Android: {', '.join(known.android)})" if known and known.android else ""),
            subject=u.key,
            severity=sev,
            evidence=(_plist_ev(ipa, u.key, u.text),),
        )
    if "location" in info.background_modes:
        yield finding(
            "AV-IOS-003",
            "receives location updates in the background (UIBackgroundModes: location)",
            subject="UIBackgroundModes:location",
            severity=Severity.MEDIUM,
            evidence=(_plist_ev(ipa, "UIBackgroundModes", "location"),),
        )


@ios_check(
    "AV-IOS-004",
    "ios-tracker-sdk",
    "Tracker or advertising SDK embedded (iOS)",
    Severity.LOW,
    subscore=Subscore.DATA_ACCESS,
)
def tracker_sdk(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports each known SDK found in the app, with its vendor and jurisdiction.

    What it checks:
        Objective-C class names (and Swift module names) of every binary, embedded
        framework names, linked frameworks, host names in the code and the privacy
        manifests' tracking domains, against the iOS SDK table of the knowledge base
        (Android counterpart: AV-TRK-001/002).

    Why it matters:
        SDKs collect identifiers and usage data for their vendor; the vendor's
        jurisdiction decides which authorities can reach that data. Presence is not proof
        of use, which the finding says.

    Example:
        Classes ``GADMobileAds``, framework ``GoogleMobileAds``: Google AdMob, Google LLC (US).

    Remediation:
        Ask the vendor what the SDK sends; block its endpoints by DNS if the app must stay.

    References:
        https://developer.apple.com/documentation/bundleresources/privacy_manifest_files
    """
    for m in sdk_inventory(ipa, kb):
        t = m.tracker
        sev = Severity.MEDIUM if "Advertisement" in t.categories else Severity.LOW
        parts = []
        if m.classes:
            parts.append(f"{len(m.classes)} class(es)")
        if m.frameworks:
            parts.append(f"framework {', '.join(m.frameworks)}")
        if m.hosts:
            parts.append(f"host(s) {', '.join(m.hosts[:3])}")
        yield finding(
            "AV-IOS-004",
            f"{t.name} by {_vendor(kb, t.vendor)}: {'; '.join(parts)} [{', '.join(t.categories)}] "
            "(presence, not proof of use)",
            subject=t.name,
            severity=sev,
            confidence=Confidence.HIGH if (m.classes or m.frameworks) else Confidence.MEDIUM,
            evidence=m.evidence,
        )


@ios_check(
    "AV-IOS-005",
    "ios-declared-tracking",
    "Tracking declared (privacy manifest, SKAdNetwork, IDFA)",
    Severity.MEDIUM,
    subscore=Subscore.DATA_ACCESS,
)
def declared_tracking(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports what the app itself declares about tracking.

    What it checks:
        Privacy manifests (the app's and every embedded framework's) with
        ``NSPrivacyTracking`` true or collected data types marked as used for tracking;
        ``SKAdNetworkItems`` mapped to the ad networks that publish those identifiers;
        linking ``AdSupport`` or ``AppTrackingTransparency`` (the advertising identifier).

    Why it matters:
        These are the app's own statements that data about the user is combined with
        other companies' data, and with which ad networks it takes part in install
        attribution (Android counterpart: the ``AD_ID`` permission).

    Example:
        ``v9wttpbfk9.skadnetwork``: Meta Audience Network, Meta Platforms, Inc. (US).

    Remediation:
        Refuse tracking by MDM (``allowAppsToBeRequestedToTrack`` false) or refuse the app.

    References:
        https://developer.apple.com/documentation/bundleresources/privacy_manifest_files ;
        https://developer.apple.com/documentation/storekit/skadnetwork
    """
    for m in ipa.privacy_manifests:
        tracked = [c.type for c in m.collected if c.tracking]
        if m.tracking or tracked or m.tracking_domains:
            where = m.bundle or "the app"
            yield finding(
                "AV-IOS-005",
                f"privacy manifest of {where} declares tracking"
                + (f"; tracking domains {', '.join(m.tracking_domains)}" if m.tracking_domains else "")
                + (f"; data used to track: {', '.join(tracked)}" if tracked else ""),
                subject=f"privacy:{where}",
                evidence=(
                    Evidence(
                        EvidenceKind.ENTRY,
                        "NSPrivacyTracking",
                        Location(entry=m.entry),
                        note=str(m.tracking).lower(),
                    ),
                ),
            )
    info = ipa.info
    if info is not None and info.skadnetwork_ids:
        named = []
        for ident in info.skadnetwork_ids:
            net = kb.ios.ad_network(ident)
            named.append(f"{net.network} ({_vendor(kb, net.vendor)})" if net else ident)
        yield finding(
            "AV-IOS-005",
            f"takes part in ad attribution with {len(info.skadnetwork_ids)} ad network(s): "
            + "; ".join(sorted(set(named))[:12]),
            subject="SKAdNetworkItems",
            severity=Severity.LOW,
            evidence=tuple(_plist_ev(ipa, "SKAdNetworkIdentifier", i) for i in info.skadnetwork_ids[:20]),
        )
    for b in ipa.all_binaries():
        links = sorted(
            {
                name
                for s in b.slices
                for lib in s.libraries
                if (name := lib.rsplit("/", 1)[-1]) in ("AdSupport", "AppTrackingTransparency")
            }
        )
        if links:
            yield finding(
                "AV-IOS-005",
                f"{b.entry.rsplit('/', 1)[-1]} links {', '.join(links)}: can read the advertising identifier",
                subject=f"idfa:{b.entry}",
                severity=Severity.LOW,
                evidence=tuple(Evidence(EvidenceKind.NATIVE, n, Location(entry=b.entry)) for n in links),
            )


@ios_check(
    "AV-IOS-006",
    "ios-cleartext-allowed",
    "App Transport Security weakened",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def transport_security(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports App Transport Security exceptions.

    What it checks:
        ``NSAppTransportSecurity`` in Info.plist: ``NSAllowsArbitraryLoads`` (cleartext
        and weak TLS to any host), and each exception domain that allows insecure HTTP or
        a TLS version below 1.2 (Android counterpart: cleartext traffic, AV-NET).

    Why it matters:
        Data sent over HTTP or weak TLS can be read and changed by anyone on the network
        path (public Wi-Fi, a hostile operator).

    Example:
        ``NSAllowsArbitraryLoads`` true.

    Remediation:
        Ask the vendor to remove the exceptions; treat the data the app sends as public.

    References:
        https://developer.apple.com/documentation/bundleresources/information-property-list/nsapptransportsecurity
    """
    ats = ipa.info.transport_security if ipa.info else None
    if ats is None:
        return
    if ats.arbitrary_loads:
        yield finding(
            "AV-IOS-006",
            "NSAllowsArbitraryLoads: cleartext HTTP and weak TLS allowed to every host",
            subject="NSAllowsArbitraryLoads",
            evidence=(_plist_ev(ipa, "NSAllowsArbitraryLoads", "true"),),
        )
    for e in ats.exceptions:
        weak_tls = e.minimum_tls is not None and e.minimum_tls in ("TLSv1.0", "TLSv1.1")
        if e.allows_insecure_http or weak_tls:
            what = "cleartext HTTP" if e.allows_insecure_http else f"TLS down to {e.minimum_tls}"
            yield finding(
                "AV-IOS-006",
                f"{what} allowed to {e.domain}" + (" and its subdomains" if e.includes_subdomains else ""),
                subject=e.domain,
                severity=Severity.LOW,
                evidence=(_plist_ev(ipa, "NSExceptionDomains", e.domain),),
            )


@ios_check(
    "AV-IOS-007",
    "ios-code-unreadable",
    "Code cannot be read (FairPlay-encrypted or missing)",
    Severity.LOW,
    subscore=Subscore.AUDITABILITY,
)
def code_unreadable(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Says plainly when the app's code could not be read.

    What it checks:
        Binaries whose ``LC_ENCRYPTION_INFO(_64)`` has a non-zero ``cryptid`` (App Store
        FairPlay encryption), and an app whose main executable is missing or unreadable.

    Why it matters:
        Class names, strings and endpoints of an encrypted binary are ciphertext: "no
        tracker found" or "no endpoint" is then undeterminable, not a property of the app
        (Android counterpart: packed or encrypted DEX, AV-OBF).

    Example:
        ``cryptid 1`` in the arm64 slice of the main executable.

    Remediation:
        Analyse a decrypted copy taken from a test device, or ask the vendor for an
        unencrypted (ad-hoc or enterprise) build for review.

    References:
        https://developer.apple.com/documentation/security/complying_with_encryption_export_regulations ;
        https://mas.owasp.org/MASTG/techniques/ios/MASTG-TECH-0054/
    """
    cov = coverage(ipa)
    if ipa.app_path is not None and not cov.main_binary_read:
        yield finding(
            "AV-IOS-007",
            "the main executable could not be read: code-level facts (SDKs, endpoints, hardening) are "
            "undeterminable",
            subject="main-binary",
            severity=Severity.MEDIUM,
            evidence=tuple(
                Evidence(EvidenceKind.ENTRY, p.message, Location(entry=p.entry))
                for p in ipa.problems
                if p.part == "macho"
            )[:5],
        )
    for entry in cov.encrypted:
        yield finding(
            "AV-IOS-007",
            f"{entry.rsplit('/', 1)[-1]} is FairPlay-encrypted: strings and class names undeterminable",
            subject=entry,
            evidence=(Evidence(EvidenceKind.ENTRY, "cryptid", Location(entry=entry), note="not 0"),),
        )


@ios_check(
    "AV-IOS-008",
    "ios-missing-hardening",
    "Executable built without PIE or stack protection",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def hardening(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports a main executable without ASLR (PIE) or stack canaries.

    What it checks:
        The ``MH_PIE`` header flag of each slice of the main executable, and whether it
        imports ``___stack_chk_fail``/``___stack_chk_guard`` (``-fstack-protector``).

    Why it matters:
        Without them, memory-corruption bugs are far easier to exploit. Swift-only code
        may legitimately have no stack canary, so that half is informational when the
        slice contains Swift.

    Example:
        An armv7 slice without ``PIE``.

    Remediation:
        Ask the vendor to rebuild with current Xcode defaults.

    References:
        https://mas.owasp.org/MASTG/tests/ios/MASVS-CODE/MASTG-TEST-0087/
    """
    main = ipa.main_binary
    if main is None:
        return
    for s in main.slices:
        if not s.pie:
            yield finding(
                "AV-IOS-008",
                f"{s.cpu} slice is not position-independent (no ASLR)",
                subject=f"pie:{s.cpu}",
                severity=Severity.MEDIUM,
                evidence=(
                    Evidence(
                        EvidenceKind.NATIVE, "MH_PIE absent", Location(entry=main.entry, offset=s.offset)
                    ),
                ),
            )
        if not s.stack_canary and not s.encrypted:
            yield finding(
                "AV-IOS-008",
                f"{s.cpu} slice imports no stack-protector symbol"
                + (" (Swift code: may be expected)" if s.swift else ""),
                subject=f"canary:{s.cpu}",
                severity=Severity.INFO if s.swift else Severity.LOW,
                evidence=(
                    Evidence(
                        EvidenceKind.NATIVE,
                        "___stack_chk_fail absent",
                        Location(entry=main.entry, offset=s.offset),
                    ),
                ),
            )


@ios_check(
    "AV-IOS-009",
    "ios-sensitive-framework",
    "Links a system framework that reaches personal data",
    Severity.INFO,
    subscore=Subscore.DATA_ACCESS,
)
def sensitive_framework(ipa: Ipa, kb: KnowledgeBase) -> Iterator[Finding]:
    """Lists the sensitive system frameworks the app's binaries link.

    What it checks:
        ``LC_LOAD_DYLIB`` commands naming ``/System/Library/Frameworks/X.framework``,
        against the framework table of the knowledge base (Contacts, CoreLocation,
        HealthKit, NetworkExtension...).

    Why it matters:
        Linking is where an access becomes possible in code, even when no usage
        description is declared (the call then fails, or the framework is used by an
        embedded SDK). It corroborates AV-IOS-003 (Android counterpart: API use behind a
        permission, AV-PERM).

    Example:
        ``/System/Library/Frameworks/Contacts.framework/Contacts``.

    Remediation:
        Ask the vendor why the framework is linked.

    References:
        https://developer.apple.com/documentation/technologies
    """
    seen: dict[str, str] = {}
    for b in ipa.all_binaries():
        for s in b.slices:
            for lib in s.libraries:
                if lib.startswith("/System/Library/Frameworks/") and ".framework/" in lib:
                    seen.setdefault(lib.split("/")[4].removesuffix(".framework"), b.entry)
    for name, entry in sorted(seen.items()):
        fw = kb.ios.framework(name)
        if fw is None or not fw.sensitive:
            continue
        yield finding(
            "AV-IOS-009",
            f"links {name}: {fw.capability}",
            subject=name,
            evidence=(
                Evidence(
                    EvidenceKind.NATIVE, f"/System/Library/Frameworks/{name}.framework", Location(entry=entry)
                ),
            ),
        )


# --------------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class IosCheckFailure:
    """An iOS check that raised (a bug, recorded, never fatal)."""

    check_id: CheckId
    error: str
    where: str


def run_ios_checks(ipa: Ipa, kb: KnowledgeBase) -> tuple[tuple[Finding, ...], tuple[IosCheckFailure, ...]]:
    """Every active iOS check on ``ipa``; a check that raises becomes a failure value."""
    found: list[Finding] = []
    failures: list[IosCheckFailure] = []
    for spec in ios_checks():
        assert spec.ios_func is not None
        try:
            found.extend(spec.ios_func(ipa, kb))
        except Exception as exc:  # one buggy check must not hide the others' findings
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno} in {tb[-1].name}" if tb else "?"
            failures.append(IosCheckFailure(spec.id, f"{type(exc).__name__}: {exc}", where))
    return tuple(sorted(found, key=Finding.sort_key)), tuple(failures)
