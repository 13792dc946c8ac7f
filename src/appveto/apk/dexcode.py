"""Dalvik bytecode, read within a budget: class data, code items, instructions.

:mod:`appveto.apk.dex` reads the ID tables; this module reads what methods *do*, as far
as the checks need it: per method, the sequence of ``const-string``, ``const-class``,
``new-instance``, field accesses, ``invoke-*`` targets, literal constants, ``xor``
operations and ``fill-array-data`` payloads, with the string constants that reach each
invoke's argument registers. Layouts follow the Android "Dalvik bytecode" and "Dalvik
Executable format" documents (instruction formats, ``class_data_item``, ``code_item``,
the three payload pseudo-instructions).

Hostile input: every offset is checked against the file, every index against its table;
a method whose code runs past the file, or whose instruction stream is not well formed,
is returned with ``problem`` set and the instructions read before it. Work is bounded by
a :class:`CodeBudget` counted in instructions decoded (not by wall-clock time), shared by
every method read for one APK; when it runs out, reading stops and the budget says so.

Nothing is executed: this is a decoder of bytes, not an interpreter.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from appveto.apk.model import DexFile, MethodRef

__all__ = [
    "OPCODE_NAMES",
    "CodeBudget",
    "CodeReader",
    "Insn",
    "MethodCode",
    "MethodInfo",
]

# Instruction length in 16-bit code units, by opcode (formats of the Dalvik bytecode
# document: 10x/11x/11n/12x/10t -> 1, 2x formats -> 2, 3x formats -> 3, 45cc/4rcc -> 4, 51l -> 5).
_LEN = [1] * 256
for _op in (0x02, 0x05, 0x08, 0x13, 0x15, 0x16, 0x19, 0x1A, 0x1C, 0x1F, 0x20, 0x22, 0x23, 0x29):
    _LEN[_op] = 2
for _op in (0x03, 0x06, 0x09, 0x14, 0x17, 0x1B, 0x24, 0x25, 0x26, 0x2A, 0x2B, 0x2C):
    _LEN[_op] = 3
_LEN[0x18] = 5
for _op in range(0x2D, 0x3E):  # cmp*, if-test, if-testz
    _LEN[_op] = 2
for _op in range(0x44, 0x6E):  # aget/aput, iget/iput, sget/sput
    _LEN[_op] = 2
for _op in (*range(0x6E, 0x73), *range(0x74, 0x79)):  # invoke-kind, invoke-kind/range
    _LEN[_op] = 3
for _op in range(0x90, 0xB0):  # binop
    _LEN[_op] = 2
for _op in range(0xD0, 0xE3):  # binop/lit16, binop/lit8
    _LEN[_op] = 2
_LEN[0xFA] = _LEN[0xFB] = 4  # invoke-polymorphic(/range)
_LEN[0xFC] = _LEN[0xFD] = 3  # invoke-custom(/range)
_LEN[0xFE] = _LEN[0xFF] = 2  # const-method-handle, const-method-type
INSN_LENGTHS: tuple[int, ...] = tuple(_LEN)

_INVOKE_NAMES = ("invoke-virtual", "invoke-super", "invoke-direct", "invoke-static", "invoke-interface")
OPCODE_NAMES: dict[int, str] = {
    0x1A: "const-string",
    0x1B: "const-string/jumbo",
    0x1C: "const-class",
    0x1F: "check-cast",
    0x20: "instance-of",
    0x22: "new-instance",
    0x23: "new-array",
    0x24: "filled-new-array",
    0x25: "filled-new-array/range",
    0x26: "fill-array-data",
    0x12: "const/4",
    0x13: "const/16",
    0x14: "const",
    0x15: "const/high16",
    0x97: "xor-int",
    0xA2: "xor-long",
    0xB7: "xor-int/2addr",
    0xC2: "xor-long/2addr",
    0xD7: "xor-int/lit16",
    0xDF: "xor-int/lit8",
    0xFA: "invoke-polymorphic",
    0xFB: "invoke-polymorphic/range",
    0x4D: "aput-object",
    0x4F: "aput-byte",
    0x50: "aput-char",
}
for _i, _n in enumerate(_INVOKE_NAMES):
    OPCODE_NAMES[0x6E + _i] = _n
    OPCODE_NAMES[0x74 + _i] = _n + "/range"
_ACCESS = ("", "-wide", "-object", "-boolean", "-byte", "-char", "-short")
for _i, _n in enumerate((*("iget" + k for k in _ACCESS), *("iput" + k for k in _ACCESS))):
    OPCODE_NAMES[0x52 + _i] = _n
    OPCODE_NAMES[0x60 + _i] = "s" + _n[1:]

_XOR_OPS = frozenset({0x97, 0xA2, 0xB7, 0xC2, 0xD7, 0xDF})
_INVOKE_OPS = frozenset({*range(0x6E, 0x73), *range(0x74, 0x79), 0xFA, 0xFB})
_RANGE_INVOKES = frozenset({*range(0x74, 0x79), 0xFB})
_TYPE_OPS = frozenset({0x1C, 0x1F, 0x20, 0x22, 0x23, 0x24, 0x25})
_FIELD_OPS = frozenset(range(0x52, 0x6E))
_LITERAL_OPS = frozenset({0x12, 0x13, 0x14, 0x15})
_KEPT_PLAIN = frozenset({0x4D, 0x4F, 0x50})  # aput-object/byte/char: arrays filled in place
# Opcodes whose first operand (vA / vAA) is a register they write: a string constant held
# there is gone after them (moves, move-result, consts, new-*, array-length, gets, unops,
# binops, literal binops). Stores, branches and invokes write no register.
_WRITES_A = frozenset(
    {*range(0x01, 0x0E), *range(0x12, 0x1D), 0x1F, 0x20, 0x21, 0x22, 0x23, *range(0x2D, 0x32),
     *range(0x44, 0x4B), *range(0x52, 0x59), *range(0x60, 0x67), *range(0x7B, 0xE3), 0xFE, 0xFF}
)  # fmt: skip

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_CODE_HEADER = struct.Struct("<HHHHII")
_NO_INDEX = 0xFFFFFFFF
ACC_STATIC = 0x0008
ACC_NATIVE = 0x0100
ACC_ABSTRACT = 0x0400

MAX_INSNS_PER_METHOD = 1 << 18
"""Code units read per method at most (262,144; ART's verifier already rejects methods of
65,536 registers; d8 splits far earlier)."""


@dataclass(slots=True)
class CodeBudget:
    """Work allowed for reading code of one APK: instructions and methods decoded.

    Shared, mutable and counted (never timed), so that a test can assert the bound and a
    hostile APK of millions of methods cannot hold a scan.
    """

    max_instructions: int = 4_000_000
    max_methods: int = 200_000
    instructions: int = 0
    methods: int = 0
    exhausted: str | None = None
    """Why reading stopped early, None while within the budget."""

    def spend(self, instructions: int) -> bool:
        """Count ``instructions`` more; False (and ``exhausted`` set) once over the limit."""
        self.instructions += instructions
        if self.instructions > self.max_instructions and self.exhausted is None:
            self.exhausted = f"instruction budget of {self.max_instructions} reached"
        return self.exhausted is None

    def take_method(self) -> bool:
        self.methods += 1
        if self.methods > self.max_methods and self.exhausted is None:
            self.exhausted = f"method budget of {self.max_methods} reached"
        return self.exhausted is None

    def describe(self) -> str:
        text = (
            f"{self.instructions:,} of {self.max_instructions:,} instructions, "
            f"{self.methods:,} of {self.max_methods:,} methods"
        )
        return text + (f" ({self.exhausted})" if self.exhausted else "")


class Insn(NamedTuple):
    """One instruction kept by the reader.

    ``target`` depends on the opcode: the string of a ``const-string``, the type
    descriptor of ``const-class``/``new-instance``/``check-cast``..., the
    :class:`MethodRef` of an ``invoke-*``, a ``FieldRef`` as ``class->name:type`` of a
    field access, the literal value of ``const*``/``xor-*/lit*``, the payload bytes of
    ``fill-array-data``; None otherwise. ``args`` are, for an invoke, the string constants
    held by its argument registers (None where the register holds no known string).
    """

    pc: int
    opcode: int
    target: object
    args: tuple[str | None, ...] = ()

    @property
    def name(self) -> str:
        return OPCODE_NAMES.get(self.opcode, f"op{self.opcode:02x}")


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """A method defined in a DEX file, as its ``class_data_item`` lists it."""

    ref: MethodRef
    access_flags: int
    code_off: int

    @property
    def is_static(self) -> bool:
        return bool(self.access_flags & ACC_STATIC)


@dataclass(frozen=True, slots=True)
class MethodCode:
    """What one method's code does, in instruction order (kept instructions only)."""

    method: MethodInfo
    insns: tuple[Insn, ...]
    size: int
    """Code units in ``insns_size``."""
    problem: str | None = None

    def invokes(self) -> Iterator[Insn]:
        return (i for i in self.insns if i.opcode in _INVOKE_OPS)

    def strings(self) -> Iterator[str]:
        return (i.target for i in self.insns if i.opcode in (0x1A, 0x1B) and isinstance(i.target, str))

    def classes(self) -> Iterator[str]:
        return (i.target for i in self.insns if i.opcode == 0x1C and isinstance(i.target, str))

    def xor_count(self) -> int:
        return sum(1 for i in self.insns if i.opcode in _XOR_OPS)

    def array_payloads(self) -> Iterator[bytes]:
        return (i.target for i in self.insns if i.opcode == 0x26 and isinstance(i.target, bytes))

    def calls(self, class_name: str, *names: str) -> bool:
        return any(
            isinstance(i.target, MethodRef)
            and i.target.class_name == class_name
            and (not names or i.target.name in names)
            for i in self.invokes()
        )


