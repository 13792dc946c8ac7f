"""Who signed an APK: v1 (JAR), v2, v3 and v3.1 signers, rotation lineage, block IDs.

This module *describes* signatures; it does **not** verify them. No digest is
recomputed and no signature is checked, so a certificate listed here is the
certificate the APK *claims* to be signed with. Verification is Android's (and
``apksigner``'s) job; what we need for vetting is the publisher identity (the
SHA-256 of the signer certificate), the schemes in use and the structural oddities
that tampered or hand-made files show.

Layouts follow AOSP's apksig (``ApkSigningBlockUtils``, ``V2SchemeVerifier``,
``V3SchemeVerifier``, ``V3SigningCertificateLineage``) and the JAR signing spec:

* The APK Signing Block sits right before the ZIP central directory:
  ``u64 size, (u64 len, u32 id, value)*, u64 size, "APK Sig Block 42"``.
* A v2/v3/v3.1 block value is a length-prefixed (u32) sequence of length-prefixed
  signers. A signer holds length-prefixed *signed data* (digests, certificates,
  [v3: u32 minSdk, u32 maxSdk], additional attributes), [v3: u32 minSdk, u32 maxSdk],
  signatures and the public key (SubjectPublicKeyInfo). The first certificate of a
  signer is its signing certificate; the rest are chain extras.
* The v3 additional attribute ``0x3ba06f8c`` is the proof-of-rotation lineage:
  ``u32 version (1)`` then length-prefixed nodes of (length-prefixed signed data
  (length-prefixed certificate, u32 parent signature algorithm), u32 flags,
  u32 signature algorithm, length-prefixed signature).
* v1: ``META-INF/<NAME>.RSA|.DSA|.EC`` hold a PKCS#7 SignedData whose SignerInfo
  names the signing certificate by issuer and serial number.

Structural problems (truncated block, bad lengths, unparsable certificates) become
strings in :attr:`SigningInfo.problems`; only a wholly unreadable file raises
:class:`~appveto.errors.ApkError`.
"""

from __future__ import annotations

import hashlib
import mmap
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from appveto.apk._reader import Reader, ReadError
from appveto.apk.model import (
    DistinguishedName,
    LineageNode,
    SignerCert,
    SigningInfo,
    SigningScheme,
    ZipEntry,
)
from appveto.errors import ApkError, AppvetoError

if TYPE_CHECKING:
    from cryptography import x509

    from appveto.apk.archive import Archive

__all__ = [
    "APK_SIG_BLOCK_MAGIC",
    "BLOCK_NAMES",
    "LINEAGE_ATTR_ID",
    "V2_BLOCK_ID",
    "V3_BLOCK_ID",
    "V31_BLOCK_ID",
    "parse_signing",
]

APK_SIG_BLOCK_MAGIC = b"APK Sig Block 42"
V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
V31_BLOCK_ID = 0x1B93AD61
LINEAGE_ATTR_ID = 0x3BA06F8C

BLOCK_NAMES: Mapping[int, str] = MappingProxyType(
    {
        V2_BLOCK_ID: "APK Signature Scheme v2",
        V3_BLOCK_ID: "APK Signature Scheme v3",
        V31_BLOCK_ID: "APK Signature Scheme v3.1",
        0x42726577: "verity padding",
        0x6DFF800D: "source stamp v2",
        0x2B09189E: "source stamp v1",
        0x2146444E: "Google Play frosting",
        0x504B4453: "dependency info (Android Gradle plugin)",
        0x71777777: "Walle channel info",
        0x881155FF: "VasDolly channel info",
    }
)
"""Names of APK Signing Block IDs published by AOSP and common build tools."""

_MAX_SDK_UNBOUNDED = 0x7FFFFFFF
_MAX_CERTS = 256
"""Upper bound on certificates described per APK (hostile files may repeat thousands)."""
_MAX_PAIRS = 4096
"""Upper bound on ID-value pairs read from an APK Signing Block."""
_MAX_SIGNERS = 64
"""Upper bound on signers read per scheme block or PKCS#7 block (apksig allows 10)."""
_MAX_PKCS7_CERTS = 512

_SCHEME_OF_BLOCK = {
    V2_BLOCK_ID: SigningScheme.V2,
    V3_BLOCK_ID: SigningScheme.V3,
    V31_BLOCK_ID: SigningScheme.V31,
}
_SCHEME_ORDER = (SigningScheme.V1, SigningScheme.V2, SigningScheme.V3, SigningScheme.V31)

_V1_BLOCK_SUFFIXES = (".RSA", ".DSA", ".EC")

# Names from RFC 3279, RFC 4055, RFC 5758, RFC 8410 (public OID registry facts).
_SIG_ALG_NAMES = {
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10040.4.3": "dsa-with-sha1",
    "2.16.840.1.101.3.4.3.1": "dsa-with-sha224",
    "2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
_KEY_ALG_NAMES = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA",
    "1.2.840.10040.4.1": "DSA",
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}


class _Problem(Exception):
    """A structural problem inside one part; caught and recorded by the caller."""


# ------------------------------------------------------------------------ DER


@dataclass(frozen=True, slots=True)
class _Tlv:
    tag: int
    start: int
    """Offset of the tag byte."""
    body: int
    """Offset of the content."""
    end: int
    """Offset just past the content (and past the end-of-contents octets if indefinite)."""
    body_end: int

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


