"""apk.signing against Android's own verifier (apksigner), keytool and upstream labels.

The signing parser claims no verification; these tests check that the certificates
and schemes it *describes* are the ones ``apksigner verify --print-certs -v`` (Debian's
build of AOSP apksig) reports. apksigner refuses some corpus files on purpose
(tampered digests, unreadable manifests, a v3.1 block newer than Debian's apksig);
for those the reference is ``keytool -printcert -jarfile`` (v1 signers) and the
certificate digests transcribed from upstream tests in ``labels/expectations.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.apk.archive import Archive, open_archive
from appveto.apk.model import SigningInfo, SigningScheme, ZipEntry
from appveto.apk.signing import V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID, parse_signing
from appveto.errors import ApkError
from tests.apkbuilder import ApkSpec, SigningKey, add_signing_block, build_apk, make_signing_key
from tests.conftest import corpus_apk, corpus_apks, corpus_params, require_shared, require_tool

_SCHEME_LINE = re.compile(r"^Verified using (v\d(?:\.\d)?) scheme[^:]*: (true|false)$", re.M)
_SIGNER_SHA256 = re.compile(r"^Signer #\d+ certificate SHA-256 digest: ([0-9a-f]{64})$", re.M)
_SIGNER_DN = re.compile(r"^Signer #\d+ certificate DN: (.+)$", re.M)
_SIGNER_SHA1 = re.compile(r"^Signer #\d+ certificate SHA-1 digest: ([0-9a-f]{40})$", re.M)
_SIGNER_KEY_ALG = re.compile(r"^Signer #\d+ key algorithm: (\S+)$", re.M)
_SIGNER_KEY_SIZE = re.compile(r"^Signer #\d+ key size \(bits\): (\d+)$", re.M)
_KEYTOOL_SHA256 = re.compile(r"SHA256: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


@dataclass(frozen=True)
class ApksignerResult:
    verifies: bool
    schemes: frozenset[str]
    sha256: tuple[str, ...]
    sha1: tuple[str, ...]
    dns: tuple[str, ...]
    key_algorithms: tuple[str, ...]
    key_sizes: tuple[int, ...]
    args: tuple[str, ...]


def run_apksigner(path: Path, *extra: str) -> ApksignerResult:
    tool = require_tool("apksigner")
    proc = subprocess.run(
        [tool, "verify", "--print-certs", "-v", *extra, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout
    verifies = proc.returncode == 0 and out.startswith("Verifies")
    return ApksignerResult(
        verifies=verifies,
        schemes=frozenset(v for v, ok in _SCHEME_LINE.findall(out) if ok == "true"),
        sha256=tuple(_SIGNER_SHA256.findall(out)),
        sha1=tuple(_SIGNER_SHA1.findall(out)),
        dns=tuple(_SIGNER_DN.findall(out)),
        key_algorithms=tuple(_SIGNER_KEY_ALG.findall(out)),
        key_sizes=tuple(int(x) for x in _SIGNER_KEY_SIZE.findall(out)),
        args=extra,
    )


def apksigner_reference(path: Path) -> ApksignerResult:
    """apksigner's verdict; retried with ``--min-sdk-version 24`` when the default fails.

    By default apksigner checks the APK for its declared minSdk, so a v2-only APK with
    minSdk < 24 fails ("No JAR signatures") and an unreadable manifest stops it; the
    retry asks only for Android 7.0+, where v2 and later are enough.
    """
    first = run_apksigner(path)
    if first.verifies:
        return first
    return run_apksigner(path, "--min-sdk-version", "24")


def keytool_v1_sha256(path: Path) -> tuple[str, ...]:
    tool = require_tool("keytool")
    proc = subprocess.run(
        [tool, "-printcert", "-jarfile", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        return ()
    return tuple(m.replace(":", "").lower() for m in _KEYTOOL_SHA256.findall(proc.stdout))


def androguard_reference(path: Path) -> dict[SigningScheme, set[str]] | None:
    """Signer digests per scheme as androguard (a dev dependency) reads them, or None.

    androguard takes the first certificate of a v1 PKCS#7 block and the first of each
    v2/v3 signer, which is the signer for every file of the corpus; it does not know v3.1.
    """
    try:
        from androguard.core.apk import APK
        from loguru import logger

        logger.remove()
        apk = APK(str(path))
        # androguard accepts any META-INF/**.RSA; Android (apksig, JarFile) only direct
        # children of META-INF/, e.g. not META-INF/../../CERT.RSA (Apktool issue 1589).
        names = [n for n in apk.get_signature_names() if re.fullmatch(r"META-INF/[^/]+", n)]
        v1 = {hashlib.sha256(apk.get_certificate_der(n)).hexdigest() for n in names}
        v2 = {hashlib.sha256(c).hexdigest() for c in apk.get_certificates_der_v2()}
        v3 = {hashlib.sha256(c).hexdigest() for c in apk.get_certificates_der_v3()}
    except Exception:
        return None
    return {SigningScheme.V1: v1, SigningScheme.V2: v2, SigningScheme.V3: v3}


def expectations() -> dict[str, dict[str, Any]]:
    path = require_shared("corpus/labels/expectations.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Any]] = {}
    for entry in doc["entries"]:
        out.setdefault(entry["file"], {}).update(entry["expected"])
    return out


def label_sha256s(expected: dict[str, Any]) -> set[str]:
    return {
        str(v).lower()
        for k, v in expected.items()
        if k in ("first_signer_cert_sha256", "v1_v2_v3_cert_sha256", "v31_rotated_cert_sha256")
    }


def archive_entries(path: Path) -> tuple[ZipEntry, ...]:
    with open_archive(path) as archive:
        return archive.entries


def parse(path: Path) -> SigningInfo:
    with open_archive(path) as archive:
        return parse_signing(archive, file=path.name)


def parse_bytes(data: bytes) -> SigningInfo:
    return parse_signing(open_archive(data, name="built.apk"), file="built.apk")


# --------------------------------------------------------------- corpus


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_signers_match_reference_tools(corpus_file: Path) -> None:
    try:
        info = parse(corpus_file)
    except ApkError:
        ref = run_apksigner(corpus_file, "--min-sdk-version", "24")
        assert not ref.verifies, "the archive layer refuses a file apksigner verifies"
        return
    ours = {s.sha256 for s in info.signers}
    ref = apksigner_reference(corpus_file)
    if ref.verifies:
        assert ref.sha256, "apksigner verified but printed no signer"
        assert set(ref.sha256) <= ours, (ref.sha256, ours)
        ours_schemes = {str(s) for s in info.schemes}
        if ref.args:
            # apksigner asked only about Android 7.0+: the schemes it verified must be
            # among ours (it skips v1 there, and Debian's apksig predates v3.1).
            assert ref.schemes <= ours_schemes, (ref.schemes, ours_schemes)
        else:
            assert ref.schemes == ours_schemes, (ref.schemes, ours_schemes)
        if not {SigningScheme.V3, SigningScheme.V31} & set(info.schemes):
            # Without rotation every signer is one apksigner prints, and nothing else.
            assert set(ref.sha256) == ours
        by_sha = {s.sha256: s for s in info.signers}
        for sha256, sha1, alg, dn in zip(ref.sha256, ref.sha1, ref.key_algorithms, ref.dns, strict=True):
            assert by_sha[sha256].sha1 == sha1
            assert by_sha[sha256].key_algorithm == alg
            # apksigner prints RFC 2253 with ", " between RDNs; ours has ",".
            assert by_sha[sha256].subject.rfc4514 == re.sub(r"(?<!\\), ", ",", dn), dn
        for sha256, bits in zip(ref.sha256, ref.key_sizes, strict=False):
            assert by_sha[sha256].key_size == bits
        return
    # apksigner refuses the file: compare the v1 signers with keytool and the labels.
    checked = False
    v1 = {s.sha256 for s in info.signers if SigningScheme.V1 in s.schemes}
    kt = keytool_v1_sha256(corpus_file)
    if kt:
        assert set(kt) == v1, (kt, v1)
        checked = True
    labels = expectations().get(corpus_file.name, {})
    if label_sha256s(labels):
        assert label_sha256s(labels) <= ours
        checked = True
    for name in (e.name for e in archive_entries(corpus_file)):
        if (
            name.startswith("META-INF/")
            and "/" in name[9:]
            and name.upper().endswith((".RSA", ".DSA", ".EC"))
        ):
            assert any(name in p for p in info.problems), name
    if "has_jar_signature" in labels:
        assert labels["has_jar_signature"] == (SigningScheme.V1 in info.schemes)
    ag = androguard_reference(corpus_file)
    if ag is not None:
        for scheme, certs in ag.items():
            assert {c.sha256 for c in info.signers if scheme in c.schemes} == certs, scheme
        checked = True
    if not checked:
        pytest.skip(f"no independent reference for {corpus_file.name}: apksigner and androguard refuse it")


def test_v31_key_rotation_matches_labels() -> None:
    path = corpus_apk("apksig-v31-key-rotation.apk")
    exp = expectations()["apksig-v31-key-rotation.apk"]
    info = parse(path)
    flags = {
        SigningScheme.V1: exp["signed_v1"],
        SigningScheme.V2: exp["signed_v2"],
        SigningScheme.V3: exp["signed_v3"],
        SigningScheme.V31: exp["signed_v31"],
    }
    assert set(info.schemes) == {s for s, on in flags.items() if on}
    by_sha = {s.sha256: s for s in info.signers}
    original = by_sha[exp["v1_v2_v3_cert_sha256"]]
    rotated = by_sha[exp["v31_rotated_cert_sha256"]]
    assert set(original.schemes) == {SigningScheme.V1, SigningScheme.V2, SigningScheme.V3}
    assert rotated.schemes == (SigningScheme.V31,)
    assert rotated.min_sdk is not None and original.max_sdk is not None
    assert rotated.min_sdk <= original.max_sdk + 1
    assert [n.cert_sha256 for n in info.lineage] == [
        exp["v1_v2_v3_cert_sha256"],
        exp["v31_rotated_cert_sha256"],
    ]
    assert rotated.key_algorithm == "EC" and rotated.key_size == 256
    assert rotated.subject.common_name is not None
    assert info.problems == ()


def test_v2_only_apk() -> None:
    info = parse(corpus_apk("fdroid-v2-only-sig.apk"))
    exp = expectations()["fdroid-v2-only-sig.apk"]
    assert info.schemes == (SigningScheme.V2,)
    assert [s.sha256 for s in info.signers] == [exp["first_signer_cert_sha256"]]
    assert V2_BLOCK_ID in info.signing_block_ids


def test_unsigned_apk_has_no_signers() -> None:
    info = parse(corpus_apk("quark-ahmyth-rat.apk"))
    assert info.signers == ()
    assert info.schemes == ()
    assert info.signing_block_ids == ()


def test_signer_facts_agree_with_apksigner_dn() -> None:
    path = corpus_apk("fdroid-duplicate-permissions.apk")
    tool = require_tool("apksigner")
    out = subprocess.run(
        [tool, "verify", "--print-certs", str(path)], capture_output=True, text=True, check=True
    ).stdout
    dn = re.search(r"^Signer #1 certificate DN: (.+)$", out, re.M)
    assert dn is not None
    (signer,) = parse(path).signers
    # apksigner prints RFC 2253 with ", " separators; ours is RFC 4514 with ",".
    assert signer.subject.rfc4514 == dn.group(1).replace(", ", ",")
    assert signer.subject.common_name == "sova"
    assert signer.subject.organizational_unit == "F-Droid"
    assert signer.self_signed
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", signer.not_before)
    assert signer.not_before < signer.not_after
    assert signer.signature_algorithm == "sha256WithRSAEncryption"
    assert signer.min_sdk is not None  # also a v3 signer


# ------------------------------------------------------- built APKs


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return make_signing_key(algorithm="ec", common_name="Signing test", organization="Org", country="LU")


def _signed(ec_key: SigningKey, sign: Literal["v1v2", "v2"] = "v1v2") -> bytes:
    return build_apk(ApkSpec(package="org.example.sig", sign=sign, key=ec_key))


def _block_span(data: bytes) -> tuple[int, int]:
    """(start, end) of the APK Signing Block in ``data``."""
    magic_end = data.rfind(b"APK Sig Block 42") + 16
    size = struct.unpack_from("<Q", data, magic_end - 24)[0]
    return magic_end - size - 8, magic_end


def _strip_block(data: bytes) -> bytes:
    start, end = _block_span(data)
    eocd = data.rfind(b"PK\x05\x06")
    out = bytearray(data[:start] + data[end:])
    new_eocd = eocd - (end - start)
    struct.pack_into("<I", out, new_eocd + 16, start)
    return bytes(out)


def test_chain_extras_are_not_signers() -> None:
    ca = make_signing_key(algorithm="ec", common_name="Test CA", organization="CA Org", country="DE")
    leaf = make_signing_key(
        algorithm="ec", common_name="Leaf", organization="Leaf Org", country="NL", issuer=ca
    )
    info = parse_bytes(build_apk(ApkSpec(package="org.example.chain", sign="v1v2", key=leaf)))
    (signer,) = info.signers
    assert signer.sha256 == leaf.cert_sha256
    assert signer.schemes == (SigningScheme.V1, SigningScheme.V2)
    assert signer.issuer.common_name == "Test CA"
    assert not signer.self_signed
    assert info.problems == ()


def test_stripped_v2_signature_is_reported(ec_key: SigningKey) -> None:
    stripped = _strip_block(_signed(ec_key))
    info = parse_bytes(stripped)
    assert info.schemes == (SigningScheme.V1,)
    assert any("stripped" in p for p in info.problems)


def test_broken_signing_block_is_a_problem_not_an_exception(ec_key: SigningKey) -> None:
    data = _signed(ec_key, "v2")
    start, end = _block_span(data)
    # Header size differs from the footer's.
    bad = bytearray(data)
    struct.pack_into("<Q", bad, start, 12345)
    info = parse_bytes(bytes(bad))
    assert info.signers == ()
    assert any("header size" in p for p in info.problems)
    # A pair length that runs past the block.
    bad = bytearray(data)
    struct.pack_into("<Q", bad, start + 8, 1 << 40)
    info = parse_bytes(bytes(bad))
    assert any("bad length" in p for p in info.problems)
    # Every single-byte corruption inside the block: never an exception.
    for pos in range(start, end, 7):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        parse_bytes(bytes(bad))


def test_v1_block_garbage_is_a_problem(ec_key: SigningKey) -> None:
    data = build_apk(
        ApkSpec(
            package="org.example.junk",
            sign=None,
            extra_entries={
                "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n",
                "META-INF/X.RSA": b"\x30\x03junk",
            },
        )
    )
    info = parse_bytes(data)
    assert info.signers == ()
    assert any("X.RSA" in p for p in info.problems)


def test_unreadable_archive_raises_apk_error() -> None:
    class Broken:
        data = None
        cd_offset = 0
        entries = ()

    with pytest.raises(ApkError):
        parse_signing(Broken(), file="broken.apk")  # type: ignore[arg-type]


_CAPABILITIES = {
    "installed data": 0x01,
    "shared UID": 0x02,
    "permission": 0x04,
    "rollback": 0x08,
    "auth": 0x10,
}


def test_built_rotation_lineage_matches_apksigner(tmp_path: Path) -> None:
    keys = [
        make_signing_key(algorithm="rsa", common_name="Key 0"),
        make_signing_key(algorithm="ec", common_name="Key 1"),
        make_signing_key(algorithm="ec", common_name="Key 2"),
    ]
    data = build_apk(
        ApkSpec(package="org.example.rot", sign="v1v2v3", key=keys[2], rotated_from=(keys[0], keys[1]))
    )
    path = tmp_path / "rotated.apk"
    path.write_bytes(data)
    tool = require_tool("apksigner")
    proc = subprocess.run(
        [tool, "lineage", "--in", str(path), "--print-certs"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ref_certs = re.findall(
        r"^Signer #\d+ in lineage certificate SHA-256 digest: ([0-9a-f]{64})$", proc.stdout, re.M
    )
    ref_caps = re.findall(r"^Has (.+?) capability\s*: (true|false)$", proc.stdout, re.M)
    info = parse_bytes(data)
    assert [n.cert_sha256 for n in info.lineage] == ref_certs
    per_node = len(_CAPABILITIES)
    for i, node in enumerate(info.lineage):
        for name, value in ref_caps[i * per_node : (i + 1) * per_node]:
            assert bool(node.flags & _CAPABILITIES[name]) == (value == "true"), (i, name)
    by_sha = {s.sha256: s for s in info.signers}
    assert set(by_sha[keys[0].cert_sha256].schemes) == {SigningScheme.V1, SigningScheme.V2}
    current = by_sha[keys[2].cert_sha256]
    assert current.schemes == (SigningScheme.V3,)
    assert current.min_sdk == 28 and current.max_sdk is None
    assert keys[1].cert_sha256 not in by_sha  # in the lineage only: it signs nothing now
    assert info.problems == ()


# ------------------------------------------------------------------ fuzz
# Hostile signing blocks and PKCS#7 blobs never raise. Seeds are APKs built by
# tests.apkbuilder (v1 + v2 + v3 with a rotation lineage, a chain extra), so every layer
# of the format is reached before a mutation bites. APPVETO_FUZZ_EXAMPLES=N runs a
# longer, randomised campaign.

_EXAMPLES = int(os.environ.get("APPVETO_FUZZ_EXAMPLES", "0")) or 150
_SETTINGS = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize="APPVETO_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _keys() -> tuple[SigningKey, SigningKey, SigningKey]:
    ca = make_signing_key(algorithm="ec", common_name="CA")
    old = make_signing_key(algorithm="ec", common_name="Old")
    new = make_signing_key(algorithm="ec", common_name="New", issuer=ca)
    return ca, old, new


@cache
def _unsigned() -> bytes:
    return build_apk(ApkSpec(package="org.example.fuzz", sign=None))


@cache
def _rotated() -> bytes:
    _, old, new = _keys()
    return build_apk(ApkSpec(package="org.example.fuzz", sign="v1v2v3", key=new, rotated_from=(old,)))


def _parse_fuzzed(data: bytes) -> SigningInfo:
    info = parse_signing(open_archive(data, name="fuzz.apk"), file="fuzz.apk")
    assert isinstance(info, SigningInfo)
    for s in info.signers:
        assert len(s.sha256) == 64 and s.schemes
    return info


@_SETTINGS
@given(
    value=st.binary(max_size=1500),
    block_id=st.sampled_from([V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID, 0x42726577, 0x12345678]),
)
def test_random_block_values(value: bytes, block_id: int) -> None:
    info = _parse_fuzzed(add_signing_block(_unsigned(), [(block_id, value)]))
    assert block_id in info.signing_block_ids


@_SETTINGS
@given(st.data())
def test_mutated_signing_block(data: st.DataObject) -> None:
    apk = bytearray(_rotated())
    start, end = _block_span(bytes(apk))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(start, end - 17))  # keep the magic so the block is found
        apk[pos] = data.draw(st.integers(0, 255))
    info = _parse_fuzzed(bytes(apk))
    # v1 (JAR) signing lies outside the block: changed block bytes never lose it
    assert "v1" in {scheme for s in info.signers for scheme in s.schemes}


@_SETTINGS
@given(st.data())
def test_mutated_and_truncated_pkcs7(data: st.DataObject) -> None:
    with open_archive(_rotated()) as archive:
        blob = bytearray(archive.read("META-INF/CERT.EC"))
        sf = archive.read("META-INF/CERT.SF")
        mf = archive.read("META-INF/MANIFEST.MF")
    mutations = data.draw(st.integers(0, 4))
    for _ in range(mutations):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    apk = build_apk(
        ApkSpec(
            package="org.example.fuzz",
            sign=None,
            extra_entries={
                "META-INF/MANIFEST.MF": mf,
                "META-INF/CERT.SF": sf,
                "META-INF/CERT.EC": bytes(blob[:cut]),
            },
        )
    )
    info = _parse_fuzzed(apk)
    if mutations == 0 and cut < len(blob):
        # A truncated DER block can never be read as a signature: a located problem instead.
        assert info.signers == ()
        assert any("CERT.EC" in p for p in info.problems)


def test_unmutated_seeds_parse_cleanly() -> None:
    """The seeds themselves are clean, so the fuzzers start from full coverage."""
    ca, old, new = _keys()
    info = _parse_fuzzed(_rotated())
    assert info.problems == ()
    shas = {s.sha256 for s in info.signers}
    assert shas == {hashlib.sha256(k.cert_der).hexdigest() for k in (old, new)}
    assert hashlib.sha256(ca.cert_der).hexdigest() not in shas  # a chain extra, not a signer


def test_many_tiny_pairs_are_cut_off() -> None:
    """A block of 100 000 empty pairs (distinct IDs) is cut off, not parsed quadratically:
    reading it costs no more than reading 10 000 (lines executed, counted: see
    tests/workcount.py)."""
    from tests.workcount import growth

    def archive(n: int) -> Archive:
        pairs = [(0x10000 + i, b"") for i in range(n)]
        return open_archive(add_signing_block(_unsigned(), pairs), name="fuzz.apk")

    small, large = growth(lambda a: parse_signing(a, file="fuzz.apk"), archive(10_000), archive(100_000))
    assert large <= 1.5 * small, (small, large)
    info = parse_signing(archive(100_000), file="fuzz.apk")
    assert any("pairs" in p for p in info.problems)
    assert 0 < len(info.signing_block_ids) < 100_000


def _lp(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b


def test_certificate_cryptography_refuses_keeps_its_identity(ec_key: SigningKey) -> None:
    """A v2 signer whose certificate cryptography cannot parse (X.509 version 6) is still
    reported by its digest, which is what publisher policies match on."""
    der = bytearray(ec_key.cert_der)
    at = der.find(bytes.fromhex("a003020102"))  # [0] EXPLICIT INTEGER 2 (v3)
    assert at > 0
    der[at + 4] = 5
    signed_data = _lp(b"") + _lp(_lp(bytes(der))) + _lp(b"")
    signer = _lp(signed_data) + _lp(b"") + _lp(b"")
    info = _parse_fuzzed(add_signing_block(_unsigned(), [(V2_BLOCK_ID, _lp(_lp(signer)))]))
    (cert,) = info.signers
    assert cert.sha256 == hashlib.sha256(bytes(der)).hexdigest()
    assert cert.schemes == (SigningScheme.V2,)
    assert cert.serial == format(ec_key.certificate.serial_number, "x")  # read by our own DER walker
    assert cert.self_signed
    assert cert.subject.rfc4514 == "" and cert.key_algorithm == "unknown"
    assert any("unparsable" in p for p in info.problems)
    assert any("public key differs" in p for p in info.problems)


_JAVA_SIG_ALGS = {
    "MD5withRSA": "md5WithRSAEncryption",
    "SHA1withRSA": "sha1WithRSAEncryption",
    "SHA256withRSA": "sha256WithRSAEncryption",
    "SHA384withRSA": "sha384WithRSAEncryption",
    "SHA512withRSA": "sha512WithRSAEncryption",
    "SHA1withDSA": "dsa-with-sha1",
    "SHA256withDSA": "dsa-with-sha256",
    "SHA1withECDSA": "ecdsa-with-SHA1",
    "SHA256withECDSA": "ecdsa-with-SHA256",
    "SHA384withECDSA": "ecdsa-with-SHA384",
}


def _java_date(text: str) -> str:
    from datetime import datetime

    return datetime.strptime(text, "%a %b %d %H:%M:%S UTC %Y").strftime("%Y-%m-%dT%H:%M:%SZ")


def test_certificate_facts_match_keytool(tmp_path: Path) -> None:
    """Serial, validity, signature and key algorithm of every v1 signer certificate of the
    corpus, as keytool (the JDK's X.509 parser) prints them. One keytool run for all."""
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    tool = require_tool("keytool")
    require_shared("corpus/apk")
    ours: dict[str, Any] = {}
    pem = b""
    for path in corpus_apks():
        with open_archive(path) as archive:
            info = parse_signing(archive, file=path.name)
            ours.update({s.sha256: s for s in info.signers if SigningScheme.V1 in s.schemes})
            for e in archive.entries:
                if re.fullmatch(r"META-INF/[^/]+\.(RSA|DSA|EC)", e.name, re.I):
                    for cert in pkcs7.load_der_pkcs7_certificates(archive.read(e)):
                        pem += cert.public_bytes(Encoding.PEM)
    bundle = tmp_path / "signers.pem"
    bundle.write_bytes(pem)
    proc = subprocess.run(
        [tool, "-J-Duser.timezone=UTC", "-J-Duser.language=en", "-printcert", "-file", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    blocks = re.split(r"^Certificate\[\d+\]:$", proc.stdout, flags=re.M)[1:]
    assert len(blocks) >= 25
    compared = 0
    for block in blocks:
        sha = re.search(r"SHA256: ([0-9A-F:]{95})", block)
        assert sha is not None
        signer = ours.get(sha.group(1).replace(":", "").lower())
        if signer is None:  # a chain extra, or the signature block of a file Android ignores
            continue
        serial = re.search(r"^Serial number: (-?[0-9a-f]+)$", block, re.M)
        valid = re.search(r"^Valid from: (.+?) until: (.+)$", block, re.M)
        alg = re.search(r"^Signature algorithm name: (\S+)", block, re.M)
        key = re.search(r"^Subject Public Key Algorithm: (\d+)-bit (\w+)", block, re.M)
        assert serial and valid and alg and key
        assert signer.serial == serial.group(1)
        assert (signer.not_before, signer.not_after) == (
            _java_date(valid.group(1)),
            _java_date(valid.group(2)),
        )
        assert signer.signature_algorithm == _JAVA_SIG_ALGS[alg.group(1)]
        assert (signer.key_size, signer.key_algorithm) == (int(key.group(1)), key.group(2))
        compared += 1
    assert compared >= 25, compared
