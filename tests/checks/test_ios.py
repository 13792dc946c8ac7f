"""iOS checks on built model objects: each ID has a positive and a negative test; the
knowledge tables are validated; the corpus IPAs give the expected findings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from appveto.checks.ios import coverage, run_ios_checks, sdk_inventory
from appveto.checks.registry import Family, Platform, all_checks, ios_checks
from appveto.errors import KnowledgeBaseError
from appveto.ipa.model import (
    AtsDomainException,
    BundleInfo,
    CodeSignature,
    CollectedDataType,
    Distribution,
    EmbeddedBundle,
    Entitlements,
    Ipa,
    IpaProblem,
    MachOFile,
    MachOSlice,
    PlistDict,
    PrivacyManifest,
    ProvisioningProfile,
    TransportSecurity,
    UsageDescription,
)
from appveto.kb import load_baseline
from appveto.kb.ios import IOS_TABLES, parse_ios_tables

KB = load_baseline()
APP = "Payload/A.app/"


def info(**kw: Any) -> BundleInfo:
    base = BundleInfo(
        entry=APP + "Info.plist",
        bundle_id="org.a",
        name="A",
        display_name=None,
        executable="A",
        short_version="1",
        version="1",
        minimum_os="15.0",
        device_families=(1,),
        platform="iphoneos",
        sdk=None,
        package_type="APPL",
    )
    return replace(base, **kw)


def slice_(**kw: Any) -> MachOSlice:
    base = MachOSlice(
        cpu="arm64",
        offset=0,
        size=100,
        file_type="execute",
        pie=True,
        encrypted=False,
        crypt_offset=None,
        crypt_size=None,
        stack_canary=True,
        arc=True,
        min_os="15.0",
        sdk="17.0",
        platform="ios",
        libraries=("/usr/lib/libSystem.B.dylib",),
        weak_libraries=(),
        rpaths=(),
        objc_classes=("AppDelegate",),
        imported_classes=(),
        swift=False,
        urls=(),
        hosts=(),
        code_signature=None,
    )
    return replace(base, **kw)


def binary(*slices: MachOSlice, entry: str = APP + "A", role: str = "main") -> MachOFile:
    return MachOFile(entry=entry, role=role, size=100, fat=len(slices) > 1, slices=slices or (slice_(),))


def profile(kind: Distribution, devices: int = 0) -> ProvisioningProfile:
    return ProvisioningProfile(
        entry=APP + "embedded.mobileprovision",
        name="P",
        uuid="u",
        app_id_name=None,
        team_ids=("TEAM",),
        team_name="Team",
        platforms=("iOS",),
        creation_date=None,
        expiration_date=None,
        entitlements=Entitlements("provisioning-profile"),
        provisioned_devices=("d",) * devices,
        provisions_all_devices=kind is Distribution.ENTERPRISE,
        developer_certificates=(),
        signer_certificates=(),
        distribution=kind,
    )


def ipa(**kw: Any) -> Ipa:
    base = Ipa(
        path="a.ipa",
        size=1,
        sha256="0",
        sha1="0",
        md5="0",
        entries=(),
        tampering=(),
        app_path=APP[:-1],
        info=info(),
        provision=None,
        main_binary=binary(),
        binaries=(),
        bundles=(),
        privacy_manifests=(),
        xcent=None,
        problems=(),
        archive=None,
    )  # type: ignore[arg-type]
    return replace(base, **kw)


def ids(app: Ipa) -> list[str]:
    found, failures = run_ios_checks(app, KB)
    assert failures == ()
    return [f.check_id for f in found]


def test_registry_holds_the_ios_family_apart_from_apk_scans() -> None:
    checks = ios_checks()
    assert len(checks) >= 9 and all(c.family is Family.IOS and c.platform is Platform.IOS for c in checks)
    assert all(c.func is None for c in checks)  # scan_apk's loop skips them
    assert all(c.platform is Platform.ANDROID for c in all_checks() if c.family is not Family.IOS)


def test_a_plain_app_store_app_has_no_finding() -> None:
    assert ids(ipa()) == []


@pytest.mark.parametrize(
    ("cid", "positive", "negative"),
    [
        (
            "AV-IOS-001",
            {"provision": profile(Distribution.ENTERPRISE)},
            {"provision": profile(Distribution.APP_STORE)},
        ),
        (
            "AV-IOS-002",
            {"provision": profile(Distribution.AD_HOC, 3)},
            {"provision": profile(Distribution.ENTERPRISE)},
        ),
        (
            "AV-IOS-003",
            {"info": info(usage_descriptions=(UsageDescription("NSContactsUsageDescription", "Friends"),))},
            {"info": info(usage_descriptions=(UsageDescription("NSFaceIDUsageDescription", "Log in"),))},
        ),
        (
            "AV-IOS-004",
            {"main_binary": binary(slice_(objc_classes=("GADMobileAds", "AppDelegate")))},
            {"main_binary": binary(slice_(objc_classes=("GADGETView", "Gadfly")))},
        ),
        ("AV-IOS-005", {"info": info(skadnetwork_ids=("cstr6suwn9.skadnetwork",))}, {"info": info()}),
        (
            "AV-IOS-006",
            {"info": info(transport_security=TransportSecurity(arbitrary_loads=True))},
            {
                "info": info(
                    transport_security=TransportSecurity(
                        arbitrary_loads=False,
                        exceptions=(AtsDomainException("a.example", False, True, "TLSv1.2", True),),
                    )
                )
            },
        ),
        (
            "AV-IOS-007",
            {"main_binary": binary(slice_(encrypted=True))},
            {"main_binary": binary(slice_(encrypted=False))},
        ),
        ("AV-IOS-008", {"main_binary": binary(slice_(pie=False))}, {"main_binary": binary(slice_(pie=True))}),
        (
            "AV-IOS-009",
            {
                "main_binary": binary(
                    slice_(libraries=("/System/Library/Frameworks/Contacts.framework/Contacts",))
                )
            },
            {"main_binary": binary(slice_(libraries=("/System/Library/Frameworks/UIKit.framework/UIKit",)))},
        ),
    ],
)
def test_each_check_positive_and_negative(
    cid: str, positive: dict[str, Any], negative: dict[str, Any]
) -> None:
    assert cid in ids(ipa(**positive))
    assert cid not in ids(ipa(**negative))


def test_every_ios_check_has_a_parametrized_test() -> None:
    tested = {"AV-IOS-00" + str(i) for i in range(1, 10)}
    assert {c.id for c in ios_checks()} == tested


def test_findings_carry_the_user_text_vendor_and_jurisdiction() -> None:
    app = ipa(
        info=info(
            usage_descriptions=(UsageDescription("NSLocationAlwaysAndWhenInUseUsageDescription", "Always"),),
            background_modes=("location",),
            skadnetwork_ids=("v9wttpbfk9.skadnetwork", "zzz.skadnetwork"),
        ),
        bundles=(EmbeddedBundle(APP + "Frameworks/BUAdSDK.framework", "framework", "BUAdSDK", None),),
        privacy_manifests=(
            PrivacyManifest(
                APP + "PrivacyInfo.xcprivacy",
                "",
                True,
                ("t.example",),
                (CollectedDataType("NSPrivacyCollectedDataTypeEmailAddress", True, True, ()),),
                (),
            ),
        ),
    )
    found, _ = run_ios_checks(app, KB)
    text = "\n".join(f.message for f in found)
    assert '"Always"' in text and "ACCESS_BACKGROUND_LOCATION" in text and "background" in text
    assert "Pangle by ByteDance Ltd. (CN)" in text
    assert "Meta Audience Network (Meta Platforms, Inc. (US))" in text and "zzz.skadnetwork" in text
    assert "NSPrivacyCollectedDataTypeEmailAddress" in text


def test_debuggable_signature_is_high() -> None:
    sig = CodeSignature(
        identifier="org.a",
        team_id="T",
        cd_version=0x20400,
        cd_flags=0,
        hash_type="sha256",
        blob_types=(0, 5),
        entitlements=Entitlements("code-signature", PlistDict((("get-task-allow", True),))),
        has_der_entitlements=False,
        has_cms=False,
        certificates=(),
    )
    found, _ = run_ios_checks(ipa(main_binary=binary(slice_(code_signature=sig))), KB)
    assert [(f.check_id, f.severity.value) for f in found] == [("AV-IOS-002", "high")]


def test_unreadable_code_is_said_plainly() -> None:
    app = ipa(main_binary=None, problems=(IpaProblem("macho", "not a Mach-O", APP + "A"),))
    cov = coverage(app)
    assert not cov.code_readable and "undeterminable" in cov.summary()
    assert "AV-IOS-007" in ids(app)
    assert sdk_inventory(app, KB) == ()
    enc = coverage(ipa(main_binary=binary(slice_(encrypted=True))))
    assert not enc.code_readable and "FairPlay" in enc.summary()


def test_swift_module_names_match_sdk_frameworks() -> None:
    app = ipa(main_binary=binary(slice_(objc_classes=("_TtC12AppsFlyerLib9SomeClass",))))
    assert [m.tracker.id for m in sdk_inventory(app, KB)] == ["ios-appsflyer"]


def test_ios_tables_are_valid_and_their_vendors_are_known_entities() -> None:
    ios = KB.ios
    assert {d.name for d in ios.datasets} == {
        "appveto-baseline-ios-usage",
        "appveto-baseline-ios-frameworks",
        "appveto-baseline-ios-trackers",
        "appveto-baseline-ios-skadnetwork",
    }
    assert all(d.source and d.licence == "Apache-2.0" and d.date for d in ios.datasets)
    for vendor in [t.vendor for t in ios.trackers] + [a.vendor for a in ios.ad_networks]:
        assert KB.entity_named(vendor) is not None, vendor
    assert len({t.id for t in ios.trackers}) == len(ios.trackers)
    assert len({u.key for u in ios.usage_keys}) == len(ios.usage_keys)
    assert len(IOS_TABLES) == 4


@pytest.mark.parametrize(
    ("file", "data", "words"),
    [
        (
            "ios_usage.json",
            b'{"usage": [{"key": "NSCamera", "capability": "c"}]}',
            "not a usage-description key",
        ),
        (
            "ios_usage.json",
            b'{"usage": [{"key": "NSCameraUsageDescription", "capability": "c", "sensitive": 1}]}',
            "true or false",
        ),
        (
            "ios_trackers.json",
            b'{"trackers": [{"id": "x", "name": "x", "vendor": "v", "classes": ["A"]}]}',
            "3+",
        ),
        (
            "ios_skadnetwork.json",
            b'{"networks": [{"id": "abc", "network": "n", "vendor": "v", "source": "s"}]}',
            "SKAdNetwork",
        ),
        ("ios_other.json", b"{}", "not one of"),
        ("ios_usage.json", b"{", "invalid JSON"),
    ],
)
def test_bad_ios_tables_are_located_errors(file: str, data: bytes, words: str) -> None:
    with pytest.raises(KnowledgeBaseError) as info_:
        parse_ios_tables({file: data})
    assert words in str(info_.value) and file in str(info_.value)


CORPUS_FINDINGS = {
    "owasp-uncrackable-ios-l1.ipa": {"AV-IOS-001"},
    "owasp-uncrackable-ios-l2.ipa": {"AV-IOS-002"},
    "mobsf-helloworld.ipa": {"AV-IOS-001", "AV-IOS-008"},
    "fastlane-very-capable-app.ipa": {"AV-IOS-002", "AV-IOS-003", "AV-IOS-008", "AV-IOS-009"},
    "fdroid-fake-ipaapp.ipa": {"AV-IOS-003", "AV-IOS-007"},
    "fastlane-incorrectly-signed.ipa": {"AV-IOS-007"},
    "fastlane-no-app-bundle.ipa": set(),
}


@pytest.mark.parametrize("name", sorted(CORPUS_FINDINGS))
def test_corpus_ipas_give_the_expected_findings(name: str) -> None:
    from appveto.ipa import load_ipa
    from tests.conftest import require_shared

    app = load_ipa(str(require_shared("corpus/ipa") / name))
    found, failures = run_ios_checks(app, KB)
    assert failures == ()
    assert {f.check_id for f in found} == CORPUS_FINDINGS[name]
