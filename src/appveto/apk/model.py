"""The immutable, typed model of an APK that every check reads.

Parsers (``archive``, ``axml``/``manifest``, ``resources``, ``dex``, ``signing``,
``native``) produce these values; nothing here judges. Names follow Android's own
terms so that a reader can map each field to the platform documentation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from appveto.archive import Tampering, TamperKind, ZipEntry

if TYPE_CHECKING:
    from appveto.archive import Archive


# --------------------------------------------------------------------------- zip

# Tampering, TamperKind and ZipEntry live with the shared zip reader (``appveto.archive``,
# which reads IPAs too); they are re-exported (``__all__`` at the end) so that every APK
# type is importable from this module.


# ---------------------------------------------------------------------- manifest


class ComponentKind(StrEnum):
    ACTIVITY = "activity"
    ACTIVITY_ALIAS = "activity-alias"
    SERVICE = "service"
    RECEIVER = "receiver"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class IntentData:
    scheme: str | None = None
    host: str | None = None
    port: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    path_pattern: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class IntentFilter:
    actions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    data: tuple[IntentData, ...] = ()
    priority: int | None = None
    auto_verify: bool = False


@dataclass(frozen=True, slots=True)
class Component:
    kind: ComponentKind
    name: str
    """Fully qualified class name (relative names resolved against the package)."""
    exported: bool
    """Resolved as Android resolves it for the app's targetSdk."""
    exported_declared: bool | None
    """The ``android:exported`` attribute as written, None when absent."""
    enabled: bool = True
    permission: str | None = None
    read_permission: str | None = None
    write_permission: str | None = None
    intent_filters: tuple[IntentFilter, ...] = ()
    authorities: tuple[str, ...] = ()
    grant_uri_permissions: bool = False
    target_activity: str | None = None
    """For activity-alias: the activity it points to."""
    process: str | None = None
    xpath: str = ""


@dataclass(frozen=True, slots=True)
class UsesPermission:
    name: str
    max_sdk: int | None = None
    sdk23: bool = False
    """True when declared with ``uses-permission-sdk-23``."""


@dataclass(frozen=True, slots=True)
class DeclaredPermission:
    name: str
    protection_level: str
    """As Android names it: ``normal``, ``dangerous``, ``signature``, ``signature|privileged``..."""
    protection_level_value: int
    group: str | None = None


@dataclass(frozen=True, slots=True)
class UsesFeature:
    name: str | None
    required: bool = True
    gl_es_version: int | None = None


@dataclass(frozen=True, slots=True)
class UsesLibrary:
    name: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Queries:
    packages: tuple[str, ...] = ()
    intents: tuple[IntentFilter, ...] = ()
    providers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Application:
    name: str | None = None
    """The Application subclass, fully qualified, if any."""
    label: str | None = None
    """Resolved through resources.arsc where it is a reference."""
    debuggable: bool = False
    allow_backup: bool = True
    uses_cleartext_traffic: bool | None = None
    """None when absent: the platform default then depends on targetSdk (true below 28)."""
    network_security_config: str | None = None
    """Resolved resource path, e.g. ``res/xml/network_security_config.xml``."""
    test_only: bool = False
    extract_native_libs: bool | None = None
    has_code: bool = True
    app_component_factory: str | None = None
    full_backup_content: str | None = None
    data_extraction_rules: str | None = None


@dataclass(frozen=True, slots=True)
class XmlElement:
    """A generic element of the decoded manifest, for checks that need more than the model."""

    tag: str
    attributes: tuple[tuple[str, str], ...]
    children: tuple[XmlElement, ...]
    line: int | None = None
    text: str | None = None
    """Character data directly inside the element, whitespace-trimmed (e.g. the host
    name of a network security config ``<domain>``); None when there is none."""

    def get(self, name: str) -> str | None:
        for k, v in self.attributes:
            if k == name:
                return v
        return None

    def iter(self, tag: str | None = None) -> Iterator[XmlElement]:
        if tag is None or self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)


