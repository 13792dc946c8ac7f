"""The fleet vocabulary: directory entities, devices, snapshots, installed apps, import results.

Everything here is an immutable value. IDs are ``NewType`` strings (directory IDs come
from the customer's directory and are kept as given) or integers (surrogate keys the
store assigns to devices and snapshots).

:class:`InstalledApp` is a ``NamedTuple`` rather than a dataclass on purpose: the store
streams tens of millions of them to the evaluation and a tuple subclass is several times
cheaper to build than a slotted dataclass, while being just as immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, NewType

PersonId = NewType("PersonId", str)
OrgUnitId = NewType("OrgUnitId", str)
RoleId = NewType("RoleId", str)
AuthorityId = NewType("AuthorityId", str)
DeviceId = NewType("DeviceId", int)
"""Surrogate key of a device in the store (stable across imports of the same source device)."""
SnapshotId = NewType("SnapshotId", int)


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    IPADOS = "ipados"
    MACOS = "macos"
    WINDOWS = "windows"
    LINUX = "linux"
    CHROMEOS = "chromeos"
    UNKNOWN = "unknown"


class Ownership(StrEnum):
    COMPANY = "company"
    PERSONAL = "personal"
    UNKNOWN = "unknown"


class ManagementMode(StrEnum):
    FULLY_MANAGED = "fully_managed"
    WORK_PROFILE = "work_profile"
    SUPERVISED = "supervised"
    USER_ENROLLMENT = "user_enrollment"
    UNMANAGED = "unmanaged"
    UNKNOWN = "unknown"


class HolderMatch(StrEnum):
    """How the store tied a device to a person (shown by ``fleet explain``)."""

    DIRECTORY = "directory"
    """The directory says the person holds the device (by source ID, name or serial)."""
    INVENTORY_USER = "inventory-user"
    """The MDM reported a user (e-mail, UPN, user name) that matches a person."""
    NONE = "none"


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True, slots=True)
class Authority:
    """A body that adopts decisions (a federal service, a region, a municipality, a parliament)."""

    id: AuthorityId
    name: str
    kind: str | None = None
    parent_id: AuthorityId | None = None


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """A node of the organisation tree; ``authority_id`` is inherited from the parent when unset."""

    id: OrgUnitId
    name: str
    parent_id: OrgUnitId | None = None
    authority_id: AuthorityId | None = None


@dataclass(frozen=True, slots=True)
class Role:
    id: RoleId
    name: str


@dataclass(frozen=True, slots=True)
class Person:
    id: PersonId
    user_name: str | None
    display_name: str | None
    email: str | None
    title: str | None = None
    org_unit_id: OrgUnitId | None = None
    authority_id: AuthorityId | None = None
    manager_id: PersonId | None = None
    active: bool = True
    roles: tuple[RoleId, ...] = ()
    devices: tuple[str, ...] = ()
    """Device keys the person holds: an MDM device ID, a device name or a serial number."""


@dataclass(frozen=True, slots=True)
class System:
    """An information system of the administration (what ``accesses_system`` scope parts name)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Network:
    """A network the administration runs (what a decision's network zones name)."""

    id: str
    name: str


class HeldDevice(NamedTuple):
    """A device key the directory says a person holds, with the platform it gives (if any)."""

    person_id: PersonId
    key: str
    platform: Platform


@dataclass(frozen=True, slots=True)
class Directory:
    """A whole directory, as parsed from one file; imports replace the stored directory."""

    authorities: tuple[Authority, ...]
    org_units: tuple[OrgUnit, ...]
    roles: tuple[Role, ...]
    people: tuple[Person, ...]
    systems: tuple[System, ...] = ()
    networks: tuple[Network, ...] = ()
    device_platforms: tuple[tuple[str, Platform], ...] = ()
    """The platform the directory gives for a held device key (only keys it gives one for)."""


# --------------------------------------------------------------------------- inventory


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A device as an inventory source describes it (before the store gives it an ID)."""

    source_device_id: str
    name: str | None = None
    platform: Platform = Platform.UNKNOWN
    ownership: Ownership = Ownership.UNKNOWN
    management_mode: ManagementMode = ManagementMode.UNKNOWN
    user: str | None = None
    """The user the MDM reports (e-mail, UPN, user name or the MDM's user resource name)."""
    serial_number: str | None = None
    model: str | None = None
    os_version: str | None = None
    enrolled_at: datetime | None = None
    last_report_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A stored device: the last record any import gave for it, plus its holder."""

    id: DeviceId
    source: str
    source_device_id: str
    name: str | None
    platform: Platform
    ownership: Ownership
    management_mode: ManagementMode
    user: str | None
    serial_number: str | None
    model: str | None
    os_version: str | None
    enrolled_at: datetime | None
    last_report_at: datetime | None
    person_id: PersonId | None
    holder_match: HolderMatch


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: SnapshotId
    source: str
    taken_at: datetime
    imported_at: datetime
    devices: int
    apps: int


@dataclass(frozen=True, slots=True)
class DeviceObservation:
    """A device and the snapshot that last saw it at a date (``None``: never seen by then)."""

    device: Device
    snapshot_id: SnapshotId | None
    observed_at: datetime | None


class InstalledApp(NamedTuple):
    """One app on one device in one snapshot. ``app_id`` is ``None`` when the source has none."""

    device_id: DeviceId
    snapshot_id: SnapshotId
    platform: str
    app_id: str | None
    name: str | None
    version: str | None
    source: str | None


# --------------------------------------------------------------------------- import results


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A bad row (or a repaired field) in an import, located in its file."""

    file: str
    line: int | None
    message: str
    entry: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.entry is not None:
            where += f" ({self.entry})"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What one file brought to an import."""

    file: str
    source: str
    rows_ok: int
    rows_bad: int
    rows_skipped: int
    devices: int
    issues: tuple[ImportIssue, ...]
    issues_total: int
    """All issues found, also those beyond the ones kept in ``issues``."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """The result of one import (one transaction). ``snapshot_id`` is ``None`` for directories."""

    kind: str
    source: str
    snapshot_id: SnapshotId | None
    taken_at: datetime | None
    files: tuple[FileSummary, ...]
    seconds: float

    @property
    def rows_ok(self) -> int:
        return sum(f.rows_ok for f in self.files)

    @property
    def rows_bad(self) -> int:
        return sum(f.rows_bad for f in self.files)

    @property
    def rows_skipped(self) -> int:
        return sum(f.rows_skipped for f in self.files)

    @property
    def devices(self) -> int:
        return sum(f.devices for f in self.files)


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One row of the stored import log."""

    id: int
    kind: str
    source: str
    file: str
    snapshot_id: SnapshotId | None
    imported_at: datetime
    rows_ok: int
    rows_bad: int
    rows_skipped: int
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoreCounts:
    authorities: int
    org_units: int
    roles: int
    people: int
    devices: int
    snapshots: int
    installed_apps: int


@dataclass(frozen=True, slots=True)
class DeviceInventory:
    """A device, the snapshot that last saw it, and that snapshot's apps on it."""

    observation: DeviceObservation
    apps: tuple[InstalledApp, ...]


class Membership(NamedTuple):
    """Where a person sits, for scope matching: what an evaluation needs of each person."""

    person_id: PersonId
    org_unit_id: OrgUnitId | None
    authority_id: AuthorityId | None
    roles: tuple[RoleId, ...]
    active: bool
