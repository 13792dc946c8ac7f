"""Readers shared by the importers: JSON with line numbers, CSV, plain values, timestamps."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import refuse
from appveto.jsoncap import MAX_STRING, long_string

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_FRACTION = re.compile(r"(\.\d{6})\d+")


def read_text(path: Path, display: str) -> str:
    """The whole file as text (UTF-8, with or without BOM); a non-UTF-8 file is refused."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise refuse(display, f"not UTF-8 text (byte offset {exc.start})", line=line) from None
    if not text or text.isspace():  # not text.strip(), which copies the whole file
        raise refuse(display, "the file is empty")
    return text


@dataclass(frozen=True, slots=True)
class JsonItem:
    """One value found in a JSON document: where it starts, its path, the value (or why not)."""

    line: int
    entry: str | None
    value: Any
    error: str | None = None


class _Lines:
    """Offset -> line number, for offsets that only grow."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1

    def at(self, pos: int) -> int:
        if pos < self._pos:
            return self._text.count("\n", 0, pos) + 1
        # find (memchr) skips the usual long stretch without a newline (a one-line element)
        # much faster than count, which steps through every character
        nl = self._text.find("\n", self._pos, pos)
        if nl != -1:
            self._line += 1 + self._text.count("\n", nl + 1, pos)
        self._pos = pos
        return self._line

    def column(self, pos: int) -> int:
        return pos - (self._text.rfind("\n", 0, pos) + 1) + 1


def _broken(
    display: str, text: str, lines: _Lines, pos: int, what: str, detail: str | None = None
) -> Exception:
    end = len(text.rstrip())
    truncated = pos >= end or (
        detail is not None and detail.startswith("Unterminated string") and text.find('"', pos + 1) == -1
    )
    if truncated:
        msg = f"truncated JSON: the document ends inside {what}"
    else:
        msg = f"invalid JSON in {what}" + (f" ({detail})" if detail else "")
    return refuse(display, msg, line=lines.at(min(pos, len(text))), column=lines.column(pos))


def _scan(text: str, pos: int, display: str, lines: _Lines, what: str) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _broken(display, text, lines, exc.pos, what, exc.msg) from None
    except RecursionError:
        raise refuse(display, f"JSON nested too deeply in {what}", line=lines.at(pos)) from None
    except ValueError:  # Python refuses to convert an integer of more than 4300 digits
        raise refuse(display, f"{TOO_LONG_NUMBER} in {what}", line=lines.at(pos)) from None


TOO_LONG_NUMBER = "a number too long to read (more than 4300 digits)"
"""What Python's int() refuses (``sys.get_int_max_str_digits``); a JSON decoder raises
``ValueError`` for it, not ``JSONDecodeError``."""


def _capped(item: JsonItem, size: int) -> JsonItem:
    """``item``, or a bad item when its value holds a string over :data:`MAX_STRING`."""
    if size <= MAX_STRING or item.error is not None:
        return item
    where = long_string(item.value, item.entry or "")
    if where is None:
        return item
    return JsonItem(item.line, item.entry, None, f"{where}; strings are limited to {MAX_STRING:,} characters")


def iter_json(text: str, display: str, array_key: str) -> Iterator[JsonItem]:
    """The values of a JSON document, with the line each starts on.

    * ``[ ... ]``: each element (entry ``[i]``);
    * ``{..., "<array_key>": [ ... ], ...}``: each element of that array (entry
      ``<array_key>[i]``), decoded one at a time; the other top-level keys are ignored;
    * any other single object: that object, once (entry ``None``);
    * several top-level values (JSON Lines): each value; a line that does not decode
      is an item with ``error`` set, and reading goes on with the next line.

    A document that is broken (truncated, invalid) outside JSON Lines is refused. An
    item holding a string longer than :data:`MAX_STRING` comes with ``error`` set.
    """
    lines = _Lines(text)
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if pos >= len(text):
        raise refuse(display, "the file is empty")
    first = text[pos]
    if first == "[":
        yield from _iter_array(text, pos, display, lines, "")
        return
    if first != "{":
        raise refuse(
            display,
            f"not a JSON document (it starts with {text[pos : pos + 20]!r})",
            line=lines.at(pos),
            column=lines.column(pos),
        )
    # JSON Lines when the first line alone is a whole value and more follows it.
    nl = text.find("\n", pos)
    line_end = nl if nl != -1 else len(text)
    try:
        value = json.loads(text[pos:line_end])
    except (ValueError, RecursionError):  # JSONDecodeError, or a number too long to read
        value = None
        whole_line = False
    else:
        whole_line = True
    if whole_line:
        rest = _WS.match(text, line_end).end()  # type: ignore[union-attr]
        if rest < len(text):
            yield from _iter_json_lines(text, display, lines)
            return
        size = line_end - pos
        if isinstance(value, dict) and isinstance(value.get(array_key), list):
            for i, item in enumerate(value[array_key]):
                yield _capped(JsonItem(1, f"{array_key}[{i}]", item), size)
            return
        yield _capped(JsonItem(1, None, value), size)
        return
    del value
    yield from _iter_object(text, pos, display, lines, array_key)


def _iter_json_lines(text: str, display: str, lines: _Lines) -> Iterator[JsonItem]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield JsonItem(number, None, None, f"invalid JSON line ({exc.msg} at column {exc.colno})")
        except RecursionError:
            yield JsonItem(number, None, None, "JSON nested too deeply")
        except ValueError:
            yield JsonItem(number, None, None, TOO_LONG_NUMBER)
        else:
            yield _capped(JsonItem(number, None, value), len(raw))


def _iter_array(
    text: str, pos: int, display: str, lines: _Lines, prefix: str
) -> Generator[JsonItem, None, int]:
    """Elements of the array at ``pos``; returns (via StopIteration) the offset past ``]``."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    index = 0
    if pos < len(text) and text[pos] == "]":
        return pos + 1
    while True:
        if pos >= len(text):
            raise _broken(display, text, lines, pos, f"{prefix}[]")
        what = f"{prefix}[{index}]"
        value, end = _scan(text, pos, display, lines, what)
        yield _capped(JsonItem(lines.at(pos), what, value), end - pos)
        index += 1
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        if pos < len(text) and text[pos] == "]":
            return pos + 1
        raise _broken(display, text, lines, pos, f"{prefix}[] after element {index - 1}")


