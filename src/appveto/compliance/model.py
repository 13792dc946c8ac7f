"""The compliance vocabulary: what an evaluation says about each device, person and unit.

Every value is immutable. An :class:`Evaluation` is the result of
:func:`appveto.compliance.evaluate.evaluate`; reports, notices and the CLI read only it.

Statuses (one per device, decision and matched app; ``unknown`` has no app):

* ``violation``: a mandatory scope part covers the device and a selected app is on it,
  on or before the remove-by deadline (or the decision has none);
* ``overdue``: the same, after the remove-by deadline;
* ``advisory``: only an advisory scope part covers the device and the app is on it;
* ``exempted``: an exception in force covers the person, the device or the unit;
* ``exception_expired``: the only exception that covered it has expired (reported, never
  dropped: DESIGN.md rule 9);
* ``unknown``: the device is in scope but no inventory of it is recent enough (its
  :class:`UnknownReason` says why: a stale inventory, none yet, a device only the
  directory lists, or a person in scope who holds no known device at all).

What the evaluation could not see at all is a :class:`Limitation`: above all a unit, role,
system or network zone that a decision in force names and the directory does not have
(:data:`MISSING_KINDS`), which makes the result incomplete.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from appveto.fleet.model import (
    Authority,
    DeviceInventory,
    HeldDevice,
    Membership,
    Network,
    OrgUnit,
    Person,
    PersonId,
    Role,
    Snapshot,
    System,
)
from appveto.policy.model import DecisionStatus, Mode

DEFAULT_STALE_AFTER = timedelta(days=30)
"""An inventory older than this at the evaluation date does not count: the device is ``unknown``."""


class Status(StrEnum):
    VIOLATION = "violation"
    OVERDUE = "overdue"
    EXCEPTION_EXPIRED = "exception_expired"
    ADVISORY = "advisory"
    EXEMPTED = "exempted"
    UNKNOWN = "unknown"


PRESENT_STATUSES: frozenset[Status] = frozenset(
    {Status.VIOLATION, Status.OVERDUE, Status.EXCEPTION_EXPIRED, Status.ADVISORY, Status.EXEMPTED}
)
"""Statuses that mean "a selected app is on the device"."""

ACTION_STATUSES: frozenset[Status] = frozenset({Status.VIOLATION, Status.OVERDUE, Status.EXCEPTION_EXPIRED})
"""Statuses that require the holder to remove the app (notices are sent for these and advisory)."""


class UnknownReason(StrEnum):
    """Why a result is ``unknown``."""

    STALE = "stale"
    """The device's last inventory is older than the staleness window."""
    NOT_SEEN_YET = "not-seen-yet"
    """The store knows the device, but no snapshot on or before the date has it."""
    DIRECTORY_ONLY = "directory-only"
    """The directory says the person holds the device; no inventory of any source has it."""
    NO_DEVICE = "no-device"
    """The person is in scope and holds no device known to the directory or any inventory."""


class LimitationKind(StrEnum):
    MISSING_UNIT = "missing-unit"
    MISSING_ROLE = "missing-role"
    MISSING_SYSTEM = "missing-system"
    MISSING_ZONE = "missing-zone"
    SELECTOR = "selector"
    """An app selector the inventory cannot match (categories, unknown vendor, no scans, web only)."""
    UNDETERMINED_DEVICES = "undetermined-devices"
    """Devices carrying a selected app whose relation to the administration is not reported."""
    NO_DECISION = "no-decision"
    """No decision is in force on the date."""


MISSING_KINDS: frozenset[LimitationKind] = frozenset(
    {
        LimitationKind.MISSING_UNIT,
        LimitationKind.MISSING_ROLE,
        LimitationKind.MISSING_SYSTEM,
        LimitationKind.MISSING_ZONE,
    }
)
"""Names in a decision that the directory does not have: the evaluation is incomplete."""


