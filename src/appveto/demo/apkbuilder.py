"""Build small, *valid* APKs: chosen manifest, classes, strings and signature.

The tests use it to know every fact of a file in advance, without relying on
third-party samples; ``appveto demo`` uses it to vet sample apps on a machine that has
none. The output is checked against Android's own tools (``aapt``, ``dexdump``,
``apksigner``) in ``tests/apk/test_apkbuilder.py``. It needs nothing the package does
not already depend on (the standard library and ``cryptography``).

What is written:

* ``AndroidManifest.xml`` as Android binary XML: a UTF-16 string pool, a resource map
  with the framework IDs of the ``android:`` attributes, namespace and element chunks
  and typed values (strings, decimal integers, booleans).
* ``classes.dex``: a DEX 035 file with header, sorted ``string_ids``, ``type_ids``,
  ``proto_ids``, ``field_ids``, ``method_ids``, ``class_defs``, ``map_list``, Adler-32
  checksum and SHA-1 signature; classes with :class:`CodeSpec` methods get a
  ``class_data_item`` and real ``code_item``s assembled from symbolic instructions
  (:data:`Insn`), checked by ``dexdump -d``.
* a minimal ``resources.arsc`` (an empty table for package id 0x7f) so tools that
  insist on a resource table accept the file.
* extra entries and native libraries as given.
* optional JAR (v1) signing - ``MANIFEST.MF``, ``<NAME>.SF``, ``<NAME>.RSA|.EC`` as a
  detached PKCS#7 SignedData - and APK Signature Scheme v2/v3 signing (the APK Signing
  Block with the real chunked digests over the zip sections; v3 optionally with a
  proof-of-rotation lineage).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

ANDROID_NS = "http://schemas.android.com/apk/res/android"

# Framework attribute IDs (android.R.attr, public API facts).
ATTR_IDS: dict[str, int] = {
    "theme": 0x01010000,
    "label": 0x01010001,
    "icon": 0x01010002,
    "name": 0x01010003,
    "permission": 0x01010006,
    "readPermission": 0x01010007,
    "writePermission": 0x01010008,
    "protectionLevel": 0x01010009,
    "permissionGroup": 0x0101000A,
    "sharedUserId": 0x0101000B,
    "hasCode": 0x0101000C,
    "enabled": 0x0101000E,
    "debuggable": 0x0101000F,
    "exported": 0x01010010,
    "process": 0x01010011,
    "authorities": 0x01010018,
    "grantUriPermissions": 0x0101001B,
    "priority": 0x0101001C,
    "description": 0x01010020,
    "value": 0x01010024,
    "resource": 0x01010025,
    "mimeType": 0x01010026,
    "scheme": 0x01010027,
    "host": 0x01010028,
    "port": 0x01010029,
    "path": 0x0101002A,
    "pathPrefix": 0x0101002B,
    "pathPattern": 0x0101002C,
    "targetActivity": 0x01010202,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270,
    "maxSdkVersion": 0x01010271,
    "testOnly": 0x01010272,
    "allowBackup": 0x01010280,
    "glEsVersion": 0x01010281,
    "required": 0x0101028E,
    "extractNativeLibs": 0x010104EA,
    "fullBackupContent": 0x010104EB,
    "usesCleartextTraffic": 0x010104EC,
    "autoVerify": 0x010104EE,
    "networkSecurityConfig": 0x01010527,
    "compileSdkVersion": 0x01010572,
    "compileSdkVersionCodename": 0x01010573,
    "appComponentFactory": 0x0101057A,
}
"""``android:`` attributes the builder can give a resource ID. Others are written without
one (Android then ignores them, which is itself a trick worth testing)."""

AttrValue = str | bool | int
"""Strings are TYPE_STRING, booleans TYPE_INT_BOOLEAN, integers TYPE_INT_DEC."""

_TYPE_REFERENCE = 0x01
_TYPE_STRING = 0x03
_TYPE_INT_DEC = 0x10
_TYPE_INT_BOOLEAN = 0x12

_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """A free-form manifest element. Attribute names ``android:x`` are in the Android
    namespace (with the resource ID of ``x`` when :data:`ATTR_IDS` has it); other names
    have no namespace."""

    tag: str
    attrs: tuple[tuple[str, AttrValue], ...] = ()
    children: tuple[ElementSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """One manifest component: ``activity``, ``activity-alias``, ``service``, ``receiver``, ``provider``."""

    kind: str
    name: str
    exported: bool | None = None
    permission: str | None = None
    actions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    authorities: str | None = None
    extra_attrs: tuple[tuple[str, AttrValue], ...] = ()
    """More attributes, named as in :class:`ElementSpec` (``android:enabled``...)."""
    children: tuple[ElementSpec, ...] = ()
    """More child elements (e.g. another ``intent-filter`` with ``data``, ``meta-data``)."""


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A method reference: class descriptor, name, proto descriptor ``(Ljava/lang/String;)V``."""

    class_name: str
    name: str
    descriptor: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    class_name: str
    name: str
    type: str


