"""The fleet store: directory, devices, dated inventory snapshots and the import log.

SQLAlchemy 2 Core over SQLite (the default, one file in the workspace) or PostgreSQL
(``postgresql://`` URLs use psycopg 3). Opening a store applies the Alembic migrations
shipped in ``appveto.fleet.migrations`` (``upgrade head``).

The store only stores and reads: imports into it are :mod:`appveto.fleet.ingest`'s
(``import_directory``, ``import_inventory``), the records it returns are
:mod:`appveto.fleet.model`'s.

Reading for evaluation is streaming too: :meth:`Store.observations` yields every device
with the snapshot that last saw it at a date, :meth:`Store.installed` yields the apps of
those snapshots ordered by device, and :meth:`Store.device_inventories` zips the two.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from appveto.errors import FleetError
from appveto.fleet import _schema as t
from appveto.fleet.model import (
    Authority,
    AuthorityId,
    Device,
    DeviceId,
    DeviceInventory,
    DeviceObservation,
    HolderMatch,
    ImportRecord,
    InstalledApp,
    ManagementMode,
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
    StoreCounts,
    System,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` select psycopg 3; other URLs are kept as given."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise FleetError(f"not a database URL: {url!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise FleetError(
            f"unsupported store {backend!r} in {parsed.render_as_string()}: "
            "use a SQLite path or a postgresql:// URL"
        )
    try:
        if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise FleetError(
                "an in-memory SQLite store is not supported (reads stream over several "
                "connections, each of which would see its own empty database): give a file"
            )
        if backend == "sqlite":
            engine = create_engine(parsed, poolclass=NullPool)
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise FleetError(
            f"no database driver for {backend}: {exc} (install appveto[postgres] for PostgreSQL)"
        ) from exc
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
    # DDL and bulk loads are transactional (the SQLAlchemy documented recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-131072")  # 128 MiB page cache for bulk loads
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def migrate(engine: Engine) -> None:
    """Apply the shipped Alembic migrations (``upgrade head``) in one transaction."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two processes opening a new store at once must not both create the tables
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(27426701065942127)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def store_error(url: str, exc: Exception) -> FleetError:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FleetError(f"store {url}: {msg}")


