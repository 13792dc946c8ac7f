"""The fixture builder's output is checked with Android's own tools, not with our parsers.

``aapt dump badging``/``dump xmltree`` read the binary manifest, ``dexdump`` verifies and
lists the DEX (ART's DexFileVerifier runs before it prints), ``apksigner verify`` checks
the v1 and v2 signatures, and androguard (a dev dependency) reads the DEX ID tables.
Finally ``appveto.apk.signing`` must find the subject we chose.
"""

from __future__ import annotations

import random
import re
import subprocess
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.apk.archive import open_archive
from appveto.apk.model import SigningScheme
from appveto.apk.signing import parse_signing
from tests.apkbuilder import (
    ATTR_IDS,
    ApkSpec,
    ClassSpec,
    ComponentSpec,
    ElementSpec,
    FieldSpec,
    MethodSpec,
    SigningKey,
    build_apk,
    build_dex,
    make_signing_key,
)
from tests.conftest import require_tool

SMS_SEND = MethodSpec(
    "Landroid/telephony/SmsManager;",
    "sendTextMessage",
    "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V",
)
CLASSES = (
    ClassSpec(
        "Lorg/example/demo/MainActivity;",
        "Landroid/app/Activity;",
        methods=(
            SMS_SEND,
            MethodSpec("Ljava/lang/Runtime;", "exec", "(Ljava/lang/String;)Ljava/lang/Process;"),
            MethodSpec("Landroid/app/Activity;", "<init>", "()V"),
            MethodSpec("Lorg/example/demo/Util;", "sum", "([IJ[[Ljava/lang/String;Z)D"),
        ),
        fields=(FieldSpec("Lorg/example/demo/MainActivity;", "counter", "I"),),
        strings=("https://c2.example.net/gate.php", "h\u00e9llo \u2603", "emoji \U0001f600"),
    ),
    # Defined before its superclass on purpose: the builder must reorder class_defs.
    ClassSpec("Lorg/example/demo/Sub;", "Lorg/example/demo/Util;"),
    ClassSpec("Lorg/example/demo/Util;", access_flags=0x11),
)
COMPONENTS = (
    ComponentSpec(
        "activity",
        "org.example.demo.MainActivity",
        exported=True,
        actions=("android.intent.action.MAIN",),
        categories=("android.intent.category.LAUNCHER",),
    ),
    ComponentSpec(
        "receiver",
        "org.example.demo.SmsReceiver",
        exported=True,
        permission="android.permission.BROADCAST_SMS",
        actions=("android.provider.Telephony.SMS_RECEIVED",),
    ),
    ComponentSpec("service", "org.example.demo.Sync", exported=False),
    ComponentSpec("provider", "org.example.demo.Files", exported=False, authorities="org.example.demo.files"),
)


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return make_signing_key(
        algorithm="rsa", common_name="Demo Signer", organization="Example Org", country="FR"
    )


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return make_signing_key(algorithm="ec", common_name="EC Signer", organization="Ministerie", country="NL")


def spec(key: SigningKey, **kw: object) -> ApkSpec:
    base: dict[str, object] = {
        "package": "org.example.demo",
        "version_code": 4207,
        "version_name": "4.2.7-beta",
        "min_sdk": 21,
        "target_sdk": 33,
        "permissions": ("android.permission.INTERNET", "android.permission.SEND_SMS"),
        "components": COMPONENTS,
        "application_attrs": {"debuggable": True, "allowBackup": False, "usesCleartextTraffic": True},
        "classes": CLASSES,
        "native_libs": {"arm64-v8a/libdemo.so": b"\x7fELF" + bytes(60)},
        "extra_entries": {"assets/config.json": b'{"endpoint": "https://api.example.org"}'},
        "sign": "v1v2",
        "key": key,
    }
    base.update(kw)
    return ApkSpec(**base)  # type: ignore[arg-type]


def write(tmp_path: Path, data: bytes, name: str = "built.apk") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120, check=False)


