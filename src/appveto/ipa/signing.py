"""Who signed the app: the Mach-O code signature and ``embedded.mobileprovision``.

**Code signature.** ``LC_CODE_SIGNATURE`` points to a SuperBlob (big-endian, magic
``0xfade0cc0``) whose index lists blobs by slot type: the CodeDirectory (identifier, team
ID, hash type), requirements, the entitlements the app is signed with (an XML plist,
``0xfade7171``; DER form ``0xfade7172``) and a CMS signature (``0xfade0b01``) whose
certificates are the signing identity. Read as Apple's ``cs_blobs.h`` lays it out; every
offset is bounds-checked; nothing is verified cryptographically.

**Provisioning profile.** A CMS SignedData whose content is a plist: team, expiry,
entitlements, the devices it may be installed on (``ProvisionedDevices``) or all devices
(``ProvisionsAllDevices``, the Enterprise Program's in-house distribution).

CMS is read with ``asn1crypto``, certificates with ``cryptography``.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime

from appveto.errors import IpaError
from appveto.ipa import plist
from appveto.ipa.model import (
    CertificateInfo,
    CodeSignature,
    Distribution,
    Entitlements,
    PlistDict,
    PlistValue,
    ProvisioningProfile,
)

_SUPERBLOB = 0xFADE0CC0
_CODEDIRECTORY = 0xFADE0C02
_ENTITLEMENTS = 0xFADE7171
_DER_ENTITLEMENTS = 0xFADE7172
_CMS_WRAPPER = 0xFADE0B01
_SLOT_CODEDIRECTORY = 0
_SLOT_ENTITLEMENTS = 5
_SLOT_DER_ENTITLEMENTS = 7
_SLOT_CMS = 0x10000
_MAX_BLOBS = 64
_HASH_TYPES = {1: "sha1", 2: "sha256", 3: "sha256-truncated", 4: "sha384"}
_BE32 = struct.Struct(">I")


def parse_code_signature(blob: bytes, *, file: str, entry: str, base: int) -> CodeSignature:
    """The SuperBlob ``blob`` (found at ``base`` in the entry). Raises :class:`IpaError`
    when it is not one; blobs inside it that do not parse are left out (and say so
    through ``None`` fields)."""
    n = len(blob)

    def bad(message: str, at: int) -> IpaError:
        return IpaError.at(f"code signature: {message}", file=file, entry=entry, offset=base + at)

    if n < 12:
        raise bad(f"{n} bytes is too small for a SuperBlob", 0)
    magic, length, count = struct.unpack_from(">III", blob, 0)
    if magic != _SUPERBLOB:
        raise bad(f"magic {magic:#010x} is not an embedded-signature SuperBlob (0xfade0cc0)", 0)
    if length > n or length < 12:
        raise bad(f"SuperBlob length {length} does not fit the {n} bytes the load command gives", 4)
    if count > _MAX_BLOBS or 12 + count * 8 > length:
        raise bad(f"SuperBlob index of {count} blobs does not fit", 8)
    slots: list[tuple[int, int]] = [struct.unpack_from(">II", blob, 12 + i * 8) for i in range(count)]
    types = tuple(t for t, _ in slots)

    def sub(offset: int, want: int) -> bytes | None:
        """The blob at ``offset`` when its magic is ``want`` and it fits, else None."""
        if offset + 8 > length:
            return None
        m, size = struct.unpack_from(">II", blob, offset)
        if m != want or size < 8 or offset + size > length:
            return None
        return blob[offset : offset + size]

    identifier = team = hash_type = None
    cd_version = cd_flags = None
    entitlements: Entitlements | None = None
    der_ents = False
    certs: tuple[CertificateInfo, ...] = ()
    has_cms = False
    for slot, offset in slots:
        if slot == _SLOT_CODEDIRECTORY:
            cd = sub(offset, _CODEDIRECTORY)
            if cd is not None:
                identifier, team, cd_version, cd_flags, hash_type = _code_directory(cd)
        elif slot == _SLOT_ENTITLEMENTS:
            ent = sub(offset, _ENTITLEMENTS)
            if ent is None:
                raise bad("the entitlements slot holds no entitlements blob", offset)
            values = plist.load_dict(ent[8:], file=file, entry=f"{entry} (entitlements blob)")
            entitlements = Entitlements("code-signature", values)
        elif slot == _SLOT_DER_ENTITLEMENTS:
            der_ents = sub(offset, _DER_ENTITLEMENTS) is not None
        elif slot == _SLOT_CMS:
            wrapper = sub(offset, _CMS_WRAPPER)
            if wrapper is not None and len(wrapper) > 8:
                has_cms = True
                certs = cms_certificates(wrapper[8:], file=file, entry=f"{entry} (CMS signature)")
    return CodeSignature(
        identifier=identifier,
        team_id=team,
        cd_version=cd_version,
        cd_flags=cd_flags,
        hash_type=hash_type,
        blob_types=types,
        entitlements=entitlements,
        has_der_entitlements=der_ents,
        has_cms=has_cms and bool(certs),
        certificates=certs,
    )


def _code_directory(cd: bytes) -> tuple[str | None, str | None, int | None, int | None, str | None]:
    """(identifier, team ID, version, flags, hash type) of a CodeDirectory blob."""
    n = len(cd)
    if n < 44:
        return None, None, None, None, None
    (_magic, _len, version, flags, _hash_off, ident_off, _nspecial, _ncode, _limit) = struct.unpack_from(
        ">IIIIIIIII", cd, 0
    )
    hash_type = _HASH_TYPES.get(cd[37], f"type {cd[37]}")
    identifier = _cstring(cd, ident_off)
    team = None
    if version >= 0x20200 and n >= 52:
        team_off = _BE32.unpack_from(cd, 48)[0]
        team = _cstring(cd, team_off) if team_off else None
    return identifier, team, version, flags, hash_type


def _cstring(buf: bytes, offset: int, limit: int = 1024) -> str | None:
    if not 0 < offset < len(buf):
        return None
    end = buf.find(b"\x00", offset, offset + limit)
    if end < 0:
        return None
    return buf[offset:end].decode("utf-8", "backslashreplace")


# ---------------------------------------------------------------------- CMS


def _signed_data(der: bytes, *, file: str, entry: str) -> object:
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise IpaError.at(
                f"CMS content type is {info['content_type'].native!r}, not signed data",
                file=file,
                entry=entry,
            )
        signed = info["content"]
    except IpaError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError... on crafted DER
        raise IpaError.at(
            f"not a readable CMS structure: {type(exc).__name__}: {exc}", file=file, entry=entry
        ) from None
    return signed


def cms_certificates(der: bytes, *, file: str, entry: str) -> tuple[CertificateInfo, ...]:
    """Certificates of a CMS SignedData, leaf first, then up the issuer chain."""
    signed = _signed_data(der, file=file, entry=entry)
    return _certs_of(signed, file=file, entry=entry)


def _certs_of(signed: object, *, file: str, entry: str) -> tuple[CertificateInfo, ...]:
    ders: list[bytes] = []
    try:
        for choice in signed["certificates"] or ():  # type: ignore[index]
            if choice.name == "certificate":
                ders.append(choice.chosen.dump())
    except Exception as exc:  # same as above
        raise IpaError.at(
            f"CMS certificates unreadable: {type(exc).__name__}: {exc}", file=file, entry=entry
        ) from None
    infos = [certificate_info(d, file=file, entry=entry) for d in ders]
    return chain_order(infos)


def chain_order(certs: list[CertificateInfo]) -> tuple[CertificateInfo, ...]:
    """Leaf first (the certificate that issued no other), then each issuer in turn; any
    certificate not on that chain follows in its original order."""
    if len(certs) < 2:
        return tuple(certs)
    issuers = {c.issuer for c in certs if not c.self_signed}
    leaves = [c for c in certs if c.subject not in issuers or (c.self_signed and len(certs) == 1)]
    if not leaves:
        return tuple(certs)
    chain = [leaves[0]]
    by_subject = {c.subject: c for c in certs}
    while not chain[-1].self_signed:
        nxt = by_subject.get(chain[-1].issuer)
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return tuple(chain + [c for c in certs if c not in chain])


def certificate_info(der: bytes, *, file: str, entry: str) -> CertificateInfo:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject
        issuer = cert.issuer

        def attr(oid: x509.ObjectIdentifier) -> str | None:
            found = subject.get_attributes_for_oid(oid)
            value = found[0].value if found else None
            return value if isinstance(value, str) else None

        return CertificateInfo(
            subject=subject.rfc4514_string(),
            issuer=issuer.rfc4514_string(),
            common_name=attr(NameOID.COMMON_NAME),
            organization=attr(NameOID.ORGANIZATION_NAME),
            organizational_unit=attr(NameOID.ORGANIZATIONAL_UNIT_NAME),
            serial=format(cert.serial_number, "x"),
            not_before=_iso(cert.not_valid_before_utc),
            not_after=_iso(cert.not_valid_after_utc),
            sha256=hashlib.sha256(der).hexdigest(),
            sha1=hashlib.sha1(der).hexdigest(),
            self_signed=subject == issuer,
        )
    except Exception as exc:  # cryptography raises ValueError and others on malformed DER
        raise IpaError.at(
            f"unreadable certificate: {type(exc).__name__}: {exc}", file=file, entry=entry
        ) from None


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------- provisioning profile


def parse_provisioning_profile(der: bytes, *, file: str, entry: str) -> ProvisioningProfile:
    """``embedded.mobileprovision``. Raises :class:`IpaError` when the CMS envelope or its
    plist cannot be read."""
    signed = _signed_data(der, file=file, entry=entry)
    try:
        content = signed["encap_content_info"]["content"].native  # type: ignore[index]
    except Exception as exc:  # asn1crypto, as above
        raise IpaError.at(
            f"CMS content unreadable: {type(exc).__name__}: {exc}", file=file, entry=entry
        ) from None
    if not isinstance(content, bytes) or not content:
        raise IpaError.at("the CMS envelope holds no profile (detached content)", file=file, entry=entry)
    doc = plist.load_dict(content, file=file, entry=entry)
    signers = _certs_of(signed, file=file, entry=entry)

    dev_certs: list[CertificateInfo] = []
    for i, raw in enumerate(_seq(doc.get("DeveloperCertificates"))):
        if isinstance(raw, bytes):
            dev_certs.append(certificate_info(raw, file=file, entry=f"{entry} (DeveloperCertificates[{i}])"))
    ents = doc.get("Entitlements")
    entitlements = Entitlements("provisioning-profile", ents if isinstance(ents, PlistDict) else PlistDict())
    devices = tuple(d for d in _seq(doc.get("ProvisionedDevices")) if isinstance(d, str))
    all_devices = doc.get("ProvisionsAllDevices") is True
    if all_devices:
        kind = Distribution.ENTERPRISE
    elif devices:
        kind = Distribution.DEVELOPMENT if entitlements.get("get-task-allow") is True else Distribution.AD_HOC
    else:
        kind = Distribution.APP_STORE
    return ProvisioningProfile(
        entry=entry,
        name=_str(doc.get("Name")),
        uuid=_str(doc.get("UUID")),
        app_id_name=_str(doc.get("AppIDName")),
        team_ids=tuple(t for t in _seq(doc.get("TeamIdentifier")) if isinstance(t, str)),
        team_name=_str(doc.get("TeamName")),
        platforms=tuple(p for p in _seq(doc.get("Platform")) if isinstance(p, str)),
        creation_date=_date(doc.get("CreationDate")),
        expiration_date=_date(doc.get("ExpirationDate")),
        entitlements=entitlements,
        provisioned_devices=devices,
        provisions_all_devices=all_devices,
        developer_certificates=tuple(dev_certs),
        signer_certificates=signers,
        distribution=kind,
    )


def _seq(value: PlistValue | None) -> tuple[PlistValue, ...]:
    return value if isinstance(value, tuple) else ()


def _str(value: PlistValue | None) -> str | None:
    return value if isinstance(value, str) else None


def _date(value: PlistValue | None) -> str | None:
    return _iso(value) if isinstance(value, datetime) else None
