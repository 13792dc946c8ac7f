"""Protector signals of checks/coverage.py that APKiD also reads: O-LLVM string-decoder
symbols in native code and DexGuard string-decryption stubs in the DEX ID tables.

Each signal: a positive on a built model object and on a built APK, negatives on near
misses, and the real corpus (benign apps claim nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appveto.apk import load_apk
from appveto.checks import obf
from appveto.checks.coverage import measure
from appveto.errors import AppvetoError
from appveto.findings import EvidenceKind
from appveto.kb import load_baseline
from tests.apk.test_native import build_elf
from tests.apkbuilder import ApkSpec, ClassSpec, FieldSpec, MethodSpec, build_apk
from tests.checks.factory import dex, make_apk, native
from tests.conftest import corpus_apk, require_shared

OLLVM = "Obfuscator-LLVM"
DECODER = ".datadiv_decode13725939210377612345"


def _names(apk: object) -> list[str]:
    return [p.name for p in measure(apk, load_baseline()).protectors]  # type: ignore[arg-type]


# ------------------------------------------------------------ O-LLVM symbols


def test_ollvm_string_decoder_symbols_name_the_compiler() -> None:
    apk = make_apk(native_libs=(native(dot_symbols=(DECODER, ".datadiv_decode42")),))
    hit = next(p for p in measure(apk, load_baseline()).protectors if p.name.startswith(OLLVM))
    assert not hit.heuristic
    (ev,) = hit.evidence
    assert (ev.kind, ev.value, ev.location.entry) == (EvidenceKind.NATIVE, DECODER, "lib/arm64-v8a/libfoo.so")
    assert ev.note is not None and "2 such symbols" in ev.note
    found = list(obf.compiler(apk, load_baseline()))
    assert [f.check_id for f in found] == ["AV-OBF-009"]
    assert not list(obf.protector(apk, load_baseline()))  # reported once, by AV-OBF-009


@pytest.mark.parametrize(
    "symbols",
    [
        (".datadiv_decode",),  # no pass-generated suffix
        (".datadiv_decodeX12",),
        (".datadiv_decode12a",),
        (".text.startup", ".L.str", ".annobin_init.c"),
        ("datadiv_decode1234567890",),  # not a compiler-made name
    ],
)
def test_other_dot_symbols_name_nothing(symbols: tuple[str, ...]) -> None:
    apk = make_apk(native_libs=(native(dot_symbols=symbols),))
    assert _names(apk) == []
    assert not list(obf.compiler(apk, load_baseline()))


def _elf_with(symbols: tuple[tuple[str, int], ...]) -> bytes:
    return build_elf(
        rodata=b"\x00hello\x00", comment=b"\x00Android clang version 14.0.6\x00", symbols=symbols
    )


def test_ollvm_on_a_built_apk(tmp_path: Path) -> None:
    spec = ApkSpec(
        package="org.example.native",
        classes=(ClassSpec("Lorg/example/native/MainActivity;"),),
        native_libs={
            "arm64-v8a/libsecret.so": _elf_with((("JNI_OnLoad", 7), (DECODER, 7), (".datadiv_decode7", 7))),
            "arm64-v8a/libplain.so": _elf_with((("JNI_OnLoad", 7), (".datadiv_decode99", 0))),
        },
        sign=None,
    )
    path = tmp_path / "native.apk"
    path.write_bytes(build_apk(spec))
    cov = measure(load_apk(str(path)), load_baseline())
    (hit,) = [p for p in cov.protectors if p.name.startswith(OLLVM)]
    # the undefined (imported) decoder of libplain.so is not that library's code
    assert {e.location.entry for e in hit.evidence} == {"lib/arm64-v8a/libsecret.so"}


# ------------------------------------------------------------ DexGuard stubs


def _stub(cls: str, *, method: str = "\u02c8", table: str = "\u02ca", table_type: str = "[S") -> tuple:
    return (
        ((cls, method, "(III)Ljava/lang/String;"),),
        ((cls, table, table_type), (cls, "\u02cb", "I")),
    )


def _stub_apk(classes: tuple[str, ...], **kw: str):  # type: ignore[no-untyped-def]
    methods: list[tuple[str, str, str]] = []
    fields: list[tuple[str, str, str]] = []
    for c in classes:
        m, f = _stub(c, **kw)
        methods += m
        fields += f
    app = ("Lorg/example/app/MainActivity;", "Lorg/example/app/Api;", "Lorg/example/app/Store;")
    return make_apk(dex_files=(dex(classes=app + classes, methods=tuple(methods), fields=tuple(fields)),))


STUB_CLASSES = ("Lorg/example/app/Api$a;", "Lorg/example/app/Store$b;", "Lorg/example/app/c;")


def test_string_decryption_stubs_name_dexguard_and_string_encryption() -> None:
    apk = _stub_apk(STUB_CLASSES)
    cov = measure(apk, load_baseline())
    (hit,) = cov.protectors
    assert hit.name.startswith("DexGuard") and hit.heuristic
    assert any("string-decryption stubs" in e.value for e in hit.evidence)
    assert cov.string_encryption and "3 classes" in cov.string_encryption[0].value
    assert [f.check_id for f in obf.string_encryption(apk, load_baseline())] == ["AV-OBF-003"]
    assert [f.check_id for f in obf.protector(apk, load_baseline())] == ["AV-OBF-001"]
    assert cov.code_hidden


def test_byte_table_and_short_proto_variants() -> None:
    assert _names(_stub_apk(STUB_CLASSES, table_type="[B", method="a", table="b")) == [
        "DexGuard (Guardsquare)"
    ]


@pytest.mark.parametrize(
    ("classes", "kw"),
    [
        (STUB_CLASSES[:2], {}),  # two stubs: below the bar
        (STUB_CLASSES, {"table_type": "[I"}),  # int[] is a lookup table, not a string pool
        (STUB_CLASSES, {"table_type": "[C"}),
        (STUB_CLASSES, {"method": "substring"}),  # a readable name: a person wrote it
        (STUB_CLASSES, {"table": "buffer"}),
    ],
)
def test_near_miss_stubs_claim_nothing(classes: tuple[str, ...], kw: dict[str, str]) -> None:
    apk = _stub_apk(classes, **kw)
    cov = measure(apk, load_baseline())
    assert cov.protectors == ()
    assert cov.string_encryption == ()


def test_a_large_class_with_such_a_method_is_not_a_stub() -> None:
    """A parser's ``(int,int,int)->String`` beside many fields (Jackson under R8) is no stub."""
    methods = tuple((c, "a", "(III)Ljava/lang/String;") for c in STUB_CLASSES)
    fields = tuple(
        (c, n, t)
        for c in STUB_CLASSES
        for n, t in zip("abcdef", ("[B", "I", "I", "Z", "J", "[I"), strict=True)
    )
    apk = make_apk(dex_files=(dex(classes=STUB_CLASSES, methods=methods, fields=fields),))
    assert measure(apk, load_baseline()).protectors == ()


