"""IPAs built by the tests (Info.plist, privacy manifests, a provisioning profile and a
Mach-O linked by ld64.lld): each field read back; then hostile variants of each part."""

from __future__ import annotations

import datetime as _dt
import plistlib
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from appveto.errors import IpaError
from appveto.ipa import load_ipa
from appveto.ipa.macho import parse_macho
from appveto.ipa.model import Distribution, Ipa
from tests import ipabuilder as b
from tests.conftest import require_tool

APP = "Payload/Example.app/"

PRIVACY = {
    "NSPrivacyTracking": True,
    "NSPrivacyTrackingDomains": ["ads.example-tracker.com"],
    "NSPrivacyCollectedDataTypes": [
        {
            "NSPrivacyCollectedDataType": "NSPrivacyCollectedDataTypePreciseLocation",
            "NSPrivacyCollectedDataTypeLinked": True,
            "NSPrivacyCollectedDataTypeTracking": True,
            "NSPrivacyCollectedDataTypePurposes": ["NSPrivacyCollectedDataTypePurposeThirdPartyAdvertising"],
        }
    ],
    "NSPrivacyAccessedAPITypes": [
        {
            "NSPrivacyAccessedAPIType": "NSPrivacyAccessedAPICategoryUserDefaults",
            "NSPrivacyAccessedAPITypeReasons": ["CA92.1"],
        }
    ],
}

INFO = {
    "NSLocationAlwaysAndWhenInUseUsageDescription": "We track you everywhere",
    "NSContactsUsageDescription": "Find friends",
    "UIBackgroundModes": ["location", "fetch"],
    "CFBundleURLTypes": [{"CFBundleURLSchemes": ["example", "fb123"]}],
    "LSApplicationQueriesSchemes": ["whatsapp"],
    "SKAdNetworkItems": [{"SKAdNetworkIdentifier": "CSTR6SUWN9.skadnetwork"}],
    "NSAppTransportSecurity": {
        "NSAllowsArbitraryLoads": True,
        "NSExceptionDomains": {
            "legacy.example.com": {
                "NSExceptionAllowsInsecureHTTPLoads": True,
                "NSIncludesSubdomains": True,
                "NSExceptionMinimumTLSVersion": "TLSv1.0",
            }
        },
    },
}


@pytest.fixture(scope="module")
def identity() -> Any:
    return b.make_identity()


