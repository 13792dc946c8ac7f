"""Alembic migrations of the fleet store, shipped in the package and applied on open."""
