"""The cap on JSON strings every reader of JSON applies (importers, directory, knowledge
base): no source lets a 200 MB string through where a CSV field is capped at 128 KiB."""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_STRING", "long_string", "may_hold_long_string"]

MAX_STRING = 128 * 1024
"""The longest JSON string an importer takes, in characters: the CSV importers' field limit
(``csv.field_size_limit()``'s default), so that no source lets a 200 MB device name or app
label through. An element holding a longer string is a bad row (a refusal when it is the
whole document)."""


def long_string(value: Any, path: str = "", limit: int = MAX_STRING) -> str | None:
    """Where the first string (a key or a value) longer than ``limit`` is in a decoded JSON
    value, with its length: ``"devices[3].name: a string of 200,000 characters"``; else ``None``."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, where = stack.pop()
        cls = v.__class__
        if cls is str:
            if len(v) > limit:
                return f"{where or 'the value'}: a string of {len(v):,} characters"
        elif cls is dict:
            for k in v:
                if len(k) > limit:
                    return f"{where or 'the object'}: a key of {len(k):,} characters"
            # pushed last to first: the first long string of the document is found first
            stack.extend(
                (child, f"{where}.{k}" if where else k)
                for k, child in reversed(v.items())
                if child.__class__ in (str, dict, list)
            )
        elif cls is list:
            stack.extend(
                (v[i], f"{where}[{i}]")
                for i in range(len(v) - 1, -1, -1)
                if v[i].__class__ in (str, dict, list)
            )
    return None


def may_hold_long_string(raw: str | bytes, limit: int = MAX_STRING) -> bool:
    """Whether the JSON text ``raw`` may hold a string longer than ``limit`` characters
    (``False`` is certain: a decoded string is never longer than its text between quotes)."""
    if len(raw) <= limit:
        return False
    quote, escaped = ('"', '\\"') if isinstance(raw, str) else (b'"', b'\\"')
    if escaped in raw:  # type: ignore[operator]
        return True
    return max(map(len, raw.split(quote))) > limit  # type: ignore[arg-type]