@pytest.fixture(scope="module")
def executable(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return b.link_macho(
        tmp_path_factory.mktemp("macho"),
        defined_classes=("GADMobileAds", "FIRApp"),
        imported={"AdSupport": ("ASIdentifierManager",), "CoreLocation": ("CLLocationManager",)},
        strings=("https://api.example-tracker.com/v1/collect", "wss://live.example.org/socket"),
    )


def _ipa(tmp_path: Path, files: dict[str, bytes], name: str = "t.ipa") -> Ipa:
    path = tmp_path / name
    path.write_bytes(b.build_ipa(files))
    return load_ipa(str(path))


def _signed(executable: bytes, identity: Any, *, ents: dict[str, Any] | None = None) -> bytes:
    return b.sign(
        executable,
        identifier="org.example.app",
        team_id="TEAM123456",
        entitlements=ents
        if ents is not None
        else {"get-task-allow": False, "com.apple.developer.associated-domains": ["applinks:example.org"]},
        identity=identity,
    )


def test_every_field_is_read_back(tmp_path: Path, executable: bytes, identity: Any) -> None:
    profile = b.provisioning_profile(
        {
            "Name": "In-house",
            "UUID": "U-1",
            "TeamIdentifier": ["TEAM123456"],
            "TeamName": "Test Org",
            "ExpirationDate": _dt.datetime(2030, 1, 2, 3, 4, 5),
            "ProvisionsAllDevices": True,
            "Entitlements": {"get-task-allow": False, "application-identifier": "TEAM123456.org.example.app"},
            "DeveloperCertificates": [identity[1].public_bytes(b.serialization.Encoding.DER)],
        },
        identity,
    )
    ipa = _ipa(
        tmp_path,
        {
            APP + "Info.plist": b.info_plist(**INFO),
            APP + "Example": _signed(executable, identity),
            APP + "embedded.mobileprovision": profile,
            APP + "PrivacyInfo.xcprivacy": plistlib.dumps(PRIVACY),
            APP + "Frameworks/Ads.framework/Info.plist": b.info_plist(
                CFBundleIdentifier="com.ads", CFBundleExecutable="Ads", CFBundlePackageType="FMWK"
            ),
            APP + "Frameworks/Ads.framework/Ads": b.set_cryptid(executable, 1),
            APP + "Frameworks/Ads.framework/PrivacyInfo.xcprivacy": plistlib.dumps(
                {"NSPrivacyTracking": False}
            ),
        },
    )
    assert ipa.problems == ()
    info = ipa.info
    assert info is not None and (info.bundle_id, info.short_version, info.version, info.minimum_os) == (
        "org.example.app",
        "2.1",
        "42",
        "14.0",
    )
    assert info.device_families == (1, 2)
    assert [(u.key, u.text) for u in info.usage_descriptions] == [
        ("NSContactsUsageDescription", "Find friends"),
        ("NSLocationAlwaysAndWhenInUseUsageDescription", "We track you everywhere"),
    ]
    assert info.background_modes == ("fetch", "location") and info.url_schemes == ("example", "fb123")
    assert info.queried_schemes == ("whatsapp",) and info.skadnetwork_ids == ("cstr6suwn9.skadnetwork",)
    ats = info.transport_security
    assert ats is not None and ats.arbitrary_loads is True
    assert [
        (e.domain, e.allows_insecure_http, e.includes_subdomains, e.minimum_tls) for e in ats.exceptions
    ] == [("legacy.example.com", True, True, "TLSv1.0")]
    prov = ipa.provision
    assert prov is not None and prov.distribution is Distribution.ENTERPRISE and prov.provisions_all_devices
    assert prov.team_ids == ("TEAM123456",) and prov.expiration_date == "2030-01-02T03:04:05Z"
    assert prov.developer_certificates[0].organizational_unit == "TEAM123456"
    assert [c.common_name for c in prov.signer_certificates] == [
        "iPhone Distribution: Test Org (TEAM123456)",
        "Test Worldwide Developer Relations CA",
    ]
    main = ipa.main_binary
    assert main is not None and not main.fat and main.role == "main"
    s = main.slices[0]
    assert (s.cpu, s.file_type, s.pie, s.encrypted, s.stack_canary, s.arc) == (
        "arm64",
        "execute",
        True,
        False,
        True,
        True,
    )
    assert (s.min_os, s.sdk, s.platform) == ("14.0", "17.0", "ios")
    assert "/System/Library/Frameworks/AdSupport.framework/AdSupport" in s.libraries
    assert s.rpaths == ("@executable_path/Frameworks",)
    assert s.objc_classes == ("FIRApp", "GADMobileAds")
    assert s.imported_classes == ("ASIdentifierManager", "CLLocationManager")
    assert s.urls == ("https://api.example-tracker.com/v1/collect", "wss://live.example.org/socket")
    assert s.hosts == ("api.example-tracker.com", "live.example.org")
    sig = ipa.code_signature
    assert sig is not None and (sig.identifier, sig.team_id, sig.hash_type) == (
        "org.example.app",
        "TEAM123456",
        "sha256",
    )
    assert sig.certificates[0].organizational_unit == "TEAM123456" and not sig.ad_hoc
    assert ipa.entitlements is not None and ipa.entitlements.get(
        "com.apple.developer.associated-domains"
    ) == ("applinks:example.org",)
    fw = ipa.binaries[0]
    # encrypted: no string is read from the encrypted range; the symbol table lies outside it
    assert fw.role == "framework" and fw.encrypted and fw.slices[0].urls == ()
    assert fw.slices[0].objc_classes == ("FIRApp", "GADMobileAds")
    assert [(m.bundle, m.tracking) for m in ipa.privacy_manifests] == [
        ("", True),
        ("Frameworks/Ads.framework", False),
    ]
    app_manifest = ipa.privacy_manifests[0]
    assert app_manifest.tracking_domains == ("ads.example-tracker.com",)
    assert [(c.type, c.linked, c.tracking, c.purposes) for c in app_manifest.collected] == [
        (
            "NSPrivacyCollectedDataTypePreciseLocation",
            True,
            True,
            ("NSPrivacyCollectedDataTypePurposeThirdPartyAdvertising",),
        )
    ]
    assert [(a.category, a.reasons) for a in app_manifest.accessed_apis] == [
        ("NSPrivacyAccessedAPICategoryUserDefaults", ("CA92.1",))
    ]


def test_built_macho_agrees_with_llvm_objdump(tmp_path: Path, executable: bytes, identity: Any) -> None:
    objdump = require_tool("llvm-objdump")
    data = _signed(b.set_cryptid(executable, 1), identity)
    (tmp_path / "bin").write_bytes(data)
    out = subprocess.run(
        [objdump, "--macho", "--private-headers", str(tmp_path / "bin")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "cryptid 1" in out and "cmd LC_CODE_SIGNATURE" in out
    s = parse_macho(data, file="f", entry="e", role="main").slices[0]
    assert s.encrypted is True and s.code_signature is not None
    assert "name /System/Library/Frameworks/CoreLocation.framework/CoreLocation (offset 24)" in out
    assert "/System/Library/Frameworks/CoreLocation.framework/CoreLocation" in s.libraries


def test_ad_hoc_and_other_distributions(tmp_path: Path, executable: bytes, identity: Any) -> None:
    unsigned = b.sign(executable, identifier="x", team_id=None, entitlements=None, identity=None)
    sig = parse_macho(unsigned, file="f", entry="e", role="main").slices[0].code_signature
    assert sig is not None and sig.ad_hoc and sig.team_id is None and sig.entitlements is None
    for fields, kind in [
        (
            {"ProvisionedDevices": ["a" * 40], "Entitlements": {"get-task-allow": True}},
            Distribution.DEVELOPMENT,
        ),
        ({"ProvisionedDevices": ["a" * 40], "Entitlements": {"get-task-allow": False}}, Distribution.AD_HOC),
        ({"Entitlements": {}}, Distribution.APP_STORE),
    ]:
        ipa = _ipa(
            tmp_path,
            {
                APP + "Info.plist": b.info_plist(),
                APP + "embedded.mobileprovision": b.provisioning_profile(fields, identity),
            },
        )
        assert ipa.provision is not None and ipa.provision.distribution is kind


def test_fat_binaries_and_their_hostile_headers(executable: bytes) -> None:
    arm64 = (0x0100000C, 0)
    good = b.fat((*arm64, executable), (*arm64, executable))
    assert [s.cpu for s in parse_macho(good, file="f", entry="e", role="main").slices] == ["arm64", "arm64"]
    # a second slice that overlaps the first: read the first, say why the second is not
    overlap = bytearray(good)
    struct.pack_into(">I", overlap, 8 + 20 + 8, 0x4000 + 16)
    m = parse_macho(bytes(overlap), file="f", entry="e", role="main")
    assert len(m.slices) == 1 and any("overlaps" in p for p in m.slices[0].problems)
    # every slice outside the file: a located error
    outside = bytearray(good)
    for i in range(2):
        struct.pack_into(">I", outside, 8 + 20 * i + 8, 0x7FFF0000)
    with pytest.raises(IpaError, match="no readable slice"):
        parse_macho(bytes(outside), file="f", entry="e", role="main")
    with pytest.raises(IpaError, match="architectures"):
        parse_macho(struct.pack(">II", 0xCAFEBABE, 5000) + b"\x00" * 64, file="f", entry="e", role="main")


def test_load_commands_pointing_outside_the_file(executable: bytes, identity: Any) -> None:
    signed = _signed(executable, identity)
    for cmd_kind, field_at, value, words in [
        (0x1D, 8, 0x7FFFFFF0, "code signature"),
        (0x2C, 8, 0x7FFFFFF0, "encryption range"),
        (0x19, 40, 0x7FFFFFF0, "past the"),
    ]:
        buf = bytearray(signed)
        for pos, cmd, _ in b.load_commands(signed):
            if cmd == cmd_kind:
                struct.pack_into("<I", buf, pos + field_at, value)
                break
        try:
            m = parse_macho(bytes(buf), file="f.ipa", entry="e", role="main")
        except IpaError as exc:
            assert exc.diagnostics()[0].entry == "e"
            continue
        assert any(words in p for p in m.slices[0].problems), m.slices[0].problems
    # a command whose size runs past the load-command area
    buf = bytearray(signed)
    pos = b.load_commands(signed)[3][0]
    struct.pack_into("<I", buf, pos + 4, 0xFFFF0)
    with pytest.raises(IpaError) as info:
        parse_macho(bytes(buf), file="f.ipa", entry="e", role="main")
    assert info.value.diagnostics()[0].offset == pos


@pytest.mark.parametrize("cut", [4, 27, 100, 600])
def test_truncated_macho_is_a_problem_not_a_traceback(tmp_path: Path, executable: bytes, cut: int) -> None:
    ipa = _ipa(tmp_path, {APP + "Info.plist": b.info_plist(), APP + "Example": executable[:cut]})
    assert ipa.main_binary is None
    assert [p.entry for p in ipa.problems if p.part == "macho"] == [APP + "Example"]


def test_hostile_plists_in_an_ipa_are_problems(tmp_path: Path) -> None:
    cycle = b"bplist00\xa1\x00" + struct.pack(">I", 8) + struct.pack(">6xBBQQQ", 4, 1, 1, 0, 10)
    ipa = _ipa(tmp_path, {APP + "Info.plist": cycle, APP + "PrivacyInfo.xcprivacy": b"<plist><dict><key>"})
    parts = {(p.part, p.entry): p.message for p in ipa.problems}
    assert "cycle" in parts[("info-plist", APP + "Info.plist")]
    assert "not a readable property list" in parts[("privacy", APP + "PrivacyInfo.xcprivacy")]
    assert ipa.info is None and ipa.privacy_manifests == ()


def test_zip_bombs_are_located_errors(tmp_path: Path) -> None:
    # an Info.plist that inflates to 64 MiB of zeros (over the 8 MiB a plist may take)
    buf = tmp_path / "bomb.ipa"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(APP + "Info.plist", b"\x00" * (64 << 20))
    ipa = load_ipa(str(buf))
    [problem] = [p for p in ipa.problems if p.part == "info-plist"]
    assert problem.entry == APP + "Info.plist" and "limit" in problem.message
    # a central directory that declares 5 GiB in all: refused at open, naming the file
    data = bytearray(b.build_ipa({APP + "Info.plist": b.info_plist(), APP + "Example": b"x" * 100}))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 5 << 30 & 0xFFFFFFFF or 0xFFFFFFF0)
    (tmp_path / "big.ipa").write_bytes(bytes(data))
    with pytest.raises(IpaError) as info:
        for _ in range(2):
            struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, 0xFFFFFFF0)
        (tmp_path / "big.ipa").write_bytes(bytes(data))
        load_ipa(str(tmp_path / "big.ipa"))
    assert info.value.diagnostics()[0].file == str(tmp_path / "big.ipa")