@dataclass(frozen=True, slots=True)
class Limitation:
    """Something the evaluation could not see, said rather than read as "nothing found"."""

    kind: LimitationKind
    message: str
    decision_id: str | None = None
    part_id: str | None = None
    subject: str | None = None
    """The unit, role, system or zone missing from the directory (``missing-*`` kinds)."""
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def missing(self) -> bool:
        """A name the directory does not have (the result is incomplete)."""
        return self.kind in MISSING_KINDS

    @property
    def where(self) -> str | None:
        """``file:line:column`` of the name in its policy file, when known."""
        if self.file is None:
            return None
        return ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class FleetView(Protocol):
    """What an evaluation reads from a fleet: :class:`appveto.fleet.queries.StoreFleet` over a store."""

    def authorities(self) -> tuple[Authority, ...]: ...

    def org_units(self) -> tuple[OrgUnit, ...]: ...

    def roles(self) -> tuple[Role, ...]: ...

    def systems(self) -> tuple[System, ...]: ...

    def networks(self) -> tuple[Network, ...]: ...

    def snapshots(self) -> tuple[Snapshot, ...]: ...

    def find_people(self, text: str) -> tuple[Person, ...]:
        """People whose ID, e-mail address or user name (without regard to case) is ``text``."""
        ...

    def memberships(self) -> Iterator[Membership]:
        """Every person's org unit, authority, roles and whether active."""
        ...

    def directory_devices(self) -> Iterator[HeldDevice]:
        """Devices the directory lists that no inventory of any source has had."""
        ...

    def people_without_devices(self) -> Iterator[PersonId]:
        """Active people who hold no device the directory or an inventory knows of."""
        ...

    def device_inventories(
        self,
        at: datetime | None = None,
        *,
        previous: bool = False,
        app_ids: Collection[str] | None = None,
        app_names: Collection[str] | None = None,
        observed_only: bool = False,
    ) -> Iterator[DeviceInventory]:
        """Every device in ID order with its latest snapshot at ``at`` (the one before with
        ``previous``) and that snapshot's apps whose ID is in ``app_ids`` or, for rows without
        an app ID, whose name is in ``app_names`` (without regard to case); ``observed_only``
        leaves out devices that no snapshot saw by then."""
        ...


@dataclass(frozen=True, slots=True)
class ScanFacts:
    """What the evaluation needs from one APK scan (the CLI builds these from scan results)."""

    package: str
    signer_sha256: tuple[str, ...] = ()
    """Lower-case hex, no colons."""
    score: int | None = None
    findings: tuple[str, ...] = ()
    """Check IDs found (e.g. ``AV-JUR-001``)."""
    source: str | None = None
    """Where the scan came from (file name), shown in explanations."""


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """One status of one device under one decision for one app (``unknown``: no app)."""

    status: Status
    decision_id: str
    part_id: str
    mode: Mode
    device_id: int | None
    """The store's device ID; None for a device only the directory lists, or no device."""
    device_key: str
    """``source:source_device_id`` as the MDM names the device; ``directory:KEY`` for a device
    only the directory lists; empty for a person who holds no known device."""
    device_name: str | None
    platform: str
    person_id: str | None
    org_unit_id: str | None
    authority_id: str | None
    app_id: str | None
    app_name: str | None
    app_version: str | None
    matched_by: str | None
    """How the app was selected, e.g. ``android package com.zhiliaoapp.musically``."""
    exception_id: str | None = None
    exception_expires: date | None = None
    remove_by: date | None = None
    adopted_by: str | None = None
    """The authority whose adoption of the decision brought the device into scope."""
    observed_at: datetime | None = None
    reason: UnknownReason | None = None
    """Why the result is ``unknown`` (None for other statuses)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across snapshots: device, decision and app."""
        return (self.device_key, self.decision_id, self.app_id or (self.app_name or ""))


@dataclass(frozen=True, slots=True)
class Change:
    """A present-app result that is new since the previous snapshot, or resolved since it."""

    kind: str
    """``new`` or ``resolved``."""
    decision_id: str
    device_id: int | None
    device_key: str
    person_id: str | None
    app_id: str | None
    app_name: str | None
    status: Status
    """The status now (``new``) or before (``resolved``)."""


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: Status
    devices: int
    people: int


@dataclass(frozen=True, slots=True)
class PlatformCount:
    """Devices of one platform (in a decision's scope, or known at all) and how many are unknown."""

    platform: str
    devices: int
    unknown: int
    """Without an inventory recent enough (stale, none yet, or only listed by the directory)."""


