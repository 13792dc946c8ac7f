"""``appveto policy check|lint|show|timeline|diff``: ban decisions kept as YAML files.

Exit codes: 0 valid (and, for ``lint``, no warning unless ``--strict``); 1 ``lint
--strict`` found warnings; 2 a policy folder has errors or an argument is wrong.
Every command that depends on the date takes ``--at YYYY-MM-DD`` (default: today) so
its output can be reproduced.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from appveto.cli._io import add_policy_options, policies_dir, write_output
from appveto.cli._io import encodable as _encodable
from appveto.cli._io import printable as _printable
from appveto.report.registry import render


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"out of range (0-36500): {value}")
    return value


def register(sub: Any) -> None:
    from appveto.report.registry import choices

    p = sub.add_parser(
        "policy",
        help="check, lint, show and compare ban decisions kept as YAML files",
        description="Ban decisions as versioned YAML files: one decision per file, plus authorities.",
    )
    psub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")

    def policy_folder(parser: argparse.ArgumentParser, workspace_help: str | None = None) -> None:
        parser.add_argument(
            "directory", nargs="?", metavar="DIR", help="the policy folder (same as --policies DIR)"
        )
        add_policy_options(parser, workspace_help=workspace_help)

    def at_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--at",
            "--now",
            dest="at",
            type=_day,
            metavar="DATE",
            help="evaluate on this date (YYYY-MM-DD; default today)",
        )

    c = psub.add_parser("check", help="validate a policy folder (exit 0 valid, 2 with errors)")
    policy_folder(
        c,
        workspace_help="the workspace: its policies/ folder is read (unless DIR or --policies is given) "
        "and every unit, role, system and network zone the decisions name is checked against its "
        "directory (each one it does not have is an error)",
    )
    c.add_argument("--db", metavar="URL", help="the same, against the directory in this store")
    c.set_defaults(handler=_from_policies(run_check))

    lint = psub.add_parser("lint", help="warnings: expiries, exceptions, conflicts, pending adoptions")
    policy_folder(lint)
    at_option(lint)
    lint.add_argument(
        "--soon", type=_days, default=30, metavar="DAYS", help="warn about expiries within DAYS (default 30)"
    )
    lint.add_argument("--strict", action="store_true", help="exit 1 when there is any warning")
    lint.add_argument(
        "--format", choices=choices("policy-lint"), default="text", help="output format (default text)"
    )
    lint.set_defaults(handler=_from_policies(run_lint))

    show = psub.add_parser("show", help="the decisions as they stand on a date, or one in detail")
    policy_folder(show)
    show.add_argument("decision", nargs="?", metavar="ID", help="one decision to show in detail")
    at_option(show)
    show.add_argument(
        "--format", choices=choices("policy-show"), default="text", help="output format (default text)"
    )
    show.set_defaults(handler=_from_policies(run_show))

    tl = psub.add_parser("timeline", help="deadlines, expiries and renewals due in a window")
    policy_folder(tl)
    at_option(tl)
    tl.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day (default: --at)")
    tl.add_argument("--days", type=_days, default=90, help="length of the window in days (default 90)")
    tl.add_argument(
        "--review-days",
        type=_days,
        default=30,
        help="remind of a renewal this many days before an expiry (default 30)",
    )
    tl.add_argument(
        "--format", choices=choices("timeline"), default="text", help="output format (default text)"
    )
    tl.set_defaults(handler=_from_policies(run_timeline))

    df = psub.add_parser(
        "diff",
        help="what a revision changed, in words",
        description="Compare two policy folders (OLD NEW), or a folder in git with one of its "
        "revisions (--rev REV DIR: the folder at REV against the working tree).",
    )
    df.add_argument("folders", nargs="+", metavar="DIR", help="OLD NEW, or one DIR with --rev")
    df.add_argument("--rev", metavar="REV", help="git revision of DIR to compare with (e.g. HEAD~1)")
    df.add_argument(
        "--format", choices=choices("policy-diff"), default="text", help="output format (default text)"
    )
    df.set_defaults(handler=run_diff)

    sc = psub.add_parser("schema", help="print the JSON Schema of a policy file (for editors)")
    sc.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    sc.set_defaults(handler=run_schema)

    def no_sub(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(handler=no_sub)


def _today(args: argparse.Namespace) -> date:
    at: date | None = getattr(args, "at", None)
    return at if at is not None else date.today()


def _load(directory: str) -> Any:
    from appveto.policy.load import load_policies

    return load_policies(directory)


def _report_errors(exc: Any) -> int:
    diags = exc.diagnostics()
    for d in diags:
        sys.stderr.write(f"{_printable(str(d))}\n")
    sys.stderr.write(f"appveto: {len(diags)} error{'s' if len(diags) != 1 else ''} in the policy files\n")
    return 2


def _emit(text: str) -> None:
    sys.stdout.write(_encodable(text if text.endswith("\n") or not text else text + "\n"))


# --------------------------------------------------------------------------- handlers


def _from_policies(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The handler, reading the folder named by DIR, --policies or the workspace."""

    def run(args: argparse.Namespace) -> int:
        args.directory = policies_dir(args, args.directory)
        return handler(args)

    return run


