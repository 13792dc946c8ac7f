"""``appveto data update|status``: reference data in the user's data dir."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "data",
        help="update or show the reference data (tracker list, permission maps)",
        description="Reference data: the baseline shipped with appveto and what 'update' downloaded.",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", help="data folder (default $APPVETO_DATA_DIR or the XDG data dir)"
    )
    s = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    up = s.add_parser(
        "update",
        help="download the Exodus tracker list and the permission maps, or store a list given with --from",
        description="Download the reference data into the data folder, or (--from) store an Exodus "
        "tracker list carried in by hand, for sites without internet access. Each file is validated "
        "before it replaces the previous copy.",
    )
    up.add_argument("--timeout", type=float, default=30.0, help="seconds per download (default 30)")
    up.add_argument("--exodus-url", metavar="URL", help="alternative URL of the Exodus tracker API")
    up.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="store this Exodus tracker list (the answer of "
        "https://reports.exodus-privacy.eu.org/api/trackers saved elsewhere) instead of downloading",
    )
    up.set_defaults(handler=run_update)
    st = s.add_parser("status", help="list every dataset with source, licence, date and SHA-256")
    st.add_argument(
        "--entities",
        action="append",
        default=[],
        metavar="FILE",
        help="also validate and list a user entity file (domains -> company -> country); repeatable",
    )
    st.set_defaults(handler=run_status)


def _dir(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from appveto.kb.load import default_data_dir

    return Path(args.data_dir) if args.data_dir else default_data_dir()


def run_update(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import replace
    from datetime import UTC, datetime
    from pathlib import Path

    from appveto.kb.update import DEFAULT_SOURCES, update, update_from_file

    directory = _dir(args)
    if args.from_file:
        if args.exodus_url:
            sys.stderr.write("appveto data update: --from and --exodus-url exclude each other\n")
            return 2
        rows = update_from_file(directory, Path(args.from_file), now=datetime.now(UTC))
        return _print_rows(rows, directory)
    sources = DEFAULT_SOURCES
    if args.exodus_url:
        sources = tuple(
            replace(s, url=args.exodus_url) if s.kind == "exodus-trackers" else s for s in sources
        )
    rows = update(directory, now=datetime.now(UTC), sources=sources, timeout=args.timeout)
    return _print_rows(rows, directory)


def _print_rows(rows: Any, directory: Any) -> int:
    import sys

    from appveto.cli._io import printable

    for r in rows:
        sys.stdout.write(printable(f"{r.name}: {r.file} sha256={r.sha256[:16]}… from {r.source}") + "\n")
    sys.stdout.write(printable(f"stored in {directory}") + "\n")
    return 0


def run_status(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from appveto.cli._io import printable
    from appveto.kb.load import load_kb

    kb = load_kb(_dir(args), user_entities=tuple(Path(f) for f in args.entities))
    for d in kb.datasets:  # names, dates, licences and sources come from the files
        for line in (
            f"{d.name} [{d.origin}] {d.records} records, date {d.date}, licence {d.licence}",
            f"    sha256 {d.sha256}",
            f"    source {d.source}",
        ):
            sys.stdout.write(printable(line) + "\n")
    return 0
