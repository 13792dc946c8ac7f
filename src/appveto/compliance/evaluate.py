"""Compliance evaluation: policies (resolved for a date) x directory x inventory x scans.

:func:`evaluate` is pure in the sense of DESIGN.md rule 10: the date is a parameter, the
fleet is read through :class:`~appveto.compliance.model.FleetView` (the store is one), and
the output is sorted, so the same inputs give the same :class:`Evaluation` on SQLite and
on PostgreSQL.

How a device comes into a decision's scope (each step is what ``fleet explain`` prints):

1. the decision is in force on the date (``active``: effective, not expired after renewals);
2. the device has a holder in the directory (directory holding, else the MDM user);
3. a scope part covers the holder's org unit: the part's ``units`` (or the deciding
   authority when empty), with sub-units unless ``include_sub_units: false``; an
   authority that *adopted* the decision (an ``asks`` entry with status ``adopted`` on or
   before the date, with no decision of its own in the set) is covered by every part that
   has a device criterion, as if the part named it; a pending or declined request binds
   nobody;
4. the holder's roles pass the part's ``roles`` (directory role IDs or names are read as
   policy roles: ``Member of Parliament`` -> ``member_of_parliament``);
5. the device relation is one the part lists (derived from the MDM: company-owned or
   fully managed / supervised -> ``issued`` and ``paid_wholly``; personally owned ->
   ``personal``, and ``enrolled_personal`` when enrolled in a work profile or User
   Enrollment; every device enrolled in the administration's MDM -> ``accesses_system``,
   which is how it reaches mail and documents). ``paid_partly`` cannot be seen in an
   inventory and matches nothing. A part with neither devices nor networks covers every
   device of the people it covers; a part with networks only is enforced on the network
   (DNS/firewall export) and produces no device result.

Devices no inventory saw recently are ``unknown`` under each decision that covers them:
a stored device with a stale inventory (or none yet on the date) is judged on the relation
its MDM last reported; a device only the directory lists, and a person in scope who holds
no known device at all, have no known relation, so every part that covers the person
(whatever its device criterion) counts them (:data:`UNKNOWN_RELATION`). Each unit, role,
system and network zone a decision in force names is checked against the directory
(:mod:`appveto.compliance.coverage`): one that is missing is a limitation.

When several parts of one decision cover a device, a mandatory part wins over an advisory
one. Apps are matched with the decision's selectors: Android package names exactly, iOS
bundle IDs without regard to case, a selector's ``name`` only for inventory rows that
carry no app ID (Intune's discovered apps), ``vendors`` through the vendor table of
:mod:`appveto.kb.vendors`, and ``signer_sha256``/``scan`` rules through the scan
results given (the scanned package name is then matched). ``web`` domains are enforced by
the DNS export only; ``categories`` and ``countries_of_origin`` need data the fleet does
not have, and the evaluation lists them in its limitations.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from appveto.compliance.coverage import DirectoryNames, decision_gaps, policy_role
from appveto.compliance.model import (
    DEFAULT_STALE_AFTER,
    PRESENT_STATUSES,
    Adoption,
    Change,
    DecisionSummary,
    DeviceResult,
    Evaluation,
    FleetView,
    Limitation,
    LimitationKind,
    PlatformCount,
    Rollup,
    ScanFacts,
    Status,
    StatusCount,
    UnknownReason,
)
from appveto.fleet.model import (
    Device,
    DeviceInventory,
    HeldDevice,
    InstalledApp,
    ManagementMode,
    Ownership,
    Platform,
)
from appveto.kb.vendors import vendor_apps
from appveto.policy.model import (
    AdoptionStatus,
    DecisionStatus,
    DeviceRelation,
    Mode,
    PolicySet,
    ResolvedDecision,
    ResolvedException,
    ResolvedScopePart,
    Role,
    SubjectKind,
    normalise_sha256,
)
from appveto.policy.resolve import resolve_all

_ANDROID_PLATFORMS = frozenset({Platform.ANDROID.value, Platform.CHROMEOS.value})
_APPLE_PLATFORMS = frozenset({Platform.IOS.value, Platform.IPADOS.value, Platform.MACOS.value})
_STATUS_ORDER = {s: i for i, s in enumerate(Status)}

UNKNOWN_RELATION: frozenset[DeviceRelation] = frozenset(DeviceRelation)
"""The relation of a device nobody inventoried (or of a person's unknown device): it may be
any, so every part that covers the person covers it (no real device has all relations)."""


def end_of_day(at: date) -> datetime:
    """The last instant of ``at`` in UTC: snapshots taken that day count for that day."""
    return datetime.combine(at, time.max, tzinfo=UTC)


def is_fresh(observed_at: datetime | None, at: date, stale_after: timedelta) -> bool:
    """An inventory counts when taken at most ``stale_after`` (whole days) before ``at``."""
    if observed_at is None:
        return False
    return (at - observed_at.astimezone(UTC).date()) <= stale_after


# --------------------------------------------------------------------------- device relations


def device_relations(device: Device) -> tuple[frozenset[DeviceRelation], str]:
    """The relations a device has to the administration, and why (see the module docs)."""
    return _relations(device.ownership, device.management_mode)


@functools.cache
def _relations(ownership: Ownership, mode: ManagementMode) -> tuple[frozenset[DeviceRelation], str]:
    rel: set[DeviceRelation] = set()
    managed = mode is not ManagementMode.UNMANAGED
    if ownership is Ownership.COMPANY:
        rel |= {DeviceRelation.ISSUED, DeviceRelation.PAID_WHOLLY}
        why = "company-owned"
    elif ownership is Ownership.PERSONAL:
        rel.add(DeviceRelation.PERSONAL)
        why = "personally owned"
        if mode in (ManagementMode.WORK_PROFILE, ManagementMode.USER_ENROLLMENT):
            rel.add(DeviceRelation.ENROLLED_PERSONAL)
            why += f", enrolled ({mode.value})"
    elif mode in (ManagementMode.FULLY_MANAGED, ManagementMode.SUPERVISED):
        rel |= {DeviceRelation.ISSUED, DeviceRelation.PAID_WHOLLY}
        why = f"ownership not reported; {mode.value} devices are the administration's"
    elif mode in (ManagementMode.WORK_PROFILE, ManagementMode.USER_ENROLLMENT):
        rel |= {DeviceRelation.PERSONAL, DeviceRelation.ENROLLED_PERSONAL}
        why = f"ownership not reported; {mode.value} is how personal devices enrol"
    else:
        why = "ownership and management mode not reported"
    if managed:
        rel.add(DeviceRelation.ACCESSES_SYSTEM)
        why += "; enrolled in the MDM, so it reaches the administration's systems"
    return frozenset(rel), why


# --------------------------------------------------------------------------- app matching


@dataclass(frozen=True, slots=True)
class AppMatcher:
    """The app selection of one decision, ready for inventory rows."""

    android: dict[str, str]
    """package -> how it is selected"""
    ios: dict[str, str]
    """case-folded bundle ID -> how it is selected"""
    names: dict[str, str]
    """case-folded selector name -> how (for rows without an app ID)"""

    def match(self, platform: str, app_id: str | None, name: str | None) -> str | None:
        if app_id is None:
            return self.names.get(name.casefold()) if name else None
        if platform in _ANDROID_PLATFORMS:
            return self.android.get(app_id)
        if platform in _APPLE_PLATFORMS:
            return self.ios.get(app_id.casefold())
        return self.android.get(app_id) or self.ios.get(app_id.casefold())

    def app_ids(self) -> set[str]:
        return set(self.android) | set(self.ios)

    @property
    def empty(self) -> bool:
        return not (self.android or self.ios or self.names)


def build_matcher(
    decision: ResolvedDecision,
    scans: Sequence[ScanFacts],
    limitations: list[Limitation],
    *,
    raw_ios: set[str],
) -> AppMatcher:
    apps = decision.apps
    android: dict[str, str] = {}
    ios: dict[str, str] = {}
    names: dict[str, str] = {}
    for p in apps.android_packages:
        android.setdefault(p, f"android package {p}")
    for b in apps.ios_bundle_ids:
        ios.setdefault(b.casefold(), f"iOS bundle ID {b}")
        raw_ios.add(b)
    for vendor in apps.vendors:
        listed = vendor_apps(vendor)
        if listed is None:
            limitations.append(
                _selector(decision, f"vendor '{vendor}' is not in the vendor table; its apps are not matched")
            )
            continue
        for va in listed:
            for p in va.android:
                android.setdefault(p, f"vendor {vendor} ({va.name})")
            for b in va.ios:
                ios.setdefault(b.casefold(), f"vendor {vendor} ({va.name})")
                raw_ios.add(b)
    for sel in apps.selectors:
        if sel.name and sel.selects_anything():
            names.setdefault(sel.name.casefold(), f"app name '{sel.name}' (the inventory has no app ID)")
    if apps.signer_sha256 or apps.scan_rules:
        if not scans:
            limitations.append(
                _selector(decision, "signer or scan-score selectors need scan results; none were given")
            )
        signers = set(apps.signer_sha256)
        for s in scans:
            for fp in s.signer_sha256:
                if normalise_sha256(fp) in signers:
                    android.setdefault(
                        s.package, f"signer {normalise_sha256(fp)[:16]}... (scan {s.source or s.package})"
                    )
            for rule in apps.scan_rules:
                ok = True
                why: list[str] = []
                if rule.score_at_least is not None:
                    ok = ok and s.score is not None and s.score >= rule.score_at_least
                    why.append(f"risk score {s.score} >= {rule.score_at_least}")
                if rule.finding:
                    ok = ok and rule.finding in s.findings
                    why.append(f"finding {rule.finding}")
                if ok and why:
                    android.setdefault(s.package, f"scan {s.source or s.package}: {', '.join(why)}")
    if apps.categories or apps.countries_of_origin:
        limitations.append(
            _selector(
                decision,
                "category and country-of-origin selectors are not matched against inventories "
                "(no such data in MDM exports); only the decision's other selectors are evaluated",
            )
        )
    if apps.web_domains and not (android or ios):
        limitations.append(
            _selector(decision, "selects web domains only; enforced by the DNS export, not on devices")
        )
    return AppMatcher(android, ios, names)


def _selector(decision: ResolvedDecision, what: str) -> Limitation:
    return Limitation(LimitationKind.SELECTOR, f"{decision.id}: {what}", decision_id=decision.id)


# --------------------------------------------------------------------------- directory context


@dataclass(frozen=True, slots=True, eq=False)
class Who:
    """A person as scope matching sees them (one object per distinct unit, authority and roles
    in a :class:`Context`, so identity is equality and hashing is cheap)."""

    unit: str | None
    authority: str | None
    roles: frozenset[Role]
    containers: frozenset[str]
    """The org unit, its ancestors, the authority and the policy's ancestors of the unit."""
    direct: frozenset[str]
    """The org unit itself (or the authority when the person has no unit)."""
    raw_roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScopeRef:
    """A scope part of a decision in force, possibly brought by an adoption."""

    decision: ResolvedDecision
    part: ResolvedScopePart
    adopted_by: str | None = None


class Context:
    """Policies resolved for the date, joined with the directory (built once per evaluation)."""

    def __init__(
        self,
        policies: PolicySet,
        fleet: FleetView,
        scans: Sequence[ScanFacts],
        *,
        at: date,
        force: Collection[str] = (),
    ) -> None:
        self.policies = policies
        self.at = at
        self.limitations: list[Limitation] = []
        self.resolved = resolve_all(policies, at=at)
        self.active = tuple(d for d in self.resolved if d.in_force or d.id in force)
        raw_ios: set[str] = set()
        self.matchers = {
            d.id: build_matcher(d, scans, self.limitations, raw_ios=raw_ios) for d in self.active
        }
        ids: set[str] = set(raw_ios)
        names: set[str] = set()
        for m in self.matchers.values():
            ids |= m.app_ids()
            names |= set(m.names)
        self.app_ids = frozenset(ids)
        self.app_names = frozenset(names)
        self.adoptions = self._adoptions()
        self.parts: tuple[ScopeRef, ...] = tuple(self._parts())
        # directory
        self.authority_names: dict[str, str] = {a.id: a.name for a in fleet.authorities()}
        self.authority_parent: dict[str, str | None] = {a.id: a.parent_id for a in fleet.authorities()}
        units = fleet.org_units()
        self.names = DirectoryNames.of(
            policies,
            authorities=fleet.authorities(),
            org_units=units,
            roles=fleet.roles(),
            systems=fleet.systems(),
            networks=fleet.networks(),
        )
        self.limitations += decision_gaps(policies, self.names, self.active, self.adoptions)
        self.unit_names: dict[str, str] = {u.id: u.name for u in units}
        self.unit_parent: dict[str, str | None] = {u.id: u.parent_id for u in units}
        self.unit_authority: dict[str, str | None] = {u.id: u.authority_id for u in units}
        self._people: dict[str, tuple[str | None, str | None, tuple[str, ...]]] = {}
        intern: dict[object, object] = {}
        for member in fleet.memberships():
            if not member.active:
                continue
            key = (member.org_unit_id, member.authority_id, member.roles)
            self._people[member.person_id] = intern.setdefault(key, key)  # type: ignore[assignment]
        self._who: dict[tuple[str | None, str | None, tuple[str, ...]], Who] = {}
        self._applicable: dict[tuple[Who, frozenset[DeviceRelation]], tuple[tuple[ScopeRef, ...], ...]] = {}

    # -- adoption

    def _adoptions(self) -> tuple[Adoption, ...]:
        out: list[Adoption] = []
        local = {d.id for d in self.policies.decisions}
        for d in self.active:
            for ask in d.asks:
                adopted = ask.status is AdoptionStatus.ADOPTED and (ask.date is None or ask.date <= self.at)
                own = ask.decision if ask.decision in local else None
                out.append(
                    Adoption(
                        decision_id=d.id,
                        authority_id=ask.authority,
                        status=ask.status.value if ask.date is None or ask.date <= self.at else "pending",
                        date=ask.date,
                        binding=adopted and own is None,
                        via_decision=own,
                    )
                )
        return tuple(sorted(out, key=lambda a: (a.decision_id, a.authority_id)))

    def _parts(self) -> Iterator[ScopeRef]:
        for d in self.active:
            for p in d.scope:
                yield ScopeRef(d, p)
            for a in self.adoptions:
                if a.decision_id != d.id or not a.binding:
                    continue
                for p in d.scope:
                    if p.devices or not p.networks:
                        yield ScopeRef(
                            d,
                            dataclasses.replace(p, units=(a.authority_id,), include_sub_units=True),
                            adopted_by=a.authority_id,
                        )

    # -- people

    def person_key(self, person_id: str | None) -> tuple[str | None, str | None, tuple[str, ...]] | None:
        return self._people.get(person_id) if person_id is not None else None

    def people_count(self) -> int:
        return len(self._people)

    def unit_chain(self, unit: str | None) -> tuple[str, ...]:
        chain: list[str] = []
        while unit is not None and unit not in chain:
            chain.append(unit)
            unit = self.unit_parent.get(unit)
        return tuple(chain)

    def authority_of(self, unit: str | None, authority: str | None) -> str | None:
        if authority:
            return authority
        for u in self.unit_chain(unit):
            a = self.unit_authority.get(u)
            if a:
                return a
        return None

    def who(self, key: tuple[str | None, str | None, tuple[str, ...]]) -> Who:
        found = self._who.get(key)
        if found is not None:
            return found
        unit, auth, roles = key
        authority = self.authority_of(unit, auth)
        containers = set(self.unit_chain(unit))
        if unit is not None:
            containers |= set(self.policies.unit_ancestors(unit))
        if authority is not None:
            containers.add(authority)
        direct = {unit} if unit is not None else ({authority} if authority else set())
        prs = frozenset(r for r in (policy_role(x) for x in roles) if r is not None)
        found = Who(unit, authority, prs, frozenset(containers), frozenset(direct), roles)
        self._who[key] = found
        return found

    # -- scope

    def part_covers(
        self, who: Who, rel: frozenset[DeviceRelation], ref: ScopeRef, steps: list[str] | None = None
    ) -> bool:
        p = ref.part
        note = steps.append if steps is not None else (lambda _s: None)
        if not p.devices and p.networks:
            note(
                f"part '{p.id}' applies on the networks {', '.join(p.networks)} only: enforced by the "
                "network export, no device result"
            )
            return False
        containers = p.units or (p.authority,)
        pool = who.containers if p.include_sub_units else who.direct
        hit = next((c for c in containers if c in pool), None)
        if hit is None:
            absent = [c for c in containers if c not in self.names.containers]
            note(
                f"part '{p.id}' covers {', '.join(containers)}"
                f"{'' if p.include_sub_units else ' (without sub-units)'}: not the holder's unit "
                f"{who.unit or '-'} (authority {who.authority or '-'})"
                + (f"; the directory has no {', '.join(absent)}" if absent else "")
            )
            return False
        via = f", because {ref.adopted_by} adopted the decision" if ref.adopted_by else ""
        note(f"part '{p.id}' ({p.mode.value}) covers {hit}{via}")
        if any(r in p.roles_exclude for r in who.roles):
            note(
                f"part '{p.id}' excludes the roles {', '.join(r.value for r in p.roles_exclude)}; "
                f"the holder has {', '.join(sorted(r.value for r in who.roles))}"
            )
            return False
        if p.roles_include and not any(r in p.roles_include for r in who.roles):
            note(
                f"part '{p.id}' is for {', '.join(r.value for r in p.roles_include)}; the holder's roles "
                f"are {', '.join(who.raw_roles) or 'none'}"
            )
            return False
        if p.devices and rel is UNKNOWN_RELATION:
            note(
                f"part '{p.id}' is for {', '.join(d.value for d in p.devices)} devices; no inventory says "
                "what this device is, so it may be one of them"
            )
        elif p.devices:
            shared = [d for d in p.devices if d in rel]
            if not shared:
                note(
                    f"part '{p.id}' is for {', '.join(d.value for d in p.devices)} devices; this device is "
                    f"{', '.join(sorted(r.value for r in rel)) or 'of no known relation'}"
                )
                return False
            note(
                f"part '{p.id}' is for {', '.join(d.value for d in p.devices)} devices; this one is "
                f"{', '.join(d.value for d in shared)}"
            )
        else:
            note(f"part '{p.id}' has no device criterion: every device of the people it covers")
        return True

    def applicable(self, who: Who, rel: frozenset[DeviceRelation]) -> tuple[tuple[ScopeRef, ...], ...]:
        """Per decision in force, the parts that cover this person and device (mandatory first)."""
        key = (who, rel)
        found = self._applicable.get(key)
        if found is not None:
            return found
        by_decision: dict[str, list[ScopeRef]] = {}
        for ref in self.parts:
            if self.part_covers(who, rel, ref):
                by_decision.setdefault(ref.decision.id, []).append(ref)
        out = tuple(
            tuple(sorted(refs, key=lambda r: r.part.mode is not Mode.MANDATORY))
            for _, refs in sorted(by_decision.items())
        )
        self._applicable[key] = out
        return out

    # -- exceptions

    @staticmethod
    def covering(
        exceptions: Iterable[ResolvedException], person_id: str | None, who: Who, device: Device
    ) -> ResolvedException | None:
        """The first exception (by expiry, latest first) whose subject is this person, device or unit."""
        dev_keys = {
            k for k in (device.source_device_id, device.name, device.serial_number, str(device.id)) if k
        }
        hits = []
        for e in exceptions:
            if (
                (e.subject_kind is SubjectKind.PERSON and e.subject_id == person_id)
                or (e.subject_kind is SubjectKind.DEVICE and e.subject_id in dev_keys)
                or (e.subject_kind is SubjectKind.UNIT and e.subject_id in who.direct)
            ):
                hits.append(e)
        return max(hits, key=lambda e: (e.expires, e.id)) if hits else None


def classify(
    ctx: Context, ref: ScopeRef, person_id: str | None, who: Who, device: Device
) -> tuple[Status, ResolvedException | None]:
    """The status of a present app under the covering part ``ref``."""
    d = ref.decision
    active = Context.covering(d.active_exceptions, person_id, who, device)
    if active is not None:
        return Status.EXEMPTED, active
    expired = Context.covering(d.expired_exceptions, person_id, who, device)
    if ref.part.mode is Mode.ADVISORY:
        return Status.ADVISORY, expired
    if expired is not None:
        return Status.EXCEPTION_EXPIRED, expired
    if d.remove_by is not None and ctx.at > d.remove_by:
        return Status.OVERDUE, None
    return Status.VIOLATION, None


# --------------------------------------------------------------------------- the pass over the fleet


@dataclass(slots=True)
class _Pass:
    results: list[DeviceResult]
    in_scope_devices: dict[str, int]
    in_scope_people: dict[str, set[str]]
    scope_platforms: dict[tuple[str, str], list[int]]
    """(decision, platform) -> [devices in scope, of which unknown]"""
    platforms: dict[str, list[int]]
    """platform -> [devices known, of which with a recent inventory]"""
    stale: set[int]
    """Stored devices without a recent inventory (the changes leave them out)."""
    devices_total: int = 0
    devices_observed: int = 0
    directory_only: int = 0
    unheld: int = 0
    undetermined: int = 0
    people_without_devices: int = 0
    compared: int = 0


def _new_pass() -> _Pass:
    return _Pass([], defaultdict(int), defaultdict(set), {}, {}, set())


def _count(table: dict[Any, list[int]], key: Any, second: bool) -> None:
    found = table.get(key)
    if found is None:
        found = table[key] = [0, 0]
    found[0] += 1
    if second:
        found[1] += 1


def _run(
    ctx: Context,
    inventories: Iterable[DeviceInventory],
    *,
    stale_after: timedelta,
    previous: _Pass | None = None,
    watch: Collection[int] = (),
    watched: set[int] | None = None,
) -> _Pass:
    """One pass over the stored devices. With ``previous`` (the pass over the current
    inventories), the inventories are the previous snapshots: only present apps are
    judged, devices without a recent inventory now are left out, and devices in ``watch``
    that had a previous snapshot are added to ``watched``."""
    out = _new_pass()
    matchers = ctx.matchers
    for inv in inventories:
        obs = inv.observation
        device = obs.device
        if previous is not None:
            if device.id in previous.stale:
                continue
            out.compared += 1
            if watched is not None and device.id in watch:
                watched.add(device.id)
            fresh = True
        else:
            out.devices_total += 1
            fresh = is_fresh(obs.observed_at, ctx.at, stale_after)
            _count(out.platforms, device.platform.value, fresh)
            if fresh:
                out.devices_observed += 1
            else:
                out.stale.add(device.id)
        key = ctx.person_key(device.person_id)
        if key is None:
            if fresh and any(
                m.match(a.platform, a.app_id, a.name) for a in inv.apps for m in matchers.values()
            ):
                out.unheld += 1
            continue
        who = ctx.who(key)
        rel, _ = device_relations(device)
        if (
            fresh
            and device.ownership is Ownership.UNKNOWN
            and device.management_mode is ManagementMode.UNKNOWN
            and any(m.match(a.platform, a.app_id, a.name) for a in inv.apps for m in matchers.values())
        ):
            out.undetermined += 1
        groups = ctx.applicable(who, rel)
        if not groups:
            continue
        pid = device.person_id
        for refs in groups:
            ref = refs[0]
            dec = ref.decision
            out.in_scope_devices[dec.id] += 1
            if pid is not None:
                out.in_scope_people[dec.id].add(pid)
            if previous is None:
                _count(out.scope_platforms, (dec.id, device.platform.value), not fresh)
            if not fresh:
                reason = UnknownReason.NOT_SEEN_YET if obs.observed_at is None else UnknownReason.STALE
                out.results.append(
                    _result(Status.UNKNOWN, ref, device, who, obs.observed_at, None, None, None, reason)
                )
                continue
            matcher = matchers[dec.id]
            for app in inv.apps:
                why = matcher.match(app.platform, app.app_id, app.name)
                if why is None:
                    continue
                status, exc = classify(ctx, ref, pid, who, device)
                out.results.append(_result(status, ref, device, who, obs.observed_at, app, why, exc))
    return out


def _unseen(ctx: Context, out: _Pass, held: Iterable[HeldDevice], nobody: Iterable[str]) -> None:
    """Devices only the directory lists, and people in scope who hold no known device: both
    ``unknown`` under every decision whose parts cover the person, whatever the device."""
    for h in held:
        platform = h.platform.value
        out.devices_total += 1
        out.directory_only += 1
        _count(out.platforms, platform, False)
        key = ctx.person_key(h.person_id)
        if key is None:
            continue
        who = ctx.who(key)
        for refs in ctx.applicable(who, UNKNOWN_RELATION):
            ref = refs[0]
            out.in_scope_devices[ref.decision.id] += 1
            out.in_scope_people[ref.decision.id].add(h.person_id)
            _count(out.scope_platforms, (ref.decision.id, platform), True)
            out.results.append(
                _absent(ref, who, h.person_id, f"directory:{h.key}", platform, UnknownReason.DIRECTORY_ONLY)
            )
    for pid in nobody:
        key = ctx.person_key(pid)
        if key is None:
            continue
        who = ctx.who(key)
        groups = ctx.applicable(who, UNKNOWN_RELATION)
        if groups:
            out.people_without_devices += 1
        for refs in groups:
            ref = refs[0]
            out.in_scope_people[ref.decision.id].add(pid)
            out.results.append(_absent(ref, who, pid, "", "", UnknownReason.NO_DEVICE))


def _result(
    status: Status,
    ref: ScopeRef,
    device: Device,
    who: Who,
    observed_at: datetime | None,
    app: InstalledApp | None,
    why: str | None,
    exc: ResolvedException | None,
    reason: UnknownReason | None = None,
) -> DeviceResult:
    return DeviceResult(
        status=status,
        decision_id=ref.decision.id,
        part_id=ref.part.id,
        mode=ref.part.mode,
        device_id=int(device.id),
        device_key=f"{device.source}:{device.source_device_id}",
        device_name=device.name,
        platform=device.platform.value,
        person_id=device.person_id,
        org_unit_id=who.unit,
        authority_id=who.authority,
        app_id=app.app_id if app else None,
        app_name=app.name if app else None,
        app_version=app.version if app else None,
        matched_by=why,
        exception_id=exc.id if exc else None,
        exception_expires=exc.expires if exc else None,
        remove_by=ref.decision.remove_by,
        adopted_by=ref.adopted_by,
        observed_at=observed_at,
        reason=reason,
    )


def _absent(
    ref: ScopeRef, who: Who, person_id: str, device_key: str, platform: str, reason: UnknownReason
) -> DeviceResult:
    return DeviceResult(
        status=Status.UNKNOWN,
        decision_id=ref.decision.id,
        part_id=ref.part.id,
        mode=ref.part.mode,
        device_id=None,
        device_key=device_key,
        device_name=None,
        platform=platform,
        person_id=person_id,
        org_unit_id=who.unit,
        authority_id=who.authority,
        app_id=None,
        app_name=None,
        app_version=None,
        matched_by=None,
        remove_by=ref.decision.remove_by,
        adopted_by=ref.adopted_by,
        reason=reason,
    )


def _sort_key(r: DeviceResult) -> tuple[str, str, str, str, str]:
    return (r.decision_id, r.person_id or "", r.device_key, r.app_id or "", r.app_name or "")


def _counts(results: Iterable[DeviceResult]) -> tuple[StatusCount, ...]:
    devs: dict[Status, set[str]] = defaultdict(set)
    people: dict[Status, set[str]] = defaultdict(set)
    for r in results:
        found = devs[r.status]
        if r.device_key:
            found.add(r.device_key)
        if r.person_id:
            people[r.status].add(r.person_id)
    return tuple(
        StatusCount(s, len(devs[s]), len(people[s])) for s in sorted(devs, key=lambda s: _STATUS_ORDER[s])
    )


def _rollups(ctx: Context, results: Sequence[DeviceResult]) -> tuple[Rollup, ...]:
    groups: dict[tuple[str, str], list[DeviceResult]] = defaultdict(list)
    for r in results:
        for u in ctx.unit_chain(r.org_unit_id):
            groups[("org_unit", u)].append(r)
        a = r.authority_id
        seen: set[str] = set()
        while a and a not in seen:
            seen.add(a)
            groups[("authority", a)].append(r)
            a = ctx.authority_parent.get(a)
    out = []
    for (kind, ident), rs in sorted(groups.items()):
        names = ctx.unit_names if kind == "org_unit" else ctx.authority_names
        out.append(Rollup(kind, ident, names.get(ident, ident), _counts(rs)))
    return tuple(out)


def _changes(
    now: Sequence[DeviceResult], before: Sequence[DeviceResult], compared: Collection[int]
) -> tuple[Change, ...]:
    """Present-app results new or resolved since each device's previous snapshot. Only devices
    with a recent inventory now and a previous snapshot are compared (``compared``: those of
    them with a present app now; ``before`` holds only such devices): a device seen for the
    first time has nothing new since a snapshot it was not in, and one that stopped reporting
    has resolved nothing."""
    cur = {r.key: r for r in now if r.status in PRESENT_STATUSES and r.device_id in compared}
    old = {r.key: r for r in before if r.status in PRESENT_STATUSES}
    out = [
        Change("new", r.decision_id, r.device_id, r.device_key, r.person_id, r.app_id, r.app_name, r.status)
        for k, r in cur.items()
        if k not in old
    ]
    out += [
        Change(
            "resolved", r.decision_id, r.device_id, r.device_key, r.person_id, r.app_id, r.app_name, r.status
        )
        for k, r in old.items()
        if k not in cur
    ]
    return tuple(
        sorted(out, key=lambda c: (c.kind, c.decision_id, c.person_id or "", c.device_key, c.app_id or ""))
    )


def evaluate(
    policies: PolicySet,
    fleet: FleetView,
    scans: Sequence[ScanFacts] = (),
    *,
    at: date,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    changes: bool = True,
    force: Collection[str] = (),
) -> Evaluation:
    """Evaluate every decision in force on ``at`` against the fleet's latest inventory at ``at``.

    ``stale_after``: an inventory older than this (whole days before ``at``) does not count
    and the device is ``unknown`` under each decision that covers it. Devices only the
    directory lists and people in scope with no known device are ``unknown`` too.
    ``changes``: also read each device's previous snapshot and list present-app results
    that are new or resolved since (devices with a recent inventory and a previous
    snapshot only). ``force``: decision IDs evaluated as if in force (used by
    :func:`appveto.compliance.impact.impact` for drafts).
    """
    ctx = Context(policies, fleet, scans, at=at, force=force)
    at_dt = end_of_day(at)
    ids = ctx.app_ids
    cur = _run(
        ctx, fleet.device_inventories(at_dt, app_ids=ids, app_names=ctx.app_names), stale_after=stale_after
    )
    _unseen(ctx, cur, fleet.directory_devices(), fleet.people_without_devices())
    results = sorted(cur.results, key=_sort_key)
    change_list: tuple[Change, ...] = ()
    compared: int | None = None
    if changes:
        present = {r.device_id for r in results if r.status in PRESENT_STATUSES and r.device_id is not None}
        watched: set[int] = set()
        prev = _run(
            ctx,
            fleet.device_inventories(
                at_dt, previous=True, app_ids=ids, app_names=ctx.app_names, observed_only=True
            ),
            stale_after=timedelta.max,
            previous=cur,
            watch=present,
            watched=watched,
        )
        compared = prev.compared
        change_list = _changes(results, prev.results, watched)
    per_decision: dict[str, list[DeviceResult]] = defaultdict(list)
    for r in results:
        per_decision[r.decision_id].append(r)
    summaries = []
    for d in ctx.resolved:
        evaluated = d.id in ctx.matchers
        net_only = tuple(p.id for p in d.scope if not p.devices and p.networks)
        mine = per_decision.get(d.id, ())
        summaries.append(
            DecisionSummary(
                decision_id=d.id,
                title=d.title,
                status=d.status,
                evaluated=evaluated,
                remove_by=d.remove_by,
                devices_in_scope=cur.in_scope_devices.get(d.id, 0),
                people_in_scope=len(cur.in_scope_people.get(d.id, ())),
                network_only_parts=net_only,
                network_zones=tuple(z.name for z in d.network_zones),
                counts=_counts(mine),
                platforms=tuple(
                    PlatformCount(platform, n, unknown)
                    for (dec, platform), (n, unknown) in sorted(cur.scope_platforms.items())
                    if dec == d.id
                ),
                people_without_devices=sum(1 for r in mine if r.reason is UnknownReason.NO_DEVICE),
            )
        )
    if not ctx.active:
        ctx.limitations.append(
            Limitation(LimitationKind.NO_DECISION, f"no decision is in force on {at.isoformat()}")
        )
    if cur.undetermined:
        ctx.limitations.append(
            Limitation(
                LimitationKind.UNDETERMINED_DEVICES,
                f"{cur.undetermined} held devices carry a selected app but their MDM reports neither "
                "ownership nor management mode (e.g. Intune's discovered-apps export): parts limited to "
                "issued or personal devices cannot cover them",
            )
        )
    return Evaluation(
        at=at,
        stale_after=stale_after,
        decisions=tuple(summaries),
        results=tuple(results),
        rollups=_rollups(ctx, results),
        changes=change_list,
        adoptions=ctx.adoptions,
        devices_total=cur.devices_total,
        devices_observed=cur.devices_observed,
        unheld_with_selected_apps=cur.unheld,
        undetermined_with_selected_apps=cur.undetermined,
        limitations=sort_limitations(ctx.limitations),
        devices_directory_only=cur.directory_only,
        people_without_devices=cur.people_without_devices,
        platforms=tuple(
            PlatformCount(platform, n, n - seen) for platform, (n, seen) in sorted(cur.platforms.items())
        ),
        compared_devices=compared,
    )


def sort_limitations(limitations: Iterable[Limitation]) -> tuple[Limitation, ...]:
    """Names the directory lacks first, then the others; each once, in a stable order."""
    unique = dict.fromkeys(limitations)
    return tuple(
        sorted(
            unique,
            key=lambda x: (
                not x.missing,
                x.decision_id or "",
                x.part_id or "",
                x.kind.value,
                x.subject or "",
                x.message,
            ),
        )
    )


__all__ = [
    "UNKNOWN_RELATION",
    "AppMatcher",
    "Context",
    "DecisionStatus",
    "Who",
    "classify",
    "device_relations",
    "end_of_day",
    "evaluate",
    "is_fresh",
    "policy_role",
    "sort_limitations",
]
