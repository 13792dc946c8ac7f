"""The decoded ``AndroidManifest.xml`` -> :class:`~appveto.apk.model.Manifest`.

The model says what the platform's package parser (``PackageParser`` /
``ParsingPackageUtils`` in ``frameworks/base``) would take from the manifest:

* framework attributes are read by **resource ID** (``TypedArray``, see
  :meth:`AxmlNode.attr <appveto.apk.axml.AxmlNode.attr>` for its exact lookup), except
  where the parser asks ``XmlPullParser.getAttributeValue(namespace, name)``: the
  manifest's ``package`` (no namespace) and the ``android:name`` of intent-filter
  ``<action>``/``<category>`` (android namespace), matched by string name, raw value
  first (``ParsedIntentInfoUtils``);
* only elements where the parser looks count: ``uses-sdk``, ``uses-permission``,
  ``permission``, ``uses-feature``, ``queries`` and the **first** ``application`` are
  children of ``manifest``; components and ``uses-library`` are children of that
  application. Such elements anywhere else are ignored by Android and reported as
  anomalies (a classic way to show a decoder something the device never sees);
* class names are built as ``buildClassName`` does: ``.Foo`` and ``Foo`` (no dot) are
  relative to the package;
* an ``<intent-filter>`` without any ``<action>`` is dropped, as the parser does
  ("No actions in intent filter", a log line: the package installs as usual, so it is not
  reported as an anomaly);
* ``exported``: an explicit ``android:exported`` wins. Otherwise activities,
  activity-aliases, services and receivers are exported exactly when they keep at
  least one ``<intent-filter>``; providers are exported when the effective
  targetSdkVersion (targetSdk, else minSdk, else 1) is below 17 (``JELLY_BEAN_MR1``),
  which is what the documentation phrases as "minSdkVersion or targetSdkVersion of 16
  or lower" (targetSdk defaults to minSdk);
* names read with ``getNonResourceString`` (``uses-permission``, ``uses-feature``,
  ``uses-library``) count only as literal text, and values read
  with ``getNonConfigurationString`` (class names, versionName, permissions, authorities,
  intent data) only follow references to resources that do not vary by configuration;
* components without ``android:permission`` inherit the application's; a provider's
  read/write permissions fall back to its ``android:permission``, then the
  application's;
* a ``targetSdkVersion``/``minSdkVersion`` given as a codename (a preview SDK) is
  taken as 10000 (``CUR_DEVELOPMENT``), as Android does on a matching preview
  platform, and the codename is reported as an anomaly (release builds refuse it);
* ``compileSdk`` is ``android:compileSdkVersion`` (API 28+ toolchains), else the
  ``platformBuildVersionCode`` attribute that aapt writes;
* every ``<uses-sdk>`` is applied in turn, so the last one decides (each resets the
  values it does not give); a repeated ``uses-permission`` is kept once (first
  declaration, per element kind: ``uses-permission`` and ``uses-permission-sdk-23``);
* ``process`` is kept as written (``:remote`` is private to the app, a name without a
  colon is a global process).

References (``@0x7f...``) are resolved through :class:`~appveto.apk.resources.ResourceTable`
when one is given, in the model and in :attr:`Manifest.root` alike (so a check reading
``<meta-data android:value="@string/api_key">`` sees the key); unresolved ones stay in
the ``@0x7f0b0012`` form.
"""

from __future__ import annotations

from appveto.apk.android_attrs import framework_attr_id
from appveto.apk.axml import (
    ANDROID_NS,
    AnomalyLog,
    AxmlAttribute,
    AxmlNode,
    ValueType,
    parse_axml,
    render_value,
)
from appveto.apk.model import (
    Application,
    Component,
    ComponentKind,
    DeclaredPermission,
    IntentData,
    IntentFilter,
    Manifest,
    Queries,
    Tampering,
    UsesFeature,
    UsesLibrary,
    UsesPermission,
    XmlElement,
)
from appveto.apk.resources import ResourceTable
from appveto.errors import ApkError

