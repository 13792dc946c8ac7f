"""XML property lists, read with the C-accelerated ElementTree parser.

``plistlib`` dispatches a Python callback per XML event and reads a device's
``InstalledApplicationList`` response about ten times slower than this reader, which
lets expat build the element tree in C and converts it in one pass. The result equals
``plistlib.loads`` for every valid XML plist (a test compares them on generated values);
binary plists still go through ``plistlib``.

Hostile input: plists have no entities, so any ``<!ENTITY`` declaration is refused
before parsing (no entity expansion of any kind); nesting deeper than
:data:`MAX_DEPTH` is refused.
"""

from __future__ import annotations

import base64
import binascii
import re
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


def loads_xml(data: bytes) -> Any:
    if b"<!ENTITY" in data:
        raise PlistError("XML entity declarations are not allowed in a plist")
    try:
        root = ET.fromstring(data)  # noqa: S314 - entity declarations are refused above
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line ", 1)[0]
        raise PlistError(f"not well-formed XML ({reason})", line, column + 1) from None
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
    if tag == "integer":
        text = (el.text or "").strip()
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
            return float(el.text or "")
        except ValueError:
            raise PlistError(f"<real> {el.text!r} is not a number") from None
    if tag == "date":
        m = _DATE.fullmatch((el.text or "").strip())
        if m is None:
            raise PlistError(f"<date> {el.text!r} is not an ISO 8601 UTC date")
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            return datetime(year, month, day, hour, minute, second)  # naive UTC, as plistlib
        except ValueError as exc:
            raise PlistError(f"<date> {el.text!r}: {exc}") from None
    if tag == "data":
        try:
            return base64.b64decode((el.text or "").encode("ascii", "replace"))
        except (binascii.Error, ValueError):
            raise PlistError("<data> is not base64") from None
    raise PlistError(f"unknown plist element <{tag}>")