class Store:
    """An open fleet store. Use :meth:`open`; close it (or use it as a context manager)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (creating if needed) the store at ``url`` and migrate it to the newest schema."""
        url = normalize_url(url)
        engine = _engine(url)
        safe = make_url(url).render_as_string(hide_password=True)
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise store_error(safe, exc) from exc
        return cls(engine, safe)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for callers that need their own queries over :mod:`_schema`."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading: directory

    def authorities(self) -> tuple[Authority, ...]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.authorities).order_by(t.authorities.c.id)).all()
        return tuple(
            Authority(AuthorityId(r.id), r.name, r.kind, AuthorityId(r.parent_id) if r.parent_id else None)
            for r in rows
        )

    def org_units(self) -> tuple[OrgUnit, ...]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.org_units).order_by(t.org_units.c.id)).all()
        return tuple(
            OrgUnit(
                OrgUnitId(r.id),
                r.name,
                OrgUnitId(r.parent_id) if r.parent_id else None,
                AuthorityId(r.authority_id) if r.authority_id else None,
            )
            for r in rows
        )

    def roles(self) -> tuple[Role, ...]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.roles).order_by(t.roles.c.id)).all()
        return tuple(Role(RoleId(r.id), r.name) for r in rows)

    def systems(self) -> tuple[System, ...]:
        """The information systems the directory lists."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.systems).order_by(t.systems.c.id)).all()
        return tuple(System(r.id, r.name) for r in rows)

    def networks(self) -> tuple[Network, ...]:
        """The network zones the directory lists."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.network_zones).order_by(t.network_zones.c.id)).all()
        return tuple(Network(r.id, r.name) for r in rows)

    def people(self) -> Iterator[Person]:
        """Every person, ordered by ID, with roles and held device keys."""
        with self._engine.connect() as conn:
            roles: dict[str, list[RoleId]] = {}
            for pid, rid in conn.execute(
                select(t.person_roles.c.person_id, t.person_roles.c.role_id).order_by(
                    t.person_roles.c.person_id, t.person_roles.c.role_id
                )
            ):
                roles.setdefault(pid, []).append(RoleId(rid))
            held: dict[str, list[str]] = {}
            for key, pid in conn.execute(
                select(t.device_holders.c.device_key, t.device_holders.c.person_id).order_by(
                    t.device_holders.c.device_key
                )
            ):
                held.setdefault(pid, []).append(key)
            result = conn.execution_options(yield_per=5_000).execute(select(t.people).order_by(t.people.c.id))
            for r in result:
                yield Person(
                    id=PersonId(r.id),
                    user_name=r.user_name,
                    display_name=r.display_name,
                    email=r.email,
                    title=r.title,
                    org_unit_id=OrgUnitId(r.org_unit_id) if r.org_unit_id else None,
                    authority_id=AuthorityId(r.authority_id) if r.authority_id else None,
                    manager_id=PersonId(r.manager_id) if r.manager_id else None,
                    active=bool(r.active),
                    roles=tuple(roles.get(r.id, ())),
                    devices=tuple(held.get(r.id, ())),
                )

    def person(self, person_id: str) -> Person | None:
        for p in self._people_where(t.people.c.id == person_id):
            return p
        return None

    def find_people(self, text: str) -> tuple[Person, ...]:
        """People whose ID is ``text``, or whose e-mail address or user name is ``text``
        without regard to case (for ``fleet explain --person``), by ID."""
        folded = text.strip().lower()
        p = t.people.c
        return tuple(self._people_where((p.id == text) | (p.email_lc == folded) | (p.user_name_lc == folded)))

    def _people_where(self, cond: Any) -> Iterator[Person]:
        with self._engine.connect() as conn:
            for r in conn.execute(select(t.people).where(cond).order_by(t.people.c.id)):
                rids = conn.execute(
                    select(t.person_roles.c.role_id)
                    .where(t.person_roles.c.person_id == r.id)
                    .order_by(t.person_roles.c.role_id)
                ).scalars()
                keys = conn.execute(
                    select(t.device_holders.c.device_key)
                    .where(t.device_holders.c.person_id == r.id)
                    .order_by(t.device_holders.c.device_key)
                ).scalars()
                yield Person(
                    id=PersonId(r.id),
                    user_name=r.user_name,
                    display_name=r.display_name,
                    email=r.email,
                    title=r.title,
                    org_unit_id=OrgUnitId(r.org_unit_id) if r.org_unit_id else None,
                    authority_id=AuthorityId(r.authority_id) if r.authority_id else None,
                    manager_id=PersonId(r.manager_id) if r.manager_id else None,
                    active=bool(r.active),
                    roles=tuple(RoleId(x) for x in rids),
                    devices=tuple(keys),
                )

    # ------------------------------------------------------------------ reading: inventory

    def devices(self) -> Iterator[Device]:
        """Every stored device, ordered by ID."""
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=10_000).execute(
                select(t.devices).order_by(t.devices.c.id)
            )
            for r in result:
                yield _device(r)

    def device(self, device_id: int) -> Device | None:
        with self._engine.connect() as conn:
            r = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
        return _device(r) if r is not None else None

    def find_devices(self, key: str) -> tuple[Device, ...]:
        """Devices whose source ID, name or serial number is ``key`` (for ``fleet explain``)."""
        d = t.devices.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t.devices)
                .where((d.source_device_id == key) | (d.name == key) | (d.serial_number == key))
                .order_by(d.id)
            ).all()
        return tuple(_device(r) for r in rows)

    def snapshots(self) -> tuple[Snapshot, ...]:
        """All snapshots, oldest first (by date, then import order)."""
        s = t.snapshots
        with self._engine.connect() as conn:
            rows = conn.execute(select(s).order_by(s.c.taken_at, s.c.id)).all()
        return tuple(
            Snapshot(SnapshotId(r.id), r.source, r.taken_at, r.imported_at, r.devices, r.apps) for r in rows
        )

    def observations(
        self, at: datetime | None = None, *, previous: bool = False
    ) -> Iterator[DeviceObservation]:
        """Every device, ordered by ID, with the snapshot that saw it last at ``at``.

        ``at=None`` means the newest snapshots. With ``previous=True`` the snapshot before
        that one is given instead (for "new since the previous snapshot"). A device that no
        snapshot saw by then has ``snapshot_id=None``.
        """
        snap = _latest_snapshot_of(t.devices.c.id, at, 2 if previous else 1)
        obs = t.snapshots.alias("obs")
        query = (
            select(t.devices, obs.c.id.label("obs_snapshot_id"), obs.c.taken_at.label("obs_taken_at"))
            .select_from(t.devices.outerjoin(obs, obs.c.id == snap))
            .order_by(t.devices.c.id)
        )
        with self._engine.connect() as conn:
            for r in conn.execution_options(yield_per=10_000).execute(query):
                sid, taken = r[15], r[16]
                if taken is not None and taken.tzinfo is None:
                    taken = taken.replace(tzinfo=UTC)
                yield DeviceObservation(_device(r), SnapshotId(sid) if sid is not None else None, taken)

    def installed(
        self, at: datetime | None = None, *, previous: bool = False, app_ids: Collection[str] | None = None
    ) -> Iterator[InstalledApp]:
        """Apps of each device's latest snapshot at ``at`` (see :meth:`observations`), by device ID.

        ``app_ids`` restricts the rows to those app IDs (pushed down into SQL), which is
        how an evaluation that only cares about banned apps stays fast.
        """
        d, a = t.devices, t.apps
        snap = _latest_snapshot_of(d.c.id, at, 2 if previous else 1)
        with self._engine.connect() as conn:
            latest: dict[int, int] = {
                dev: sid for dev, sid in conn.execute(select(d.c.id, snap)) if sid is not None
            }
            catalog_q = select(a.c.id, a.c.platform, a.c.app_id, a.c.name, a.c.version, a.c.source)
            if app_ids is not None:
                catalog_q = catalog_q.where(a.c.app_id.in_(sorted(set(app_ids))))
            catalog = {
                r[0]: (r[1], r[2] or None, r[3] or None, r[4] or None, r[5] or None)
                for r in conn.execute(catalog_q)
            }
            if not latest or not catalog:
                return
            refs = sorted(catalog) if app_ids is not None else None
            raw: Any = conn.connection.dbapi_connection
            pg = self.dialect == "postgresql"
            ph = "%s" if pg else "?"

            def rows_of(sid: int) -> Iterator[tuple[int, int, int]]:
                # The hot path: a raw cursor over the clustered key (snapshot, device, app),
                # so rows come out grouped by device without a sort or per-row objects.
                sql = f"SELECT device_id, snapshot_id, app_ref FROM installed_apps WHERE snapshot_id = {ph}"
                params: list[int] = [sid]
                if refs is not None and len(refs) <= 5_000:
                    sql += f" AND app_ref IN ({', '.join([ph] * len(refs))})"
                    params += refs
                sql += " ORDER BY device_id, app_ref"
                cur = raw.cursor(name=f"appveto_installed_{sid}") if pg else raw.cursor()
                try:
                    cur.execute(sql, params)
                    while batch := cur.fetchmany(20_000):
                        yield from batch
                finally:
                    cur.close()

            streams = [rows_of(sid) for sid in sorted(set(latest.values()))]
            merged = streams[0] if len(streams) == 1 else heapq.merge(*streams)
            get = latest.get
            for dev, sid, ref in merged:
                if get(dev) == sid and ref in catalog:
                    platform, app_id, name, version, source = catalog[ref]
                    yield InstalledApp(
                        DeviceId(dev), SnapshotId(sid), platform, app_id, name, version, source
                    )

    def device_inventories(
        self, at: datetime | None = None, *, previous: bool = False, app_ids: Collection[str] | None = None
    ) -> Iterator[DeviceInventory]:
        """:meth:`observations` zipped with :meth:`installed`: one item per device, in ID order."""
        apps = self.installed(at, previous=previous, app_ids=app_ids)
        pending = next(apps, None)
        for obs in self.observations(at, previous=previous):
            mine: list[InstalledApp] = []
            while pending is not None and pending.device_id <= obs.device.id:
                if pending.device_id == obs.device.id:
                    mine.append(pending)
                pending = next(apps, None)
            yield DeviceInventory(obs, tuple(mine))

    def import_log(self) -> tuple[ImportRecord, ...]:
        il = t.import_log
        with self._engine.connect() as conn:
            rows = conn.execute(select(il).order_by(il.c.id)).all()
        return tuple(
            ImportRecord(
                r.id,
                r.kind,
                r.source,
                r.file,
                SnapshotId(r.snapshot_id) if r.snapshot_id is not None else None,
                r.imported_at,
                r.rows_ok,
                r.rows_bad,
                r.rows_skipped,
                tuple(x for x in r.errors.split("\n") if x),
            )
            for r in rows
        )

    def counts(self) -> StoreCounts:
        def n(conn: Connection, table: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        with self._engine.connect() as conn:
            return StoreCounts(
                n(conn, t.authorities),
                n(conn, t.org_units),
                n(conn, t.roles),
                n(conn, t.people),
                n(conn, t.devices),
                n(conn, t.snapshots),
                n(conn, t.installed_apps),
            )


_PLATFORMS = {p.value: p for p in Platform}
_OWNERSHIPS = {o.value: o for o in Ownership}
_MODES = {m.value: m for m in ManagementMode}
_MATCHES = {h.value: h for h in HolderMatch}


def _device(r: Any) -> Device:
    """A :class:`Device` from a row whose first columns are ``devices``' in table order."""
    # positional unpacking and dict lookups: this runs once per device of the fleet
    (
        dev_id,
        source,
        source_device_id,
        name,
        platform,
        ownership,
        mode,
        user,
        serial,
        model,
        os_version,
        enrolled,
        reported,
        person,
        match,
    ) = tuple(r)[:15]
    return Device(
        id=DeviceId(dev_id),
        source=source,
        source_device_id=source_device_id,
        name=name,
        platform=_PLATFORMS.get(platform, Platform.UNKNOWN),
        ownership=_OWNERSHIPS.get(ownership, Ownership.UNKNOWN),
        management_mode=_MODES.get(mode, ManagementMode.UNKNOWN),
        user=user,
        serial_number=serial,
        model=model,
        os_version=os_version,
        enrolled_at=enrolled,
        last_report_at=reported,
        person_id=PersonId(person) if person else None,
        holder_match=_MATCHES.get(match, HolderMatch.NONE),
    )


def _latest_snapshot_of(device_id: Any, at: datetime | None, rank: int) -> Any:
    """The ID of the ``rank``-th newest snapshot (by date, then import order) that saw the device.

    A correlated scalar subquery: the reads drive from ``devices`` in ID order, so rows
    stream out already grouped by device without sorting the inventory.
    """
    sd, s = t.snapshot_devices, t.snapshots
    q = (
        select(sd.c.snapshot_id)
        .join(s, s.c.id == sd.c.snapshot_id)
        .where(sd.c.device_id == device_id)
        .order_by(s.c.taken_at.desc(), s.c.id.desc())
        .limit(1)
        .offset(rank - 1)
    )
    if at is not None:
        q = q.where(s.c.taken_at <= at)
    return q.scalar_subquery()
