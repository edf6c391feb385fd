"""The SQLite store: URL resolution, migrations up and down, schema = models, foreign keys and WAL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, inspect, select, text

from tests.conftest import write
from tests.store.checks import (
    check_directional_links_migration_keeps_the_alignments,
    check_empty_runs_are_found_in_sql,
    check_span_lists_store_the_json_they_always_stored,
)
from xner.errors import XnerError
from xner.formats.parallel import SideOptions
from xner.services.importing import import_alignments, import_corpus, import_parallel
from xner.store import db
from xner.store.db import BUSY_TIMEOUT_MS, Store, alembic_config, hide_passwords, open_store, resolve_url, safe_url
from xner.store.models import Alignment, AlignmentRun, Base, Corpus, Entity, Sentence, SentencePair

TABLES = {table.name for table in Base.metadata.sorted_tables}
CONLL = "Ada B-PER\nLovelace I-PER\nvisited O\nLondon B-LOC\n\nIbadan B-LOC\nis O\nbig O\n\n"


def head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def count(store: Store, model: type[Base]) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- resolve_url -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("demo.db", "sqlite:///demo.db"),
        ("/tmp/x/store.sqlite", "sqlite:////tmp/x/store.sqlite"),
        ("data/my store.db", "sqlite:///data/my store.db"),
        ("sqlite:///abs.db", "sqlite:///abs.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://user:pw@127.0.0.1:5432/xner", "postgresql+psycopg://user:pw@127.0.0.1:5432/xner"),
    ],
)
def test_resolve_url(monkeypatch: pytest.MonkeyPatch, given: str, expected: str) -> None:
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert resolve_url(given) == expected


def test_resolve_url_environment_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert resolve_url() == "sqlite:///xner.db"
    monkeypatch.setenv(db.ENV_VAR, "team.db")
    assert resolve_url() == "sqlite:///team.db"
    monkeypatch.setenv(db.ENV_VAR, "postgresql+psycopg://u@localhost/x")
    assert resolve_url() == "postgresql+psycopg://u@localhost/x"
    assert resolve_url("mine.db") == "sqlite:///mine.db"  # --db wins over the environment
    monkeypatch.setenv(db.ENV_VAR, "")
    assert resolve_url() == "sqlite:///xner.db"


@pytest.mark.parametrize(
    "bad",
    [
        "not a url://x",
        "://nothing",
        "postgresql+psycopg://u@host:notaport/db",
    ],
)
def test_invalid_url_is_an_xner_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    with pytest.raises(XnerError, match="invalid database URL"):
        resolve_url(bad)
    monkeypatch.setenv(db.ENV_VAR, bad)
    with pytest.raises(XnerError, match="invalid database URL"):
        resolve_url()


def test_open_store_with_a_bare_path_creates_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "bare.db"
    store = open_store(str(path))
    try:
        assert store.url == f"sqlite:///{path}"
        assert path.exists()
        assert tables(store) == TABLES
    finally:
        store.dispose()


# --- migrations --------------------------------------------------------------------------------------------------


def test_migrations_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    store = open_store(url, upgrade=False)
    config = alembic_config(url)
    try:
        assert revision(store) is None and tables(store) == set()
        for target, expected_tables, expected_revision in [
            ("head", TABLES, head()),
            ("base", set(), None),
            ("head", TABLES, head()),
        ]:
            with store.engine.begin() as connection:
                config.attributes["connection"] = connection
                (command.upgrade if target == "head" else command.downgrade)(config, target)
            assert tables(store) == expected_tables
            assert revision(store) == expected_revision
        with store.transaction() as session:
            session.add(Corpus(name="after", kind="mono", src_lang="en"))
        assert count(store, Corpus) == 1
    finally:
        store.dispose()


def test_migrations_run_through_alembic_own_engine(tmp_path: Path) -> None:
    """``alembic -x db=URL upgrade head`` (no connection handed over) works too: env.py makes its own engine."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    store = open_store(url, upgrade=False)
    try:
        assert revision(store) == head()
        assert tables(store) == TABLES
    finally:
        store.dispose()
    command.downgrade(config, "base")
    store = open_store(url, upgrade=False)
    try:
        assert tables(store) == set()
    finally:
        store.dispose()


