"""Property lists: XML read with the C-accelerated ElementTree parser, binary bounded.

One read path per format: an XML plist is parsed by expat into an element tree (in C) and
converted in one pass (:func:`loads_xml`); its result equals ``plistlib.loads`` for every
valid XML plist (a test compares them on generated values) and its errors name the line
and column. Binary plists are decoded by ``plistlib`` and then checked to be a tree
(:func:`loads_binary`). ``bench/read_paths.py`` compares this reader with ``plistlib``
on the layouts real exports come in.

Hostile input: plists have no entities, so any ``<!ENTITY`` declaration is refused
before the reader parses (no entity expansion of any kind); nesting deeper than
:data:`MAX_DEPTH` is refused. A binary
plist is a graph of objects that refer to each other by number: ``plistlib`` decodes each
object once (time and memory linear in the file), but an array that holds itself, or
arrays that share their elements (``A_i = [A_{i-1}, A_{i-1}]``: 24 levels in a few hundred
bytes stand for 16 million leaves), would make every reader after it loop or walk an
exponential tree. :func:`loads_binary` therefore refuses any array or dictionary reached a
second time, in one pass over the distinct objects; MDM responses never share containers
(Apple's writer unifies only strings, numbers, dates and data).
"""

from __future__ import annotations

import base64
import binascii
import plistlib
import re
import struct
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

MAX_DEPTH = 200
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z")


class PlistError(ValueError):
    """Not a well-formed XML plist; ``line``/``column`` when the XML parser knows them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def loads_binary(data: bytes) -> Any:
    """The value of a binary plist, refused (:class:`PlistError`) unless it is a tree."""
    if not data.startswith(b"bplist"):
        raise PlistError("not a binary property list")
    try:
        value = plistlib.loads(data, fmt=plistlib.FMT_BINARY)
    except (plistlib.InvalidFileException, struct.error, MemoryError):
        raise PlistError("the binary property list is damaged or truncated") from None
    except RecursionError:
        raise PlistError("plist nested too deeply") from None
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
        raise PlistError(f"the binary property list is damaged ({exc or type(exc).__name__})") from None
    _tree(value)
    return value


def _tree(value: Any) -> None:
    """Refuse a container reached twice (a cycle or a shared reference) or nested deeper than
    :data:`MAX_DEPTH`; visits each distinct container once."""
    if value.__class__ is not dict and value.__class__ is not list:
        return
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if id(v) in seen:
            raise PlistError(
                "an array or dictionary is referenced more than once (a cycle or a shared "
                "reference, which no MDM response has)"
            )
        seen.add(id(v))
        if depth >= MAX_DEPTH:
            raise PlistError("plist nested too deeply")
        for child in v.values() if v.__class__ is dict else v:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))


def loads_xml(data: bytes) -> Any:
    """The value of an XML plist (:class:`PlistError`, located when expat can, if it is not one)."""
    # markup is ASCII in every encoding expat reads (UTF-8, Latin-1 and other 8-bit codes,
    # UTF-16 with or without a byte order mark, where each ASCII character is one byte and
    # a NUL): no declaration can hide from this check
    if b"<!ENTITY" in (data.replace(b"\x00", b"") if b"\x00" in data else data):
        raise PlistError("XML entity declarations are not allowed in a plist")
    return _loads_tree(data)


def _loads_tree(data: bytes) -> Any:
    """The strict reader: expat builds the element tree, which is then converted."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - entity declarations are refused by loads_xml
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line ", 1)[0]
        raise PlistError(f"not well-formed XML ({reason})", line, column + 1) from None
    except LookupError as exc:  # an XML declaration naming an encoding Python does not know
        raise PlistError(f"not readable XML ({exc})", 1, 1) from None
    if root.tag != "plist":
        raise PlistError(f"the root element is <{root.tag}>, not <plist>")
    if len(root) != 1:
        raise PlistError(f"<plist> must hold exactly one value, not {len(root)}")
    return _value(root[0], 0)


def _value(el: ET.Element, depth: int) -> Any:
    tag = el.tag
    if tag == "string":
        return el.text or ""
    if tag == "dict":
        if depth >= MAX_DEPTH:
            raise PlistError("plist nested too deeply")
        if len(el) % 2:
            raise PlistError("a <dict> has a <key> without a value")
        out: dict[str, Any] = {}
        it = iter(el)
        for key, value in zip(it, it, strict=True):
            if key.tag != "key":
                raise PlistError(f"expected <key> in <dict>, found <{key.tag}>")
            vtag = value.tag
            # inline the common leaves: a response is mostly strings, integers and booleans
            if vtag == "string":
                out[key.text or ""] = value.text or ""
            elif vtag == "true":
                out[key.text or ""] = True
            elif vtag == "false":
                out[key.text or ""] = False
            else:
                out[key.text or ""] = _value(value, depth + 1)
        return out
    if tag == "array":
        if depth >= MAX_DEPTH:
            raise PlistError("plist nested too deeply")
        return [_value(c, depth + 1) for c in el]
    if tag == "true":
        return True
    if tag == "false":
        return False
    return _scalar(tag, el.text or "")


def _scalar(tag: str, text: str) -> Any:
    """The value of a leaf element other than ``<string>``, ``<true/>`` and ``<false/>``."""
    if tag == "integer":
        text = text.strip()
        try:
            return int(text, 16) if text.lower().startswith(("0x", "-0x")) else int(text)
        except ValueError:
            raise PlistError(f"<integer> {text!r} is not an integer") from None
    if tag == "true":
        return True
    if tag == "false":
        return False
    if tag == "real":
        try:
            return float(text)
        except ValueError:
            raise PlistError(f"<real> {text!r} is not a number") from None
    if tag == "date":
        m = _DATE.fullmatch(text.strip())
        if m is None:
            raise PlistError(f"<date> {text!r} is not an ISO 8601 UTC date")
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            return datetime(year, month, day, hour, minute, second)  # naive UTC, as plistlib
        except ValueError as exc:
            raise PlistError(f"<date> {text!r}: {exc}") from None
    if tag == "data":
        try:
            return base64.b64decode(text.encode("ascii", "replace"))
        except (binascii.Error, ValueError):
            raise PlistError("<data> is not base64") from None
    raise PlistError(f"unknown plist element <{tag}>")
