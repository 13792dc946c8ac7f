"""The store's tables (SQLAlchemy Core), shared by the store and its tests.

The schema itself is created by the Alembic migrations in ``migrations/versions``; these
definitions must stay equal to what the migrations build (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC on every backend, returned as aware UTC.

    SQLite has no time zone type and compares timestamps as text, so every value is
    converted to UTC before it is stored; naive inputs are refused.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - only with raw SQLite access
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

authorities = Table(
    "authorities",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text),
    Column("parent_id", Text()),
)

org_units = Table(
    "org_units",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("parent_id", Text()),
    Column("authority_id", Text()),
    Index("ix_org_units_parent", "parent_id"),
)

roles = Table(
    "roles",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("name", Text, nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("user_name", Text),
    Column("display_name", Text),
    Column("email", Text),
    Column("title", Text),
    Column("org_unit_id", Text()),
    Column("authority_id", Text()),
    Column("manager_id", Text()),
    Column("active", Boolean, nullable=False),
    Column("email_lc", Text),
    Column("user_name_lc", Text),
    Index("ix_people_email_lc", "email_lc"),
    Index("ix_people_user_name_lc", "user_name_lc"),
    Index("ix_people_org_unit", "org_unit_id"),
)

person_roles = Table(
    "person_roles",
    metadata,
    Column("person_id", Text(), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Text(), ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)

device_holders = Table(
    "device_holders",
    metadata,
    Column("device_key", Text(), primary_key=True),
    Column("person_id", Text(), ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(20)),
    Index("ix_device_holders_person", "person_id"),
)
"""Device keys the directory says people hold, with the platform it gives (NULL: none given)."""

systems = Table(
    "systems",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("name", Text, nullable=False),
)
"""The administration's information systems the directory lists (scope parts name them)."""

network_zones = Table(
    "network_zones",
    metadata,
    Column("id", Text(), primary_key=True),
    Column("name", Text, nullable=False),
)
"""The networks the directory lists (decisions' network zones name them)."""

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(50), nullable=False),
    Column("source_device_id", Text(), nullable=False),
    Column("name", Text),
    Column("platform", String(20), nullable=False),
    Column("ownership", String(20), nullable=False),
    Column("management_mode", String(30), nullable=False),
    Column("user_ref", Text),
    Column("serial_number", Text()),
    Column("model", Text),
    Column("os_version", Text),
    Column("enrolled_at", UtcDateTime()),
    Column("last_report_at", UtcDateTime()),
    Column("person_id", Text()),
    Column("holder_match", String(20), nullable=False),
    UniqueConstraint("source", "source_device_id", name="uq_devices_source_id"),
    Index("ix_devices_source_device_id", "source_device_id"),
    Index("ix_devices_name", "name"),
    Index("ix_devices_serial", "serial_number"),
    Index("ix_devices_person", "person_id"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(50), nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("devices", Integer, nullable=False),
    Column("apps", Integer, nullable=False),
    Index("ix_snapshots_taken_at", "taken_at"),
)

snapshot_devices = Table(
    "snapshot_devices",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_snapshot_devices_device", "device_id"),
)

apps = Table(
    "apps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(20), nullable=False),
    Column("app_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("source", Text, nullable=False),
    UniqueConstraint("platform", "app_id", "name", "version", "source", name="uq_apps_identity"),
    Index("ix_apps_app_id", "app_id"),
)
"""Distinct app records seen in inventories; missing values are stored as '' (unique keys need it)."""

installed_apps = Table(
    "installed_apps",
    metadata,
    Column("snapshot_id", Integer, primary_key=True, autoincrement=False),
    Column("device_id", Integer, primary_key=True, autoincrement=False),
    Column("app_ref", Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)
"""One row per app per device per snapshot, clustered by (snapshot, device).

No foreign keys on purpose: this is the bulk table (tens of millions of rows) and the
store's writer is its only producer; checking three references per row would halve the
import rate. ``snapshot_id``/``device_id``/``app_ref`` point at snapshots/devices/apps.
"""

import_log = Table(
    "import_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("source", String(50), nullable=False),
    Column("file", Text, nullable=False),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="SET NULL")),
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("rows_ok", Integer, nullable=False),
    Column("rows_bad", Integer, nullable=False),
    Column("rows_skipped", Integer, nullable=False),
    Column("errors", Text, nullable=False),
)