def test_open_store_twice_is_a_no_op_the_second_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    first = open_store(url)
    import_corpus(first, write(tmp_path / "train.txt", CONLL), corpus="c", lang="en")
    first.dispose()

    def no_upgrade(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("open_store ran a migration on a store already at head")

    monkeypatch.setattr(command, "upgrade", no_upgrade)
    second = open_store(url)
    try:
        assert revision(second) == head()
        assert count(second, Sentence) == 2
        assert count(second, Entity) == 3
    finally:
        second.dispose()


def test_directional_links_migration_keeps_the_alignments(store: Store) -> None:
    check_directional_links_migration_keeps_the_alignments(store)


def test_migrated_schema_matches_the_models(store: Store) -> None:
    """What ``alembic check`` does: autogenerate against the migrated database finds nothing to change."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        assert compare_metadata(context, Base.metadata) == []


# --- SQLite settings ---------------------------------------------------------------------------------------------


def test_pragmas_foreign_keys_and_wal(store: Store) -> None:
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS


def test_wal_mode_persists_in_the_file(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "wal.db"
    open_store(str(path)).dispose()
    with sqlite3.connect(path) as plain:  # a connection without xner's pragmas
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_deleting_a_corpus_cascades_to_everything_under_it(store: Store, tmp_path: Path) -> None:
    import_corpus(store, write(tmp_path / "train.txt", CONLL), corpus="mono", lang="en")
    src = write(tmp_path / "src.txt", "Ada visited London\nIbadan is big\n")
    tgt = write(tmp_path / "tgt.txt", "Ada ṣe abẹwo si London\nIbadan tobi\n")
    import_parallel(
        store,
        src,
        tgt,
        corpus="par",
        src=SideOptions("en", pretokenized=True),
        tgt=SideOptions("yor", pretokenized=True),
        split="train",
    )
    import_alignments(store, write(tmp_path / "a.txt", "0-0 2-4\n0-0 2-1\n"), corpus="par", aligner="gold")
    assert (count(store, Sentence), count(store, SentencePair), count(store, Alignment)) == (6, 2, 2)

    with store.transaction() as session:  # plain SQL DELETE: the database's ON DELETE CASCADE does the work
        session.execute(delete(Corpus).where(Corpus.name == "par"))
    assert (count(store, Sentence), count(store, Entity)) == (2, 3)
    assert (count(store, SentencePair), count(store, AlignmentRun), count(store, Alignment)) == (0, 0, 0)

    with store.transaction() as session:
        session.execute(delete(Corpus))
    assert all(count(store, model) == 0 for model in (Sentence, Entity, SentencePair, AlignmentRun, Alignment))


def test_foreign_keys_are_enforced(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.transaction() as session:
        session.add(
            Sentence(
                corpus_id=12345,
                split="train",
                side="mono",
                position=0,
                lang="en",
                tokens=["x"],
                text=None,
                n_tokens=1,
                source_line=None,
            )
        )
    assert count(store, Sentence) == 0


@pytest.mark.parametrize("problem", ["missing directory", "not a database"])
def test_unusable_sqlite_file_is_an_xner_error(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "no" / "such" / "dir.db" if problem == "missing directory" else write(tmp_path / "x.db", "hi\n")
    with pytest.raises(XnerError):
        open_store(str(path))


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg://xner:s3cret@db.example.org:5432/xner",
        "cannot reach mysql://root:s3cret@localhost/db, retrying",
        "connect(host=db password=s3cret user=xner)",
        "password = 's3cret'",
    ],
)
def test_passwords_are_hidden_in_urls_and_messages(text: str) -> None:
    assert "s3cret" not in hide_passwords(text) and "***" in hide_passwords(text)
    assert "s3cret" not in safe_url(text)


def test_a_store_and_a_bad_url_never_show_the_password() -> None:
    store = Store("postgresql+psycopg://xner:s3cret@db/xner", None, None)  # type: ignore[arg-type]
    assert repr(store) == "Store(url='postgresql+psycopg://xner:***@db/xner')"
    with pytest.raises(XnerError) as refused:
        resolve_url("postgresql+psycopg://xner:s3cret@db:port/xner")  # the port is not a number
    assert "s3cret" not in str(refused.value) and "xner:***@db" in str(refused.value)


# --- Store.write: short writes retried while the database is busy ------------------------------------------------


def add_corpus(name: str):
    """A ``Store.write`` function that adds corpus ``name`` and counts its calls in ``add_corpus.calls``."""

    def write(session) -> int:
        write.calls += 1
        corpus = Corpus(name=name, kind="mono", src_lang="en", labels=[], description="")
        session.add(corpus)
        session.flush()
        return corpus.id

    write.calls = 0
    return write


class WriteLock:
    """A second, plain sqlite3 connection holding the write lock (``BEGIN IMMEDIATE``) until ``release()``."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


def sqlite_store(tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "busy.db"
    return open_store(str(path)), path


def test_write_waits_for_a_connection_holding_the_lock_then_succeeds(tmp_path: Path) -> None:
    import threading
    import time

    store, path = sqlite_store(tmp_path)
    lock = WriteLock(path)
    release_after = BUSY_TIMEOUT_MS / 1000 + 0.5  # longer than one busy_timeout: the write must retry
    threading.Timer(release_after, lock.release).start()
    write = add_corpus("after-the-lock")
    started = time.monotonic()
    corpus_id = store.write(write, what="adding a corpus", max_wait_s=3 * release_after)
    waited = time.monotonic() - started
    assert corpus_id and write.calls >= 2
    assert release_after - 0.2 < waited < release_after + 1.5
    assert count(store, Corpus) == 1
    store.dispose()


def test_write_gives_up_with_a_busy_error_and_writes_nothing(tmp_path: Path) -> None:
    import time

    from xner.errors import BusyError

    MAX_WAIT_S = 4.0

    store, path = sqlite_store(tmp_path)
    lock = WriteLock(path)
    started = time.monotonic()
    try:
        with pytest.raises(BusyError) as info:
            # room for a second try even when a loaded machine makes the first one last well over BUSY_TIMEOUT_MS
            store.write(add_corpus("never"), what="saving the decision", max_wait_s=MAX_WAIT_S)
    finally:
        lock.release()
    waited = time.monotonic() - started
    assert 2 * BUSY_TIMEOUT_MS / 1000 <= waited < MAX_WAIT_S + BUSY_TIMEOUT_MS / 1000 + 1.0  # no try starts later
    message = str(info.value)
    assert message.startswith("saving the decision failed: the database stayed busy") and "try again" in message
    assert "\n" not in message and info.value.tries >= 2
    assert count(store, Corpus) == 0
    store.dispose()


def test_write_does_not_retry_other_errors(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    store.write(add_corpus("taken"))
    again = add_corpus("taken")
    with pytest.raises(IntegrityError):
        store.write(again)
    assert again.calls == 1
    with pytest.raises(XnerError, match="nope"):
        store.write(lambda session: (_ for _ in ()).throw(XnerError("nope")))


class FakeDriverError(Exception):
    """A driver error with PostgreSQL's ``sqlstate`` (as psycopg's errors have)."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        ("database is locked", True),
        ("database table is locked", True),
        ("no such table: corpus", False),
        (FakeDriverError("55P03"), True),  # LockNotAvailable (lock_timeout, NOWAIT)
        (FakeDriverError("40001"), True),  # SerializationFailure
        (FakeDriverError("40P01"), True),  # DeadlockDetected
        (FakeDriverError("23505"), False),  # UniqueViolation: retrying cannot help
    ],
)
def test_is_busy_error(error: object, busy: bool) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    original = sqlite3.OperationalError(error) if isinstance(error, str) else error
    assert db.is_busy_error(OperationalError("UPDATE ...", {}, original)) is busy
    assert db.is_busy_error(ValueError("database is locked")) is False


# --- span list columns -------------------------------------------------------------------------------------------


def test_span_lists_store_the_json_they_always_stored(store: Store) -> None:
    check_span_lists_store_the_json_they_always_stored(store)


def test_empty_runs_are_found_in_sql(store: Store) -> None:
    check_empty_runs_are_found_in_sql(store)
