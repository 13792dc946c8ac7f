"""Warnings about valid policies that still need a person's attention.

Each warning has a stable code (``AVP-Lnnn``), a slug, a message for people and the
place in the policy file. Pure: the date is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from appveto.errors import Diagnostic
from appveto.policy.model import (
    AdoptionStatus,
    Decision,
    DecisionStatus,
    PolicySet,
    ResolvedDecision,
    ResolvedScopePart,
    Role,
)
from appveto.policy.resolve import effective_expiry, resolve, shift_days


class LintCode(StrEnum):
    EXPIRED_WITHOUT_RENEWAL = "AVP-L001"
    EXPIRING_SOON = "AVP-L002"
    LAPSED_BEFORE_RENEWAL = "AVP-L003"
    EXCEPTION_EXPIRED = "AVP-L004"
    EXCEPTION_EXPIRING = "AVP-L005"
    SCOPE_CONFLICT = "AVP-L006"
    ADOPTION_PENDING = "AVP-L007"
    ADOPTION_DECLINED = "AVP-L008"
    ADOPTION_OUT_OF_DATE = "AVP-L009"
    NAME_ONLY_SELECTOR = "AVP-L010"
    NO_APPS = "AVP-L011"


SLUGS: dict[LintCode, str] = {
    LintCode.EXPIRED_WITHOUT_RENEWAL: "expired-without-renewal",
    LintCode.EXPIRING_SOON: "expiring-soon",
    LintCode.LAPSED_BEFORE_RENEWAL: "lapsed-before-renewal",
    LintCode.EXCEPTION_EXPIRED: "exception-expired",
    LintCode.EXCEPTION_EXPIRING: "exception-expiring",
    LintCode.SCOPE_CONFLICT: "scope-conflict",
    LintCode.ADOPTION_PENDING: "adoption-pending",
    LintCode.ADOPTION_DECLINED: "adoption-declined",
    LintCode.ADOPTION_OUT_OF_DATE: "adoption-status-out-of-date",
    LintCode.NAME_ONLY_SELECTOR: "name-only-selector",
    LintCode.NO_APPS: "no-apps",
}


@dataclass(frozen=True, slots=True, order=True)
class LintWarning:
    file: str
    line: int
    column: int
    code: LintCode
    decision: str
    message: str

    @property
    def slug(self) -> str:
        return SLUGS[self.code]

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(
            f"[{self.code} {self.slug}] {self.message}",
            file=self.file or None,
            line=self.line or None,
            column=self.column or None,
        )

    def __str__(self) -> str:
        return str(self.diagnostic())


def _warn(policies: PolicySet, code: LintCode, decision: str, message: str, *path: str | int) -> LintWarning:
    mark = policies.where(decision, *path)
    if mark is None:
        return LintWarning("", 0, 0, code, decision, message)
    return LintWarning(mark.file, mark.line or 0, mark.column or 0, code, decision, message)


def _units_overlap(policies: PolicySet, a: ResolvedScopePart, b: ResolvedScopePart) -> bool:
    units_a = a.units or (a.authority,)
    units_b = b.units or (b.authority,)
    for ua in units_a:
        anc_a = policies.unit_ancestors(ua)
        for ub in units_b:
            if ua == ub:
                return True
            anc_b = policies.unit_ancestors(ub)
            if a.include_sub_units and ua in anc_b:
                return True
            if b.include_sub_units and ub in anc_a:
                return True
    return False


def _roles(part: ResolvedScopePart) -> set[Role]:
    base = set(part.roles_include) if part.roles_include else set(Role)
    return base - set(part.roles_exclude)


def _overlap(policies: PolicySet, a: ResolvedScopePart, b: ResolvedScopePart) -> bool:
    if bool(a.networks) != bool(b.networks):
        return False
    if a.networks and not set(a.networks) & set(b.networks):
        return False
    if a.devices and b.devices and not set(a.devices) & set(b.devices):
        return False
    if not _roles(a) & _roles(b):
        return False
    return _units_overlap(policies, a, b)


def _lint_decision(
    policies: PolicySet, d: Decision, r: ResolvedDecision, at: date, soon: int
) -> list[LintWarning]:
    out: list[LintWarning] = []
    t = d.term
    expiry_path: tuple[str | int, ...] = ("term", "expires")
    if t.renewals:
        expiry_path = ("term", "renewals", len(t.renewals) - 1)
    if r.status is DecisionStatus.EXPIRED and r.expires is not None:
        later = [x for x in t.renewals if x.decided > at]
        if not later:
            out.append(
                _warn(
                    policies,
                    LintCode.EXPIRED_WITHOUT_RENEWAL,
                    d.id,
                    f"decision '{d.id}' expired on {r.expires} and was not renewed: renew it or record "
                    "that it lapsed (it no longer applies)",
                    *expiry_path,
                )
            )
    elif (
        r.status is not DecisionStatus.DRAFT
        and r.expires is not None
        and r.expires - at <= timedelta(days=soon)
    ):
        out.append(
            _warn(
                policies,
                LintCode.EXPIRING_SOON,
                d.id,
                f"decision '{d.id}' expires on {r.expires} (in {(r.expires - at).days} days): "
                "decide on its renewal",
                *expiry_path,
            )
        )
    # renewals decided after the expiry they extend: the ban lapsed in between
    for i, ren in enumerate(sorted(t.renewals, key=lambda x: x.decided)):
        if ren.decided > at:
            break
        before, _ = effective_expiry(d, at=shift_days(ren.decided, -1))
        if before is not None and ren.decided > before:
            out.append(
                _warn(
                    policies,
                    LintCode.LAPSED_BEFORE_RENEWAL,
                    d.id,
                    f"decision '{d.id}' lapsed from {before} until the renewal of {ren.decided}",
                    "term",
                    "renewals",
                    i,
                )
            )
    for i, e in enumerate(d.exceptions):
        if at >= e.expires:
            out.append(
                _warn(
                    policies,
                    LintCode.EXCEPTION_EXPIRED,
                    d.id,
                    f"exception '{e.id}' ({e.subject.kind} {e.subject.id}) expired on {e.expires}: "
                    "remove it or record a renewal; the ban applies to its subject again",
                    "exceptions",
                    i,
                    "expires",
                )
            )
        elif e.granted <= at and e.expires - at <= timedelta(days=soon):
            out.append(
                _warn(
                    policies,
                    LintCode.EXCEPTION_EXPIRING,
                    d.id,
                    f"exception '{e.id}' ({e.subject.kind} {e.subject.id}) expires on {e.expires} "
                    f"(in {(e.expires - at).days} days)",
                    "exceptions",
                    i,
                    "expires",
                )
            )
    parts = r.scope
    own_index = {p.id: i for i, p in enumerate(d.scope)}
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            if a.mode is not b.mode and _overlap(policies, a, b):
                idx = own_index.get(b.id if b.source_decision == d.id else a.id)
                path: tuple[str | int, ...] = ("scope", idx) if idx is not None else ("scope",)
                out.append(
                    _warn(
                        policies,
                        LintCode.SCOPE_CONFLICT,
                        d.id,
                        f"scope parts '{a.id}' ({a.mode}) and '{b.id}' ({b.mode}) overlap: say which applies "
                        "to the people and devices in both",
                        *path,
                    )
                )
    followers = {
        other.authority: other.id
        for other in policies.decisions
        if other.follows is not None and other.follows.decision == d.id
    }
    for i, ask in enumerate(d.asks):
        if ask.status is AdoptionStatus.PENDING:
            if ask.authority in followers:
                out.append(
                    _warn(
                        policies,
                        LintCode.ADOPTION_OUT_OF_DATE,
                        d.id,
                        f"'{ask.authority}' is listed as pending but decision '{followers[ask.authority]}' "
                        "follows this one: record the adoption",
                        "asks",
                        i,
                        "status",
                    )
                )
            else:
                out.append(
                    _warn(
                        policies,
                        LintCode.ADOPTION_PENDING,
                        d.id,
                        f"'{ask.authority}' was asked to adopt decision '{d.id}' and has not (yet)",
                        "asks",
                        i,
                    )
                )
        elif ask.status is AdoptionStatus.DECLINED:
            out.append(
                _warn(
                    policies,
                    LintCode.ADOPTION_DECLINED,
                    d.id,
                    f"'{ask.authority}' declined to adopt decision '{d.id}' on {ask.date}",
                    "asks",
                    i,
                )
            )
    for i, sel in enumerate(d.apps):
        if not sel.selects_anything():
            name = f"'{sel.name}'" if sel.name else f"#{i + 1}"
            out.append(
                _warn(
                    policies,
                    LintCode.NAME_ONLY_SELECTOR,
                    d.id,
                    f"app selector {name} selects nothing but a name, so it matches no app: add package or "
                    "bundle ids, domains, signer fingerprints, vendors, categories or a scan rule",
                    "apps",
                    i,
                )
            )
    if r.apps.empty:
        out.append(
            _warn(policies, LintCode.NO_APPS, d.id, f"decision '{d.id}' selects no app at all", "apps")
        )
    return out


def lint(policies: PolicySet, *, at: date, soon_days: int = 30) -> tuple[LintWarning, ...]:
    """Every warning for a loaded policy folder on ``at``, sorted by file and place."""
    out: list[LintWarning] = []
    for d in policies.decisions:
        out.extend(_lint_decision(policies, d, resolve(policies, d.id, at=at), at, soon_days))
    return tuple(sorted(out))
