"""SIG: who signed the APK and how well (debug/test keys, v1-only, weak crypto, expiry)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from appveto.apk.model import Apk, SignerCert, SigningScheme
from appveto.checks.registry import Subscore, check, finding
from appveto.findings import Confidence, Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import KnowledgeBase


def _cert_ev(c: SignerCert, note: str | None = None) -> Evidence:
    return Evidence(
        EvidenceKind.CERTIFICATE,
        c.sha256,
        Location(entry="META-INF/" if c.schemes == (SigningScheme.V1,) else None),
        note or c.subject.rfc4514,
    )


def _is_debug(c: SignerCert) -> bool:
    s = c.subject
    return (s.common_name or "") == "Android Debug" and (s.organization or "") == "Android"


def _is_aosp_test(c: SignerCert) -> bool:
    """The AOSP test keys (testkey, platform, shared, media) all carry this public subject."""
    s = c.subject
    return (
        (s.common_name or "") == "Android"
        and (s.organization or "") == "Android"
        and (s.organizational_unit or "") == "Android"
        and (s.locality or "") == "Mountain View"
        and (s.country or "") == "US"
    )


@check(
    "AV-SIG-001",
    "debug-certificate",
    "Signed with a debug certificate",
    Severity.HIGH,
    subscore=Subscore.HYGIENE,
)
def debug_cert(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags APKs signed with the Android SDK's auto-generated debug key.

    What it checks:
        Signer certificates whose subject is ``CN=Android Debug, O=Android``.

    Why it matters:
        Debug keys are created on each developer machine and never protected: the
        publisher identity is meaningless and updates can come from anyone holding a
        copy. Stores reject such builds.

    Example:
        ``C=US, O=Android, CN=Android Debug``

    Remediation:
        Require the vendor's release build, signed with its release key.

    References:
        https://developer.android.com/studio/publish/app-signing#debug-mode
    """
    for c in apk.signing.signers:
        if _is_debug(c):
            yield finding(
                "AV-SIG-001",
                f"signed with a debug certificate ({c.subject.rfc4514})",
                subject=c.sha256,
                evidence=(_cert_ev(c),),
            )