__all__ = ["parse_manifest", "protection_level_name"]

CUR_DEVELOPMENT = 10000
"""``Build.VERSION_CODES.CUR_DEVELOPMENT``: the SDK level of a preview codename."""


def _id(name: str) -> int:
    found = framework_attr_id(name)
    if found is None:  # pragma: no cover - the table is static
        raise AssertionError(f"framework attribute {name} missing from the table")
    return found


A_NAME = _id("name")
A_LABEL = _id("label")
A_PERMISSION = _id("permission")
A_READ_PERMISSION = _id("readPermission")
A_WRITE_PERMISSION = _id("writePermission")
A_PROTECTION_LEVEL = _id("protectionLevel")
A_PERMISSION_GROUP = _id("permissionGroup")
A_SHARED_USER_ID = _id("sharedUserId")
A_HAS_CODE = _id("hasCode")
A_ENABLED = _id("enabled")
A_DEBUGGABLE = _id("debuggable")
A_EXPORTED = _id("exported")
A_PROCESS = _id("process")
A_AUTHORITIES = _id("authorities")
A_GRANT_URI = _id("grantUriPermissions")
A_PRIORITY = _id("priority")
A_MIME_TYPE = _id("mimeType")
A_SCHEME = _id("scheme")
A_HOST = _id("host")
A_PORT = _id("port")
A_PATH = _id("path")
A_PATH_PREFIX = _id("pathPrefix")
A_PATH_PATTERN = _id("pathPattern")
A_TARGET_ACTIVITY = _id("targetActivity")
A_MIN_SDK = _id("minSdkVersion")
A_TARGET_SDK = _id("targetSdkVersion")
A_MAX_SDK = _id("maxSdkVersion")
A_VERSION_CODE = _id("versionCode")
A_VERSION_CODE_MAJOR = _id("versionCodeMajor")
A_VERSION_NAME = _id("versionName")
A_REQUIRED = _id("required")
A_GL_ES_VERSION = _id("glEsVersion")
A_ALLOW_BACKUP = _id("allowBackup")
A_TEST_ONLY = _id("testOnly")
A_CLEARTEXT = _id("usesCleartextTraffic")
A_NETWORK_SECURITY_CONFIG = _id("networkSecurityConfig")
A_EXTRACT_NATIVE_LIBS = _id("extractNativeLibs")
A_AUTO_VERIFY = _id("autoVerify")
A_FULL_BACKUP_CONTENT = _id("fullBackupContent")
A_DATA_EXTRACTION_RULES = _id("dataExtractionRules")
A_APP_COMPONENT_FACTORY = _id("appComponentFactory")
A_COMPILE_SDK = _id("compileSdkVersion")

_COMPONENT_TAGS = {
    "activity": ComponentKind.ACTIVITY,
    "activity-alias": ComponentKind.ACTIVITY_ALIAS,
    "service": ComponentKind.SERVICE,
    "receiver": ComponentKind.RECEIVER,
    "provider": ComponentKind.PROVIDER,
}
_MANIFEST_CHILD_TAGS = frozenset(
    {
        "uses-permission",
        "uses-permission-sdk-23",
        "uses-permission-sdk-m",
        "permission",
        "uses-sdk",
        "application",
    }
)

# PermissionInfo.protectionToString: base levels and flags
_PROTECTION_BASES = ("normal", "dangerous", "signature", "signatureOrSystem", "internal")
_PROTECTION_FLAGS = (
    (0x10, "privileged"),
    (0x20, "development"),
    (0x40, "appop"),
    (0x80, "pre23"),
    (0x100, "installer"),
    (0x200, "verifier"),
    (0x400, "preinstalled"),
    (0x800, "setup"),
    (0x1000, "instant"),
    (0x2000, "runtime"),
    (0x4000, "oem"),
    (0x8000, "vendorPrivileged"),
    (0x10000, "textClassifier"),
    (0x20000, "wellbeing"),
    (0x40000, "documenter"),
    (0x80000, "configurator"),
    (0x100000, "incidentReportApprover"),
    (0x200000, "appPredictor"),
    (0x400000, "module"),
    (0x800000, "companion"),
    (0x1000000, "retailDemo"),
    (0x2000000, "recents"),
    (0x4000000, "role"),
    (0x8000000, "knownSigner"),
)
_PROTECTION_BY_NAME = (
    {n: i for i, n in enumerate(_PROTECTION_BASES)} | {n: v for v, n in _PROTECTION_FLAGS} | {"system": 0x10}
)


