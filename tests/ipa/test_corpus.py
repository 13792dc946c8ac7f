"""The 8 IPAs of ../shared/corpus/ipa: per-file expectations, each fact cross-checked
against an independent reader (plistlib over zipfile for plists, openssl for CMS,
llvm-objdump for Mach-O load commands)."""

from __future__ import annotations

import plistlib
import re
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from appveto.errors import IpaError
from appveto.ipa import load_ipa
from appveto.ipa.model import Distribution, Ipa
from tests.conftest import SHARED, require_shared, require_tool

IPA_DIR = SHARED / "corpus" / "ipa"

# file -> (bundle id, short version, minimum OS, distribution or None, devices, team, main binary cpus)
EXPECTED: dict[
    str, tuple[str | None, str | None, str | None, Distribution | None, int, str | None, tuple[str, ...]]
] = {
    "owasp-uncrackable-ios-l1.ipa": (
        "sg.vp.UnCrackable1",
        "1.0",
        "8.0",
        Distribution.ENTERPRISE,
        0,
        "LRUD9L355Y",
        ("armv7", "arm64"),
    ),
    "owasp-uncrackable-ios-l2.ipa": (
        "sg.vp.UnCrackable-2",
        "1.0",
        "8.0",
        Distribution.AD_HOC,
        13,
        "LRUD9L355Y",
        ("armv7", "arm64"),
    ),
    "mobsf-helloworld.ipa": (
        "com.kthcorp.helloworld",
        "1.0",
        "5.0",
        Distribution.ENTERPRISE,
        0,
        "M8ZCXDJQW4",
        ("armv7",),
    ),
    "fastlane-very-capable-app.ipa": (
        "org.fastlane.very-capable-app",
        "1.0",
        "11.2",
        Distribution.DEVELOPMENT,
        1,
        "TestFixture",
        ("arm64",),
    ),
    "fastlane-incorrectly-signed.ipa": ("com.example.Sample", "1.2.0", "8.0", None, 0, None, ()),
    "fastlane-no-app-bundle.ipa": (None, None, None, None, 0, None, ()),
    "fdroid-fake-ipaapp.ipa": ("org.onionshare.OnionShare", "1.0.1", "15.0", None, 0, None, ()),
}


def _ipa(name: str) -> Ipa:
    path = require_shared("corpus/ipa") / name
    return load_ipa(str(path))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_identity(name: str) -> None:
    bundle_id, version, min_os, dist, devices, team, cpus = EXPECTED[name]
    ipa = _ipa(name)
    assert (ipa.info.bundle_id if ipa.info else None) == bundle_id
    assert (ipa.info.short_version if ipa.info else None) == version
    assert (ipa.info.minimum_os if ipa.info else None) == min_os
    assert (ipa.provision.distribution if ipa.provision else None) == dist
    assert (len(ipa.provision.provisioned_devices) if ipa.provision else 0) == devices
    assert (ipa.provision.team_ids[0] if ipa.provision else None) == team
    assert tuple(s.cpu for s in ipa.main_binary.slices) if ipa.main_binary else cpus == ()
    if ipa.main_binary is not None:
        assert tuple(s.cpu for s in ipa.main_binary.slices) == cpus


def test_not_an_ipa_is_a_located_error() -> None:
    path = require_shared("corpus/ipa") / "fastlane-not-an-ipa.ipa"
    with pytest.raises(IpaError) as info:
        load_ipa(str(path))
    d = info.value.diagnostics()[0]
    assert d.file == str(path) and d.offset == 0 and "not a zip" in d.message