@dataclass(frozen=True, slots=True)
class Rollup:
    """Counts for one authority or org unit (an org unit includes its sub-units)."""

    kind: str
    """``authority`` or ``org_unit``."""
    id: str
    name: str
    counts: tuple[StatusCount, ...]
    """Only statuses that occur, in :class:`Status` order."""

    def count(self, status: Status) -> int:
        for c in self.counts:
            if c.status is status:
                return c.devices
        return 0


@dataclass(frozen=True, slots=True)
class Adoption:
    """Where a lower authority stands with a decision that asked it to adopt."""

    decision_id: str
    authority_id: str
    status: str
    date: date | None
    binding: bool
    """True when the adoption brings that authority's people into the decision's scope on the date."""
    via_decision: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    decision_id: str
    title: str
    status: DecisionStatus
    evaluated: bool
    """False when the decision is not in force on the date (draft, announced, expired)."""
    remove_by: date | None
    devices_in_scope: int
    people_in_scope: int
    network_only_parts: tuple[str, ...]
    """Parts enforced by network zones only: no device result, only the DNS/firewall export."""
    network_zones: tuple[str, ...]
    counts: tuple[StatusCount, ...]
    platforms: tuple[PlatformCount, ...] = ()
    """Devices in scope per platform, and how many of them are unknown."""
    people_without_devices: int = 0
    """People in scope who hold no known device (each has an ``unknown`` result)."""


@dataclass(frozen=True, slots=True)
class PersonStatus:
    person_id: str
    status: Status
    """The most serious status (in :class:`Status` order) of the person's results."""
    results: tuple[DeviceResult, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    at: date
    stale_after: timedelta
    decisions: tuple[DecisionSummary, ...]
    results: tuple[DeviceResult, ...]
    """Sorted by decision, person, device, app."""
    rollups: tuple[Rollup, ...]
    changes: tuple[Change, ...]
    adoptions: tuple[Adoption, ...]
    devices_total: int
    """Devices known: every device of the store, and every device only the directory lists."""
    devices_observed: int
    """Devices with an inventory recent enough at the date."""
    unheld_with_selected_apps: int
    """Devices carrying a selected app that no active directory person holds (so in no scope)."""
    undetermined_with_selected_apps: int
    """Held devices carrying a selected app whose MDM reports neither ownership nor management
    mode, so only parts without a device criterion or with ``accesses_system`` can cover them."""
    limitations: tuple[Limitation, ...]
    """What could not be evaluated: names the directory lacks first, then selectors without
    data, unknown vendors, ..."""
    devices_directory_only: int = 0
    """Devices only the directory lists (no inventory of any source has them)."""
    people_without_devices: int = 0
    """People in the scope of a decision who hold no known device."""
    platforms: tuple[PlatformCount, ...] = ()
    """Every known device per platform, and how many have no recent inventory."""
    compared_devices: int | None = None
    """Devices with a recent inventory now and a previous snapshot (``changes`` compare those);
    None when the changes were not asked for."""

    @property
    def missing(self) -> tuple[Limitation, ...]:
        """The limitations that are names the directory does not have."""
        return tuple(x for x in self.limitations if x.missing)

    def by_status(self, status: Status) -> tuple[DeviceResult, ...]:
        return tuple(r for r in self.results if r.status is status)

    def for_person(self, person_id: str) -> tuple[DeviceResult, ...]:
        return tuple(r for r in self.results if r.person_id == person_id)

    def for_device(self, device_id: int | None) -> tuple[DeviceResult, ...]:
        return tuple(r for r in self.results if r.device_id == device_id)

    def by_person(self) -> tuple[PersonStatus, ...]:
        """Per person with a result: the most serious status and the results, by person ID."""
        groups: dict[str, list[DeviceResult]] = {}
        for r in self.results:
            if r.person_id is not None:
                groups.setdefault(r.person_id, []).append(r)
        order = {s: i for i, s in enumerate(Status)}
        return tuple(
            PersonStatus(pid, min((r.status for r in rs), key=order.__getitem__), tuple(rs))
            for pid, rs in sorted(groups.items())
        )

    def rollup(self, kind: str, ident: str) -> Rollup | None:
        for r in self.rollups:
            if r.kind == kind and r.id == ident:
                return r
        return None

    def decision(self, decision_id: str) -> DecisionSummary | None:
        for d in self.decisions:
            if d.decision_id == decision_id:
                return d
        return None