@check(
    "AV-SIG-002",
    "public-test-key",
    "Signed with a public AOSP test key",
    Severity.CRITICAL,
    subscore=Subscore.HYGIENE,
)
def test_key(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags APKs signed with one of the AOSP test keys whose private keys are public.

    What it checks:
        Signer certificates with the subject of the keys in AOSP's
        ``build/target/product/security`` (``CN=Android, OU=Android, O=Android,
        L=Mountain View, C=US``).

    Why it matters:
        Anyone can sign with these keys. On builds that still trust them as platform
        keys (some custom and vendor ROMs) an app signed with them runs with system
        privileges; malware droppers use them for that reason.

    Example:
        ``EMAILADDRESS=android@android.com, CN=Android, OU=Android, O=Android,
        L=Mountain View, ST=California, C=US``

    Remediation:
        Block the app.

    References:
        https://android.googlesource.com/platform/build/+/refs/heads/main/target/product/security/README
    """
    for c in apk.signing.signers:
        if _is_aosp_test(c):
            yield finding(
                "AV-SIG-002",
                f"signed with a public AOSP test key ({c.subject.rfc4514})",
                subject=c.sha256,
                evidence=(_cert_ev(c),),
            )


@check(
    "AV-SIG-003",
    "v1-only-signature",
    "Only the v1 (JAR) signature scheme (Janus)",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def v1_only(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags APKs signed only with the v1 JAR scheme.

    What it checks:
        Whether the APK has no v2, v3 or v3.1 signature. Severity is high when the app
        also installs on Android 5.0–8.0 (minSdk below 26), where Janus applies.

    Why it matters:
        v1 protects only the entries, not the ZIP as a whole: Janus (CVE-2017-13156)
        lets an attacker prepend a DEX without breaking the signature, and the platform
        verifies v1 far more slowly.

    Example:
        An APK with ``META-INF/CERT.RSA`` and no APK Signing Block.

    Remediation:
        Require v2 or later signing from the vendor.

    References:
        https://source.android.com/docs/security/features/apksigning/v2 ;
        https://nvd.nist.gov/vuln/detail/CVE-2017-13156
    """
    s = apk.signing
    if s.schemes == (SigningScheme.V1,):
        min_sdk = apk.manifest.min_sdk if apk.manifest else None
        exposed = min_sdk is None or min_sdk < 26
        yield finding(
            "AV-SIG-003",
            "signed with the v1 scheme only"
            + (f" and installs on API {min_sdk or 1}+ (Janus)" if exposed else ""),
            severity=Severity.HIGH if exposed else Severity.MEDIUM,
            evidence=tuple(_cert_ev(c, "v1 signer") for c in s.signers),
        )


@check("AV-SIG-004", "weak-signing-key", "Weak signing key", Severity.MEDIUM, subscore=Subscore.HYGIENE)
def weak_key(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags signer keys too short to resist forgery.

    What it checks:
        RSA keys under 2048 bits, DSA keys, and EC keys under 224 bits.

    Why it matters:
        A forged signature lets an attacker ship an "update" the device accepts as
        coming from the publisher. 1024-bit RSA is within reach of well-funded
        attackers.

    Example:
        ``RSA 1024``

    Remediation:
        Ask the vendor to rotate to a strong key (v3 key rotation).

    References:
        https://csrc.nist.gov/pubs/sp/800/131/a/r2/final
    """
    for c in apk.signing.signers:
        alg = c.key_algorithm.upper()
        size = c.key_size or 0
        weak = (alg == "RSA" and size < 2048) or alg == "DSA" or (alg in ("EC", "ECDSA") and 0 < size < 224)
        if weak:
            yield finding(
                "AV-SIG-004",
                f"signing key is {c.key_algorithm} {c.key_size or '?'} bits",
                subject=c.sha256,
                evidence=(_cert_ev(c, f"{c.key_algorithm} {c.key_size}"),),
            )


@check(
    "AV-SIG-005",
    "weak-signature-digest",
    "Certificate signed with MD5 or SHA-1",
    Severity.LOW,
    subscore=Subscore.HYGIENE,
)
def weak_digest(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags signer certificates whose signature algorithm uses MD5 or SHA-1.

    What it checks:
        The certificate's signature algorithm name.

    Why it matters:
        MD5 and SHA-1 collisions are practical; old toolchains used them by default,
        which also dates the signing setup.

    Example:
        ``sha1WithRSAEncryption``

    Remediation:
        Ask the vendor to rotate to a SHA-256 based key and certificate.

    References:
        https://shattered.io/
    """
    for c in apk.signing.signers:
        algo = c.signature_algorithm.lower()
        if "md5" in algo or "sha1" in algo or "sha-1" in algo:
            yield finding(
                "AV-SIG-005",
                f"certificate signature algorithm is {c.signature_algorithm}",
                subject=c.sha256,
                evidence=(_cert_ev(c, c.signature_algorithm),),
            )


def _parse_time(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@check(
    "AV-SIG-006", "expired-certificate", "Signer certificate expired", Severity.LOW, subscore=Subscore.HYGIENE
)
def expired(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags signer certificates whose validity ended before the scan time.

    What it checks:
        ``notAfter`` of each signer certificate against the scan's evaluation time
        (``now``); not run when the scan has no time.

    Why it matters:
        Android does not enforce certificate expiry for APKs, but an expired
        certificate shows an abandoned or very old signing setup.

    Example:
        ``notAfter = 2014-03-01T00:00:00+00:00``

    Remediation:
        Check that the app is still maintained.

    References:
        https://developer.android.com/studio/publish/app-signing#considerations
    """
    if kb.now is None:
        return
    now = kb.now if kb.now.tzinfo else kb.now.replace(tzinfo=UTC)
    for c in apk.signing.signers:
        end = _parse_time(c.not_after)
        if end is not None and end < now:
            yield finding(
                "AV-SIG-006",
                f"certificate expired on {c.not_after}",
                subject=c.sha256,
                evidence=(_cert_ev(c, f"notAfter {c.not_after}"),),
            )


@check("AV-SIG-007", "unsigned", "APK is not signed", Severity.HIGH, subscore=Subscore.HYGIENE)
def unsigned(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags APKs with no signer at all.

    What it checks:
        Whether any v1, v2, v3 or v3.1 signer was found.

    Why it matters:
        Android refuses to install unsigned APKs; one found in the wild was stripped
        or is a component meant to be re-signed, and its publisher cannot be known.

    Example:
        An APK without ``META-INF/*.RSA`` and without an APK Signing Block.

    Remediation:
        Obtain the signed release from the vendor.

    References:
        https://source.android.com/docs/security/features/apksigning
    """
    if not apk.signing.signers:
        yield finding(
            "AV-SIG-007",
            "no signer certificate was found",
            evidence=(Evidence(EvidenceKind.CERTIFICATE, "none"),),
        )


@check(
    "AV-SIG-008",
    "signer-identity",
    "Publisher identity from the signing certificate",
    Severity.INFO,
    subscore=Subscore.HYGIENE,
)
def identity(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """States who signed the APK: the certificate fingerprint, organisation and country.

    What it checks:
        Each signer certificate's SHA-256 fingerprint (the publisher identity Android
        uses for updates), subject organisation and country.

    Why it matters:
        A policy can pin an app to its publisher's key; the country in the subject is
        self-declared and unverified, but a mismatch with the claimed vendor is a red
        flag.

    Example:
        ``O=Google Inc., C=US``, SHA-256 ``f0fd6c5b…``

    Remediation:
        Compare the fingerprint with the vendor's published key and pin it in policy.

    References:
        https://developer.android.com/studio/publish/app-signing
    """
    for c in apk.signing.signers:
        who = c.subject.organization or c.subject.common_name or "(no organisation)"
        country = c.subject.country or "?"
        yield finding(
            "AV-SIG-008",
            f"signed by '{who}' (country {country}, self-declared), "
            f"key {c.key_algorithm} {c.key_size or ''}".strip(),
            subject=c.sha256,
            confidence=Confidence.HIGH,
            evidence=(_cert_ev(c),),
        )


@check(
    "AV-SIG-009",
    "signature-problems",
    "Signature structure problems",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def problems(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports structural problems the reader saw in the signatures.

    What it checks:
        Problems recorded by the signing parser (malformed blocks, digests that do not
        match, signers that disagree across schemes).

    Why it matters:
        A broken signature on an installable APK means it was modified after signing
        or crafted to confuse verifiers.

    Example:
        ``v1 signature file CERT.SF does not match MANIFEST.MF``

    Remediation:
        Verify the APK with ``apksigner verify``; reject it if verification fails.

    References:
        https://source.android.com/docs/security/features/apksigning
    """
    for p in apk.signing.problems:
        yield finding("AV-SIG-009", p, subject=p, evidence=(Evidence(EvidenceKind.CERTIFICATE, p),))