def run_check(args: argparse.Namespace) -> int:
    from appveto.errors import PolicyError

    try:
        ps = _load(args.directory)
    except PolicyError as exc:
        return _report_errors(exc)
    summary = f"{args.directory}: {len(ps.decisions)} decisions, {len(ps.authorities)} authorities: valid"
    if args.workspace is not None or args.db is not None:
        gaps = _directory_gaps(args, ps)
        if gaps is None:
            return 2
        for x in gaps:
            sys.stderr.write(f"{_printable(str(x))}\n")
        if gaps:
            n = len(gaps)
            sys.stderr.write(
                f"appveto: {n} name{'s' if n != 1 else ''} in the policy files "
                f"{'are' if n != 1 else 'is'} not in the workspace's directory\n"
            )
            return 2
        summary += ", and every unit, role, system and network zone named is in the directory"
    _emit(_printable(summary))
    return 0


def _directory_gaps(args: argparse.Namespace, ps: Any) -> list[Any] | None:
    """What the policies name that the workspace's directory does not have (None: no directory)."""
    from pathlib import Path

    from appveto.compliance.coverage import DirectoryNames, policy_gaps
    from appveto.fleet.store import Store
    from appveto.fleet.workspace import load_workspace

    store = Store.open(args.db) if args.db else load_workspace(Path(args.workspace)).open_store()
    with store:
        if not store.counts().people:
            sys.stderr.write(
                f"appveto: error: {store.url}: the workspace holds no directory yet "
                "(appveto directory import FILE -w WS)\n"
            )
            return None
        names = DirectoryNames.of(
            ps,
            authorities=store.authorities(),
            org_units=store.org_units(),
            roles=store.roles(),
            systems=store.systems(),
            networks=store.networks(),
        )
    return policy_gaps(ps, names)


def run_lint(args: argparse.Namespace) -> int:
    from appveto.errors import PolicyError
    from appveto.policy.lint import lint

    try:
        ps = _load(args.directory)
    except PolicyError as exc:
        return _report_errors(exc)
    warnings = lint(ps, at=_today(args), soon_days=args.soon)
    write_output(render("policy-lint", args.format, warnings, at=_today(args)), None)
    return 1 if warnings and args.strict else 0


def run_show(args: argparse.Namespace) -> int:
    from appveto.errors import PolicyError
    from appveto.policy.resolve import resolve, resolve_all

    try:
        ps = _load(args.directory)
        at = _today(args)
        resolved = (resolve(ps, args.decision, at=at),) if args.decision else resolve_all(ps, at=at)
    except PolicyError as exc:
        return _report_errors(exc)
    write_output(render("policy-show", args.format, resolved, at=at, one=bool(args.decision)), None)
    return 0


def run_timeline(args: argparse.Namespace) -> int:
    from appveto.errors import PolicyError
    from appveto.policy.timeline import timeline

    try:
        ps = _load(args.directory)
    except PolicyError as exc:
        return _report_errors(exc)
    start = args.start or _today(args)
    events = timeline(ps, start=start, days=args.days, review_days=args.review_days)
    write_output(render("timeline", args.format, events, start=start, days=args.days), None)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from appveto.errors import PolicyError
    from appveto.policy.diff import diff_policies

    if args.rev is not None and len(args.folders) != 1:
        sys.stderr.write("appveto: error: with --rev give exactly one policy folder\n")
        return 2
    if args.rev is None and len(args.folders) != 2:
        sys.stderr.write("appveto: error: give two policy folders: OLD NEW (or --rev REV DIR)\n")
        return 2
    try:
        if args.rev is not None:
            old = _load_revision(args.folders[0], args.rev)
            new = _load(args.folders[0])
        else:
            old = _load(args.folders[0])
            new = _load(args.folders[1])
    except PolicyError as exc:
        return _report_errors(exc)
    changes = diff_policies(old, new)
    write_output(render("policy-diff", args.format, changes), None)
    return 0


def _load_revision(directory: str, rev: str) -> Any:
    """The policy folder ``directory`` as it was at git revision ``rev``."""
    import io
    import subprocess
    import tarfile
    import tempfile
    from pathlib import Path

    from appveto.errors import PolicyError
    from appveto.policy.load import load_documents, policy_files

    if rev.startswith("-"):
        raise PolicyError(f"not a git revision: {rev!r}")

    def git(*argv: str, cwd: str = directory) -> bytes:
        try:
            done = subprocess.run(["git", "-C", cwd, *argv], capture_output=True, check=False, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PolicyError(f"{directory}: git failed: {exc}") from None
        if done.returncode != 0:
            msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PolicyError(f"{directory}: git {argv[0]}: {msg[-1] if msg else 'failed'}")
        return done.stdout

    top = git("rev-parse", "--show-toplevel").decode("utf-8", "replace").strip()
    prefix = git("rev-parse", "--show-prefix").decode("utf-8", "replace").strip()
    data = git("archive", "--format=tar", f"{rev}:{prefix}" if prefix else rev, cwd=top)
    with tempfile.TemporaryDirectory(prefix="appveto-rev-") as tmp:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise PolicyError(f"{directory} at {rev}: cannot read: {exc}") from None
        root = Path(tmp)
        files = policy_files(root)
        if not files:
            raise PolicyError(f"{directory}: no policy files at {rev}")
        return load_documents([(p, f"{rev}:{Path(directory) / p.relative_to(root)}") for p in files])


def run_schema(args: argparse.Namespace) -> int:
    from appveto.cli._io import write_output
    from appveto.policy.schema import policy_json_schema

    write_output(json.dumps(policy_json_schema(), indent=2, sort_keys=True, ensure_ascii=False), args.output)
    return 0