def test_dexguard_stubs_on_a_built_apk(tmp_path: Path) -> None:
    classes = [ClassSpec("Lorg/example/guarded/MainActivity;")]
    for c in ("Lorg/example/guarded/a;", "Lorg/example/guarded/b;", "Lorg/example/guarded/c;"):
        classes.append(
            ClassSpec(
                c,
                methods=(MethodSpec(c, "a", "(SIB)Ljava/lang/String;"),),
                fields=(FieldSpec(c, "b", "[B"), FieldSpec(c, "c", "I")),
            )
        )
    spec = ApkSpec(package="org.example.guarded", classes=tuple(classes), sign=None)
    path = tmp_path / "guarded.apk"
    path.write_bytes(build_apk(spec))
    apk = load_apk(str(path))
    assert _names(apk) == ["DexGuard (Guardsquare)"]


# ------------------------------------------------------------------- corpus


def test_r2pay_native_string_encryption_is_named() -> None:
    """APKiD (and OWASP MASTG's worked example) name O-LLVM string encryption in
    libnative-lib.so of every ABI; that library has no .comment section."""
    apk = load_apk(str(corpus_apk("owasp-r2pay-l4.apk")))
    assert all(not lib.comment for lib in apk.native_libs if lib.name == "libnative-lib.so")
    protectors = measure(apk, load_baseline()).protectors
    # Its Java is R8-renamed (MASTG's APKiD output: compiler r8, no DexGuard): no DexGuard claim.
    assert [p.name for p in protectors] == ["Obfuscator-LLVM (O-LLVM)"]
    (hit,) = protectors
    entries = {e.location.entry for e in hit.evidence}
    assert entries == {lib.entry for lib in apk.native_libs if lib.name == "libnative-lib.so"}
    assert all(e.value.startswith(".datadiv_decode") for e in hit.evidence)


@pytest.mark.parametrize("name", ["apkid-dexguard1.apk", "dendroid-rat-dexguarded.apk"])
def test_dexguard_samples_show_their_string_decryption_stubs(name: str) -> None:
    cov = measure(load_apk(str(corpus_apk(name))), load_baseline())
    guard = next(p for p in cov.protectors if p.name.startswith("DexGuard"))
    assert any("string-decryption stubs" in e.value for e in guard.evidence)
    assert any("string-decryption stubs" in e.value for e in cov.string_encryption)


def _rows() -> list[list[str]]:
    manifest = require_shared("corpus/apk") / "MANIFEST.tsv"
    return [line.split("\t") for line in manifest.read_text("utf-8").splitlines()[1:]]


def test_real_and_benign_apps_without_protection_hints_claim_none() -> None:
    """Apps the corpus describes as ordinary (F-Droid, store apps, test apps) with no packer,
    obfuscation or protection hint in their notes: no packer, protector or obfuscator."""
    kb = load_baseline()
    hints = ("packer", "obfusc", "protect", "dexguard", "llvm", "proguard")
    names = [
        r[0]
        for r in _rows()
        if r[7] in ("real-app", "benign-test-app", "signing-test")
        and not any(h in r[8].lower() for h in hints)
    ]
    assert len(names) >= 8
    for n in names:
        try:
            apk = load_apk(str(corpus_apk(n)))
        except AppvetoError:  # unreadable files have their own tests
            continue
        assert measure(apk, kb).protectors == (), n