def _iter_object(text: str, pos: int, display: str, lines: _Lines, array_key: str) -> Iterator[JsonItem]:
    """Walk a top-level object; stream the elements of ``array_key``, else yield the object."""
    others: dict[str, Any] = {}
    found = False
    n = len(text)
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if pos < n and text[pos] == "}":
        yield JsonItem(1, None, others)
        return
    while True:
        if pos >= n or text[pos] != '"':
            raise _broken(display, text, lines, pos, "the top-level object")
        key, pos = _scan(text, pos, display, lines, "the top-level object")
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n or text[pos] != ":":
            raise _broken(display, text, lines, pos, f"the top-level object at key {key!r}")
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        if key == array_key and pos < n and text[pos] == "[":
            found = True
            pos = yield from _iter_array(text, pos, display, lines, array_key)
        else:
            others[key], pos = _scan(text, pos, display, lines, f"{key!r}")
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < n and text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        if pos < n and text[pos] == "}":
            break
        raise _broken(display, text, lines, pos, "the top-level object")
    tail = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if tail < n:
        raise refuse(
            display, "unexpected data after the JSON document", line=lines.at(tail), column=lines.column(tail)
        )
    if not found:
        yield _capped(JsonItem(1, None, others), n)


def _not_utf8(path: Path, display: str) -> Exception:
    """The refusal for a file that is not UTF-8, located at the first bad byte's line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return refuse(
                    display,
                    f"not UTF-8 text (byte offset {offset + exc.start})",
                    line=line + chunk.count(b"\n", 0, exc.start),
                )
            line += chunk.count(b"\n")
            offset += len(chunk)
    # the file ends inside a multi-byte sequence: the bytes still buffered are where it starts
    pending = len(decoder.getstate()[0])
    return refuse(display, f"not UTF-8 text (byte offset {offset - pending}, cut off at the end)", line=line)


class CsvFile:
    """A CSV file opened for streaming, its header checked.

    Importers iterate :attr:`lines` (the file's physical lines) directly (a generator in
    between costs a third of the parse time). A line without a quote character is split
    with ``str.split``, which gives exactly what the csv module gives for it at a third of
    the cost; any other line goes through :meth:`parse`, which hands it (and the lines a
    quoted field continues on) to the csv module. A row the csv module cannot split (a
    field over the size limit) raises ``csv.Error``, is reported as a bad row, and the
    loop resumes. The usual loop::

        for line in lines:
            if '"' in line or len(line) > limit:
                row = parse(line)
                if row is None:
                    break
            else:
                fast += 1
                row = line.rstrip("\r\n").split(delimiter)
            # this row ends on line fast + reader.line_num
    """

    def __init__(self, path: Path, display: str, required: tuple[str, ...], what: str) -> None:
        self.display = display
        self._path = path
        self._fh = path.open("r", encoding="utf-8-sig", newline="")
        self._held: list[str] = []
        try:
            try:
                first = self._fh.readline()
                self._fh.seek(0)
                # Spreadsheets in many European locales save CSV with semicolons.
                delimiter = ";" if "," not in first and ";" in first else ","
                self.delimiter = delimiter
                self._reader = csv.reader(self._feed(), delimiter=delimiter)
                header = next(self._reader)
            except StopIteration:
                raise refuse(display, f"the file is empty (expected {what})", line=1) from None
            except UnicodeDecodeError:
                raise _not_utf8(path, display) from None
            except csv.Error as exc:
                raise refuse(display, f"not a CSV file: {exc}", line=1) from None
            self.header = [h.strip() for h in header]
            missing = [c for c in required if c not in self.header]
            if missing:
                found = ", ".join(self.header[:8]) + (", ..." if len(self.header) > 8 else "")
                raise refuse(
                    display,
                    f"not {what}: missing column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} (found: {found})",
                    line=1,
                )
        except BaseException:
            self._fh.close()
            raise

    def _feed(self) -> Iterator[str]:
        """The csv reader's input: the line :meth:`parse` holds, else the next line of the file."""
        held = self._held
        fh = self._fh
        while True:
            if held:
                yield held.pop()
                continue
            line = next(fh, None)
            if line is None:
                return
            yield line

    @property
    def lines(self) -> Any:
        """The file's physical lines after the header (iterate it; ``UnicodeDecodeError`` as below)."""
        return self._fh

    @property
    def limit(self) -> int:
        """Lines longer than this may hold a field over the csv module's size limit."""
        return int(csv.field_size_limit())

    def parse(self, line: str) -> list[str] | None:
        """The row that starts with ``line``, split by the csv module (``None``: no more rows).

        The csv module reads the lines a quoted field continues on from the file itself;
        they count in :attr:`reader`'s ``line_num``, as ``line`` does.
        """
        self._held.append(line)
        row: list[str] | None = next(self._reader, None)
        self._held.clear()
        return row

    @property
    def reader(self) -> Any:
        """The csv reader; its ``line_num`` counts the lines it has read (header included)."""
        return self._reader

    def not_utf8(self) -> Exception:
        return _not_utf8(self._path, self.display)

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._fh.close()


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for optional sub-objects)."""
    return value if isinstance(value, dict) else {}


def clean(value: str) -> str:
    """A string any database accepts: NUL and lone surrogates (legal in JSON) become U+FFFD / '?'."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def text_or_none(value: Any) -> str | None:
    """A non-empty string, or ``None``; numbers become strings (versions are sometimes numbers)."""
    if value.__class__ is str:  # the common case first: this runs for every field of every row
        value = value.strip()
        if value.isascii() and "\x00" not in value:
            return value or None
        return clean(value) or None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = clean(value.strip())
        return value or None
    if isinstance(value, int | float):
        return str(value)
    return None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 / ISO 8601 timestamp (``Z`` or offset; naive means UTC); ``None`` if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    s = _FRACTION.sub(r"\1", value.strip())
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
