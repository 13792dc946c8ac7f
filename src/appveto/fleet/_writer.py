"""The bulk writer behind inventory imports (the store's :class:`InventorySink`).

Kept apart from :mod:`appveto.fleet.store` because it is the one place that speaks raw
DB-API to the two backends, for speed: see :class:`InventoryWriter`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Connection

from appveto.fleet._parallel import BadEvent, DeviceEvent, NoteEvent, ParsedFile, SkipEvent
from appveto.fleet._rows import AppKey, DeviceValues, device_values, numbers_of
from appveto.fleet.model import (
    DeviceRecord,
    FileSummary,
    HolderMatch,
    ImportIssue,
    SnapshotId,
)

BATCH_ROWS = 50_000
"""Inventory rows buffered before one bulk insert."""
MAX_APP_CACHE = 500_000
"""Distinct app records remembered by the writer before it forgets them (memory bound)."""
MAX_KEPT_ISSUES = 1_000
"""Issues kept per file (in the summary and the import log); the rest are counted."""


_DEVICE_SHIFT = 32
_APP_MASK = (1 << _DEVICE_SHIFT) - 1
"""A buffered row is one integer, ``device_id << 32 | app_ref``: sorting it clusters by
device, and SQLite expands a batch of them from one JSON array (see ``_JSON_ROWS``)."""

_DEVICE_COLS = (
    "source",
    "source_device_id",
    "name",
    "platform",
    "ownership",
    "management_mode",
    "user_ref",
    "serial_number",
    "model",
    "os_version",
    "enrolled_at",
    "last_report_at",
    "person_id",
    "holder_match",
)
_KEEP_OLD_IF_NULL = (
    "name",
    "user_ref",
    "serial_number",
    "model",
    "os_version",
    "enrolled_at",
    "last_report_at",
)
_KEEP_OLD_IF_UNKNOWN = ("platform", "ownership", "management_mode")
_NO_HOLDER = HolderMatch.NONE.value  # an enum member's value is a Python-level lookup: once


def _device_upsert_sql(ph: str) -> str:
    sets = [f"{c} = COALESCE(excluded.{c}, devices.{c})" for c in _KEEP_OLD_IF_NULL]
    sets += [f"{c} = COALESCE(NULLIF(excluded.{c}, 'unknown'), devices.{c})" for c in _KEEP_OLD_IF_UNKNOWN]
    return (
        f"INSERT INTO devices ({', '.join(_DEVICE_COLS)}) VALUES ({', '.join([ph] * len(_DEVICE_COLS))}) "
        f"ON CONFLICT (source, source_device_id) DO UPDATE SET {', '.join(sets)} RETURNING id"
    )


_DEVICE_UPDATE_SQL = (
    "UPDATE devices SET "
    + ", ".join(f"{c} = COALESCE(?, {c})" for c in _KEEP_OLD_IF_NULL)
    + ", "
    + ", ".join(f"{c} = COALESCE(NULLIF(?, 'unknown'), {c})" for c in _KEEP_OLD_IF_UNKNOWN)
    + " WHERE id = ?"
)
"""SQLite: refresh a known device (same rules as the upsert)."""


def _app_upsert_sql(ph: str) -> str:
    return (
        f"INSERT INTO apps (platform, app_id, name, version, source) VALUES ({ph}, {ph}, {ph}, {ph}, {ph}) "
        "ON CONFLICT (platform, app_id, name, version, source) DO UPDATE SET platform = excluded.platform "
        "RETURNING id"
    )


def _json_rows_sql(snapshot_id: int) -> str:
    return (
        "INSERT OR IGNORE INTO installed_apps (snapshot_id, device_id, app_ref) "
        f"SELECT {snapshot_id}, value >> {_DEVICE_SHIFT}, value & {_APP_MASK} FROM json_each(?)"
    )


def _has_json_each(cur: Any) -> bool:
    """SQLite's JSON functions are built in since 3.38 and usually compiled in before."""
    try:
        cur.execute("SELECT COUNT(*) FROM json_each('[1]')")
        cur.fetchone()
    except sqlite3.Error:  # no such table-valued function
        return False
    return True


def _stored_app(key: AppKey) -> tuple[str, str, str, str, str]:
    """An app record as stored: missing values are '' (the unique key needs values)."""
    platform, app_id, name, version, source = key
    return (platform, app_id or "", name or "", version or "", source or "")


