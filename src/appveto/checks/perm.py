"""PERM: what each requested permission is used for, and what it could be abused for.

:func:`permission_verdicts` gives every requested permission a verdict: ``used``
(with typed evidence), ``not-observed`` or ``undeterminable`` (coverage too poor to
say, or no usage signature known for that permission).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from appveto.apk.model import Apk, DexFile, descriptor_to_java
from appveto.checks.coverage import Auditability, measure
from appveto.checks.facts import facts, field_ev, manifest_ev, memo, method_ev
from appveto.checks.registry import Subscore, check, finding
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import IntentVia, KnowledgeBase


class Verdict(StrEnum):
    USED = "used"
    NOT_OBSERVED = "not-observed"
    UNDETERMINABLE = "undeterminable"


@dataclass(frozen=True, slots=True)
class PermissionVerdict:
    permission: str
    verdict: Verdict
    protection: str
    """AOSP protection level, ``unknown`` when the knowledge base lacks it."""
    dangerous: bool
    category: str
    evidence: tuple[Evidence, ...]
    reason: str


SENSITIVE_CATEGORIES = frozenset(
    {"sms", "call_log", "contacts", "location", "camera", "microphone", "accounts", "calendar"}
)
_RESOLVER_METHODS = (
    "query",
    "insert",
    "update",
    "delete",
    "bulkInsert",
    "registerContentObserver",
    "openInputStream",
)
_RESOLVER_CLASSES = (
    "Landroid/content/ContentResolver;",
    "Landroid/content/ContentProviderClient;",
    "Landroid/content/CursorLoader;",
    "Landroid/support/v4/content/CursorLoader;",
    "Landroidx/loader/content/CursorLoader;",
    "Landroid/app/Activity;",
)
_MAX_EV = 6


def permission_verdicts(apk: Apk, kb: KnowledgeBase) -> tuple[PermissionVerdict, ...]:
    return memo(apk, f"perm:{id(kb)}", lambda: _verdicts(apk, kb))


def _verdicts(apk: Apk, kb: KnowledgeBase) -> tuple[PermissionVerdict, ...]:
    m = apk.manifest
    if m is None:
        return ()
    requested = set(m.permission_names)
    ev: dict[str, list[Evidence]] = {p: [] for p in requested}
    f = facts(apk)

    def add(perms: tuple[str, ...], e: Evidence) -> None:
        for p in perms:
            lst = ev.get(p)
            if lst is not None and len(lst) < _MAX_EV and e not in lst:
                lst.append(e)

    # 1. framework API references, in the primary DEX and in hidden code decoded from the APK
    code: list[tuple[DexFile, str]] = [(d, "") for d in f.primary]
    code.extend((d, f" in hidden code decoded from {origin}") for d, origin in f.hidden_dex)
    for d, where in code:
        for mr in d.method_refs:
            if kb.has_api_class(mr.class_name):
                for rule in kb.api_rules_for(mr.class_name, mr.name):
                    add(
                        rule.permissions,
                        method_ev(
                            mr, d.entry, f"framework API guarded by the permission ({rule.source}){where}"
                        ),
                    )
        for fr in d.field_refs:
            for frule in kb.field_rules_for(fr.class_name, fr.name):
                add(frule.permissions, field_ev(fr, d.entry, f"system content-provider URI constant{where}"))
    # 1b. framework APIs called through reflection: the method's name is a string constant
    # (not the name of any method reference) and its class is named too; names the app
    # decrypts with its own string decoder count as constants (the decoder is named)
    if f.has_method("Ljava/lang/reflect/Method;", "invoke"):
        strings = f.strings
        decrypted = {p: o for p, o in f.hidden_strings.items() if o.startswith("decrypted")}
        ref_names = {mr.name for mr in f.method_refs}
        for rule in kb.api_rules:
            if rule.method in ref_names:
                continue
            dotted = descriptor_to_java(rule.class_descriptor)
            if rule.method in strings and (dotted in strings or rule.class_descriptor in strings):
                note = f"{dotted}.{rule.method} named in strings, called by reflection (Method.invoke)"
                add(rule.permissions, f.string_evidence(rule.method, note))
            elif (rule.method in strings or rule.method in decrypted) and (
                dotted in decrypted or rule.class_descriptor in decrypted
            ):
                origin = decrypted.get(dotted) or decrypted.get(rule.class_descriptor, "")
                note = f"{dotted}.{rule.method} named in encrypted strings ({origin}), called by reflection"
                add(rule.permissions, _hidden_ev(f"{dotted}.{rule.method}", note))
    # 2. content-provider URIs with ContentResolver use
    resolver = next(
        (
            e
            for cls in _RESOLVER_CLASSES
            for e in f.method_evidence(cls, *_RESOLVER_METHODS, "managedQuery", "<init>")
        ),
        None,
    )
    hidden_resolver = next(
        (
            method_ev(mr, d.entry, f"content resolver call in hidden code decoded from {origin}")
            for d, origin in f.hidden_dex
            for mr in d.method_refs
            if mr.class_name in _RESOLVER_CLASSES and mr.name in _RESOLVER_METHODS
        ),
        None,
    )
    if resolver is not None or hidden_resolver is not None:
        uris = [s for s in f.strings if s.startswith("content://")] if resolver is not None else []
        hidden_uris = [(s, o) for s, o in f.hidden_strings.items() if s.startswith("content://")]
        for urule in kb.uri_rules:
            for s in uris:
                if s == urule.prefix or s.startswith(urule.prefix + "/"):
                    add(urule.permissions, f.string_evidence(s, "system content-provider URI"))
                    add(urule.permissions, resolver)  # type: ignore[arg-type]
            for s, origin in hidden_uris:
                if s == urule.prefix or s.startswith(urule.prefix + "/"):
                    add(urule.permissions, _hidden_ev(s, f"system content-provider URI {origin}"))
                    add(urule.permissions, resolver or hidden_resolver)  # type: ignore[arg-type]
    # 3. intents: actions sent from code, actions received by manifest receivers
    for irule in kb.intent_rules:
        if irule.via is IntentVia.SEND and irule.action in f.strings:
            add(irule.permissions, f.string_evidence(irule.action, "intent action used in code"))
        elif irule.via is IntentVia.SEND and irule.action in f.hidden_strings:
            origin = f.hidden_strings[irule.action]
            add(irule.permissions, _hidden_ev(irule.action, f"intent action {origin}"))
    for c in m.components:
        for flt in c.intent_filters:
            for action in flt.actions:
                for irule in kb.intent_rules:
                    if irule.action == action and irule.via is IntentVia.RECEIVE:
                        add(
                            irule.permissions,
                            manifest_ev(action, c.xpath or None, f"{c.kind} {c.name} receives it"),
                        )
    if any(mr.name == "registerReceiver" for mr in f.method_refs):
        for irule in kb.intent_rules:
            if irule.via is IntentVia.RECEIVE and irule.action in f.strings:
                add(irule.permissions, f.string_evidence(irule.action, "receiver registered at run time"))
    # 4. manifest features and components that need the permission
    for feat in m.uses_features:
        for ftrule in kb.feature_rules:
            if feat.name is not None and feat.name == ftrule.feature:
                add(
                    ftrule.permissions,
                    manifest_ev(feat.name, "/manifest/uses-feature", "hardware feature declared"),
                )
    for c in m.components:
        for perm_name, perms in kb.component_rules:
            if c.permission == perm_name:
                add(perms, manifest_ev(c.name, c.xpath or None, f"{c.kind} bound with {perm_name}"))
    if m.application.uses_cleartext_traffic or m.application.network_security_config:
        add(("android.permission.INTERNET",), manifest_ev("network configuration", "/manifest/application"))

    cov = measure(apk, kb)
    native = cov.native_libs > 0
    known = _perms_with_signatures(kb)
    out: list[PermissionVerdict] = []
    for name in sorted(requested):
        info = kb.permission(name)
        protection = info.protection if info else "unknown"
        dangerous = bool(info and info.dangerous)
        category = info.category if info else "other"
        found = tuple(sorted(ev[name]))
        if found:
            verdict, reason = Verdict.USED, f"{len(found)} piece(s) of evidence"
        elif name not in known:
            verdict, reason = Verdict.UNDETERMINABLE, "no usage signature is known for this permission"
        elif cov.code_hidden:
            verdict, reason = Verdict.UNDETERMINABLE, "; ".join(cov.hidden_reasons)
        elif native and name in kb.native_reachable:
            verdict, reason = (
                Verdict.UNDETERMINABLE,
                "native code can use it through the NDK and is not analysed",
            )
        else:
            verdict, reason = Verdict.NOT_OBSERVED, "no framework API, URI, intent or manifest use found"
        out.append(PermissionVerdict(name, verdict, protection, dangerous, category, found, reason))
    return tuple(out)


def _hidden_ev(value: str, note: str) -> Evidence:
    """Evidence for a string the primary DEX does not show in clear (decoded hidden code or
    a decrypted constant); where it came from is in the note."""
    return Evidence(EvidenceKind.STRING, value, Location(entry="(hidden code)"), note)


def _perms_with_signatures(kb: KnowledgeBase) -> frozenset[str]:
    out: set[str] = set()
    for a in kb.api_rules:
        out.update(a.permissions)
    for fr in kb.field_rules:
        out.update(fr.permissions)
    for u in kb.uri_rules:
        out.update(u.permissions)
    for i in kb.intent_rules:
        out.update(i.permissions)
    for ft in kb.feature_rules:
        out.update(ft.permissions)
    return frozenset(out)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


# ------------------------------------------------------------------ checks


@check(
    "AV-PERM-001",
    "dangerous-permission-not-observed",
    "Dangerous permission requested but no use observed",
    Severity.MEDIUM,
    subscore=Subscore.DATA_ACCESS,
    absence_claim=True,
)
def not_observed(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags dangerous permissions the app requests but whose use the scan did not find.

    What it checks:
        For every requested permission with protection level ``dangerous``, the scan
        looks for framework API references guarded by it, system content-provider URIs
        used with ContentResolver, intent actions, and manifest receivers, features and
        components. When none is found *and* the coverage shows that the code is
        readable (no packer, no code loaded at run time, no encrypted strings), the
        permission is reported as not observed.

    Why it matters:
        A permission that is not needed widens what the app can do on a staff device
        (over-privilege). It is also the first thing to question in a vetting review.
        The claim is one of absence: its confidence is capped by the scan's coverage and
        it is never made for packed or dynamically loading apps (those get
        ``AV-PERM-002``).

    Example:
        A flashlight app requests ``READ_CONTACTS`` but no contacts API, contacts URI
        or intent appears in its code.

    Remediation:
        Ask the vendor why the permission is requested; remove it from the manifest, or
        deny it through the MDM's permission policy.

    References:
        https://developer.android.com/guide/topics/permissions/overview ;
        Felt et al., "Android Permissions Demystified" (CCS 2011)
    """
    cov = measure(apk, kb)
    base = Confidence.MEDIUM if cov.auditability is Auditability.HIGH else Confidence.LOW
    max_sdk: dict[str, int] = {}
    if apk.manifest is not None:
        for up in apk.manifest.uses_permissions:
            if up.max_sdk is not None:
                max_sdk[up.name] = max(up.max_sdk, max_sdk.get(up.name, 0))
            else:
                max_sdk[up.name] = 10**6
    for v in permission_verdicts(apk, kb):
        if v.dangerous and v.verdict is Verdict.NOT_OBSERVED:
            limit = max_sdk.get(v.permission, 10**6)
            scope = f" (requested only up to API {limit})" if limit < 10**6 else ""
            yield finding(
                "AV-PERM-001",
                f"{_short(v.permission)} is requested{scope} but no use was observed ({v.reason}); "
                f"{cov.summary()}",
                subject=v.permission,
                severity=Severity.LOW if limit < 10**6 else Severity.MEDIUM,
                confidence=cov.cap(base),
                evidence=(manifest_ev(v.permission, "/manifest/uses-permission", "requested"),),
            )


