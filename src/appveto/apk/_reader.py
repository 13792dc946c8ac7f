"""A bounds-checked little-endian reader over bytes, shared by the binary parsers.

Every read past the end raises :class:`ReadError` with the offset, so hostile input
becomes a typed error rather than an ``IndexError`` or a ``struct.error``.
"""

from __future__ import annotations

import builtins
import struct

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


class ReadError(Exception):
    """A read outside the buffer, or a malformed variable-length value."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset:#x}")
        self.offset = offset


class Reader:
    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: builtins.bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else min(end, len(buf))

    def _need(self, n: int, at: int | None = None) -> int:
        p = self.pos if at is None else at
        if n < 0 or p < 0 or p + n > self.end:
            raise ReadError(f"need {n} bytes, {max(self.end - p, 0)} left", p)
        return p

    def u8(self) -> int:
        p = self._need(1)
        self.pos = p + 1
        return self.buf[p]

    def u16(self) -> int:
        p = self._need(2)
        self.pos = p + 2
        return int(_U16.unpack_from(self.buf, p)[0])

    def u32(self) -> int:
        p = self._need(4)
        self.pos = p + 4
        return int(_U32.unpack_from(self.buf, p)[0])

    def i32(self) -> int:
        p = self._need(4)
        self.pos = p + 4
        return int(_I32.unpack_from(self.buf, p)[0])

    def u64(self) -> int:
        p = self._need(8)
        self.pos = p + 8
        return int(_U64.unpack_from(self.buf, p)[0])

    def u16_at(self, at: int) -> int:
        self._need(2, at)
        return int(_U16.unpack_from(self.buf, at)[0])

    def u32_at(self, at: int) -> int:
        self._need(4, at)
        return int(_U32.unpack_from(self.buf, at)[0])

    def bytes(self, n: int) -> builtins.bytes:
        p = self._need(n)
        self.pos = p + n
        return bytes(self.buf[p : p + n])

    def bytes_at(self, at: int, n: int) -> builtins.bytes:
        self._need(n, at)
        return bytes(self.buf[at : at + n])

    def skip(self, n: int) -> None:
        p = self._need(n)
        self.pos = p + n

    def uleb128(self) -> int:
        result = 0
        shift = 0
        for _ in range(5):
            b = self.u8()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7
        raise ReadError("uleb128 longer than 5 bytes", self.pos)

    def remaining(self) -> int:
        return max(self.end - self.pos, 0)
