"""Property lists: XML read with the C-accelerated ElementTree parser, binary bounded.

``plistlib`` dispatches a Python callback per XML event and reads a device's
``InstalledApplicationList`` response about ten times slower than this reader, which
lets expat build the element tree in C and converts it in one pass. The result equals
``plistlib.loads`` for every valid XML plist (a test compares them on generated values);
binary plists are decoded by ``plistlib`` and then checked to be a tree (:func:`loads_binary`).
Documents of the plain subset that MDM
servers write (UTF-8, no comments, CDATA, references or attributes) are read faster
still by regular expressions and a token loop (:func:`_loads_plain`; an array of
dictionaries with the same string-valued keys, such as a list of installed apps, is
read a dictionary text at a time, each distinct text once); anything unusual, every
error included, goes to the strict tree reader, which decides and locates the error
(differential tests check the two agree).

Hostile input: plists have no entities, so any ``<!ENTITY`` declaration is refused
before the strict reader parses (no entity expansion of any kind; the plain reader
takes no declarations at all); nesting deeper than :data:`MAX_DEPTH` is refused. A binary
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
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from appveto.fleet.importers._memo import Memo

MAX_DEPTH = 200
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z")


class PlistError(ValueError):
    """Not a well-formed XML plist; ``line``/``column`` when the XML parser knows them."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class StringTable:
    """An array of dictionaries that all have the same keys (in the same order) and only
    string values, as :func:`loads_xml` gives it with ``tables=True``: the keys once and
    one tuple of values per dictionary (a list of installed apps, for instance).

    ``rows`` may hold one more value than there are keys (ignored); a key given twice in
    each dictionary has, as in a dictionary, its last value.
    """

    keys: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def dicts(self) -> list[dict[str, str]]:
        """The array as :func:`loads_xml` gives it without ``tables``."""
        return list(map(dict, map(zip, repeat(self.keys), self.rows)))

    def columns(self) -> dict[str, tuple[str, ...]]:
        """Each key's values, in the order of the rows (the last value of a repeated key)."""
        return dict(zip(self.keys, zip(*self.rows, strict=True), strict=False))


def with_lists(value: Any) -> Any:
    """``value`` with every :class:`StringTable` in it turned into a list of dictionaries."""
    if isinstance(value, StringTable):
        return value.dicts()
    # only containers are visited (the readers give plain dict and list, no subclasses)
    if isinstance(value, dict):
        return {k: with_lists(v) if v.__class__ in CONTAINER_TYPES else v for k, v in value.items()}
    if isinstance(value, list):
        return [with_lists(v) if v.__class__ in CONTAINER_TYPES else v for v in value]
    return value


CONTAINER_TYPES = (dict, list, StringTable)
"""What a value the readers give holds other values in (a plain dict or list, a table)."""


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


def loads_xml(data: bytes, *, tables: bool = False) -> Any:
    """The value of an XML plist; with ``tables``, arrays the plain reader reads as a whole
    (same-shape string dictionaries) come as :class:`StringTable` (``with_lists`` gives the
    value without ``tables``)."""
    fast = _loads_plain(data, tables)  # never takes an entity declaration (its "<" is no token)
    if fast is not _UNUSUAL:
        return fast
    if b"<!ENTITY" in data:
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


_UNUSUAL: Any = object()
"""What :func:`_loads_plain` returns when the document is not of the plain subset."""

