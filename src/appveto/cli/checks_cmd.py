"""``appveto checks [show ID | docs --output DIR]``: the check registry."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "checks",
        help="list the checks, show one, or generate their documentation",
        description="List every check with its stable ID, or show one check's documentation.",
    )
    p.add_argument("--all", action="store_true", help="include removed checks")
    p.set_defaults(handler=run_list)
    s = p.add_subparsers(dest="checks_command", metavar="SUBCOMMAND")
    show = s.add_parser("show", help="print one check's documentation")
    show.add_argument("id", metavar="ID", help="check ID (AV-PERM-001) or slug")
    show.set_defaults(handler=run_show)
    docs = s.add_parser("docs", help="write one Markdown page per check")
    docs.add_argument(
        "--output", "-o", required=True, metavar="DIR", help="folder to write (e.g. docs/checks)"
    )
    docs.add_argument("--check", action="store_true", help="only report stale or missing pages (exit 1)")
    docs.set_defaults(handler=run_docs)


def run_list(args: argparse.Namespace) -> int:
    import sys

    from appveto.checks.registry import Status, all_checks

    rows = [c for c in all_checks() if args.all or c.status is Status.ACTIVE]
    for c in rows:
        status = "" if c.status is Status.ACTIVE else f" [{c.status}]"
        sys.stdout.write(f"{c.id:12} {c.severity:8} {c.slug:34} {c.title}{status}\n")
    return 0


def run_show(args: argparse.Namespace) -> int:
    import sys

    from appveto.checks.docs import render_page
    from appveto.checks.registry import get_check
    from appveto.errors import AppvetoError

    c = get_check(args.id)
    if c is None:
        raise AppvetoError(f"unknown check '{args.id}' (see 'appveto checks')")
    sys.stdout.write(render_page(c))
    return 0


def run_docs(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from appveto.checks.docs import render_all
    from appveto.checks.registry import all_checks
    from appveto.outputs.files import OutputFolder

    pages = render_all(all_checks())
    out = Path(args.output)
    if args.check:
        stale = [
            n
            for n, text in sorted(pages.items())
            if not (out / n).is_file() or (out / n).read_text("utf-8") != text
        ]
        for n in stale:
            sys.stderr.write(f"appveto: stale or missing: {out / n}\n")
        return 1 if stale else 0
    with OutputFolder(out) as folder:  # the one writer: atomic, no symbolic link followed
        for name, text in sorted(pages.items()):
            folder.write(name, text if text.endswith("\n") else text + "\n")
        written = len(folder.written)
    sys.stderr.write(f"wrote {written} files to {out}\n")
    return 0
