"""PERM with stated outcomes: each verdict, reason, severity, confidence and message below is
written out from the check's documented rules and the knowledge base's entries (e.g.
``content://sms`` needs READ_SMS, ``android.hardware.camera`` needs CAMERA), never read back
from the code under test (issue 19: mutants of checks/perm.py must fail a test)."""

from __future__ import annotations

from datetime import UTC, datetime

from appveto.apk.model import Application, ComponentKind, DeclaredPermission, UsesPermission
from appveto.checks import perm
from appveto.findings import Confidence, EvidenceKind, Severity
from appveto.kb import load_baseline
from tests.checks.factory import component, dex, make_apk, manifest, native

KB = load_baseline().at(datetime(2026, 11, 29, tzinfo=UTC))
P = "android.permission."
CR = "Landroid/content/ContentResolver;"
QUERY = (CR, "query", "(Landroid/net/Uri;)Landroid/database/Cursor;")


def _verdicts(apk: object) -> dict[str, tuple[str, str, int]]:
    return {
        v.permission.removeprefix(P): (v.verdict.value, v.reason, len(v.evidence))
        for v in perm.permission_verdicts(apk, KB)  # type: ignore[arg-type]
    }


def test_each_verdict_with_its_stated_reason() -> None:
    apk = make_apk(
        manifest_=manifest(
            permissions=tuple(
                UsesPermission(P + n)
                for n in (
                    "READ_SMS",  # URI content://sms/inbox + ContentResolver.query: 2 pieces
                    "CAMERA",  # uses-feature android.hardware.camera: 1 piece
                    "RECEIVE_SMS",  # a receiver of SMS_RECEIVED: 1 piece
                    "READ_CONTACTS",  # signatures known, none found, code readable
                    "BODY_SENSORS_BACKGROUND",  # dangerous, no usage signature known
                    "INTERNET",  # cleartext traffic allowed: 1 piece
                )
            ),
            features=("android.hardware.camera",),
            components=(
                component(
                    "org.example.app.R",
                    ComponentKind.RECEIVER,
                    actions=("android.provider.Telephony.SMS_RECEIVED",),
                ),
            ),
            application=Application(allow_backup=False, uses_cleartext_traffic=True),
        ),
        dex_files=(dex(strings=("content://sms/inbox",), methods=(QUERY,)),),
    )
    assert _verdicts(apk) == {
        "READ_SMS": ("used", "2 piece(s) of evidence", 2),
        "CAMERA": ("used", "1 piece(s) of evidence", 1),
        "RECEIVE_SMS": ("used", "1 piece(s) of evidence", 1),
        "READ_CONTACTS": ("not-observed", "no framework API, URI, intent or manifest use found", 0),
        "BODY_SENSORS_BACKGROUND": ("undeterminable", "no usage signature is known for this permission", 0),
        "INTERNET": ("used", "1 piece(s) of evidence", 1),
    }
    by_name = {v.permission: v for v in perm.permission_verdicts(apk, KB)}
    sms = by_name[P + "READ_SMS"]
    assert (sms.protection, sms.dangerous, sms.category) == ("dangerous", True, "sms")
    kinds = sorted((e.kind.value, e.value) for e in sms.evidence if e.kind is EvidenceKind.STRING)
    assert kinds == [("string", "content://sms/inbox")]
    assert {e.kind for e in sms.evidence} == {EvidenceKind.STRING, EvidenceKind.METHOD}
    inet = by_name[P + "INTERNET"]
    assert (inet.protection, inet.dangerous, inet.category) == ("normal", False, "network")
    (cam_ev,) = by_name[P + "CAMERA"].evidence
    assert (cam_ev.kind, cam_ev.value, cam_ev.location.xpath) == (
        EvidenceKind.MANIFEST,
        "android.hardware.camera",
        "/manifest/uses-feature",
    )
    (rcv_ev,) = by_name[P + "RECEIVE_SMS"].evidence
    assert rcv_ev.note == "receiver org.example.app.R receives it"

    # AV-PERM-003: sensitive categories are medium; evidence only from the manifest (a
    # feature) gives medium confidence, a receiver of the action gives high
    used = {f.subject: (f.severity, f.confidence, f.message) for f in perm.used(apk, KB)}
    assert used == {
        P + "READ_SMS": (Severity.MEDIUM, Confidence.HIGH, "READ_SMS (sms) is requested and used"),
        P + "CAMERA": (Severity.MEDIUM, Confidence.MEDIUM, "CAMERA (camera) is requested and used"),
        P + "RECEIVE_SMS": (Severity.MEDIUM, Confidence.HIGH, "RECEIVE_SMS (sms) is requested and used"),
    }
    (u,) = perm.undeterminable(apk, KB)
    assert (u.subject, u.severity, u.confidence, u.message) == (
        P + "BODY_SENSORS_BACKGROUND",
        Severity.LOW,
        Confidence.HIGH,
        "use of BODY_SENSORS_BACKGROUND cannot be determined: "
        "no usage signature is known for this permission",
    )
    (n,) = perm.not_observed(apk, KB)
    assert (n.subject, n.severity) == (P + "READ_CONTACTS", Severity.MEDIUM)
    assert n.message.startswith(
        "READ_CONTACTS is requested but no use was observed "
        "(no framework API, URI, intent or manifest use found); about 100% of the code can be read"
    )