@dataclass(frozen=True, slots=True)
class Manifest:
    package: str
    version_code: int | None
    version_name: str | None
    min_sdk: int | None
    target_sdk: int | None
    max_sdk: int | None
    compile_sdk: int | None
    shared_user_id: str | None
    uses_permissions: tuple[UsesPermission, ...]
    declared_permissions: tuple[DeclaredPermission, ...]
    application: Application
    components: tuple[Component, ...]
    uses_features: tuple[UsesFeature, ...]
    uses_libraries: tuple[UsesLibrary, ...]
    queries: Queries
    root: XmlElement | None = None

    @property
    def effective_target_sdk(self) -> int:
        """targetSdk as Android computes it: minSdk when absent, 1 when both are."""
        if self.target_sdk is not None:
            return self.target_sdk
        return self.min_sdk if self.min_sdk is not None else 1

    @property
    def permission_names(self) -> tuple[str, ...]:
        return tuple(sorted({p.name for p in self.uses_permissions}))


# --------------------------------------------------------------------------- dex


class DexLocation(StrEnum):
    PRIMARY = "primary"  # classes.dex, classes2.dex ... at the archive root, loaded by Android
    ASSET = "asset"  # a DEX stored elsewhere in the archive (assets/, res/raw/, ...)
    NESTED = "nested"  # inside a nested APK/JAR/ZIP
    HIDDEN = "hidden"  # decoded from a hidden payload (base64, XOR, zlib... in assets, strings)


class MethodRef(NamedTuple):
    """A method_id_item resolved to text.

    A typed named tuple rather than a dataclass: a large multidex app has millions of
    them, and a tuple is built several times faster. It is immutable, hashable and
    ordered by (class_name, name, descriptor) like a frozen ordered dataclass.
    """

    class_name: str
    """Type descriptor, e.g. ``Landroid/telephony/SmsManager;``."""
    name: str
    descriptor: str
    """Proto descriptor, e.g. ``(Ljava/lang/String;)V``."""


