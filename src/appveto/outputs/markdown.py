"""The Markdown rule: a value in a Markdown document is text, never markup.

The terminal rule first (no line breaks, controls or bidi characters: a value cannot
start a heading, a list or a new paragraph), then every ASCII punctuation character
that Markdown gives a meaning inline (emphasis, code, links and images, raw HTML,
character references, tables) is escaped with a backslash, which CommonMark allows
before any ASCII punctuation: ``[click](https://evil.example)`` shows as typed.
"""

from __future__ import annotations

import re

from appveto.outputs import terminal

_INLINE = re.compile(r"([\\`*_\[\]<>&|!])")


def text(value: object) -> str:
    """``value`` as literal text inside a Markdown line."""
    s = terminal.line("" if value is None else str(value))
    return _INLINE.sub(r"\\\1", s)