class InventoryWriter:
    """The :class:`InventorySink` the store hands to importers.

    An app row is one integer, ``device_id << 32 | app_ref`` (the snapshot is the import's),
    buffered and written in batches of :data:`BATCH_ROWS`. Rows come from an importer one
    by one (:meth:`app`), a device's at once (:meth:`apps`), or from a worker's recording
    of a whole file (:meth:`replay`).

    * PostgreSQL: a device is upserted when declared and an app record when first seen
      (``RETURNING id``; a worker's recording upserts its new ones in one pipelined
      batch); rows go in with ``COPY``.
    * SQLite: the import holds the database's single write lock, so the writer assigns
      new device and app IDs itself (from the current maxima, with the known devices of
      the source and the app catalog loaded first) and writes each batch with one
      ``executemany`` per table for new devices, updates and new apps, and one
      ``INSERT ... SELECT FROM json_each(?)`` for the rows: no statement per row, device
      or app. When the app catalog outgrows :data:`MAX_APP_CACHE` the writer
      falls back to the PostgreSQL way (``RETURNING``), so memory stays bounded.
      (A background writer thread was tried: ``sqlite3`` drops and retakes the GIL for
      every row, and the convoy with the parsing thread made imports three times slower.)
    """

    def __init__(self, conn: Connection, source: str, snapshot_id: SnapshotId) -> None:
        self._conn = conn
        self._source = source
        self._snap = snapshot_id
        self._pg = conn.dialect.name == "postgresql"
        raw = conn.connection.dbapi_connection
        assert raw is not None
        self._raw: Any = raw
        self._cur: Any = self._raw.cursor()
        ph = "%s" if self._pg else "?"
        self._device_sql = _device_upsert_sql(ph)
        self._app_sql = _app_upsert_sql(ph)
        self._ids: dict[str, int] = {}  # source device ID -> device_id << 32
        # per device: where it was first declared and a hash of that description (not the
        # record itself: memory is one small tuple per device)
        self._seen: dict[str, tuple[str, int | None, int, bool]] = {}
        self._new_devices: list[tuple[int, int]] = []
        self._apps: dict[AppKey, int] = {}
        self._prefetched: dict[str, int] = {}  # PostgreSQL: device IDs upserted ahead of their replay
        self._copied_devices: set[int] = set()  # PostgreSQL: devices with rows already copied
        self._rows: list[int] = []  # device_id << 32 | app_ref: the snapshot is a constant
        self._insert_rows = (
            "INSERT OR IGNORE INTO installed_apps (snapshot_id, device_id, app_ref) "
            f"VALUES ({int(snapshot_id)}, ?, ?)"
        )
        self._json_rows = (
            _json_rows_sql(int(snapshot_id)) if not self._pg and _has_json_each(self._cur) else None
        )
        # SQLite: IDs assigned by the writer
        self._own_ids = False
        self._existing: dict[str, int] = {}
        self._next_device = 0
        self._next_app = 0
        self._q_devices: list[tuple[Any, ...]] = []
        self._q_updates: list[tuple[Any, ...]] = []
        self._q_apps: list[tuple[Any, ...]] = []
        if not self._pg:
            self._start_own_ids()
        self.app = self._make_app()
        self.rows_total = 0
        self.duplicates_total = 0
        self.devices_total = 0
        self._file = ""
        self._start_rows = 0
        self._start_dups = 0
        self._start_devices = 0
        self._bad = 0
        self._skipped = 0
        self._issues: list[ImportIssue] = []
        self._issues_total = 0

    def _start_own_ids(self) -> None:
        cur = self._cur
        cur.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM apps")
        n_apps, max_app = cur.fetchone()
        if n_apps >= MAX_APP_CACHE:
            return
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM devices")
        self._next_device = int(cur.fetchone()[0]) + 1
        self._next_app = int(max_app) + 1
        cur.execute("SELECT id, platform, app_id, name, version, source FROM apps")
        apps = self._apps
        for ref, platform, app_id, name, version, source in cur:
            apps[(platform, app_id or None, name or None, version or None, source or None)] = ref
        cur.execute("SELECT source_device_id, id FROM devices WHERE source = ?", (self._source,))
        self._existing = dict(cur.fetchall())
        self._own_ids = True

    # -- per file

    def start_file(self, name: str) -> None:
        self._file = name
        self._start_rows = self.rows_total
        self._start_dups = self.duplicates_total
        self._start_devices = self.devices_total
        self._bad = self._skipped = self._issues_total = 0
        self._issues = []

    def end_file(self) -> FileSummary:
        self.finish()  # counts per file are exact
        dups = self.duplicates_total - self._start_dups
        if dups:
            self.note(
                f"{dups} duplicate row{'s' if dups != 1 else ''} (same device, app, name, version "
                "and source) counted once",
                line=None,
            )
        return FileSummary(
            file=self._file,
            source=self._source,
            rows_ok=self.rows_total - self._start_rows,
            rows_bad=self._bad,
            rows_skipped=self._skipped + dups,
            devices=self.devices_total - self._start_devices,
            issues=tuple(self._issues),
            issues_total=self._issues_total,
        )

    def abandon_file(self) -> None:
        """The file was refused; the transaction will be rolled back, stop buffering."""
        self._rows.clear()

    # -- InventorySink

    def device(
        self, record: DeviceRecord, *, line: int | None, entry: str | None = None, repeat: bool = False
    ) -> bool:
        return self.declare(device_values(record), line, entry, repeat)

    def declare(self, values: DeviceValues, line: int | None, entry: str | None, repeat: bool) -> bool:
        """:meth:`device`, for a record already in the writer's shape."""
        key = values[0]
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = (self._file, line, hash(values), False)
            self._ids[key] = self._upsert_device(values) << _DEVICE_SHIFT
            self.devices_total += 1
            return True
        file, first_line, first, reported = seen
        where = f"{file}:{first_line}" if first_line is not None else file
        if not repeat:
            self._issue(
                f"duplicate device ID {key!r} (first at {where}); this entry is not imported", line, entry
            )
            self._bad += 1
            return False
        if hash(values) != first and not reported:
            self._seen[key] = (file, first_line, first, True)
            self.note(
                f"device {key!r} is described differently than at {where}; the first description is kept",
                line=line,
                entry=entry,
            )
        return True

    def _make_app(self) -> Callable[[str, str, str | None, str | None, str | None, str | None], None]:
        """The hot path of :meth:`InventorySink.app`, as a closure over local names."""
        apps_get = self._apps.get
        ids = self._ids
        rows = self._rows
        append = rows.append
        upsert = self._upsert_app
        flush = self._flush

        def app(
            device_key: str,
            platform: str,
            app_id: str | None,
            name: str | None,
            version: str | None,
            source: str | None,
        ) -> None:
            key = (platform, app_id, name, version, source)
            ref = apps_get(key)
            if ref is None:
                ref = upsert(key)
            append(ids[device_key] | ref)
            if len(rows) >= BATCH_ROWS:
                flush()

        return app

    def apps(
        self,
        device_key: str,
        platform: str,
        app_ids: Iterable[str | None],
        names: Iterable[str | None],
        versions: Iterable[str | None],
        sources: Iterable[str | None],
    ) -> None:
        self.keyed_apps(device_key, list(zip(repeat(platform), app_ids, names, versions, sources)))

    def keyed_apps(self, device_key: str, keys: Sequence[AppKey]) -> None:
        refs = numbers_of(keys, self._apps.get, self._upsert_app)
        rows = self._rows
        rows.extend(map(self._ids[device_key].__or__, refs))
        if len(rows) >= BATCH_ROWS:
            self._flush()

    # -- a file read by a worker process (see appveto.fleet._parallel)

    def conflicts(self, parsed: ParsedFile) -> bool:
        """Whether the recording took a course a serial import would not have taken.

        That is: it declares (``repeat=False``) a device that an earlier file declared,
        which the writer refuses, so the importer would have counted its apps as bad.
        """
        seen = self._seen
        for e in parsed.events:
            if isinstance(e, DeviceEvent) and e.accepted and not e.repeat and e.values[0] in seen:
                return True
        return False

    def replay(self, parsed: ParsedFile) -> None:
        """Write a worker's recording of the current file, as if its importer ran here."""
        if self._pg:
            self._prefetch_devices(parsed)
        for e in parsed.events:
            if isinstance(e, DeviceEvent):
                self.declare(e.values, e.line, e.entry, e.repeat)
            elif isinstance(e, BadEvent):
                self.bad(e.message, line=e.line, entry=e.entry, rows=e.rows)
            elif isinstance(e, SkipEvent):
                self.skip(e.reason, e.rows)
            elif isinstance(e, NoteEvent):
                self.note(e.message, line=e.line, entry=e.entry)
        ids = self._ids
        devices = list(map(ids.__getitem__, parsed.device_keys))
        app_keys = parsed.app_keys
        if self._pg:
            self._prefetch_apps([k for k in app_keys if k not in self._apps])
        apps = numbers_of(app_keys, self._apps.get, self._upsert_app)
        rows = self._rows
        rows.extend(parsed.translated_rows(devices, apps))
        if len(rows) >= BATCH_ROWS:
            self._flush()

    def _prefetch_devices(self, parsed: ParsedFile) -> None:
        """PostgreSQL: upsert a recording's new devices in one pipelined batch, not one round trip each."""
        seen = self._seen
        firsts: dict[str, DeviceValues] = {}
        for e in parsed.events:
            if isinstance(e, DeviceEvent) and e.accepted and e.values[0] not in seen:
                firsts.setdefault(e.values[0], e.values)
        if firsts:
            self._prefetched.update(
                zip(
                    firsts,
                    self._returning(self._device_sql, map(self._device_row, firsts.values())),
                    strict=True,
                )
            )

    def _prefetch_apps(self, keys: list[AppKey]) -> None:
        """PostgreSQL: upsert new app records in one pipelined batch; they join the app cache."""
        if not keys or len(self._apps) + len(keys) >= MAX_APP_CACHE:
            return  # none, or one at a time with the cache's bound
        self._apps.update(zip(keys, self._returning(self._app_sql, map(_stored_app, keys)), strict=True))

    def _returning(self, sql: str, params: Iterable[tuple[Any, ...]]) -> list[int]:
        """The ``RETURNING id`` of each statement of a pipelined ``executemany`` (psycopg 3)."""
        cur = self._cur
        cur.executemany(sql, list(params), returning=True)
        ids: list[int] = []
        while True:
            ids.append(int(cur.fetchone()[0]))
            if not cur.nextset():
                return ids

    def bad(self, message: str, *, line: int | None, entry: str | None = None, rows: int = 1) -> None:
        self._bad += rows
        self._issue(message, line, entry)

    def skip(self, reason: str, rows: int = 1) -> None:
        self._skipped += rows

    def note(self, message: str, *, line: int | None, entry: str | None = None) -> None:
        self._issue(message, line, entry)

    def _issue(self, message: str, line: int | None, entry: str | None) -> None:
        self._issues_total += 1
        if len(self._issues) < MAX_KEPT_ISSUES:
            self._issues.append(ImportIssue(self._file, line, message, entry))

    # -- writing

    def _device_row(self, v: DeviceValues) -> tuple[Any, ...]:
        """The ``_DEVICE_COLS`` of a device."""
        key, name, platform, ownership, mode, user, serial, model, os_version, enrolled_at, reported_at = v
        enrolled: Any = enrolled_at
        reported: Any = reported_at
        if not self._pg:  # the sqlite3 module's datetime adapter is deprecated: bind text
            enrolled = enrolled_at.isoformat(" ") if enrolled_at else None
            reported = reported_at.isoformat(" ") if reported_at else None
        return (
            self._source,
            key,
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
            None,
            _NO_HOLDER,
        )

    def _upsert_device(self, v: DeviceValues) -> int:
        row = self._device_row(v)
        _, key, name, platform, ownership, mode, user, serial, model, os_version, enrolled, reported, _, _ = (
            row
        )
        if self._own_ids:
            dev_id = self._existing.get(key)
            if dev_id is None:
                dev_id = self._next_device
                self._next_device += 1
                self._q_devices.append((dev_id, *row))
            else:
                self._q_updates.append(
                    (
                        name,
                        user,
                        serial,
                        model,
                        os_version,
                        enrolled,
                        reported,
                        platform,
                        ownership,
                        mode,
                        dev_id,
                    )
                )
        else:
            prefetched = self._prefetched.pop(key, None)
            if prefetched is not None:
                dev_id = prefetched
            else:
                self._cur.execute(self._device_sql, row)
                dev_id = int(self._cur.fetchone()[0])  # RETURNING always gives the row
        self._new_devices.append((self._snap, dev_id))
        return dev_id

    def _upsert_app(self, key: AppKey) -> int:
        apps = self._apps
        if len(apps) >= MAX_APP_CACHE:
            if self._own_ids:
                self._stop_own_ids()
            apps.clear()  # bounded memory on hostile inputs where every row is a new app
        stored = _stored_app(key)
        if self._own_ids:
            ref = self._next_app
            self._next_app += 1
            self._q_apps.append((ref, *stored))
        else:
            self._cur.execute(self._app_sql, stored)
            ref = int(self._cur.fetchone()[0])
        apps[key] = ref
        return ref

    def _stop_own_ids(self) -> None:
        """Write everything queued and continue with ``RETURNING`` (the catalog is too large)."""
        self._write_batch(self._take_batch(with_rows=False))
        self._own_ids = False

    def finish(self) -> None:
        """Write what is buffered."""
        self._flush()

    def close(self) -> None:
        self._cur.close()

    def _take_batch(self, *, with_rows: bool = True) -> tuple[tuple[list[Any], ...], list[int]]:
        batch = (
            (self._q_devices, self._q_updates, self._new_devices, self._q_apps),
            list(self._rows) if with_rows else [],
        )
        self._q_devices, self._q_updates, self._new_devices, self._q_apps = [], [], [], []
        if with_rows:
            self._rows.clear()  # the same list object: the app() closure holds it
        return batch

    def _flush(self) -> None:
        if self._own_ids:
            inserted, given = self._write_batch(self._take_batch())
            self.rows_total += inserted
            self.duplicates_total += given - inserted
            return
        cur = self._cur
        ph = "%s" if self._pg else "?"
        if self._new_devices:
            cur.executemany(
                f"INSERT INTO snapshot_devices (snapshot_id, device_id) VALUES ({ph}, {ph})",
                self._new_devices,
            )
            self._new_devices = []
        data = self._rows
        if not data:
            return
        data.sort()  # clustered inserts; nearly sorted already when a source lists device by device
        inserted = self._copy_pg_rows(cur, data) if self._pg else self._insert_sqlite_rows(cur, data)
        self.rows_total += inserted
        self.duplicates_total += len(data) - inserted
        data.clear()

    def _copy_pg_rows(self, cur: Any, rows: list[int]) -> int:
        """PostgreSQL: ``COPY`` sorted packed rows; returns how many were new.

        The snapshot is this import's own, so a row can only exist already if an earlier
        batch had its device: a batch of devices not seen before (the usual case) goes
        straight into ``installed_apps`` once its own repeats are dropped; any other goes
        through a temporary table and ``ON CONFLICT DO NOTHING``.
        """
        mask = _APP_MASK
        snap = int(self._snap)
        unique = sorted(set(rows))
        devices = {r >> _DEVICE_SHIFT for r in unique}
        fresh = self._copied_devices.isdisjoint(devices)
        self._copied_devices |= devices
        text = "".join([f"{r >> _DEVICE_SHIFT}\t{r & mask}\n" for r in unique])
        if fresh:
            with cur.copy("COPY installed_apps (device_id, app_ref, snapshot_id) FROM STDIN") as cp:
                cp.write(text.replace("\n", f"\t{snap}\n"))
            return len(unique)
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _appveto_rows "
            "(device_id integer, app_ref integer) ON COMMIT DROP"
        )
        with cur.copy("COPY _appveto_rows (device_id, app_ref) FROM STDIN") as cp:
            cp.write(text)
        cur.execute(
            "INSERT INTO installed_apps (snapshot_id, device_id, app_ref) "
            f"SELECT {snap}, device_id, app_ref FROM _appveto_rows ON CONFLICT DO NOTHING"
        )
        inserted = int(cur.rowcount)
        cur.execute("TRUNCATE _appveto_rows")
        return inserted

    def _insert_sqlite_rows(self, cur: Any, rows: list[int]) -> int:
        """Insert sorted packed rows; returns how many were new (the rest are duplicates)."""
        before = self._raw.total_changes
        if self._json_rows is not None:
            # one statement per batch: SQLite expands the JSON array itself, about twice the
            # rate of executemany, which crosses into Python for every row
            # (the repr of a list of ints is its JSON text, three times faster than joining str())
            cur.execute(self._json_rows, (repr(rows),))
        else:
            mask = _APP_MASK
            cur.executemany(self._insert_rows, [(r >> _DEVICE_SHIFT, r & mask) for r in rows])
        return int(self._raw.total_changes - before)

    def _write_batch(self, batch: tuple[tuple[list[Any], ...], list[int]]) -> tuple[int, int]:
        """SQLite: one batch, tables in dependency order; returns (rows inserted, rows given)."""
        (devices, updates, snapshot_devices, apps), rows = batch
        cur = self._raw.cursor()
        try:
            if devices:
                cols = ", ".join(("id", *_DEVICE_COLS))
                cur.executemany(
                    f"INSERT INTO devices ({cols}) VALUES ({', '.join(['?'] * (len(_DEVICE_COLS) + 1))})",
                    devices,
                )
            if updates:
                cur.executemany(_DEVICE_UPDATE_SQL, updates)
            if snapshot_devices:
                cur.executemany(
                    "INSERT INTO snapshot_devices (snapshot_id, device_id) VALUES (?, ?)", snapshot_devices
                )
            if apps:
                cur.executemany(
                    "INSERT INTO apps (id, platform, app_id, name, version, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    apps,
                )
            if not rows:
                return 0, 0
            rows.sort()  # clustered inserts; nearly sorted already when a source lists device by device
            return self._insert_sqlite_rows(cur, rows), len(rows)
        finally:
            cur.close()
