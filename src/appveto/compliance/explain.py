"""``appveto fleet explain --person WHO | --device KEY``: which decisions apply and why, step by step.

The explanation walks the same predicates as :func:`appveto.compliance.evaluate.evaluate`
(:meth:`Context.part_covers`, :func:`classify`), so what it says is what the evaluation
did: decision status on the date, the deciding authority chain, how the device is tied to
its holder, each scope part matched or not and why, the app matched by which selector,
the exception that covers it (or expired), and the deadline.

It says what could not be seen and where it should have come from: a stale inventory
names its source and date; a device only the directory lists is shown with the sources
whose snapshots were imported (none of which has it); a person who holds no known device
is said to, and each decision that covers them is ``unknown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from appveto.compliance.evaluate import (
    UNKNOWN_RELATION,
    Context,
    classify,
    device_relations,
    end_of_day,
    is_fresh,
)
from appveto.compliance.model import DEFAULT_STALE_AFTER, FleetView, ScanFacts, Status
from appveto.errors import ComplianceError, Diagnostic
from appveto.fleet.model import Device, DeviceInventory, HeldDevice, InstalledApp, Person
from appveto.policy.model import DeviceRelation, PolicySet


@dataclass(frozen=True, slots=True)
class DecisionExplanation:
    decision_id: str
    title: str
    applies: bool
    steps: tuple[str, ...]
    statuses: tuple[tuple[str, Status], ...]
    """(app, status) for each matched app; ('-', unknown) without a recent inventory."""


@dataclass(frozen=True, slots=True)
class DeviceExplanation:
    device_id: int | None
    """The store's ID; None for a device only the directory lists, or for "no device"."""
    device_key: str
    device_name: str | None
    person_id: str | None
    steps: tuple[str, ...]
    """How the device relates to its holder and the inventory it was judged on."""
    decisions: tuple[DecisionExplanation, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    subject: str
    """``person ID`` or ``device KEY``."""
    at: date
    found: bool
    person_steps: tuple[str, ...]
    devices: tuple[DeviceExplanation, ...]
    """The person's devices (stored, then only listed by the directory); for a person who holds
    no known device, one entry with an empty key that explains the decisions covering them."""


def find_person(fleet: FleetView, text: str) -> str:
    """The directory ID of the one person ``text`` names: by ID, or by e-mail address or user
    name without regard to case. Nobody, or several people, is a :class:`ComplianceError`
    that says what was tried (or lists the candidates)."""
    people = fleet.find_people(text)
    if not people:
        message = (
            f"no person of the directory has the ID, e-mail address or user name {text!r} (tried: the ID "
            f"exactly, then e-mail addresses and user names without regard to case)"
        )
        raise ComplianceError(message, diagnostics=(Diagnostic(message),))
    if len(people) > 1:
        shown = "; ".join(_how(p, text) for p in people)
        message = (
            f"--person {text!r} is ambiguous: {len(people)} people answer to it ({shown}); "
            "give the ID of the one meant"
        )
        raise ComplianceError(message, diagnostics=(Diagnostic(message),))
    return people[0].id


def _how(p: Person, text: str) -> str:
    folded = text.strip().lower()
    how = [
        what
        for what, value in (
            ("ID", p.id if p.id == text else None),
            ("e-mail", p.email),
            ("user name", p.user_name),
        )
        if value is not None and (value == text or value.lower() == folded)
    ]
    return f"{p.id} by {' and '.join(how) or 'ID'}"


def explain(
    policies: PolicySet,
    fleet: FleetView,
    scans: Sequence[ScanFacts] = (),
    *,
    at: date,
    person: str | None = None,
    device: str | None = None,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> Explanation:
    """Explain the evaluation of one person (by directory ID: see :func:`find_person`; all their
    devices) or one device (by MDM ID, name, serial number, store ID or the key the directory
    lists it under)."""
    if (person is None) == (device is None):
        raise ValueError("explain needs exactly one of person= or device=")
    ctx = Context(policies, fleet, scans, at=at)
    wanted: list[DeviceInventory] = []
    person_steps: list[str] = []
    found = False
    for inv in fleet.device_inventories(end_of_day(at), app_ids=ctx.app_ids, app_names=ctx.app_names):
        d = inv.observation.device
        if (person is not None and d.person_id == person) or (
            device is not None and device in _device_keys(d)
        ):
            wanted.append(inv)
    listed = [
        h
        for h in fleet.directory_devices()
        if (person is not None and h.person_id == person) or (device is not None and h.key == device)
    ]
    sources = _sources(fleet, at)
    explained = [_explain_device(ctx, inv, stale_after, sources) for inv in wanted]
    explained += [_explain_listed(ctx, h, sources) for h in listed]
    if person is not None:
        key = ctx.person_key(person)
        found = key is not None
        subject = f"person {person}"
        if key is not None:
            who = ctx.who(key)
            read_as = ", ".join(sorted(r.value for r in who.roles))
            person_steps.append(
                f"in the directory: org unit {who.unit or '-'}, authority {who.authority or '-'}, roles "
                f"{', '.join(who.raw_roles) or 'none'} (read as {read_as or 'no policy role'})"
            )
            if not explained:
                person_steps.append(
                    "holds no known device: the directory lists none for them, and no inventory reports "
                    "them as a device's user"
                )
                explained.append(_explain_nothing(ctx, person))
        elif wanted or listed:
            found = True
            person_steps.append("not an active person of the directory: no decision scope can cover them")
    else:
        subject = f"device {device}"
        found = bool(explained)
    return Explanation(subject, at, found, tuple(person_steps), tuple(explained))


def _device_keys(d: Device) -> set[str]:
    return {
        k
        for k in (d.source_device_id, d.name, d.serial_number, str(d.id), f"{d.source}:{d.source_device_id}")
        if k
    }


def _sources(fleet: FleetView, at: date) -> str:
    """The newest snapshot of each source taken on or before ``at``, in words."""
    newest: dict[str, tuple[str, int]] = {}
    bound = end_of_day(at)
    for s in fleet.snapshots():
        if s.taken_at <= bound:
            newest[s.source] = (s.taken_at.date().isoformat(), int(s.id))
    if not newest:
        return "no inventory snapshot was imported on or before the date"
    return "inventories on or before the date: " + ", ".join(
        f"{src} (newest {day}, snapshot {sid})" for src, (day, sid) in sorted(newest.items())
    )


def _explain_device(
    ctx: Context, inv: DeviceInventory, stale_after: timedelta, sources: str
) -> DeviceExplanation:
    obs = inv.observation
    dev = obs.device
    steps: list[str] = []
    if dev.person_id is None:
        steps.append("no holder: neither the directory nor the MDM user ties it to a person")
    else:
        steps.append(f"held by {dev.person_id} (matched by {dev.holder_match.value})")
    rel, why = device_relations(dev)
    steps.append(f"relation: {', '.join(sorted(r.value for r in rel)) or 'none'} ({why})")
    fresh = is_fresh(obs.observed_at, ctx.at, stale_after)
    if obs.observed_at is None:
        steps.append(
            f"no {dev.source} snapshot on or before the date has it (it is known from a later import), so "
            f"its apps are unknown; {sources}"
        )
    elif fresh:
        steps.append(
            f"{dev.source} inventory of {obs.observed_at.date().isoformat()} (snapshot {obs.snapshot_id}): "
            "recent enough"
        )
    else:
        steps.append(
            f"{dev.source} inventory of {obs.observed_at.date().isoformat()} (snapshot {obs.snapshot_id}): "
            f"older than {stale_after.days} days, so its apps are unknown; no {dev.source} inventory of the "
            f"last {stale_after.days} days has it"
        )
    decisions = _decisions(ctx, dev.person_id, rel, inv.apps if fresh else None, dev)
    return DeviceExplanation(
        int(dev.id),
        f"{dev.source}:{dev.source_device_id}",
        dev.name,
        dev.person_id,
        tuple(steps),
        decisions,
    )


def _explain_listed(ctx: Context, held: HeldDevice, sources: str) -> DeviceExplanation:
    platform = held.platform.value if held.platform.value != "unknown" else "not given"
    steps = [
        f"listed by the directory as held by {held.person_id} (platform {platform})",
        f"no inventory of any source has it (by MDM device ID, serial number or name), so its apps and "
        f"its relation to the administration are unknown; {sources}",
    ]
    return DeviceExplanation(
        None,
        f"directory:{held.key}",
        None,
        held.person_id,
        tuple(steps),
        _decisions(ctx, held.person_id, UNKNOWN_RELATION, None, None),
    )


def _explain_nothing(ctx: Context, person: str) -> DeviceExplanation:
    steps = ("whatever device they use is unknown under each decision that covers them",)
    return DeviceExplanation(
        None, "", None, person, steps, _decisions(ctx, person, UNKNOWN_RELATION, None, None)
    )


def _decisions(
    ctx: Context,
    person_id: str | None,
    rel: frozenset[DeviceRelation],
    apps: Sequence[InstalledApp] | None,
    dev: Device | None,
) -> tuple[DecisionExplanation, ...]:
    """Each decision's steps for one device of ``person_id`` (``apps`` None: no recent inventory;
    ``dev`` None: a device no inventory has, or no device)."""
    key = ctx.person_key(person_id)
    decisions: list[DecisionExplanation] = []
    for d in ctx.resolved:
        dsteps: list[str] = []
        chain = " -> ".join(a.id for a in d.authority_chain) or d.authority
        dsteps.append(f"decided by {chain} ({d.instrument.value}); lineage {' <- '.join(d.lineage)}")
        if d.id not in ctx.matchers:
            dsteps.append(f"status on the date: {d.status.value}; not in force, not evaluated")
            decisions.append(DecisionExplanation(d.id, d.title, False, tuple(dsteps), ()))
            continue
        dsteps.append(
            f"status on the date: {d.status.value} (effective {d.effective.isoformat()}"
            + (f", expires {d.expires.isoformat()})" if d.expires else ", until further notice)")
        )
        if key is None:
            dsteps.append(
                "the device has no holder in the directory: not in scope"
                if person_id is None
                else f"its holder {person_id} is not an active person of the directory: not in scope"
            )
            decisions.append(DecisionExplanation(d.id, d.title, False, tuple(dsteps), ()))
            continue
        who = ctx.who(key)
        refs = [r for r in ctx.parts if r.decision.id == d.id]
        covering = [r for r in refs if ctx.part_covers(who, rel, r, dsteps)]
        if not refs:
            dsteps.append("the decision has no scope part")
        statuses: list[tuple[str, Status]] = []
        if covering:
            ref = min(covering, key=lambda r: r.part.mode.value != "mandatory")
            dsteps.append(f"governing part: '{ref.part.id}' ({ref.part.mode.value})")
            if apps is None or dev is None:
                statuses.append(("-", Status.UNKNOWN))
            else:
                matcher = ctx.matchers[d.id]
                for app in apps:
                    how = matcher.match(app.platform, app.app_id, app.name)
                    if how is None:
                        continue
                    status, exc = classify(ctx, ref, person_id, who, dev)
                    label = app.app_id or app.name or "?"
                    dsteps.append(f"app {label} selected by {how}")
                    if exc is not None:
                        state = "in force" if status is Status.EXEMPTED else "expired"
                        dsteps.append(
                            f"exception '{exc.id}' ({exc.subject_kind.value} {exc.subject_id}, "
                            f"{exc.grounds.value}, approved by {exc.approver}, "
                            f"{exc.granted.isoformat()} to {exc.expires.isoformat()}): {state}"
                        )
                    if d.remove_by is not None and ref.part.mode.value == "mandatory":
                        rel_word = "passed" if ctx.at > d.remove_by else "not passed yet"
                        dsteps.append(f"remove-by deadline {d.remove_by.isoformat()}: {rel_word}")
                    statuses.append((label, status))
                if not statuses:
                    dsteps.append("no app on the device is selected by the decision")
        decisions.append(DecisionExplanation(d.id, d.title, bool(covering), tuple(dsteps), tuple(statuses)))
    return tuple(decisions)
