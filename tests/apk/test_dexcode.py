"""Dalvik bytecode reader: real corpus DEX against dexdump, hostile code items, the budget."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from appveto.apk.archive import open_archive
from appveto.apk.dex import parse_dex
from appveto.apk.dexcode import INSN_LENGTHS, CodeBudget, CodeReader, MethodInfo
from appveto.apk.model import DexFile, MethodRef
from tests.apkbuilder import ClassSpec, MethodSpec, build_dex
from tests.conftest import corpus_apk, require_tool

# dexdump -d: a method header "|[code_off] ..." then "|pc: op ... // kind@index" lines
# (a const-string's text may hold newlines: matched lazily up to its "// string@").
_DUMP = re.compile(
    r"\|\[([0-9a-f]+)\] "
    r"|\|[0-9a-f]{4}: (invoke-[a-z/-]+|const-class|new-instance) [^\n]*// (method|type)@([0-9a-f]+)"
    r'|\|[0-9a-f]{4}: (const-string(?:/jumbo)?) v\d+, ".*?" // (string)@([0-9a-f]+)\n',
    re.S,
)
_ORACLE_APKS = ("quark-ahmyth-rat.apk", "fdroid-a2dp-vol.apk", "obad-a.apk", "dendroid-rat-original.apk")


def _dexdump(path: Path) -> dict[int, list[tuple[str, str, int]]]:
    out = subprocess.run(
        [require_tool("dexdump"), "-d", str(path)], capture_output=True, check=False, timeout=600
    ).stdout.decode("utf-8", "replace")
    methods: dict[int, list[tuple[str, str, int]]] = {}
    current: list[tuple[str, str, int]] | None = None
    for m in _DUMP.finditer(out):
        if m.group(1):
            current = methods.setdefault(int(m.group(1), 16), [])
        elif current is not None:
            if m.group(2):
                current.append((m.group(2), m.group(3), int(m.group(4), 16)))
            else:
                current.append((m.group(5), m.group(6), int(m.group(7), 16)))
    return methods


def _resolve(dex: DexFile, kind: str, index: int) -> object:
    return {"method": dex.method_refs, "string": dex.strings, "type": dex.types}[kind][index]


@pytest.mark.parametrize("name", _ORACLE_APKS)
def test_invoke_const_and_new_instance_sequences_match_dexdump(name: str, tmp_path: Path) -> None:
    """Every method of a real DEX: the same invoke targets, string and class constants and
    new-instance types, in the same order, as Debian's dexdump."""
    archive = open_archive(str(corpus_apk(name)))
    data = archive.read("classes.dex")
    path = tmp_path / "classes.dex"
    path.write_bytes(data)
    dex = parse_dex(data, entry="classes.dex")
    oracle = _dexdump(path)
    assert len(oracle) > 50
    reader = CodeReader(data, dex, CodeBudget(max_instructions=10**8, max_methods=10**6))
    mine: dict[int, list[tuple[str, object]]] = {}
    for code in reader.all_code():
        assert code.problem is None, (code.method.ref, code.problem)
        if not code.method.code_off:
            continue  # abstract and native methods have no code
        kept = [(i.name, i.target) for i in code.insns]
        mine[code.method.code_off] = [
            (n, t)
            for n, t in kept
            if n.startswith(("invoke", "const-string")) or n in ("const-class", "new-instance")
        ]
    assert reader.budget.exhausted is None
    compared = 0
    for off, seq in oracle.items():
        expected = [(op, _resolve(dex, kind, i)) for op, kind, i in seq]
        assert mine.get(off) == expected, f"{name}: method at {off:#x}"
        compared += len(seq)
    assert set(mine) == set(oracle)
    assert compared > 500


def test_invoke_arguments_carry_the_string_constants_that_reach_them() -> None:
    """``const-string v1, "x"; invoke-static {v1}``: the invoke names "x" as its argument."""
    dex_bytes = build_dex(
        (ClassSpec("La/B;", methods=(MethodSpec("Lx/Y;", "f", "(Ljava/lang/String;)V"),), strings=("x",)),)
    )
    dex = parse_dex(dex_bytes, entry="classes.dex")
    s = dex.strings.index("x")
    m = next(i for i, r in enumerate(dex.method_refs) if r.name == "f")
    code = struct.pack("<BBH", 0x1A, 1, s) + struct.pack("<BBHH", 0x71, 0x10, m, 0x0001) + b"\x0e\x00"
    data, info = _with_code(dex_bytes, dex, code)
    decoded = CodeReader(data, dex).decode(info)
    assert decoded.problem is None
    assert [i.name for i in decoded.insns] == ["const-string", "invoke-static"]
    assert decoded.insns[1].args == ("x",)
    assert decoded.insns[1].target == MethodRef("Lx/Y;", "f", "(Ljava/lang/String;)V")
    # the register is overwritten (const/4 v1) before the call: no string reaches it
    code2 = (
        struct.pack("<BBH", 0x1A, 1, s)
        + b"\x12\x01"
        + struct.pack("<BBHH", 0x71, 0x10, m, 0x0001)
        + b"\x0e\x00"
    )
    data2, info2 = _with_code(dex_bytes, dex, code2)
    assert CodeReader(data2, dex).decode(info2).insns[-1].args == (None,)


