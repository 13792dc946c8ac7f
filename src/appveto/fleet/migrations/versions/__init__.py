"""Alembic revision scripts (one module per revision, applied in order)."""