def test_a_permission_outside_the_sensitive_categories_is_low_when_used() -> None:
    apk = make_apk(
        manifest_=manifest(
            permissions=(UsesPermission(P + "READ_PHONE_STATE"),),
            components=(
                component(
                    "org.example.app.R",
                    ComponentKind.RECEIVER,
                    actions=("android.intent.action.PHONE_STATE",),
                ),
            ),
        )
    )
    (f,) = perm.used(apk, KB)
    assert (f.severity, f.confidence, f.message) == (
        Severity.LOW,
        Confidence.HIGH,
        "READ_PHONE_STATE (phone) is requested and used",
    )


def test_evidence_is_kept_once_and_at_most_six_pieces() -> None:
    # eight SMS URIs: eight string pieces plus the resolver call (added once, not eight times);
    # six are kept
    uris = tuple(f"content://sms/{i}" for i in range(8))
    apk = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "READ_SMS"),)),
        dex_files=(dex(strings=uris, methods=(QUERY,)),),
    )
    assert _verdicts(apk)["READ_SMS"] == ("used", "6 piece(s) of evidence", 6)
    two = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "READ_SMS"),)),
        dex_files=(dex(strings=uris[:2], methods=(QUERY,)),),
    )
    assert _verdicts(two)["READ_SMS"] == ("used", "3 piece(s) of evidence", 3)


def test_a_uri_needs_a_resolver_call_and_a_whole_prefix() -> None:
    no_call = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "READ_SMS"),)),
        dex_files=(dex(strings=("content://sms/inbox",)),),
    )
    assert _verdicts(no_call)["READ_SMS"][0] == "not-observed"
    # content://smsx is not content://sms (the prefix ends at a slash or the end)
    other = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "READ_SMS"),)),
        dex_files=(dex(strings=("content://smsx/inbox",), methods=(QUERY,)),),
    )
    assert _verdicts(other)["READ_SMS"][0] == "not-observed"
    exact = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "READ_SMS"),)),
        dex_files=(dex(strings=("content://sms",), methods=(QUERY,)),),
    )
    assert _verdicts(exact)["READ_SMS"] == ("used", "2 piece(s) of evidence", 2)


def test_native_code_makes_ndk_reachable_permissions_undeterminable() -> None:
    # CAMERA is reachable from the NDK: with a native library it cannot be called unused;
    # READ_CONTACTS is not, and stays not observed
    apk = make_apk(
        manifest_=manifest(permissions=tuple(UsesPermission(P + n) for n in ("CAMERA", "READ_CONTACTS"))),
        native_libs=(native(),),
    )
    assert _verdicts(apk) == {
        "CAMERA": ("undeterminable", "native code can use it through the NDK and is not analysed", 0),
        "READ_CONTACTS": ("not-observed", "no framework API, URI, intent or manifest use found", 0),
    }
    without = make_apk(manifest_=manifest(permissions=(UsesPermission(P + "CAMERA"),)))
    assert _verdicts(without)["CAMERA"][0] == "not-observed"


def test_a_permission_requested_only_for_old_versions_is_low() -> None:
    # the highest max_sdk of repeated entries counts; an entry without max_sdk means "always"
    old = make_apk(
        manifest_=manifest(
            permissions=(
                UsesPermission(P + "READ_CONTACTS", max_sdk=18),
                UsesPermission(P + "READ_CONTACTS", max_sdk=22),
            )
        )
    )
    (f,) = perm.not_observed(old, KB)
    assert f.severity is Severity.LOW
    assert f.message.startswith("READ_CONTACTS is requested (requested only up to API 22) but no use")
    always = make_apk(
        manifest_=manifest(
            permissions=(
                UsesPermission(P + "READ_CONTACTS", max_sdk=22),
                UsesPermission(P + "READ_CONTACTS"),
            )
        )
    )
    (f,) = perm.not_observed(always, KB)
    assert f.severity is Severity.MEDIUM
    assert f.message.startswith("READ_CONTACTS is requested but no use")