Insn = tuple[object, ...]
"""A symbolic Dalvik instruction for :class:`CodeSpec`, by mnemonic:

``("const-string", vA, "text")``, ``("const-class", vA, "Ltype;")``,
``("new-instance", vA, "Ltype;")``, ``("new-array", vA, vSize, "[B")``,
``("const/4", vA, -8..7)``, ``("const/16", vA, int)``,
``("invoke-static" | "invoke-virtual" | "invoke-direct" | "invoke-interface", (v...), MethodSpec)``,
``("move-result-object", vA)``, ``("move-result", vA)``, ``("return-void",)``,
``("return-object", vA)``, ``("xor-int/lit8", vA, vB, literal)``, ``("xor-int", vA, vB, vC)``,
``("fill-array-data", vA, bytes)`` (a byte[] payload), ``("sput-object", vA, FieldSpec)``,
``("sget-object", vA, FieldSpec)``, ``("aput-object", vA, vArray, vIndex)``, ``("nop",)``.
Registers are numbers below 16."""


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """A method the class defines, with code (``static`` by default)."""

    name: str
    descriptor: str
    insns: tuple[Insn, ...] = (("return-void",),)
    access_flags: int = 0x0009  # ACC_PUBLIC | ACC_STATIC
    registers: int = 16


@dataclass(frozen=True, slots=True)
class ClassSpec:
    """A class defined in ``classes.dex`` plus what it references; the methods of
    ``code`` are defined with real code items."""

    descriptor: str
    superclass: str | None = "Ljava/lang/Object;"
    methods: tuple[MethodSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    strings: tuple[str, ...] = ()
    access_flags: int = 0x0001  # ACC_PUBLIC
    code: tuple[CodeSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key and its self-signed certificate."""

    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    """Extra certificates shipped after the signer's (issuers); they do not sign."""

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def cert_sha256(self) -> str:
        return hashlib.sha256(self.cert_der).hexdigest()


def make_signing_key(
    *,
    algorithm: Literal["rsa", "ec"] = "rsa",
    common_name: str = "appveto test",
    organization: str | None = "appveto",
    country: str | None = "BE",
    serial: int | None = None,
    issuer: SigningKey | None = None,
) -> SigningKey:
    """Generate an RSA-2048 or EC P-256 key and a certificate for it.

    The certificate is self-signed, or issued by ``issuer`` (whose certificate and chain
    then travel with it as chain extras).
    """
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    attrs = []
    if country is not None:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    name = x509.Name(attrs)
    start = _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _dt.timedelta(days=365 * 30))
        .sign(issuer.private_key if issuer else key, hashes.SHA256())
    )
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return SigningKey(key, cert, chain)


def _default_app_attrs() -> dict[str, AttrValue]:
    return {"debuggable": False, "allowBackup": True}


@dataclass(frozen=True)
class ApkSpec:
    """Everything a built APK contains."""

    package: str
    version_code: int = 1
    version_name: str = "1.0"
    min_sdk: int = 21
    target_sdk: int = 33
    permissions: tuple[str, ...] = ()
    components: tuple[ComponentSpec, ...] = ()
    application_attrs: dict[str, AttrValue] = field(default_factory=_default_app_attrs)
    """``android:`` attributes of ``<application>`` without the prefix (debuggable,
    allowBackup, usesCleartextTraffic, name, label...)."""
    manifest_children: tuple[ElementSpec, ...] = ()
    """More children of ``<manifest>`` (permission, uses-feature, queries...), before
    ``<application>``."""
    application_children: tuple[ElementSpec, ...] = ()
    """More children of ``<application>``, after the components."""
    classes: tuple[ClassSpec, ...] = ()
    extra_dex: tuple[tuple[ClassSpec, ...], ...] = ()
    """Classes of ``classes2.dex``, ``classes3.dex``..."""
    extra_entries: dict[str, bytes] = field(default_factory=dict)
    """More zip entries; a name the builder also writes (``AndroidManifest.xml``,
    ``classes.dex``, ``resources.arsc``) replaces the built one, e.g. a hand-made hostile
    manifest. Signing covers them like any entry."""
    native_libs: dict[str, bytes] = field(default_factory=dict)
    """``{"arm64-v8a/libfoo.so": bytes}`` -> ``lib/arm64-v8a/libfoo.so``."""
    sign: Literal["v1", "v2", "v1v2", "v3", "v1v2v3"] | None = "v1v2"
    """Schemes to sign with. v1 uses SHA-256 digests (Android 4.3+, so apksigner wants
    ``min_sdk >= 18``); apksigner also requires v2 when ``target_sdk >= 30``."""
    key: SigningKey | None = None
    """The signing key; one is generated when None and ``sign`` is set."""
    rotated_from: tuple[SigningKey, ...] = ()
    """Past keys, oldest first: v1/v2 are then signed with the oldest and v3 with
    ``key``, carrying the proof-of-rotation lineage ``(*rotated_from, key)``."""
    signer_name: str = "CERT"
    """Base name of the v1 files (``META-INF/CERT.SF``)."""


# ------------------------------------------------------------- binary XML


class _StringPool:
    def __init__(self) -> None:
        self.strings: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.strings)
            self.strings.append(s)
        return self.index[s]

    def chunk(self) -> bytes:
        offsets = []
        data = bytearray()
        for s in self.strings:
            offsets.append(len(data))
            units = s.encode("utf-16-le")
            n = len(units) // 2
            if n > 0x7FFF:
                data += struct.pack("<HH", 0x8000 | (n >> 16), n & 0xFFFF)
            else:
                data += struct.pack("<H", n)
            data += units + b"\x00\x00"
        while len(data) % 4:
            data += b"\x00"
        header_size = 28
        strings_start = header_size + 4 * len(offsets)
        size = strings_start + len(data)
        head = struct.pack("<HHIIIIII", 0x0001, header_size, size, len(self.strings), 0, 0, strings_start, 0)
        return head + b"".join(struct.pack("<I", o) for o in offsets) + bytes(data)


