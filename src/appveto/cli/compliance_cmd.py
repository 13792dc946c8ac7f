"""``appveto fleet evaluate|impact|explain|notices`` and ``appveto demo-data``.

The ``fleet`` subcommands attach to the group that :mod:`appveto.cli.fleet_cmd` creates
(:func:`fleet_group` creates it on first use, so registration order does not matter) and
reach the store through its ``--workspace``/``--db`` options. Policies come from the
workspace's ``policies/`` folder unless ``--policies DIR`` is given.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appveto.cli._io import printable, workspace_guard, write_output
from appveto.cli.fleet_cmd import add_store_arguments, fleet_group, open_store
from appveto.outputs.files import Guard

if TYPE_CHECKING:
    from appveto.compliance.model import Evaluation, ScanFacts
    from appveto.policy.model import PolicySet

GATES = ("violation", "overdue", "unknown", "limitation")
"""``fleet evaluate --fail-on`` values: what makes the command exit 1 (see :func:`gate`)."""


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _days(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}")
    return n


def _gates(value: str) -> tuple[str, ...]:
    items = tuple(x.strip() for x in value.split(",") if x.strip())
    bad = [x for x in items if x not in GATES]
    if not items or bad:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give one or more of {', '.join(GATES)} (separated by commas)"
        )
    return items


def _common(p: argparse.ArgumentParser) -> None:
    add_store_arguments(p)
    p.add_argument("--policies", type=Path, metavar="DIR", help="policy folder (default: the workspace's)")
    p.add_argument(
        "--at",
        "--now",
        dest="at",
        type=_day,
        metavar="DATE",
        help="evaluation day, YYYY-MM-DD (default: today, UTC)",
    )
    p.add_argument(
        "--apk",
        nargs="+",
        type=Path,
        default=[],
        metavar="APK",
        help="scan these APKs first, for decisions that select apps by signer or by scan result",
    )
    p.add_argument(
        "--stale-days",
        type=_days,
        default=30,
        metavar="N",
        help="an inventory older than N days at DATE makes a device 'unknown' (default: 30)",
    )


def register(subparsers: Any) -> None:
    from appveto.report.registry import choices

    group = fleet_group(subparsers)
    ev = group.add_parser("evaluate", help="evaluate the fleet against the policies in force on a date")
    _common(ev)
    ev.add_argument(
        "--format", choices=choices("evaluation"), default="text", help="output format (default text)"
    )
    ev.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of standard output")
    ev.add_argument(
        "--no-changes", action="store_true", help="skip the comparison with the previous snapshot"
    )
    ev.add_argument(
        "--fail-on",
        type=_gates,
        action="append",
        default=[],
        metavar="WHAT",
        help="exit 1 when the evaluation finds any of WHAT (comma-separated, or repeat the option): "
        "violation (a device must remove a banned app: violation, overdue or expired exception), "
        "overdue (past the remove-by deadline), unknown (a device in scope without a recent inventory, "
        "or a person in scope without a known device), limitation (anything the evaluation could not "
        "see). A decision naming a unit, role, system or network zone the directory does not have "
        "always exits 1",
    )
    ev.set_defaults(handler=_run_evaluate)

    im = group.add_parser("impact", help="people, devices and units a draft decision would touch")
    im.add_argument("policy", type=Path, metavar="POLICY", help="the draft decision file")
    _common(im)
    im.add_argument(
        "--format", choices=choices("impact"), default="text", help="output format (default text)"
    )
    im.add_argument("--list", type=int, default=50, metavar="N", help="list at most N people (default 50)")
    im.set_defaults(handler=_run_impact)

    ex = group.add_parser("explain", help="which decisions apply to a person or device, and why")
    who = ex.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", metavar="WHO", help="directory ID, e-mail address or user name")
    who.add_argument("--device", metavar="ID", help="MDM device ID, name, serial number or store ID")
    _common(ex)
    ex.set_defaults(handler=_run_explain)

    no = group.add_parser("notices", help="one notice per affected person, as Markdown and .eml")
    _common(no)
    no.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("notices"),
        metavar="DIR",
        help="folder to write (default notices)",
    )
    no.add_argument(
        "--sender",
        default="security-office@appveto.invalid",
        metavar="ADDRESS",
        help="the From address of the .eml notices (default security-office@appveto.invalid)",
    )
    no.add_argument(
        "--force",
        action="store_true",
        help="replace a same-named file in DIR that an earlier run did not write (by default such "
        "a person gets no notice and the error names the file; DIR/.appveto-written lists what "
        "the last run wrote, and its notices this run does not write again are removed)",
    )
    no.set_defaults(handler=_run_notices)

    demo = subparsers.add_parser(
        "demo-data",
        help="write a synthetic fleet (directory and MDM exports) into a new or empty folder",
    )
    demo.add_argument("out", type=Path, metavar="OUT", help="folder to write the directory and exports into")
    demo.add_argument(
        "--people", type=int, default=20_000, metavar="N", help="size of the administration (default 20000)"
    )
    demo.add_argument(
        "--seed", type=int, default=2023, help="seed of the generator: the same seed writes the same files"
    )
    demo.add_argument("--apps-per-device", type=int, metavar="N", help="exactly N apps per device")
    demo.add_argument(
        "--at",
        "--now",
        dest="at",
        type=_day,
        metavar="DATE",
        help="the day the exports are taken (report and enrolment times; default 2023-06-01)",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="write into OUT even when it holds files: same-named files are replaced, the files of "
        "an earlier demo-data run there (listed in OUT/.appveto-written) that this one does not "
        "write again are removed, other files are left as they are; symbolic links are still refused",
    )
    demo.add_argument(
        "--layouts",
        action="store_true",
        help="write the files in the layouts real exports come in, one per file in turn (pretty and "
        "compact JSON, CRLF, entities, byte-order marks, binary plists, names with commas and quotes)",
    )
    demo.set_defaults(handler=_run_demo)


def _writing(inner: Any) -> Any:
    """A handler whose file-system errors (output folder is a file, no permission) are exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            code: int = inner(args)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else "output"
            print(printable(f"appveto: error: {where}: {exc.strerror or exc}"), file=sys.stderr)
            return 2
        return code

    return run


