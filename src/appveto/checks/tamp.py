"""TAMP: every tampering observation of the reader becomes a finding.

Deviations that Android tolerates but other tools choke on are deliberate evasion
more often than accidents; the finding names the entry and offset.
"""

from __future__ import annotations

from collections.abc import Iterator

from appveto.apk.model import Apk, Tampering, TamperKind
from appveto.checks.registry import Subscore, check, finding
from appveto.findings import Evidence, EvidenceKind, Finding, Location, Severity
from appveto.kb.model import KnowledgeBase

_MAX_PER_CHECK = 25


def _ev(t: Tampering) -> Evidence:
    return Evidence(EvidenceKind.ZIP, t.kind.value, Location(entry=t.entry, offset=t.offset), t.detail)


def _emit(cid: str, apk: Apk, kinds: frozenset[TamperKind]) -> Iterator[Finding]:
    hits = sorted(
        (t for t in apk.tampering if t.kind in kinds),
        key=lambda t: (t.kind, t.entry or "", t.offset or -1, t.detail),
    )
    for t in hits[:_MAX_PER_CHECK]:
        where = f" in {t.entry}" if t.entry else ""
        at = f" at offset {t.offset:#x}" if t.offset is not None else ""
        yield finding(
            cid,
            f"{t.kind}{where}{at}: {t.detail}",
            subject=f"{t.kind}:{t.entry or ''}:{t.offset}",
            evidence=(_ev(t),),
        )
    if len(hits) > _MAX_PER_CHECK:
        yield finding(
            cid,
            f"{len(hits) - _MAX_PER_CHECK} further observations of the same kind are not listed",
            subject="more",
            evidence=(Evidence(EvidenceKind.METRIC, str(len(hits)), note="observations in total"),),
        )


_JANUS = frozenset({TamperKind.DATA_BEFORE_ARCHIVE, TamperKind.DEX_MAGIC_AT_START})
_HEADERS = frozenset(
    {
        TamperKind.BAD_COMPRESSION_METHOD,
        TamperKind.METHOD_MISMATCH,
        TamperKind.SIZE_MISMATCH,
        TamperKind.CRC_MISMATCH,
        TamperKind.NAME_MISMATCH,
        TamperKind.FAKE_ENCRYPTION,
        TamperKind.EXTRA_FIELD_ANOMALY,
        TamperKind.INFLATE_ERROR,
    }
)
_NAMES = frozenset({TamperKind.PATH_TRAVERSAL, TamperKind.UNUSUAL_NAME, TamperKind.DUPLICATE_NAME})
_STRUCTURE = frozenset(
    {
        TamperKind.TRAILING_DATA,
        TamperKind.OVERLAPPING_ENTRIES,
        TamperKind.CD_COUNT_MISMATCH,
        TamperKind.TRUNCATED,
        TamperKind.COMMENT_ANOMALY,
        TamperKind.ZIP64,
    }
)