@dataclass
class XmlElement:
    """A binary-XML element as :func:`build_axml` writes it (free-form, for any document)."""

    tag: str
    attrs: list[tuple[str | None, str, object]]
    """(namespace or None, name, value) where value is str, bool or int."""
    children: list[XmlElement] = field(default_factory=list)


def _attr(name: str, value: AttrValue) -> tuple[str | None, str, object]:
    if name.startswith("android:"):
        return (ANDROID_NS, name[len("android:") :], value)
    return (None, name, value)


def _element(spec: ElementSpec) -> XmlElement:
    return XmlElement(spec.tag, [_attr(k, v) for k, v in spec.attrs], [_element(c) for c in spec.children])


def _manifest_tree(spec: ApkSpec) -> XmlElement:
    root = XmlElement(
        "manifest",
        [
            (None, "package", spec.package),
            (ANDROID_NS, "versionCode", spec.version_code),
            (ANDROID_NS, "versionName", spec.version_name),
        ],
    )
    root.children.append(
        XmlElement(
            "uses-sdk",
            [(ANDROID_NS, "minSdkVersion", spec.min_sdk), (ANDROID_NS, "targetSdkVersion", spec.target_sdk)],
        )
    )
    for p in spec.permissions:
        root.children.append(XmlElement("uses-permission", [(ANDROID_NS, "name", p)]))
    app = XmlElement(
        "application",
        [(ANDROID_NS, k, v) for k, v in sorted(spec.application_attrs.items())],
    )
    for c in spec.components:
        attrs: list[tuple[str | None, str, object]] = [(ANDROID_NS, "name", c.name)]
        if c.exported is not None:
            attrs.append((ANDROID_NS, "exported", c.exported))
        if c.permission is not None:
            attrs.append((ANDROID_NS, "permission", c.permission))
        if c.authorities is not None:
            attrs.append((ANDROID_NS, "authorities", c.authorities))
        attrs += [_attr(k, v) for k, v in c.extra_attrs]
        el = XmlElement(c.kind, attrs)
        if c.actions or c.categories:
            f = XmlElement("intent-filter", [])
            f.children += [XmlElement("action", [(ANDROID_NS, "name", a)]) for a in c.actions]
            f.children += [XmlElement("category", [(ANDROID_NS, "name", a)]) for a in c.categories]
            el.children.append(f)
        el.children += [_element(x) for x in c.children]
        app.children.append(el)
    app.children += [_element(x) for x in spec.application_children]
    root.children += [_element(x) for x in spec.manifest_children]
    root.children.append(app)
    return root


def build_axml(root: XmlElement) -> bytes:
    """Encode an element tree as Android binary XML."""
    pool = _StringPool()
    # Attribute names with resource IDs come first, in the order of the resource map.
    res_names: list[str] = []

    def collect(el: XmlElement) -> None:
        for ns, name, _ in el.attrs:
            if ns == ANDROID_NS and name in ATTR_IDS and name not in res_names:
                res_names.append(name)
        for c in el.children:
            collect(c)

    collect(root)
    for n in res_names:
        pool.add(n)
    resmap = b"".join(struct.pack("<I", ATTR_IDS[n]) for n in res_names)
    resmap_chunk = struct.pack("<HHI", 0x0180, 8, 8 + len(resmap)) + resmap
    prefix_i = pool.add("android")
    uri_i = pool.add(ANDROID_NS)

    body = bytearray()
    line = [1]

    def node_header(kind: int, size: int) -> bytes:
        line[0] += 1
        return struct.pack("<HHIII", kind, 16, size, line[0], 0xFFFFFFFF)

    def emit(el: XmlElement) -> None:
        name_i = pool.add(el.tag)
        encoded = []
        for ns, name, value in el.attrs:
            ni = pool.add(name)
            nsi = uri_i if ns == ANDROID_NS else 0xFFFFFFFF
            if isinstance(value, bool):
                raw, dtype, data = 0xFFFFFFFF, _TYPE_INT_BOOLEAN, 0xFFFFFFFF if value else 0
            elif isinstance(value, int):
                raw, dtype, data = 0xFFFFFFFF, _TYPE_INT_DEC, value & 0xFFFFFFFF
            else:
                si = pool.add(str(value))
                raw, dtype, data = si, _TYPE_STRING, si
            rid = ATTR_IDS.get(name, 0xFFFFFFFF) if ns == ANDROID_NS else 0xFFFFFFFF
            encoded.append((rid, struct.pack("<IIIHBBI", nsi, ni, raw, 8, 0, dtype, data)))
        encoded.sort(key=lambda t: t[0])  # by resource ID, as aapt writes them
        attrs = b"".join(e for _, e in encoded)
        ext = struct.pack("<IIHHHHHH", 0xFFFFFFFF, name_i, 20, 20, len(encoded), 0, 0, 0)
        body.extend(node_header(0x0102, 16 + len(ext) + len(attrs)) + ext + attrs)
        for c in el.children:
            emit(c)
        body.extend(node_header(0x0103, 24) + struct.pack("<II", 0xFFFFFFFF, name_i))

    ns_body = struct.pack("<II", prefix_i, uri_i)
    body.extend(node_header(0x0100, 24) + ns_body)
    emit(root)
    body.extend(node_header(0x0101, 24) + ns_body)
    pool_chunk = pool.chunk()
    total = 8 + len(pool_chunk) + len(resmap_chunk) + len(body)
    return struct.pack("<HHI", 0x0003, 8, total) + pool_chunk + resmap_chunk + bytes(body)


