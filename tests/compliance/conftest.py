"""PostgreSQL fixtures shared with the fleet tests."""

from tests.fleet.conftest import pg_database, pg_url

__all__ = ["pg_database", "pg_url"]