def test_malformed_bundles_are_problems_not_errors() -> None:
    nested = _ipa("fastlane-incorrectly-signed.ipa")
    assert nested.app_path == "IncorrectlySigned/Payload/Sample.app"
    assert any(p.part == "bundle" and "iOS does not install" in p.message for p in nested.problems)
    assert any(
        p.part == "macho" and p.entry == "IncorrectlySigned/Payload/Sample.app/Sample"
        for p in nested.problems
    )
    empty = _ipa("fastlane-no-app-bundle.ipa")
    assert empty.app_path is None and empty.info is None and empty.main_binary is None
    assert [p.part for p in empty.problems] == ["bundle"]
    fake = _ipa("fdroid-fake-ipaapp.ipa")
    assert fake.main_binary is None and any(p.entry == "Payload/IpaApp.app/OnionShare" for p in fake.problems)
    assert [u.key for u in fake.info.usage_descriptions] == [  # type: ignore[union-attr]
        "NSCameraUsageDescription",
        "NSMicrophoneUsageDescription",
        "NSPhotoLibraryUsageDescription",
    ]
    assert fake.info.url_schemes == ("onionshare",) and fake.info.queried_schemes == ("orbot",)  # type: ignore[union-attr]


def _corpus_ipas() -> list[Path]:
    return (
        sorted(p for p in IPA_DIR.glob("*.ipa") if p.name != "fastlane-not-an-ipa.ipa")
        if IPA_DIR.is_dir()
        else []
    )


@pytest.mark.parametrize("name", [p.name for p in _corpus_ipas()] or ["corpus-absent"])
def test_info_plist_agrees_with_plistlib(name: str) -> None:
    ipa = _ipa(name)
    if ipa.info is None:
        return
    with zipfile.ZipFile(ipa.path) as z:
        ref = plistlib.loads(z.read(ipa.info.entry))
    assert ipa.info.bundle_id == ref.get("CFBundleIdentifier")
    assert ipa.info.version == ref.get("CFBundleVersion")
    assert ipa.info.executable == ref.get("CFBundleExecutable")
    assert list(ipa.info.device_families) == ref.get("UIDeviceFamily", [])
    assert {u.key: u.text for u in ipa.info.usage_descriptions} == {
        k: v for k, v in ref.items() if k.endswith("UsageDescription")
    }
    assert list(ipa.info.background_modes) == sorted(ref.get("UIBackgroundModes", []))
    assert ipa.info.keys == tuple(sorted(ref))


