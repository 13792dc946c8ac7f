"""MAN: manifest hygiene (debuggable, testOnly, backups, exported components, cleartext, targetSdk)."""

from __future__ import annotations

from collections.abc import Iterator

from appveto.apk.model import Apk, ComponentKind
from appveto.checks.facts import manifest_ev
from appveto.checks.registry import Subscore, check, finding
from appveto.findings import Confidence, Finding, Severity
from appveto.kb.model import KnowledgeBase


@check("AV-MAN-001", "debuggable", "Application is debuggable", Severity.HIGH, subscore=Subscore.HYGIENE)
def debuggable(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags apps built with ``android:debuggable="true"``.

    What it checks:
        The ``android:debuggable`` attribute of ``<application>``.

    Why it matters:
        Any app or person with USB or ADB access can attach a debugger, run code as the
        app (``run-as``) and read its private data. Release builds never set it.

    Example:
        ``<application android:debuggable="true">``

    Remediation:
        Ship release builds only; reject debuggable builds in the vetting policy.

    References:
        https://developer.android.com/guide/topics/manifest/application-element#debug ;
        OWASP MASVS-RESILIENCE-4
    """
    m = apk.manifest
    if m is not None and m.application.debuggable:
        yield finding(
            "AV-MAN-001",
            "android:debuggable is true: the app's process and data are open to debuggers",
            evidence=(manifest_ev('android:debuggable="true"', "/manifest/application"),),
        )


@check(
    "AV-MAN-002", "test-only", "Application is marked testOnly", Severity.MEDIUM, subscore=Subscore.HYGIENE
)
def test_only(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags apps marked ``android:testOnly="true"``.

    What it checks:
        The ``android:testOnly`` attribute of ``<application>``.

    Why it matters:
        Test-only packages are development builds; they can only be installed with
        ``adb install -t`` and can be removed by ``adb`` without the user, so a
        production fleet should never carry one.

    Example:
        ``<application android:testOnly="true">``

    Remediation:
        Obtain the release build from the vendor.

    References:
        https://developer.android.com/guide/topics/manifest/application-element#testOnly
    """
    m = apk.manifest
    if m is not None and m.application.test_only:
        yield finding(
            "AV-MAN-002",
            "android:testOnly is true: this is a development build",
            evidence=(manifest_ev('android:testOnly="true"', "/manifest/application"),),
        )


@check(
    "AV-MAN-003",
    "allow-backup",
    "App data can be backed up off the device",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def allow_backup(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags apps whose data may be copied out by backup without restricting rules.

    What it checks:
        ``android:allowBackup`` (true by default) without ``fullBackupContent`` or
        ``dataExtractionRules`` limiting what is copied.

    Why it matters:
        With ADB backup (before Android 12) or device-to-device transfer, the app's
        private files, tokens and databases can be extracted from an unlocked device.

    Example:
        ``<application>`` without ``android:allowBackup="false"``.

    Remediation:
        Set ``android:allowBackup="false"`` or declare data extraction rules excluding
        secrets; MDMs can also disable backup for managed apps.

    References:
        https://developer.android.com/guide/topics/data/autobackup ;
        https://developer.android.com/privacy-and-security/risks/backup-best-practices
    """
    m = apk.manifest
    if m is None:
        return
    a = m.application
    if a.allow_backup and not a.full_backup_content and not a.data_extraction_rules:
        yield finding(
            "AV-MAN-003",
            "allowBackup is on (explicitly or by default) with no rule restricting what is backed up",
            confidence=Confidence.MEDIUM,
            evidence=(
                manifest_ev("android:allowBackup", "/manifest/application", "true or absent (default true)"),
            ),
        )


def _launcher(c: object) -> bool:
    filters = getattr(c, "intent_filters", ())
    return any(
        "android.intent.action.MAIN" in f.actions and "android.intent.category.LAUNCHER" in f.categories
        for f in filters
    )


@check(
    "AV-MAN-004",
    "exported-component-unprotected",
    "Exported component without a permission",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def exported(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags exported services, receivers, providers and activities that any app can reach.

    What it checks:
        Components that are exported (explicitly, or implicitly through an intent
        filter before Android 12) and enabled, with no ``android:permission`` (for
        providers: no read or write permission either). The launcher activity is not
        reported.

    Why it matters:
        Other apps on the device can start them, send them data or read from them:
        the source of intent spoofing, data leaks from providers and privilege
        escalation through the app.

    Example:
        ``<service android:name=".SyncService" android:exported="true"/>``

    Remediation:
        Set ``android:exported="false"`` or guard the component with a
        signature-level permission.

    References:
        https://developer.android.com/privacy-and-security/risks/android-exported ;
        OWASP MASVS-PLATFORM-1
    """
    m = apk.manifest
    if m is None:
        return
    open_components = [
        c
        for c in m.components
        if c.exported
        and c.enabled
        and not c.permission
        and not (c.kind is ComponentKind.PROVIDER and (c.read_permission or c.write_permission))
        and not (c.kind in (ComponentKind.ACTIVITY, ComponentKind.ACTIVITY_ALIAS) and _launcher(c))
    ]
    for c in open_components[:_MAX_COMPONENT_FINDINGS]:
        sev = Severity.MEDIUM if c.kind in (ComponentKind.PROVIDER, ComponentKind.SERVICE) else Severity.LOW
        how = "explicitly" if c.exported_declared else "implicitly (intent filter)"
        yield finding(
            "AV-MAN-004",
            f"{c.kind} {c.name} is exported {how} without a permission",
            subject=c.name,
            severity=sev,
            evidence=(manifest_ev(c.name, c.xpath or None, f"exported {how}"),),
        )
    rest = open_components[_MAX_COMPONENT_FINDINGS:]
    if rest:
        # A crafted manifest can declare tens of thousands of components: one finding
        # sums up the rest, with a bounded sample as evidence, so reports stay small.
        worst = (
            Severity.MEDIUM
            if any(c.kind in (ComponentKind.PROVIDER, ComponentKind.SERVICE) for c in rest)
            else Severity.LOW
        )
        yield finding(
            "AV-MAN-004",
            f"{len(rest)} more components are exported without a permission "
            f"(first {_MAX_COMPONENT_FINDINGS} reported one by one)",
            subject=f"+{len(rest)} more",
            severity=worst,
            evidence=tuple(
                manifest_ev(c.name, c.xpath or None, "exported") for c in rest[:_MAX_COMPONENT_FINDINGS]
            ),
        )


_MAX_COMPONENT_FINDINGS = 50


@check(
    "AV-MAN-005",
    "cleartext-traffic",
    "Cleartext HTTP traffic allowed",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def cleartext(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags apps that allow unencrypted HTTP traffic by manifest setting or default.

    What it checks:
        ``android:usesCleartextTraffic="true"``, or the attribute absent with a
        targetSdk below 28 (where cleartext is allowed by default), when no network
        security config overrides it.

    Why it matters:
        Cleartext traffic can be read and modified by anyone on the network path
        (public Wi-Fi, hostile networks abroad).

    Example:
        ``<application android:usesCleartextTraffic="true">``

    Remediation:
        Serve every endpoint over HTTPS and set ``usesCleartextTraffic="false"``.

    References:
        https://developer.android.com/privacy-and-security/security-config ;
        OWASP MASVS-NETWORK-1
    """
    m = apk.manifest
    if m is None or m.application.network_security_config:
        return
    a = m.application
    if a.uses_cleartext_traffic is True:
        yield finding(
            "AV-MAN-005",
            "usesCleartextTraffic is true",
            evidence=(manifest_ev('android:usesCleartextTraffic="true"', "/manifest/application"),),
        )
    elif a.uses_cleartext_traffic is None and m.effective_target_sdk < 28:
        yield finding(
            "AV-MAN-005",
            f"cleartext traffic is allowed by default (targetSdk {m.effective_target_sdk} < 28)",
            severity=Severity.LOW,
            evidence=(manifest_ev(f"targetSdkVersion={m.effective_target_sdk}", "/manifest/uses-sdk"),),
        )


@check(
    "AV-MAN-006", "outdated-target-sdk", "targetSdk is outdated", Severity.MEDIUM, subscore=Subscore.HYGIENE
)
def outdated_target(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags apps that target an Android version older than app stores accept.

    What it checks:
        The effective ``targetSdkVersion`` against the knowledge base's minimum (the
        level Google Play requires of new apps and updates).

    Why it matters:
        Android keeps old, weaker behaviour for apps targeting old levels: runtime
        permissions are skipped below 23, cleartext is allowed below 28, implicit
        exports below 31, and background restrictions do not apply.

    Example:
        ``<uses-sdk android:targetSdkVersion="18"/>``

    Remediation:
        Require a build targeting a current API level.

    References:
        https://developer.android.com/google/play/requirements/target-sdk
    """
    m = apk.manifest
    if m is None:
        return
    t = m.effective_target_sdk
    if t < kb.min_target_sdk:
        sev = Severity.HIGH if t < 23 else Severity.MEDIUM
        yield finding(
            "AV-MAN-006",
            f"targetSdk {t} is below {kb.min_target_sdk}"
            + (
                " (runtime permissions do not apply: every permission is granted at install)"
                if t < 23
                else ""
            ),
            severity=sev,
            evidence=(manifest_ev(f"targetSdkVersion={t}", "/manifest/uses-sdk"),),
        )


@check(
    "AV-MAN-007",
    "shared-user-id",
    "App shares a Linux user ID with other apps",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def shared_uid(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags ``android:sharedUserId``.

    What it checks:
        The ``sharedUserId`` attribute of ``<manifest>``.

    Why it matters:
        Apps signed by the same key and sharing a user ID share permissions and data;
        with ``android.uid.system`` the app runs as the system. The attribute is
        deprecated.

    Example:
        ``<manifest android:sharedUserId="android.uid.system">``

    Remediation:
        Ask the vendor which apps share the ID and why.

    References:
        https://developer.android.com/guide/topics/manifest/manifest-element#uid
    """
    m = apk.manifest
    if m is not None and m.shared_user_id:
        sev = Severity.HIGH if m.shared_user_id.startswith("android.uid.") else Severity.LOW
        yield finding(
            "AV-MAN-007",
            f"sharedUserId is {m.shared_user_id}",
            severity=sev,
            evidence=(manifest_ev(m.shared_user_id, "/manifest"),),
        )


@check(
    "AV-MAN-008",
    "manifest-unreadable",
    "The manifest is missing or unreadable",
    Severity.HIGH,
    subscore=Subscore.HYGIENE,
)
def no_manifest(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags APKs whose ``AndroidManifest.xml`` is missing or could not be decoded.

    What it checks:
        Whether the reader produced a manifest.

    Why it matters:
        Android refuses to install an APK without a manifest; one that Android accepts
        but appveto cannot read is deliberately malformed, and no manifest-based check
        could run.

    Example:
        A ZIP holding only ``classes.dex``.

    Remediation:
        Reject the file or analyse it by hand.

    References:
        https://developer.android.com/guide/topics/manifest/manifest-intro
    """
    if apk.manifest is None:
        why = next((p.message for p in apk.problems if p.part == "manifest"), "no AndroidManifest.xml entry")
        yield finding(
            "AV-MAN-008", f"no manifest could be read: {why}", evidence=(manifest_ev("AndroidManifest.xml"),)
        )
