"""The HTML rule: a value is text, never markup, and cannot reorder what is around it.

:func:`text` is for element content: HTML-escaped (``& < > " '``), control characters
other than tab and line feed and the bidi formatting characters made visible as in the
terminal (``\\x1b``, ``\\u202e``), and, when the value holds right-to-left letters or
Arabic digits, isolated in ``<bdi>`` so that it cannot move the text beside it. :func:`attr`
is for attribute values and for places where no element may go (``<title>``, SVG text):
the same without ``<bdi>``.
"""

from __future__ import annotations

import html
import re
import unicodedata

_VISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_RTL_CLASSES = frozenset({"R", "AL", "AN"})


def _visible(value: object) -> str:
    s = "" if value is None else str(value)
    if s.isprintable():
        return s
    return _VISIBLE.sub(lambda m: ascii(m.group())[1:-1], s)


def needs_isolation(value: str) -> bool:
    """Whether ``value`` holds a character of a right-to-left bidi class (R, AL, AN)."""
    if value.isascii():
        return False
    return any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in value)


def attr(value: object) -> str:
    """``value`` for an attribute or a text-only element: escaped, controls made visible."""
    return html.escape(_visible(value), quote=True)


def text(value: object) -> str:
    """``value`` as element content: :func:`attr`, in ``<bdi>`` when it holds RTL text."""
    s = _visible(value)
    escaped = html.escape(s, quote=True)
    return f"<bdi>{escaped}</bdi>" if needs_isolation(s) else escaped