_PRELUDE = re.compile(
    r'(?:<\?xml version="1\.0"(?: encoding="[Uu][Tt][Ff]-8")?\?>)?[ \t\n]*'
    r'(?:<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1\.0//EN" '
    r'"http://www\.apple\.com/DTDs/PropertyList-1\.0\.dtd">[ \t\n]*)?'
    r'<plist(?: version="1\.0")?>'
)
_AFTER = re.compile(r"[ \t\n]*")
# anything that XML treats specially (references, CDATA ends, line-end normalisation) or
# refuses (control characters, non-characters): such documents take the strict reader
_SPECIAL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x0D, 0x26])  # ..., CR, &
_PLAIN_BYTES = bytes(b for b in range(256) if b not in _SPECIAL_BYTES)
# one token: a dictionary of <key>/<string> pairs only (an installed app), a <key> with
# its <string> value, a leaf element with its text, an empty element, a start tag or an
# end tag; each followed by the text up to the next "<" (ignored, as the tree reader does)
_TOKEN = re.compile(
    r"<(?:dict>((?:[^<]*<key>[^<]*</key>[^<]*<string>[^<]*</string>)+)[^<]*</dict>"
    r"|(k)ey>([^<]*)</key>[^<]*<string>([^<]*)</string>"
    r"|([a-z]+)>([^<]*)</\5>|([a-z]+)/>|([a-z]+)>|/([a-z]+)>)[^<]*"
)
_PAIR = re.compile(r"<key>([^<]*)</key>[^<]*<string>([^<]*)</string>")
# an array whose first element is a dictionary of <key>/<string> pairs only (group 1: that
# dictionary's start): the installed apps of a response, read a whole array at a time
_FLAT_ARRAY = re.compile(
    r"<array>[^<]*(<dict>)(?:[^<]*<key>[^<]*</key>[^<]*<string>[^<]*</string>)+[^<]*</dict>"
)
_KEY = re.compile(r"<key>([^<]*)</key>")
_SHAPES: dict[tuple[str, ...], re.Pattern[str]] = {}
"""Per key sequence: the text of one dictionary of exactly those keys, each with a <string>
(captured), up to its ``</dict>``, with the text before its ``<dict>``."""
_SHAPE_BUDGET = 8  # new key sequences compiled per document (a hostile one has many)
_SHAPE_MAX_KEYS = 64
_SHAPE_MAX_CHARS = 2000
_PIECES: Memo[str, tuple[str, ...]] = Memo()
"""Per key sequence: the values of each dictionary text read before (see :func:`_table_rows`)."""


def _shape(keys: tuple[str, ...]) -> re.Pattern[str]:
    if len(_SHAPES) >= 256:
        _SHAPES.clear()
    pattern = _SHAPES[keys] = re.compile(
        "[^<]*<dict>"
        + "".join(rf"[^<]*<key>{re.escape(k)}</key>[^<]*<string>([^<]*)</string>" for k in keys)
        + r"[^<]*"
    )
    return pattern


def _table_rows(text: str, keys: tuple[str, ...], shape: re.Pattern[str]) -> list[tuple[str, ...]] | None:
    """The values of each dictionary of an array's ``text`` (from its first ``<dict>`` up to
    its ``</array>``) when every one has exactly ``keys`` with <string> values and there is
    nothing else but text between them; else ``None``.

    The text of each dictionary is looked up first: an app list repeats the same few
    hundred apps from device to device, and a text read before (a pure function of its
    values) gives the same tuple again without a regular expression.
    """
    pieces = text.split("</dict>")
    if "<" in pieces.pop():  # after the last dictionary: an element of another kind
        return None
    rows: list[Any] = list(map(_PIECES.group(keys).get, pieces))
    if None in rows:
        fullmatch = shape.fullmatch
        for i in [i for i, row in enumerate(rows) if row is None]:
            piece = pieces[i]
            known = _PIECES.group(keys).get(piece)  # an earlier position may have added it
            if known is None:
                m = fullmatch(piece)
                if m is None:
                    return None
                known = m.groups()
                _PIECES.add(keys, piece, known, len(piece))
            rows[i] = known
    return rows


def _tokens(body: str, tables: bool = False) -> tuple[list[Any], int, int]:
    """The tokens of ``body`` (see :data:`_TOKEN`), the "<" they hold beyond one each, and
    the number of "<" in ``body``.

    An array of dictionaries that all have the same <key>/<string> pairs (the same keys in
    the same order) becomes one token that carries the finished list in its first field:
    :func:`_table_rows` reads it (a regular expression per dictionary text not seen before,
    no Python per pair) and proves that the array holds nothing else; any other array is
    left to the general tokens.
    """
    tokens: list[Any] = []
    extra = 0
    total = 0
    pos = 0  # where the general tokens go on
    at = 0  # where the next array is looked for
    budget = _SHAPE_BUDGET
    search = _FLAT_ARRAY.search
    findall = _TOKEN.findall
    count = body.count
    while (m := search(body, at)) is not None:
        start = m.start()
        close = at = body.find("</array>", m.end())
        if close < 0:
            break
        keys = tuple(_KEY.findall(body, m.start(1), m.end()))
        shape = _SHAPES.get(keys)
        if shape is None:
            if not budget or len(keys) > _SHAPE_MAX_KEYS or sum(map(len, keys)) > _SHAPE_MAX_CHARS:
                continue
            budget -= 1
            shape = _shape(keys)
        found = _table_rows(body[m.start(1) : close], keys, shape)
        if found is None:  # something else in the array
            continue
        inner = len(found) * (2 + 4 * len(keys))  # "<" of the dictionaries
        if pos < start:
            tokens += findall(body, pos, start)
            total += count("<", pos, start)
        table = StringTable(keys, found)
        tokens.append((table if tables else table.dicts(), "", "", "", "", "", "", "", ""))
        extra += inner + 1  # the dictionaries and </array>; the token counts <array>
        total += inner + 2
        pos = at = close + 8
    tokens += findall(body, pos)
    total += count("<", pos)
    return tokens, extra, total