def _policies_dir(args: argparse.Namespace) -> Path:
    if args.policies is not None:
        return Path(args.policies)
    from appveto.fleet.workspace import load_workspace

    return load_workspace(args.workspace).policies_dir


def _scans(args: argparse.Namespace) -> tuple[ScanFacts, ...]:
    if not args.apk:
        return ()
    from appveto.compliance.scans import scan_facts
    from appveto.kb import load_kb
    from appveto.scan import scan_many

    records = scan_many([str(p) for p in args.apk], load_kb(), now=datetime.now(UTC).replace(microsecond=0))
    facts: list[ScanFacts] = []
    for r in records:
        f = scan_facts(r)
        if r.error is not None:
            for line in r.error.splitlines():
                print(printable(f"appveto: warning: {line}"), file=sys.stderr)
        elif f is None:
            print(printable(f"appveto: warning: {r.file}: no package name; not used"), file=sys.stderr)
        else:
            facts.append(f)
    return tuple(facts)


def _guard(args: argparse.Namespace) -> Guard:
    """What the command reads and so never writes over or into: the workspace (its
    configuration, store and policy folder), ``--policies`` and the APKs."""
    return workspace_guard(args, policies=args.policies) | Guard.of(args.apk)


def _load(args: argparse.Namespace) -> tuple[PolicySet, date, timedelta]:
    from appveto.policy import load_policies

    at = args.at or datetime.now(UTC).date()
    return load_policies(_policies_dir(args)), at, timedelta(days=args.stale_days)


def _run_evaluate_inner(args: argparse.Namespace) -> int:
    from appveto.compliance.evaluate import evaluate

    policies, at, stale = _load(args)
    from appveto.fleet.queries import StoreFleet

    with open_store(args) as store:
        ev = evaluate(
            policies, StoreFleet(store), _scans(args), at=at, stale_after=stale, changes=not args.no_changes
        )
    from appveto.report.registry import render

    write_output(render("evaluation", args.format, ev), args.output, guard=_guard(args))
    tripped = gate(ev, {g for group in args.fail_on for g in group})
    for reason in tripped:
        print(printable(f"appveto: {reason}"), file=sys.stderr)
    return 1 if tripped else 0


def _incomplete(missing: int) -> str:
    return (
        f"the evaluation is incomplete: {missing} name{'s' if missing != 1 else ''} in the decisions in "
        f"force {'are' if missing != 1 else 'is'} not in the directory (units, roles, systems or network "
        "zones; see the limitations)"
    )


def gate(ev: Evaluation, fail_on: set[str]) -> list[str]:
    """Why ``fleet evaluate`` exits 1: names the directory lacks (always), then each ``--fail-on``
    gate that the evaluation trips, in words (empty: exit 0)."""
    from appveto.compliance.model import ACTION_STATUSES, Status

    out = []
    if ev.missing:
        out.append(_incomplete(len(ev.missing)))

    def devices(statuses: set[Status]) -> int:
        return len({r.device_key for r in ev.results if r.status in statuses and r.device_key})

    if "violation" in fail_on and (n := devices(set(ACTION_STATUSES))):
        out.append(
            f"--fail-on violation: {n} devices must remove a banned app (violation, overdue or expired "
            "exception)"
        )
    if "overdue" in fail_on and (n := devices({Status.OVERDUE})):
        out.append(f"--fail-on overdue: {n} devices are past the remove-by deadline")
    if "unknown" in fail_on:
        n = devices({Status.UNKNOWN})
        people = len({r.person_id for r in ev.results if r.status is Status.UNKNOWN and not r.device_key})
        if n or people:
            out.append(
                f"--fail-on unknown: {n} devices in scope without a recent inventory, {people} people in "
                "scope with no known device"
            )
    if "limitation" in fail_on and ev.limitations:
        out.append(f"--fail-on limitation: {len(ev.limitations)} limitations (printed first in the report)")
    return out


