"""The immutable, typed model of an IPA that the iOS checks read.

The parsers of this package (``plist``, ``bundle``, ``signing``, ``macho``) produce
these values; nothing here judges. Names follow Apple's own keys (``CFBundleIdentifier``,
``NSCameraUsageDescription``, ``LC_ENCRYPTION_INFO_64``...) so that a reader can map each
field to Apple's documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Union

from appveto.archive import Tampering, ZipEntry

if TYPE_CHECKING:
    from appveto.archive import Archive

PlistValue = Union[str, int, float, bool, bytes, datetime, "tuple[PlistValue, ...]", "PlistDict"]
"""A property-list value made immutable: arrays are tuples, dictionaries
:class:`PlistDict` (``(key, value)`` pairs in the file's order)."""


@dataclass(frozen=True, slots=True)
class PlistDict:
    """An immutable plist dictionary: ``(key, value)`` pairs in file order."""

    items: tuple[tuple[str, PlistValue], ...] = ()

    def get(self, key: str) -> PlistValue | None:
        for k, v in self.items:
            if k == key:
                return v
        return None

    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.items)

    def __len__(self) -> int:
        return len(self.items)


# ------------------------------------------------------------------- Info.plist


@dataclass(frozen=True, slots=True, order=True)
class UsageDescription:
    """An ``NS*UsageDescription`` key of Info.plist: the access it asks for, and the text
    iOS shows the user in the permission prompt."""

    key: str
    text: str


@dataclass(frozen=True, slots=True)
class AtsDomainException:
    """One ``NSExceptionDomains`` entry of App Transport Security."""

    domain: str
    allows_insecure_http: bool
    """``NSExceptionAllowsInsecureHTTPLoads`` (or the third-party variant)."""
    includes_subdomains: bool
    minimum_tls: str | None
    """``NSExceptionMinimumTLSVersion`` as written, e.g. ``TLSv1.0``."""
    requires_forward_secrecy: bool
    """``NSExceptionRequiresForwardSecrecy`` (true unless set to false)."""


@dataclass(frozen=True, slots=True)
class TransportSecurity:
    """``NSAppTransportSecurity`` of Info.plist; ``None`` fields were not set."""

    arbitrary_loads: bool | None = None
    arbitrary_loads_in_web_content: bool | None = None
    arbitrary_loads_for_media: bool | None = None
    allows_local_networking: bool | None = None
    exceptions: tuple[AtsDomainException, ...] = ()


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """The facts of one bundle's Info.plist (the app's, or an embedded bundle's)."""

    entry: str
    """Archive entry of the Info.plist."""
    bundle_id: str | None
    name: str | None
    display_name: str | None
    executable: str | None
    short_version: str | None
    """``CFBundleShortVersionString`` (the marketing version)."""
    version: str | None
    """``CFBundleVersion`` (the build number)."""
    minimum_os: str | None
    device_families: tuple[int, ...]
    """``UIDeviceFamily``: 1 iPhone, 2 iPad, 3 Apple TV, 4 Apple Watch, 6 CarPlay, 7 Vision."""
    platform: str | None
    """``DTPlatformName`` (``iphoneos``, ``iphonesimulator``...)."""
    sdk: str | None
    """``DTSDKName``."""
    package_type: str | None
    """``CFBundlePackageType``: ``APPL``, ``FMWK``, ``XPC!``..."""
    usage_descriptions: tuple[UsageDescription, ...] = ()
    background_modes: tuple[str, ...] = ()
    url_schemes: tuple[str, ...] = ()
    """Schemes the app registers (``CFBundleURLTypes``/``CFBundleURLSchemes``)."""
    queried_schemes: tuple[str, ...] = ()
    """``LSApplicationQueriesSchemes``: other apps' schemes it may probe for."""
    transport_security: TransportSecurity | None = None
    skadnetwork_ids: tuple[str, ...] = ()
    """``SKAdNetworkItems``/``SKAdNetworkIdentifier``, lower-cased as Apple compares them."""
    required_capabilities: tuple[str, ...] = ()
    file_sharing: bool = False
    """``UIFileSharingEnabled``: the app's Documents folder is visible in Finder/iTunes."""
    non_exempt_encryption: bool | None = None
    """``ITSAppUsesNonExemptEncryption`` as declared, None when absent."""
    keys: tuple[str, ...] = ()
    """Every top-level key, sorted."""


# -------------------------------------------------------------------- signing


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """An X.509 certificate as read (not validated)."""

    subject: str
    """RFC 4514."""
    issuer: str
    common_name: str | None
    organization: str | None
    organizational_unit: str | None
    """For Apple-issued signing certificates: the Team ID."""
    serial: str
    not_before: str
    """ISO-8601 UTC."""
    not_after: str
    sha256: str
    sha1: str
    self_signed: bool


