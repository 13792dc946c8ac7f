"""Alembic environment of the fleet store.

The store runs migrations programmatically (:func:`appveto.fleet.store.migrate`) and
hands its open connection in ``config.attributes["connection"]``. Running ``alembic``
from the command line also works with ``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from appveto.fleet._schema import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=getattr(connection, "dialect", None) is not None
        and connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic: pass -x url=DATABASE_URL")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