@check(
    "AV-TAMP-001",
    "janus-prepended-data",
    "Data prepended to the APK (Janus)",
    Severity.CRITICAL,
    subscore=Subscore.HYGIENE,
)
def janus(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags bytes before the first ZIP record, especially a DEX file (Janus, CVE-2017-13156).

    What it checks:
        Data in front of the first local file header, and whether the file also
        starts with the DEX magic.

    Why it matters:
        On Android 5.0–8.0 an APK signed only with the v1 scheme can carry a DEX in
        front of the ZIP: the signature still verifies, and the runtime executes the
        prepended DEX instead of the signed code.

    Example:
        A file that begins with ``dex\\n035`` followed by a valid signed ZIP.

    Remediation:
        Reject the file; require APK Signature Scheme v2 or later.

    References:
        https://nvd.nist.gov/vuln/detail/CVE-2017-13156 ;
        https://www.guardsquare.com/blog/new-android-vulnerability-allows-attackers-to-modify-apps-without-affecting-their-signatures
    """
    yield from _emit("AV-TAMP-001", apk, _JANUS)


@check(
    "AV-TAMP-002",
    "zip-header-tricks",
    "ZIP headers disagree or lie",
    Severity.HIGH,
    subscore=Subscore.HYGIENE,
)
def headers(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags ZIP header values Android ignores but analysis tools trust.

    What it checks:
        Invalid compression methods, local and central headers that disagree on method,
        sizes, CRC or name, the encryption flag set on readable data, malformed extra
        fields and data that cannot be inflated.

    Why it matters:
        Android's installer reads the central directory leniently; ``unzip``, jadx,
        apktool and Python's ``zipfile`` do not. Banking trojans (BadPack) use these
        tricks so that analysis tools fail while the app installs.

    Example:
        ``AndroidManifest.xml`` declares compression method 30208 but is stored.

    Remediation:
        Treat the APK as evasive; analyse it with a tolerant reader (appveto) and
        reject it unless the vendor explains the build.

    References:
        https://unit42.paloaltonetworks.com/apk-badpack-malware-tampered-headers/ ;
        https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
    """
    yield from _emit("AV-TAMP-002", apk, _HEADERS)


@check(
    "AV-TAMP-003",
    "suspicious-entry-names",
    "Suspicious archive entry names",
    Severity.MEDIUM,
    subscore=Subscore.HYGIENE,
)
def names(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags entry names with path traversal, control characters or duplicates.

    What it checks:
        ``..`` components, absolute paths, backslashes, NUL or control characters,
        over-long names and names that occur twice in the central directory.

    Why it matters:
        Such names break or mislead extraction tools (zip-slip), and duplicate names
        make two tools see two different files under one name.

    Example:
        ``META-INF/../../../../CERT.RSA``

    Remediation:
        Treat the APK as evasive; reject it unless explained.

    References:
        https://snyk.io/research/zip-slip-vulnerability
    """
    yield from _emit("AV-TAMP-003", apk, _NAMES)


@check(
    "AV-TAMP-004", "zip-structure-anomaly", "ZIP structure anomaly", Severity.LOW, subscore=Subscore.HYGIENE
)
def structure(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags structural ZIP anomalies: trailing data, overlaps, truncation, count mismatches.

    What it checks:
        Bytes after the end of central directory, overlapping entries, an entry count
        that disagrees with the directory, truncated records, odd comments and ZIP64
        records in an APK.

    Why it matters:
        They are rare in toolchain-built APKs and common in hand-crafted evasive ones
        (hidden payloads after the archive, zip bombs with overlapping entries).

    Example:
        The end-of-central-directory record says 24 entries, the directory holds 25.

    Remediation:
        Examine the extra bytes; reject if unexplained.

    References:
        https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
    """
    yield from _emit("AV-TAMP-004", apk, _STRUCTURE)


@check(
    "AV-TAMP-005", "manifest-anomaly", "Binary manifest tricks", Severity.MEDIUM, subscore=Subscore.HYGIENE
)
def manifest_tricks(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags binary XML deviations in the manifest that Android tolerates.

    What it checks:
        The reader's manifest anomalies: bad chunk headers or sizes, strings out of
        range, attribute names that disagree with their resource IDs, unknown chunks.

    Why it matters:
        Malware (Obad, and many droppers since) uses them to break apktool and other
        decoders so that the real package name or components are hidden from analysts.

    Example:
        An attribute named ``package`` whose resource ID is ``android:versionName``.

    Remediation:
        Trust only a resource-ID-aware decoder (appveto's) and treat the app as evasive.

    References:
        https://securelist.com/the-most-sophisticated-android-trojan/35929/
    """
    yield from _emit("AV-TAMP-005", apk, frozenset({TamperKind.MANIFEST_ANOMALY}))


@check("AV-TAMP-006", "dex-header-anomaly", "DEX header tricks", Severity.MEDIUM, subscore=Subscore.HYGIENE)
def dex_tricks(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Flags DEX header values that break decompilers but not the Android runtime.

    What it checks:
        The reader's DEX header anomalies (header size, checksum, map tricks).

    Why it matters:
        APKrypter-style header changes make dex2jar, jadx and baksmali fail, hiding
        the code from reviewers while the app still runs.

    Example:
        ``header_size`` of 6880 instead of 0x70.

    Remediation:
        Treat the app as evasive; analyse it with a tolerant reader.

    References:
        https://source.android.com/docs/core/runtime/dex-format#header-item
    """
    yield from _emit("AV-TAMP-006", apk, frozenset({TamperKind.DEX_HEADER_ANOMALY}))
    known = {(t.entry, t.detail) for t in apk.tampering if t.kind is TamperKind.DEX_HEADER_ANOMALY}
    for d in apk.dex:
        for a in d.header_anomalies:
            if (d.entry, a) not in known:
                yield finding(
                    "AV-TAMP-006",
                    f"{d.entry}: {a}",
                    subject=f"{d.entry}:{a}",
                    evidence=(Evidence(EvidenceKind.ZIP, "dex-header-anomaly", Location(entry=d.entry), a),),
                )


@check(
    "AV-TAMP-007",
    "unreadable-part",
    "A part of the APK could not be read",
    Severity.MEDIUM,
    subscore=Subscore.AUDITABILITY,
)
def unreadable(apk: Apk, kb: KnowledgeBase) -> Iterator[Finding]:
    """Reports each part of the APK the reader had to give up on.

    What it checks:
        The reader's problems: a manifest, resource table, DEX, signature block or
        native library that could not be parsed (the rest of the scan goes on).

    Why it matters:
        Whatever sits in an unreadable part is invisible to every other check; if
        Android can still use it, the damage is likely deliberate.

    Example:
        ``classes2.dex``: string table runs past the end of the file.

    Remediation:
        Analyse the part by hand; reject the APK if it cannot be explained.

    References:
        https://source.android.com/docs/core/runtime/dex-format
    """
    for p in apk.problems:
        yield finding(
            "AV-TAMP-007",
            f"{p.part} could not be read: {p.message}",
            subject=f"{p.part}:{p.entry or ''}",
            evidence=(
                Evidence(
                    EvidenceKind.ENTRY, p.entry or p.part, Location(entry=p.entry, offset=p.offset), p.message
                ),
            ),
        )
