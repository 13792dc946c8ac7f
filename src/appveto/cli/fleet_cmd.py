"""``appveto fleet import`` and ``appveto directory import``.

Other ``fleet`` subcommands (evaluate, impact, explain, notices) live in their own
modules and attach to the same ``fleet`` group through :func:`fleet_group`; they reach
the store through :func:`add_store_arguments` and :func:`open_store`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.fleet.model import ImportSummary
    from appveto.fleet.store import Store

MAX_SHOWN_ISSUES = 20
"""Issues printed per file; all of them are counted, and up to 1,000 kept in the import log."""


def _group(subparsers: Any, name: str, help_text: str) -> Any:
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(handler=lambda _args, p=parser: _usage(p))
        parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", parser_class=type(parser))
    for action in parser._actions:  # the group's own subparsers action
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise AssertionError(f"'{name}' is registered without subcommands")  # pragma: no cover


def fleet_group(subparsers: Any) -> Any:
    """The subparsers of ``appveto fleet`` (created on first use), to add subcommands to."""
    return _group(subparsers, "fleet", "monitor the device fleet: import inventories, evaluate, report")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workspace DIR`` and ``--db URL``: where the store is (see :func:`open_store`)."""
    from appveto.cli._io import add_workspace_argument

    add_workspace_argument(parser)
    parser.add_argument(
        "--db",
        metavar="URL",
        help="use this store instead of the workspace's (postgresql://... or sqlite:///file)",
    )


def open_store(args: argparse.Namespace) -> Store:
    """The store named by ``--db``, else the one in the workspace's appveto.toml."""
    from appveto.fleet.store import Store
    from appveto.fleet.workspace import load_workspace

    if args.db:
        return Store.open(args.db)
    return load_workspace(args.workspace).open_store()


def parse_date(value: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time (UTC when it has no offset)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {value!r} (use YYYY-MM-DD or an ISO 8601 date-time)"
        ) from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def register(subparsers: Any) -> None:
    from appveto.fleet.importers import IMPORTERS

    sources = "\n".join(f"  {k:<13} {v.title}" for k, v in IMPORTERS.items())
    imp = fleet_group(subparsers).add_parser(
        "import",
        help="import MDM inventory exports as one dated snapshot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import inventory files of one source as one dated snapshot, in one transaction. "
        "Bad rows are reported with file:line and counted; a file that is not of the source "
        f"refuses the whole import (exit 2, nothing stored).\n\nsources:\n{sources}",
    )
    imp.add_argument(
        "--source",
        "-s",
        required=True,
        choices=sorted(IMPORTERS),
        metavar="SOURCE",
        help="the inventory source (listed below)",
    )
    imp.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="an export file, or a folder: every file directly in it (e.g. one plist per device)",
    )
    imp.add_argument(
        "--at",
        "--now",
        dest="at",
        type=parse_date,
        metavar="DATE",
        help="the date of the snapshot (default: now)",
    )
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check everything, report what would be imported, store nothing",
    )
    imp.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=0,
        metavar="N",
        help="worker processes reading the files (default 0: one per core when there are several "
        "large files; 1: read everything in this process). The result is the same either way.",
    )
    add_store_arguments(imp)
    imp.set_defaults(handler=_run_fleet_import)

    d = _group(subparsers, "directory", "manage the staff directory (people, units, roles, authorities)")
    dimp = d.add_parser(
        "import",
        help="replace the stored directory with a CSV, JSON or SCIM 2.0 file",
        description="Replace the stored directory (people, org units, roles, authorities, device holders) "
        "with FILE, in one transaction. See docs/fleet.md for the formats.",
    )
    dimp.add_argument("file", metavar="FILE", type=Path, help="the directory file (JSON, CSV or LDIF)")
    dimp.add_argument(
        "--format",
        "-f",
        choices=("csv", "json", "scim"),
        help="the file's format (default: from its extension and content)",
    )
    add_store_arguments(dimp)
    dimp.set_defaults(handler=_run_directory_import)


MAX_LISTED_FILES = 20
"""With more files than this, only the files with problems get a line of their own."""


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the files directly in it (sorted, hidden ones skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")))
        else:
            out.append(p)
    return out


def _print_summary(summary: ImportSummary) -> None:
    """Every line through the terminal rule: issues quote values from the files."""
    from appveto.cli._io import printable

    out, err = sys.stdout, sys.stderr
    quiet = len(summary.files) > MAX_LISTED_FILES
    for f in summary.files:
        if quiet and not f.issues_total:
            continue
        err.writelines(
            printable(f"appveto: warning: {issue}") + "\n" for issue in f.issues[:MAX_SHOWN_ISSUES]
        )
        more = f.issues_total - min(len(f.issues), MAX_SHOWN_ISSUES)
        if more > 0:
            err.write(
                printable(f"appveto: warning: {f.file}: ... and {more} more (see the import log)") + "\n"
            )
        if summary.kind == "directory":
            out.write(printable(f"{f.file}: {f.rows_ok} people imported, {f.rows_bad} bad entries") + "\n")
        else:
            out.write(
                printable(
                    f"{f.file}: {f.rows_ok} rows imported, {f.rows_bad} bad, {f.rows_skipped} skipped, "
                    f"{f.devices} devices"
                )
                + "\n"
            )


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}") from None
    if not 0 <= n <= 256:
        raise argparse.ArgumentTypeError(f"--jobs must be between 0 and 256, not {n}")
    return n


def _run_fleet_import(args: argparse.Namespace) -> int:
    from appveto.errors import FleetError
    from appveto.fleet.ingest import import_inventory

    at = args.at or datetime.now(UTC)
    files = _expand(args.files)
    if not files:
        raise FleetError(f"no files to import in {', '.join(str(p) for p in args.files)}")
    with open_store(args) as store:
        summary = import_inventory(store, args.source, files, at=at, dry_run=args.dry_run, jobs=args.jobs)
    _print_summary(summary)
    n = len(summary.files)
    rate = summary.rows_ok / summary.seconds if summary.seconds > 0 else 0.0
    label = "dry run, nothing stored" if args.dry_run else f"snapshot {summary.snapshot_id}"
    sys.stdout.write(
        f"{label} ({summary.source}, {at.strftime('%Y-%m-%dT%H:%M:%SZ')}): "
        f"{summary.rows_ok} rows from {summary.devices} devices in {n} file{'s' if n != 1 else ''}, "
        f"{summary.rows_bad} bad, {summary.rows_skipped} skipped; "
        f"{summary.seconds:.1f} s ({rate:,.0f} rows/s)\n"
    )
    return 0


def _run_directory_import(args: argparse.Namespace) -> int:
    from appveto.fleet.directory import read_directory
    from appveto.fleet.ingest import import_directory

    parsed = read_directory(args.file, args.format, display=str(args.file))
    with open_store(args) as store:
        summary = import_directory(
            store,
            parsed.directory,
            file=parsed.file,
            source=parsed.format,
            issues=parsed.issues,
            rows_bad=parsed.rows_bad,
        )
    _print_summary(summary)
    d = parsed.directory
    sys.stdout.write(
        f"directory ({parsed.format}): {len(d.people)} people, {len(d.org_units)} org units, "
        f"{len(d.roles)} roles, {len(d.authorities)} authorities, {len(d.systems)} systems, "
        f"{len(d.networks)} network zones, {sum(len(p.devices) for p in d.people)} device holdings "
        f"({len(d.device_platforms)} with their platform)\n"
    )
    return 0
