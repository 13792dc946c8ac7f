"""The terminal rule: text shown to a person at a terminal cannot drive it or forge lines.

Every value that came from an input (an APK label, a device name, a person's ID, a file
name, an entity file) is passed through :func:`line` before it is printed: C0 and C1
control characters (ESC, CR, LF, NEL, ...), the Unicode line and paragraph separators and
the bidi formatting characters (LRM/RLM/ALM, the embeddings, overrides and isolates,
U+202A-U+202E and U+2066-U+2069) become visible Python-style escapes (``\\x1b``,
``\\n``, ``\\u202e``), as do lone surrogates (file names that are not UTF-8). A tab is
kept. :func:`block` applies the same rule to a whole document but keeps its line breaks
(a JSON or CSV document printed to a terminal).
"""

from __future__ import annotations

import re
import sys

_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_LINE = re.compile(f"[\n{_UNSAFE}]")
_BLOCK = re.compile(f"[{_UNSAFE}]")


def _escape(m: re.Match[str]) -> str:
    return ascii(m.group())[1:-1]


def line(text: str) -> str:
    """One line of terminal output: every unsafe character (see the module) escaped,
    line breaks included."""
    return _LINE.sub(_escape, text) if not text.isprintable() else text


def block(text: str) -> str:
    """A multi-line document for a terminal: unsafe characters escaped, ``\\n`` kept."""
    return _BLOCK.sub(_escape, text) if not text.isprintable() else text


def has_unsafe(text: str) -> bool:
    """Whether :func:`line` would change ``text``."""
    return _LINE.search(text) is not None


def encodable(text: str, encoding: str | None = None) -> str:
    """``text`` as the stream can encode it: what it cannot (the lone surrogates Python
    makes of file names that are not UTF-8) becomes ``\\udcff``-style escapes."""
    enc = encoding or getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
    except UnicodeEncodeError:
        return text.encode(enc, "backslashreplace").decode(enc)
    except LookupError:
        return text
    return text
