"""The policy documents (``appveto policy lint|show|diff|timeline``): text and JSON.

Text lines go through the terminal rule (:mod:`appveto.outputs.terminal`); JSON is
sorted, with dates as ISO-8601 and enums as their values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from appveto.outputs import terminal
from appveto.report.registry import renderer

if TYPE_CHECKING:
    from appveto.policy.diff import Change as PolicyChange
    from appveto.policy.lint import LintWarning
    from appveto.policy.model import ResolvedDecision
    from appveto.policy.timeline import TimelineEvent

printable = terminal.line


def _json(value: object) -> str:
    return json.dumps(jsonable(value), indent=2, sort_keys=True, ensure_ascii=False)


def jsonable(value: object) -> Any:
    import dataclasses
    from enum import Enum

    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ lint


@renderer(
    "policy-lint",
    "json",
    description="the warnings",
    options=("at",),
)
def lint_json(warnings: Sequence[LintWarning], *, at: date) -> str:
    items = [
        {
            "file": w.file,
            "line": w.line,
            "column": w.column,
            "code": str(w.code),
            "slug": w.slug,
            "decision": w.decision,
            "message": w.message,
        }
        for w in warnings
    ]
    return json.dumps({"at": at.isoformat(), "warnings": items}, indent=2, ensure_ascii=False)


@renderer(
    "policy-lint",
    "text",
    description="one line per warning",
    options=("at",),
)
def lint_text(warnings: Sequence[LintWarning], *, at: date) -> str:
    lines = []
    for w in warnings:
        where = f"{w.file}:{w.line}:{w.column}" if w.file else w.decision
        lines.append(printable(f"{where}: warning: [{w.code} {w.slug}] {w.message}"))
    lines.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} on {at}")
    return "\n".join(lines)


# ------------------------------------------------------------------ show


@renderer(
    "policy-show",
    "json",
    description="the decisions as resolved on the date",
    options=("at",),
)
def show_json(resolved: Sequence[ResolvedDecision], *, at: date) -> str:
    return _json({"at": at, "decisions": resolved})


@renderer(
    "policy-show",
    "text",
    description="a table of decisions, or one in detail (option one)",
    options=("one",),
)
def show_text(resolved: Sequence[ResolvedDecision], *, one: bool = False) -> str:
    if one:
        return _decision(resolved[0])
    width = max((len(r.id) for r in resolved), default=2)
    rows = [f"{'ID':<{width}}  {'STATUS':<9}  {'EFFECTIVE':<10}  {'EXPIRES':<10}  AUTHORITY"]
    for r in resolved:
        rows.append(
            f"{r.id:<{width}}  {r.status!s:<9}  {r.effective!s:<10}  {(r.expires or '-')!s:<10}  "
            f"{r.authority}"
        )
    return "\n".join(printable(row) for row in rows)


def _decision(r: Any) -> str:
    lines = [
        f"{r.id}: {r.title}",
        f"  status on {r.at}: {r.status}",
        f"  authority: {' < '.join(a.name + ' [' + a.id + ']' for a in r.authority_chain) or r.authority}",
        f"  instrument: {r.instrument}",
    ]
    if len(r.lineage) > 1:
        lines.append(f"  follows: {' -> '.join(r.lineage[1:])}")
    if r.advised_by:
        lines.append(f"  advised by: {', '.join(r.advised_by)}")
    lines.append(
        f"  announced {r.announced or '-'}, effective {r.effective}, "
        f"expires {r.expires or 'until further notice'}"
    )
    for ren in r.renewals:
        lines.append(f"  renewed {ren.decided} by {ren.by} to {ren.extends_to or 'until further notice'}")
    for d in r.deadlines:
        state = "overdue" if d.overdue(r.at) else "open"
        lines.append(f"  deadline {d.kind}: {d.date} ({state}){' - ' + d.note if d.note else ''}")
    a = r.apps
    lines.append("  apps:" + (" none selected (fails closed: matches nothing)" if a.empty else ""))
    for label, values in (
        ("android", a.android_packages),
        ("ios", a.ios_bundle_ids),
        ("web", a.web_domains),
        ("signer sha256", a.signer_sha256),
        ("vendors", a.vendors),
        ("with successors", a.successor_vendors),
        ("categories", a.categories),
        ("countries of origin", a.countries_of_origin),
    ):
        if values:
            lines.append(f"    {label}: {', '.join(values)}")
    for rule in a.scan_rules:
        parts = []
        if rule.score_at_least is not None:
            parts.append(f"score >= {rule.score_at_least}")
        if rule.finding:
            parts.append(f"finding {rule.finding}")
        lines.append(f"    scan: {' or '.join(parts)}")
    lines.append("  scope:")
    for p in r.scope:
        bits = []
        if p.units:
            bits.append(f"units {', '.join(p.units)}{' (+sub-units)' if p.include_sub_units else ''}")
        if p.roles_include:
            bits.append(f"roles {', '.join(p.roles_include)}")
        if p.roles_exclude:
            bits.append(f"except {', '.join(p.roles_exclude)}")
        if p.devices:
            bits.append(f"devices {', '.join(p.devices)}")
        if p.systems:
            bits.append(f"systems {', '.join(p.systems)}")
        if p.networks:
            bits.append(f"networks {', '.join(p.networks)}")
        src = f" [from {p.source_decision}]" if p.source_decision != r.id else ""
        lines.append(f"    {p.id} ({p.mode}){src}: {'; '.join(bits) or 'whole authority'}")
    for z in r.network_zones:
        lines.append(f"  network zone {z.name}: {', '.join((*z.cidrs, *('SSID ' + s for s in z.ssids)))}")
    if r.exception_rules is not None:
        er = r.exception_rules
        lines.append(
            f"  exceptions allowed on: {', '.join(er.grounds)}; approver: {er.approver}"
            + (f"; at most {er.max_days} days" if er.max_days else "")
        )
    for label, excs in (
        ("active", r.active_exceptions),
        ("expired", r.expired_exceptions),
        ("not yet granted", r.future_exceptions),
    ):
        for e in excs:
            lines.append(
                f"  exception {e.id} ({label}): {e.subject_kind} {e.subject_id}, {e.grounds}, "
                f"approved by {e.approver}, {e.granted} to {e.expires}"
            )
    for acc in r.official_accounts:
        lines.append(f"  official account {acc.platform} {acc.handle} ({acc.owner}): {acc.status}")
    if r.asks:
        counts: dict[str, int] = {}
        for ask in r.asks:
            counts[str(ask.status)] = counts.get(str(ask.status), 0) + 1
        lines.append(
            f"  asked to adopt: {len(r.asks)} ("
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            + ")"
        )
        for ask in r.asks:
            lines.append(f"    {ask.authority}: {ask.status}{' on ' + str(ask.date) if ask.date else ''}")
    return "\n".join(printable(line) for line in lines)


# ------------------------------------------------------------------ diff


@renderer("policy-diff", "json", description="the changes")
def diff_json(changes: Sequence[PolicyChange]) -> str:
    return _json({"changes": changes})


@renderer("policy-diff", "text", description="one line per change")
def diff_text(changes: Sequence[PolicyChange]) -> str:
    lines = [printable(str(c)) for c in changes]
    lines.append(f"{len(changes)} change{'s' if len(changes) != 1 else ''}")
    return "\n".join(lines)


# ------------------------------------------------------------------ timeline


@renderer(
    "timeline",
    "json",
    description="the events in the window",
    options=("start", "days"),
)
def timeline_json(events: Sequence[TimelineEvent], *, start: date, days: int) -> str:
    return _json({"from": start, "days": days, "events": events})


@renderer(
    "timeline",
    "text",
    description="one line per event",
    options=("start", "days"),
)
def timeline_text(events: Sequence[TimelineEvent], *, start: date, days: int) -> str:
    lines = [printable(f"{e.date}  {e.decision}: {e.message}") for e in events]
    lines.append(f"{len(events)} event{'s' if len(events) != 1 else ''} from {start} over {days} days")
    return "\n".join(lines)
