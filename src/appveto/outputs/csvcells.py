"""The CSV rule: no cell a spreadsheet opens can start a formula (OWASP, "CSV Injection").

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line
feed (or the full-width ``＝ ＋ － ＠`` some spreadsheet locales take as the same) gets a
leading apostrophe, which spreadsheets show as text and do not evaluate; every cell is
quoted and embedded quotes doubled (:func:`writer` uses ``csv.QUOTE_ALL``). The value is
otherwise unchanged: a reader that knows the rule drops the apostrophe (:func:`original`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def cell(value: object) -> str:
    """``value`` as a CSV cell that a spreadsheet will not evaluate (``None`` is empty)."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_START:
        return "'" + text
    return text


def original(text: str) -> str:
    """The value a :func:`cell` was made from, when ``text`` came from one."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def row(values: Iterable[object]) -> list[str]:
    return [cell(v) for v in values]


def writer(fh: Any) -> Any:
    """A ``csv.writer`` on ``fh`` (``\\n`` line ends, every cell quoted); give it rows made
    with :func:`row`."""
    return csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)


def document(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV document: the header and every row, each cell neutralised."""
    import io

    buf = io.StringIO()
    w = writer(buf)
    w.writerow(row(header))
    w.writerows(row(r) for r in rows)
    return buf.getvalue()
