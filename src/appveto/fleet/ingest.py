"""Imports into the fleet store: a directory, or inventory files of one source as a snapshot.

The store (:mod:`appveto.fleet.store`) keeps and reads; this module runs the imports
into it, each in one transaction that lands whole or not at all, and ties devices to
their holders afterwards. Inventory rows are streamed from the importer into batched
bulk inserts (:class:`~appveto.fleet._writer.InventoryWriter`); large imports of several
files are read in worker processes and written here in order
(:mod:`appveto.fleet._parallel`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from appveto.errors import Diagnostic, FleetError
from appveto.fleet import _schema as t
from appveto.fleet._parallel import ParsedFile, default_jobs, read_in_pool
from appveto.fleet._writer import MAX_KEPT_ISSUES, InventoryWriter
from appveto.fleet.importers import IMPORTERS
from appveto.fleet.importers._base import InventoryImporter
from appveto.fleet.model import (
    Directory,
    FileSummary,
    HolderMatch,
    ImportIssue,
    ImportSummary,
    SnapshotId,
)
from appveto.fleet.store import Store, store_error


def import_directory(
    store: Store,
    directory: Directory,
    *,
    file: str,
    source: str,
    issues: Sequence[ImportIssue] = (),
    rows_bad: int = 0,
    now: datetime | None = None,
) -> ImportSummary:
    """Replace the stored directory by ``directory`` and re-link devices to their holders.

    ``issues``/``rows_bad`` are what the parser reported; they go to the import log.
    """
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    platforms = dict(directory.device_platforms)
    holders = [
        (key, p.id, platforms[key].value if key in platforms else None)
        for p in directory.people
        for key in p.devices
    ]
    try:
        with store.engine.begin() as conn:
            for table in (
                t.person_roles,
                t.device_holders,
                t.people,
                t.roles,
                t.org_units,
                t.authorities,
                t.systems,
                t.network_zones,
            ):
                conn.execute(delete(table))
            _bulk_insert(
                conn,
                "authorities",
                ("id", "name", "kind", "parent_id"),
                [(a.id, a.name, a.kind, a.parent_id) for a in directory.authorities],
            )
            _bulk_insert(
                conn,
                "org_units",
                ("id", "name", "parent_id", "authority_id"),
                [(u.id, u.name, u.parent_id, u.authority_id) for u in directory.org_units],
            )
            _bulk_insert(conn, "roles", ("id", "name"), [(r.id, r.name) for r in directory.roles])
            _bulk_insert(conn, "systems", ("id", "name"), [(x.id, x.name) for x in directory.systems])
            _bulk_insert(conn, "network_zones", ("id", "name"), [(x.id, x.name) for x in directory.networks])
            _bulk_insert(
                conn,
                "people",
                (
                    "id",
                    "user_name",
                    "display_name",
                    "email",
                    "title",
                    "org_unit_id",
                    "authority_id",
                    "manager_id",
                    "active",
                    "email_lc",
                    "user_name_lc",
                ),
                [
                    (
                        p.id,
                        p.user_name,
                        p.display_name,
                        p.email,
                        p.title,
                        p.org_unit_id,
                        p.authority_id,
                        p.manager_id,
                        p.active,
                        p.email.lower() if p.email else None,
                        p.user_name.lower() if p.user_name else None,
                    )
                    for p in directory.people
                ],
            )
            _bulk_insert(
                conn,
                "person_roles",
                ("person_id", "role_id"),
                [(p.id, r) for p in directory.people for r in p.roles],
            )
            _bulk_insert(conn, "device_holders", ("device_key", "person_id", "platform"), holders)
            _resolve_holders(conn)
            kept = tuple(issues[:MAX_KEPT_ISSUES])
            conn.execute(
                insert(t.import_log).values(
                    kind="directory",
                    source=source,
                    file=file,
                    snapshot_id=None,
                    imported_at=now,
                    rows_ok=len(directory.people),
                    rows_bad=rows_bad,
                    rows_skipped=0,
                    errors=_errors_text(kept, len(issues)),
                )
            )
    except SQLAlchemyError as exc:
        raise store_error(store.url, exc) from exc
    fs = FileSummary(
        file=file,
        source=source,
        rows_ok=len(directory.people),
        rows_bad=rows_bad,
        rows_skipped=0,
        devices=len(holders),
        issues=kept,
        issues_total=len(issues),
    )
    return ImportSummary(
        kind="directory",
        source=source,
        snapshot_id=None,
        taken_at=None,
        files=(fs,),
        seconds=time.perf_counter() - started,
    )


def import_inventory(
    store: Store,
    source: str | InventoryImporter,
    files: Sequence[Path],
    *,
    at: datetime,
    now: datetime | None = None,
    display: Sequence[str] | None = None,
    dry_run: bool = False,
    jobs: int = 1,
) -> ImportSummary:
    """Import ``files`` of one source as one snapshot dated ``at``, in one transaction.

    Bad rows are counted and reported in the summary and the import log. A file that
    is not of this source (or unreadable) refuses the whole import: every file is
    still read so that all refusals are reported together, then nothing is stored and
    :class:`FleetError` carries one diagnostic per refused file. ``dry_run`` does the
    whole import and rolls it back: the summary tells what an import would do
    (``snapshot_id`` is then ``None``).

    ``jobs`` worker processes read the files: ``1`` (the default) reads them in this
    process, ``0`` chooses (one per core when there are several large files). The
    result is the same either way (see :mod:`appveto.fleet._parallel`). Workers are
    started with ``spawn``: a script that imports with ``jobs != 1`` needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    importer = IMPORTERS.get(source) if isinstance(source, str) else source
    if importer is None:
        raise FleetError(f"unknown inventory source {source!r}; known: {', '.join(sorted(IMPORTERS))}")
    if at.tzinfo is None:
        raise FleetError(f"snapshot date {at.isoformat()} has no time zone")
    if not files:
        raise FleetError("no inventory file given")
    names = list(display) if display is not None else [str(f) for f in files]
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    refusals: list[Diagnostic] = []
    summaries: list[FileSummary] = []
    try:
        with store.engine.begin() as conn:
            snap_id = conn.execute(
                insert(t.snapshots)
                .values(
                    source=importer.name,
                    taken_at=at,
                    imported_at=now,
                    devices=0,
                    apps=0,
                )
                .returning(t.snapshots.c.id)
            ).scalar_one()
            writer = InventoryWriter(conn, importer.name, SnapshotId(snap_id))
            n_jobs = default_jobs(files) if jobs == 0 else max(1, jobs)
            pooled = n_jobs > 1 and len(files) > 1 and IMPORTERS.get(importer.name) is importer
            parsed_files = read_in_pool(importer.name, files, names, n_jobs) if pooled else None
            try:
                for path, name in zip(files, names, strict=True):
                    writer.start_file(name)
                    parsed: ParsedFile | None = next(parsed_files) if parsed_files is not None else None
                    if parsed is not None and parsed.refusals:
                        refusals.extend(parsed.refusals)
                        writer.abandon_file()
                        continue
                    if parsed is not None and not writer.conflicts(parsed):
                        writer.replay(parsed)
                        summaries.append(writer.end_file())
                        continue
                    try:
                        importer.read(path, name, writer)
                    except FleetError as exc:
                        refusals.extend(exc.diagnostics())
                        writer.abandon_file()
                        continue
                    except OSError as exc:
                        refusals.append(Diagnostic(f"cannot read: {exc.strerror or exc}", file=name))
                        writer.abandon_file()
                        continue
                    summaries.append(writer.end_file())
                if refusals:
                    raise _Refused
                writer.finish()
            finally:
                if parsed_files is not None:
                    parsed_files.close()  # stops the pool
                writer.close()
            conn.execute(
                update(t.snapshots)
                .where(t.snapshots.c.id == snap_id)
                .values(devices=writer.devices_total, apps=writer.rows_total)
            )
            _resolve_holders(conn, snap_id)
            for fs in summaries:
                conn.execute(
                    insert(t.import_log).values(
                        kind="inventory",
                        source=importer.name,
                        file=fs.file,
                        snapshot_id=snap_id,
                        imported_at=now,
                        rows_ok=fs.rows_ok,
                        rows_bad=fs.rows_bad,
                        rows_skipped=fs.rows_skipped,
                        errors=_errors_text(fs.issues, fs.issues_total),
                    )
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except _Refused:
        n = len(refusals)
        summary_line = (
            f"import refused ({n} of {len(files)} file{'s' if len(files) != 1 else ''} not readable as "
            f"{importer.name}); nothing was stored"
        )
        raise FleetError(summary_line, diagnostics=(*refusals, Diagnostic(summary_line))) from None
    except SQLAlchemyError as exc:
        raise store_error(store.url, exc) from exc
    return ImportSummary(
        kind="inventory",
        source=importer.name,
        snapshot_id=None if dry_run else SnapshotId(snap_id),
        taken_at=at,
        files=tuple(summaries),
        seconds=time.perf_counter() - started,
    )


def _bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain tuples with the driver's ``executemany`` (SQLAlchemy's per-row parameter
    processing costs more than the insert itself for a directory of 100,000 people)."""
    if not rows:
        return
    ph = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))})", rows
    )


class _Refused(Exception):
    """Internal: roll the import transaction back because a file was refused."""


class _DryRun(Exception):
    """Internal: roll a dry-run import back after it was done in full."""


def _errors_text(issues: Iterable[ImportIssue], total: int) -> str:
    lines = [str(i) for i in issues]
    if total > len(lines):
        lines.append(f"... and {total - len(lines)} more")
    return "\n".join(lines)


def _resolve_holders(conn: Connection, snapshot_id: int | None = None) -> None:
    """Tie every device to a person: directory holdings first, then the MDM-reported user.

    With ``snapshot_id``, only that snapshot's devices: an inventory import changes no
    other device and neither the directory, so no other device's person can change.
    """
    d, h, p = t.devices, t.device_holders, t.people

    def by_key(col: Any) -> Any:
        return select(h.c.person_id).where(h.c.device_key == col).limit(1).scalar_subquery()

    def by_user(col: Any) -> Any:
        return (
            select(p.c.id).where(col == func.lower(d.c.user_ref)).order_by(p.c.id).limit(1).scalar_subquery()
        )

    direct = func.coalesce(by_key(d.c.source_device_id), by_key(d.c.serial_number), by_key(d.c.name))
    via_user = func.coalesce(by_user(p.c.email_lc), by_user(p.c.user_name_lc))
    stmt = update(d)
    if snapshot_id is not None:
        sd = t.snapshot_devices
        stmt = stmt.where(d.c.id.in_(select(sd.c.device_id).where(sd.c.snapshot_id == snapshot_id)))
    conn.execute(
        stmt.values(
            person_id=func.coalesce(direct, via_user),
            holder_match=case(
                (direct.is_not(None), HolderMatch.DIRECTORY.value),
                (via_user.is_not(None), HolderMatch.INVENTORY_USER.value),
                else_=HolderMatch.NONE.value,
            ),
        )
    )
