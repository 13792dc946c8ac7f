"""Property lists from hostile bytes: XML and binary, bounded, never a traceback.

``plistlib`` reads the plist; before it does, a binary plist is walked once by
:func:`check_binary` over its offset table and object references, which refuses, with
the offset of the object at fault:

* a reference cycle (an array that contains itself, directly or not), which would make
  any walk of the result loop forever;
* a *reference bomb*: objects shared many times over (an array of two references to the
  same array, forty levels deep), which ``plistlib`` builds in linear memory but which
  expands to 2**40 values the moment anyone walks it. The walk counts the values the
  plist expands to, with memoisation, in time linear in the number of objects and
  references, and refuses more than :data:`MAX_VALUES`;
* nesting deeper than :data:`MAX_DEPTH` (``plistlib`` would hit Python's recursion limit);
* an offset table, object or length that points outside the file.

XML plists have no references; ``plistlib`` refuses entity declarations (so no
"billion laughs") and its parser keeps an explicit stack. The parsed value is then made
immutable (:data:`~appveto.ipa.model.PlistValue`) with the same depth bound. Every
failure is an :class:`~appveto.errors.IpaError` naming the file, the entry and, for
binary plists, the offset.
"""

from __future__ import annotations

import datetime as _dt
import plistlib

from appveto.errors import IpaError
from appveto.ipa.model import PlistDict, PlistValue

MAX_VALUES = 200_000
"""Values a plist may expand to (counting each use of a shared object). Real Info.plists
hold a few hundred, the largest privacy manifests and entitlements a few thousand."""
MAX_DEPTH = 128
"""Nesting depth (real plists rarely exceed 8)."""
MAX_OBJECTS = 1_000_000
"""Objects a binary plist may declare in its trailer."""

_BPLIST = b"bplist00"
_TRAILER = 32


def looks_binary(data: bytes) -> bool:
    return data[:8] == _BPLIST


def load(data: bytes, *, file: str, entry: str | None) -> PlistValue:
    """The plist in ``data`` as an immutable value. Raises :class:`IpaError` when it is
    not a plist or is one of the hostile shapes described in the module docstring."""
    if looks_binary(data):
        check_binary(data, file=file, entry=entry)
    elif data[:1] not in (b"<", b"\xef", b" ", b"\t", b"\r", b"\n", b"\xfe", b"\xff", b"\x00"):
        head = data[:8].hex() or "an empty entry"
        raise IpaError.at(f"not a property list (starts with {head})", file=file, entry=entry, offset=0)
    try:
        raw = plistlib.loads(data)
    except Exception as exc:  # plistlib raises many types on crafted input
        # (InvalidFileException, ValueError, TypeError, KeyError, IndexError, OverflowError,
        # struct.error, UnicodeDecodeError, xml.parsers.expat.ExpatError, RecursionError)
        raise IpaError.at(
            f"not a readable property list: {type(exc).__name__}: {exc}", file=file, entry=entry
        ) from None
    return freeze(raw, file=file, entry=entry)


def load_dict(data: bytes, *, file: str, entry: str | None) -> PlistDict:
    """:func:`load` for a plist whose top level must be a dictionary."""
    value = load(data, file=file, entry=entry)
    if not isinstance(value, PlistDict):
        raise IpaError.at(
            f"the property list's top level is {kind_of(value)}, not a dictionary", file=file, entry=entry
        )
    return value


def kind_of(value: object) -> str:
    if isinstance(value, PlistDict):
        return "a dictionary"
    if isinstance(value, tuple):
        return "an array"
    return f"a {type(value).__name__}"


def freeze(raw: object, *, file: str, entry: str | None) -> PlistValue:
    """plistlib's result as immutable values, at most :data:`MAX_DEPTH` deep and
    :data:`MAX_VALUES` values (shared objects are counted at each use)."""
    budget = [MAX_VALUES]

    def go(v: object, depth: int) -> PlistValue:
        budget[0] -= 1
        if budget[0] < 0:
            raise IpaError.at(
                f"the property list holds more than {MAX_VALUES} values", file=file, entry=entry
            )
        if depth > MAX_DEPTH:
            raise IpaError.at(
                f"the property list nests deeper than {MAX_DEPTH} levels", file=file, entry=entry
            )
        if isinstance(v, dict):
            items: list[tuple[str, PlistValue]] = []
            for k, x in v.items():
                if not isinstance(k, str):
                    raise IpaError.at(
                        f"a dictionary key is {type(k).__name__}, not a string", file=file, entry=entry
                    )
                items.append((k, go(x, depth + 1)))
            return PlistDict(tuple(items))
        if isinstance(v, list | tuple):
            return tuple(go(x, depth + 1) for x in v)
        if isinstance(v, bool | int | float | str | bytes):
            return v
        if isinstance(v, _dt.datetime):
            return v
        if isinstance(v, plistlib.UID):
            return int(v.data)
        raise IpaError.at(f"unexpected value of type {type(v).__name__}", file=file, entry=entry)

    return go(raw, 0)


# ------------------------------------------------------------------ binary check