def protection_level_name(value: int) -> str:
    """``0x12`` -> ``signature|privileged`` (``PermissionInfo.protectionToString``)."""
    base = value & 0xF
    text = _PROTECTION_BASES[base] if base < len(_PROTECTION_BASES) else f"0x{base:x}"
    rest = value & ~0xF
    for bit, flag in _PROTECTION_FLAGS:
        if rest & bit:
            text += "|" + flag
            rest &= ~bit
    if rest:
        text += f"|0x{rest:x}"
    return text


def build_class_name(package: str, name: str) -> str:
    """``PackageParser.buildClassName``: ``.Foo``/``Foo`` are relative to ``package``."""
    if name.startswith("."):
        return package + name
    if "." not in name:
        return f"{package}.{name}" if package else name
    return name


def parse_manifest(
    data: bytes,
    *,
    resources: ResourceTable | None = None,
    entry: str = "AndroidManifest.xml",
) -> tuple[Manifest, tuple[Tampering, ...]]:
    """Parse binary ``AndroidManifest.xml`` bytes into the typed model.

    Returns the manifest and every anomaly seen (binary XML tricks and elements that
    Android ignores). Raises :class:`~appveto.errors.ApkError` when the bytes are not
    binary XML or the root element is not ``<manifest>``.
    """
    doc = parse_axml(data, entry=entry)
    log = AnomalyLog(entry)
    root = doc.tree
    if root.tag != "manifest":
        raise ApkError.at(f"root element is <{root.tag}>, not <manifest>", entry=entry, offset=root.offset)
    element = doc.root if resources is None else root.to_element(resources.resolve)
    manifest = _Builder(root, resources, log).build(element)
    return manifest, (*doc.anomalies, *log.result())