class FieldRef(NamedTuple):
    """A field_id_item resolved to text (a named tuple for the same reason as MethodRef)."""

    class_name: str
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class DexFile:
    """The tables of one DEX file. Large tables are tuples built once per file."""

    entry: str
    """Archive entry name (``classes2.dex``) or ``outer!inner`` for nested archives."""
    location: DexLocation
    size: int
    version: str
    strings: tuple[str, ...]
    types: tuple[str, ...]
    """Type descriptors by type index."""
    class_defs: tuple[str, ...]
    """Descriptors of the classes this file defines."""
    method_refs: tuple[MethodRef, ...]
    field_refs: tuple[FieldRef, ...]
    proto_count: int
    header_anomalies: tuple[str, ...] = ()
    _class_names: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Defined classes in dotted Java form (computed on first use, then kept)."""
        names = self._class_names
        if names is None:
            names = tuple(map(descriptor_to_java, self.class_defs))
            object.__setattr__(self, "_class_names", names)
        return names


@dataclass(frozen=True, slots=True)
class EmbeddedDex:
    """A DEX-like blob found outside the primary classes*.dex (not parsed when unreadable)."""

    entry: str
    location: DexLocation
    size: int
    parsed: bool
    note: str | None = None


def descriptor_to_java(descriptor: str) -> str:
    """``Lcom/example/Foo;`` -> ``com.example.Foo`` (arrays and primitives kept as is)."""
    if descriptor.startswith("L") and descriptor.endswith(";"):
        return descriptor[1:-1].replace("/", ".")
    return descriptor


# ------------------------------------------------------------------------ signing


class SigningScheme(StrEnum):
    V1 = "v1"
    V2 = "v2"
    V3 = "v3"
    V31 = "v3.1"


@dataclass(frozen=True, slots=True)
class DistinguishedName:
    rfc4514: str
    common_name: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = None
    locality: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class SignerCert:
    schemes: tuple[SigningScheme, ...]
    """Every scheme in which this certificate signs the APK."""
    subject: DistinguishedName
    issuer: DistinguishedName
    serial: str
    """Hex, lower case."""
    not_before: str
    """ISO-8601 UTC."""
    not_after: str
    sha256: str
    """Lower-case hex of the DER certificate: the publisher identity."""
    sha1: str
    key_algorithm: str
    """``RSA``, ``EC``, ``DSA``, ``Ed25519``..."""
    key_size: int | None
    signature_algorithm: str
    """E.g. ``sha256WithRSAEncryption``."""
    self_signed: bool
    min_sdk: int | None = None
    """For v3/v3.1 signers: the platform range they apply to."""
    max_sdk: int | None = None


@dataclass(frozen=True, slots=True)
class LineageNode:
    cert_sha256: str
    flags: int


@dataclass(frozen=True, slots=True)
class SigningInfo:
    schemes: tuple[SigningScheme, ...]
    signers: tuple[SignerCert, ...]
    lineage: tuple[LineageNode, ...] = ()
    """Proof-of-rotation lineage, oldest first (v3/v3.1)."""
    signing_block_ids: tuple[int, ...] = ()
    """Every ID seen in the APK Signing Block (padding, stamps, unknown blocks)."""
    problems: tuple[str, ...] = ()
    """Structural problems seen (no cryptographic verification is claimed)."""


# ------------------------------------------------------------------------- native


@dataclass(frozen=True, slots=True)
class NativeLib:
    entry: str
    abi: str
    name: str
    size: int
    machine: str | None = None
    """ELF e_machine as a name, None when not an ELF file."""
    comment: tuple[str, ...] = ()
    """Strings of the ELF ``.comment`` section (compiler fingerprints)."""
    jni_exports: tuple[str, ...] = ()
    """Dynamic symbols named ``Java_*`` or ``JNI_OnLoad``."""
    strings_sample: tuple[str, ...] = ()
    """Printable strings of ``.rodata`` that look like endpoints (URLs, hosts)."""
    problem: str | None = None
    dot_symbols: tuple[str, ...] = ()
    """Defined symbols (``.dynsym`` and ``.symtab``) whose names start with ``.``: names no
    C or C++ source can spell, made by compiler passes (e.g. ``.datadiv_decode<n>``,
    the string decoders of O-LLVM-family string encryption). Sorted, at most 64."""


# ---------------------------------------------------------------------------- apk


@dataclass(frozen=True, slots=True)
class ApkProblem:
    """A part of the APK that could not be read; the rest of the scan goes on."""

    part: str
    """``manifest``, ``resources``, ``dex``, ``signing``, ``native``."""
    message: str
    entry: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Apk:
    path: str
    size: int
    sha256: str
    sha1: str
    md5: str
    entries: tuple[ZipEntry, ...]
    tampering: tuple[Tampering, ...]
    manifest: Manifest | None
    dex: tuple[DexFile, ...]
    embedded_dex: tuple[EmbeddedDex, ...]
    signing: SigningInfo
    native_libs: tuple[NativeLib, ...]
    resource_strings: tuple[str, ...]
    """String values of resources.arsc (for endpoint extraction)."""
    problems: tuple[ApkProblem, ...]
    archive: Archive = field(repr=False, compare=False)

    def entry_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)


__all__ = [
    "Apk",
    "ApkProblem",
    "Application",
    "Component",
    "ComponentKind",
    "DeclaredPermission",
    "DexFile",
    "DexLocation",
    "DistinguishedName",
    "EmbeddedDex",
    "FieldRef",
    "IntentData",
    "IntentFilter",
    "LineageNode",
    "Manifest",
    "MethodRef",
    "NativeLib",
    "Queries",
    "SignerCert",
    "SigningInfo",
    "SigningScheme",
    "TamperKind",
    "Tampering",
    "UsesFeature",
    "UsesLibrary",
    "UsesPermission",
    "XmlElement",
    "ZipEntry",
    "descriptor_to_java",
]
