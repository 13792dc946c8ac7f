"""Hidden payloads: every encoding and hiding place decoded, benign files left alone, the
decoding budget held on hostile input (zip bomb, 1 GB asset, endless encoding chains)."""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from appveto.apk import load_apk
from appveto.apk.hidden import DecodeBudget, HiddenScan, PayloadKind, _xor, find_hidden
from appveto.apk.model import Apk, DexLocation, SigningInfo
from tests.apkbuilder import ApkSpec, ClassSpec, MethodSpec, build_apk, build_dex

_PI = "Landroid/app/PendingIntent;"
SMS = MethodSpec(
    "Landroid/telephony/SmsManager;",
    "sendTextMessage",
    f"(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;{_PI}{_PI})V",
)
PAYLOAD = build_dex(
    (ClassSpec("Lpay/Load;", methods=(SMS,), strings=("http://c2.example.net/gate", "pay.Load")),)
)
_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17) + b"IEND\xaeB`\x82"


def _zip_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def _load(tmp_path: Path, entries: dict[str, bytes], **spec: object) -> Apk:
    raw = build_apk(ApkSpec("com.example.host", extra_entries=entries, sign=None, **spec))  # type: ignore[arg-type]
    path = tmp_path / "app.apk"
    path.write_bytes(raw)
    return load_apk(str(path))


def _only_dex(scan: HiddenScan) -> str:
    assert len(scan.code) == 1, scan
    code = scan.code[0]
    assert code.dex is not None and code.dex.location is DexLocation.HIDDEN
    assert "Lpay/Load;" in code.dex.class_defs
    assert any(m.name == "sendTextMessage" for m in code.dex.method_refs)
    return code.origin


@pytest.mark.parametrize(
    ("name", "blob", "encodings"),
    [
        ("assets/a.bin", base64.b64encode(PAYLOAD), "base64"),
        ("assets/a.txt", base64.encodebytes(PAYLOAD), "base64"),  # wrapped at 76 columns
        ("assets/a.dat", base64.urlsafe_b64encode(PAYLOAD).rstrip(b"="), "base64url"),
        ("res/raw/a", binascii.hexlify(PAYLOAD), "hex"),
        ("assets/x", _xor(PAYLOAD, b"\xa7"), "xor single-byte key"),
        ("assets/x", _xor(PAYLOAD, b"Kj8#q0!z"), "xor 8-byte key 'Kj8#q0!z' (known plaintext)"),
        ("assets/x", _xor(PAYLOAD, bytes(range(101, 117))), "xor 16-byte key"),
        ("assets/z", zlib.compress(PAYLOAD), "zlib"),
        ("assets/g", gzip.compress(PAYLOAD, mtime=0), "gzip"),
        ("assets/c", base64.b64encode(zlib.compress(PAYLOAD)), "base64, zlib"),
        ("assets/j", base64.b64encode(_zip_of("classes.dex", PAYLOAD)), "base64"),
        (
            "assets/k",
            base64.b64encode(_xor(base64.b64encode(PAYLOAD), b"k3y")),
            "base64, xor 3-byte key 'k3y'",
        ),
        ("assets/p", _PNG + PAYLOAD, "stored as is"),  # appended to an image
        ("assets/q.png", _PNG + base64.b64encode(PAYLOAD), "base64"),
    ],
)
def test_each_encoding_and_place_is_decoded(tmp_path: Path, name: str, blob: bytes, encodings: str) -> None:
    apk = _load(tmp_path, {name: blob})
    scan = find_hidden(apk)
    origin = _only_dex(scan)
    assert origin.startswith(name) and encodings in origin
    assert scan.undecoded == ()
    assert "decoded" in scan.spent and scan.exhausted is None


def test_xor_key_found_among_the_apps_string_constants(tmp_path: Path) -> None:
    key = "this key is longer than known plaintext covers!"
    apk = _load(tmp_path, {"assets/enc": _xor(PAYLOAD, key.encode())})
    assert find_hidden(apk).code == ()  # known plaintext alone cannot find a 47-byte key
    origin = _only_dex(find_hidden(apk, keys=("short", key)))
    assert "string constant of the app" in origin and key in origin


def test_payload_in_a_string_literal_and_in_chunks(tmp_path: Path) -> None:
    text = base64.b64encode(PAYLOAD).decode()
    apk = _load(tmp_path, {})
    origin = _only_dex(find_hidden(apk, strings=(("classes.dex string", text),)))
    assert origin == "classes.dex string (base64)"
    third = len(PAYLOAD) // 3
    parts = {
        f"assets/blob.part{i + 1}": PAYLOAD[i * third : (i + 1) * third if i < 2 else None] for i in range(3)
    }
    enc = {k: _xor(v, b"\x42") for k, v in parts.items()}
    apk2 = _load(tmp_path, enc)
    origin2 = _only_dex(find_hidden(apk2))
    assert origin2.startswith("assets/blob.part1+assets/blob.part2+assets/blob.part3 (xor single-byte key")


