"""Opening the store: database URL resolution, engine settings, and schema migration with Alembic.

The URL comes from ``--db``, else the ``XNER_DB`` environment variable, else ``sqlite:///xner.db`` in the working
directory. A bare file path is taken as a SQLite file. Any SQLAlchemy URL works, PostgreSQL included
(``postgresql+psycopg://user:pass@host/db``). Opening a store brings its schema to the newest migration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from xner.errors import XnerError

DEFAULT_URL = "sqlite:///xner.db"
ENV_VAR = "XNER_DB"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def resolve_url(db: str | None = None) -> str:
    """The database URL to use: ``db``, else ``$XNER_DB``, else ``sqlite:///xner.db``; a path means SQLite.

    >>> resolve_url("demo.db")
    'sqlite:///demo.db'
    >>> resolve_url("postgresql+psycopg://u@localhost/x")
    'postgresql+psycopg://u@localhost/x'
    """
    value = db or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in value:
        return f"sqlite:///{value}"
    try:
        make_url(value)
    except (ArgumentError, ValueError) as error:  # ValueError: e.g. a port that is not a number
        raise XnerError(f"invalid database URL {value!r}: {error}") from None
    return value


def _safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer: several reviewers at once
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps the file consistent
    cursor.execute("PRAGMA busy_timeout=10000")  # a second writer waits instead of failing at once
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with xner's settings (SQLite pragmas; pre-ping for servers)."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class Store:
    """An open database: its engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed when the block ends, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (no commit)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    """The Alembic configuration for ``url`` (no alembic.ini needed at run time)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, url: str) -> None:
    """Bring the schema up to the newest Alembic revision (no-op when it is there already)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(db: str | None = None, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store at ``db`` (see :func:`resolve_url`)."""
    url = resolve_url(db)
    engine = make_engine(url)
    if upgrade:
        try:
            migrate(engine, url)
        except DBAPIError as error:  # no such directory, not a database, server refused...
            engine.dispose()
            reason = str(error.orig or error).splitlines()[0]
            raise XnerError(f"cannot open the database {_safe_url(url)}: {reason}") from None
    return Store(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
