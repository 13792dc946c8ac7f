"""Every check ID has a positive and a negative test on built Apk objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from appveto.apk.model import (
    ApkProblem,
    Application,
    ComponentKind,
    DeclaredPermission,
    DexLocation,
    EmbeddedDex,
    SigningScheme,
    Tampering,
    TamperKind,
)
from appveto.checks.registry import Platform, Status, all_checks, get_check
from appveto.kb import load_baseline
from tests.apkbuilder import _Element, build_axml
from tests.checks.factory import component, dex, dn, make_apk, manifest, native, perm, signer

KB = load_baseline().at(datetime(2026, 11, 29, tzinfo=UTC))
SMS = "Landroid/telephony/SmsManager;"
CR = "Landroid/content/ContentResolver;"
QUERY = (CR, "query", "(Landroid/net/Uri;)Landroid/database/Cursor;")
NSC = "res/xml/network_security_config.xml"


def _nsc(*children: _Element) -> bytes:
    return build_axml(_Element("network-security-config", [], list(children)))


def _with_nsc(xml: bytes):  # type: ignore[no-untyped-def]
    app = Application(allow_backup=False, uses_cleartext_traffic=False, network_security_config=NSC)
    return make_apk(manifest_=manifest(application=app), files={"AndroidManifest.xml": b"x", NSC: xml})


def _tamper(kind: TamperKind):  # type: ignore[no-untyped-def]
    return make_apk(tampering=(Tampering(kind, "classes.dex", 16, "test"),))


CLEAN = make_apk
Case = tuple[Callable[[], object], Callable[[], object]]

CASES: dict[str, Case] = {
    # ---------------------------------------------------------------- MAN
    "AV-MAN-001": (
        lambda: make_apk(manifest_=manifest(application=Application(debuggable=True, allow_backup=False))),
        CLEAN,
    ),
    "AV-MAN-002": (
        lambda: make_apk(manifest_=manifest(application=Application(test_only=True, allow_backup=False))),
        CLEAN,
    ),
    "AV-MAN-003": (lambda: make_apk(manifest_=manifest(application=Application(allow_backup=True))), CLEAN),
    "AV-MAN-004": (
        lambda: make_apk(
            manifest_=manifest(
                components=(component("org.example.app.S", ComponentKind.SERVICE, exported=True),)
            )
        ),
        lambda: make_apk(
            manifest_=manifest(
                components=(
                    component(
                        "org.example.app.S", ComponentKind.SERVICE, exported=True, permission="org.example.P"
                    ),
                    component(
                        "org.example.app.Main",
                        exported=True,
                        actions=("android.intent.action.MAIN",),
                        categories=("android.intent.category.LAUNCHER",),
                    ),
                )
            )
        ),
    ),
    "AV-MAN-005": (
        lambda: make_apk(
            manifest_=manifest(application=Application(allow_backup=False, uses_cleartext_traffic=True))
        ),
        CLEAN,
    ),
    "AV-MAN-006": (lambda: make_apk(manifest_=manifest(target_sdk=22)), CLEAN),
    "AV-MAN-007": (lambda: make_apk(manifest_=manifest(shared_user_id="android.uid.system")), CLEAN),
    "AV-MAN-008": (lambda: make_apk(manifest_=False), CLEAN),
    # --------------------------------------------------------------- PERM
    "AV-PERM-001": (
        lambda: make_apk(manifest_=manifest(permissions=perm("READ_CONTACTS"))),
        lambda: make_apk(
            manifest_=manifest(permissions=perm("READ_CONTACTS")),
            dex_files=(dex(strings=("content://com.android.contacts/data",), methods=(QUERY,)),),
        ),
    ),
    "AV-PERM-002": (
        lambda: make_apk(
            manifest_=manifest(permissions=perm("READ_SMS")),
            files={"AndroidManifest.xml": b"x", "lib/armeabi/libjiagu.so": b"\x7fELF"},
        ),
        lambda: make_apk(manifest_=manifest(permissions=perm("READ_SMS"))),
    ),
    "AV-PERM-003": (
        lambda: make_apk(
            manifest_=manifest(permissions=perm("SEND_SMS")),
            dex_files=(dex(methods=((SMS, "sendTextMessage", "(Ljava/lang/String;)V"),)),),
        ),
        lambda: make_apk(manifest_=manifest(permissions=perm("SEND_SMS"))),
    ),
    "AV-PERM-003-reflection": (
        lambda: make_apk(
            manifest_=manifest(permissions=perm("SEND_SMS")),
            dex_files=(
                dex(
                    strings=("android.telephony.SmsManager", "sendTextMessage"),
                    methods=(("Ljava/lang/reflect/Method;", "invoke", "(Ljava/lang/Object;)V"),),
                ),
            ),
        ),
        lambda: make_apk(
            manifest_=manifest(permissions=perm("SEND_SMS")),
            dex_files=(dex(strings=("android.telephony.SmsManager", "sendTextMessage")),),
        ),
    ),
    "AV-PERM-004": (
        lambda: make_apk(manifest_=manifest(permissions=perm("RECEIVE_SMS", "READ_SMS", "INTERNET"))),
        lambda: make_apk(manifest_=manifest(permissions=perm("READ_SMS"))),
    ),
    "AV-PERM-005": (
        lambda: make_apk(
            manifest_=manifest(
                declared=(DeclaredPermission("org.example.P", "normal", 0),),
                components=(
                    component(
                        "org.example.app.S", ComponentKind.SERVICE, exported=True, permission="org.example.P"
                    ),
                ),
            )
        ),
        lambda: make_apk(
            manifest_=manifest(
                declared=(DeclaredPermission("org.example.P", "signature", 2),),
                components=(
                    component(
                        "org.example.app.S", ComponentKind.SERVICE, exported=True, permission="org.example.P"
                    ),
                ),
            )
        ),
    ),
    "AV-PERM-006": (
        lambda: make_apk(manifest_=manifest(permissions=perm("INSTALL_PACKAGES"))),
        lambda: make_apk(manifest_=manifest(permissions=perm("INTERNET"))),
    ),
    # ---------------------------------------------------------------- OBF
    "AV-OBF-001": (
        lambda: make_apk(files={"AndroidManifest.xml": b"x", "lib/armeabi/libSecShell.so": b"\x7fELF"}),
        CLEAN,
    ),
    "AV-OBF-002": (
        lambda: make_apk(dex_files=(dex(classes=tuple(f"Lorg/example/{c};" for c in "abcdefgh")),)),
        lambda: make_apk(dex_files=(dex(classes=tuple(f"Lorg/example/Widget{c};" for c in "ABCDEFGH")),)),
    ),
    "AV-OBF-003": (
        lambda: make_apk(dex_files=(dex(strings=("com.github.megatronking.stringfog.IStringFog",)),)),
        CLEAN,
    ),
    "AV-OBF-004": (
        lambda: make_apk(
            dex_files=(dex(methods=(("Ljava/lang/reflect/Method;", "invoke", "(Ljava/lang/Object;)V"),)),)
        ),
        CLEAN,
    ),
    "AV-OBF-005": (
        lambda: make_apk(
            dex_files=(dex(methods=(("Ldalvik/system/DexClassLoader;", "<init>", "(Ljava/lang/String;)V"),)),)
        ),
        CLEAN,
    ),
    "AV-OBF-006": (
        lambda: make_apk(
            embedded_dex=(EmbeddedDex("assets/payload.dex", DexLocation.ASSET, 4096, parsed=True),)
        ),
        lambda: make_apk(embedded_dex=(EmbeddedDex("classes2.dex", DexLocation.PRIMARY, 4096, parsed=True),)),
    ),
    "AV-OBF-007": (lambda: make_apk(native_libs=(native(jni_exports=("JNI_OnLoad",)),)), CLEAN),
    "AV-OBF-008": (lambda: make_apk(dex_files=(dex(strings=("/system/xbin/su",)),)), CLEAN),
    "AV-OBF-009": (
        lambda: make_apk(
            native_libs=(
                native(comment=("Obfuscator-LLVM clang version 4.0.1 (based on Obfuscator-LLVM 4.0.1)",)),
            )
        ),
        lambda: make_apk(
            native_libs=(native(comment=("Android (8490178 based on r450784d) clang version 14.0.6",)),)
        ),
    ),
    "AV-OBF-010": (
        lambda: make_apk(files={"AndroidManifest.xml": b"x", "lib/armeabi/libSecShell.so": b"\x7fELF"}),
        CLEAN,
    ),
    "AV-OBF-011": (
        lambda: make_apk(
            manifest_=manifest(components=(component("org.example.app.Hidden", ComponentKind.SERVICE),))
        ),
        lambda: make_apk(manifest_=manifest(components=(component("org.example.app.MainActivity"),))),
    ),
    # ---------------------------------------------------------------- TRK
    "AV-TRK-001": (
        lambda: make_apk(
            dex_files=(
                dex(classes=("Lorg/example/app/MainActivity;", "Lcom/facebook/appevents/AppEventsLogger;")),
            )
        ),
        CLEAN,
    ),
    "AV-TRK-002": (
        lambda: make_apk(dex_files=(dex(strings=("https://mobile.smartadserver.com/ac",)),)),
        CLEAN,
    ),
    "AV-TRK-003": (
        lambda: make_apk(files={"AndroidManifest.xml": b"x", "lib/armeabi/libSecShell.so": b"\x7fELF"}),
        CLEAN,
    ),
    # ---------------------------------------------------------------- NET
    "AV-NET-001": (
        lambda: make_apk(dex_files=(dex(strings=("http://api.example-tracker.net/collect",)),)),
        lambda: make_apk(
            dex_files=(dex(strings=("https://api.example-tracker.net/collect", "http://192.168.1.1/")),)
        ),
    ),
    "AV-NET-002": (
        lambda: make_apk(dex_files=(dex(strings=("http://185.62.190.12:8080/gate.php",)),)),
        lambda: make_apk(dex_files=(dex(strings=("http://10.0.2.2:8080/debug",)),)),
    ),
    "AV-NET-003": (
        lambda: _with_nsc(_nsc(_Element("base-config", [(None, "cleartextTrafficPermitted", True)]))),
        lambda: _with_nsc(_nsc(_Element("base-config", [(None, "cleartextTrafficPermitted", False)]))),
    ),
    "AV-NET-004": (
        lambda: _with_nsc(
            _nsc(
                _Element(
                    "base-config",
                    [],
                    [_Element("trust-anchors", [], [_Element("certificates", [(None, "src", "user")])])],
                )
            )
        ),
        lambda: _with_nsc(
            _nsc(
                _Element(
                    "base-config",
                    [],
                    [_Element("trust-anchors", [], [_Element("certificates", [(None, "src", "system")])])],
                )
            )
        ),
    ),
    "AV-NET-005": (
        lambda: _with_nsc(
            _nsc(
                _Element(
                    "domain-config",
                    [],
                    [
                        _Element(
                            "pin-set",
                            [(None, "expiration", "2018-01-01")],
                            [_Element("pin", [(None, "digest", "SHA-256")])],
                        )
                    ],
                )
            )
        ),
        lambda: _with_nsc(_nsc(_Element("base-config", []))),
    ),
    # ---------------------------------------------------------------- JUR
    "AV-JUR-001": (
        lambda: make_apk(dex_files=(dex(strings=("https://log.tiktokv.com/service/2/app_log/",)),)),
        CLEAN,
    ),
    "AV-JUR-002": (
        lambda: make_apk(
            dex_files=(
                dex(classes=("Lorg/example/app/MainActivity;", "Lcom/bytedance/sdk/openadsdk/TTAdSdk;")),
            )
        ),
        CLEAN,
    ),
    "AV-JUR-003": (
        lambda: make_apk(files={"AndroidManifest.xml": b"x", "lib/armeabi/libSecShell.so": b"\x7fELF"}),
        lambda: make_apk(
            files={"AndroidManifest.xml": b"x", "lib/armeabi/libSecShell.so": b"\x7fELF"},
            dex_files=(dex(strings=("https://log.tiktokv.com/service/2/app_log/",)),),
        ),
    ),
    # ---------------------------------------------------------------- SIG
    "AV-SIG-001": (
        lambda: make_apk(signers=(signer(subject=dn(cn="Android Debug", o="Android", c="US")),)),
        CLEAN,
    ),
    "AV-SIG-002": (
        lambda: make_apk(
            signers=(
                signer(
                    subject=dn(
                        cn="Android",
                        o="Android",
                        c="US",
                        organizational_unit="Android",
                        locality="Mountain View",
                    )
                ),
            )
        ),
        CLEAN,
    ),
    "AV-SIG-003": (lambda: make_apk(signers=(signer(schemes=(SigningScheme.V1,)),)), CLEAN),
    "AV-SIG-004": (lambda: make_apk(signers=(signer(key_size=1024),)), CLEAN),
    "AV-SIG-005": (lambda: make_apk(signers=(signer(signature_algorithm="sha1WithRSAEncryption"),)), CLEAN),
    "AV-SIG-006": (lambda: make_apk(signers=(signer(not_after="2014-03-01T00:00:00+00:00"),)), CLEAN),
    "AV-SIG-007": (lambda: make_apk(signers=()), CLEAN),
    "AV-SIG-008": (CLEAN, lambda: make_apk(signers=())),
    "AV-SIG-009": (
        lambda: make_apk(signing_problems=("v2 digest of the ZIP contents does not match",)),
        CLEAN,
    ),
    # --------------------------------------------------------------- TAMP
    "AV-TAMP-001": (lambda: _tamper(TamperKind.DATA_BEFORE_ARCHIVE), CLEAN),
    "AV-TAMP-002": (
        lambda: _tamper(TamperKind.BAD_COMPRESSION_METHOD),
        lambda: _tamper(TamperKind.DATA_DESCRIPTOR),
    ),
    "AV-TAMP-003": (lambda: _tamper(TamperKind.PATH_TRAVERSAL), CLEAN),
    "AV-TAMP-004": (lambda: _tamper(TamperKind.TRAILING_DATA), lambda: _tamper(TamperKind.DATA_DESCRIPTOR)),
    "AV-TAMP-005": (lambda: _tamper(TamperKind.MANIFEST_ANOMALY), CLEAN),
    "AV-TAMP-006": (lambda: make_apk(dex_files=(dex(anomalies=("header_size is 6880, not 0x70",)),)), CLEAN),
    "AV-TAMP-007": (
        lambda: make_apk(problems=(ApkProblem("dex", "string table runs past the end", "classes2.dex", 64),)),
        CLEAN,
    ),
}


def _ids(apk: object, cid: str) -> list[str]:
    spec = get_check(cid.split("-reflection")[0])
    assert spec is not None and spec.func is not None
    return [f.check_id for f in spec.func(apk, KB)]  # type: ignore[arg-type]


def test_every_active_check_has_a_positive_and_a_negative_case() -> None:
    # APK checks; the iOS checks' cases are in tests/checks/test_ios.py
    active = {c.id for c in all_checks() if c.status is Status.ACTIVE and c.platform is Platform.ANDROID}
    cases = {c.split("-reflection")[0] for c in CASES}
    assert active == cases, f"missing: {sorted(active - set(CASES))}, unknown: {sorted(set(CASES) - active)}"


@pytest.mark.parametrize("cid", sorted(CASES))
def test_positive(cid: str) -> None:
    found = _ids(CASES[cid][0](), cid)
    assert found, f"{cid} did not fire on its positive case"
    assert set(found) == {cid.split("-reflection")[0]}


@pytest.mark.parametrize("cid", sorted(CASES))
def test_negative(cid: str) -> None:
    assert _ids(CASES[cid][1](), cid) == [], f"{cid} fired on its negative case"


@pytest.mark.parametrize("cid", sorted(CASES))
def test_findings_carry_evidence(cid: str) -> None:
    spec = get_check(cid.split("-reflection")[0])
    assert spec is not None and spec.func is not None
    for f in spec.func(CASES[cid][0](), KB):  # type: ignore[arg-type]
        assert f.evidence, f"{cid}: finding without evidence: {f.message}"
        assert f.slug == spec.slug and f.title == spec.title


def test_encrypted_payload_in_assets_is_hidden_code() -> None:
    import random

    blob = random.Random(7).randbytes(100_000)
    ids = _ids(make_apk(files={"AndroidManifest.xml": b"x", "assets/payload.bin": blob}), "AV-OBF-006")
    assert ids == ["AV-OBF-006"]
    # the same bytes with a plain DEX header are named as a DEX stored under another name
    dex_like = b"dex\n035\x00" + blob
    spec = get_check("AV-OBF-006")
    assert spec is not None and spec.func is not None
    notes = [
        f.message
        for f in spec.func(make_apk(files={"AndroidManifest.xml": b"x", "assets/x.dat": dex_like}), KB)
    ]
    assert any("plain DEX" in m for m in notes)
    # low-entropy data and media by extension are not
    assert (
        _ids(make_apk(files={"AndroidManifest.xml": b"x", "assets/data.bin": b"abcd" * 30_000}), "AV-OBF-006")
        == []
    )
    assert _ids(make_apk(files={"AndroidManifest.xml": b"x", "assets/song.ogg": blob}), "AV-OBF-006") == []
