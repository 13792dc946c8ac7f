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
    from collections.abc import Sequence

    from appveto.compliance.model import DeviceResult, Evaluation, Limitation, PlatformCount, ScanFacts
    from appveto.policy.model import PolicySet

FORMATS = ("text", "json", "csv", "html")
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
    p.add_argument("--at", type=_day, metavar="DATE", help="evaluation day, YYYY-MM-DD (default: today, UTC)")
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
    group = fleet_group(subparsers)
    ev = group.add_parser("evaluate", help="evaluate the fleet against the policies in force on a date")
    _common(ev)
    ev.add_argument("--format", choices=FORMATS, default="text")
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
    im.add_argument("--format", choices=("text", "json"), default="text")
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
    no.add_argument("--output", "-o", type=Path, default=Path("notices"), metavar="DIR")
    no.add_argument("--sender", default="security-office@appveto.invalid", metavar="ADDRESS")
    no.set_defaults(handler=_run_notices)

    demo = subparsers.add_parser(
        "demo-data",
        help="write a synthetic fleet (directory and MDM exports) into a new or empty folder",
    )
    demo.add_argument("out", type=Path, metavar="OUT")
    demo.add_argument("--people", type=int, default=20_000, metavar="N")
    demo.add_argument("--seed", type=int, default=2023)
    demo.add_argument("--apps-per-device", type=int, metavar="N", help="exactly N apps per device")
    demo.add_argument(
        "--at",
        type=_day,
        metavar="DATE",
        help="the day the exports are taken (report and enrolment times; default 2023-06-01)",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="write into OUT even when it holds files (same-named files are replaced; "
        "symbolic links are still refused)",
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


def _say(line: str) -> None:
    """One line for a person: values from the directory, inventories and policies in it
    cannot forge lines or drive the terminal (appveto.outputs.terminal)."""
    sys.stdout.write(printable(line) + "\n")


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
    write_output(RENDERERS[args.format](ev), args.output, guard=_guard(args))
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
    import json

    from appveto.compliance.impact import impact

    _, at, _ = _load(args)
    from appveto.fleet.queries import StoreFleet

    with open_store(args) as store:
        im = impact(
            args.policy, StoreFleet(store), at=at, policies_dir=_policies_dir(args), scans=_scans(args)
        )
    missing = sum(1 for x in im.limitations if x.missing)
    if missing:
        print(f"appveto: {_incomplete(missing)}", file=sys.stderr)
    if args.format == "json":
        doc = {
            "limitations": [_limitation(x) for x in im.limitations],
            "limitations_count": len(im.limitations),
            "decision": im.decision_id,
            "at": im.at.isoformat(),
            "people_in_scope": im.people_in_scope,
            "devices_in_scope": im.devices_in_scope,
            "people_affected": list(im.people),
            "devices_affected": list(im.devices),
            "devices_unknown": list(im.unknown_devices),
            "people_without_devices": list(im.people_without_devices),
            "units": [{"unit": u.unit_id, "people": u.people, "devices": u.devices} for u in im.units],
            "network_only_parts": list(im.network_only_parts),
        }
        write_output(json.dumps(doc, indent=2), None)
        return 1 if missing else 0
    for line in _limitation_lines(im.limitations):
        _say(line)
    _say(f"impact of {im.decision_id} ({im.title}) on {im.at.isoformat()}")
    _say(f"  in scope: {im.people_in_scope} people, {im.devices_in_scope} devices")
    _say(f"  carrying a selected app: {len(im.people)} people, {len(im.devices)} devices")
    _say(f"  without a recent inventory: {len(im.unknown_devices)} devices")
    if im.people_without_devices:
        _say(f"  {_people_no_device(len(im.people_without_devices))}")
    for c in im.counts:
        _say(f"    {c.status.value:18} {c.devices:>8} devices {c.people:>8} people")
    if im.network_only_parts:
        _say(f"  network-only parts (no device result): {', '.join(im.network_only_parts)}")
    if im.units:
        _say("  units:")
        for u in im.units:
            _say(f"    {u.unit_id:40} {u.people:>6} people {u.devices:>6} devices")
    if im.people:
        shown = im.people[: args.list]
        _say(f"  people ({len(shown)} of {len(im.people)}): {', '.join(shown)}")
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
    for line in ex.lines():
        _say(line)
    return 0 if ex.found else 1


def _run_notices_inner(args: argparse.Namespace) -> int:
    from appveto.compliance.evaluate import evaluate
    from appveto.compliance.notices import (
        Recipient,
        build_notices,
        notice_email,
        notice_file_stems,
        notice_markdown,
    )
    from appveto.errors import AppvetoError, OutputError
    from appveto.fleet.queries import StoreFleet
    from appveto.outputs import mail
    from appveto.outputs.files import OutputFolder

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
    with OutputFolder(out, guard=guard) as folder:
        for n, stem in zip(notices, notice_file_stems(notices), strict=True):
            who = f"person '{printable(n.recipient.person_id)}'"
            try:
                message = notice_email(n, sender=args.sender).as_bytes()
            except mail.MailValueError as exc:
                bad += 1
                print(f"appveto: error: {who}: {exc}; no notice written", file=sys.stderr)
                continue
            try:
                folder.write(f"{stem}.md", notice_markdown(n))
                folder.write(f"{stem}.eml", message)
            except OutputError as exc:
                bad += 1
                for d in exc.diagnostics():
                    print(f"appveto: error: {who}: {printable(str(d))}", file=sys.stderr)
                continue
            written += 1
            no_address += not n.recipient.email
        files = len(folder.written)
    print(
        f"{written} notices written to {printable(str(out))} ({files} files)"
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


# --------------------------------------------------------------------------- renderers


def _limitation(x: Limitation) -> dict[str, Any]:
    return {
        "kind": x.kind.value,
        "decision": x.decision_id,
        "part": x.part_id,
        "subject": x.subject,
        "file": x.file,
        "line": x.line,
        "column": x.column,
        "message": x.message,
    }


def _limitation_lines(limitations: Sequence[Limitation]) -> list[str]:
    """The limitations block every text report starts with (nothing when there is none)."""
    if not limitations:
        return []
    n = len(limitations)
    missing = sum(1 for x in limitations if x.missing)
    head = f"{n} limitation{'s' if n != 1 else ''}: what this evaluation could not see"
    if missing:
        head += f" ({missing} in the directory's coverage: the results are incomplete)"
    return [head, *(f"  ! {x}" for x in limitations)]


def _lacking(ev: Evaluation) -> dict[str, str]:
    """Per decision with names the directory lacks, the words that say its figures are incomplete."""
    n: dict[str, int] = {}
    for x in ev.missing:
        if x.decision_id:
            n[x.decision_id] = n.get(x.decision_id, 0) + 1
    return {
        d: f" (INCOMPLETE: {k} name{'s' if k != 1 else ''} not in the directory, see the limitations)"
        for d, k in n.items()
    }


def _people_no_device(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'} in scope {'holds' if n == 1 else 'hold'} no known device"


def _platforms(counts: Sequence[PlatformCount]) -> str:
    return ", ".join(
        f"{p.platform} {p.devices}" + (f" ({p.unknown} unknown)" if p.unknown else "") for p in counts
    )


def _plain(ev: Evaluation) -> dict[str, Any]:
    return {
        "limitations": [_limitation(x) for x in ev.limitations],
        "limitations_count": len(ev.limitations),
        "at": ev.at.isoformat(),
        "stale_after_days": ev.stale_after.days,
        "devices_total": ev.devices_total,
        "devices_observed": ev.devices_observed,
        "devices_directory_only": ev.devices_directory_only,
        "people_without_devices": ev.people_without_devices,
        "platforms": [
            {"platform": p.platform, "devices": p.devices, "unknown": p.unknown} for p in ev.platforms
        ],
        "unheld_with_selected_apps": ev.unheld_with_selected_apps,
        "undetermined_with_selected_apps": ev.undetermined_with_selected_apps,
        "decisions": [
            {
                "id": d.decision_id,
                "title": d.title,
                "status": d.status.value,
                "evaluated": d.evaluated,
                "remove_by": d.remove_by.isoformat() if d.remove_by else None,
                "devices_in_scope": d.devices_in_scope,
                "people_in_scope": d.people_in_scope,
                "people_without_devices": d.people_without_devices,
                "network_only_parts": list(d.network_only_parts),
                "counts": {c.status.value: {"devices": c.devices, "people": c.people} for c in d.counts},
                "platforms": [
                    {"platform": p.platform, "devices": p.devices, "unknown": p.unknown} for p in d.platforms
                ],
            }
            for d in ev.decisions
        ],
        "people": [
            {
                "person": p.person_id,
                "status": p.status.value,
                "devices": sorted({r.device_key for r in p.results if r.device_key}),
                "decisions": sorted({r.decision_id for r in p.results}),
            }
            for p in ev.by_person()
        ],
        "results": [_row(r) for r in ev.results],
        "rollups": [
            {
                "kind": r.kind,
                "id": r.id,
                "name": r.name,
                "counts": {c.status.value: c.devices for c in r.counts},
            }
            for r in ev.rollups
        ],
        "compared_devices": ev.compared_devices,
        "changes": [
            {
                "kind": c.kind,
                "decision": c.decision_id,
                "device": c.device_key,
                "person": c.person_id,
                "app": c.app_id or c.app_name,
                "status": c.status.value,
            }
            for c in ev.changes
        ],
        "adoptions": [
            {
                "decision": a.decision_id,
                "authority": a.authority_id,
                "status": a.status,
                "date": a.date.isoformat() if a.date else None,
                "binding": a.binding,
                "via_decision": a.via_decision,
            }
            for a in ev.adoptions
        ],
    }


COLUMNS = (
    "status",
    "decision",
    "part",
    "mode",
    "person",
    "org_unit",
    "authority",
    "device",
    "device_name",
    "platform",
    "app_id",
    "app_name",
    "matched_by",
    "exception",
    "remove_by",
    "adopted_by",
    "observed_at",
    "reason",
)
CSV_COLUMNS = (*COLUMNS, "note")
"""The CSV's columns: a row per result, after a ``limitation`` row per limitation (``note``)."""


def _row(r: DeviceResult) -> dict[str, Any]:
    return dict(
        zip(
            COLUMNS,
            (
                r.status.value,
                r.decision_id,
                r.part_id,
                r.mode.value,
                r.person_id,
                r.org_unit_id,
                r.authority_id,
                r.device_key,
                r.device_name,
                r.platform,
                r.app_id,
                r.app_name,
                r.matched_by,
                r.exception_id,
                r.remove_by.isoformat() if r.remove_by else None,
                r.adopted_by,
                r.observed_at.isoformat() if r.observed_at else None,
                r.reason.value if r.reason else None,
            ),
            strict=True,
        )
    )


def render_json(ev: Evaluation) -> str:
    import json

    return json.dumps(_plain(ev), indent=2, ensure_ascii=False) + "\n"


def render_csv(ev: Evaluation) -> str:
    """Every cell neutralised for spreadsheets (appveto.outputs.csvcells, OWASP)."""
    from appveto.outputs import csvcells

    rows: list[dict[str, Any]] = [
        {
            "status": "limitation",
            "decision": x.decision_id,
            "part": x.part_id,
            "reason": x.kind.value,
            "note": str(x),
        }
        for x in ev.limitations
    ]
    rows += [_row(r) for r in ev.results]
    return csvcells.document(CSV_COLUMNS, ([row.get(c) for c in CSV_COLUMNS] for row in rows))


def render_text(ev: Evaluation) -> str:
    unknown = ev.devices_total - ev.devices_observed
    lines = _limitation_lines(ev.limitations)
    lines.append(
        f"compliance on {ev.at.isoformat()}: {ev.devices_total} devices known, "
        f"{ev.devices_observed} with an inventory of the last {ev.stale_after.days} days, {unknown} without"
        + (
            f" ({ev.devices_directory_only} listed only by the directory)"
            if ev.devices_directory_only
            else ""
        )
    )
    if ev.platforms:
        lines.append(f"  by platform: {_platforms(ev.platforms)}")
    lacking = _lacking(ev)
    for d in ev.decisions:
        if not d.evaluated:
            lines.append(f"  {d.decision_id}: {d.status.value}, not evaluated")
            continue
        counts = ", ".join(f"{c.status.value} {c.devices}" for c in d.counts if c.devices) or "nothing found"
        lines.append(
            f"  {d.decision_id}: {d.devices_in_scope} devices of {d.people_in_scope} people in scope; "
            f"{counts}{lacking.get(d.decision_id, '')}"
        )
        unknown_platforms = [p for p in d.platforms if p.unknown]
        if unknown_platforms:
            lines.append(
                "    unknown by platform: "
                + ", ".join(f"{p.platform} {p.unknown}" for p in unknown_platforms)
            )
        if d.people_without_devices:
            lines.append(f"    {_people_no_device(d.people_without_devices)}")
        if d.network_only_parts:
            lines.append(
                f"    network-only parts (enforced by the network export): {', '.join(d.network_only_parts)}"
            )
    if ev.people_without_devices:
        lines.append(f"  {_people_no_device(ev.people_without_devices)}")
    binding = [a for a in ev.adoptions if a.binding]
    if ev.adoptions:
        lines.append(f"  adoptions: {len(binding)} binding of {len(ev.adoptions)} requests")
    if ev.compared_devices == 0:
        lines.append("  changes: no earlier snapshot to compare with")
    elif ev.compared_devices is not None:
        new = sum(1 for c in ev.changes if c.kind == "new")
        lines.append(
            f"  since the previous snapshot ({ev.compared_devices} devices seen before): {new} new, "
            f"{len(ev.changes) - new} resolved"
        )
    if ev.undetermined_with_selected_apps:
        lines.append(
            f"  {ev.undetermined_with_selected_apps} held devices with a selected app report neither "
            "ownership nor management mode"
        )
    if ev.unheld_with_selected_apps:
        lines.append(
            f"  {ev.unheld_with_selected_apps} devices with a selected app have no holder in the directory"
        )
    lines.append("  by authority:")
    for r in ev.rollups:
        if r.kind == "authority":
            lines.append(f"    {r.id:36} " + ", ".join(f"{c.status.value} {c.devices}" for c in r.counts))
    return "".join(printable(line) + "\n" for line in lines)


def render_html(ev: Evaluation) -> str:
    """Values escaped, controls made visible, RTL text isolated (appveto.outputs.htmltext)."""
    from appveto.outputs.htmltext import text as escape

    rows = "\n".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in _row(r).values()) + "</tr>" for r in ev.results
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    lacking = _lacking(ev)
    summary = "\n".join(
        f"<li><b>{escape(d.decision_id)}</b>: "
        + escape(", ".join(f"{c.status.value} {c.devices}" for c in d.counts) or "nothing found")
        + escape(lacking.get(d.decision_id, ""))
        + "</li>"
        for d in ev.decisions
        if d.evaluated
    )
    limits = ""
    if ev.limitations:
        n = len(ev.limitations)
        items = "\n".join(f"<li>{escape(str(x))}</li>" for x in ev.limitations)
        limits = (
            f'<section id="limitations">\n<h2>{n} limitation{"s" if n != 1 else ""}: what this evaluation '
            f"could not see</h2>\n<ul>\n{items}\n</ul>\n</section>\n"
        )
    platforms = escape(_platforms(ev.platforms))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Compliance on {ev.at.isoformat()}</title></head><body>\n"
        f"<h1>Compliance on {ev.at.isoformat()}</h1>\n{limits}"
        f"<p>{ev.devices_total} devices known, {ev.devices_observed} with an inventory of the last "
        f"{ev.stale_after.days} days; by platform: {platforms}</p>\n<ul>\n{summary}\n</ul>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
        "</body></html>\n"
    )


RENDERERS = {"text": render_text, "json": render_json, "csv": render_csv, "html": render_html}


_run_evaluate = _writing(_run_evaluate_inner)
_run_notices = _writing(_run_notices_inner)
_run_demo = _writing(_run_demo_inner)