def check_binary(data: bytes, *, file: str, entry: str | None) -> None:
    """Refuse a binary plist with a cycle, a reference bomb, too deep a nesting or an
    offset outside the file (see the module docstring). Linear in objects + references."""
    n = len(data)

    def bad(message: str, offset: int | None) -> IpaError:
        return IpaError.at(f"binary property list: {message}", file=file, entry=entry, offset=offset)

    if n < len(_BPLIST) + _TRAILER:
        raise bad(f"{n} bytes is too small for a header and a trailer", 0)
    t = n - _TRAILER
    off_size = data[t + 6]
    ref_size = data[t + 7]
    count = int.from_bytes(data[t + 8 : t + 16], "big")
    top = int.from_bytes(data[t + 16 : t + 24], "big")
    table = int.from_bytes(data[t + 24 : t + 32], "big")
    if not 1 <= off_size <= 8 or not 1 <= ref_size <= 8:
        raise bad(f"offset size {off_size} / reference size {ref_size} not in 1..8", t + 6)
    if count == 0 or count > MAX_OBJECTS:
        raise bad(f"the trailer declares {count} objects (1..{MAX_OBJECTS} allowed)", t + 8)
    if table < len(_BPLIST) or table + count * off_size > t:
        raise bad(f"the offset table ({count} x {off_size} bytes at {table:#x}) is outside the file", t + 24)
    if top >= count:
        raise bad(f"the top object #{top} is not among the {count} objects", t + 16)
    offsets = [
        int.from_bytes(data[p : p + off_size], "big")
        for p in range(table, table + count * off_size, off_size)
    ]

    def length(pos: int, low: int) -> tuple[int, int]:
        """(count, position after the marker and its length) of a variable-size object."""
        if low != 0xF:
            return low, pos + 1
        if pos + 2 > table:
            raise bad("an object's length runs past the object area", pos)
        m = data[pos + 1]
        if m >> 4 != 0x1 or (m & 0xF) > 3:
            raise bad(f"an object's length is not an integer of 1, 2, 4 or 8 bytes (marker {m:#04x})", pos)
        size = 1 << (m & 0xF)
        if pos + 2 + size > table:
            raise bad("an object's length runs past the object area", pos)
        return int.from_bytes(data[pos + 2 : pos + 2 + size], "big"), pos + 2 + size

    def children(i: int) -> list[int]:
        pos = offsets[i]
        if not len(_BPLIST) <= pos < table:
            raise bad(f"object #{i} is at {pos:#x}, outside the object area", table)
        marker = data[pos]
        hi, low = marker >> 4, marker & 0xF
        if hi == 0x0:
            if marker not in (0x00, 0x08, 0x09, 0x0F):
                raise bad(f"unknown marker {marker:#04x} of object #{i}", pos)
            return []
        if hi in (0x1, 0x2):
            if low > 4 or pos + 1 + (1 << low) > table:
                raise bad(
                    f"number object #{i} of {1 << low} bytes is malformed or runs past the objects", pos
                )
            return []
        if marker == 0x33:
            if pos + 9 > table:
                raise bad(f"date object #{i} runs past the objects", pos)
            return []
        if hi in (0x4, 0x5, 0x6):
            cnt, start = length(pos, low)
            size = cnt * 2 if hi == 0x6 else cnt
            if start + size > table:
                raise bad(f"object #{i} declares {size} bytes, past the end of the objects", pos)
            return []
        if hi == 0x8:
            if pos + 2 + low > table:
                raise bad(f"UID object #{i} runs past the objects", pos)
            return []
        if hi in (0xA, 0xC, 0xD):
            cnt, start = length(pos, low)
            refs = cnt * (2 if hi == 0xD else 1)
            if start + refs * ref_size > table:
                raise bad(f"container #{i} declares {cnt} entries, past the end of the objects", pos)
            out = [
                int.from_bytes(data[p : p + ref_size], "big")
                for p in range(start, start + refs * ref_size, ref_size)
            ]
            for r in out:
                if r >= count:
                    raise bad(f"container #{i} refers to object #{r}, beyond the {count} objects", pos)
            return out
        raise bad(f"unknown marker {marker:#04x} of object #{i}", pos)

    # Iterative depth-first walk from the top object. state: 0 new, 1 on the stack, 2 done.
    state = bytearray(count)
    values = [0] * count  # values the object expands to, itself included
    depth = [0] * count
    stack: list[tuple[int, list[int], int]] = [(top, children(top), 0)]
    state[top] = 1
    while stack:
        node, kids, k = stack[-1]
        if k < len(kids):
            stack[-1] = (node, kids, k + 1)
            child = kids[k]
            if state[child] == 1:
                raise bad(
                    f"object #{node} refers back to object #{child}, which contains it (a cycle)",
                    offsets[node],
                )
            if state[child] == 0:
                if len(stack) >= MAX_DEPTH:
                    raise bad(f"objects nest deeper than {MAX_DEPTH} levels", offsets[child])
                state[child] = 1
                stack.append((child, children(child), 0))
            continue
        total = 1
        deepest = 0
        for c in kids:
            total += values[c]
            deepest = max(deepest, depth[c])
        if total > MAX_VALUES:
            raise bad(
                f"object #{node} expands to more than {MAX_VALUES} values through shared references "
                "(a reference bomb)",
                offsets[node],
            )
        if deepest + 1 > MAX_DEPTH:
            raise bad(f"objects nest deeper than {MAX_DEPTH} levels", offsets[node])
        values[node] = total
        depth[node] = deepest + 1
        state[node] = 2
        stack.pop()
