"""Resolution: what a decision means on a given day. Pure: the date is a parameter.

A decision that ``follows`` another takes over the parts named in ``follows.inherit``
from the followed decision *as resolved on the same day*, then adds its own parts
(its amendments). Its term is always its own. Renewals count from the day they were
decided; an expiry is never lifted silently by a renewal decided later.
"""

from __future__ import annotations

from datetime import date, timedelta

from appveto.errors import Diagnostic, PolicyError
from appveto.policy.model import (
    AppSelector,
    Decision,
    DecisionStatus,
    ExceptionRules,
    InheritPart,
    PolicySet,
    ResolvedApps,
    ResolvedDeadline,
    ResolvedDecision,
    ResolvedException,
    ResolvedRenewal,
    ResolvedScopePart,
    ResolvedZone,
    normalise_sha256,
)


def effective_expiry(decision: Decision, *, at: date) -> tuple[date | None, tuple[ResolvedRenewal, ...]]:
    """Expiry on ``at`` after the renewals decided by then, and those renewals."""
    expires = decision.term.expires
    applied: list[ResolvedRenewal] = []
    for r in sorted(decision.term.renewals, key=lambda r: r.decided):
        if r.decided > at:
            continue
        applied.append(
            ResolvedRenewal(
                decided=r.decided,
                extends_to=r.extends_to,
                by=r.by or decision.authority,
                instrument=r.instrument,
                note=r.note,
            )
        )
        expires = r.extends_to
    return expires, tuple(applied)


def status_at(decision: Decision, *, at: date) -> DecisionStatus:
    """draft before announcement (or when marked draft), announced until effective,
    active until the (renewed) expiry, expired from then on."""
    if decision.draft:
        return DecisionStatus.DRAFT
    announced = decision.term.announced or decision.term.effective
    if at < announced:
        return DecisionStatus.DRAFT
    if at < decision.term.effective:
        return DecisionStatus.ANNOUNCED
    expires, _ = effective_expiry(decision, at=at)
    if expires is not None and at >= expires:
        return DecisionStatus.EXPIRED
    return DecisionStatus.ACTIVE


