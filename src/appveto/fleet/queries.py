"""Lean reads of the fleet store for the compliance evaluation (:class:`StoreFleet`).

:class:`~appveto.fleet.store.Store` reads through SQLAlchemy rows and correlated
subqueries, which is clear and fine for thousands of devices; an evaluation of hundreds
of thousands of devices needs fewer round trips and fewer Python objects. This adapter
reads the same tables with plain DB-API cursors (streamed: a server-side cursor on
PostgreSQL, ``fetchmany`` batches on SQLite) and gives the evaluation only what it asks
for:

* the latest (or previous) snapshot of each device at a date, from one ordered pass over
  ``snapshot_devices``;
* only the inventory rows whose app record is selected (by app ID, or by name for sources
  that report no app ID), looked up first in the small ``apps`` table and then read
  from ``installed_apps`` by snapshot. Memory holds the selected rows (a few per cent of
  devices carry a banned app) and one small tuple per device and person, never the
  whole inventory.

The results equal those of :meth:`Store.device_inventories` restricted to the same apps
(a test compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from appveto.fleet.model import (
    Authority,
    AuthorityId,
    Device,
    DeviceId,
    DeviceInventory,
    DeviceObservation,
    HeldDevice,
    HolderMatch,
    InstalledApp,
    ManagementMode,
    Membership,
    Network,
    OrgUnit,
    OrgUnitId,
    Ownership,
    Person,
    PersonId,
    Platform,
    Role,
    RoleId,
    Snapshot,
    SnapshotId,
    System,
)
from appveto.fleet.store import Store

_FETCH = 20_000
MAX_IN_LIST = 30_000
"""Selected app records passed to SQL as an IN list (SQLite >= 3.32 and PostgreSQL take that many);
beyond it the rows are filtered in Python."""
_PLATFORM = {p.value: p for p in Platform}
_OWNERSHIP = {o.value: o for o in Ownership}
_MODE = {m.value: m for m in ManagementMode}
_MATCH = {h.value: h for h in HolderMatch}


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoreFleet:
    """A :class:`~appveto.compliance.model.FleetView` over a store, built for whole-fleet reads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pg = store.dialect == "postgresql"
        self._ph = "%s" if self._pg else "?"
        self._n = 0

    # -- directory (small, or streamed)

    def authorities(self) -> tuple[Authority, ...]:
        return self.store.authorities()

    def org_units(self) -> tuple[OrgUnit, ...]:
        return self.store.org_units()

    def roles(self) -> tuple[Role, ...]:
        return self.store.roles()

    def systems(self) -> tuple[System, ...]:
        return self.store.systems()

    def networks(self) -> tuple[Network, ...]:
        return self.store.networks()

    def snapshots(self) -> tuple[Snapshot, ...]:
        return self.store.snapshots()

    def person(self, person_id: str) -> Person | None:
        return self.store.person(person_id)

    def find_people(self, text: str) -> tuple[Person, ...]:
        return self.store.find_people(text)

    def _rows(self, conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        raw: Any = conn.connection.dbapi_connection
        self._n += 1
        cur = raw.cursor(name=f"appveto_q{self._n}") if self._pg else raw.cursor()
        try:
            cur.execute(sql, params)
            while batch := cur.fetchmany(_FETCH):
                yield from batch
        finally:
            cur.close()

    def people(self) -> Iterator[Person]:
        """Every person, by ID, with roles and held device keys."""
        with self.store.engine.connect() as conn:
            roles: dict[str, list[RoleId]] = {}
            for pid, rid in self._rows(
                conn, "SELECT person_id, role_id FROM person_roles ORDER BY person_id, role_id"
            ):
                roles.setdefault(pid, []).append(RoleId(rid))
            held: dict[str, list[str]] = {}
            for key, pid in self._rows(
                conn, "SELECT device_key, person_id FROM device_holders ORDER BY device_key"
            ):
                held.setdefault(pid, []).append(key)
            sql = (
                "SELECT id, user_name, display_name, email, title, org_unit_id, authority_id, manager_id, "
                "active FROM people ORDER BY id"
            )
            for pid, user, display, email, title, unit, auth, mgr, active in self._rows(conn, sql):
                yield Person(
                    id=PersonId(pid),
                    user_name=user,
                    display_name=display,
                    email=email,
                    title=title,
                    org_unit_id=OrgUnitId(unit) if unit else None,
                    authority_id=AuthorityId(auth) if auth else None,
                    manager_id=PersonId(mgr) if mgr else None,
                    active=bool(active),
                    roles=tuple(roles.get(pid, ())),
                    devices=tuple(held.get(pid, ())),
                )

    def memberships(self) -> Iterator[Membership]:
        """Every person's unit, authority, roles and whether active, by person ID (one pass)."""
        sql = (
            "SELECT p.id, p.org_unit_id, p.authority_id, p.active, r.role_id FROM people p "
            "LEFT JOIN person_roles r ON r.person_id = p.id ORDER BY p.id, r.role_id"
        )
        with self.store.engine.connect() as conn:
            current: list[Any] | None = None
            roles: list[RoleId] = []
            for pid, unit, auth, active, role in self._rows(conn, sql):
                if current is None or pid != current[0]:
                    if current is not None:
                        yield Membership(current[0], current[1], current[2], tuple(roles), current[3])
                    current = [
                        PersonId(pid),
                        OrgUnitId(unit) if unit else None,
                        AuthorityId(auth) if auth else None,
                        bool(active),
                    ]
                    roles = []
                if role is not None:
                    roles.append(RoleId(role))
            if current is not None:
                yield Membership(current[0], current[1], current[2], tuple(roles), current[3])

    def directory_devices(self) -> Iterator[HeldDevice]:
        """Device keys the directory says people hold that no stored device answers to (by MDM
        device ID, serial number or name): devices no inventory of any source has had."""
        sql = (
            "SELECT h.person_id, h.device_key, h.platform FROM device_holders h WHERE "
            "NOT EXISTS (SELECT 1 FROM devices d WHERE d.source_device_id = h.device_key) AND "
            "NOT EXISTS (SELECT 1 FROM devices d WHERE d.serial_number = h.device_key) AND "
            "NOT EXISTS (SELECT 1 FROM devices d WHERE d.name = h.device_key) "
            "ORDER BY h.person_id, h.device_key"
        )
        with self.store.engine.connect() as conn:
            for pid, key, platform in self._rows(conn, sql):
                yield HeldDevice(PersonId(pid), key, _PLATFORM.get(platform or "", Platform.UNKNOWN))

    def people_without_devices(self) -> Iterator[PersonId]:
        """Active people the directory lists no device for and no device is tied to, by ID."""
        sql = (
            "SELECT p.id FROM people p WHERE p.active AND "
            "NOT EXISTS (SELECT 1 FROM device_holders h WHERE h.person_id = p.id) AND "
            "NOT EXISTS (SELECT 1 FROM devices d WHERE d.person_id = p.id) ORDER BY p.id"
        )
        with self.store.engine.connect() as conn:
            for (pid,) in self._rows(conn, sql):
                yield PersonId(pid)

    # -- inventory

    def _latest(self, conn: Any, at: datetime | None, previous: bool) -> dict[int, tuple[int, datetime]]:
        """device -> (snapshot, taken_at) of its newest (or second newest) snapshot at ``at``."""
        params: tuple[Any, ...] = ()
        where = ""
        if at is not None:
            bound = at.astimezone(UTC).replace(tzinfo=None)
            where = f" WHERE s.taken_at <= {self._ph}"
            params = (bound if self._pg else bound.isoformat(" "),)
        sql = (
            "SELECT sd.device_id, sd.snapshot_id, s.taken_at FROM snapshot_devices sd "
            f"JOIN snapshots s ON s.id = sd.snapshot_id{where} "
            "ORDER BY sd.device_id, s.taken_at DESC, s.id DESC"
        )
        want = 2 if previous else 1
        out: dict[int, tuple[int, datetime]] = {}
        times: dict[int, tuple[int, datetime]] = {}
        current, rank = -1, 0
        for dev, sid, taken in self._rows(conn, sql, params):
            if dev != current:
                current, rank = dev, 0
            rank += 1
            if rank == want:
                found = times.get(sid)
                if found is None:
                    t = _utc(taken)
                    assert t is not None
                    found = times[sid] = (sid, t)
                out[dev] = found
        return out

    def _selected_refs(
        self, conn: Any, app_ids: Collection[str] | None, app_names: Collection[str] | None
    ) -> dict[int, tuple[str, str | None, str | None, str | None, str | None]] | None:
        """app record -> (platform, app_id, name, version, source) for the selected apps; None: all."""
        if app_ids is None:
            return None
        ids = sorted({a.lower() for a in app_ids if a})
        names = sorted({n.casefold() for n in app_names or () if n})
        out: dict[int, tuple[str, str | None, str | None, str | None, str | None]] = {}
        sql = "SELECT id, platform, app_id, name, version, source FROM apps WHERE "
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            q = sql + f"lower(app_id) IN ({', '.join([self._ph] * len(chunk))})"
            for r in self._rows(conn, q, tuple(chunk)):
                out[r[0]] = (r[1], r[2] or None, r[3] or None, r[4] or None, r[5] or None)
        if names:
            for r in self._rows(conn, sql + "app_id = ''"):
                if r[3] and r[3].casefold() in names:
                    out[r[0]] = (r[1], None, r[3] or None, r[4] or None, r[5] or None)
        return out

    def device_inventories(
        self,
        at: datetime | None = None,
        *,
        previous: bool = False,
        app_ids: Collection[str] | None = None,
        app_names: Collection[str] | None = None,
        observed_only: bool = False,
    ) -> Iterator[DeviceInventory]:
        """Every device in ID order with its latest snapshot at ``at`` and that snapshot's apps.

        ``app_ids``/``app_names`` keep only the apps with those IDs or, for rows without an
        app ID, with those names; both are compared without regard to case here (the
        caller decides whether case matters: Android package names are case-sensitive).
        ``app_ids=None`` keeps every app and holds them in memory: meant for small fleets
        and tests. ``observed_only`` leaves out devices that no snapshot saw by then.
        """
        with self.store.engine.connect() as conn:
            latest = self._latest(conn, at, previous)
            catalog = self._selected_refs(conn, app_ids, app_names)
            apps: dict[int, list[InstalledApp]] = {}
            by_snapshot: dict[int, None] = {}
            for sid, _ in latest.values():
                by_snapshot[sid] = None
            if catalog is None or catalog:
                refs = sorted(catalog) if catalog is not None else None
                full = catalog if catalog is not None else self._all_apps(conn)
                for sid in sorted(by_snapshot):
                    sql = f"SELECT device_id, app_ref FROM installed_apps WHERE snapshot_id = {self._ph}"
                    params: list[Any] = [sid]
                    if refs is not None and len(refs) <= MAX_IN_LIST:
                        sql += f" AND app_ref IN ({', '.join([self._ph] * len(refs))})"
                        params += refs
                    sql += " ORDER BY device_id, app_ref"
                    for dev, ref in self._rows(conn, sql, tuple(params)):
                        seen = latest.get(dev)
                        if seen is None or seen[0] != sid or ref not in full:
                            continue
                        platform, app_id, name, version, source = full[ref]
                        apps.setdefault(dev, []).append(
                            InstalledApp(
                                DeviceId(dev), SnapshotId(sid), platform, app_id, name, version, source
                            )
                        )
            sql = (
                "SELECT id, source, source_device_id, name, platform, ownership, management_mode, user_ref, "
                "serial_number, model, os_version, enrolled_at, last_report_at, person_id, holder_match "
                "FROM devices ORDER BY id"
            )
            for r in self._rows(conn, sql):
                dev_id = r[0]
                seen = latest.get(dev_id)
                if observed_only and seen is None:
                    continue
                device = Device(
                    id=DeviceId(dev_id),
                    source=r[1],
                    source_device_id=r[2],
                    name=r[3],
                    platform=_PLATFORM.get(r[4], Platform.UNKNOWN),
                    ownership=_OWNERSHIP.get(r[5], Ownership.UNKNOWN),
                    management_mode=_MODE.get(r[6], ManagementMode.UNKNOWN),
                    user=r[7],
                    serial_number=r[8],
                    model=r[9],
                    os_version=r[10],
                    enrolled_at=_utc(r[11]),
                    last_report_at=_utc(r[12]),
                    person_id=PersonId(r[13]) if r[13] else None,
                    holder_match=_MATCH.get(r[14], HolderMatch.NONE),
                )
                obs = DeviceObservation(
                    device, SnapshotId(seen[0]) if seen else None, seen[1] if seen else None
                )
                yield DeviceInventory(obs, tuple(apps.pop(dev_id, ())))

    def _all_apps(self, conn: Any) -> dict[int, tuple[str, str | None, str | None, str | None, str | None]]:
        return {
            r[0]: (r[1], r[2] or None, r[3] or None, r[4] or None, r[5] or None)
            for r in self._rows(conn, "SELECT id, platform, app_id, name, version, source FROM apps")
        }
