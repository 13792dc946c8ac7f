"""What the directory knows beyond people: held devices' platforms, systems, network zones.

A decision's scope names units, roles, systems and network zones; the evaluation checks
each against the directory. Held device keys may carry the platform the directory gives
(so a device no inventory has is counted as unknown on its platform), and the index on
``devices.source_device_id`` lets the store find held keys that no device answers to.

Revision ID: 0002_directory_coverage
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_directory_coverage"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("device_holders", sa.Column("platform", sa.String(20)))
    op.create_table(
        "systems",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_table(
        "network_zones",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_index("ix_devices_source_device_id", "devices", ["source_device_id"])


def downgrade() -> None:
    op.drop_index("ix_devices_source_device_id", table_name="devices")
    op.drop_table("network_zones")
    op.drop_table("systems")
    with op.batch_alter_table("device_holders") as batch:
        batch.drop_column("platform")
