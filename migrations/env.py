"""Alembic environment: runs migrations on the connection xner hands over, or on ``-x db=URL``."""

from __future__ import annotations

from alembic import context

from xner.store.db import make_engine, resolve_url
from xner.store.models import Base

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(resolve_url(url))
    with engine.begin() as new_connection:
        _run(new_connection)


def _run(connection) -> None:
    # render_as_batch: SQLite can only ALTER tables by copying them, which batch mode does.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
