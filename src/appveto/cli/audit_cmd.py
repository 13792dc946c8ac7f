"""``appveto audit verify|export``: check and export the server's hash-chained audit trail."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "audit",
        help="verify or export the audit trail of 'appveto serve'",
        description="The audit trail of 'appveto serve' is append-only and hash-chained: 'verify' "
        "recomputes the chain and names every entry that was edited or deleted (exit 1 when one "
        "was); 'export' writes it as CSV or JSON lines.",
    )
    sub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    v = sub.add_parser("verify", help="recompute the hash chain; exit 1 when an entry was edited or deleted")
    from appveto.cli._io import add_workspace_argument

    add_workspace_argument(v)
    v.set_defaults(handler=_verify)
    e = sub.add_parser("export", help="write the whole trail as CSV or JSON lines")
    add_workspace_argument(e)
    from appveto.report.registry import choices

    e.add_argument("--format", choices=choices("audit"), default="csv", help="csv (default) or jsonl")
    e.add_argument("--output", "-o", metavar="FILE", help="write here (default: standard output)")
    e.set_defaults(handler=_export)
    p.set_defaults(handler=lambda _args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _verify(args: argparse.Namespace) -> int:
    from appveto.cli._io import printable
    from appveto.fleet.workspace import load_workspace
    from appveto.web import audit

    with load_workspace(args.workspace).open_store() as store:
        result = audit.verify(store.engine)
    if result.ok:
        sys.stdout.write(f"audit trail intact: {result.entries} entries, each hash covers the one before\n")
        return 0
    for problem in result.problems:
        sys.stdout.write(printable(problem) + "\n")
    sys.stdout.write(f"audit trail TAMPERED: {len(result.problems)} problem(s) in {result.entries} entries\n")
    return 1


def _export(args: argparse.Namespace) -> int:
    from appveto.cli._io import workspace_guard, write_output
    from appveto.fleet.workspace import load_workspace
    from appveto.report import registry
    from appveto.web import audit

    with load_workspace(args.workspace).open_store() as store:
        text = registry.render("audit", args.format, audit.trail(store.engine))
    write_output(text, args.output, guard=workspace_guard(args))
    return 0
