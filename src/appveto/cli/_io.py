"""Output helpers shared by the commands: atomic writes that never clobber an input."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from appveto.errors import AppvetoError

_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """One line of text output: control, line-breaking and bidi characters taken from an
    input become escapes, so a crafted value cannot add lines or drive the terminal. Lone
    surrogates (file names that are not UTF-8) become escapes too."""
    return _UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


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


def write_output(text: str | bytes, output: str | None, *, inputs: Iterable[str] = ()) -> None:
    """Write to ``output`` atomically, or to stdout when it is None or '-'.

    Refuses to write over one of the command's own input files.
    """
    if output is None or output == "-":
        try:
            if isinstance(text, bytes):
                sys.stdout.buffer.write(text)
            else:
                sys.stdout.write(encodable(text if text.endswith("\n") else text + "\n"))
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise AppvetoError(f"standard output: cannot write: {exc.strerror or exc}") from None
        return
    target = Path(output)
    resolved = target.resolve()
    for i in inputs:
        if Path(i).resolve() == resolved:
            raise AppvetoError(f"{output}: refusing to overwrite an input file")
    if target.is_dir():
        raise AppvetoError(f"{output}: is a directory")
    data = text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text
    if isinstance(text, str) and not text.endswith("\n"):
        data += b"\n"
    if target.exists() and not target.is_file():
        # A device or a pipe (/dev/null, /dev/stdout, a FIFO): write into it, never replace it.
        try:
            with target.open("wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise AppvetoError(f"{output}: cannot write: {exc.strerror or exc}") from None
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise AppvetoError(f"{output}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AppvetoError(f"{output}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