def _with_code(dex_bytes: bytes, dex: DexFile, units: bytes) -> tuple[bytes, MethodInfo]:
    """The DEX with a code_item for ``units`` appended (a method of the file points to it)."""
    pad = b"\x00" * (-len(dex_bytes) % 4)
    off = len(dex_bytes) + len(pad)
    header = struct.pack("<HHHHII", 4, 0, 2, 0, 0, len(units) // 2)
    return dex_bytes + pad + header + units, MethodInfo(dex.method_refs[0], 0x9, off)


def _empty_dex() -> tuple[bytes, DexFile]:
    raw = build_dex((ClassSpec("La/B;", methods=(MethodSpec("La/B;", "m", "()V"),), strings=("s",)),))
    return raw, parse_dex(raw, entry="classes.dex")


@pytest.mark.parametrize(
    ("units", "problem"),
    [
        (struct.pack("<BBH", 0x1A, 0, 0xFFFF), "refers to string"),
        (struct.pack("<BBHH", 0x6E, 0x10, 0xFFFF, 0), "refers to method"),
        (struct.pack("<BBH", 0x22, 0, 0xFFFF), "refers to type"),
        (b"\x14\x00\x00\x00", "runs past the end of the method"),  # const vAA, #+BBBBBBBB cut short
        (b"\x00\x03\x01\x00\xff\xff\x00\x00", "payload"),  # fill-array-data payload longer than the method
        (b"\x00\x01\x20\x00\x00\x00\x00\x00", "payload"),  # packed-switch payload of 32 targets, cut
    ],
)
def test_malformed_code_is_a_located_problem(units: bytes, problem: str) -> None:
    raw, dex = _empty_dex()
    data, info = _with_code(raw, dex, units)
    code = CodeReader(data, dex).decode(info)
    assert code.problem is not None and problem in code.problem
    assert "0x" in code.problem  # located


def test_code_item_outside_the_file_and_huge_sizes() -> None:
    raw, dex = _empty_dex()
    reader = CodeReader(raw, dex)
    outside = reader.decode(MethodInfo(dex.method_refs[0], 0, len(raw) + 100))
    assert outside.problem is not None and "outside the file" in outside.problem
    data = raw + b"\x00" * (-len(raw) % 4) + struct.pack("<HHHHII", 1, 0, 0, 0, 0, 0xFFFFFFFF)
    huge = CodeReader(data, dex).decode(MethodInfo(dex.method_refs[0], 0, len(data) - 16))
    assert huge.problem is not None and "runs past the file" in huge.problem


def test_budget_counts_instructions_and_stops_reading() -> None:
    raw, dex = _empty_dex()
    units = b"\x00\x00" * 5000 + b"\x0e\x00"  # 5,000 nops then return-void
    data, info = _with_code(raw, dex, units)
    budget = CodeBudget(max_instructions=12_000, max_methods=10)
    reader = CodeReader(data, dex, budget)
    for _ in range(2):
        assert reader.decode(info).problem is None
    assert budget.instructions == 2 * 5001 and budget.exhausted is None
    reader.decode(info)
    assert budget.exhausted is not None and "instruction budget" in budget.exhausted
    stopped = reader.decode(info)
    assert stopped.insns == () and stopped.problem == budget.exhausted
    assert budget.instructions == 3 * 5001  # nothing more was decoded
    assert "12,000" in budget.describe()


def test_every_opcode_has_a_length_from_the_format_table() -> None:
    assert len(INSN_LENGTHS) == 256
    assert set(INSN_LENGTHS) == {1, 2, 3, 4, 5}
    # spot checks against the Dalvik bytecode document
    assert INSN_LENGTHS[0x18] == 5  # const-wide 51l
    assert INSN_LENGTHS[0x1B] == 3  # const-string/jumbo 31c
    assert INSN_LENGTHS[0x6E] == 3 and INSN_LENGTHS[0x78] == 3  # 35c, 3rc
    assert INSN_LENGTHS[0xFA] == 4  # invoke-polymorphic 45cc
    assert INSN_LENGTHS[0xD8] == 2 and INSN_LENGTHS[0xB0] == 1  # 22b, 12x


@pytest.mark.parametrize("name", _ORACLE_APKS[:2])
def test_code_spans_are_the_code_items_dexdump_lists(name: str, tmp_path: Path) -> None:
    """The offset index of every method with code (one pass over the class data) holds
    exactly the code items dexdump prints."""
    data = open_archive(str(corpus_apk(name))).read("classes.dex")
    path = tmp_path / "classes.dex"
    path.write_bytes(data)
    dex = parse_dex(data, entry="classes.dex")
    reader = CodeReader(data, dex)
    spans = reader.code_spans()
    assert {off for off, _i, _f in spans} == set(_dexdump(path))
    assert reader.problems == []
    start, end = reader.code_region()
    assert all(start <= off < end for off, _i, _f in spans)
