"""Opening the store: database URL resolution, engine settings, and schema migration with Alembic.

The URL comes from ``--db``, else the ``XNER_DB`` environment variable, else ``sqlite:///xner.db`` in the working
directory. A bare file path is taken as a SQLite file. Any SQLAlchemy URL works, PostgreSQL included
(``postgresql+psycopg://user:pass@host/db``). Opening a store brings its schema to the newest migration.

Writers never hold the database for long: imports, alignment and projection runs commit a batch at a time (see
:mod:`xner.store.staging`), so a short write waits a few hundred milliseconds at most for the lock. SQLite waits
:data:`BUSY_TIMEOUT_MS` for another writer's lock (PostgreSQL, in :meth:`Store.write`, :data:`LOCK_TIMEOUT_MS`)
and then fails with "database is locked"; interactive writes go through :meth:`Store.write`, which retries the
whole transaction with a short jittered back-off and then raises :class:`xner.errors.BusyError`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from xner.errors import BusyError, XnerError

T = TypeVar("T")

DEFAULT_URL = "sqlite:///xner.db"
ENV_VAR = "XNER_DB"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# SQLite: how long a statement waits for another writer's lock before "database is locked" (was 10 s). Long writers
# now commit every batch (about 0.1 s each; 0.5 s at worst measured with the 2 cores loaded 4x over), so a waiting
# write gets in within a batch or two. The limit only bounds the pathological case: SQLite polls the lock (every
# 0.1 s), it does not queue, so under heavy load a write can miss a few gaps; 2 s keeps plain transactions from
# failing then (at 0.5 s, 6 of 777 decisions failed during an import in a test), and Store.write retries beyond it.
BUSY_TIMEOUT_MS = 2000
LOCK_TIMEOUT_MS = 500  # PostgreSQL, in Store.write: how long a statement waits for a row or table lock
# Store.write: how long a reviewer's write keeps retrying before BusyError. At 3 s, 1 of 200 decisions failed while
# a 500k-sentence import ran with 8 reviewers on 2 loaded cores (its one try had waited 3.6 s: SQLite polls the lock,
# it does not queue); a decision that waits longer is better than one that must be made again.
INTERACTIVE_WAIT_S = 10.0
# Errors that mean "another transaction holds what this one needs; the same transaction may succeed later":
# PostgreSQL's lock_not_available, serialization_failure and deadlock_detected; SQLite's BUSY and LOCKED.
_BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01"})
_SQLITE_BUSY_CODES = frozenset({5, 6})
_SQLITE_BUSY_TEXT = ("database is locked", "database is busy", "database table is locked")


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


def sqlite_file(url: str | None) -> Path | None:
    """The absolute path of the SQLite database file at ``url``; None for another database, an in-memory one or a
    URL that does not parse.

    >>> sqlite_file("sqlite:////srv/xner/projects.db")
    PosixPath('/srv/xner/projects.db')
    >>> sqlite_file("postgresql+psycopg://xner@db/xner") is None
    True
    """
    if not url:
        return None
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().absolute()


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
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")  # a second writer waits a moment, then fails
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
        """A session inside one transaction: committed when the block ends, rolled back on any error. What
        :func:`after_commit` registered on the session runs once the commit succeeded."""
        with self.sessions.begin() as session:
            yield session
            callbacks = session.info.pop(_AFTER_COMMIT, ())
        for callback in callbacks:
            callback()

    def write(
        self,
        fn: Callable[[Session], T],
        *,
        what: str = "the write",
        attempts: int = 12,
        max_wait_s: float = INTERACTIVE_WAIT_S,
    ) -> T:
        """``fn(session)`` in one transaction, run again from the start while the database is busy.

        For short writes that must not fail because another process holds the lock for a moment (a review decision,
        a spot-check judgment, a batch of an import). ``fn`` may run more than once, so it must do database work
        only; each run gets a fresh session, rolled back when it fails. On PostgreSQL the transaction waits at most
        :data:`LOCK_TIMEOUT_MS` for any lock (``SET LOCAL lock_timeout``), as SQLite waits at most
        :data:`BUSY_TIMEOUT_MS`, so that a blocked try fails soon and is retried.

        Args:
            fn: the work, given the session of the transaction; its return value is returned.
            what: what the write does, for the error message (e.g. ``"saving the decision"``).
            attempts: tries at most.
            max_wait_s: seconds after which no new try starts.

        Returns:
            What ``fn`` returned in the try that committed.

        Raises:
            BusyError: still busy after ``attempts`` tries or ``max_wait_s`` seconds; nothing was written.
        """

        def once() -> T:
            with self.transaction() as session:
                if self.engine.dialect.name == "postgresql":
                    session.execute(text(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS:d}"))
                return fn(session)

        return retry_busy(once, what=what, attempts=attempts, max_wait_s=max_wait_s)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (no commit)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:  # tracebacks and logs show stores: never with the password
        return f"Store(url={safe_url(self.url)!r})"


_AFTER_COMMIT = "xner_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the transaction of ``session`` (a :meth:`Store.transaction` or :meth:`Store.write`)
    has committed; never when it rolls back, so a retried write registers its callback again."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def is_busy_error(error: BaseException) -> bool:
    """Whether ``error`` says that another transaction holds a lock this one needs, so that trying the same
    transaction again later may succeed: SQLite's "database is locked" / "busy" (``SQLITE_BUSY``,
    ``SQLITE_LOCKED``), PostgreSQL's ``LockNotAvailable``, ``SerializationFailure`` and ``DeadlockDetected``.

    >>> import sqlite3
    >>> from sqlalchemy.exc import OperationalError
    >>> is_busy_error(OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked")))
    True
    >>> is_busy_error(OperationalError("INSERT ...", {}, sqlite3.OperationalError("no such table: x")))
    False
    """
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES:
        return True
    message = str(original).lower()
    return any(phrase in message for phrase in _SQLITE_BUSY_TEXT)


def retry_busy(
    call: Callable[[], T],
    *,
    what: str = "the write",
    attempts: int = 12,
    max_wait_s: float = INTERACTIVE_WAIT_S,
    first_delay_s: float = 0.02,
    max_delay_s: float = 0.25,
) -> T:
    """``call()``, called again while it fails with a busy database (:func:`is_busy_error`), after a jittered pause
    that doubles from ``first_delay_s`` up to ``max_delay_s``. Other errors pass through at once.

    ``call`` must be a whole transaction (see :meth:`Store.write`): a failed try has rolled back.

    Raises:
        BusyError: the last try failed busy, after ``attempts`` tries, or when the next pause would end after
            ``max_wait_s`` seconds (counted from the first try).
    """
    started = time.monotonic()
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except DBAPIError as error:
            if not is_busy_error(error):
                raise
            waited = time.monotonic() - started
            pause = delay * random.uniform(0.5, 1.5)
            if attempt == attempts or waited + pause > max_wait_s:
                raise BusyError(what, tries=attempt, waited_s=waited) from error
            time.sleep(pause)
            delay = min(2 * delay, max_delay_s)
    raise AssertionError("unreachable: the last try returns or raises")


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
