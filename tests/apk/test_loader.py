"""load_apk: the parsers composed, on built APKs and on the whole corpus."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from appveto.apk import load_apk
from appveto.apk.model import ComponentKind, DexLocation, SigningScheme, TamperKind
from appveto.errors import ApkError
from tests.apkbuilder import ApkSpec, ClassSpec, ComponentSpec, MethodSpec, build_apk, make_signing_key
from tests.conftest import corpus_params


def _write(tmp_path: Path, spec: ApkSpec, name: str = "app.apk") -> Path:
    p = tmp_path / name
    p.write_bytes(build_apk(spec))
    return p


def test_built_apk_round_trips(tmp_path: Path) -> None:
    key = make_signing_key(organization="Example Org", country="BE")
    spec = ApkSpec(
        package="org.example.app",
        version_code=42,
        version_name="4.2",
        min_sdk=24,
        target_sdk=33,
        permissions=("android.permission.READ_SMS", "android.permission.INTERNET"),
        components=(
            ComponentSpec(
                "activity",
                ".Main",
                actions=("android.intent.action.MAIN",),
                categories=("android.intent.category.LAUNCHER",),
                exported=True,
            ),
            ComponentSpec(
                "receiver",
                "org.example.app.SmsIn",
                actions=("android.provider.Telephony.SMS_RECEIVED",),
                exported=False,
            ),
            ComponentSpec("service", ".Sync"),
        ),
        classes=(
            ClassSpec(
                "Lorg/example/app/Main;",
                methods=(
                    MethodSpec(
                        "Landroid/telephony/SmsManager;",
                        "sendTextMessage",
                        "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;"
                        "Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V",
                    ),
                ),
                strings=("https://api.example.org/v1",),
            ),
        ),
        extra_dex=((ClassSpec("Lorg/example/app/Second;"),),),
        key=key,
        sign="v1v2",
    )
    path = _write(tmp_path, spec)
    apk = load_apk(str(path))
    assert apk.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    m = apk.manifest
    assert m is not None
    assert (m.package, m.version_code, m.version_name, m.min_sdk, m.target_sdk) == (
        "org.example.app",
        42,
        "4.2",
        24,
        33,
    )
    assert m.permission_names == ("android.permission.INTERNET", "android.permission.READ_SMS")
    comps = {c.name: c for c in m.components}
    assert comps["org.example.app.Main"].exported is True
    assert comps["org.example.app.SmsIn"].exported is False
    assert comps["org.example.app.Sync"].kind is ComponentKind.SERVICE
    assert comps["org.example.app.Sync"].exported is False  # no intent filter, no attribute
    assert [d.entry for d in apk.dex] == ["classes.dex", "classes2.dex"]
    assert "org.example.app.Main" in apk.dex[0].class_names
    assert any(r.name == "sendTextMessage" for r in apk.dex[0].method_refs)
    assert "https://api.example.org/v1" in apk.dex[0].strings
    assert apk.signing.schemes[:2] == (SigningScheme.V1, SigningScheme.V2)
    (signer,) = apk.signing.signers
    assert signer.sha256 == key.cert_sha256
    assert signer.subject.organization == "Example Org"
    assert apk.problems == ()


def test_embedded_and_gapped_dex_are_listed(tmp_path: Path) -> None:
    from tests.apkbuilder import build_dex

    hidden = build_dex((ClassSpec("Lcom/hidden/Payload;"),))
    spec = ApkSpec(
        package="org.example.hider",
        sign=None,
        extra_entries={"assets/payload.bin": hidden, "classes3.dex": hidden},
    )
    apk = load_apk(str(_write(tmp_path, spec)))
    embedded = {e.entry: e for e in apk.embedded_dex}
    assert embedded["assets/payload.bin"].location is DexLocation.ASSET
    assert [d.entry for d in apk.dex] == ["classes.dex"]  # classes3.dex is behind a gap
    assert any(p.entry == "classes3.dex" for p in apk.problems)


def test_broken_parts_become_problems_not_errors(tmp_path: Path) -> None:
    spec = ApkSpec(
        package="org.example.broken",
        sign=None,
        extra_entries={"classes.dex": b"dex\n035\x00" + b"\xff" * 40, "lib/arm64-v8a/libx.so": b"not an elf"},
    )
    apk = load_apk(str(_write(tmp_path, spec)))
    assert apk.manifest is not None
    assert apk.dex == ()
    assert any(p.part == "dex" and p.entry == "classes.dex" for p in apk.problems)
    (lib,) = apk.native_libs
    assert lib.problem is not None and lib.abi == "arm64-v8a"


def test_not_a_zip_is_a_located_error(tmp_path: Path) -> None:
    p = tmp_path / "junk.apk"
    p.write_bytes(b"this is not an apk" * 10)
    with pytest.raises(ApkError) as info:
        load_apk(str(p))
    assert "junk.apk" in str(info.value)


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_loads(corpus_file: Path) -> None:
    """Every corpus APK loads or raises a typed error; loaded ones are self-consistent."""
    try:
        apk = load_apk(str(corpus_file))
    except ApkError:
        return
    assert apk.sha256 == hashlib.sha256(corpus_file.read_bytes()).hexdigest()
    assert list(apk.tampering) == sorted(
        apk.tampering,
        key=lambda t: (t.kind.value, t.entry or "", -1 if t.offset is None else t.offset, t.detail),
    )
    for d in apk.dex:
        assert d.location is DexLocation.PRIMARY
    if apk.manifest is None:
        assert any(p.part == "manifest" for p in apk.problems)


def test_janus_sample_is_flagged() -> None:
    from tests.conftest import corpus_apk

    apk = load_apk(str(corpus_apk("fdroid-janus.apk")))
    kinds = {t.kind for t in apk.tampering}
    assert TamperKind.DATA_BEFORE_ARCHIVE in kinds and TamperKind.DEX_MAGIC_AT_START in kinds


def test_fast_adler32_agrees_with_zlib() -> None:
    import random
    import zlib

    from appveto.apk import dex

    rng = random.Random(7)
    for n in (0, 1, 5551, 5552, 5553, 1 << 20):
        blob = rng.randbytes(n)
        assert dex._adler32(blob) & 0xFFFFFFFF == zlib.adler32(blob)


def test_multidex_is_read_in_order_with_prefetch(tmp_path: Path) -> None:
    """The next DEX is inflated on a helper thread; order, content and errors are unchanged."""
    classes = [(ClassSpec(f"Lorg/example/C{i};"),) for i in range(2, 6)]
    spec = ApkSpec(
        package="org.example.multi",
        sign=None,
        classes=(ClassSpec("Lorg/example/C1;"),),
        extra_dex=tuple(classes),
    )
    apk = load_apk(str(_write(tmp_path, spec)))
    assert [d.entry for d in apk.dex] == ["classes.dex"] + [f"classes{i}.dex" for i in range(2, 6)]
    assert [d.class_names for d in apk.dex] == [(f"org.example.C{i}",) for i in range(1, 6)]