def test_combinations_need_all_of_and_one_of_any_of() -> None:
    def combos(*names: str) -> dict[str, tuple[Severity, str]]:
        apk = make_apk(manifest_=manifest(permissions=tuple(UsesPermission(P + n) for n in names)))
        return {str(f.subject): (f.severity, f.message.split(" — ")[0]) for f in perm.combination(apk, KB)}

    # sms-interception: RECEIVE_SMS + INTERNET and one of READ_SMS, SEND_SMS
    assert combos("RECEIVE_SMS", "INTERNET") == {}
    assert combos("RECEIVE_SMS", "INTERNET", "SEND_SMS") == {
        "sms-interception": (Severity.HIGH, "sms-interception: RECEIVE_SMS + INTERNET + SEND_SMS"),
        "sms-fraud": (Severity.HIGH, "sms-fraud: SEND_SMS + RECEIVE_SMS"),
    }
    # stalkerware (medium): fine location, internet, boot, and camera or microphone
    assert combos("ACCESS_FINE_LOCATION", "INTERNET", "RECEIVE_BOOT_COMPLETED", "CAMERA") == {
        "stalkerware": (
            Severity.MEDIUM,
            "stalkerware: ACCESS_FINE_LOCATION + INTERNET + RECEIVE_BOOT_COMPLETED + CAMERA",
        )
    }


def test_a_bound_device_admin_component_counts_for_combinations() -> None:
    # device-takeover: BIND_DEVICE_ADMIN (from the app's own receiver) and INSTALL_PACKAGES
    admin = component("org.example.app.A", ComponentKind.RECEIVER, permission=P + "BIND_DEVICE_ADMIN")
    apk = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "INSTALL_PACKAGES"),), components=(admin,))
    )
    assert [f.subject for f in perm.combination(apk, KB)] == ["device-takeover"]
    other = component("org.example.app.A", ComponentKind.RECEIVER, permission="org.example.BIND_X")
    apk = make_apk(
        manifest_=manifest(permissions=(UsesPermission(P + "INSTALL_PACKAGES"),), components=(other,))
    )
    assert list(perm.combination(apk, KB)) == []


def test_weak_custom_permissions_by_protection_level() -> None:
    def found(level: str, *, exported: bool = True, how: str = "permission") -> list[str]:
        c = component("org.example.app.S", ComponentKind.SERVICE, exported=exported, **{how: "org.example.P"})  # type: ignore[arg-type]
        d = DeclaredPermission("org.example.P", level, 0)
        apk = make_apk(manifest_=manifest(components=(c,), declared=(d,)))
        return [f.message for f in perm.weak_custom(apk, KB)]

    msg = (
        "service org.example.app.S is guarded by org.example.P, declared with protection level "
        "'{}' which any app can obtain"
    )
    assert found("") == [msg.format("normal")]
    assert found("normal") == [msg.format("normal")]
    assert found("dangerous|instant") == [msg.format("dangerous|instant")]
    assert found("signature") == []
    assert found("signature|privileged") == []
    assert found("normal", exported=False) == []
    assert found("normal", how="read_permission") == [msg.format("normal")]
    assert found("normal", how="write_permission") == [msg.format("normal")]


def test_privileged_permissions_but_not_the_bind_ones() -> None:
    apk = make_apk(
        manifest_=manifest(
            permissions=tuple(
                UsesPermission(P + n) for n in ("INSTALL_PACKAGES", "BIND_ACCESSIBILITY_SERVICE", "CAMERA")
            )
        )
    )
    (f,) = perm.privileged(apk, KB)
    assert (f.subject, f.message) == (
        P + "INSTALL_PACKAGES",
        "INSTALL_PACKAGES has protection level 'signature|privileged': not grantable to a store app",
    )
    (e,) = f.evidence
    assert (e.value, e.location.entry, e.location.xpath, e.note) == (
        P + "INSTALL_PACKAGES",
        "AndroidManifest.xml",
        "/manifest/uses-permission",
        "signature|privileged",
    )


def test_no_manifest_no_verdicts() -> None:
    apk = make_apk(manifest_=False)
    assert perm.permission_verdicts(apk, KB) == ()
    assert list(perm.weak_custom(apk, KB)) == [] and list(perm.privileged(apk, KB)) == []
    assert list(perm.combination(apk, KB)) == [] and list(perm.not_observed(apk, KB)) == []