def _run_impact(args: argparse.Namespace) -> int:
    from appveto.compliance.impact import impact
    from appveto.report.registry import render

    _, at, _ = _load(args)
    from appveto.fleet.queries import StoreFleet

    with open_store(args) as store:
        im = impact(
            args.policy, StoreFleet(store), at=at, policies_dir=_policies_dir(args), scans=_scans(args)
        )
    missing = sum(1 for x in im.limitations if x.missing)
    if missing:
        print(f"appveto: {_incomplete(missing)}", file=sys.stderr)
    write_output(render("impact", args.format, im, list=args.list), None)
    return 1 if missing else 0


def _run_explain(args: argparse.Namespace) -> int:
    from appveto.compliance.explain import explain, find_person

    policies, at, stale = _load(args)
    from appveto.fleet.queries import StoreFleet

    with open_store(args) as store:
        fleet = StoreFleet(store)
        ex = explain(
            policies,
            fleet,
            _scans(args),
            at=at,
            person=find_person(fleet, args.person) if args.person is not None else None,
            device=args.device,
            stale_after=stale,
        )
    from appveto.report.registry import render

    write_output(render("explain", "text", ex), None)
    return 0 if ex.found else 1


def _run_notices_inner(args: argparse.Namespace) -> int:
    from appveto.compliance.evaluate import evaluate
    from appveto.compliance.notices import Recipient, build_notices, notice_file_stems
    from appveto.errors import AppvetoError, OutputError
    from appveto.fleet.queries import StoreFleet
    from appveto.outputs import mail
    from appveto.outputs.files import RECORD, OutputFolder
    from appveto.report.registry import formats, get, render

    try:
        mail.mailbox(args.sender, what="--sender")
    except mail.MailValueError as exc:
        raise AppvetoError(str(exc)) from None
    policies, at, stale = _load(args)
    guard = _guard(args)
    with open_store(args) as store:
        ev = evaluate(policies, StoreFleet(store), _scans(args), at=at, stale_after=stale, changes=False)
        for x in ev.missing:
            print(printable(f"appveto: warning: {x}"), file=sys.stderr)
        wanted = {r.person_id for r in ev.results if r.person_id}
        recipients = [
            Recipient(p.id, p.display_name, p.email) for pid in sorted(wanted) if (p := store.person(pid))
        ]
    notices = build_notices(ev, policies, recipients)
    out: Path = args.output
    written = bad = no_address = 0
    owner = "appveto fleet notices"
    with OutputFolder(out, guard=guard, record=RECORD, owner=owner, replace_foreign=args.force) as folder:
        for n, stem in zip(notices, notice_file_stems(notices), strict=True):
            who = f"person '{printable(n.recipient.person_id)}'"
            try:  # every format first: a notice that cannot be rendered writes no file at all
                files_of = [
                    (f"{stem}.{get('notice', fmt).extension}", render("notice", fmt, n, sender=args.sender))
                    for fmt in formats("notice")
                ]
            except mail.MailValueError as exc:
                bad += 1
                print(f"appveto: error: {who}: {exc}; no notice written", file=sys.stderr)
                continue
            try:
                for name, data in files_of:
                    folder.write(name, data)
            except OutputError as exc:
                bad += 1
                for d in exc.diagnostics():
                    print(f"appveto: error: {who}: {printable(str(d))}", file=sys.stderr)
                continue
            written += 1
            no_address += not n.recipient.email
        files = len(folder.written)
    removed = len(folder.removed)
    print(
        f"{written} notices written to {printable(str(out))} ({files} files)"
        + (f"; {removed} files of the previous run removed (no longer due)" if removed else "")
        + (f"; {no_address} without an e-mail address" if no_address else "")
        + (f"; {bad} people got no notice (see the errors above)" if bad else "")
    )
    if bad:
        return 2
    if ev.missing:
        print(
            f"appveto: {_incomplete(len(ev.missing))}: people in scope through them get no notice",
            file=sys.stderr,
        )
        return 1
    return 0


def _run_demo_inner(args: argparse.Namespace) -> int:
    from appveto.fleet.generator import DEFAULT_TAKEN_AT, generate

    taken = datetime.combine(args.at, DEFAULT_TAKEN_AT.timetz()) if args.at else DEFAULT_TAKEN_AT
    s = generate(
        args.out,
        people=args.people,
        seed=args.seed,
        apps_per_device=args.apps_per_device,
        taken_at=taken,
        force=args.force,
        layouts=args.layouts,
    )
    out = printable(str(s.out))
    print(f"{s.people} people, {s.devices} devices, {s.app_rows} app rows in {out}")
    print(f"  directory: appveto directory import {printable(str(s.out / 'directory.json'))}")
    for source, files in s.sources:
        print(
            f"  {source}: {len(files)} files (appveto fleet import --source {source} --at "
            f"{s.taken_at.date().isoformat()} {out}/{files[0].name.split('-')[0]}-*)"
        )
    return 0


_run_evaluate = _writing(_run_evaluate_inner)
_run_notices = _writing(_run_notices_inner)
_run_demo = _writing(_run_demo_inner)