class _Bad(Exception):
    pass


@dataclass(slots=True)
class CodeReader:
    """Reads the code of one DEX file whose ID tables are ``dex`` and bytes ``data``."""

    data: bytes
    dex: DexFile
    budget: CodeBudget = field(default_factory=CodeBudget)
    _class_data: dict[str, int] | None = None
    problems: list[str] = field(default_factory=list)

    # ------------------------------------------------------------- class data

    def _class_data_offsets(self) -> dict[str, int]:
        """Class descriptor -> class_data_off, from the class_defs table (first definition)."""
        if self._class_data is not None:
            return self._class_data
        out: dict[str, int] = {}
        data = self.data
        size = len(data)
        if size >= 0x70:
            n, off = struct.unpack_from("<II", data, 0x60)
            if n <= len(self.dex.class_defs) and off + 32 * n <= size:
                for i in range(n):
                    class_idx, data_off = (
                        _U32.unpack_from(data, off + 32 * i)[0],
                        _U32.unpack_from(data, off + 32 * i + 24)[0],
                    )
                    if class_idx < len(self.dex.types) and data_off:
                        out.setdefault(self.dex.types[class_idx], data_off)
        self._class_data = out
        return out

    def _uleb(self, pos: int) -> tuple[int, int]:
        data = self.data
        result = shift = 0
        for _ in range(5):
            if pos >= len(data):
                raise _Bad(f"uleb128 runs past the end of the file at {pos:#x}")
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result, pos
            shift += 7
        raise _Bad(f"uleb128 longer than 5 bytes at {pos:#x}")

    def methods_of(self, class_descriptor: str) -> tuple[MethodInfo, ...]:
        """The methods ``class_descriptor`` defines here (direct then virtual); () when it
        has no class data. A malformed class_data_item is recorded in ``problems``."""
        off = self._class_data_offsets().get(class_descriptor)
        if not off:
            return ()
        refs = self.dex.method_refs
        out: list[MethodInfo] = []
        try:
            pos = off
            counts = []
            for _ in range(4):
                v, pos = self._uleb(pos)
                counts.append(v)
            n_static, n_inst, n_direct, n_virtual = counts
            if n_static + n_inst > len(self.dex.field_refs) or n_direct + n_virtual > len(refs):
                raise _Bad(
                    f"class_data of {class_descriptor} at {off:#x} declares more members than the file has"
                )
            for _ in range(2 * (n_static + n_inst)):
                _v, pos = self._uleb(pos)
            for group in (n_direct, n_virtual):
                idx = 0
                for k in range(group):
                    diff, pos = self._uleb(pos)
                    flags, pos = self._uleb(pos)
                    code_off, pos = self._uleb(pos)
                    idx = diff if k == 0 else idx + diff
                    if idx >= len(refs):
                        raise _Bad(f"class_data of {class_descriptor} names method {idx}, past the table")
                    out.append(MethodInfo(refs[idx], flags, code_off))
        except _Bad as exc:
            self.problems.append(str(exc))
        return tuple(out)

    def classes(self) -> tuple[str, ...]:
        return tuple(self._class_data_offsets())

    def code_region(self) -> tuple[int, int]:
        """(start, end) of the code_item section as the map_list places it (up to the next
        section); the whole file when the map does not say."""
        data = self.data
        size = len(data)
        if size < 0x38:
            return 0, size
        map_off = _U32.unpack_from(data, 0x34)[0]
        if not 0x70 <= map_off <= size - 4:
            return 0, size
        n = _U32.unpack_from(data, map_off)[0]
        if n > 0xFFFF or map_off + 4 + 12 * n > size:
            return 0, size
        items = sorted(
            (off, kind)
            for kind, _u, _count, off in struct.iter_unpack("<HHII", data[map_off + 4 : map_off + 4 + 12 * n])
        )
        for k, (off, kind) in enumerate(items):
            if kind == 0x2001 and off < size:
                end = next((o for o, _k in items[k + 1 :] if o > off), size)
                return off, min(end, size)
        return 0, size

    def code_spans(self) -> list[tuple[int, int, int]]:
        """(code_off, method index, access flags) of every method with code, in class_defs
        order: one pass over the class data (what an offset -> method lookup needs, without
        building a MethodInfo per method). Malformed class data ends that class, noted."""
        n_methods = len(self.dex.method_refs)
        uleb = self._uleb
        out: list[tuple[int, int, int]] = []
        for off in self._class_data_offsets().values():
            try:
                pos = off
                counts = []
                for _ in range(4):
                    v, pos = uleb(pos)
                    counts.append(v)
                n_fields = counts[0] + counts[1]
                if n_fields > len(self.dex.field_refs) or counts[2] + counts[3] > n_methods:
                    continue
                for _ in range(2 * n_fields):  # field_idx_diff, access_flags
                    _v, pos = uleb(pos)
                for group in (counts[2], counts[3]):
                    idx = 0
                    for j in range(group):
                        diff, pos = uleb(pos)
                        flags, pos = uleb(pos)
                        code_off, pos = uleb(pos)
                        idx = diff if j == 0 else idx + diff
                        if code_off and idx < n_methods:
                            out.append((code_off, idx, flags))
            except _Bad as exc:
                self.problems.append(f"class_data at {off:#x}: {exc}")
        return out

    # ------------------------------------------------------------------- code

    def decode(self, method: MethodInfo) -> MethodCode:
        """Decode one method's code_item (an abstract or native method has none)."""
        if not method.code_off:
            return MethodCode(method, (), 0)
        if not self.budget.take_method():
            return MethodCode(method, (), 0, self.budget.exhausted)
        data = self.data
        off = method.code_off
        if off + 16 > len(data):
            return MethodCode(method, (), 0, f"code_item at {off:#x} lies outside the file")
        _regs, _ins, _outs, _tries, _debug, n_units = _CODE_HEADER.unpack_from(data, off)
        start = off + 16
        end = start + 2 * n_units
        if end > len(data):
            return MethodCode(method, (), n_units, f"code of {n_units} units at {off:#x} runs past the file")
        if n_units > MAX_INSNS_PER_METHOD:
            return MethodCode(method, (), n_units, f"code of {n_units} units is over the per-method limit")
        insns, problem = self._walk(start, end)
        return MethodCode(method, tuple(insns), n_units, problem)

    def _walk(self, start: int, end: int) -> tuple[list[Insn], str | None]:
        d = self.dex
        data = self.data
        strings, types, mrefs, frefs = d.strings, d.types, d.method_refs, d.field_refs
        n_str, n_types, n_m, n_f = len(strings), len(types), len(mrefs), len(frefs)
        lens = INSN_LENGTHS
        out: list[Insn] = []
        reg_str: dict[int, str] = {}
        pc = start
        steps = 0
        problem: str | None = None
        try:
            while pc < end:
                op = data[pc]
                steps += 1
                if op == 0x00 and pc + 1 < end and data[pc + 1] in (1, 2, 3):
                    pc += 2 * self._payload_units(pc, end)
                    continue
                n = lens[op]
                nxt = pc + 2 * n
                if nxt > end:
                    raise _Bad(f"instruction {op:#04x} at {pc:#x} runs past the end of the method")
                aa = data[pc + 1]
                if op in (0x1A, 0x1B):
                    i = _U16.unpack_from(data, pc + 2)[0] if op == 0x1A else _U32.unpack_from(data, pc + 2)[0]
                    if i >= n_str:
                        raise _Bad(f"const-string at {pc:#x} refers to string {i} of {n_str}")
                    out.append(Insn(pc, op, strings[i]))
                    reg_str[aa] = strings[i]
                    pc = nxt
                    continue
                if op in _INVOKE_OPS:
                    i = _U16.unpack_from(data, pc + 2)[0]
                    if i >= n_m:
                        raise _Bad(f"invoke at {pc:#x} refers to method {i} of {n_m}")
                    regs_word = _U16.unpack_from(data, pc + 4)[0]
                    if op in _RANGE_INVOKES:
                        regs = list(range(regs_word, regs_word + aa))
                    else:
                        count = aa >> 4
                        all5 = [
                            regs_word & 0xF,
                            (regs_word >> 4) & 0xF,
                            (regs_word >> 8) & 0xF,
                            regs_word >> 12,
                            aa & 0xF,
                        ]
                        regs = all5[: min(count, 5)]
                    out.append(Insn(pc, op, mrefs[i], tuple(reg_str.get(r) for r in regs)))
                elif op in _TYPE_OPS:
                    i = _U16.unpack_from(data, pc + 2)[0]
                    if i >= n_types:
                        raise _Bad(f"{OPCODE_NAMES[op]} at {pc:#x} refers to type {i} of {n_types}")
                    out.append(Insn(pc, op, types[i]))
                elif op in _FIELD_OPS:
                    i = _U16.unpack_from(data, pc + 2)[0]
                    if i >= n_f:
                        raise _Bad(f"field access at {pc:#x} refers to field {i} of {n_f}")
                    fr = frefs[i]
                    out.append(Insn(pc, op, f"{fr.class_name}->{fr.name}:{fr.type}"))
                elif op in _LITERAL_OPS:
                    if op == 0x12:
                        v = aa >> 4
                        v = v - 16 if v >= 8 else v
                    elif op == 0x13:
                        v = struct.unpack_from("<h", data, pc + 2)[0]
                    elif op == 0x14:
                        v = _I32.unpack_from(data, pc + 2)[0]
                    else:
                        v = struct.unpack_from("<h", data, pc + 2)[0] << 16
                    out.append(Insn(pc, op, v))
                elif op in _XOR_OPS:
                    lit: int | None = None
                    if op == 0xDF:
                        lit = struct.unpack_from("<b", data, pc + 3)[0]
                    elif op == 0xD7:
                        lit = struct.unpack_from("<h", data, pc + 2)[0]
                    out.append(Insn(pc, op, lit))
                elif op == 0x26:
                    rel = _I32.unpack_from(data, pc + 2)[0]
                    out.append(Insn(pc, op, self._array_payload(pc + 2 * rel, end)))
                elif op in _KEPT_PLAIN:
                    out.append(Insn(pc, op, None))
                if op in _WRITES_A:
                    # vA is a nibble or a byte depending on the format: forget both
                    reg_str.pop(aa, None)
                    reg_str.pop(aa & 0xF, None)
                pc = nxt
        except _Bad as exc:
            problem = str(exc)
        self.budget.spend(steps)
        return out, problem

    def _payload_units(self, pc: int, end: int) -> int:
        """Length in code units of the packed-switch / sparse-switch / fill-array-data payload at ``pc``."""
        data = self.data
        if pc + 8 > end:
            raise _Bad(f"payload at {pc:#x} runs past the end of the method")
        kind = data[pc + 1]
        if kind == 1:
            units = 4 + 2 * _U16.unpack_from(data, pc + 2)[0]
        elif kind == 2:
            units = 2 + 4 * _U16.unpack_from(data, pc + 2)[0]
        else:
            width = _U16.unpack_from(data, pc + 2)[0]
            count = _U32.unpack_from(data, pc + 4)[0]
            units = 4 + (width * count + 1) // 2
        units = int(units)
        if pc + 2 * units > end:
            raise _Bad(f"payload at {pc:#x} ({units} units) runs past the end of the method")
        return units

    def _array_payload(self, at: int, end: int) -> bytes | None:
        """The raw elements of a fill-array-data payload (None when it is not one)."""
        data = self.data
        if at < 0 or at + 8 > end or data[at] != 0 or data[at + 1] != 3:
            return None
        width = _U16.unpack_from(data, at + 2)[0]
        count = _U32.unpack_from(data, at + 4)[0]
        n = width * count
        if at + 8 + n > end:
            return None
        return bytes(data[at + 8 : at + 8 + n])

    # ---------------------------------------------------------------- helpers

    def code_of(self, class_descriptor: str) -> Iterator[MethodCode]:
        """Every method of a class, decoded (bounded by the budget)."""
        for m in self.methods_of(class_descriptor):
            if self.budget.exhausted:
                return
            yield self.decode(m)

    def find_method(self, ref: MethodRef) -> MethodInfo | None:
        for m in self.methods_of(ref.class_name):
            if m.ref == ref:
                return m
        return None

    def all_code(self) -> Iterator[MethodCode]:
        """Every method of every class (bounded by the budget): for small files and tests."""
        for c in self.classes():
            yield from self.code_of(c)
            if self.budget.exhausted:
                return


def string_index(dex: DexFile) -> dict[str, int]:
    """String -> index (for byte-pattern searches of ``const-string`` in code)."""
    return {s: i for i, s in enumerate(dex.strings)}
