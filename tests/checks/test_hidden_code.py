"""Hidden code end to end: each evasion technique built into an APK with real bytecode is
detected, decoded where the scheme is known, and the decoded code's API use reaches the
permission verdicts; a benign build gets none of these findings; code that cannot be
decoded leaves no dangerous permission ``not-observed``."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from appveto.apk import load_apk
from appveto.apk.hidden import _xor
from appveto.apk.model import Apk
from appveto.checks import obf, perm
from appveto.checks.coverage import measure
from appveto.checks.facts import facts
from appveto.checks.perm import Verdict, permission_verdicts
from appveto.checks.registry import active_checks
from appveto.kb import load_baseline
from tests.apkbuilder import ApkSpec, ClassSpec, CodeSpec, Insn, MethodSpec, build_apk, build_dex
from tests.conftest import corpus_params, require_shared

KB = load_baseline()
_S = "Ljava/lang/String;"
_PI = "Landroid/app/PendingIntent;"
SEND_SMS = MethodSpec("Landroid/telephony/SmsManager;", "sendTextMessage", f"({_S}{_S}{_S}{_PI}{_PI})V")
GET_CONSTRUCTOR = MethodSpec(
    "Ljava/lang/Class;", "getConstructor", "([Ljava/lang/Class;)Ljava/lang/reflect/Constructor;"
)
NEW_INSTANCE = MethodSpec(
    "Ljava/lang/reflect/Constructor;", "newInstance", "([Ljava/lang/Object;)Ljava/lang/Object;"
)
FOR_NAME = MethodSpec("Ljava/lang/Class;", "forName", f"({_S})Ljava/lang/Class;")
GET_METHOD = MethodSpec(
    "Ljava/lang/Class;", "getDeclaredMethod", f"({_S}[Ljava/lang/Class;)Ljava/lang/reflect/Method;"
)
INVOKE = MethodSpec(
    "Ljava/lang/reflect/Method;", "invoke", "(Ljava/lang/Object;[Ljava/lang/Object;)Ljava/lang/Object;"
)
OPEN_ASSET = MethodSpec("Landroid/content/res/AssetManager;", "open", f"({_S})Ljava/io/InputStream;")
B64_DECODE = MethodSpec("Landroid/util/Base64;", "decode", f"({_S}I)[B")
APPEND = MethodSpec("Ljava/lang/StringBuilder;", "append", f"({_S})Ljava/lang/StringBuilder;")
SYSTEM_LOAD = MethodSpec("Ljava/lang/System;", "load", f"({_S})V")
FOS_INIT = MethodSpec("Ljava/io/FileOutputStream;", "<init>", f"({_S})V")
FOS_WRITE = MethodSpec("Ljava/io/FileOutputStream;", "write", "([B)V")
PERMS = ("android.permission.SEND_SMS", "android.permission.READ_CONTACTS", "android.permission.RECORD_AUDIO")

PAYLOAD = build_dex((ClassSpec("Lpay/Sms;", methods=(SEND_SMS,), strings=("https://c2.example.org/gate",)),))


def _reflective_loader(*extra: Insn) -> CodeSpec:
    """``DexClassLoader.class.getConstructor(...).newInstance(...)``: no constructor reference."""
    return CodeSpec(
        "boot",
        "()V",
        (
            ("const-string", 1, "payload.bin"),
            ("invoke-virtual", (0, 1), OPEN_ASSET),
            ("const-class", 0, "Ldalvik/system/DexClassLoader;"),
            ("const/4", 1, 0),
            ("new-array", 2, 1, "[Ljava/lang/Class;"),
            ("invoke-virtual", (0, 2), GET_CONSTRUCTOR),
            ("move-result-object", 3),
            ("invoke-virtual", (3, 2), NEW_INSTANCE),
            *extra,
            ("return-void",),
        ),
    )


def _apk(tmp_path: Path, classes: tuple[ClassSpec, ...], entries: dict[str, bytes] | None = None) -> Apk:
    raw = build_apk(
        ApkSpec(
            "com.example.dropper", permissions=PERMS, classes=classes, extra_entries=entries or {}, sign=None
        )
    )
    path = tmp_path / "app.apk"
    path.write_bytes(raw)
    return load_apk(str(path))


def _verdicts(apk: Apk) -> dict[str, perm.PermissionVerdict]:
    return {v.permission.rsplit(".", 1)[-1]: v for v in permission_verdicts(apk, KB)}


def _ids(apk: Apk) -> set[str]:
    return {
        f.check_id
        for c in active_checks()
        if c.func is not None and c.id.startswith(("AV-OBF", "AV-PERM"))
        for f in c.func(apk, KB)
    }


def _assert_payload_read(apk: Apk, origin: str) -> None:
    v = _verdicts(apk)
    assert v["SEND_SMS"].verdict is Verdict.USED
    (ev,) = v["SEND_SMS"].evidence
    assert ev.note is not None and f"in hidden code decoded from {origin}" in ev.note
    assert ev.value.startswith("Landroid/telephony/SmsManager;->sendTextMessage")
    # the loaded code was found and read: what neither it nor the primary DEX uses is not observed
    assert not measure(apk, KB).code_hidden
    assert v["READ_CONTACTS"].verdict is Verdict.NOT_OBSERVED
    f = facts(apk)
    assert f.hidden_strings.get("https://c2.example.org/gate", "").startswith("in hidden code decoded from")
    assert f.hidden_classes == {"Lpay/Sms;": f"in hidden code decoded from {origin}"}


@pytest.mark.parametrize(
    ("name", "blob", "origin"),
    [
        ("assets/payload.bin", base64.b64encode(PAYLOAD), "assets/payload.bin (base64)"),
        ("assets/payload.bin", PAYLOAD.hex().encode(), "assets/payload.bin (hex)"),
        ("res/raw/payload", zlib.compress(PAYLOAD), "res/raw/payload (zlib)"),
        (
            "assets/payload.bin",
            _xor(PAYLOAD, b"\x37"),
            "assets/payload.bin (xor single-byte key '7' (known plaintext))",
        ),
    ],
)
def test_loader_by_reflection_and_encoded_dex_in_assets(
    tmp_path: Path, name: str, blob: bytes, origin: str
) -> None:
    apk = _apk(
        tmp_path, (ClassSpec("Lcom/example/dropper/Boot;", code=(_reflective_loader(),)),), {name: blob}
    )
    cov = measure(apk, KB)
    (loader,) = cov.loaders
    assert loader.note is not None and "const-class dalvik.system.DexClassLoader" in loader.note
    assert loader.location.class_name == "com.example.dropper.Boot" and loader.location.method == "boot()V"
    assert [e.value for e in cov.hidden_decoded] == [origin]
    _assert_payload_read(apk, origin)
    ids = _ids(apk)
    assert {"AV-OBF-005", "AV-OBF-006", "AV-PERM-003"} <= ids
    assert "payloads:" in cov.decoding_budget and "instructions" in cov.decoding_budget


def test_xor_key_from_the_loaders_code(tmp_path: Path) -> None:
    key = "a key longer than any known plaintext reaches, from the code"
    loader = _reflective_loader(("const-string", 4, key))
    apk = _apk(
        tmp_path, (ClassSpec("La/Boot;", code=(loader,)),), {"assets/p.dat": _xor(PAYLOAD, key.encode())}
    )
    _assert_payload_read(
        apk, f"assets/p.dat (xor {len(key)}-byte key '{key}' (a string constant of the app))"
    )


def test_dex_in_a_string_and_in_chunks_the_code_joins(tmp_path: Path) -> None:
    text = base64.b64encode(zlib.compress(PAYLOAD)).decode()
    whole = CodeSpec(
        "s", "()V", (("const-string", 0, text), ("invoke-static", (0,), FOR_NAME), ("return-void",))
    )
    apk = _apk(tmp_path, (ClassSpec("La/Boot;", code=(_reflective_loader(), whole)),))
    _assert_payload_read(apk, f'classes.dex string "{text[:16]}..." (base64, zlib)')

    size = len(text) // 4 + 1
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    joined: list[Insn] = []
    for c in chunks:
        joined += [("const-string", 1, c), ("invoke-virtual", (0, 1), APPEND)]
    apk2 = _apk(
        tmp_path,
        (
            ClassSpec(
                "La/Boot;", code=(_reflective_loader(), CodeSpec("j", "()V", (*joined, ("return-void",))))
            ),
        ),
    )
    f = facts(apk2)
    (payload,) = f.hidden.payloads
    assert payload.source.startswith("classes.dex strings joined by the code at 0x")
    assert payload.encodings == ("base64", "zlib")
    assert _verdicts(apk2)["SEND_SMS"].verdict is Verdict.USED


@pytest.mark.parametrize(
    ("code", "how"),
    [
        (
            (
                ("const-string", 0, "dalvik.system.DexClassLoader"),
                ("invoke-static", (0,), FOR_NAME),
                ("move-result-object", 1),
                ("invoke-virtual", (1, 2), GET_CONSTRUCTOR),
            ),
            'Class.forName("dalvik.system.DexClassLoader")',
        ),
        (
            (
                ("const-class", 0, "Ldalvik/system/DexFile;"),
                ("const-string", 1, "openDexFile"),
                ("invoke-virtual", (0, 1, 2), GET_METHOD),
                ("move-result-object", 3),
                ("invoke-virtual", (3, 4, 5), INVOKE),
            ),
            "reflection on openDexFile",
        ),
        (
            (
                ("const-string", 0, "/data/data/x/files/l.so"),
                ("new-instance", 1, "Ljava/io/FileOutputStream;"),
                ("invoke-direct", (1, 0), FOS_INIT),
                ("invoke-virtual", (1, 2), FOS_WRITE),
                ("invoke-static", (0,), SYSTEM_LOAD),
            ),
            "System.load of a file the app writes",
        ),
    ],
)
def test_other_ways_to_reach_a_loader_without_a_payload_make_verdicts_undeterminable(
    tmp_path: Path, code: tuple[Insn, ...], how: str
) -> None:
    apk = _apk(tmp_path, (ClassSpec("La/Boot;", code=(CodeSpec("go", "()V", (*code, ("return-void",))),)),))
    cov = measure(apk, KB)
    assert any(how in (e.note or "") for e in cov.loaders), cov.loaders
    assert cov.code_hidden and any("loads code at run time" in r for r in cov.hidden_reasons)
    v = _verdicts(apk)
    assert all(x.verdict is Verdict.UNDETERMINABLE for x in v.values() if x.dangerous)
    assert "AV-PERM-001" not in _ids(apk)


def _decoder_class(key: str) -> ClassSpec:
    """``static String d(String s)``: base64-decodes and XORs with a key in its body."""
    body: tuple[Insn, ...] = (
        ("const/4", 1, 0),
        ("invoke-static", (0, 1), B64_DECODE),
        ("move-result-object", 2),
        ("const-string", 3, key),
        ("xor-int", 4, 5, 6),
        ("return-object", 2),
    )
    return ClassSpec("Lo/a;", code=(CodeSpec("d", f"({_S}){_S}", body),))


def _enc(text: str, key: str) -> str:
    return base64.b64encode(_xor(text.encode(), key.encode())).decode()


def test_encrypted_class_and_method_names_used_by_reflection(tmp_path: Path) -> None:
    key = "Zk9"
    dec = MethodSpec("Lo/a;", "d", f"({_S}){_S}")
    names = [
        "android.telephony.SmsManager",
        "sendTextMessage",
        "getDefault",
        "java.lang.String",
        "toString",
        "valueOf",
    ]
    calls: list[Insn] = []
    for n in names:
        calls += [("const-string", 0, _enc(n, key)), ("invoke-static", (0,), dec), ("move-result-object", 1)]
    calls += [
        ("invoke-static", (1,), FOR_NAME),
        ("move-result-object", 2),
        ("invoke-virtual", (2, 1, 3), GET_METHOD),
        ("move-result-object", 4),
        ("invoke-virtual", (4, 5, 6), INVOKE),
    ]
    clinit = CodeSpec("<clinit>", "()V", (*calls, ("return-void",)), access_flags=0x0008)
    apk = _apk(tmp_path, (_decoder_class(key), ClassSpec("Lo/b;", code=(clinit,))))
    f = facts(apk)
    (d,) = f.code.decoders
    assert d.call_sites == len(names) and d.literals == len(names) and d.in_clinit
    assert d.scheme == f"base64, xor key '{key}'"
    assert dict(d.decoded)[_enc("android.telephony.SmsManager", key)] == "android.telephony.SmsManager"
    assert 0 < f.code.decoded_share <= 1
    cov = measure(apk, KB)
    assert any(
        "6 call sites" in (e.note or "") and "fills static arrays" in (e.note or "")
        for e in cov.string_decoders
    )
    v = _verdicts(apk)
    assert v["SEND_SMS"].verdict is Verdict.USED
    assert "encrypted strings" in (v["SEND_SMS"].evidence[0].note or "")
    (fnd,) = obf.string_encryption(apk, KB)
    assert "decoder routine" in fnd.message


def test_benign_build_gets_none_of_these_findings(tmp_path: Path) -> None:
    """Ordinary code: a static String helper called from many sites without decoding work,
    Class.forName of an app class, a base64 image in assets, loadLibrary."""
    helper = MethodSpec("La/Util;", "trim", f"({_S}){_S}")
    load_library = MethodSpec("Ljava/lang/System;", "loadLibrary", f"({_S})V")
    calls: list[Insn] = []
    for i in range(8):
        calls += [
            ("const-string", 0, f"label {i}"),
            ("invoke-static", (0,), helper),
            ("move-result-object", 1),
        ]
    calls += [
        ("const-string", 2, "a.Main"),
        ("invoke-static", (2,), FOR_NAME),
        ("const-string", 3, "native-lib"),
        ("invoke-static", (3,), load_library),
    ]
    classes = (
        ClassSpec("La/Util;", code=(CodeSpec("trim", f"({_S}){_S}", (("return-object", 0),)),)),
        ClassSpec(
            "La/Main;", code=(CodeSpec("onCreate", "()V", (*calls, ("return-void",)), access_flags=0x0001),)
        ),
    )
    png = b"\x89PNG\r\n\x1a\n" + bytes(300)
    apk = _apk(
        tmp_path, classes, {"assets/logo.b64": base64.b64encode(png), "assets/notes.txt": b"hello\n" * 100}
    )
    cov = measure(apk, KB)
    assert (
        cov.loaders == () and cov.hidden_decoded == () and cov.string_decoders == () and cov.hidden_code == ()
    )
    assert not cov.code_hidden
    f = facts(apk)
    assert f.hidden_strings == {} and f.hidden.undecoded == ()
    assert not {"AV-OBF-003", "AV-OBF-005", "AV-OBF-006"} & _ids(apk)
    assert _verdicts(apk)["SEND_SMS"].verdict is Verdict.NOT_OBSERVED


def test_undecodable_payload_behind_a_loader_leaves_nothing_not_observed(tmp_path: Path) -> None:
    import os

    apk = _apk(
        tmp_path,
        (ClassSpec("La/Boot;", code=(_reflective_loader(),)),),
        {"assets/payload.bin": base64.b64encode(os.urandom(40_000))},  # AES-like: no simple scheme
    )
    cov = measure(apk, KB)
    assert cov.code_hidden and cov.hidden_decoded == ()
    assert any("could not be decoded" in r for r in cov.hidden_reasons)
    assert any("high-entropy" in (e.note or "") for e in cov.hidden_code)
    assert all(v.verdict is Verdict.UNDETERMINABLE for v in permission_verdicts(apk, KB) if v.dangerous)


def _kinds() -> dict[str, str]:
    import csv

    with (require_shared("corpus/apk") / "MANIFEST.tsv").open(newline="") as fh:
        return {row["file"]: row["kind"] for row in csv.DictReader(fh, delimiter="\t")}


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_no_dangerous_permission_not_observed_when_code_is_packed_or_loaded(corpus_file: Path) -> None:
    """On every real corpus APK: when the code is packed (a packer or protector is named,
    or the MANIFEST calls it packed), loads code from data the scan did not decode, or
    holds a payload that could not be decoded, no dangerous permission is not-observed."""
    from appveto.errors import AppvetoError
    from appveto.kb.model import ProtectorKind

    try:
        apk = load_apk(str(corpus_file))
    except AppvetoError:
        return  # not a zip at all: nothing is claimed about it
    f = facts(apk)
    cov = measure(apk, KB)
    foreign = any(u.from_data or u.evasive for u in f.code.loaders) and not f.hidden.code
    packed = any(p.kind in (ProtectorKind.PACKER, ProtectorKind.PROTECTOR) for p in cov.protectors)
    if foreign or packed or f.hidden.undecoded or _kinds().get(corpus_file.name) == "packed":
        absent = [
            v.permission
            for v in permission_verdicts(apk, KB)
            if v.dangerous and v.verdict is Verdict.NOT_OBSERVED
        ]
        assert absent == []
    assert "payloads:" in cov.decoding_budget


def test_decoding_schemes_must_turn_encoded_constants_into_names() -> None:
    from appveto.checks.codefacts import _try_schemes

    names = ["android.telephony.SmsManager", "sendTextMessage", "getDeviceId", "http://c2.example.org/x"]
    hexed = [_xor(n.encode(), b"\x21").hex() for n in names]
    scheme, plain = _try_schemes(hexed, [], [0x21], False)
    assert scheme == "hex, xor 0x21" and [plain[h] for h in hexed] == names
    # plain text passed to a routine is not encrypted: nothing is "decoded"
    assert _try_schemes(["hello world", "com.example.Main", "settings", "ok"], ["k"], [1], True) == ("", {})
    # a scheme that only shuffles an encoded alphabet (hex XOR 0x01) gives no names
    assert _try_schemes(["01150519040211", "0115121A", "020007110E2811051C091616"], [], [1], False) == (
        "",
        {},
    )
