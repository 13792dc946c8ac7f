"""``appveto init DIR``: create a workspace (appveto.toml, policies/, the store)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "init",
        help="create a workspace (appveto.toml, policies/, the store)",
        description="Create a workspace in DIR: appveto.toml, policies/ and the fleet store (a SQLite "
        "file by default, or a PostgreSQL database with --db). Existing files are never "
        "overwritten: an existing workspace is refused.",
    )
    p.add_argument("dir", metavar="DIR", type=Path, help="the workspace folder (created if missing)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", metavar="URL", help="store in this database, e.g. postgresql://user@host/appveto")
    g.add_argument(
        "--store-path", metavar="PATH", help="SQLite file inside the workspace (default appveto.db)"
    )
    p.add_argument("--name", help="the workspace's name (default: the folder's name)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from appveto.fleet.workspace import init_workspace

    ws = init_workspace(args.dir, db=args.db, store_path=args.store_path, name=args.name)
    sys.stdout.write(
        f"created workspace {ws.name!r} in {args.dir}\n"
        f"  config:   {ws.config_path.name}\n"
        f"  policies: {ws.policies_dir.name}/\n"
        f"  store:    {_shown(ws.store_url)}\n"
    )
    return 0


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