def _tlv(buf: bytes, pos: int, limit: int, depth: int = 0) -> _Tlv:
    """Read one BER/DER TLV (single-byte tags only, as X.509 and PKCS#7 use)."""
    if depth > 32:
        raise _Problem("ASN.1 nesting too deep")
    if pos + 2 > limit:
        raise _Problem(f"ASN.1 element truncated at byte {pos}")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise _Problem(f"unsupported multi-byte ASN.1 tag at byte {pos}")
    first = buf[pos + 1]
    p = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        if not tag & 0x20:
            raise _Problem(f"indefinite length on a primitive ASN.1 element at byte {pos}")
        q = p
        while True:
            if q + 2 > limit:
                raise _Problem(f"unterminated indefinite-length ASN.1 element at byte {pos}")
            if buf[q] == 0 and buf[q + 1] == 0:
                return _Tlv(tag, pos, p, q + 2, q)
            q = _tlv(buf, q, limit, depth + 1).end
    else:
        n = first & 0x7F
        if n > 4 or p + n > limit:
            raise _Problem(f"bad ASN.1 length at byte {pos}")
        length = int.from_bytes(buf[p : p + n], "big")
        p += n
    if p + length > limit:
        raise _Problem(f"ASN.1 element at byte {pos} runs past its container")
    return _Tlv(tag, pos, p, p + length, p + length)


def _children(buf: bytes, parent: _Tlv, depth: int = 0) -> list[_Tlv]:
    out: list[_Tlv] = []
    p = parent.body
    while p < parent.body_end:
        t = _tlv(buf, p, parent.body_end, depth + 1)
        out.append(t)
        p = t.end
    return out


def _expect(t: _Tlv, tag: int, what: str) -> _Tlv:
    if t.tag != tag:
        raise _Problem(f"{what}: expected ASN.1 tag {tag:#04x}, found {t.tag:#04x} at byte {t.start}")
    return t


_OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2


@dataclass(frozen=True, slots=True)
class _CertId:
    """A certificate's issuer (DER of the Name) and serial, for SignerInfo matching."""

    issuer: bytes
    serial: int
    spki: bytes


def _cert_id(der: bytes) -> _CertId:
    try:
        return _cert_id_unchecked(der)
    except IndexError as exc:
        raise _Problem("certificate structure incomplete") from exc


def _cert_id_unchecked(der: bytes) -> _CertId:
    cert = _tlv(der, 0, len(der))
    tbs = _expect(_children(der, cert)[0], 0x30, "tbsCertificate")
    fields = _children(der, tbs)
    if fields and fields[0].tag == 0xA0:  # explicit version
        fields = fields[1:]
    if len(fields) < 6:
        raise _Problem("tbsCertificate has too few fields")
    serial_t = _expect(fields[0], 0x02, "serialNumber")
    issuer_t = _expect(fields[2], 0x30, "issuer")
    spki_t = _expect(fields[5], 0x30, "subjectPublicKeyInfo")
    return _CertId(
        issuer=der[issuer_t.start : issuer_t.end],
        serial=int.from_bytes(der[serial_t.body : serial_t.body_end], "big", signed=True),
        spki=der[spki_t.start : spki_t.end],
    )


def _pkcs7_signer_certs(blob: bytes, problems: list[str], where: str) -> list[bytes]:
    """DER certificates that the SignerInfos of a PKCS#7 SignedData point at."""
    top = _expect(_tlv(blob, 0, len(blob)), 0x30, "ContentInfo")
    parts = _children(blob, top)
    if len(parts) < 2 or parts[0].tag != 0x06 or blob[parts[0].body : parts[0].body_end] != _OID_SIGNED_DATA:
        raise _Problem("not a PKCS#7 SignedData ContentInfo")
    explicit = _expect(parts[1], 0xA0, "ContentInfo content")
    inner = _children(blob, explicit)
    if not inner:
        raise _Problem("empty PKCS#7 content")
    signed_data = _expect(inner[0], 0x30, "SignedData")
    fields = _children(blob, signed_data)
    certs: list[bytes] = []
    signer_infos: list[_Tlv] = []
    for f in fields[3:]:
        if f.tag == 0xA0:
            certs.extend(blob[c.start : c.end] for c in _children(blob, f) if c.tag == 0x30)
        elif f.tag == 0x31:
            signer_infos = _children(blob, f)
    if len(certs) > _MAX_PKCS7_CERTS:
        problems.append(f"{where}: {len(certs)} certificates; only the first {_MAX_PKCS7_CERTS} are read")
        certs = certs[:_MAX_PKCS7_CERTS]
    if len(signer_infos) > _MAX_SIGNERS:
        problems.append(f"{where}: {len(signer_infos)} SignerInfos; only the first {_MAX_SIGNERS} are read")
        signer_infos = signer_infos[:_MAX_SIGNERS]
    if not certs:
        raise _Problem("PKCS#7 SignedData holds no certificate")
    ids: list[_CertId | None] = []
    for c in certs:
        try:
            ids.append(_cert_id(c))
        except _Problem:
            ids.append(None)
    chosen: list[bytes] = []
    for si in signer_infos:
        si_fields = _children(blob, si)
        if len(si_fields) < 2:
            problems.append(f"{where}: SignerInfo has too few fields")
            continue
        sid = si_fields[1]
        match: bytes | None = None
        if sid.tag == 0x30:
            ias = _children(blob, sid)
            if len(ias) == 2 and ias[1].tag == 0x02:
                issuer = blob[ias[0].start : ias[0].end]
                serial = int.from_bytes(blob[ias[1].body : ias[1].body_end], "big", signed=True)
                for c, cid in zip(certs, ids, strict=True):
                    if cid is not None and cid.issuer == issuer and cid.serial == serial:
                        match = c
                        break
        elif sid.tag == 0x80:
            ski = blob[sid.body : sid.body_end]
            match = _match_ski(certs, ski)
        if match is None:
            problems.append(f"{where}: a SignerInfo names no certificate present in the block")
        elif match not in chosen:
            chosen.append(match)
    if not chosen:
        if not signer_infos:
            problems.append(f"{where}: PKCS#7 SignedData has no SignerInfo")
        # Fall back to the certificates that issue none of the others (the leaves).
        issuers = {cid.issuer for cid in ids if cid is not None}
        leaves = [c for c in certs if _subject_der(c) not in issuers] or certs[:1]
        chosen = leaves[:1] if len(certs) == 1 else leaves
    return chosen


