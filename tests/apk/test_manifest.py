"""The manifest model: Android's rules on synthetic manifests, and the real corpus
against androguard 4.1.4, the upstream expectations (labels/) and ``aapt dump badging``."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from functools import cache
from pathlib import Path

import pytest

from appveto.apk.manifest import build_class_name, parse_manifest, protection_level_name
from appveto.apk.model import ComponentKind, Manifest
from appveto.apk.resources import ResourceTable, parse_resources
from appveto.errors import ApkError
from tests.apk.test_axml import ANDROID, R_ATTR, A, E, Ref, build_axml, manifest_bytes
from tests.apk.test_resources import Res, arsc_bytes, build_arsc
from tests.conftest import LABELS, corpus_params, require_shared, require_tool

R_ATTR_MORE = {
    "readPermission": 0x01010007,
    "writePermission": 0x01010008,
    "permissionGroup": 0x0101000A,
    "enabled": 0x0101000E,
    "process": 0x01010011,
    "grantUriPermissions": 0x0101001B,
    "port": 0x01010029,
    "path": 0x0101002A,
    "pathPrefix": 0x0101002B,
    "pathPattern": 0x0101002C,
    "mimeType": 0x01010026,
    "targetActivity": 0x01010202,
    "required": 0x0101028E,
    "glEsVersion": 0x01010281,
    "testOnly": 0x01010272,
    "extractNativeLibs": 0x010104EA,
    "autoVerify": 0x010104EE,
    "hasCode": 0x0101000C,
    "sharedUserId": 0x0101000B,
}
R_ATTR.update(R_ATTR_MORE)


def manifest(children: list[E], *, package: str = "org.example.app", attrs: list[A] | None = None) -> bytes:
    root_attrs = [
        A("versionCode", 3),
        A("versionName", "1.0"),
        A("package", package, ns=None),
        *(attrs or []),
    ]
    return build_axml(E("manifest", root_attrs, children))


def parse(data: bytes, resources: ResourceTable | None = None) -> tuple[Manifest, str]:
    m, anomalies = parse_manifest(data, resources=resources)
    return m, "\n".join(a.detail for a in anomalies)


def sdk(min_sdk: int | str | None = None, target: int | str | None = None) -> E:
    attrs = []
    if min_sdk is not None:
        attrs.append(A("minSdkVersion", min_sdk))
    if target is not None:
        attrs.append(A("targetSdkVersion", target))
    return E("uses-sdk", attrs)


# ------------------------------------------------------------------ synthetic


def test_basic_facts() -> None:
    data = manifest(
        [
            sdk(21, 34),
            E("uses-permission", [A("name", "android.permission.CAMERA")]),
            E("uses-permission", [A("name", "android.permission.CAMERA")]),  # duplicate collapses
            E(
                "uses-permission",
                [A("name", "android.permission.READ_EXTERNAL_STORAGE"), A("maxSdkVersion", 32)],
            ),
            E("uses-permission-sdk-23", [A("name", "android.permission.READ_CONTACTS")]),
            E("uses-feature", [A("name", "android.hardware.camera"), A("required", False)]),
            E("uses-feature", [A("glEsVersion", 0x20000)]),
            E("application", [A("name", ".App")], [E("uses-library", [A("name", "org.apache.http.legacy")])]),
        ],
        attrs=[A("sharedUserId", "android.uid.system"), A("compileSdkVersion", 34)],
    )
    m, notes = parse(data)
    assert (m.package, m.version_code, m.version_name) == ("org.example.app", 3, "1.0")
    assert (m.min_sdk, m.target_sdk, m.max_sdk, m.compile_sdk) == (21, 34, None, 34)
    assert m.shared_user_id == "android.uid.system"
    assert [(p.name, p.max_sdk, p.sdk23) for p in m.uses_permissions] == [
        ("android.permission.CAMERA", None, False),
        ("android.permission.READ_EXTERNAL_STORAGE", 32, False),
        ("android.permission.READ_CONTACTS", None, True),
    ]
    assert [(f.name, f.required, f.gl_es_version) for f in m.uses_features] == [
        ("android.hardware.camera", False, None),
        (None, True, 0x20000),
    ]
    assert m.application.name == "org.example.app.App"
    assert [(lib.name, lib.required) for lib in m.uses_libraries] == [("org.apache.http.legacy", True)]
    assert m.root is not None and m.root.tag == "manifest"
    assert notes == ""


def test_class_names_are_built_like_android() -> None:
    assert build_class_name("com.ex", ".Main") == "com.ex.Main"
    assert build_class_name("com.ex", "Main") == "com.ex.Main"
    assert build_class_name("com.ex", "org.other.Main") == "org.other.Main"
    assert build_class_name("com.ex", ".sub.Main") == "com.ex.sub.Main"


@pytest.mark.parametrize(
    ("target", "has_filter", "explicit", "kind", "expected"),
    [
        (33, True, None, "activity", True),
        (33, False, None, "activity", False),
        (33, True, False, "activity", False),
        (33, False, True, "service", True),
        (33, True, None, "receiver", True),
        (16, False, None, "provider", True),  # targetSdk <= 16: providers exported by default
        (17, False, None, "provider", False),
        (17, False, True, "provider", True),
        (None, False, None, "provider", True),  # no uses-sdk: effective targetSdk 1
    ],
)
def test_exported_resolution(
    target: int | None, has_filter: bool, explicit: bool | None, kind: str, expected: bool
) -> None:
    attrs = [A("name", ".C")]
    if kind == "provider":
        attrs.append(A("authorities", "org.example.app.c"))
    if explicit is not None:
        attrs.append(A("exported", explicit))
    children = [E("intent-filter", [], [E("action", [A("name", "x.y.Z")])])] if has_filter else []
    sdk_nodes = [sdk(target, target)] if target is not None else []
    m, _ = parse(manifest([*sdk_nodes, E("application", [], [E(kind, attrs, children)])]))
    (comp,) = m.components
    assert comp.exported is expected
    assert comp.exported_declared is explicit


def test_intent_filter_without_action_is_dropped_and_does_not_export() -> None:
    only_category = E("intent-filter", [], [E("category", [A("name", "android.intent.category.DEFAULT")])])
    m, notes = parse(
        manifest([sdk(21, 30), E("application", [], [E("receiver", [A("name", ".R")], [only_category])])])
    )
    (comp,) = m.components
    assert comp.intent_filters == ()
    assert comp.exported is False
    # Android logs "No actions in intent filter" and installs the package: no anomaly (no
    # AV-TAMP-005), as for androidx.test's action-less LAUNCHER filters
    assert not any("intent-filter" in n for n in notes)


def test_provider_default_follows_min_sdk_when_target_absent() -> None:
    m, _ = parse(
        manifest(
            [sdk(14, None), E("application", [], [E("provider", [A("name", "P"), A("authorities", "a")])])]
        )
    )
    assert m.effective_target_sdk == 14
    assert m.components[0].exported is True


def test_components_filters_and_permissions() -> None:
    app = E(
        "application",
        [A("permission", "org.example.APP_PERM")],
        [
            E(
                "activity",
                [A("name", ".Main"), A("permission", "org.example.OWN")],
                [
                    E(
                        "intent-filter",
                        [A("priority", 5), A("autoVerify", True)],
                        [
                            E("action", [A("name", "android.intent.action.VIEW")]),
                            E("category", [A("name", "android.intent.category.BROWSABLE")]),
                            E(
                                "data",
                                [A("scheme", "https"), A("host", "example.org"), A("pathPrefix", "/app")],
                            ),
                            E(
                                "data",
                                [A("mimeType", "image/*"), A("port", "8080"), A("pathPattern", ".*\\.png")],
                            ),
                        ],
                    )
                ],
            ),
            E("activity-alias", [A("name", ".Alias"), A("targetActivity", ".Main")]),
            E("service", [A("name", "org.other.Svc"), A("enabled", False), A("process", ":remote")]),
            E("receiver", [A("name", "Recv")]),
            E(
                "provider",
                [
                    A("name", ".Prov"),
                    A("authorities", "a.one;a.two"),
                    A("readPermission", "org.example.READ"),
                ],
            ),
        ],
    )
    m, _ = parse(manifest([sdk(21, 30), app]))
    kinds = [(c.kind, c.name) for c in m.components]
    assert kinds == [
        (ComponentKind.ACTIVITY, "org.example.app.Main"),
        (ComponentKind.ACTIVITY_ALIAS, "org.example.app.Alias"),
        (ComponentKind.SERVICE, "org.other.Svc"),
        (ComponentKind.RECEIVER, "org.example.app.Recv"),
        (ComponentKind.PROVIDER, "org.example.app.Prov"),
    ]
    main, alias, svc, recv, prov = m.components
    (f,) = main.intent_filters
    assert f.actions == ("android.intent.action.VIEW",)
    assert f.categories == ("android.intent.category.BROWSABLE",)
    assert f.priority == 5 and f.auto_verify
    assert f.data[0].scheme == "https" and f.data[0].host == "example.org" and f.data[0].path_prefix == "/app"
    assert (
        f.data[1].mime_type == "image/*" and f.data[1].port == "8080" and f.data[1].path_pattern == ".*\\.png"
    )
    assert main.permission == "org.example.OWN"
    assert main.xpath == "/manifest/application/activity[1]"
    assert alias.target_activity == "org.example.app.Main"
    assert alias.permission == "org.example.OWN"  # an alias inherits its target's permission
    assert not alias.exported
    assert svc.enabled is False and svc.process == ":remote"
    assert svc.permission == "org.example.APP_PERM"  # inherited from <application>
    assert recv.permission == "org.example.APP_PERM"
    assert prov.authorities == ("a.one", "a.two")
    assert prov.read_permission == "org.example.READ"
    assert prov.write_permission == "org.example.APP_PERM"
    assert prov.exported is False


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (0, "normal"),
        (1, "dangerous"),
        (2, "signature"),
        (3, "signatureOrSystem"),
        (0x12, "signature|privileged"),
        (0x32, "signature|privileged|development"),
        (0x42, "signature|appop"),
        (0x8000002, "signature|knownSigner"),
    ],
)
def test_protection_levels(value: int, name: str) -> None:
    assert protection_level_name(value) == name
    m, _ = parse(
        manifest(
            [
                E(
                    "permission",
                    [A("name", "org.example.P"), A("protectionLevel", value), A("permissionGroup", "g")],
                )
            ]
        )
    )
    (p,) = m.declared_permissions
    assert (p.protection_level, p.protection_level_value, p.group) == (name, value, "g")


def test_protection_level_given_as_text() -> None:
    m, _ = parse(
        manifest(
            [E("permission", [A("name", "org.example.P"), A("protectionLevel", "signature|privileged")])]
        )
    )
    assert m.declared_permissions[0].protection_level == "signature|privileged"


def test_codename_target_sdk() -> None:
    m, notes = parse(manifest([sdk("Tiramisu", "Tiramisu")]))
    assert m.target_sdk == 10000 and m.min_sdk == 10000
    assert "codename 'Tiramisu'" in notes


def test_application_flags_and_resolved_references() -> None:
    built = build_arsc(
        [
            Res("string", "app_name", {"": ("string", "My App"), "fr": ("string", "Mon app")}),
            Res("xml", "nsc", {"": ("string", "res/xml/network_security_config.xml")}),
            Res("string", "version", {"": ("string", "2.5")}),
        ]
    )
    table = parse_resources(built.data)
    app = E(
        "application",
        [
            A("label", Ref(built.ids["string/app_name"])),
            A("debuggable", True),
            A("allowBackup", False),
            A("usesCleartextTraffic", True),
            A("networkSecurityConfig", Ref(built.ids["xml/nsc"])),
            A("testOnly", True),
            A("extractNativeLibs", False),
            A("hasCode", False),
            A("appComponentFactory", "androidx.core.app.CoreComponentFactory"),
            A("dataExtractionRules", Ref(built.ids["xml/nsc"])),
        ],
    )
    root = E(
        "manifest",
        [
            A("versionCode", 1),
            A("versionName", Ref(built.ids["string/version"])),
            A("package", "a.b", ns=None),
        ],
        [app],
    )
    data = build_axml(root)
    m, _ = parse(data, table)
    a = m.application
    assert a.label == "My App"
    assert m.version_name == "2.5"
    assert (a.debuggable, a.allow_backup, a.uses_cleartext_traffic, a.test_only) == (True, False, True, True)
    assert (a.extract_native_libs, a.has_code) == (False, False)
    assert a.network_security_config == "res/xml/network_security_config.xml"
    assert a.data_extraction_rules == "res/xml/network_security_config.xml"
    assert a.app_component_factory == "androidx.core.app.CoreComponentFactory"
    assert m.root is not None
    assert next(m.root.iter("application")).get("android:label") == "My App"
    # without resources.arsc the references stay visible as IDs
    m2, _ = parse(data)
    assert m2.application.label == f"@0x{built.ids['string/app_name']:08x}"
    assert m2.application.uses_cleartext_traffic is True


def test_references_where_android_wants_literal_or_fixed_values() -> None:
    built = build_arsc(
        [
            Res("string", "perm", {"": ("string", "android.permission.SEND_SMS")}),
            Res("string", "version", {"": ("string", "1.0"), "fr": ("string", "1,0")}),
            Res("string", "cls", {"": ("string", "org.example.app.Main")}),
        ]
    )
    table = parse_resources(built.data)
    root = E(
        "manifest",
        [A("versionName", Ref(built.ids["string/version"])), A("package", "org.example.app", ns=None)],
        [
            E("uses-permission", [A("name", Ref(built.ids["string/perm"]))]),
            E("application", [], [E("activity", [A("name", Ref(built.ids["string/cls"]))])]),
        ],
    )
    m, notes = parse(build_axml(root), table)
    assert m.uses_permissions == ()  # getNonResourceString: a reference is no permission name
    assert m.version_name is None  # getNonConfigurationString: the string varies by locale
    assert [c.name for c in m.components] == ["org.example.app.Main"]  # single config: followed
    assert "not literal text" in notes and "varies by configuration" in notes


def test_application_defaults() -> None:
    m, _ = parse(manifest([E("application")]))
    a = m.application
    assert (a.debuggable, a.allow_backup, a.uses_cleartext_traffic, a.test_only, a.has_code) == (
        False,
        True,
        None,
        False,
        True,
    )
    assert a.label is None and a.network_security_config is None


def test_queries() -> None:
    q = E(
        "queries",
        [],
        [
            E("package", [A("name", "com.whatsapp")]),
            E(
                "intent",
                [],
                [
                    E("action", [A("name", "android.intent.action.SEND")]),
                    E("data", [A("mimeType", "text/plain")]),
                ],
            ),
            E("provider", [A("authorities", "x.y;z.w")]),
        ],
    )
    m, _ = parse(manifest([q]))
    assert m.queries.packages == ("com.whatsapp",)
    assert m.queries.intents[0].actions == ("android.intent.action.SEND",)
    assert m.queries.intents[0].data[0].mime_type == "text/plain"
    assert m.queries.providers == ("x.y", "z.w")


def test_elements_where_android_does_not_look_are_reported_not_modelled() -> None:
    data = manifest(
        [
            E("activity", [A("name", ".Hidden")]),  # a component outside <application>
            E(
                "application",
                [],
                [E("activity", [A("name", ".Shown")], [E("service", [A("name", ".Nested")])])],
            ),
            E("application", [], [E("activity", [A("name", ".Second")])]),  # second <application>
        ]
    )
    m, notes = parse(data)
    assert [c.name for c in m.components] == ["org.example.app.Shown"]
    assert "ignored by Android" in notes and "second <application>" in notes


def test_double_package_attribute_resolves_as_android_does() -> None:
    root = E(
        "manifest",
        [
            A("versionCode", 1),
            A("package", "com.decoy.name", resid=R_ATTR["versionName"]),
            A("package", "com.real.name", ns=None),
        ],
    )
    m, notes = parse(build_axml(root))
    assert m.package == "com.real.name"
    assert m.version_name == "com.decoy.name"
    assert "resource ID of 'versionName'" in notes


def test_attribute_without_resource_id_is_ignored_like_android() -> None:
    # an android-namespaced 'name' string with no resource ID is invisible to TypedArray
    data = manifest([E("uses-permission", [A("name", "android.permission.SEND_SMS", resid=0)])])
    m, notes = parse(data)
    assert m.uses_permissions == ()
    assert "without android:name" in notes


def test_permission_hidden_from_android_by_attribute_order() -> None:
    perm = E("uses-permission", [A("maxSdkVersion", 22), A("name", "android.permission.SEND_SMS")])
    root = E("manifest", [A("package", "a.b", ns=None)], [perm])
    m, notes = parse(build_axml(root, sort_attrs=False))
    assert m.uses_permissions == ()  # Android's TypedArray never sees the name
    assert "invisible to Android" in notes
    m2, _ = parse(build_axml(root))
    assert [p.name for p in m2.uses_permissions] == ["android.permission.SEND_SMS"]


def test_intent_actions_are_read_by_name_like_android() -> None:
    # ParsedIntentInfoUtils reads <action android:name> with getAttributeValue(ANDROID, "name")
    nameless = E("action", [A("", "android.intent.action.BOOT_COMPLETED", resid=R_ATTR["name"], ns=None)])
    decoy = E(
        "action",
        [
            A("name", "x.y.FOR_ANDROID", resid=0),  # android:name by string, no resource ID
            A("decoy", "x.y.FOR_DECODERS", resid=R_ATTR["name"]),  # name's ID, other string
        ],
    )
    real = E("action", [A("name", "x.y.REAL")])
    flt = E("intent-filter", [], [nameless, decoy, real])
    m, notes = parse(manifest([E("application", [], [E("receiver", [A("name", ".R")], [flt])])]))
    assert m.components[0].intent_filters[0].actions == ("x.y.FOR_ANDROID", "x.y.REAL")
    assert "No value supplied" in notes
    assert "'x.y.FOR_ANDROID' for Android (read by name) but 'x.y.FOR_DECODERS' by resource ID" in notes


def test_version_code_major() -> None:
    m, _ = parse(manifest([], attrs=[A("versionCodeMajor", 2, resid=0x01010576)]))
    assert m.version_code == (2 << 32) | 3


def test_missing_package_and_wrong_root() -> None:
    m, notes = parse(build_axml(E("manifest", [A("versionCode", 1)])))
    assert m.package == "" and "no 'package'" in notes
    with pytest.raises(ApkError, match="not <manifest>"):
        parse_manifest(build_axml(E("resources")))


def test_platform_build_version_code_fallback() -> None:
    m, _ = parse(manifest([], attrs=[A("platformBuildVersionCode", "28", ns=None)]))
    assert m.compile_sdk == 28


def test_xml_element_names_are_android_style() -> None:
    m, _ = parse(manifest([E("application", [A("debuggable", True), A("custom", "x", ns="urn:x")])]))
    assert m.root is not None
    app = next(m.root.iter("application"))
    assert app.get("android:debuggable") == "true"
    assert app.get("custom") == "x"
    assert ANDROID.startswith("http://schemas.android.com")


# ------------------------------------------------------------------- corpus


def _resources(path: Path) -> ResourceTable | None:
    data = arsc_bytes(path)
    if data is None:
        return None
    try:
        return parse_resources(data)
    except ApkError:
        return None


def _manifest_of(path: Path) -> Manifest | None:
    data = manifest_bytes(path)
    if data is None:
        return None
    return parse_manifest(data, resources=_resources(path))[0]


def _androguard(path: Path) -> object | None:
    from loguru import logger

    logger.disable("androguard")  # silence its loguru output, leave other handlers alone
    from androguard.core.apk import APK

    try:
        apk = APK(str(path))
    except Exception:
        return None
    return apk if apk.is_valid_APK() and apk.get_package() else None


def _int_or_str(value: object) -> object:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return value


def _names(m: Manifest, kind: ComponentKind) -> list[str]:
    return sorted({c.name for c in m.components if c.kind is kind})


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_matches_androguard(corpus_file: Path) -> None:
    m = _manifest_of(corpus_file)
    if m is None:
        pytest.skip("no readable AndroidManifest.xml")
    ag = _androguard(corpus_file)
    if ag is None:
        pytest.skip("androguard cannot read this APK")
    assert m.package == ag.get_package()  # type: ignore[attr-defined]
    assert str(m.version_code) == str(ag.get_androidversion_code())  # type: ignore[attr-defined]
    ag_version_name = ag.get_androidversion_name()  # type: ignore[attr-defined]
    if isinstance(ag_version_name, str) and ag_version_name.startswith("@"):
        # androguard leaves a reference unresolved; Android (TypedArray) resolves it through
        # resources.arsc, as aapt does: the badging test checks the resolved value
        assert m.version_name is not None and not m.version_name.startswith("@")
    else:
        assert m.version_name == ag_version_name
    assert m.min_sdk == _int_or_str(ag.get_min_sdk_version())  # type: ignore[attr-defined]
    assert m.target_sdk == _int_or_str(ag.get_target_sdk_version())  # type: ignore[attr-defined]
    ours = sorted({p.name for p in m.uses_permissions if not p.sdk23})
    assert ours == sorted(set(ag.get_permissions()))  # type: ignore[attr-defined]
    assert _names(m, ComponentKind.ACTIVITY) == sorted(set(ag.get_activities()))  # type: ignore[attr-defined]
    assert _names(m, ComponentKind.SERVICE) == sorted(set(ag.get_services()))  # type: ignore[attr-defined]
    assert _names(m, ComponentKind.RECEIVER) == sorted(set(ag.get_receivers()))  # type: ignore[attr-defined]
    assert _names(m, ComponentKind.PROVIDER) == sorted(set(ag.get_providers()))  # type: ignore[attr-defined]


@cache
def _expectations() -> dict[str, dict[str, object]]:
    path = require_shared("corpus/labels") / "expectations.json"
    merged: dict[str, dict[str, object]] = {}
    for item in json.loads(path.read_text())["entries"]:
        merged.setdefault(item["file"], {}).update(item["expected"])
    return merged


def _expectation_params() -> list[object]:
    path = LABELS / "expectations.json"
    if not path.exists():
        return [pytest.param(None, id="labels-absent")]
    files = sorted({e["file"] for e in json.loads(path.read_text())["entries"]})
    return [pytest.param(f, id=f) for f in files]


def _merged_filters(m: Manifest, kind: ComponentKind) -> list[tuple[list[str], list[str]]]:
    out = []
    for c in m.components:
        if c.kind is kind and c.intent_filters:
            actions = sorted({a for f in c.intent_filters for a in f.actions})
            categories = sorted({a for f in c.intent_filters for a in f.categories})
            out.append((actions, categories))
    return out


@pytest.mark.parametrize("name", _expectation_params())
def test_corpus_matches_upstream_expectations(name: str | None) -> None:
    if name is None:
        require_shared("corpus/labels")
        return
    expected = _expectations()[name]
    path = require_shared("corpus/apk") / name
    m = _manifest_of(path)
    if m is None:
        assert "package" not in expected
        pytest.skip("no readable AndroidManifest.xml")
    checked = 0
    if "package" in expected:
        assert m.package == expected["package"]
        checked += 1
    if "package_of_untampered_original" in expected:
        # only the zip headers were tampered with: the manifest is the original's
        assert m.package == expected["package_of_untampered_original"]
        checked += 1
    if "versionCode" in expected:
        assert str(m.version_code) == str(expected["versionCode"])
        checked += 1
    if "versionName" in expected:
        assert (m.version_name or "") == expected["versionName"]
        checked += 1
    for key, ours in (
        ("minSdkVersion", m.min_sdk),
        ("targetSdkVersion", m.target_sdk),
        ("maxSdkVersion", m.max_sdk),
    ):
        if key in expected:
            assert ours == _int_or_str(expected[key]), key
            checked += 1
    if "effective_target_sdk" in expected:
        assert m.effective_target_sdk == expected["effective_target_sdk"]
        checked += 1
    if "permissions" in expected:
        assert sorted({p.name for p in m.uses_permissions}) == sorted(expected["permissions"])  # type: ignore[arg-type]
        checked += 1
    if "declared_permissions" in expected:
        assert [p.name for p in m.declared_permissions] == expected["declared_permissions"]
        checked += 1
    if "app_name" in expected:
        assert m.application.label == expected["app_name"]
        checked += 1
    if "application_label" in expected:
        label = str(expected["application_label"])
        ours = m.application.label or ""
        if label.startswith("@"):  # the source read the manifest without resources.arsc
            ours = parse_manifest(manifest_bytes(path) or b"")[0].application.label or ""
            assert int(ours.lstrip("@"), 16) == int(label.lstrip("@"), 16)
        else:
            assert ours == label
        checked += 1
    if "activities" in expected:
        assert [c.name for c in m.components if c.kind is ComponentKind.ACTIVITY] == expected["activities"]
        checked += 1
    receivers = [c.name for c in m.components if c.kind is ComponentKind.RECEIVER]
    if "receivers_count" in expected:
        assert len(receivers) == expected["receivers_count"]
        checked += 1
    if "receivers_first" in expected:
        # the source lists names as written; Android qualifies a dotless name with the
        # package (buildClassName), so 'TaskRequest' is <package>.TaskRequest
        want = [build_class_name(m.package, str(n)) for n in expected["receivers_first"]]  # type: ignore[attr-defined]
        assert receivers[: len(want)] == want
        checked += 1
    for key, kind, exact in (
        ("activity_intent_filters", ComponentKind.ACTIVITY, True),
        ("service_intent_filters", ComponentKind.SERVICE, True),
        ("receiver_intent_filters_include", ComponentKind.RECEIVER, False),
    ):
        if key not in expected:
            continue
        ours_f = _merged_filters(m, kind)
        want_f = [
            (sorted(f.get("action", [])), sorted(f.get("category", [])))
            for f in expected[key]  # type: ignore[attr-defined]
        ]
        for f in want_f:
            assert f in ours_f, (key, f)
        if exact:
            assert len(ours_f) == len(want_f), key
        checked += 1
    if checked == 0:
        pytest.skip("no manifest facts among this file's expectations")


def _entry_names(path: Path) -> set[str]:
    try:
        from appveto.apk.archive import open_archive
    except ImportError:
        with zipfile.ZipFile(path) as z:
            return set(z.namelist())
    with open_archive(path) as archive:
        return set(archive.names())


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_references_resolve_to_archive_entries(corpus_file: Path) -> None:
    data = manifest_bytes(corpus_file)
    resources = _resources(corpus_file)
    if data is None or resources is None:
        pytest.skip("no manifest or no resources.arsc")
    m, _ = parse_manifest(data, resources=resources)
    raw, _ = parse_manifest(data)
    checked = 0
    if raw.application.label and raw.application.label.startswith("@0x"):
        assert m.application.label and not m.application.label.startswith("@0x")
        checked += 1
    files = [
        p
        for p in (m.application.network_security_config, m.application.full_backup_content)
        if p and p not in ("true", "false")
    ]
    names = _entry_names(corpus_file) if files else set()
    for path in files:
        assert path.startswith("res/") and path in names, path
        checked += 1
    if not checked:
        pytest.skip("no resource references in <application>")


_BADGING_PACKAGE = re.compile(r"^package: name='([^']*)' versionCode='([^']*)' versionName='([^']*)'")
_BADGING_NAME = re.compile(r"name='([^']*)'")


def _badging_facts(text: str) -> dict[str, object]:
    facts: dict[str, object] = {"permissions": [], "sdk23": []}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _BADGING_PACKAGE.match(line)
        if m:
            facts["package"], facts["versionCode"], facts["versionName"] = m.groups()
        elif line.startswith("sdkVersion:'"):
            facts["min"] = line.split("'")[1]
        elif line.startswith("targetSdkVersion:'"):
            facts["target"] = line.split("'")[1]
        elif line.startswith("application-label:'"):
            facts["label"] = line[len("application-label:'") : -1]
        elif line.startswith(("uses-permission: ", "uses-permission-sdk-23: ")):
            nm = _BADGING_NAME.search(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nm and not nxt.startswith("uses-implied-permission:"):
                key = "sdk23" if line.startswith("uses-permission-sdk-23") else "permissions"
                facts[key].append(nm.group(1))  # type: ignore[attr-defined]
        elif line.startswith("launchable-activity: "):
            nm = _BADGING_NAME.search(line)
            if nm:
                facts.setdefault("launchable", []).append(nm.group(1))  # type: ignore[attr-defined]
    return facts


def _check_badging(m: Manifest, facts: dict[str, object]) -> None:
    assert m.package == facts["package"]
    assert (str(m.version_code) if m.version_code is not None else "") == facts["versionCode"]
    assert (m.version_name or "") == facts["versionName"]
    if "min" in facts:
        assert m.min_sdk == _int_or_str(facts["min"])
    if "target" in facts and m.target_sdk is not None:
        assert m.target_sdk == _int_or_str(facts["target"])
    assert sorted({p.name for p in m.uses_permissions if not p.sdk23}) == sorted(set(facts["permissions"]))  # type: ignore[arg-type]
    assert sorted({p.name for p in m.uses_permissions if p.sdk23}) == sorted(set(facts["sdk23"]))  # type: ignore[arg-type]
    if "label" in facts:
        assert m.application.label == facts["label"]
    for name in facts.get("launchable", []):  # type: ignore[attr-defined]
        assert name in _names(m, ComponentKind.ACTIVITY) + _names(m, ComponentKind.ACTIVITY_ALIAS)


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_matches_aapt_badging(corpus_file: Path) -> None:
    m = _manifest_of(corpus_file)
    if m is None:
        pytest.skip("no readable AndroidManifest.xml")
    tool = require_tool("aapt")
    out = subprocess.run(
        [tool, "dump", "badging", str(corpus_file)], check=False, capture_output=True, text=True, timeout=60
    )
    facts = _badging_facts(out.stdout)
    if "package" not in facts:
        pytest.skip(f"aapt cannot read this APK: {out.stderr.strip()[:200]}")
    _check_badging(m, facts)


@pytest.mark.parametrize(
    ("apk", "label_file"),
    [
        ("fdroid-duplicate-permissions.apk", "fdroidserver-aapt-badging-duplicate.permisssions_9999999.txt"),
        ("fdroid-souch-smsbypass.apk", "fdroidserver-aapt-badging-souch.smsbypass_9.txt"),
    ],
)
def test_corpus_matches_fdroid_badging_labels(apk: str, label_file: str) -> None:
    text = (require_shared("corpus/labels") / label_file).read_text()
    m = _manifest_of(require_shared("corpus/apk") / apk)
    assert m is not None
    _check_badging(m, _badging_facts(text))
    # the duplicate-permission test app repeats INTERNET; the model keeps one entry per name
    assert len({p.name for p in m.uses_permissions}) == len(m.uses_permissions)
