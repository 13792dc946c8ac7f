"""``appveto export TARGET --policies DIR [--decision ID] [--zone ZONE] [--at DATE] [--output FILE]``.

``appveto export all --policies DIR --output FOLDER`` writes every target for every
decision, with a README saying where each file goes and its caveats.
"""

from __future__ import annotations

import argparse
from typing import Any

from appveto.cli._io import add_policy_options, policies_dir

ALL = "all"


def _choices() -> list[str]:
    from appveto.export.registry import EXPORTERS

    return [*EXPORTERS, ALL]


def _description() -> str:
    """The targets in words, from the export registry (a new target is listed by itself)."""
    from appveto.export.registry import EXPORTERS

    targets = "; ".join(f"{e.name}: {e.title.split(' (')[0]}" for e in EXPORTERS.values())
    return (
        f"Render a decision into the file an enforcement tool takes ({targets}; {ALL}: every target, "
        "with a README). The same policies and --at date give the same bytes."
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="turn a ban decision into MDM payloads and DNS blocklists",
        description=_description(),
    )
    p.add_argument("target", choices=_choices(), metavar="TARGET", help=f"one of: {', '.join(_choices())}")
    add_policy_options(p)
    p.add_argument("--decision", metavar="ID", help="decision id (required when the folder holds several)")
    p.add_argument("--zone", metavar="ZONE", help="DNS targets: only this network zone of the decision")
    p.add_argument(
        "--at", "--now", dest="at", metavar="DATE", help="state of the policies on this date (default: today)"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="output file (a folder for 'all'); default stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from datetime import date

    from appveto import __version__
    from appveto.errors import AppvetoError
    from appveto.export.adapter import export_date, target_for
    from appveto.export.registry import EXPORTERS
    from appveto.kb.load import load_kb
    from appveto.policy.load import load_policies

    if args.policies is None and args.workspace is None:
        args.workspace = "."  # the policies are the current folder's workspace's
    args.policies = policies_dir(args)
    at = export_date(args.at, default=date.today())
    generator = f"appveto {__version__}"
    policies = load_policies(args.policies)
    kb = load_kb()

    if args.target == ALL:
        return _run_all(args, policies, at, generator, kb)

    decision_id = args.decision
    if decision_id is None:
        ids = sorted(d.id for d in policies.decisions)
        if len(ids) != 1:
            raise AppvetoError(
                f"{args.policies}: holds {len(ids)} decisions; choose one with --decision "
                f"({', '.join(ids) or 'none'})"
            )
        decision_id = ids[0]
    exporter = EXPORTERS[args.target]
    if args.zone is not None and not exporter.network:
        raise AppvetoError(f"--zone applies to DNS targets only, not to '{args.target}'")
    target = target_for(policies, decision_id, at=at, generator=generator, kb=kb)
    artifact = exporter.export(target, zone=args.zone)

    from appveto.cli._io import write_output

    write_output(artifact.content, args.output, guard=_guard(args))
    from appveto.cli._io import printable

    for line in (*target.notes, *artifact.caveats):
        sys.stderr.write(printable(f"appveto: note: {line}") + "\n")
    sys.stderr.write(printable(f"appveto: note: where it goes: {artifact.destination}") + "\n")
    return 0


_MAX_NOTES = 5
"""Skip notes printed by ``export all``; the bundle's README lists every one."""


def _run_all(args: argparse.Namespace, policies: Any, at: Any, generator: str, kb: Any) -> int:
    import sys
    from pathlib import Path

    from appveto.cli._io import printable
    from appveto.errors import AppvetoError
    from appveto.export.adapter import targets_from_policies
    from appveto.export.bundle import build_bundle
    from appveto.outputs.files import OutputFolder

    if not args.output or args.output == "-":
        raise AppvetoError("export all writes a folder: give it with --output FOLDER")
    if args.zone is not None:
        raise AppvetoError("--zone is not used by export all (every zone of every decision is exported)")
    ids = [args.decision] if args.decision else None
    targets, skipped = targets_from_policies(policies, at=at, generator=generator, decision_ids=ids, kb=kb)
    bundle = build_bundle(targets, generator=generator, skipped_decisions=skipped)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise AppvetoError(f"{folder}: exists and is not a folder")
    policy_root = Path(args.policies).resolve()
    if folder.resolve() == policy_root or policy_root in folder.resolve().parents:
        raise AppvetoError(f"{folder}: is inside the policy folder {args.policies}; write elsewhere")
    for rel, content in bundle.files:
        if rel == "README.md":  # the other files sit in folders named after the decisions
            _refuse_foreign(folder / rel, content)
    # the one writer: atomic files, never over a policy file, no symbolic link followed
    with OutputFolder(folder, guard=_guard(args)) as out:
        for rel, content in bundle.files:
            out.write(rel, content)
    shown = bundle.skipped[:_MAX_NOTES]
    for s in shown:
        sys.stderr.write(
            printable(f"appveto: note: not exported: {s.decision_id} ({s.target}): {s.reason}") + "\n"
        )
    if len(bundle.skipped) > len(shown):
        sys.stderr.write(
            f"appveto: note: ... and {len(bundle.skipped) - len(shown)} more not exported "
            f"(every one, with the reason, is listed in {printable(str(folder / 'README.md'))})\n"
        )
    sys.stderr.write(
        f"appveto: wrote {len(bundle.files)} files for {len(targets)} decisions to {printable(str(folder))} "
        f"({len(bundle.skipped)} skipped; see README.md)\n"
    )
    return 0


def _refuse_foreign(path: Any, content: bytes) -> None:
    """Refuse to replace a README.md the user wrote (``--output .`` in a project): an existing
    one is replaced only when its first line is the one appveto writes there."""
    import os
    import stat

    from appveto.errors import AppvetoError

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return  # a link, a FIFO...: the writer refuses or writes into it, never reads here
        with open(path, "rb") as fh:
            first = fh.readline(4096)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise AppvetoError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if first.rstrip(b"\r\n") != content.split(b"\n", 1)[0].rstrip(b"\r"):
        raise AppvetoError(
            f"{path}: exists and was not written by appveto export; choose a new or empty folder"
        )


def _policy_inputs(directory: str) -> list[str]:
    from pathlib import Path

    from appveto.policy.load import policy_files

    return [str(p) for p in policy_files(Path(directory))]


def _guard(args: Any) -> Any:
    """Never write over what the command reads: the policy files and folder, and the
    workspace (its configuration and store) when the policies are the workspace's."""
    from pathlib import Path

    from appveto.cli._io import workspace_guard
    from appveto.outputs.files import Guard

    return workspace_guard(args, policies=Path(args.policies)) | Guard.of(
        _policy_inputs(args.policies), folders=[args.policies]
    )