def _subject_der(der: bytes) -> bytes | None:
    try:
        cert = _tlv(der, 0, len(der))
        tbs = _children(der, cert)[0]
        fields = _children(der, tbs)
        if fields and fields[0].tag == 0xA0:
            fields = fields[1:]
        subj = fields[4]
        return der[subj.start : subj.end]
    except (_Problem, IndexError):
        return None


def _match_ski(certs: list[bytes], ski: bytes) -> bytes | None:
    from cryptography import x509

    for c in certs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cert = x509.load_der_x509_certificate(c)
                ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            if ext.value.digest == ski:
                return c
        except (ValueError, x509.ExtensionNotFound):
            continue
    return None


# ------------------------------------------------------------ certificates


def _dn(name: x509.Name) -> DistinguishedName:
    from cryptography.x509.oid import NameOID

    def first(oid: x509.ObjectIdentifier) -> str | None:
        attrs = name.get_attributes_for_oid(oid)
        if not attrs:
            return None
        v = attrs[0].value
        return v if isinstance(v, str) else v.hex()

    return DistinguishedName(
        # EMAILADDRESS: beyond RFC 4514's table, spelled as apksigner and keytool print it.
        rfc4514=name.rfc4514_string({NameOID.EMAIL_ADDRESS: "EMAILADDRESS"}),
        common_name=first(NameOID.COMMON_NAME),
        organization=first(NameOID.ORGANIZATION_NAME),
        organizational_unit=first(NameOID.ORGANIZATIONAL_UNIT_NAME),
        country=first(NameOID.COUNTRY_NAME),
        locality=first(NameOID.LOCALITY_NAME),
        state=first(NameOID.STATE_OR_PROVINCE_NAME),
    )


def _key_facts(cert: x509.Certificate) -> tuple[str, int | None]:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = cert.public_key()
    except Exception:  # unsupported or malformed key: fall back to the algorithm OID
        try:
            oid = cert.public_key_algorithm_oid.dotted_string
        except Exception:
            return "unknown", None
        return _KEY_ALG_NAMES.get(oid, oid), None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


def _iso(dt: object) -> str:
    from datetime import datetime

    assert isinstance(dt, datetime)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------ common certificates, read directly
#
# Nearly every APK signer certificate is a plain DER X.509 v1/v3 certificate with an RSA
# key and printable, UTF-8 or IA5 name strings. Those are read here without loading
# ``cryptography`` (whose x509 import alone costs tens of milliseconds per process), giving
# exactly what the ``cryptography`` path gives; anything else (other key types, other
# string types, multi-valued RDNs, unusual encodings) returns None and goes that way.


class _Uncommon(Exception):
    """The certificate leaves the common shape: read it with ``cryptography``."""


def _der(buf: bytes, pos: int, limit: int) -> tuple[int, int, int]:
    """(tag, body start, end) of one strict-DER element (definite, minimal length)."""
    if pos + 2 > limit:
        raise _Uncommon
    tag = buf[pos]
    first = buf[pos + 1]
    p = pos + 2
    if tag & 0x1F == 0x1F:
        raise _Uncommon
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 3 or p + n > limit or buf[p] == 0:
            raise _Uncommon
        length = int.from_bytes(buf[p : p + n], "big")
        if length < 0x80:
            raise _Uncommon
        p += n
    if p + length > limit:
        raise _Uncommon
    return tag, p, p + length


def _der_items(buf: bytes, body: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    while body < end:
        item = _der(buf, body, end)
        out.append(item)
        body = item[2]
    return out


def _der_int(buf: bytes, body: int, end: int) -> int:
    """A minimally encoded INTEGER."""
    if end == body or (
        end - body > 1
        and ((buf[body] == 0 and buf[body + 1] < 0x80) or (buf[body] == 0xFF and buf[body + 1] >= 0x80))
    ):
        raise _Uncommon
    return int.from_bytes(buf[body:end], "big", signed=True)


def _der_oid(raw: bytes) -> str:
    if not raw or raw[-1] & 0x80:
        raise _Uncommon
    arcs: list[int] = []
    value = 0
    fresh = True
    for b in raw:
        if fresh and b == 0x80:
            raise _Uncommon  # non-minimal sub-identifier
        value = (value << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


_PRINTABLE_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
_NAME_STRING_TAGS = frozenset({0x0C, 0x13, 0x16})
"""UTF8String, PrintableString, IA5String (the parser checks their character sets)."""
_RFC4514_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "EMAILADDRESS",
}
"""RFC 4514's short names as cryptography spells them, plus EMAILADDRESS (apksigner)."""
_DN_FIELDS = {
    "2.5.4.3": "common_name",
    "2.5.4.10": "organization",
    "2.5.4.11": "organizational_unit",
    "2.5.4.6": "country",
    "2.5.4.7": "locality",
    "2.5.4.8": "state",
}
_RFC4514_ESCAPES = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "+": "\\+", ",": "\\,", ";": "\\;", "<": "\\<", ">": "\\>", "\0": "\\00"}
)