@dataclass(frozen=True, slots=True)
class Entitlements:
    """An entitlements dictionary (code signature or provisioning profile)."""

    source: str
    """Where it was read: ``code-signature`` (the XML blob), ``code-signature-der``,
    ``provisioning-profile`` or ``xcent``."""
    values: PlistDict = field(default_factory=PlistDict)

    def get(self, key: str) -> PlistValue | None:
        return self.values.get(key)

    def keys(self) -> tuple[str, ...]:
        return self.values.keys()


@dataclass(frozen=True, slots=True)
class CodeSignature:
    """The embedded code signature (``LC_CODE_SIGNATURE`` SuperBlob) of one Mach-O slice."""

    identifier: str | None
    """The CodeDirectory's identifier (normally the bundle ID)."""
    team_id: str | None
    """The CodeDirectory's team ID (CodeDirectory version 0x20200 and later)."""
    cd_version: int | None
    cd_flags: int | None
    hash_type: str | None
    """``sha1``, ``sha256``... of the main CodeDirectory."""
    blob_types: tuple[int, ...]
    """Slot types in the SuperBlob index (0 CodeDirectory, 2 requirements, 5 entitlements,
    7 DER entitlements, 0x1000+ alternate CodeDirectories, 0x10000 CMS signature)."""
    entitlements: Entitlements | None
    has_der_entitlements: bool
    has_cms: bool
    """A CMS signature blob with content (an ad-hoc signature has none or an empty one)."""
    certificates: tuple[CertificateInfo, ...]
    """The CMS signature's certificates, leaf first when the order can be told."""

    @property
    def ad_hoc(self) -> bool:
        return not self.certificates


class Distribution(StrEnum):
    """How a provisioning profile lets the app be installed (Apple's own categories)."""

    APP_STORE = "app-store"
    """No device list, not all devices: only installable as distributed by Apple."""
    AD_HOC = "ad-hoc"
    """A list of devices (``ProvisionedDevices``) and ``get-task-allow`` false."""
    DEVELOPMENT = "development"
    """A list of devices and ``get-task-allow`` true (debuggable)."""
    ENTERPRISE = "enterprise"
    """``ProvisionsAllDevices``: Apple Developer Enterprise Program in-house build,
    installable on any device outside the App Store."""


@dataclass(frozen=True, slots=True)
class ProvisioningProfile:
    """``embedded.mobileprovision``: a CMS-signed plist issued by Apple."""

    entry: str
    name: str | None
    uuid: str | None
    app_id_name: str | None
    team_ids: tuple[str, ...]
    team_name: str | None
    platforms: tuple[str, ...]
    creation_date: str | None
    """ISO-8601 UTC."""
    expiration_date: str | None
    entitlements: Entitlements
    provisioned_devices: tuple[str, ...]
    provisions_all_devices: bool
    developer_certificates: tuple[CertificateInfo, ...]
    """``DeveloperCertificates``: the certificates allowed to sign the app."""
    signer_certificates: tuple[CertificateInfo, ...]
    """The certificates of the profile's own CMS signature (Apple's)."""
    distribution: Distribution


# ----------------------------------------------------------------------- Mach-O


@dataclass(frozen=True, slots=True)
class MachOSlice:
    """One architecture of a Mach-O file (the whole file when it is thin)."""

    cpu: str
    """``arm64``, ``arm64e``, ``armv7``, ``armv7s``, ``x86_64``, ``i386``..."""
    offset: int
    """Offset of the slice in the file (0 for a thin file)."""
    size: int
    file_type: str
    """``execute``, ``dylib``, ``bundle``..."""
    pie: bool
    """``MH_PIE``: the executable is loaded at a random address (ASLR)."""
    encrypted: bool | None
    """``cryptid`` of ``LC_ENCRYPTION_INFO(_64)`` is not 0 (FairPlay, App Store); None
    when the slice has no such command."""
    crypt_offset: int | None
    crypt_size: int | None
    stack_canary: bool
    """Imports ``___stack_chk_fail``/``___stack_chk_guard`` (-fstack-protector)."""
    arc: bool
    """Imports ``_objc_release``/``_objc_retain``/``_objc_storeStrong`` (ARC-compiled code;
    a binary without Objective-C shows neither)."""
    min_os: str | None
    sdk: str | None
    platform: str | None
    """``ios``, ``iossimulator``, ``macos``... (``LC_BUILD_VERSION`` / ``LC_VERSION_MIN_*``)."""
    libraries: tuple[str, ...]
    """Install names of ``LC_LOAD_DYLIB``, ``LC_LOAD_WEAK_DYLIB``... in load order."""
    weak_libraries: tuple[str, ...]
    rpaths: tuple[str, ...]
    objc_classes: tuple[str, ...]
    """Objective-C (and Objective-C-visible Swift, ``_TtC...``) class, protocol and
    category names the slice defines: the ``__objc_classname`` strings and the defined
    ``_OBJC_CLASS_$_`` symbols, sorted."""
    imported_classes: tuple[str, ...]
    """Classes it uses from other images (``_OBJC_CLASS_$_`` imports), sorted."""
    swift: bool
    """Has ``__swift5_*`` sections (Swift code)."""
    urls: tuple[str, ...]
    """``http(s)``/``ws(s)`` URLs in C-string sections (empty when the code is encrypted:
    the string sections are then ciphertext)."""
    hosts: tuple[str, ...]
    """Bare host names in C-string sections that end in a public suffix-like label."""
    code_signature: CodeSignature | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MachOFile:
    """A Mach-O file of the bundle (the main executable, a framework's, a dylib)."""

    entry: str
    role: str
    """``main``, ``framework``, ``dylib``, ``extension`` (app extension), ``watch``."""
    size: int
    fat: bool
    slices: tuple[MachOSlice, ...]

    @property
    def encrypted(self) -> bool:
        """True when any slice is FairPlay-encrypted (its code cannot be read)."""
        return any(s.encrypted for s in self.slices)