_EMPTY: dict[str, Any] = {"true": True, "false": False, "string": "", "key": ""}


def _loads_plain(data: bytes, tables: bool = False) -> Any:
    """The plain subset of XML plists, read with two regular expressions.

    Plain means: UTF-8, the usual XML declaration and DOCTYPE, elements without
    attributes, no comments, CDATA, processing instructions, character references or
    carriage returns. A plain document that is well-formed gives exactly what
    :func:`_loads_tree` gives; anything else (including every error) returns
    :data:`_UNUSUAL`, and the strict reader then decides and locates the error.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _UNUSUAL
    head = _PRELUDE.match(text)
    end = text.rfind("</plist>")
    if (
        head is None
        or end < head.end()
        or _AFTER.fullmatch(text, end + 8) is None
        or ("]" in text and "]]>" in text)
        or data.translate(None, _PLAIN_BYTES)  # what is left are special bytes
        or (not text.isascii() and ("\ufffe" in text or "\uffff" in text))
    ):
        return _UNUSUAL
    body = text[head.end() : end]
    tokens, extra, total = _tokens(body, tables)
    result: Any = _UNUSUAL
    stack: list[Any] = []  # open containers
    keys: list[str | None] = []  # per open dict: the key waiting for its value
    key: str | None = None
    top: Any = None
    lt = len(tokens) + extra  # each token starts with "<", a leaf has a second one
    value: Any
    try:
        for flat, pair, pair_key, pair_value, leaf, leaf_text, empty, start, end_tag in tokens:
            if flat:
                if flat.__class__ is list or flat.__class__ is StringTable:  # a whole array
                    if len(stack) >= MAX_DEPTH - 1:
                        return _UNUSUAL
                    value = flat
                else:
                    if len(stack) >= MAX_DEPTH:
                        return _UNUSUAL
                    pairs = _PAIR.findall(flat)
                    value = dict(pairs)
                    lt += 4 * len(pairs) + 1  # the pairs are all there is in the flat text
            elif pair:
                if key is not None or top.__class__ is not dict:
                    return _UNUSUAL
                top[pair_key] = pair_value
                lt += 3
                continue
            elif leaf:
                lt += 1
                if leaf == "string":
                    value = leaf_text
                elif leaf == "key":
                    if key is not None or top.__class__ is not dict:
                        return _UNUSUAL
                    key = leaf_text
                    continue
                elif leaf in {"dict", "array"}:
                    if len(stack) >= MAX_DEPTH:
                        return _UNUSUAL
                    value = {} if leaf == "dict" else []
                else:
                    value = _scalar(leaf, leaf_text)
            elif empty:
                if empty in {"dict", "array"}:
                    if len(stack) >= MAX_DEPTH:
                        return _UNUSUAL
                    value = {} if empty == "dict" else []
                elif empty in _EMPTY:
                    value = _EMPTY[empty]
                else:
                    value = _scalar(empty, "")
            elif start:
                if len(stack) >= MAX_DEPTH:
                    return _UNUSUAL
                if start == "dict":
                    keys.append(key)
                    key = None
                    top = {}
                elif start == "array":
                    keys.append(key)
                    key = None
                    top = []
                else:
                    return _UNUSUAL
                stack.append(top)
                continue
            else:
                if key is not None or not stack:
                    return _UNUSUAL
                value = stack.pop()
                if end_tag != ("dict" if value.__class__ is dict else "array"):
                    return _UNUSUAL
                key = keys.pop()
                top = stack[-1] if stack else None
            if top is None:
                if result is not _UNUSUAL:
                    return _UNUSUAL
                result = value
            elif top.__class__ is dict:
                if key is None:
                    return _UNUSUAL
                top[key] = value
                key = None
            else:
                top.append(value)
    except PlistError:
        return _UNUSUAL
    if stack or lt != total:
        return _UNUSUAL
    return result


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