@pytest.mark.parametrize("name", [p.name for p in _corpus_ipas()] or ["corpus-absent"])
def test_provisioning_profile_agrees_with_openssl(name: str, tmp_path: Path) -> None:
    ipa = _ipa(name)
    if ipa.provision is None:
        return
    openssl = require_tool("openssl")
    with zipfile.ZipFile(ipa.path) as z:
        der = z.read(ipa.provision.entry)
    (tmp_path / "p.der").write_bytes(der)
    content = subprocess.run(
        [openssl, "smime", "-verify", "-noverify", "-inform", "DER", "-in", str(tmp_path / "p.der")],
        capture_output=True,
        check=True,
    ).stdout
    ref = plistlib.loads(content)
    p = ipa.provision
    assert p.team_ids == tuple(ref["TeamIdentifier"])
    assert p.uuid == ref["UUID"] and p.name == ref["Name"]
    assert p.expiration_date == ref["ExpirationDate"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert p.provisioned_devices == tuple(ref.get("ProvisionedDevices", []))
    assert p.provisions_all_devices is bool(ref.get("ProvisionsAllDevices", False))
    assert p.entitlements.keys() == tuple(ref["Entitlements"])
    certs = subprocess.run(
        [openssl, "pkcs7", "-inform", "DER", "-in", str(tmp_path / "p.der"), "-print_certs"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert sorted(
        re.findall(
            r"CN ?= ?([^,\n]+)", "\n".join(line for line in certs.splitlines() if line.startswith("subject"))
        )
    ) == sorted(c.common_name for c in p.signer_certificates)


@pytest.mark.parametrize("name", [p.name for p in _corpus_ipas()] or ["corpus-absent"])
def test_macho_agrees_with_llvm_objdump(name: str, tmp_path: Path) -> None:
    ipa = _ipa(name)
    if ipa.main_binary is None:
        return
    objdump = require_tool("llvm-objdump")
    with zipfile.ZipFile(ipa.path) as z:
        data = z.read(ipa.main_binary.entry)
    (tmp_path / "bin").write_bytes(data)
    for s in ipa.main_binary.slices:
        out = subprocess.run(
            [objdump, "--macho", "--private-headers", f"--arch={s.cpu}", str(tmp_path / "bin")],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        assert list(s.libraries) == re.findall(
            r"cmd LC_LOAD_(?:WEAK_)?DYLIB\n\s+cmdsize \d+\n\s+name (\S.*?) \(offset", out
        )
        header = re.search(r"^\s*MH_MAGIC\S*.*$", out, re.M)
        assert header is not None and s.pie == (" PIE" in header.group())
        cryptid = re.search(r"cryptid (\d+)", out)
        assert s.encrypted == (None if cryptid is None else cryptid.group(1) != "0")
        # the signature's CMS certificates, read by openssl from the blob the load command names
        sig = re.search(r"cmd LC_CODE_SIGNATURE\n\s+cmdsize \d+\n\s+dataoff (\d+)\n\s+datasize (\d+)", out)
        assert (s.code_signature is not None) == (sig is not None)
        if sig is None or s.code_signature is None:
            continue
        blob = data[s.offset + int(sig.group(1)) : s.offset + int(sig.group(1)) + int(sig.group(2))]
        count = struct.unpack_from(">I", blob, 8)[0]
        slots = dict(struct.unpack_from(">II", blob, 12 + 8 * i) for i in range(count))
        assert tuple(slots) == s.code_signature.blob_types
        cms = blob[
            slots[0x10000] + 8 : slots[0x10000] + struct.unpack_from(">I", blob, slots[0x10000] + 4)[0]
        ]
        (tmp_path / "cms.der").write_bytes(cms)
        certs = subprocess.run(
            [
                require_tool("openssl"),
                "pkcs7",
                "-inform",
                "DER",
                "-in",
                str(tmp_path / "cms.der"),
                "-print_certs",
            ],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        subjects = [line for line in certs.splitlines() if line.startswith("subject")]
        assert len(subjects) == len(s.code_signature.certificates)
        ents = blob[slots[5] + 8 : slots[5] + struct.unpack_from(">I", blob, slots[5] + 4)[0]]
        assert s.code_signature.entitlements is not None
        assert s.code_signature.entitlements.keys() == tuple(plistlib.loads(ents))


def test_corpus_signature_facts() -> None:
    l2 = _ipa("owasp-uncrackable-ios-l2.ipa")
    sig = l2.code_signature
    assert sig is not None and sig.identifier == "sg.vp.UnCrackable-2" and sig.team_id == "LRUD9L355Y"
    assert sig.certificates[0].organizational_unit == "LRUD9L355Y"
    assert sig.certificates[0].common_name == "iPhone Distribution: Vantage Point Security Pte. Ltd."
    assert sig.certificates[-1].self_signed and not sig.ad_hoc
    assert l2.entitlements is not None and l2.entitlements.get("get-task-allow") is False
    main = l2.main_binary
    assert main is not None and main.fat and not main.encrypted
    assert all(s.pie and s.stack_canary and s.arc for s in main.slices)
    assert "AESCrypt" in main.slices[1].objc_classes and "NSFileManager" in main.slices[1].imported_classes
    assert l2.xcent is not None and l2.xcent.get("application-identifier") == "LRUD9L355Y.sg.vp.UnCrackable-2"
    capable = _ipa("fastlane-very-capable-app.ipa")
    assert capable.info is not None and "location" in capable.info.background_modes
    assert capable.provision is not None and capable.provision.entitlements.get("get-task-allow") is True
    assert not any(t.detail for t in capable.tampering if "Android" in t.detail or "APK" in t.detail)
