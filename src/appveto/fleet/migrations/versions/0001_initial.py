"""Initial fleet store: directory, devices, snapshots, installed apps, import log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorities",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text()),
        sa.Column("parent_id", sa.Text()),
    )
    op.create_table(
        "org_units",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Text()),
        sa.Column("authority_id", sa.Text()),
    )
    op.create_index("ix_org_units_parent", "org_units", ["parent_id"])
    op.create_table(
        "roles",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("user_name", sa.Text()),
        sa.Column("display_name", sa.Text()),
        sa.Column("email", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("org_unit_id", sa.Text()),
        sa.Column("authority_id", sa.Text()),
        sa.Column("manager_id", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("email_lc", sa.Text()),
        sa.Column("user_name_lc", sa.Text()),
    )
    op.create_index("ix_people_email_lc", "people", ["email_lc"])
    op.create_index("ix_people_user_name_lc", "people", ["user_name_lc"])
    op.create_index("ix_people_org_unit", "people", ["org_unit_id"])
    op.create_table(
        "person_roles",
        sa.Column("person_id", sa.Text(), sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role_id", sa.Text(), sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "device_holders",
        sa.Column("device_key", sa.Text(), primary_key=True),
        sa.Column("person_id", sa.Text(), sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_device_holders_person", "device_holders", ["person_id"])
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_device_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ownership", sa.String(20), nullable=False),
        sa.Column("management_mode", sa.String(30), nullable=False),
        sa.Column("user_ref", sa.Text()),
        sa.Column("serial_number", sa.Text()),
        sa.Column("model", sa.Text()),
        sa.Column("os_version", sa.Text()),
        sa.Column("enrolled_at", sa.DateTime()),
        sa.Column("last_report_at", sa.DateTime()),
        sa.Column("person_id", sa.Text()),
        sa.Column("holder_match", sa.String(20), nullable=False),
        sa.UniqueConstraint("source", "source_device_id", name="uq_devices_source_id"),
    )
    op.create_index("ix_devices_name", "devices", ["name"])
    op.create_index("ix_devices_serial", "devices", ["serial_number"])
    op.create_index("ix_devices_person", "devices", ["person_id"])
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("apps", sa.Integer(), nullable=False),
    )
    op.create_index("ix_snapshots_taken_at", "snapshots", ["taken_at"])
    op.create_table(
        "snapshot_devices",
        sa.Column(
            "snapshot_id", sa.Integer(), sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "device_id", sa.Integer(), sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_snapshot_devices_device", "snapshot_devices", ["device_id"])
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("app_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.UniqueConstraint("platform", "app_id", "name", "version", "source", name="uq_apps_identity"),
    )
    op.create_index("ix_apps_app_id", "apps", ["app_id"])
    op.create_table(
        "installed_apps",
        sa.Column("snapshot_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("device_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("app_ref", sa.Integer(), primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "import_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("snapshots.id", ondelete="SET NULL")),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("rows_ok", sa.Integer(), nullable=False),
        sa.Column("rows_bad", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "import_log",
        "installed_apps",
        "apps",
        "snapshot_devices",
        "snapshots",
        "devices",
        "device_holders",
        "person_roles",
        "people",
        "roles",
        "org_units",
        "authorities",
    ):
        op.drop_table(table)
