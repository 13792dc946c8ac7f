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

# ---------------------------------------------------------------- the server (appveto serve)
# Accounts, sessions, API tokens, the vetting workflow (SP 800-163) and the audit trail of
# appveto.web; created by migration 0003_serve.

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text),
    Column("roles", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
"""People who sign in to the server; ``roles`` is a comma-separated sorted list."""

account_sessions = Table(
    "account_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("ix_account_sessions_account", "account_id"),
)
"""Browser sessions; the cookie holds the token, the store only its SHA-256."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("roles", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
)
"""Bearer tokens for scripts: shown once, stored hashed, scoped to some of the account's roles."""

app_versions = Table(
    "app_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("package", Text),
    Column("version_code", Integer),
    Column("version_name", Text),
    Column("label", Text),
    Column("uploaded_at", UtcDateTime(), nullable=False),
    Index("ix_app_versions_package", "package"),
)
"""Uploaded files, one row per distinct content (SHA-256); the file is ``uploads/<sha256>.apk``."""

vettings = Table(
    "vettings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("app_version_id", Integer, ForeignKey("app_versions.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_vettings_app_version", "app_version_id"),
)
"""One pass of an app version through the workflow: intake, testing, review, audit, decision."""

scan_jobs = Table(
    "scan_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vetting_id", Integer, ForeignKey("vettings.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("finished_at", UtcDateTime()),
    Column("error", Text),
    Column("result", Text),
    Index("ix_scan_jobs_status", "status"),
    Index("ix_scan_jobs_vetting", "vetting_id"),
)
"""The testing step: pending, running, done, failed or timed_out; ``result`` is the scan record (JSON)."""

finding_reviews = Table(
    "finding_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vetting_id", Integer, ForeignKey("vettings.id"), nullable=False),
    Column("finding_key", Text, nullable=False),
    Column("action", String(20), nullable=False),
    Column("severity", String(20)),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_finding_reviews_vetting", "vetting_id"),
)
"""An analyst's suppression or re-grading of a finding, with its written reason (never deleted)."""

vetting_steps = Table(
    "vetting_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vetting_id", Integer, ForeignKey("vettings.id"), nullable=False),
    Column("step", String(20), nullable=False),
    Column("verdict", String(20)),
    Column("text", Text, nullable=False),
    Column("cited", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_vetting_steps_vetting", "vetting_id"),
)
"""Each recorded step of a vetting (intake, note, recommendation, decision) with who and when."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
"""Append-only, hash-chained: ``hash`` covers this entry and ``prev_hash`` (see appveto.web.audit)."""