def shift_days(day: date, days: int) -> date:
    """``day`` moved by ``days``, held at the first or last representable day instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def deadline_date(effective: date, d_date: date | None, days: int | None) -> date:
    if d_date is not None:
        return d_date
    return shift_days(effective, days or 0)


def _own_apps(decision: Decision) -> tuple[AppSelector, ...]:
    return decision.apps


def _flatten_apps(selectors: tuple[AppSelector, ...]) -> ResolvedApps:
    def uniq(values: list[str]) -> tuple[str, ...]:
        return tuple(sorted(set(values)))

    rules = []
    for s in selectors:
        if s.scan is not None and (s.scan.score_at_least is not None or s.scan.finding):
            rules.append(s.scan)
    return ResolvedApps(
        selectors=selectors,
        android_packages=uniq([p for s in selectors for p in s.android]),
        ios_bundle_ids=uniq([p for s in selectors for p in s.ios]),
        web_domains=uniq([p.lower().rstrip(".") for s in selectors for p in s.web]),
        signer_sha256=uniq([normalise_sha256(p) for s in selectors for p in s.signer_sha256]),
        vendors=uniq([v for s in selectors for v in s.vendors]),
        successor_vendors=uniq([v for s in selectors if s.successors for v in s.vendors]),
        categories=uniq([c for s in selectors for c in s.categories]),
        countries_of_origin=uniq([c for s in selectors for c in s.countries_of_origin]),
        scan_rules=tuple(rules),
    )


def _resolve(policies: PolicySet, decision: Decision, at: date, seen: tuple[str, ...]) -> ResolvedDecision:
    if decision.id in seen:
        raise PolicyError(
            f"adoption cycle: {' -> '.join((*seen, decision.id))}",
            diagnostics=(Diagnostic(f"adoption cycle: {' -> '.join((*seen, decision.id))}"),),
        )
    parent: ResolvedDecision | None = None
    inherit: tuple[InheritPart, ...] = ()
    if decision.follows is not None:
        followed = policies.decision(decision.follows.decision)
        if followed is None:
            msg = f"decision '{decision.id}' follows unknown decision '{decision.follows.decision}'"
            raise PolicyError(msg)
        parent = _resolve(policies, followed, at, (*seen, decision.id))
        inherit = decision.follows.inherit

    selectors: tuple[AppSelector, ...] = ()
    scope: list[ResolvedScopePart] = []
    zones: list[ResolvedZone] = []
    rules: ExceptionRules | None = decision.exception_rules
    if parent is not None:
        if InheritPart.APPS in inherit:
            selectors = parent.apps.selectors
        if InheritPart.SCOPE in inherit:
            scope.extend(parent.scope)
        if InheritPart.NETWORK_ZONES in inherit:
            zones.extend(parent.network_zones)
        if InheritPart.EXCEPTION_RULES in inherit and rules is None:
            rules = parent.exception_rules
    selectors = selectors + tuple(s for s in _own_apps(decision) if s not in selectors)

    for part in decision.scope:
        scope.append(
            ResolvedScopePart(
                id=part.id,
                source_decision=decision.id,
                authority=decision.authority,
                mode=part.mode,
                units=part.units,
                include_sub_units=part.include_sub_units,
                roles_include=part.roles.include,
                roles_exclude=part.roles.exclude,
                devices=part.devices,
                systems=part.systems,
                networks=part.networks,
                description=part.description,
                headcount=part.headcount,
            )
        )
    for zone in decision.network_zones:
        zones.append(
            ResolvedZone(
                name=zone.name,
                source_decision=decision.id,
                cidrs=zone.cidrs,
                ssids=zone.ssids,
                description=zone.description,
            )
        )

    term = decision.term
    deadlines = tuple(
        sorted(
            (
                ResolvedDeadline(
                    kind=d.kind,
                    date=deadline_date(term.effective, d.date, d.days),
                    source_decision=decision.id,
                    note=d.note,
                )
                for d in term.deadlines
            ),
            key=lambda d: (d.date, d.kind.value),
        )
    )
    expires, renewals = effective_expiry(decision, at=at)

    active: list[ResolvedException] = []
    expired: list[ResolvedException] = []
    future: list[ResolvedException] = []
    for e in sorted(decision.exceptions, key=lambda e: e.id):
        resolved = ResolvedException(
            id=e.id,
            source_decision=decision.id,
            subject_kind=e.subject.kind,
            subject_id=e.subject.id,
            grounds=e.grounds,
            approver=e.approver,
            granted=e.granted,
            expires=e.expires,
            conditions=e.conditions,
            reason=e.reason,
        )
        if at < e.granted:
            future.append(resolved)
        elif at >= e.expires:
            expired.append(resolved)
        else:
            active.append(resolved)

    return ResolvedDecision(
        id=decision.id,
        title=decision.title,
        at=at,
        status=status_at(decision, at=at),
        authority=decision.authority,
        authority_chain=policies.authority_chain(decision.authority),
        lineage=(decision.id, *(parent.lineage if parent is not None else ())),
        instrument=decision.instrument,
        announced=term.announced,
        effective=term.effective,
        expires=expires,
        original_expiry=term.expires,
        renewals=renewals,
        apps=_flatten_apps(selectors),
        scope=tuple(scope),
        network_zones=tuple(zones),
        deadlines=deadlines,
        exception_rules=rules,
        active_exceptions=tuple(active),
        expired_exceptions=tuple(expired),
        future_exceptions=tuple(future),
        official_accounts=decision.official_accounts,
        asks=decision.asks,
        advised_by=decision.advised_by,
        evidence=decision.evidence,
    )


def resolve(policies: PolicySet, decision_id: str, *, at: date) -> ResolvedDecision:
    """The effective rule set of one decision on ``at``.

    Raises :class:`PolicyError` for an unknown id (a loaded :class:`PolicySet` has no
    dangling reference or cycle, so that is the only failure on loaded input).
    """
    decision = policies.decision(decision_id)
    if decision is None:
        raise PolicyError(f"unknown decision '{decision_id}'")
    return _resolve(policies, decision, at, ())


def resolve_all(policies: PolicySet, *, at: date) -> tuple[ResolvedDecision, ...]:
    """Every decision resolved on ``at``, sorted by id."""
    return tuple(resolve(policies, d.id, at=at) for d in sorted(policies.decisions, key=lambda d: d.id))
