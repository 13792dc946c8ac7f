"""What the commands share for output: standard output, and what a command must not write over.

Files go through :mod:`appveto.outputs.files` (the one writer); text for a terminal
through :mod:`appveto.outputs.terminal` (the one terminal rule).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from appveto.errors import AppvetoError
from appveto.outputs import terminal
from appveto.outputs.files import Guard, store_files, write_file

printable = terminal.line
encodable = terminal.encodable


def write_stdout(text: str | bytes) -> None:
    """A document to standard output; to a terminal, unsafe characters are escaped
    (:func:`appveto.outputs.terminal.block`), to a pipe or file it goes as it is."""
    try:
        if isinstance(text, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(text)
        else:
            if not text.endswith("\n"):
                text += "\n"
            if _is_terminal():
                text = terminal.block(text)
            sys.stdout.write(encodable(text))
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise AppvetoError(f"standard output: cannot write: {exc.strerror or exc}") from None


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def write_output(
    text: str | bytes,
    output: str | Path | None,
    *,
    inputs: Iterable[str | Path] = (),
    guard: Guard | None = None,
) -> None:
    """Write to ``output`` through the one writer, or to stdout when it is None or '-'.

    Refuses to write over one of the command's own inputs (``inputs``, ``guard``).
    """
    if output is None or str(output) == "-":
        write_stdout(text)
        return
    if isinstance(text, str) and not text.endswith("\n"):
        text += "\n"
    g = Guard.of(inputs)
    write_file(output, text, guard=g | guard if guard is not None else g)


def workspace_guard(args: argparse.Namespace, *, policies: Path | None = None) -> Guard:
    """What a command reading a workspace must never write over or into: its
    ``appveto.toml``, its SQLite store (with SQLite's companion files), ``--db`` when it
    is a SQLite file, and the policy folder."""
    inputs: list[str | Path] = []
    folders: list[str | Path] = []
    db = getattr(args, "db", None)
    if db:
        inputs += store_files(db)
    root = getattr(args, "workspace", None)
    if root is not None:
        from appveto.fleet.workspace import CONFIG_NAME, load_workspace

        try:
            ws = load_workspace(Path(root))
        except AppvetoError:
            ws = None
        if ws is not None:
            inputs.append(ws.config_path)
            if not db:
                inputs += store_files(ws.store_url)
            folders.append(ws.policies_dir)
        else:
            inputs.append(Path(root) / CONFIG_NAME)
    if policies is not None:
        folders.append(policies)
    return Guard.of(inputs, folders)


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    """``-w/--workspace DIR``: the workspace folder a command opens (default: the current folder)."""
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="DIR",
        type=Path,
        default=Path("."),
        help="the workspace folder (default: the current folder)",
    )


def add_policy_options(parser: argparse.ArgumentParser, *, workspace_help: str | None = None) -> None:
    """The one grammar for where policies come from: ``-w/--workspace WS`` (its ``policies/``
    folder; default the current folder) and ``--policies DIR`` to read another folder."""
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="WS",
        help=workspace_help or "the workspace whose policies/ folder is read (default: the current folder)",
    )
    parser.add_argument(
        "--policies", metavar="DIR", help="read this policy folder instead of the workspace's policies/"
    )


def policies_dir(args: argparse.Namespace, positional: str | None = None) -> str:
    """The policy folder a command reads: ``--policies`` (or a positional ``DIR``), else the
    workspace's ``policies/``."""
    given = getattr(args, "policies", None)
    if positional is not None and given is not None and positional != given:
        raise AppvetoError(f"two policy folders given ({positional} and --policies {given}); give one")
    chosen = given if given is not None else positional
    if chosen is not None:  # an empty name too: the loader says it is no folder
        return str(chosen)
    from appveto.fleet.workspace import load_workspace

    return str(load_workspace(Path(getattr(args, "workspace", None) or ".")).policies_dir)