def _rfc4514_value(val: str) -> str:
    """RFC 4514 section 2.4 escaping, as ``cryptography``'s ``Name.rfc4514_string``."""
    if not val:
        return ""
    val = val.translate(_RFC4514_ESCAPES)
    if val[0] == "#" or (val[0] == " " and len(val) > 1):
        val = "\\" + val
    if val[-1] == " ":
        val = val[:-1] + "\\ "
    return val


def _common_dn(buf: bytes, body: int, end: int) -> DistinguishedName:
    parts: list[str] = []
    found: dict[str, str] = {}
    for tag, rdn_body, rdn_end in _der_items(buf, body, end):
        if tag != 0x31:
            raise _Uncommon
        atvs = _der_items(buf, rdn_body, rdn_end)
        if len(atvs) != 1 or atvs[0][0] != 0x30:
            raise _Uncommon  # empty or multi-valued RDN
        pair = _der_items(buf, atvs[0][1], atvs[0][2])
        if len(pair) != 2 or pair[0][0] != 0x06 or pair[1][0] not in _NAME_STRING_TAGS:
            raise _Uncommon
        oid = _der_oid(buf[pair[0][1] : pair[0][2]])
        raw = buf[pair[1][1] : pair[1][2]]
        string_tag = pair[1][0]
        if (string_tag == 0x13 and not _PRINTABLE_CHARS.issuperset(raw)) or (
            string_tag == 0x16 and not raw.isascii()
        ):
            raise _Uncommon
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Uncommon from None
        parts.append(f"{_RFC4514_NAMES.get(oid, oid)}={_rfc4514_value(value)}")
        field_name = _DN_FIELDS.get(oid)
        if field_name is not None:
            found.setdefault(field_name, value)
    return DistinguishedName(rfc4514=",".join(reversed(parts)), **found)


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _common_time(buf: bytes, tag: int, body: int, end: int) -> str:
    raw = buf[body:end]
    if tag == 0x17 and len(raw) == 13:
        yy = raw[:2]
        digits = raw[:12]
        year = int(yy) + (1900 if int(yy) >= 50 else 2000) if yy.isdigit() else 0
        rest = raw[2:12]
    elif tag == 0x18 and len(raw) == 15:
        digits = raw[:14]
        year = int(raw[:4]) if raw[:4].isdigit() else 0
        rest = raw[4:14]
    else:
        raise _Uncommon
    if raw[-1:] != b"Z" or not digits.isdigit() or not digits.isascii() or year < 1000:
        raise _Uncommon
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        raise _Uncommon
    if not 1 <= day <= _DAYS[month - 1] + (1 if month == 2 and leap else 0):
        raise _Uncommon
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


_RSA_SIG_OIDS = frozenset(
    {"1.2.840.113549.1.1.4", "1.2.840.113549.1.1.5", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12",
     "1.2.840.113549.1.1.13", "1.2.840.113549.1.1.14"}
)  # fmt: skip
_NO_PARAM_SIG_OIDS = frozenset(
    {"1.2.840.10045.4.1", "1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
     "1.2.840.10045.4.3.4", "1.3.101.112", "1.3.101.113"}
)  # fmt: skip
_NULL = (0x05, 0x00)


def _common_cert_facts(der: bytes) -> dict[str, object] | None:
    """The facts of a certificate in the common shape, or None to read it with ``cryptography``."""
    try:
        return _common_cert_facts_unchecked(der)
    except (_Uncommon, IndexError, ValueError):
        return None