class _Builder:
    def __init__(self, root: AxmlNode, resources: ResourceTable | None, log: AnomalyLog) -> None:
        self.root = root
        self.res = resources
        self.log = log
        self.package = ""

    # -- TypedArray-like accessors

    def _resolved(self, attr: AxmlAttribute) -> tuple[int, int, str | None]:
        """Follow a reference through resources.arsc: (type, data, string)."""
        vtype, data = attr.value_type, attr.data
        if vtype in (ValueType.REFERENCE, ValueType.DYNAMIC_REFERENCE) and self.res is not None and data:
            text = self.res.resolve(data)
            if text is not None:
                return ValueType.STRING, 0, text
        return vtype, data, attr.string

    def string(self, node: AxmlNode, rid: int) -> str | None:
        attr = node.attr(rid)
        if attr is None:
            return None
        vtype, data, text = self._resolved(attr)
        if vtype == ValueType.STRING:
            return text if text is not None else ""
        return render_value(vtype, data)

    def integer(self, node: AxmlNode, rid: int) -> int | None:
        attr = node.attr(rid)
        if attr is None:
            return None
        vtype, data, text = self._resolved(attr)
        if ValueType.FIRST_INT <= vtype <= ValueType.LAST_INT:
            return data - (1 << 32) if data & 0x80000000 else data
        if vtype == ValueType.STRING and text is not None:
            return _int_of(text)
        return None

    def boolean(self, node: AxmlNode, rid: int) -> bool | None:
        attr = node.attr(rid)
        if attr is None:
            return None
        vtype, data, text = self._resolved(attr)
        if ValueType.FIRST_INT <= vtype <= ValueType.LAST_INT:
            return data != 0
        if vtype == ValueType.STRING and text is not None:
            if text.strip().lower() == "true":
                return True
            number = _int_of(text)
            return number is not None and number != 0
        return None

    def fixed(self, node: AxmlNode, rid: int) -> str | None:
        """``TypedArray.getNonConfigurationString``: a reference is followed only when the
        resource does not vary by configuration (otherwise Android reads no value)."""
        attr = node.attr(rid)
        if attr is None:
            return None
        if (
            attr.value_type in (ValueType.REFERENCE, ValueType.DYNAMIC_REFERENCE)
            and attr.data
            and self.res is not None
            and len(self.res.configs(attr.data)) > 1
        ):
            self.note(
                node,
                f"{attr.qualified_name} of <{node.tag}> refers to a resource that varies by"
                " configuration: Android reads no value",
            )
            return None
        return self.string(node, rid)

    def literal(self, node: AxmlNode, rid: int) -> str | None:
        """``TypedArray.getNonResourceString``: only a string written in the XML itself."""
        attr = node.attr(rid)
        if attr is None:
            return None
        if attr.value_type == ValueType.STRING:
            return attr.string if attr.string is not None else ""
        self.note(
            node,
            f"{attr.qualified_name} of <{node.tag}> is not literal text ({attr.value}): Android ignores it",
        )
        return None

    def by_name(self, node: AxmlNode, name: str, namespace: str | None = ANDROID_NS) -> str | None:
        """``XmlPullParser.getAttributeValue(namespace, name)``: matched by string name,
        the raw string first, else the typed value as text."""
        attr = node.attr_by_name(name, namespace)
        if attr is None:
            return None
        if attr.raw is not None:
            return attr.raw
        return None if attr.value_type == ValueType.NULL else attr.value

    def path(self, node: AxmlNode, rid: int) -> str | None:
        """A reference to a file resource (``res/xml/...``) or its ``@0x...`` form."""
        return self.string(node, rid)

    def class_name(self, node: AxmlNode, rid: int = A_NAME) -> str | None:
        text = self.fixed(node, rid)
        if text is None or not text.strip():
            return None
        return build_class_name(self.package, text.strip())

    def note(self, node: AxmlNode, detail: str) -> None:
        self.log.add(node.offset, detail)

    # -- manifest

    def build(self, root_element: XmlElement) -> Manifest:
        root = self.root
        package = self.by_name(root, "package", None) or ""
        if root.attr_by_name("package") is None:
            self.note(root, "<manifest> has no 'package' attribute (Android refuses the APK)")
        if package and not _valid_package(package):
            self.note(root, f"package name '{package}' is not valid for Android")
        self.package = package
        uses_sdk = [c for c in root.children if c.tag == "uses-sdk"]
        min_sdk = target_sdk = max_sdk = None
        for sdk in uses_sdk:  # the parser applies each <uses-sdk>: the last one wins
            min_sdk = self._sdk(sdk, A_MIN_SDK, "minSdkVersion")
            target_sdk = self._sdk(sdk, A_TARGET_SDK, "targetSdkVersion")
            max_sdk = self.integer(sdk, A_MAX_SDK)
        if len(uses_sdk) > 1:
            self.note(uses_sdk[1], f"{len(uses_sdk)} <uses-sdk> elements (the last one counts)")
        effective_target = target_sdk if target_sdk is not None else (min_sdk if min_sdk is not None else 1)

        version_code = self.integer(root, A_VERSION_CODE)
        major = self.integer(root, A_VERSION_CODE_MAJOR)
        if major:
            version_code = ((major & 0xFFFFFFFF) << 32) | ((version_code or 0) & 0xFFFFFFFF)
        compile_sdk = self.integer(root, A_COMPILE_SDK)
        if compile_sdk is None:
            legacy = root.attr_by_name("platformBuildVersionCode")
            if legacy is not None:
                compile_sdk = _int_of(legacy.raw if legacy.raw is not None else legacy.value)

        permissions: list[UsesPermission] = []
        seen_perms: set[tuple[str, bool]] = set()
        declared: list[DeclaredPermission] = []
        features: list[UsesFeature] = []
        queries = Queries()
        application_node: AxmlNode | None = None
        for child in root.children:
            tag = child.tag
            if tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"):
                name = self.literal(child, A_NAME)
                if not name:
                    self.note(child, f"<{tag}> without android:name ignored")
                    continue
                sdk23 = tag != "uses-permission"
                if (name, sdk23) in seen_perms:
                    continue
                seen_perms.add((name, sdk23))
                permissions.append(UsesPermission(name, self.integer(child, A_MAX_SDK), sdk23))
            elif tag == "permission":
                name = self.fixed(child, A_NAME)
                if not name:
                    self.note(child, "<permission> without android:name ignored")
                    continue
                level = self._protection_level(child)
                declared.append(
                    DeclaredPermission(
                        name=name,
                        protection_level=protection_level_name(level),
                        protection_level_value=level,
                        group=self.fixed(child, A_PERMISSION_GROUP),
                    )
                )
            elif tag == "uses-feature":
                features.append(
                    UsesFeature(
                        name=self.literal(child, A_NAME),
                        required=_default(self.boolean(child, A_REQUIRED), True),
                        gl_es_version=self.integer(child, A_GL_ES_VERSION),
                    )
                )
            elif tag == "queries":
                queries = self._queries(child, queries)
            elif tag == "application":
                if application_node is None:
                    application_node = child
                else:
                    self.note(child, "second <application> ignored (Android reads the first)")

        application = Application()
        components: list[Component] = []
        libraries: list[UsesLibrary] = []
        if application_node is not None:
            application = self._application(application_node)
            app_permission = self.fixed(application_node, A_PERMISSION)
            counters: dict[str, int] = {}
            activities: dict[str, Component] = {}
            for child in application_node.children:
                tag = child.tag
                counters[tag] = counters.get(tag, 0) + 1
                xpath = f"/manifest/application/{tag}[{counters[tag]}]"
                if tag in _COMPONENT_TAGS:
                    comp = self._component(
                        child, _COMPONENT_TAGS[tag], xpath, effective_target, app_permission, activities
                    )
                    if comp is not None:
                        components.append(comp)
                        if comp.kind is ComponentKind.ACTIVITY:
                            activities.setdefault(comp.name, comp)
                elif tag == "uses-library":
                    name = self.literal(child, A_NAME)
                    if name:
                        libraries.append(UsesLibrary(name, _default(self.boolean(child, A_REQUIRED), True)))
        else:
            self.note(root, "<manifest> has no <application>")
        self._misplaced(root, application_node)
        return Manifest(
            package=package,
            version_code=version_code,
            version_name=self.fixed(root, A_VERSION_NAME),
            min_sdk=min_sdk,
            target_sdk=target_sdk,
            max_sdk=max_sdk,
            compile_sdk=compile_sdk,
            shared_user_id=self.fixed(root, A_SHARED_USER_ID),
            uses_permissions=tuple(permissions),
            declared_permissions=tuple(declared),
            application=application,
            components=tuple(components),
            uses_features=tuple(features),
            uses_libraries=tuple(libraries),
            queries=queries,
            root=root_element,
        )

    def _sdk(self, node: AxmlNode, rid: int, what: str) -> int | None:
        attr = node.attr(rid)
        if attr is None:
            return None
        vtype, data, text = self._resolved(attr)
        if vtype == ValueType.STRING:
            text = (text or "").strip()
            number = _int_of(text)
            if number is not None:
                self.note(node, f"{what} '{text}' is a string, not an integer")
                return number
            self.note(
                node,
                f"{what} is the codename '{text}' (a preview SDK, taken as {CUR_DEVELOPMENT};"
                " release builds of Android refuse it)",
            )
            return CUR_DEVELOPMENT
        if ValueType.FIRST_INT <= vtype <= ValueType.LAST_INT:
            return data - (1 << 32) if data & 0x80000000 else data
        self.note(node, f"{what} has an unusable value type {vtype:#x}")
        return None

    def _protection_level(self, node: AxmlNode) -> int:
        attr = node.attr(A_PROTECTION_LEVEL)
        if attr is None:
            return 0
        vtype, data, text = self._resolved(attr)
        if ValueType.FIRST_INT <= vtype <= ValueType.LAST_INT:
            return data
        if vtype == ValueType.STRING and text:
            value = 0
            for part in text.split("|"):
                bit = _PROTECTION_BY_NAME.get(part.strip())
                if bit is None:
                    self.note(node, f"unknown protectionLevel '{part.strip()}'")
                    continue
                value |= bit
            return value
        return 0

    def _application(self, node: AxmlNode) -> Application:
        return Application(
            name=self.class_name(node),
            label=self.string(node, A_LABEL),
            debuggable=_default(self.boolean(node, A_DEBUGGABLE), False),
            allow_backup=_default(self.boolean(node, A_ALLOW_BACKUP), True),
            uses_cleartext_traffic=self.boolean(node, A_CLEARTEXT),
            network_security_config=self.path(node, A_NETWORK_SECURITY_CONFIG),
            test_only=_default(self.boolean(node, A_TEST_ONLY), False),
            extract_native_libs=self.boolean(node, A_EXTRACT_NATIVE_LIBS),
            has_code=_default(self.boolean(node, A_HAS_CODE), True),
            app_component_factory=self.class_name(node, A_APP_COMPONENT_FACTORY),
            full_backup_content=self.path(node, A_FULL_BACKUP_CONTENT),
            data_extraction_rules=self.path(node, A_DATA_EXTRACTION_RULES),
        )

    def _component(
        self,
        node: AxmlNode,
        kind: ComponentKind,
        xpath: str,
        effective_target: int,
        app_permission: str | None,
        activities: dict[str, Component],
    ) -> Component | None:
        name = self.class_name(node)
        if name is None:
            self.note(node, f"<{node.tag}> without android:name (Android refuses the APK)")
            return None
        filters_list: list[IntentFilter] = []
        for child in node.children:
            if child.tag != "intent-filter":
                continue
            parsed = self._intent_filter(child)
            if parsed.actions:
                filters_list.append(parsed)
            # else: PackageParser logs "No actions in intent filter" and drops the filter; the
            # package installs as usual. Libraries ship such filters on purpose (androidx.test's
            # bootstrap activities: a LAUNCHER category, no action), so it is no anomaly.
        filters = tuple(filters_list)
        declared = self.boolean(node, A_EXPORTED)
        if declared is not None:
            exported = declared
        elif kind is ComponentKind.PROVIDER:
            exported = effective_target < 17
        else:
            exported = bool(filters)
        permission = self.fixed(node, A_PERMISSION)
        target = None
        if kind is ComponentKind.ACTIVITY_ALIAS:
            target = self.class_name(node, A_TARGET_ACTIVITY)
            if target is None:
                self.note(node, "<activity-alias> without android:targetActivity")
            elif permission is None and target in activities:
                permission = activities[target].permission
        if permission is None:
            permission = app_permission
        read_permission = write_permission = None
        authorities: tuple[str, ...] = ()
        if kind is ComponentKind.PROVIDER:
            read_permission = self.fixed(node, A_READ_PERMISSION) or permission
            write_permission = self.fixed(node, A_WRITE_PERMISSION) or permission
            text = self.fixed(node, A_AUTHORITIES)
            authorities = tuple(a.strip() for a in text.split(";") if a.strip()) if text else ()
        return Component(
            kind=kind,
            name=name,
            exported=exported,
            exported_declared=declared,
            enabled=_default(self.boolean(node, A_ENABLED), True),
            permission=permission,
            read_permission=read_permission,
            write_permission=write_permission,
            intent_filters=filters,
            authorities=authorities,
            grant_uri_permissions=_default(self.boolean(node, A_GRANT_URI), False),
            target_activity=target,
            process=self.fixed(node, A_PROCESS),
            xpath=xpath,
        )

    def _intent_filter(self, node: AxmlNode) -> IntentFilter:
        actions: list[str] = []
        categories: list[str] = []
        data: list[IntentData] = []
        for child in node.children:
            if child.tag in {"action", "category"}:
                name = self.by_name(child, "name")
                if not name:
                    self.note(
                        child,
                        f"<{child.tag}> without android:name (Android refuses the APK:"
                        " 'No value supplied for <android:name>')",
                    )
                    continue
                by_id = child.attr(A_NAME)
                if by_id is not None and by_id.string is not None and by_id.string != name:
                    self.note(
                        child,
                        f"<{child.tag}> android:name is '{name}' for Android (read by name) but"
                        f" '{by_id.string}' by resource ID",
                    )
                (actions if child.tag == "action" else categories).append(name)
            elif child.tag == "data":
                data.append(
                    IntentData(
                        scheme=self.fixed(child, A_SCHEME),
                        host=self.fixed(child, A_HOST),
                        port=self.fixed(child, A_PORT),
                        path=self.fixed(child, A_PATH),
                        path_prefix=self.fixed(child, A_PATH_PREFIX),
                        path_pattern=self.fixed(child, A_PATH_PATTERN),
                        mime_type=self.fixed(child, A_MIME_TYPE),
                    )
                )
        return IntentFilter(
            actions=tuple(actions),
            categories=tuple(categories),
            data=tuple(data),
            priority=self.integer(node, A_PRIORITY),
            auto_verify=_default(self.boolean(node, A_AUTO_VERIFY), False),
        )

    def _queries(self, node: AxmlNode, current: Queries) -> Queries:
        packages = list(current.packages)
        intents = list(current.intents)
        providers = list(current.providers)
        for child in node.children:
            if child.tag == "package":
                name = self.fixed(child, A_NAME)
                if name:
                    packages.append(name)
            elif child.tag == "intent":
                intents.append(self._intent_filter(child))
            elif child.tag == "provider":
                text = self.fixed(child, A_AUTHORITIES)
                if text:
                    providers.extend(a.strip() for a in text.split(";") if a.strip())
        return Queries(tuple(packages), tuple(intents), tuple(providers))

    def _misplaced(self, root: AxmlNode, application: AxmlNode | None) -> None:
        """Report component and permission elements where Android never looks."""
        stack: list[tuple[AxmlNode, str]] = [(c, "/manifest") for c in root.children]
        in_application = {id(c) for c in application.children} if application is not None else set()
        reported = 0
        while stack:
            node, parent_path = stack.pop()
            path = f"{parent_path}/{node.tag}"
            in_app = parent_path == "/manifest/application"
            at_top = parent_path == "/manifest"
            misplaced = (node.tag in _COMPONENT_TAGS and not (in_app and id(node) in in_application)) or (
                node.tag in _MANIFEST_CHILD_TAGS and not at_top
            )
            if misplaced and reported < 16:
                reported += 1
                self.note(node, f"<{node.tag}> at {path} is ignored by Android (not where the parser looks)")
            stack.extend((c, path) for c in node.children)


def _default(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _int_of(text: str) -> int | None:
    """``XmlUtils.convertValueToInt``: decimal, ``0x`` hex, ``#`` hex, leading ``-``."""
    t = text.strip()
    if not t:
        return None
    sign = 1
    if t[0] == "-":
        sign, t = -1, t[1:]
    try:
        if t[:2] in ("0x", "0X"):
            return sign * int(t[2:], 16)
        if t[:1] == "#":
            return sign * int(t[1:], 16)
        if len(t) > 1 and t[0] == "0":
            return sign * int(t, 8)
        return sign * int(t, 10)
    except ValueError:
        return None


def _valid_package(name: str) -> bool:
    """``PackageParser.validateName(name, requireSeparator=true, requireFilename=true)``."""
    parts = name.split(".")
    if len(parts) < 2:
        return False
    for part in parts:
        if not part or not ("a" <= part[0].lower() <= "z"):
            return False
        if not all(c.isascii() and (c.isalnum() or c == "_") for c in part):
            return False
    return True
