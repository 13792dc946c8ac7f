"""The reader's fast paths give exactly what the slower library calls they replace give.

Each fast path exists for speed (issue 2's start-up and per-APK budgets); these tests pin
it to the library it stands in for, on the real corpus and on names built from the list.
"""

from __future__ import annotations

import datetime
import random
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from appveto import archive
from appveto.apk import axml, signing
from appveto.apk.archive import open_archive
from appveto.apk.model import ZipEntry
from appveto.errors import ApkError
from tests.conftest import corpus_apks, corpus_params, require_shared

# The Public Suffix List fast path that apk/native.py had is gone: kb/domains.py is the one
# reader of the list (the native reader keeps syntactic candidates; endpoints decide).


# ------------------------------------------------------------ certificates


def _slow_facts(der: bytes) -> tuple[dict[str, object], list[str]]:
    facts: dict[str, object] = {}
    problems: list[str] = []
    signing._cryptography_facts(der, "test", facts, problems)
    return facts, problems


def _corpus_certs(path: Path) -> list[bytes]:
    """Every certificate DER that parse_signing describes for one APK."""
    seen: list[bytes] = []
    real = signing._common_cert_facts

    def spy(der: bytes) -> dict[str, object] | None:
        seen.append(der)
        return real(der)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(signing, "_common_cert_facts", spy)
        with open_archive(path) as archive:
            signing.parse_signing(archive, file=str(path))
    return seen


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_common_certificates_read_as_cryptography_reads_them(corpus_file: Path) -> None:
    for der in _corpus_certs(corpus_file):
        fast = signing._common_cert_facts(der)
        if fast is None:
            continue
        slow, problems = _slow_facts(der)
        assert problems == []
        assert fast == slow


def test_the_corpus_signers_mostly_take_the_direct_path() -> None:
    apks = corpus_apks()
    if not apks:
        require_shared("corpus/apk")
    ders = [der for p in apks for der in _corpus_certs(p)]
    direct = [der for der in ders if signing._common_cert_facts(der) is not None]
    assert ders and len(direct) >= 0.9 * len(ders)


def _make_cert(
    key: Any,
    subject: list[tuple[Any, str, Any]],
    *,
    not_after: datetime.datetime | None = None,
    extensions: bool = True,
) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.name import _ASN1Type

    name = x509.Name(
        [
            x509.NameAttribute(oid, value, _type=_ASN1Type[kind], _validate=False)
            for oid, value, kind in subject
        ]
    )
    start = datetime.datetime(2011, 2, 28, 23, 59, 59, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1234ABCD5678)
        .not_valid_before(start)
        .not_valid_after(not_after or datetime.datetime(2049, 12, 31, 0, 0, 0, tzinfo=datetime.UTC))
    )
    if extensions:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(Encoding.DER)


def _names() -> list[list[tuple[Any, str, Any]]]:
    from cryptography.x509.oid import NameOID

    return [
        [
            (NameOID.COUNTRY_NAME, "US", "PrintableString"),
            (NameOID.COMMON_NAME, "Android Debug", "UTF8String"),
        ],
        [
            (NameOID.COUNTRY_NAME, "DEU", "PrintableString"),  # 3 letters: cryptography only warns
            (NameOID.STATE_OR_PROVINCE_NAME, "Bayern", "UTF8String"),
            (NameOID.LOCALITY_NAME, "München", "UTF8String"),
            (NameOID.ORGANIZATION_NAME, 'A, "B" + <C>; D\\E', "UTF8String"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, "#lead ", "UTF8String"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, " second", "UTF8String"),
            (NameOID.EMAIL_ADDRESS, "dev@example.org", "IA5String"),
            (NameOID.SERIAL_NUMBER, "42", "PrintableString"),
            (NameOID.DOMAIN_COMPONENT, "example", "IA5String"),
            (NameOID.COMMON_NAME, "é 中文", "UTF8String"),
        ],
        [(NameOID.COMMON_NAME, " ", "UTF8String"), (NameOID.USER_ID, "u1", "UTF8String")],
        [(NameOID.COMMON_NAME, "bmp", "BMPString")],  # not a common string type: cryptography reads it
        [],
    ]