def test_benign_assets_give_nothing(tmp_path: Path) -> None:
    """Text, JSON, images, fonts, random bytes, base64 of an image, a plain zip of
    resources: nothing is reported as hidden code."""
    entries = {
        "assets/licence.txt": b"Apache License\nVersion 2.0, January 2004\n" * 40,
        "assets/config.json": b'{"server": "https://api.example.com", "retries": 3}' * 20,
        "assets/logo.png": _PNG * 20,
        "assets/icon.b64": base64.b64encode(_PNG * 40),
        "assets/words.txt": b"\n".join(b"word%d" % i for i in range(500)),
        "assets/fonts.zip": _zip_of("font.ttf", b"\x00\x01\x00\x00" + bytes(3000)),
        "assets/numbers.hex": b"0123456789abcdef" * 64,
    }
    scan = find_hidden(_load(tmp_path, entries))
    assert scan.payloads == () and scan.code == () and scan.undecoded == ()


def _stream_zlib(size: int) -> bytes:
    comp = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = [comp.compress(chunk) for _ in range(size >> 20)]
    return b"".join(out) + comp.flush()


def test_zip_bomb_payload_stops_at_the_output_budget(tmp_path: Path) -> None:
    """base64 of a zlib stream of 128 MiB of zeros, and base64 of a zip whose classes.dex
    inflates to 128 MiB: decoding stops at the budget with a located note."""
    bomb = base64.b64encode(_stream_zlib(128 << 20))
    budget = DecodeBudget(max_output_bytes=16 << 20)
    scan = find_hidden(_load(tmp_path, {"assets/bomb": bomb}), budget=budget)
    assert scan.code == ()
    (note,) = scan.undecoded
    assert note.source == "assets/bomb" and "past the decoding budget" in note.reason
    assert scan.exhausted is not None and "output budget" in scan.exhausted
    assert "16,777,216 of 16,777,216" in scan.spent or "decoded 16,777,216" in scan.spent

    inner = io.BytesIO()
    with (
        zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("classes.dex", "w", force_zip64=True) as f,
    ):
        chunk = bytes(1 << 20)
        for _ in range(128):
            f.write(chunk)
    scan2 = find_hidden(
        _load(tmp_path, {"assets/bomb.jar.b64": base64.b64encode(inner.getvalue())}), budget=budget
    )
    assert scan2.code == ()
    assert any(u.source == "assets/bomb.jar.b64!classes.dex" for u in scan2.undecoded)


def test_endless_chain_of_encodings_stops_at_the_depth_limit(tmp_path: Path) -> None:
    blob = PAYLOAD
    for i in range(30):
        blob = base64.b64encode(blob) if i % 2 else zlib.compress(blob)
    scan = find_hidden(_load(tmp_path, {"assets/deep": blob}))
    assert scan.code == ()
    (note,) = scan.undecoded
    assert note.source == "assets/deep" and "depth limit" in note.reason
    assert scan.exhausted is None


def test_one_gib_base64_asset_is_noted_not_read(tmp_path: Path) -> None:
    """A stored 1 GiB entry (a sparse file: only its first bytes are written) that starts
    as base64 of a DEX: sniffed, noted with its place, never read whole."""
    path = tmp_path / "big.apk"
    head = base64.b64encode(PAYLOAD[:3000])
    size = 1 << 30
    name = b"assets/huge.b64"
    with path.open("wb") as f:
        f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, size, size, len(name), 0) + name)
        f.write(head)
        f.seek(30 + len(name) + size)
        cd_off = f.tell()
        f.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                0,
                0,
                0,
                0,
                size,
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                0,
            )
            + name
        )
        cd_size = f.tell() - cd_off
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, cd_size, cd_off, 0))
    from appveto.apk.archive import open_archive

    archive = open_archive(str(path))
    apk = Apk(
        str(path), size, "", "", "", archive.entries, (), None, (), (), _no_signing(), (), (), (), archive
    )
    scan = find_hidden(apk)
    (note,) = scan.undecoded
    assert note.source == "assets/huge.b64" and note.size == size and "larger than" in note.reason
    assert scan.code == ()
    assert scan.exhausted is None and int(scan.spent.split()[1].replace(",", "")) <= 4096


def _no_signing() -> SigningInfo:
    return SigningInfo(schemes=(), signers=())


def test_payload_kinds_and_origin_text(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 3, 183) + bytes(200)
    scan = find_hidden(_load(tmp_path, {"assets/lib.b64": base64.b64encode(elf)}))
    assert [p.kind for p in scan.payloads] == [PayloadKind.ELF]
    assert scan.payloads[0].origin == "assets/lib.b64 (base64)"
    assert scan.code[0].native is not None