@check(
    "AV-PERM-002",
    "permission-use-undeterminable",
    "Use of a dangerous permission cannot be determined",
    Severity.LOW,
    subscore=Subscore.AUDITABILITY,
)
def undeterminable(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports dangerous permissions whose use the scan cannot confirm or rule out.

    What it checks:
        Dangerous permissions with no evidence of use in an app whose code is packed,
        encrypted, loaded at run time, or partly native (for permissions the NDK can
        use), or for which appveto has no usage signature.

    Why it matters:
        Saying "unused" for these would be wrong exactly for the apps that hide what
        they do (a packed RAT shows almost no code). The reviewer must treat them as
        potentially used.

    Example:
        A Bangcle-packed app requests ``READ_SMS``; its visible DEX is a 16-class stub,
        so nothing can be said about SMS access.

    Remediation:
        Treat the permission as used; require the vendor to justify it or deny it by
        policy; analyse the app dynamically if the decision depends on it.

    References:
        https://developer.android.com/guide/topics/permissions/overview
    """
    for v in permission_verdicts(apk, kb):
        if v.dangerous and v.verdict is Verdict.UNDETERMINABLE:
            yield finding(
                "AV-PERM-002",
                f"use of {_short(v.permission)} cannot be determined: {v.reason}",
                subject=v.permission,
                confidence=Confidence.HIGH,
                evidence=(manifest_ev(v.permission, "/manifest/uses-permission", "requested"),),
            )


@check(
    "AV-PERM-003",
    "dangerous-permission-used",
    "Dangerous permission requested and used",
    Severity.LOW,
    subscore=Subscore.DATA_ACCESS,
)
def used(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports each dangerous permission the app requests and demonstrably uses.

    What it checks:
        Dangerous permissions with at least one piece of usage evidence: a framework
        API reference, a system content-provider URI together with ContentResolver
        use, an intent action, or a manifest receiver, feature or component.
        Sensitive data (SMS, call log, contacts, location, camera, microphone,
        accounts, calendar) is reported with medium severity.

    Why it matters:
        This is the data the app can actually reach on a staff device. The evidence
        lets a reviewer verify each claim in the DEX.

    Example:
        ``READ_SMS`` used: the DEX holds ``content://sms/inbox`` and references
        ``ContentResolver.query``.

    Remediation:
        Check that each use matches the app's purpose; deny the permission by MDM
        policy where it does not.

    References:
        https://developer.android.com/reference/android/Manifest.permission
    """
    for v in permission_verdicts(apk, kb):
        if v.dangerous and v.verdict is Verdict.USED:
            sev = Severity.MEDIUM if v.category in SENSITIVE_CATEGORIES else Severity.LOW
            strong = any(
                e.kind is not EvidenceKind.MANIFEST or "receives" in (e.note or "") for e in v.evidence
            )
            yield finding(
                "AV-PERM-003",
                f"{_short(v.permission)} ({v.category}) is requested and used",
                subject=v.permission,
                severity=sev,
                confidence=Confidence.HIGH if strong else Confidence.MEDIUM,
                evidence=v.evidence,
            )


def _capabilities(apk: Apk) -> set[str]:
    m = apk.manifest
    if m is None:
        return set()
    caps = set(m.permission_names)
    for c in m.components:
        if c.permission and c.permission.startswith("android.permission.BIND_"):
            caps.add(c.permission)
    return caps


@check(
    "AV-PERM-004",
    "dangerous-permission-combination",
    "Permissions that are dangerous together",
    Severity.HIGH,
    subscore=Subscore.DATA_ACCESS,
)
def combination(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags combinations of permissions typical of fraud and surveillance apps.

    What it checks:
        The requested permissions (plus the BIND_* permissions of the app's own
        accessibility, device-admin and notification-listener components) against the
        knowledge base's combinations, e.g. receiving and sending SMS with network
        access, or location, microphone and start at boot.

    Why it matters:
        Each permission alone may be justified; together they enable one-time-password
        theft, premium-SMS fraud, stalkerware or device takeover.

    Example:
        ``RECEIVE_SMS`` + ``READ_SMS`` + ``INTERNET``: incoming SMS, including bank
        one-time passcodes, can be read and forwarded.

    Remediation:
        Require a justification for the combination; deny one side of it by policy.

    References:
        https://developer.android.com/guide/topics/permissions/overview ;
        Zhou and Jiang, "Dissecting Android Malware" (IEEE S&P 2012)
    """
    caps = _capabilities(apk)
    for combo in kb.combinations:
        if all(p in caps for p in combo.all_of) and (
            not combo.any_of or any(p in caps for p in combo.any_of)
        ):
            present = [p for p in (*combo.all_of, *combo.any_of) if p in caps]
            yield finding(
                "AV-PERM-004",
                f"{combo.id}: {' + '.join(_short(p) for p in present)} — {combo.why}",
                subject=combo.id,
                severity=Severity(combo.severity),
                evidence=tuple(manifest_ev(p, "/manifest/uses-permission", "requested") for p in present),
            )


@check(
    "AV-PERM-005",
    "weak-custom-permission",
    "Custom permission protects a component but any app can obtain it",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def weak_custom(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags app-defined permissions whose protection level lets any app obtain them.

    What it checks:
        Permissions declared with ``<permission>`` at protection level ``normal`` (the
        default) or ``dangerous`` that guard one of the app's exported components.

    Why it matters:
        Any installed app can request a normal permission and is granted it silently,
        so the "protected" component is in effect open to every app on the device.

    Example:
        ``<permission android:name="com.example.READ_DATA"/>`` (no protectionLevel)
        protecting an exported content provider.

    Remediation:
        Use ``android:protectionLevel="signature"`` for permissions meant for the
        vendor's own apps.

    References:
        https://developer.android.com/guide/topics/manifest/permission-element ;
        https://developer.android.com/privacy-and-security/risks/custom-permissions
    """
    m = apk.manifest
    if m is None:
        return
    weak = {
        p.name: p
        for p in m.declared_permissions
        if p.protection_level.split("|", 1)[0].strip() in ("normal", "dangerous", "")
    }
    for c in m.components:
        if not c.exported:
            continue
        for guard in {c.permission, c.read_permission, c.write_permission} - {None}:
            if guard in weak:
                p = weak[guard]
                yield finding(
                    "AV-PERM-005",
                    f"{c.kind} {c.name} is guarded by {guard}, declared with protection level "
                    f"'{p.protection_level or 'normal'}' which any app can obtain",
                    subject=f"{c.name}:{guard}",
                    evidence=(
                        manifest_ev(
                            guard, "/manifest/permission", f"protectionLevel={p.protection_level or 'normal'}"
                        ),
                        manifest_ev(c.name, c.xpath or None, "exported component guarded by it"),
                    ),
                )


@check(
    "AV-PERM-006",
    "privileged-permission-requested",
    "Requests a permission only system apps can hold",
    Severity.MEDIUM,
    subscore=Subscore.DATA_ACCESS,
)
def privileged(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags requests for signature or privileged permissions a store app cannot get.

    What it checks:
        Requested platform permissions whose protection level is ``signature`` or
        ``signature|privileged`` (without an app-op), such as ``INSTALL_PACKAGES``,
        ``WRITE_SECURE_SETTINGS`` or ``READ_LOGS``.

    Why it matters:
        Android only grants them to apps signed with the platform key or preinstalled
        in the system image. A normal app asking for them either expects to run on
        rooted or compromised devices, or copies a malware template.

    Example:
        A keyboard app requesting ``INSTALL_PACKAGES`` and ``DELETE_PACKAGES``.

    Remediation:
        Ask the vendor why; block the app if it is not a system component of your
        device fleet.

    References:
        https://developer.android.com/guide/topics/manifest/permission-element#plevel
    """
    m = apk.manifest
    if m is None:
        return
    for name in m.permission_names:
        info = kb.permission(name)
        if info is not None and info.privileged and not name.startswith("android.permission.BIND_"):
            yield finding(
                "AV-PERM-006",
                f"{_short(name)} has protection level '{info.protection}': not grantable to a store app",
                subject=name,
                evidence=(
                    Evidence(
                        EvidenceKind.MANIFEST,
                        name,
                        Location(entry="AndroidManifest.xml", xpath="/manifest/uses-permission"),
                        info.protection,
                    ),
                ),
            )