# ------------------------------------------------------------------ aapt


def test_aapt_reads_the_manifest(tmp_path: Path, rsa_key: SigningKey) -> None:
    aapt = require_tool("aapt")
    path = write(tmp_path, build_apk(spec(rsa_key)))
    proc = run(aapt, "dump", "badging", str(path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "package: name='org.example.demo' versionCode='4207' versionName='4.2.7-beta'" in out
    assert "sdkVersion:'21'" in out
    assert "targetSdkVersion:'33'" in out
    perms = re.findall(r"^uses-permission: name='([^']+)'", out, re.M)
    assert sorted(perms) == ["android.permission.INTERNET", "android.permission.SEND_SMS"]
    assert re.search(r"^launchable-activity: name='org\.example\.demo\.MainActivity'", out, re.M)
    assert "application-debuggable" in out


def test_aapt_xmltree_shows_typed_attributes(tmp_path: Path, rsa_key: SigningKey) -> None:
    aapt = require_tool("aapt")
    path = write(tmp_path, build_apk(spec(rsa_key)))
    proc = run(aapt, "dump", "xmltree", str(path), "AndroidManifest.xml")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # Resource IDs of the framework attributes and the value types.
    assert "A: android:versionCode(0x0101021b)=(type 0x10)0x106f" in out
    assert "A: android:exported(0x01010010)=(type 0x12)0xffffffff" in out
    assert "A: android:exported(0x01010010)=(type 0x12)0x0" in out
    assert "A: android:allowBackup(0x01010280)=(type 0x12)0x0" in out
    assert "A: android:usesCleartextTraffic(0x010104ec)=(type 0x12)0xffffffff" in out
    assert 'A: android:authorities(0x01010018)="org.example.demo.files"' in out
    assert 'A: android:permission(0x01010006)="android.permission.BROADCAST_SMS"' in out
    for kind in ("activity", "receiver", "service", "provider", "intent-filter"):
        assert f"E: {kind} " in out
    assert 'A: package="org.example.demo"' in out


def test_non_debuggable_app(tmp_path: Path, rsa_key: SigningKey) -> None:
    aapt = require_tool("aapt")
    data = build_apk(spec(rsa_key, application_attrs={"debuggable": False}, permissions=(), components=()))
    out = run(aapt, "dump", "badging", str(write(tmp_path, data))).stdout
    assert "application-debuggable" not in out
    assert "uses-permission" not in out
    assert "launchable-activity" not in out


# ------------------------------------------------------------------- dex


def test_dexdump_verifies_and_lists_classes(tmp_path: Path, rsa_key: SigningKey) -> None:
    dexdump = require_tool("dexdump")
    path = write(tmp_path, build_apk(spec(rsa_key)))
    proc = run(dexdump, str(path))
    assert proc.returncode == 0, proc.stderr
    assert "Failure" not in proc.stderr
    listed = re.findall(r"Class descriptor\s+: '([^']+)'", proc.stdout)
    # Superclasses defined in the file come first (the verifier insists).
    assert listed == ["Lorg/example/demo/MainActivity;", "Lorg/example/demo/Util;", "Lorg/example/demo/Sub;"]
    assert re.search(r"Superclass\s+: 'Lorg/example/demo/Util;'", proc.stdout)
    check = run(dexdump, "-c", str(path))
    assert check.returncode == 0 and "Checksum verified" in check.stdout


def test_dexdump_rejects_a_corrupted_build(tmp_path: Path) -> None:
    """The dexdump check can fail: a DEX with a wrong checksum is refused."""
    dexdump = require_tool("dexdump")
    dex = bytearray(build_dex(CLASSES))
    dex[-1] ^= 0x01
    path = write(tmp_path, bytes(dex), "broken.dex")
    assert run(dexdump, str(path)).returncode != 0


def test_androguard_reads_strings_and_refs() -> None:
    from androguard.core.dex import DEX
    from loguru import logger

    logger.remove()
    dex = DEX(build_dex(CLASSES))
    strings = set(dex.get_strings())
    for c in CLASSES:
        assert set(c.strings) <= strings
    methods = {
        (m.get_class_name(), m.get_name(), m.get_descriptor().replace(" ", "")) for m in dex.methods.gets()
    }
    assert methods == {(m.class_name, m.name, m.descriptor) for c in CLASSES for m in c.methods}
    fields = {(f.get_class_name(), f.get_name(), f.get_type()) for f in dex.fields.gets()}
    assert fields == {(f.class_name, f.name, f.type) for c in CLASSES for f in c.fields}
    assert {c.get_name() for c in dex.get_classes()} == {c.descriptor for c in CLASSES}


def test_empty_dex_is_valid(tmp_path: Path) -> None:
    dexdump = require_tool("dexdump")
    path = write(tmp_path, build_dex(()), "empty.dex")
    proc = run(dexdump, str(path))
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------- signing


def apksigner_certs(path: Path, *extra: str) -> tuple[bool, set[str], set[str]]:
    tool = require_tool("apksigner")
    proc = run(tool, "verify", "--print-certs", "-v", *extra, str(path))
    out = proc.stdout
    schemes = set(re.findall(r"^Verified using (v\d) scheme[^:]*: true$", out, re.M))
    certs = set(re.findall(r"^Signer #\d+ certificate SHA-256 digest: ([0-9a-f]{64})$", out, re.M))
    return proc.returncode == 0 and out.startswith("Verifies"), schemes, certs


@pytest.mark.parametrize(
    ("sign", "kwargs", "extra", "schemes"),
    [
        ("v1v2", {}, (), {"v1", "v2"}),
        ("v1", {"target_sdk": 29}, (), {"v1"}),
        ("v2", {}, ("--min-sdk-version", "24"), {"v2"}),
    ],
)
def test_apksigner_accepts_the_signature(
    tmp_path: Path,
    rsa_key: SigningKey,
    sign: str,
    kwargs: dict[str, object],
    extra: tuple[str, ...],
    schemes: set[str],
) -> None:
    path = write(tmp_path, build_apk(spec(rsa_key, sign=sign, **kwargs)))
    ok, verified, certs = apksigner_certs(path, *extra)
    assert ok
    assert verified == schemes
    assert certs == {rsa_key.cert_sha256}


def test_apksigner_accepts_ec_and_large_entries(tmp_path: Path, ec_key: SigningKey) -> None:
    """EC P-256 keys, and a v2 digest over several 1 MiB chunks."""
    blob = random.Random(7).randbytes(2_500_000)
    path = write(tmp_path, build_apk(spec(ec_key, extra_entries={"assets/big.bin": blob})))
    ok, verified, certs = apksigner_certs(path)
    assert ok and verified == {"v1", "v2"}
    assert certs == {ec_key.cert_sha256}


def test_apksigner_rejects_a_tampered_build(tmp_path: Path, rsa_key: SigningKey) -> None:
    """The signature check can fail: one changed byte of an entry breaks v2."""
    data = bytearray(build_apk(spec(rsa_key, sign="v2")))
    at = data.find(b"\x7fELF")  # lib/*.so are stored, so their bytes are in the file as is
    assert at > 0
    data[at + 8] ^= 0x20
    ok, _, _ = apksigner_certs(write(tmp_path, bytes(data)), "--min-sdk-version", "24")
    assert not ok


def test_parse_signing_finds_the_chosen_subject(rsa_key: SigningKey, ec_key: SigningKey) -> None:
    cases = ((rsa_key, "RSA", 2048, "Example Org", "FR"), (ec_key, "EC", 256, "Ministerie", "NL"))
    for key, alg, bits, org, country in cases:
        data = build_apk(spec(key))
        info = parse_signing(open_archive(data, name="built.apk"), file="built.apk")
        (signer,) = info.signers
        assert signer.sha256 == key.cert_sha256
        assert signer.subject.organization == org
        assert signer.subject.country == country
        assert signer.key_algorithm == alg and signer.key_size == bits
        assert signer.schemes == (SigningScheme.V1, SigningScheme.V2)
        assert signer.self_signed
        assert signer.serial == format(key.certificate.serial_number, "x")
        assert info.problems == ()


def test_build_is_deterministic_for_rsa(rsa_key: SigningKey) -> None:
    assert build_apk(spec(rsa_key)) == build_apk(spec(rsa_key))


def test_zip_layout() -> None:
    data = build_apk(spec(make_signing_key(algorithm="ec"), sign="v1"))
    with zipfile.ZipFile(BytesIO(data)) as z:
        names = z.namelist()
        assert names[0] == "AndroidManifest.xml"
        assert "lib/arm64-v8a/libdemo.so" in names
        assert z.getinfo("resources.arsc").compress_type == zipfile.ZIP_STORED
        assert {"META-INF/MANIFEST.MF", "META-INF/CERT.SF", "META-INF/CERT.EC"} <= set(names)
        assert z.testzip() is None


def test_apksigner_accepts_v3_with_rotation(tmp_path: Path, rsa_key: SigningKey, ec_key: SigningKey) -> None:
    """v1/v2 with the original key, v3 with the new one and a lineage apksig verifies."""
    data = build_apk(spec(ec_key, sign="v1v2v3", rotated_from=(rsa_key,)))
    path = write(tmp_path, data)
    ok, verified, certs = apksigner_certs(path)
    assert ok and verified == {"v1", "v2", "v3"}
    assert certs == {ec_key.cert_sha256}  # apksigner prints the current (v3) signer
    tool = require_tool("apksigner")
    proc = run(tool, "lineage", "--in", str(path), "--print-certs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lineage = re.findall(
        r"^Signer #\d+ in lineage certificate SHA-256 digest: ([0-9a-f]{64})$", proc.stdout, re.M
    )
    assert lineage == [rsa_key.cert_sha256, ec_key.cert_sha256]


def test_attribute_ids_match_androguards_public_xml() -> None:
    """Our framework attribute IDs agree with the platform's public.xml shipped by androguard."""
    import xml.etree.ElementTree as ET

    import androguard

    public = Path(androguard.__file__).parent / "core" / "resources" / "public.xml"
    ids = {
        e.get("name"): int(e.get("id", "0"), 16)
        for e in ET.parse(public).getroot().iter("public")
        if e.get("type") == "attr"
    }
    checked = 0
    for name, value in ATTR_IDS.items():
        if name in ids:  # androguard's copy predates API 28 attributes
            assert ids[name] == value, name
            checked += 1
    assert checked >= len(ATTR_IDS) - 4


def test_free_form_manifest_elements_and_multidex(tmp_path: Path) -> None:
    aapt, dexdump = require_tool("aapt"), require_tool("dexdump")
    s = ApkSpec(
        package="org.example.ext",
        sign=None,
        application_attrs={"name": "org.example.ext.App", "label": "Demo App", "debuggable": False},
        manifest_children=(
            ElementSpec(
                "permission", (("android:name", "org.example.ext.PRIV"), ("android:protectionLevel", 2))
            ),
            ElementSpec(
                "uses-feature", (("android:name", "android.hardware.camera"), ("android:required", False))
            ),
        ),
        components=(
            ComponentSpec(
                "activity",
                "org.example.ext.Deep",
                exported=True,
                children=(
                    ElementSpec(
                        "intent-filter",
                        (("android:autoVerify", True),),
                        (
                            ElementSpec("action", (("android:name", "android.intent.action.VIEW"),)),
                            ElementSpec(
                                "data", (("android:scheme", "https"), ("android:host", "example.org"))
                            ),
                        ),
                    ),
                ),
            ),
            ComponentSpec(
                "activity-alias",
                "org.example.ext.Alias",
                extra_attrs=(("android:targetActivity", "org.example.ext.Deep"), ("trick", "no namespace")),
            ),
        ),
        application_children=(ElementSpec("meta-data", (("android:name", "k"), ("android:value", "v"))),),
        classes=(ClassSpec("Lorg/example/ext/App;", "Landroid/app/Application;"),),
        extra_dex=((ClassSpec("Lorg/example/ext/Deep;", "Landroid/app/Activity;"),),),
    )
    path = write(tmp_path, build_apk(s))
    badging = run(aapt, "dump", "badging", str(path)).stdout
    assert "uses-feature-not-required: name='android.hardware.camera'" in badging
    tree = run(aapt, "dump", "xmltree", str(path), "AndroidManifest.xml").stdout
    for line in (
        "A: android:protectionLevel(0x01010009)=(type 0x10)0x2",
        "A: android:autoVerify(0x010104ee)=(type 0x12)0xffffffff",
        'A: android:scheme(0x01010027)="https"',
        'A: android:host(0x01010028)="example.org"',
        'A: android:targetActivity(0x01010202)="org.example.ext.Deep"',
        'A: android:name(0x01010003)="org.example.ext.App"',
        'A: android:value(0x01010024)="v"',
        'A: trick="no namespace"',
    ):
        assert line in tree, line
    assert re.search(r"E: activity-alias.*\n.*\n.*\n.*trick", tree)
    proc = run(dexdump, str(path))
    assert proc.returncode == 0, proc.stderr
    assert "classes2.dex" in proc.stdout
    assert re.findall(r"Class descriptor\s+: '([^']+)'", proc.stdout) == [
        "Lorg/example/ext/App;",
        "Lorg/example/ext/Deep;",
    ]


_IDENT = st.from_regex(r"[a-zA-Z_$][a-zA-Z0-9_$]{0,12}", fullmatch=True)
_PRIMS = st.sampled_from(["I", "J", "Z", "B", "S", "C", "F", "D"])


@st.composite
def _class_sets(draw: st.DrawFn) -> tuple[ClassSpec, ...]:
    names = draw(st.lists(_IDENT, min_size=1, max_size=6, unique=True))
    descs = [f"Lp/{n};" for n in names]
    types = st.one_of(
        _PRIMS, st.sampled_from(descs), st.sampled_from(["Ljava/lang/String;", "[I", "[[Lp/X;"])
    )
    classes = []
    for i, d in enumerate(descs):
        sup = draw(st.sampled_from([None, "Ljava/lang/Object;", *descs[:i]])) if i else "Ljava/lang/Object;"
        methods = tuple(
            MethodSpec(draw(st.sampled_from(descs)), draw(_IDENT), f"({''.join(ps)}){ret}")
            for ps, ret in draw(
                st.lists(st.tuples(st.lists(types, max_size=4), st.one_of(types, st.just("V"))), max_size=4)
            )
        )
        fields = tuple(FieldSpec(d, draw(_IDENT), draw(types)) for _ in range(draw(st.integers(0, 2))))
        strings = tuple(draw(st.lists(st.text(max_size=20), max_size=5)))
        classes.append(ClassSpec(d, sup, methods=methods, fields=fields, strings=strings))
    return tuple(classes)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(classes=_class_sets())
def test_dexdump_verifies_random_dex_files(classes: tuple[ClassSpec, ...]) -> None:
    """Any class set (unicode and NUL in strings, arrays, deep protos) makes a DEX that ART's
    verifier accepts: sorted tables, aligned sections, a complete map."""
    import tempfile

    dexdump = require_tool("dexdump")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.dex"
        path.write_bytes(build_dex(classes))
        proc = run(dexdump, str(path))
    assert proc.returncode == 0, proc.stderr
    listed = re.findall(r"Class descriptor\s+: '([^']+)'", proc.stdout)
    assert sorted(listed) == sorted(c.descriptor for c in classes)
