"""``appveto`` entry point.

Each command lives in its own module under ``appveto.cli`` and exposes
``register(subparsers)``; it sets ``handler`` (a callable taking the parsed
namespace and returning an exit code). Heavy imports happen inside handlers so
that start-up stays small.

Exit codes: 0 success; 1 a gate tripped (``--fail-on``, violations found);
2 usage error or an input that could not be read; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from appveto import __version__

# Command modules, in the order they appear in ``appveto --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "appveto.cli.scan_cmd",
    "appveto.cli.checks_cmd",
    "appveto.cli.data_cmd",
    "appveto.cli.init_cmd",
    "appveto.cli.policy_cmd",
    "appveto.cli.export_cmd",
    "appveto.cli.fleet_cmd",
    "appveto.cli.compliance_cmd",
    "appveto.cli.demo_cmd",
    "appveto.cli.report_cmds",
    "appveto.cli.serve_cmd",
    "appveto.cli.audit_cmd",
)

EXIT_OK = 0
EXIT_GATE = 1
EXIT_USAGE = 2


class _SubCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands whose ``--help`` describes them: the help line is the description when
    the command module gives none."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if not kwargs.get("description") and kwargs.get("help"):
            text = str(kwargs["help"])
            kwargs["description"] = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
        parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        return parser


class _Parser(argparse.ArgumentParser):
    top = False
    """Only the ``appveto`` parser itself; every other one is a subcommand's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubCommands)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"appveto: error: {message}\n")
        raise SystemExit(EXIT_USAGE)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and not self.top:
            # a subcommand refuses what it does not know itself, so the error shows its usage
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="appveto",
        description="Vet mobile apps, decide bans as policy files, enforce them and monitor the fleet.",
    )
    parser.top = True
    parser.add_argument("--version", action="version", version=f"appveto {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from appveto.errors import AppvetoError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    from appveto.cli._io import printable

    # Over a file size limit (ulimit -f) a write fails with EFBIG, which the writer reports
    # (the previous file kept), instead of the kernel killing the process mid-write.
    with contextlib.suppress(AttributeError, ValueError):  # no SIGXFSZ; not the main thread
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        code: int = handler(args)
    except AppvetoError as exc:
        for diag in exc.diagnostics():
            sys.stderr.write(f"appveto: error: {printable(str(diag))}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # an input or output the command could not open or write, named with its reason
        where = exc.filename if exc.filename is not None else "input/output"
        sys.stderr.write(f"appveto: error: {printable(str(where))}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
