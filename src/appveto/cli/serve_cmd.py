"""``appveto serve``: the security office's shared workspace (see docs/serve.md).

``appveto serve -w WS [--host --port]`` runs the web server (FastAPI under uvicorn) over
the workspace's store; ``--create-admin NAME`` creates an administrator account instead,
with a password read from the terminal (twice) or the first line of standard input.
There is no default account and no default password.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from appveto.errors import AppvetoError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the shared web workspace (vetting workflow, roles, audit trail, JSON API)",
        description="Serve the workspace to the security office: upload apps, watch them scanned, review "
        "findings, recommend and decide (NIST SP 800-163), with accounts, roles, API tokens and a "
        "hash-chained audit trail. Pages at /, the JSON API under /api/ (OpenAPI at /api/openapi.json). "
        "Create the first administrator with --create-admin NAME.",
    )
    from appveto.cli._io import add_workspace_argument

    add_workspace_argument(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--max-upload-mb", type=int, default=200, metavar="MB", help="largest upload accepted (default 200)"
    )
    p.add_argument(
        "--scan-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="a scan running longer is stopped and recorded as timed out (default 600)",
    )
    p.add_argument(
        "--insecure-cookies",
        action="store_true",
        help="send cookies over plain HTTP to other hosts than localhost (testing only; "
        "put TLS in front of the server instead)",
    )
    p.add_argument(
        "--create-admin",
        metavar="NAME",
        help="create an administrator account NAME (password from the terminal or the first line of "
        "standard input) and exit",
    )
    p.set_defaults(handler=_run)


def _password() -> str:
    try:
        if sys.stdin.isatty():
            first = getpass.getpass("password (at least 12 characters): ")
            if getpass.getpass("again: ") != first:
                raise AppvetoError("the two passwords differ; nothing was created")
            return first
        line = sys.stdin.readline()
    except (OSError, ValueError, EOFError) as exc:
        raise AppvetoError(
            f"cannot read the password from standard input ({exc}); nothing was created"
        ) from None
    if not line:
        raise AppvetoError("no password on standard input; nothing was created")
    return line.rstrip("\r\n")


def _run(args: argparse.Namespace) -> int:
    from appveto.fleet.workspace import load_workspace

    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise AppvetoError(
            f"appveto serve needs its optional dependencies ({exc.name} is missing): "
            "pip install 'appveto[serve]'"
        ) from None
    ws = load_workspace(args.workspace)
    if args.create_admin is not None:
        from appveto.web.access import Role
        from appveto.web.accounts import create_account, now_utc

        password = _password()
        with ws.open_store() as store, store.engine.begin() as conn:
            create_account(conn, args.create_admin, password, {Role.ADMIN}, actor="cli", now=now_utc())
        sys.stdout.write(f"created administrator {args.create_admin.strip().lower()!r}\n")
        return 0
    if not 0 < args.port < 65536:
        raise AppvetoError(f"--port {args.port}: not a TCP port")
    if args.max_upload_mb < 1:
        raise AppvetoError("--max-upload-mb must be at least 1")
    import uvicorn

    from appveto.web.app import Settings, create_app

    app = create_app(
        ws,
        Settings(
            max_upload=args.max_upload_mb * 1024 * 1024,
            scan_timeout=args.scan_timeout,
            secure_cookies=not args.insecure_cookies,
        ),
    )
    sys.stdout.write(f"appveto serve: workspace {ws.name!r} on http://{args.host}:{args.port}/\n")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    return 0
