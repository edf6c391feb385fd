"""Opening the store: database URL resolution, engine settings, and schema migration with Alembic.

The URL comes from ``--db``, else the ``XNER_DB`` environment variable, else ``sqlite:///xner.db`` in the working
directory. A bare file path is taken as a SQLite file. Any SQLAlchemy URL works, PostgreSQL included
(``postgresql+psycopg://user:pass@host/db``). Opening a store brings its schema to the newest migration.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
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
        raise XnerError(f"invalid database URL {hide_passwords(value)!r}: {hide_passwords(str(error))}") from None
    return value


def safe_url(url: str) -> str:
    """``url`` with its password hidden: the only form of a database URL that xner shows, prints or logs.

    >>> safe_url("postgresql+psycopg://xner:s3cret@db.example.org/xner")
    'postgresql+psycopg://xner:***@db.example.org/xner'
    >>> safe_url("sqlite:///xner.db")
    'sqlite:///xner.db'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return hide_passwords(url)


_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@'\"]+@")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^\s'\",;)]+)", re.IGNORECASE)


def hide_passwords(text: str) -> str:
    """``text`` with the password of every URL in it (``scheme://user:password@host``) and every
    ``password=...`` setting replaced by ``***``: for messages and log lines that may quote a URL.

    >>> hide_passwords("cannot reach postgresql://xner:s3cret@db/xner (password=s3cret)")
    'cannot reach postgresql://xner:***@db/xner (password=***)'
    """
    return _KEYWORD_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


class PasswordFilter(logging.Filter):
    """A logging filter that hides the passwords of URLs (:func:`hide_passwords`) in the records it passes: their
    message and their traceback text. Add it to a handler to cover every logger that handler serves."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = hide_passwords(message), None
        if record.exc_text:
            record.exc_text = hide_passwords(record.exc_text)
        return True


def database_error_message(error: OperationalError) -> str:
    """One line for a database failure, without the SQL, its parameters or the URL: the driver's first line
    (e.g. ``database is locked``) and what to do.

    >>> import sqlite3
    >>> locked = OperationalError("UPDATE x SET y=?", (1,), sqlite3.OperationalError("database is locked"))
    >>> database_error_message(locked).split(":")[0]
    'The database could not answer (database is locked)'
    """
    reason = str(error.orig if error.orig is not None else "").strip().splitlines()
    detail = f" ({hide_passwords(reason[0])[:200]})" if reason else ""
    return (
        f"The database could not answer{detail}: try again in a moment; if it keeps failing, ask the administrator "
        "to check the database."
    )


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

    def __repr__(self) -> str:  # tracebacks and logs show stores: never with the password
        return f"Store(url={safe_url(self.url)!r})"


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
            raise XnerError(f"cannot open the database {safe_url(url)}: {hide_passwords(reason)}") from None
    return Store(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