def _common_cert_facts_unchecked(der: bytes) -> dict[str, object]:
    tag, body, end = _der(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise _Uncommon
    top = _der_items(der, body, end)
    if len(top) != 3 or top[0][0] != 0x30 or top[1][0] != 0x30 or top[2][0] != 0x03:
        raise _Uncommon
    if top[2][2] == top[2][1] or der[top[2][1]] != 0:
        raise _Uncommon  # signature BIT STRING with unused bits
    tbs = _der_items(der, top[0][1], top[0][2])
    v3 = tbs[0][0] == 0xA0
    if v3:
        if der[tbs[0][1] : tbs[0][2]] != b"\x02\x01\x02":
            raise _Uncommon  # only v3 is written explicitly; v1 leaves the field out
        tbs = tbs[1:]
    if len(tbs) < 6 or [t[0] for t in tbs[:6]] != [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        raise _Uncommon
    serial_t, alg_t, issuer_t, validity_t, subject_t, spki_t = tbs[:6]
    extra = tbs[6:]
    if extra and (not v3 or len(extra) != 1 or extra[0][0] != 0xA3):
        raise _Uncommon
    for _tag, ext_body, ext_end in extra:
        exts = _der_items(der, ext_body, ext_end)
        if len(exts) != 1 or exts[0][0] != 0x30:
            raise _Uncommon
        items = _der_items(der, exts[0][1], exts[0][2])
        if not items:
            raise _Uncommon
        for ext_tag, b, e in items:
            parts = _der_items(der, b, e) if ext_tag == 0x30 else []
            shape = [p[0] for p in parts]
            if shape == [0x06, 0x01, 0x04] and der[parts[1][1] : parts[1][2]] == b"\xff":
                continue  # critical = TRUE (FALSE is the default and must not be written)
            if shape != [0x06, 0x04]:
                raise _Uncommon
            _der_oid(der[parts[0][1] : parts[0][2]])
    # signatureAlgorithm: the same AlgorithmIdentifier inside and outside the signed part
    if der[alg_t[1] : alg_t[2]] != der[top[1][1] : top[1][2]]:
        raise _Uncommon
    alg = _der_items(der, alg_t[1], alg_t[2])
    if not alg or alg[0][0] != 0x06:
        raise _Uncommon
    sig_oid = _der_oid(der[alg[0][1] : alg[0][2]])
    params = [(t, e - b) for t, b, e in alg[1:]]
    if sig_oid in _RSA_SIG_OIDS:
        if params != [_NULL]:
            raise _Uncommon
    elif sig_oid not in _NO_PARAM_SIG_OIDS or params:
        raise _Uncommon
    validity = _der_items(der, validity_t[1], validity_t[2])
    if len(validity) != 2:
        raise _Uncommon
    not_before = _common_time(der, *validity[0])
    not_after = _common_time(der, *validity[1])
    key_algorithm, key_size = _common_key(der, spki_t[1], spki_t[2])
    return {
        "subject": _common_dn(der, subject_t[1], subject_t[2]),
        "issuer": _common_dn(der, issuer_t[1], issuer_t[2]),
        "serial": format(_der_int(der, serial_t[1], serial_t[2]), "x"),
        "not_before": not_before,
        "not_after": not_after,
        "signature_algorithm": _SIG_ALG_NAMES[sig_oid],
        "self_signed": der[issuer_t[1] : issuer_t[2]] == der[subject_t[1] : subject_t[2]],
        "key_algorithm": key_algorithm,
        "key_size": key_size,
    }


def _common_key(der: bytes, body: int, end: int) -> tuple[str, int]:
    """RSA and EdDSA subjectPublicKeyInfo; other keys go to ``cryptography``."""
    spki = _der_items(der, body, end)
    if len(spki) != 2 or spki[0][0] != 0x30 or spki[1][0] != 0x03:
        raise _Uncommon
    alg = _der_items(der, spki[0][1], spki[0][2])
    if not alg or alg[0][0] != 0x06:
        raise _Uncommon
    oid = _der_oid(der[alg[0][1] : alg[0][2]])
    params = [(t, e - b) for t, b, e in alg[1:]]
    key_body, key_end = spki[1][1], spki[1][2]
    if key_end == key_body or der[key_body] != 0:
        raise _Uncommon
    key_body += 1
    if oid in ("1.3.101.112", "1.3.101.113") and not params:
        want = 32 if oid == "1.3.101.112" else 57
        if key_end - key_body != want:
            raise _Uncommon
        return ("Ed25519", 256) if want == 32 else ("Ed448", 456)
    if oid != "1.2.840.113549.1.1.1" or params != [_NULL]:
        raise _Uncommon
    tag, b, e = _der(der, key_body, key_end)
    ints = _der_items(der, b, e) if tag == 0x30 and e == key_end else []
    if [t[0] for t in ints] != [0x02, 0x02]:
        raise _Uncommon
    n = _der_int(der, ints[0][1], ints[0][2])
    exponent = _der_int(der, ints[1][1], ints[1][2])
    # What any RSA implementation takes: an odd modulus of usual size, an odd exponent >= 3.
    if n <= 0 or not n & 1 or not 512 <= n.bit_length() <= 16384:
        raise _Uncommon
    if not 3 <= exponent < n or not exponent & 1:
        raise _Uncommon
    return "RSA", n.bit_length()


def _describe(
    der: bytes,
    schemes: tuple[SigningScheme, ...],
    sdk: tuple[int | None, int | None],
    problems: list[str],
) -> SignerCert:
    """Facts of one DER certificate.

    The SHA-256/SHA-1 of the DER (the publisher identity policies match on) are always
    reported. Common certificates are read directly, the others with ``cryptography``.
    Facts that cannot be read - the whole certificate when ``cryptography``
    refuses it, or a single field - are left empty (``""``, ``"unknown"``, None) and
    the reason goes to ``problems``.
    """
    sha256 = hashlib.sha256(der).hexdigest()
    where = f"{'/'.join(schemes)} certificate sha256={sha256}"
    empty = DistinguishedName(rfc4514="")
    facts: dict[str, object] = {
        "subject": empty,
        "issuer": empty,
        "serial": "",
        "not_before": "",
        "not_after": "",
        "key_algorithm": "unknown",
        "key_size": None,
        "signature_algorithm": "unknown",
        "self_signed": False,
    }
    fast = _common_cert_facts(der)
    if fast is not None:
        facts.update(fast)
    else:
        _cryptography_facts(der, where, facts, problems)
    subject, issuer = facts["subject"], facts["issuer"]
    key_size = facts["key_size"]
    assert isinstance(subject, DistinguishedName) and isinstance(issuer, DistinguishedName)
    assert key_size is None or isinstance(key_size, int)
    return SignerCert(
        schemes=schemes,
        subject=subject,
        issuer=issuer,
        serial=str(facts["serial"]),
        not_before=str(facts["not_before"]),
        not_after=str(facts["not_after"]),
        sha256=sha256,
        sha1=hashlib.sha1(der).hexdigest(),
        key_algorithm=str(facts["key_algorithm"]),
        key_size=key_size,
        signature_algorithm=str(facts["signature_algorithm"]),
        self_signed=bool(facts["self_signed"]),
        min_sdk=sdk[0],
        max_sdk=sdk[1],
    )


def _cryptography_facts(der: bytes, where: str, facts: dict[str, object], problems: list[str]) -> None:
    """Read the facts with ``cryptography`` (any certificate it accepts); what it refuses
    goes to ``problems``."""
    from cryptography import x509

    with warnings.catch_warnings():
        # cryptography warns on non-conforming but parseable certificates (2-letter
        # country names that are not, negative serials): Android accepts them, so do we.
        warnings.simplefilter("ignore")
        try:
            cert = x509.load_der_x509_certificate(der)
        except Exception as exc:
            problems.append(f"{where} unparsable ({exc}); only its digests are reported")
            try:
                cid = _cert_id(der)
                facts["serial"] = format(cid.serial, "x")
                facts["self_signed"] = cid.issuer == _subject_der(der)
            except _Problem:
                pass
        else:
            readers: dict[str, Callable[[], object]] = {
                "subject": lambda: _dn(cert.subject),
                "issuer": lambda: _dn(cert.issuer),
                "serial": lambda: format(cert.serial_number, "x"),
                "not_before": lambda: _iso(cert.not_valid_before_utc),
                "not_after": lambda: _iso(cert.not_valid_after_utc),
                "signature_algorithm": lambda: _SIG_ALG_NAMES.get(
                    cert.signature_algorithm_oid.dotted_string, cert.signature_algorithm_oid.dotted_string
                ),
                "self_signed": lambda: cert.subject.public_bytes() == cert.issuer.public_bytes(),
            }
            for name, read in readers.items():
                try:
                    facts[name] = read()
                except Exception as exc:
                    problems.append(f"{where}: {name.replace('_', ' ')} unreadable ({exc})")
            facts["key_algorithm"], facts["key_size"] = _key_facts(cert)


# ---------------------------------------------------------- signing block


@dataclass(frozen=True, slots=True)
class _RawSigner:
    scheme: SigningScheme
    cert: bytes
    min_sdk: int | None = None
    max_sdk: int | None = None


def _why(exc: ReadError, base: int) -> str:
    """A read error with its offset made absolute in the file (readers work on a copy)."""
    return f"{str(exc).rsplit(' at offset ', 1)[0]} at file offset {base + exc.offset:#x}"


def _lp(r: Reader) -> Reader:
    """A sub-reader over the next u32-length-prefixed slice, advancing ``r`` past it."""
    n = r.u32()
    start = r.pos
    r.skip(n)
    return Reader(r.buf, start, start + n)


def _block_pairs(
    data: bytes | mmap.mmap, cd_offset: int, problems: list[str]
) -> tuple[list[tuple[int, int, Reader]], int]:
    """``(id, offset, value reader)`` of every pair in the APK Signing Block, and the
    block's offset in the file (the readers work on a copy of the block; add it to their
    offsets).
    """
    if cd_offset < 32 or cd_offset > len(data):
        return [], 0
    footer = bytes(data[cd_offset - 24 : cd_offset])
    if footer[8:] != APK_SIG_BLOCK_MAGIC:
        return [], 0
    footer_size = int.from_bytes(footer[:8], "little")
    if footer_size < 24 or footer_size > 0x7FFFFFFF - 8:
        problems.append(f"APK Signing Block: size {footer_size} in the footer is out of range")
        return [], 0
    start = cd_offset - (footer_size + 8)
    if start < 0:
        problems.append(
            f"APK Signing Block: size {footer_size} reaches before the start of the file "
            f"(central directory at {cd_offset:#x})"
        )
        return [], 0
    block = bytes(data[start:cd_offset])
    header_size = int.from_bytes(block[:8], "little")
    if header_size != footer_size:
        problems.append(
            f"APK Signing Block at {start:#x}: header size {header_size} differs from footer size "
            f"{footer_size}"
        )
        return [], 0
    pairs: list[tuple[int, int, Reader]] = []
    pr = Reader(block, 8, len(block) - 24)
    while pr.remaining() > 0:
        at = pr.pos
        if len(pairs) >= _MAX_PAIRS:
            problems.append(f"APK Signing Block: more than {_MAX_PAIRS} pairs; the rest are not read")
            break
        try:
            length = pr.u64()
            if length < 4 or length > pr.remaining():
                problems.append(f"APK Signing Block: pair at {start + at:#x} has bad length {length}")
                break
            block_id = pr.u32()
            value_start = pr.pos
            pr.skip(length - 4)
        except ReadError as exc:
            problems.append(f"APK Signing Block: pair at {start + at:#x} truncated ({_why(exc, start)})")
            break
        pairs.append((block_id, start + at, Reader(block, value_start, value_start + length - 4)))
    return pairs, start


def _parse_scheme_block(
    scheme: SigningScheme,
    value: Reader,
    base: int,
    problems: list[str],
    lineages: list[tuple[LineageNode, ...]],
) -> list[_RawSigner]:
    v3 = scheme is not SigningScheme.V2
    out: list[_RawSigner] = []
    try:
        signers = _lp(value)
    except ReadError as exc:
        problems.append(f"{scheme} block: signer sequence truncated ({_why(exc, base)})")
        return out
    index = 0
    while signers.remaining() > 0:
        index += 1
        where = f"{scheme} signer #{index}"
        if index > _MAX_SIGNERS:
            problems.append(f"{scheme} block: more than {_MAX_SIGNERS} signers; the rest are not read")
            break
        try:
            signer = _lp(signers)
        except ReadError as exc:
            problems.append(f"{where}: truncated ({_why(exc, base)})")
            break
        try:
            signed = _lp(signer)
            _lp(signed)  # digests
            certs = _lp(signed)
            cert_list: list[bytes] = []
            while certs.remaining() > 0:
                c = _lp(certs)
                cert_list.append(c.bytes(c.remaining()))
            sd_min = sd_max = None
            if v3:
                sd_min, sd_max = signed.u32(), signed.u32()
            attrs = _lp(signed)
            while attrs.remaining() > 0:
                attr = _lp(attrs)
                attr_id = attr.u32()
                if attr_id == LINEAGE_ATTR_ID and v3:
                    lineage = _parse_lineage(attr, base, problems, where)
                    if lineage:
                        lineages.append(lineage)
            min_sdk = max_sdk = None
            if v3:
                min_sdk, max_sdk = signer.u32(), signer.u32()
                if min_sdk > max_sdk:
                    problems.append(f"{where}: SDK range {min_sdk}-{max_sdk} is empty")
                if (min_sdk, max_sdk) != (sd_min, sd_max):
                    problems.append(
                        f"{where}: SDK range {min_sdk}-{max_sdk} differs from the signed data's "
                        f"{sd_min}-{sd_max}"
                    )
            _lp(signer)  # signatures
            pub = _lp(signer)
            public_key = pub.bytes(pub.remaining())
        except ReadError as exc:
            problems.append(f"{where}: malformed ({_why(exc, base)})")
            continue
        if not cert_list:
            problems.append(f"{where}: no certificate")
            continue
        try:
            if _cert_id(cert_list[0]).spki != public_key:
                problems.append(f"{where}: public key differs from the certificate's")
        except _Problem:
            pass  # reported when the certificate is described
        out.append(
            _RawSigner(
                scheme,
                cert_list[0],
                min_sdk,
                None if max_sdk is None or max_sdk >= _MAX_SDK_UNBOUNDED else max_sdk,
            )
        )
    if index == 0:
        problems.append(f"{scheme} block: no signer")
    return out


def _parse_lineage(attr: Reader, base: int, problems: list[str], where: str) -> tuple[LineageNode, ...]:
    nodes: list[LineageNode] = []
    try:
        version = attr.u32()
        if version != 1:
            problems.append(f"{where}: lineage version {version} is unknown")
            return ()
        while attr.remaining() > 0:
            node = _lp(attr)
            signed = _lp(node)
            cert = _lp(signed)
            der = cert.bytes(cert.remaining())
            flags = node.u32()
            nodes.append(LineageNode(cert_sha256=hashlib.sha256(der).hexdigest(), flags=flags))
    except ReadError as exc:
        problems.append(f"{where}: proof-of-rotation lineage malformed ({_why(exc, base)})")
    return tuple(nodes)


# --------------------------------------------------------------------- v1


def _v1_block_entries(entries: tuple[ZipEntry, ...], problems: list[str]) -> list[ZipEntry]:
    out = []
    for e in entries:
        if not e.name.upper().endswith(_V1_BLOCK_SUFFIXES):
            continue
        base = e.name[len("META-INF/") :] if e.name.startswith("META-INF/") else ""
        if not base or "/" in base:
            if "META-INF" in e.name.upper():
                problems.append(
                    f"v1: '{e.name}' looks like a signature block but is not directly in META-INF/ "
                    "(Android ignores it)"
                )
            continue
        out.append(e)
    return out


def _apk_signed_header(sf: bytes) -> str | None:
    """The ``X-Android-APK-Signed`` value of a .SF main section, if present."""
    text = sf.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    for line in text.split("\n"):
        if not line:
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == "x-android-apk-signed":
            return value.strip()
    return None


def _parse_v1(archive: Archive, problems: list[str], v1_claims: list[str]) -> list[_RawSigner]:
    out: list[_RawSigner] = []
    names = {e.name for e in archive.entries}
    blocks = _v1_block_entries(archive.entries, problems)
    if blocks and "META-INF/MANIFEST.MF" not in names:
        problems.append("v1: META-INF/MANIFEST.MF is missing")
    for entry in blocks:
        stem = entry.name.rsplit(".", 1)[0]
        sf_name = stem + ".SF"
        if sf_name not in names:
            problems.append(f"v1: {entry.name} has no matching {sf_name}")
        else:
            try:
                claim = _apk_signed_header(archive.read(sf_name))
                if claim:
                    v1_claims.append(claim)
            except AppvetoError as exc:
                problems.append(f"v1: {sf_name} unreadable ({exc.message})")
        try:
            blob = archive.read(entry)
        except AppvetoError as exc:
            problems.append(f"v1: {entry.name} unreadable ({exc.message})")
            continue
        try:
            certs = _pkcs7_signer_certs(blob, problems, f"v1 {entry.name}")
        except _Problem as exc:
            problems.append(f"v1: {entry.name}: {exc}")
            continue
        out.extend(_RawSigner(SigningScheme.V1, c) for c in certs)
    return out


# -------------------------------------------------------------------- main


def parse_signing(archive: Archive, *, file: str) -> SigningInfo:
    """Describe the signers of an APK (v1, v2, v3, v3.1), its rotation lineage and block IDs.

    No cryptographic verification is claimed: digests and signatures are not checked,
    so the result says which certificates the APK *presents*, per scheme. The same
    certificate seen in several schemes is one :class:`SignerCert` listing all of them;
    a v3/v3.1 signer's ``min_sdk``/``max_sdk`` is its platform range (``max_sdk`` None
    when unbounded; merged signers get the union of their ranges). ``self_signed``
    means the certificate's issuer name equals its subject name (the certificate's own
    signature is not checked either).

    Structural problems go to :attr:`SigningInfo.problems`. Raises
    :class:`~appveto.errors.ApkError` only when the archive's bytes cannot be read at all.
    """
    try:
        data = archive.data
        cd_offset = int(archive.cd_offset)
        len(data)
    except (TypeError, ValueError, AttributeError, OSError) as exc:
        raise ApkError.at(f"cannot read the archive to parse signatures: {exc}", file=file) from exc

    problems: list[str] = []
    raw: list[_RawSigner] = []
    v1_claims: list[str] = []
    try:
        raw.extend(_parse_v1(archive, problems, v1_claims))
    except Exception as exc:  # a defect here must not lose v2/v3 facts
        problems.append(f"v1: unexpected {type(exc).__name__}: {exc}")

    block_ids: dict[int, None] = {}  # insertion-ordered set
    lineages: list[tuple[LineageNode, ...]] = []
    lineage_v31: list[tuple[LineageNode, ...]] = []
    try:
        pairs, base = _block_pairs(data, cd_offset, problems)
    except ReadError as exc:  # defensive: _block_pairs bounds-checks what it reads
        problems.append(f"APK Signing Block: truncated ({exc})")
        pairs, base = [], 0
    seen_schemes: set[int] = set()
    for block_id, at, value in pairs:
        block_ids.setdefault(block_id, None)
        scheme = _SCHEME_OF_BLOCK.get(block_id)
        if scheme is None:
            continue
        if block_id in seen_schemes:
            problems.append(f"APK Signing Block: {scheme} block repeated at {at:#x}; Android reads the first")
            continue
        seen_schemes.add(block_id)
        target = lineage_v31 if scheme is SigningScheme.V31 else lineages
        try:
            raw.extend(_parse_scheme_block(scheme, value, base, problems, target))
        except Exception as exc:
            problems.append(f"{scheme} block at {at:#x}: unexpected {type(exc).__name__}: {exc}")

    for claim in sorted(set(v1_claims)):
        for raw_token in claim.split(","):
            token = raw_token.strip()
            wanted = {"2": V2_BLOCK_ID, "3": V3_BLOCK_ID}.get(token)
            if wanted is not None and wanted not in seen_schemes:
                problems.append(
                    f"v1 .SF declares X-Android-APK-Signed: {claim} but the v{token} signature is "
                    "absent (stripped?)"
                )

    signers = _merge(raw, problems)
    schemes = tuple(s for s in _SCHEME_ORDER if any(s in sc.schemes for sc in signers))
    candidates = lineage_v31 or lineages
    lineage = max(candidates, key=len) if candidates else ()
    return SigningInfo(
        schemes=schemes,
        signers=signers,
        lineage=lineage,
        signing_block_ids=tuple(block_ids),
        problems=tuple(problems),
    )


def _merge(raw: list[_RawSigner], problems: list[str]) -> tuple[SignerCert, ...]:
    order: list[bytes] = []
    schemes: dict[bytes, list[SigningScheme]] = {}
    mins: dict[bytes, list[int]] = {}
    maxs: dict[bytes, list[int | None]] = {}
    for s in raw:
        if s.cert not in schemes:
            order.append(s.cert)
            schemes[s.cert] = []
            mins[s.cert] = []
            maxs[s.cert] = []
        if s.scheme not in schemes[s.cert]:
            schemes[s.cert].append(s.scheme)
        if s.min_sdk is not None:
            mins[s.cert].append(s.min_sdk)
            maxs[s.cert].append(s.max_sdk)
    out: list[SignerCert] = []
    for der in order[:_MAX_CERTS]:
        sch = tuple(x for x in _SCHEME_ORDER if x in schemes[der])
        lo = min(mins[der]) if mins[der] else None
        his = maxs[der]
        hi = None if not his or any(h is None for h in his) else max(h for h in his if h is not None)
        out.append(_describe(der, sch, (lo, hi), problems))
    if len(order) > _MAX_CERTS:
        problems.append(f"{len(order)} signer certificates; only the first {_MAX_CERTS} are described")
    return tuple(out)