def build_manifest(spec: ApkSpec) -> bytes:
    return build_axml(_manifest_tree(spec))


def build_resources(package: str) -> bytes:
    """A resource table with one empty package (id 0x7f) named ``package``."""
    empty_pool = _StringPool().chunk()
    name = package.encode("utf-16-le")[:254].ljust(256, b"\x00")
    pkg_header = 288
    pkg = struct.pack("<HHII", 0x0200, pkg_header, 0, 0x7F) + name
    pkg += struct.pack("<IIIII", pkg_header, 0, pkg_header + len(empty_pool), 0, 0)
    pkg += empty_pool + empty_pool
    pkg = pkg[:4] + struct.pack("<I", len(pkg)) + pkg[8:]
    table = struct.pack("<HHII", 0x0002, 12, 12 + len(empty_pool) + len(pkg), 1) + empty_pool + pkg
    return table


# -------------------------------------------------------------------- DEX


def _mutf8(s: str) -> bytes:
    out = bytearray()
    units = s.encode("utf-16-be")
    for i in range(0, len(units), 2):
        u = (units[i] << 8) | units[i + 1]
        if 0 < u < 0x80:
            out.append(u)
        elif u < 0x800:
            out += bytes((0xC0 | (u >> 6), 0x80 | (u & 0x3F)))
        else:
            out += bytes((0xE0 | (u >> 12), 0x80 | ((u >> 6) & 0x3F), 0x80 | (u & 0x3F)))
    return bytes(out)


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _split_proto(desc: str) -> tuple[tuple[str, ...], str]:
    if not desc.startswith("(") or ")" not in desc:
        raise ValueError(f"bad method descriptor {desc!r}")
    params_s, ret = desc[1:].split(")", 1)
    params: list[str] = []
    i = 0
    while i < len(params_s):
        j = i
        while params_s[j] == "[":
            j += 1
        if params_s[j] == "L":
            j = params_s.index(";", j)
        params.append(params_s[i : j + 1])
        i = j + 1
    return tuple(params), ret


def _shorty(t: str) -> str:
    return "L" if t[0] in "L[" else t[0]


_OPS = {
    "nop": 0x00, "move-result": 0x0A, "move-result-object": 0x0C, "return-void": 0x0E, "return-object": 0x11,
    "const/4": 0x12, "const/16": 0x13, "const-string": 0x1A, "const-string/jumbo": 0x1B, "const-class": 0x1C,
    "new-instance": 0x22, "new-array": 0x23, "fill-array-data": 0x26, "aput-object": 0x4D,
    "sget-object": 0x62, "sput-object": 0x69, "invoke-virtual": 0x6E, "invoke-super": 0x6F,
    "invoke-direct": 0x70, "invoke-static": 0x71, "invoke-interface": 0x72, "xor-int": 0x97,
    "xor-int/lit8": 0xDF,
}  # fmt: skip


def _code_refs(
    classes: tuple[ClassSpec, ...],
) -> tuple[list[str], list[str], list[MethodSpec], list[FieldSpec]]:
    """Strings, types, methods and fields the code of ``classes`` refers to (and defines)."""
    strings: list[str] = []
    types: list[str] = []
    methods: list[MethodSpec] = []
    fields: list[FieldSpec] = []
    for c in classes:
        for cs in c.code:
            methods.append(MethodSpec(c.descriptor, cs.name, cs.descriptor))
            for ins in cs.insns:
                for arg in ins[1:]:
                    if isinstance(arg, MethodSpec):
                        methods.append(arg)
                    elif isinstance(arg, FieldSpec):
                        fields.append(arg)
                if ins[0] in ("const-string", "const-string/jumbo"):
                    strings.append(str(ins[2]))
                elif ins[0] in ("const-class", "new-instance"):
                    types.append(str(ins[2]))
                elif ins[0] == "new-array":
                    types.append(str(ins[3]))
    return strings, types, methods, fields


def _ins_words(desc: str, static: bool) -> int:
    params, _ = _split_proto(desc)
    return sum(2 if p in ("J", "D") else 1 for p in params) + (0 if static else 1)


