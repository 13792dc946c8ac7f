"""What falls due in a window of days: deadlines, expiries, renewals, exceptions, adoptions.

A ban that expires produces a *renewal due* event ``review_days`` before its expiry (or
on the first day of the window when that is already past), so a six-month renewal is
never discovered on the day the ban lapses. Pure: dates are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from appveto.policy.model import Decision, PolicySet
from appveto.policy.resolve import deadline_date, effective_expiry, shift_days


class EventKind(StrEnum):
    ANNOUNCED = "announced"
    EFFECTIVE = "effective"
    DEADLINE = "deadline"
    RENEWAL_DUE = "renewal_due"
    RENEWED = "renewed"
    EXPIRY = "expiry"
    EXCEPTION_GRANTED = "exception_granted"
    EXCEPTION_EXPIRY = "exception_expiry"
    ADOPTION = "adoption"


@dataclass(frozen=True, slots=True, order=True)
class TimelineEvent:
    date: date
    decision: str
    kind: EventKind
    message: str


def _expiry_events(d: Decision, start: date, end: date, review_days: int) -> list[TimelineEvent]:
    """A renewal reminder whenever the reminder period (``review_days`` before an expiry,
    up to the expiry) meets the window, and the expiry itself when it falls in the window."""
    out: list[TimelineEvent] = []
    expiry, _ = effective_expiry(d, at=start)
    seen: set[date] = set()
    while expiry is not None and expiry not in seen and expiry >= start:
        seen.add(expiry)
        reminder = shift_days(expiry, -review_days)
        if reminder > end:
            break
        due = max(start, reminder)
        after, _ = effective_expiry(d, at=shift_days(expiry, -1))
        if after != expiry:
            out.append(
                TimelineEvent(
                    due,
                    d.id,
                    EventKind.RENEWAL_DUE,
                    f"expires on {expiry}: decide on renewal "
                    f"(renewed in time, now to {after or 'further notice'})",
                )
            )
            expiry = after
            continue
        out.append(TimelineEvent(due, d.id, EventKind.RENEWAL_DUE, f"expires on {expiry}: decide on renewal"))
        if expiry <= end:
            out.append(TimelineEvent(expiry, d.id, EventKind.EXPIRY, "ends unless renewed"))
        break
    return out


def _decision_events(d: Decision, start: date, end: date, review_days: int) -> list[TimelineEvent]:
    t = d.term
    cand: list[TimelineEvent] = []
    if t.announced is not None:
        cand.append(TimelineEvent(t.announced, d.id, EventKind.ANNOUNCED, "announced"))
    cand.append(TimelineEvent(t.effective, d.id, EventKind.EFFECTIVE, "takes effect"))
    for dl in t.deadlines:
        when = deadline_date(t.effective, dl.date, dl.days)
        note = f" ({dl.note})" if dl.note else ""
        cand.append(TimelineEvent(when, d.id, EventKind.DEADLINE, f"deadline {dl.kind}{note}"))
    for r in t.renewals:
        to = f"to {r.extends_to}" if r.extends_to else "until further notice"
        cand.append(TimelineEvent(r.decided, d.id, EventKind.RENEWED, f"renewed {to}"))
    for e in d.exceptions:
        cand.append(
            TimelineEvent(
                e.granted,
                d.id,
                EventKind.EXCEPTION_GRANTED,
                f"exception '{e.id}' ({e.subject.kind} {e.subject.id}) granted",
            )
        )
        cand.append(
            TimelineEvent(
                e.expires,
                d.id,
                EventKind.EXCEPTION_EXPIRY,
                f"exception '{e.id}' ({e.subject.kind} {e.subject.id}) expires",
            )
        )
    for a in d.asks:
        if a.date is not None:
            cand.append(TimelineEvent(a.date, d.id, EventKind.ADOPTION, f"'{a.authority}' {a.status}"))
    out = [e for e in cand if start <= e.date <= end]
    out.extend(_expiry_events(d, start, end, review_days))
    return out


def timeline(
    policies: PolicySet, *, start: date, days: int, review_days: int = 30
) -> tuple[TimelineEvent, ...]:
    """Events from ``start`` to ``start + days`` (inclusive), sorted by date then decision."""
    end = shift_days(start, max(0, days))
    events: list[TimelineEvent] = []
    for d in policies.decisions:
        if d.draft:
            continue
        events.extend(_decision_events(d, start, end, review_days))
    return tuple(sorted(set(events)))