@pytest.mark.filterwarnings("ignore:Attribute's length must be")  # the 3-letter country, on purpose
@pytest.mark.parametrize("kind", ["rsa1024", "rsa3072", "ed25519", "ec"])
def test_generated_certificates_read_as_cryptography_reads_them(kind: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if kind.startswith("rsa"):
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    elif kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    far = datetime.datetime(2151, 7, 4, 12, 0, 1, tzinfo=datetime.UTC)  # GeneralizedTime
    for i, subject in enumerate(_names()):
        der = _make_cert(key, subject, not_after=far if i % 2 else None, extensions=i != 2)
        fast = signing._common_cert_facts(der)
        slow, problems = _slow_facts(der)
        if kind == "ec" or "bmp" in str(subject):
            assert fast is None  # left to cryptography
            continue
        assert fast is not None and problems == []
        assert fast == slow
        assert fast["not_after"] == ("2151-07-04T12:00:01Z" if i % 2 else "2049-12-31T00:00:00Z")


def test_uncommon_encodings_are_left_to_cryptography() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    der = _make_cert(rsa.generate_private_key(public_exponent=65537, key_size=1024), _names()[0])
    assert signing._common_cert_facts(der) is not None
    assert signing._common_cert_facts(der + b"\x00") is None  # trailing data
    assert signing._common_cert_facts(der[:-1]) is None  # truncated
    # the outer length re-encoded in a non-minimal form
    _tag, body, end = signing._der(der, 0, len(der))
    longer = b"\x30\x83" + (end - body).to_bytes(3, "big") + der[body:]
    assert signing._common_cert_facts(longer) is None
    assert signing._common_cert_facts(b"") is None
    assert signing._common_cert_facts(b"\x30\x80\x00\x00") is None  # indefinite length


# ------------------------------------------------------------------ inflation


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_inflation_gives_the_same_bytes_with_and_without_isal(corpus_file: Path) -> None:
    if archive._FAST_ZLIB is None:
        pytest.skip("isal is not installed: zlib alone inflates")
    with open_archive(corpus_file) as arch:
        deflated = [e for e in arch.entries if e.method == 8 and 0 < e.uncompressed_size < 20_000_000]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(archive, "_FAST_ZLIB", None)
            plain = [_read_or_error(arch, e) for e in deflated]
        assert [_read_or_error(arch, e) for e in deflated] == plain


def _read_or_error(arch: archive.Archive, entry: ZipEntry) -> bytes | str:
    try:
        return arch.read(entry)
    except ApkError as exc:
        return str(exc)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "longer", "shorter"])
def test_damaged_streams_report_the_same_errors_with_and_without_isal(damage: str) -> None:
    if archive._FAST_ZLIB is None:
        pytest.skip("isal is not installed: zlib alone inflates")
    payload = bytes(range(256)) * 400
    good = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = good.compress(payload) + good.flush()
    size = len(payload)
    if damage == "truncated":
        stream = stream[: len(stream) // 2]
    elif damage == "corrupt":
        stream = b"\xff" * 8 + stream[8:]
    elif damage == "longer":
        size -= 10
    else:
        size += 10
    errors = []
    for fast in (archive._FAST_ZLIB, None):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(archive, "_FAST_ZLIB", fast)
            with pytest.raises(ApkError) as info:
                archive._inflate(stream, 0, len(stream), size, file="t.apk", entry="e")
            errors.append(str(info.value))
    assert errors[0] == errors[1]


# ---------------------------------------------------------------- string pools


def _pool_by_string(buf: bytes, start: int, notes: list[str]) -> list[str | None]:
    """Every string of a UTF-8 pool read one by one with axml._utf8_at (no fast path)."""
    _type, header_size, size = struct.unpack_from("<HHI", buf, start)
    count, _styles, flags, strings_start, styles_start = struct.unpack_from("<IIIII", buf, start + 8)
    assert flags & 0x100
    end = start + size
    limit = start + styles_start if strings_start < styles_start < size else end
    offsets = struct.unpack_from(f"<{count}I", buf, start + header_size)

    def note(offset: int | None, detail: str, *, once: str | None = None) -> None:
        notes.append(detail)

    out: list[str | None] = []
    for i, off in enumerate(offsets):
        p = start + strings_start + off
        out.append(axml._utf8_at(buf, p, limit if p < limit else end, i, note))
    return out


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_utf8_pool_fast_path_reads_what_the_string_reader_reads(corpus_file: Path) -> None:
    with open_archive(corpus_file) as arch:
        if arch.get("resources.arsc") is None:
            pytest.skip("no resources.arsc")
        try:
            buf = arch.read("resources.arsc")
        except ApkError:
            pytest.skip("resources.arsc unreadable")
    header = struct.unpack_from("<H", buf, 2)[0] if len(buf) >= 12 else 0
    if header < 12 or len(buf) < header + 36 or struct.unpack_from("<H", buf, header)[0] != 0x0001:
        pytest.skip("no global string pool right after the table header")
    if not struct.unpack_from("<I", buf, header + 16)[0] & 0x100:
        pytest.skip("UTF-16 pool")
    fast_notes: list[str] = []
    slow_notes: list[str] = []

    def note(offset: int | None, detail: str, *, once: str | None = None) -> None:
        fast_notes.append(detail)

    fast = axml.read_string_pool(buf, header, len(buf), note)
    slow = _pool_by_string(buf, header, slow_notes)
    assert list(fast) == slow[: len(fast)]
    assert fast_notes == slow_notes


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mutated_certificates_read_as_cryptography_reads_them() -> None:
    """Differential check on damaged copies of the corpus signers: whenever the direct path
    accepts a mutated certificate, cryptography accepts it too and gives the same facts."""
    apks = corpus_apks()
    if not apks:
        require_shared("corpus/apk")
    ders = list(dict.fromkeys(der for p in apks for der in _corpus_certs(p)))
    rng = random.Random(7)
    accepted = 0
    for _ in range(3000):
        d = bytearray(rng.choice(ders))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(d))
            r = rng.random()
            if r < 0.6:
                d[i] = rng.randrange(256)
            elif r < 0.8:
                d[i] ^= 1 << rng.randrange(8)
            elif r < 0.9:
                del d[i]
            else:
                d[i:i] = bytes([rng.randrange(256)])
        fast = signing._common_cert_facts(bytes(d))
        if fast is None:
            continue
        accepted += 1
        slow, problems = _slow_facts(bytes(d))
        assert problems == [] and fast == slow, bytes(d).hex()
    assert accepted > 100  # the mutations exercise the direct path, not only the fallback