def _assemble(
    cs: CodeSpec, sidx: dict[str, int], tidx: dict[str, int], midx: dict[tuple[str, str, str], int],
    fidx: dict[tuple[str, str, str], int],
) -> bytes:  # fmt: skip
    """The insns of ``cs`` as code units (array payloads appended, 4-byte aligned)."""
    out = bytearray()
    payloads: list[tuple[int, bytes]] = []  # (position of the fill-array-data insn, data)
    for ins in cs.insns:
        name = str(ins[0])
        op = _OPS[name]
        a = ins[1] if len(ins) > 1 else 0
        if name in ("nop", "return-void"):
            out += bytes((op, 0))
        elif name in ("move-result", "move-result-object", "return-object"):
            out += bytes((op, int(a)))  # type: ignore[call-overload]
        elif name == "const/4":
            out += bytes((op, ((int(ins[2]) & 0xF) << 4) | int(a)))  # type: ignore[call-overload]
        elif name == "const/16":
            out += struct.pack("<BBh", op, a, ins[2])
        elif name == "const-string":
            i = sidx[str(ins[2])]
            out += struct.pack("<BBH", op, a, i) if i <= 0xFFFF else struct.pack("<BBI", 0x1B, a, i)
        elif name in ("const-class", "new-instance"):
            out += struct.pack("<BBH", op, a, tidx[str(ins[2])])
        elif name == "new-array":
            out += struct.pack("<BBH", op, (int(ins[2]) << 4) | int(a), tidx[str(ins[3])])  # type: ignore[call-overload]
        elif name in ("sget-object", "sput-object"):
            f = ins[2]
            assert isinstance(f, FieldSpec)
            out += struct.pack("<BBH", op, a, fidx[(f.class_name, f.name, f.type)])
        elif name == "aput-object":
            out += struct.pack("<BBBB", op, a, ins[2], ins[3])
        elif name == "xor-int/lit8":
            out += struct.pack("<BBBb", op, a, ins[2], ins[3])
        elif name == "xor-int":
            out += struct.pack("<BBBB", op, a, ins[2], ins[3])
        elif name.startswith("invoke-"):
            assert isinstance(a, tuple)
            regs = tuple(int(r) for r in a)
            m = ins[2]
            assert isinstance(m, MethodSpec) and len(regs) <= 5
            five = (*regs, 0, 0, 0, 0, 0)
            word = five[0] | (five[1] << 4) | (five[2] << 8) | (five[3] << 12)
            out += struct.pack(
                "<BBHH", op, (len(regs) << 4) | five[4], midx[(m.class_name, m.name, m.descriptor)], word
            )
        elif name == "fill-array-data":
            payloads.append((len(out), bytes(ins[2])))  # type: ignore[call-overload]
            out += struct.pack("<BBi", op, a, 0)  # offset patched below
        else:
            raise ValueError(f"unknown instruction {name}")
    for at, data in payloads:
        if len(out) % 4:
            out += b"\x00\x00"  # nop: payloads are 4-byte aligned
        struct.pack_into("<i", out, at + 2, (len(out) - at) // 2)
        out += struct.pack("<HHI", 0x0300, 1, len(data)) + data + b"\x00" * (len(data) % 2)
    return bytes(out)


def build_dex(classes: tuple[ClassSpec, ...]) -> bytes:
    """A DEX 035 file defining ``classes`` with their references and strings; methods of
    ``ClassSpec.code`` get class data and code items."""
    strings: set[str] = set()
    types: set[str] = set()
    protos: set[tuple[str, tuple[str, ...]]] = set()
    code_strings, code_types, code_methods, code_fields = _code_refs(classes)
    strings.update(code_strings)
    types.update(code_types)
    if code_methods or code_fields:
        extra = ClassSpec("", methods=tuple(code_methods), fields=tuple(code_fields))
        ref_specs = (*classes, extra)
    else:
        ref_specs = classes
    for c in ref_specs:
        if c.descriptor:  # the extra spec only carries the code's references
            types.add(c.descriptor)
            if c.superclass:
                types.add(c.superclass)
            strings.update(c.strings)
        for m in c.methods:
            params, ret = _split_proto(m.descriptor)
            types.add(m.class_name)
            types.update(params)
            types.add(ret)
            strings.add(m.name)
            protos.add((ret, tuple(params)))
        for f in c.fields:
            types.update((f.class_name, f.type))
            strings.add(f.name)
    for ret, ps in protos:
        strings.add(_shorty(ret) + "".join(_shorty(p) for p in ps))
    strings.update(types)
    str_list = sorted(strings, key=lambda s: s.encode("utf-16-be"))
    sidx = {s: i for i, s in enumerate(str_list)}
    type_list = sorted(types, key=lambda t: sidx[t])
    tidx = {t: i for i, t in enumerate(type_list)}
    proto_list = sorted(protos, key=lambda p: (tidx[p[0]], [tidx[x] for x in p[1]]))
    pidx = {p: i for i, p in enumerate(proto_list)}

    def proto_of(m: MethodSpec) -> int:
        ps, ret = _split_proto(m.descriptor)
        return pidx[(ret, ps)]

    methods = sorted({(tidx[m.class_name], sidx[m.name], proto_of(m)) for c in ref_specs for m in c.methods})
    fields = sorted({(tidx[f.class_name], sidx[f.name], tidx[f.type]) for c in ref_specs for f in c.fields})
    midx: dict[tuple[str, str, str], int] = {}
    for i, (t, n, p) in enumerate(methods):
        ret, ps = proto_list[p]
        midx[(type_list[t], str_list[n], "(" + "".join(ps) + ")" + ret)] = i
    fidx = {(type_list[t], str_list[n], type_list[ty]): i for i, (t, n, ty) in enumerate(fields)}

    # Superclasses defined here must come before their subclasses.
    defined = {c.descriptor: c for c in classes}
    ordered: list[ClassSpec] = []
    seen: set[str] = set()

    def place(c: ClassSpec) -> None:
        if c.descriptor in seen:
            return
        seen.add(c.descriptor)
        if c.superclass in defined:
            place(defined[c.superclass])
        ordered.append(c)

    for c in classes:
        place(c)

    off = 0x70
    string_ids_off = off
    off += 4 * len(str_list)
    type_ids_off = off
    off += 4 * len(type_list)
    proto_ids_off = off
    off += 12 * len(proto_list)
    field_ids_off = off
    off += 8 * len(fields)
    method_ids_off = off
    off += 8 * len(methods)
    class_defs_off = off
    off += 32 * len(ordered)
    data_off = off

    data = bytearray()
    map_items: list[tuple[int, int, int]] = []  # (type, count, offset)
    # type_lists (4-aligned)
    param_lists = sorted({p[1] for p in proto_list if p[1]}, key=lambda ps: [tidx[x] for x in ps])
    tl_off: dict[tuple[str, ...], int] = {}
    for ps in param_lists:
        while len(data) % 4:
            data.append(0)
        tl_off[ps] = data_off + len(data)
        data += struct.pack("<I", len(ps)) + b"".join(struct.pack("<H", tidx[x]) for x in ps)
    if param_lists:
        map_items.append((0x1001, len(param_lists), tl_off[param_lists[0]]))
    # string_data
    sd_off: list[int] = []
    for s in str_list:
        sd_off.append(data_off + len(data))
        data += _uleb(len(s.encode("utf-16-le")) // 2) + _mutf8(s) + b"\x00"
    if str_list:
        map_items.append((0x2002, len(str_list), sd_off[0]))
    # code items (4-byte aligned), then class data items
    code_off: dict[tuple[str, str, str], int] = {}
    n_code = 0
    first_code = 0
    for c in ordered:
        for cs in c.code:
            while len(data) % 4:
                data.append(0)
            insns = _assemble(cs, sidx, tidx, midx, fidx)
            static = bool(cs.access_flags & 0x0008)
            ins_size = _ins_words(cs.descriptor, static)
            off = data_off + len(data)
            first_code = first_code or off
            code_off[(c.descriptor, cs.name, cs.descriptor)] = off
            data += (
                struct.pack("<HHHHII", max(cs.registers, ins_size), ins_size, 5, 0, 0, len(insns) // 2)
                + insns
            )
            n_code += 1
    if n_code:
        map_items.append((0x2001, n_code, first_code))
    class_data_off: dict[str, int] = {}
    first_cd = 0
    for c in ordered:
        if not c.code:
            continue
        direct: list[tuple[int, int, int]] = []
        virtual: list[tuple[int, int, int]] = []
        for cs in c.code:
            mi = midx[(c.descriptor, cs.name, cs.descriptor)]
            flags = cs.access_flags | (0x10000 if cs.name in ("<init>", "<clinit>") else 0)
            target = direct if flags & 0x0008 or flags & 0x0002 or flags & 0x10000 else virtual
            target.append((mi, flags, code_off[(c.descriptor, cs.name, cs.descriptor)]))
        off = data_off + len(data)
        first_cd = first_cd or off
        class_data_off[c.descriptor] = off
        item = bytearray(_uleb(0) + _uleb(0) + _uleb(len(direct)) + _uleb(len(virtual)))
        for group in (sorted(direct), sorted(virtual)):
            prev = 0
            for k, (mi, flags, co) in enumerate(group):
                item += _uleb(mi if k == 0 else mi - prev) + _uleb(flags) + _uleb(co)
                prev = mi
        data += item
    if class_data_off:
        map_items.append((0x2000, len(class_data_off), first_cd))
    while len(data) % 4:
        data.append(0)
    map_off = data_off + len(data)

    sections = [
        (0x0000, 1, 0),
        (0x0001, len(str_list), string_ids_off),
        (0x0002, len(type_list), type_ids_off),
        (0x0003, len(proto_list), proto_ids_off),
        (0x0004, len(fields), field_ids_off),
        (0x0005, len(methods), method_ids_off),
        (0x0006, len(ordered), class_defs_off),
    ]
    all_items = [s for s in sections if s[1]] + map_items + [(0x1000, 1, map_off)]
    all_items.sort(key=lambda t: t[2])
    map_list = struct.pack("<I", len(all_items)) + b"".join(
        struct.pack("<HHII", t, 0, n, o) for t, n, o in all_items
    )
    data += map_list
    file_size = data_off + len(data)

    body = bytearray()
    body += b"".join(struct.pack("<I", o) for o in sd_off)
    body += b"".join(struct.pack("<I", sidx[t]) for t in type_list)
    for ret, ps in proto_list:
        shorty = _shorty(ret) + "".join(_shorty(p) for p in ps)
        body += struct.pack("<III", sidx[shorty], tidx[ret], tl_off.get(ps, 0))
    for cls, name, typ in fields:
        body += struct.pack("<HHI", cls, typ, name)
    for cls, name, proto in methods:
        body += struct.pack("<HHI", cls, proto, name)
    no_index = 0xFFFFFFFF
    for c in ordered:
        sup = tidx[c.superclass] if c.superclass else no_index
        cd = class_data_off.get(c.descriptor, 0)
        body += struct.pack("<8I", tidx[c.descriptor], c.access_flags, sup, 0, no_index, 0, cd, 0)

    def nz(count: int, offset: int) -> tuple[int, int]:
        return (count, offset if count else 0)

    header = bytearray(b"dex\n035\x00" + b"\x00" * 24)
    header += struct.pack("<III", file_size, 0x70, 0x12345678)
    header += struct.pack("<II", 0, 0)  # link
    header += struct.pack("<I", map_off)
    for count, offset in (
        nz(len(str_list), string_ids_off),
        nz(len(type_list), type_ids_off),
        nz(len(proto_list), proto_ids_off),
        nz(len(fields), field_ids_off),
        nz(len(methods), method_ids_off),
        nz(len(ordered), class_defs_off),
    ):
        header += struct.pack("<II", count, offset)
    header += struct.pack("<II", len(data), data_off)
    assert len(header) == 0x70
    dex = bytearray(header + body + data)
    assert len(dex) == file_size
    dex[12:32] = hashlib.sha1(dex[32:]).digest()
    dex[8:12] = struct.pack("<I", zlib.adler32(bytes(dex[12:])))
    return bytes(dex)


# ---------------------------------------------------------------- signing


def _manifest_section(name: str, digest_name: str, digest: bytes) -> bytes:
    return _wrap(f"Name: {name}") + _wrap(f"{digest_name}: {base64.b64encode(digest).decode()}") + b"\r\n"


def _wrap(line: str) -> bytes:
    """A JAR manifest line, wrapped at 72 bytes with continuation lines."""
    raw = line.encode("utf-8")
    out = [raw[:70]]
    raw = raw[70:]
    while raw:
        out.append(b" " + raw[:69])
        raw = raw[69:]
    return b"\r\n".join(out) + b"\r\n"


def _v1_files(entries: dict[str, bytes], spec: ApkSpec, key: SigningKey) -> dict[str, bytes]:
    # SHA-256 JAR digests and signatures need API 18+; specs signed with v1 use min_sdk >= 18.
    algo = hashlib.sha256
    dname = "SHA-256-Digest"
    main = b"Manifest-Version: 1.0\r\nCreated-By: appveto tests\r\n\r\n"
    sections = {n: _manifest_section(n, dname, algo(d).digest()) for n, d in sorted(entries.items())}
    manifest = main + b"".join(sections.values())
    sf = b"Signature-Version: 1.0\r\nCreated-By: appveto tests\r\n"
    sf += _wrap(f"{dname}-Manifest: {base64.b64encode(algo(manifest).digest()).decode()}")
    if spec.sign is not None and spec.sign != "v1":
        later = ", ".join(v for v in ("2", "3") if f"v{v}" in spec.sign)
        sf += f"X-Android-APK-Signed: {later}\r\n".encode()
    sf += b"\r\n"
    for n, sec in sections.items():
        sf += _manifest_section(n, dname, algo(sec).digest())
    builder = pkcs7.PKCS7SignatureBuilder().set_data(sf)
    for extra in key.chain:
        builder = builder.add_certificate(extra)
    block = builder.add_signer(key.certificate, key.private_key, hashes.SHA256()).sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.NoAttributes],
    )
    ext = "EC" if isinstance(key.private_key, ec.EllipticCurvePrivateKey) else "RSA"
    return {
        "META-INF/MANIFEST.MF": manifest,
        f"META-INF/{spec.signer_name}.SF": sf,
        f"META-INF/{spec.signer_name}.{ext}": block,
    }


def _eocd_offset(z: bytes) -> int:
    at = z.rfind(b"PK\x05\x06")
    if at < 0:
        raise ValueError("no end of central directory")
    return at


def _lp(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b


def _chunk_digest(parts: list[bytes]) -> bytes:
    chunk = 1024 * 1024
    digests = []
    for p in parts:
        for i in range(0, len(p), chunk):
            piece = p[i : i + chunk]
            digests.append(hashlib.sha256(b"\xa5" + struct.pack("<I", len(piece)) + piece).digest())
    return hashlib.sha256(b"\x5a" + struct.pack("<I", len(digests)) + b"".join(digests)).digest()


V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
LINEAGE_ATTR_ID = 0x3BA06F8C
STRIPPING_PROTECTION_ATTR_ID = 0xBEEFF00D
V3_MIN_SDK = 28
SDK_UNBOUNDED = 0x7FFFFFFF
DEFAULT_CAPABILITIES = 0x17
"""Lineage node flags as apksig sets them by default: installed data, shared UID,
permission and auth (not rollback)."""


def _alg_id(key: SigningKey) -> int:
    # RSASSA-PKCS1-v1_5 with SHA2-256, or ECDSA with SHA2-256 (apksig SignatureAlgorithm IDs)
    return 0x0103 if isinstance(key.private_key, rsa.RSAPrivateKey) else 0x0201


def _sign(key: SigningKey, data: bytes) -> bytes:
    if isinstance(key.private_key, rsa.RSAPrivateKey):
        return key.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def encode_lineage(keys: tuple[SigningKey, ...], flags: int = DEFAULT_CAPABILITIES) -> bytes:
    """A proof-of-rotation lineage, oldest key first; each node signed by its predecessor."""
    out = struct.pack("<I", 1)
    prev: SigningKey | None = None
    for k in keys:
        signed = _lp(k.cert_der) + struct.pack("<I", _alg_id(prev) if prev else 0)
        sig = _sign(prev, signed) if prev else b""
        out += _lp(_lp(signed) + struct.pack("<II", flags, _alg_id(k)) + _lp(sig))
        prev = k
    return out


def _scheme_signer(
    key: SigningKey, digest: bytes, *, sdk: tuple[int, int] | None, attrs: tuple[tuple[int, bytes], ...]
) -> bytes:
    """One v2 (``sdk`` None) or v3 signer record."""
    alg = _alg_id(key)
    certs = b"".join(_lp(c.public_bytes(serialization.Encoding.DER)) for c in (key.certificate, *key.chain))
    signed_data = _lp(_lp(struct.pack("<I", alg) + _lp(digest))) + _lp(certs)
    sdk_bytes = struct.pack("<II", *sdk) if sdk else b""
    signed_data += sdk_bytes + _lp(b"".join(_lp(struct.pack("<I", i) + v) for i, v in attrs))
    spki = key.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sigs = _lp(_lp(struct.pack("<I", alg) + _lp(_sign(key, signed_data))))
    return _lp(signed_data) + sdk_bytes + sigs + _lp(spki)


def add_signing_block(zip_bytes: bytes, pairs: list[tuple[int, bytes]]) -> bytes:
    """Insert an APK Signing Block holding ``pairs`` (id, value) before the central directory."""
    eocd = _eocd_offset(zip_bytes)
    cd_off = struct.unpack_from("<I", zip_bytes, eocd + 16)[0]
    body = b"".join(struct.pack("<QI", 4 + len(v), i) + v for i, v in pairs)
    size = 8 + len(body) + 8 + 16 - 8
    block = struct.pack("<Q", size) + body + struct.pack("<Q", size) + b"APK Sig Block 42"
    tail = bytearray(zip_bytes[eocd:])
    struct.pack_into("<I", tail, 16, cd_off + len(block))
    return zip_bytes[:cd_off] + block + zip_bytes[cd_off:eocd] + bytes(tail)


def add_scheme_signatures(
    zip_bytes: bytes,
    *,
    v2: SigningKey | None = None,
    v3: SigningKey | None = None,
    lineage: tuple[SigningKey, ...] = (),
) -> bytes:
    """Sign with v2 and/or v3 (v3 for API 28+, with an optional rotation ``lineage``).

    The digest is the real one: SHA-256 over 1 MiB chunks of the entries, the central
    directory and the end record (whose CD offset points at the block's start).
    """
    eocd = _eocd_offset(zip_bytes)
    cd_off = struct.unpack_from("<I", zip_bytes, eocd + 16)[0]
    digest = _chunk_digest([zip_bytes[:cd_off], zip_bytes[cd_off:eocd], zip_bytes[eocd:]])
    pairs: list[tuple[int, bytes]] = []
    if v2 is not None:
        attrs = ((STRIPPING_PROTECTION_ATTR_ID, struct.pack("<I", 3)),) if v3 is not None else ()
        pairs.append((V2_BLOCK_ID, _lp(_lp(_scheme_signer(v2, digest, sdk=None, attrs=attrs)))))
    if v3 is not None:
        attrs = ((LINEAGE_ATTR_ID, encode_lineage(lineage)),) if lineage else ()
        signer = _scheme_signer(v3, digest, sdk=(V3_MIN_SDK, SDK_UNBOUNDED), attrs=attrs)
        pairs.append((V3_BLOCK_ID, _lp(_lp(signer))))
    return add_signing_block(zip_bytes, pairs)


def add_v2_signature(zip_bytes: bytes, key: SigningKey) -> bytes:
    """Insert an APK Signing Block with one v2 signer before the central directory."""
    return add_scheme_signatures(zip_bytes, v2=key)


# ------------------------------------------------------------------ build


def build_apk(spec: ApkSpec) -> bytes:
    """The bytes of an APK built from ``spec`` (signed as ``spec.sign`` asks)."""
    entries: dict[str, bytes] = {
        "AndroidManifest.xml": build_manifest(spec),
        "classes.dex": build_dex(spec.classes),
        "resources.arsc": build_resources(spec.package),
    }
    for i, more in enumerate(spec.extra_dex, start=2):
        entries[f"classes{i}.dex"] = build_dex(more)
    for abi_name, blob in spec.native_libs.items():
        entries[f"lib/{abi_name}"] = blob
    entries.update(spec.extra_entries)
    key = spec.key
    if spec.sign is not None and key is None:
        key = make_signing_key()
    # With rotation, v1 and v2 (read by platforms before API 28) use the oldest key.
    old_key = spec.rotated_from[0] if spec.rotated_from else key
    if spec.sign is not None and "v1" in spec.sign:
        assert old_key is not None
        entries.update(_v1_files(entries, spec, old_key))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        order = ["AndroidManifest.xml", *sorted(n for n in entries if n != "AndroidManifest.xml")]
        for n in order:
            info = zipfile.ZipInfo(n, date_time=_ZIP_DATE)
            stored = n == "resources.arsc" or n.endswith(".so")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            z.writestr(info, entries[n])
    out = buf.getvalue()
    if spec.sign is not None and ("v2" in spec.sign or "v3" in spec.sign):
        out = add_scheme_signatures(
            out,
            v2=old_key if "v2" in spec.sign else None,
            v3=key if "v3" in spec.sign else None,
            lineage=(*spec.rotated_from, key) if spec.rotated_from and key else (),
        )
    return out
