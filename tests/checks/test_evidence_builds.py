"""Built APKs for issue 12's evidence points, scanned as users scan them: no false
anti-analysis evidence from words that merely contain an indicator, no tampering finding
from androidx.test's standard action-less filters, and a bare-IP C2 (also the CN of a
certificate in assets/) reported as an endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from appveto.demo.apkbuilder import (
    ApkSpec,
    ClassSpec,
    ComponentSpec,
    ElementSpec,
    build_apk,
    make_signing_key,
)
from appveto.kb import load_baseline
from appveto.scan import ScanRecord, scan_apk

NOW = datetime(2026, 11, 29, tzinfo=UTC)
C2 = "185.62.190.12"


def _scan(tmp: Path, spec: ApkSpec) -> ScanRecord:
    path = tmp / f"{spec.package}.apk"
    path.write_bytes(build_apk(spec))
    return scan_apk(str(path), load_baseline(), now=NOW)


def _ids(r: ScanRecord) -> set[str]:
    return {f.check_id for f in r.findings}


def test_blackfriday_and_exposed_strings_give_no_anti_analysis_finding(tmp_path: Path) -> None:
    classes = (
        ClassSpec(
            "Lcom/shop/BlackFridayActivity;",
            strings=("blackfriday", "BlackFriday deals", "exposed", "isExposed", "overexposed"),
        ),
        ClassSpec("Lcom/google/android/material/textfield/ExposedDropdownMenu;"),
    )
    r = _scan(tmp_path, ApkSpec(package="com.shop.deals", classes=classes))
    assert "AV-OBF-008" not in _ids(r), [f.message for f in r.findings if f.check_id == "AV-OBF-008"]


def test_the_same_app_naming_frida_server_gets_the_finding_with_the_token(tmp_path: Path) -> None:
    classes = (ClassSpec("Lcom/shop/Guard;", strings=("/data/local/tmp/frida-server", "blackfriday")),)
    r = _scan(tmp_path, ApkSpec(package="com.shop.guarded", classes=classes))
    (f,) = [f for f in r.findings if f.check_id == "AV-OBF-008"]
    assert f.message == "debugger / instrumentation detection indicators: 'frida-server'"


def test_androidx_test_action_less_filters_raise_no_tampering(tmp_path: Path) -> None:
    launcher_only = ElementSpec(
        "intent-filter",
        (("android:priority", -100),),
        (ElementSpec("category", (("android:name", "android.intent.category.LAUNCHER"),)),),
    )
    comps = tuple(
        ComponentSpec(
            "activity",
            f"androidx.test.core.app.InstrumentationActivityInvoker${n}",
            exported=True,
            children=(launcher_only,),
        )
        for n in ("BootstrapActivity", "EmptyActivity", "EmptyFloatingActivity")
    )
    r = _scan(tmp_path, ApkSpec(package="org.example.uitests", components=comps))
    assert not {i for i in _ids(r) if i.startswith("AV-TAMP")}, [f.message for f in r.findings]


def test_a_bare_ip_c2_and_a_certificate_cn_are_endpoints(tmp_path: Path) -> None:
    pem = make_signing_key(common_name=C2, organization=None, country=None).certificate.public_bytes(
        serialization.Encoding.PEM
    )
    other = make_signing_key(common_name="panel.c2-example.com").certificate.public_bytes(
        serialization.Encoding.DER
    )
    spec = ApkSpec(
        package="org.example.c2",
        permissions=("android.permission.INTERNET",),
        classes=(ClassSpec("Lorg/example/c2/Beacon;", strings=(C2, "8443")),),
        extra_entries={"assets/server.pem": pem, "assets/panel.cer": other},
    )
    r = _scan(tmp_path, spec)
    eps = {e.host: e for e in r.endpoints}
    assert eps[C2].ip_literal and set(eps[C2].sources) == {"dex", "certificate"}
    assert eps["panel.c2-example.com"].sources == ("certificate",)
    (f,) = [f for f in r.findings if f.check_id == "AV-NET-002"]
    assert f.subject == C2
