"""The evaluation document (``appveto fleet evaluate``): text, JSON, CSV and HTML.

Every value a person sees goes through the escaper of its medium
(:mod:`appveto.outputs`): the terminal rule for text, the spreadsheet rule for CSV, the
HTML rule (through Jinja2's autoescape) for HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from appveto.outputs import terminal
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from appveto.compliance.model import DeviceResult, Evaluation, Limitation, PlatformCount

printable = terminal.line


def limitation_plain(x: Limitation) -> dict[str, Any]:
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


def limitation_lines(limitations: Sequence[Limitation]) -> list[str]:
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


def people_no_device(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'} in scope {'holds' if n == 1 else 'hold'} no known device"


def _platforms(counts: Sequence[PlatformCount]) -> str:
    return ", ".join(
        f"{p.platform} {p.devices}" + (f" ({p.unknown} unknown)" if p.unknown else "") for p in counts
    )


def _plain(ev: Evaluation) -> dict[str, Any]:
    return {
        "limitations": [limitation_plain(x) for x in ev.limitations],
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


@renderer(
    "evaluation",
    "json",
    description="every figure and result",
)
def render_json(ev: Evaluation) -> str:
    return json.dumps(_plain(ev), indent=2, ensure_ascii=False) + "\n"


@renderer(
    "evaluation",
    "csv",
    description="one row per result, for spreadsheets",
)
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


@renderer("evaluation", "text", description="a summary for a terminal")
def render_text(ev: Evaluation) -> str:
    unknown = ev.devices_total - ev.devices_observed
    lines = limitation_lines(ev.limitations)
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
            lines.append(f"    {people_no_device(d.people_without_devices)}")
        if d.network_only_parts:
            lines.append(
                f"    network-only parts (enforced by the network export): {', '.join(d.network_only_parts)}"
            )
    if ev.people_without_devices:
        lines.append(f"  {people_no_device(ev.people_without_devices)}")
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


STATUS_MEANING = {
    "violation": "a banned app is on the device: remove it",
    "overdue": "still there after the remove-by date",
    "exception_expired": "the exception that allowed it has expired",
    "advisory": "removal recommended, not binding",
    "exempted": "allowed by an exception in force",
    "unknown": "no recent inventory: the device cannot be judged",
}
HTML_COLUMNS = (
    "status",
    "decision",
    "person",
    "org_unit",
    "device_name",
    "device",
    "platform",
    "app_name",
    "app_id",
    "remove_by",
    "exception",
    "reason",
)
"""The columns of the HTML results table (a subset of the CSV's, so the page fits a screen)."""


@renderer(
    "evaluation",
    "html",
    description="one self-contained page for people",
)
def render_html(ev: Evaluation) -> str:
    """Summary first, then the status chart, decisions, roll-ups per authority and per
    unit (names and IDs), platforms, adoptions, changes and every result."""
    from appveto.compliance.model import ACTION_STATUSES, Status
    from appveto.report.html import chart, page

    in_force = [d for d in ev.decisions if d.evaluated]
    totals: dict[Status, tuple[int, int]] = {}
    for d in in_force:
        for c in d.counts:
            dev, ppl = totals.get(c.status, (0, 0))
            totals[c.status] = (dev + c.devices, ppl + c.people)
    statuses = [s for s in Status if s in totals]
    action = sum(totals.get(s, (0, 0))[0] for s in ACTION_STATUSES)
    unknown = totals.get(Status.UNKNOWN, (0, 0))[0]
    if action:
        level, headline = "high", f"{action} device results need a banned app removed"
    elif unknown or ev.limitations:
        level, headline = (
            "elevated",
            "No device is known to carry a banned app, but part of the fleet is unseen",
        )
    else:
        level, headline = "low", "No device carries a banned app"
    points = [
        f"{len(in_force)} decision{'s' if len(in_force) != 1 else ''} in force of {len(ev.decisions)} on "
        f"{ev.at.isoformat()}",
        f"{action} device results need action (violation, overdue, expired exception)",
        f"{unknown} device results are unknown (no inventory of the last {ev.stale_after.days} days)",
    ]
    if ev.people_without_devices:
        points.append(people_no_device(ev.people_without_devices))
    if ev.limitations:
        points.append(
            f"{len(ev.limitations)} limitation{'s' if len(ev.limitations) != 1 else ''}: "
            "what this evaluation could not see (listed below)"
        )
    if ev.unheld_with_selected_apps:
        points.append(
            f"{ev.unheld_with_selected_apps} devices with a selected app have no holder in the directory"
        )
    if ev.undetermined_with_selected_apps:
        points.append(
            f"{ev.undetermined_with_selected_apps} held devices with a selected app report neither ownership "
            "nor management mode"
        )
    if ev.compared_devices is None:
        changes = "Not compared with an earlier snapshot."
    elif ev.compared_devices == 0:
        changes = "No earlier snapshot to compare with."
    else:
        new = sum(1 for c in ev.changes if c.kind == "new")
        changes = (
            f"{ev.compared_devices} devices seen before: {new} new results, {len(ev.changes) - new} resolved."
        )
    heads = [s.value for s in statuses]
    kinds = {"authority": "authority", "org_unit": "unit"}
    rollups = [
        (
            kind,
            title,
            f"Devices per status in each {word}"
            + (" (a unit includes its sub-units)" if kind == "org_unit" else ""),
            sorted(
                (r for r in ev.rollups if r.kind == kind),
                key=lambda r: (-sum(r.count(s) for s in ACTION_STATUSES), (r.name or r.id).casefold(), r.id),
            ),
        )
        for kind, title, word in (
            ("authority", "By authority", "authority"),
            ("org_unit", "By unit", "unit"),
        )
    ]
    rows = [_row(r) for r in ev.results]
    sections = [("summary", "Summary")]
    if ev.limitations:
        sections.append(("limitations", "Limitations"))
    sections += [
        ("statuses", "Statuses"),
        ("decisions", "Decisions"),
        ("by-authority", "Authorities"),
        ("by-org_unit", "Units"),
        ("platforms", "Platforms"),
        *([("adoptions", "Adoptions")] if ev.adoptions else []),
        ("changes", "Changes"),
        ("results", "Results"),
    ]
    return page(
        "evaluation.html.j2",
        title=f"Compliance on {ev.at.isoformat()}",
        ev=ev,
        summary={"level": level, "headline": headline, "points": points},
        sections=sections,
        status_chart=chart(
            "Device results per status, decisions in force",
            [(s.value, totals[s][0]) for s in statuses],
            unit=" devices",
            color="#0b4f8a",
        ),
        status_rows=[
            {
                "status": s.value,
                "meaning": STATUS_MEANING.get(s.value, ""),
                "devices": totals[s][0],
                "people": totals[s][1],
            }
            for s in statuses
        ],
        status_keys=statuses,
        status_heads=heads,
        decision_heads=("decision", "status", "remove by", "in scope", *heads),
        rollups=rollups,
        rollup_heads={k: (w, *heads, "total") for k, w in kinds.items()},
        lacking=_lacking(ev),
        changes_text=changes,
        result_columns=HTML_COLUMNS,
        result_rows=[[row[c] for c in HTML_COLUMNS] for row in rows],
    )