# -------------------------------------------------------------------- privacy


@dataclass(frozen=True, slots=True)
class CollectedDataType:
    """One ``NSPrivacyCollectedDataTypes`` entry of a privacy manifest."""

    type: str
    """E.g. ``NSPrivacyCollectedDataTypePreciseLocation``."""
    linked: bool | None
    tracking: bool | None
    purposes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccessedApi:
    """One ``NSPrivacyAccessedAPITypes`` entry: a required-reason API category and the
    reasons declared for it."""

    category: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrivacyManifest:
    """A ``PrivacyInfo.xcprivacy`` file (the app's or an embedded bundle's)."""

    entry: str
    bundle: str
    """Bundle path inside the app (``""`` for the app itself, ``Frameworks/X.framework``)."""
    tracking: bool | None
    """``NSPrivacyTracking``."""
    tracking_domains: tuple[str, ...]
    collected: tuple[CollectedDataType, ...]
    accessed_apis: tuple[AccessedApi, ...]


# -------------------------------------------------------------------- bundles


@dataclass(frozen=True, slots=True)
class EmbeddedBundle:
    """A bundle inside the app: framework, app extension, watch app, or a loose dylib."""

    path: str
    """Archive path of the bundle (``Payload/X.app/Frameworks/Y.framework``) or dylib."""
    kind: str
    """``framework``, ``dylib``, ``extension``, ``watch``."""
    name: str
    """``Y`` of ``Y.framework``, the dylib's file name."""
    info: BundleInfo | None


@dataclass(frozen=True, slots=True)
class IpaProblem:
    """A part of the IPA that could not be read; the rest is still read."""

    part: str
    """``bundle``, ``info-plist``, ``provision``, ``signature``, ``macho``, ``privacy``,
    ``framework``, ``entitlements``."""
    message: str
    entry: str | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Ipa:
    path: str
    size: int
    sha256: str
    sha1: str
    md5: str
    entries: tuple[ZipEntry, ...]
    tampering: tuple[Tampering, ...]
    """Zip-level deviations (the archive reader's), with the facts only."""
    app_path: str | None
    """``Payload/<name>.app`` (no trailing slash), None when there is no app bundle."""
    info: BundleInfo | None
    provision: ProvisioningProfile | None
    main_binary: MachOFile | None
    binaries: tuple[MachOFile, ...]
    """Other Mach-O files: frameworks' executables, dylibs, extensions."""
    bundles: tuple[EmbeddedBundle, ...]
    privacy_manifests: tuple[PrivacyManifest, ...]
    xcent: Entitlements | None
    """``archived-expanded-entitlements.xcent`` (what Xcode asked for; informational)."""
    problems: tuple[IpaProblem, ...]
    archive: Archive = field(repr=False, compare=False)

    @property
    def code_signature(self) -> CodeSignature | None:
        """The main executable's signature (its first slice that has one)."""
        if self.main_binary is None:
            return None
        for s in self.main_binary.slices:
            if s.code_signature is not None:
                return s.code_signature
        return None

    @property
    def entitlements(self) -> Entitlements | None:
        """What the app is signed with: the code signature's entitlements blob."""
        sig = self.code_signature
        return sig.entitlements if sig is not None else None

    def all_binaries(self) -> tuple[MachOFile, ...]:
        main = (self.main_binary,) if self.main_binary is not None else ()
        return main + self.binaries
