"""The store on PostgreSQL: migrations, real-data import and export, rollback of failed imports, parallel text.

The server is the local Debian cluster, started for the session when it is down (tests/pg.py); every test gets a
database of its own. Without PostgreSQL (or without root) these tests are skipped with the reason.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.apptest import load, seen
from tests.conftest import REPO, shared, snapshot, write
from tests.store.checks import (
    check_directional_links_migration_keeps_the_alignments,
    check_empty_runs_are_found_in_sql,
    check_span_lists_store_the_json_they_always_stored,
)
from xner.cli import app
from xner.errors import InputError, XnerError
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services.corpora import corpus_stats
from xner.services.demo import load_demo
from xner.services.experiments import ExperimentConfig, run_experiment
from xner.services.exporting import export_corpus
from xner.services.importing import import_alignments, import_corpus, import_parallel
from xner.services.projecting import project_corpus
from xner.services.training import train_tagger
from xner.store.db import Store, alembic_config, open_store
from xner.store.models import Alignment, Base, Corpus, Entity, Sentence

pytest_plugins = ["tests.pg"]
pytestmark = pytest.mark.postgres

TABLES = {table.name for table in Base.metadata.sorted_tables}


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """A migrated store in a fresh PostgreSQL database."""
    store = open_store(pg_url)
    yield store
    store.dispose()


def count_conll(path: Path) -> tuple[int, int, Counter[str]]:
    """Sentences, tokens and entities per label straight from the file text (not through xner's reader): an
    entity starts at every B- tag and at every I- tag that does not continue an entity of its label."""
    sentences = tokens = 0
    entities: Counter[str] = Counter()
    previous, in_sentence = "O", False
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            sentences += in_sentence
            previous, in_sentence = "O", False
            continue
        in_sentence = True
        tokens += 1
        tag = columns[-1]
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            entities[tag[2:]] += 1
        previous = tag
    return sentences + in_sentence, tokens, entities


def conll_tokens(path: Path) -> list[list[str]]:
    """The tokens of each sentence of a CoNLL file, NFC-normalised (as xner stores them)."""
    sentences: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if not columns:
            if sentences[-1]:
                sentences.append([])
            continue
        sentences[-1].append(unicodedata.normalize("NFC", columns[0]))
    return [s for s in sentences if s]


def rows_by_position(store: Store, corpus: str, side: str = "mono") -> list[tuple[tuple[str, ...], tuple]]:
    """(tokens, sorted entity spans) of each sentence of one side of a corpus, in position order."""
    with store.session() as session:
        rows = session.execute(
            select(Sentence.id, Sentence.tokens)
            .where(Sentence.corpus.has(name=corpus), Sentence.side == side)
            .order_by(Sentence.split, Sentence.position)
        ).all()
        spans: dict[int, list[tuple[int, int, str]]] = {}
        for sid, start, end, label in session.execute(
            select(Entity.sentence_id, Entity.start, Entity.end, Entity.label).where(
                Entity.sentence_id.in_([r[0] for r in rows])
            )
        ):
            spans.setdefault(sid, []).append((start, end, label))
    return [(tuple(tokens), tuple(sorted(spans.get(sid, [])))) for sid, tokens in rows]


def schema_diff(store: Store) -> list:
    """Alembic's autogenerate comparison of the database with the models (empty: the migrations match)."""
    with store.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_open_store_migrates_to_head_and_matches_the_models(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        head = ScriptDirectory.from_config(alembic_config(store.url)).get_current_head()
        assert current_revision(store) == head
        assert set(inspect(store.engine).get_table_names()) >= TABLES
        assert schema_diff(store) == []
        assert store.engine.dialect.name == "postgresql"
    finally:
        store.dispose()
    again = open_store(pg_url)  # already at head: nothing to do
    try:
        assert current_revision(again) == head
    finally:
        again.dispose()


def test_span_lists_store_the_json_they_always_stored(pg_store: Store) -> None:
    check_span_lists_store_the_json_they_always_stored(pg_store)


def test_empty_runs_are_found_in_sql(pg_store: Store) -> None:
    check_empty_runs_are_found_in_sql(pg_store)


def test_real_conll_import_counts_match_the_file(pg_store: Store) -> None:
    path = shared("masakhaner2", "hau", "dev.txt")
    sentences, tokens, entities = count_conll(path)

    report = import_corpus(pg_store, path, corpus="hau", lang="hau")

    stats = corpus_stats(pg_store, "hau")
    assert report.sentences == sentences == stats.sentences["dev/mono"] == stats.total_sentences
    assert stats.tokens == tokens
    assert stats.entities == dict(entities)
    assert stats.labels == sorted(entities)
    assert stats.review["unreviewed"] == sentences
    # Non-ASCII Hausa tokens (ɗ, ƙ, ’) come back from PostgreSQL's JSON exactly as the file has them (NFC).
    assert [list(tokens) for tokens, _ in rows_by_position(pg_store, "hau")] == conll_tokens(path)


def test_failed_import_near_the_end_of_a_long_file_leaves_the_database_unchanged(
    pg_store: Store, tmp_path: Path
) -> None:
    import_corpus(pg_store, shared("masakhaner2", "hau", "dev.txt"), corpus="hau", lang="hau")
    lines = shared("masakhaner2", "hau", "train.txt").read_text(encoding="utf-8").splitlines()
    sentences, _, _ = count_conll(shared("masakhaner2", "hau", "train.txt"))
    assert sentences > 2000  # more than one insert batch is written before the error
    bad = len(lines) - 5
    while not lines[bad].strip():
        bad -= 1
    lines[bad] = lines[bad].split()[0]  # a token without its tag, in the file's last sentences
    broken = write(tmp_path / "train.txt", "\n".join(lines) + "\n")
    before = snapshot(pg_store)

    with pytest.raises(InputError) as new_corpus:
        import_corpus(pg_store, broken, corpus="broken", lang="hau")
    with pytest.raises(InputError):
        import_corpus(pg_store, broken, corpus="hau", lang="hau", append=True)

    assert new_corpus.value.line == bad + 1
    assert snapshot(pg_store) == before
    assert corpus_stats(pg_store, "hau").total_sentences == count_conll(shared("masakhaner2", "hau", "dev.txt"))[0]


def test_conflicting_import_is_refused_without_writing(pg_store: Store) -> None:
    path = shared("masakhaner2", "hau", "dev.txt")
    import_corpus(pg_store, path, corpus="hau", lang="hau")
    before = snapshot(pg_store)
    with pytest.raises(XnerError, match="already has"):
        import_corpus(pg_store, path, corpus="hau", lang="hau")
    with pytest.raises(XnerError, match="exists as"):
        import_corpus(pg_store, path, corpus="hau", lang="yor")
    assert snapshot(pg_store) == before


@pytest.mark.parametrize("fmt", ["conll", "jsonl"])
def test_export_round_trip(pg_store: Store, tmp_path: Path, fmt: str) -> None:
    path = shared("masakhaner2", "hau", "dev.txt")
    sentences, _, entities = count_conll(path)
    import_corpus(pg_store, path, corpus="hau", lang="hau")

    out = tmp_path / f"hau.{fmt}"
    report = export_corpus(pg_store, "hau", out, fmt=fmt)
    assert (report.sentences, report.entities) == (sentences, sum(entities.values()))
    options = ConllOptions(scheme="iob2") if fmt == "conll" else None
    import_corpus(pg_store, out, corpus="again", lang="hau", fmt=fmt, split="dev", options=options)

    assert rows_by_position(pg_store, "again") == rows_by_position(pg_store, "hau")
    if fmt == "conll":
        assert conll_tokens(out) == conll_tokens(path)


def test_parallel_and_alignment_import(pg_store: Store, tmp_path: Path) -> None:
    text = shared("alignment_gold_awesome", "roen.src-tgt")
    gold = shared("alignment_gold_awesome", "roen.gold")
    pairs = [line.split("|||") for line in text.read_text(encoding="utf-8").splitlines()]
    gold_lines = gold.read_text(encoding="utf-8").splitlines()

    report = import_parallel(
        pg_store,
        text,
        None,
        corpus="roen",
        src=SideOptions("ro", pretokenized=True),
        tgt=SideOptions("en", pretokenized=True),
        split="test",
    )
    aligned = import_alignments(pg_store, gold, corpus="roen", aligner="gold", index_base=1)

    stats = corpus_stats(pg_store, "roen")
    assert report.pairs == aligned.pairs == stats.pairs == len(pairs) == len(gold_lines)
    assert stats.sentences == {"test/src": len(pairs), "test/tgt": len(pairs)}
    assert stats.tokens == sum(len(src.split()) + len(tgt.split()) for src, tgt in pairs)
    assert [list(t) for t, _ in rows_by_position(pg_store, "roen", "src")] == [src.split() for src, _ in pairs]
    assert [list(t) for t, _ in rows_by_position(pg_store, "roen", "tgt")] == [tgt.split() for _, tgt in pairs]
    with pg_store.session() as session:
        stored = list(
            session.scalars(
                select(Alignment.links).where(Alignment.run_id == aligned.run_id).order_by(Alignment.pair_id)
            )
        )
    expected = [
        {(int(i) - 1, int(j) - 1) for i, j in (link.split("-") for link in line.split())} for line in gold_lines
    ]
    assert [{tuple(map(int, link.split("-"))) for link in links.split()} for links in stored] == expected

    # A link past the end of its sentence in the last line: the whole run is rolled back.
    before = snapshot(pg_store)
    src_len = len(pairs[-1][0].split())
    write(tmp_path / "bad.gold", "\n".join([*gold_lines[:-1], f"{src_len + 1}-1"]) + "\n")
    with pytest.raises(InputError, match="beyond") as error:
        import_alignments(pg_store, tmp_path / "bad.gold", corpus="roen", aligner="gold", index_base=1)
    assert error.value.line == len(gold_lines)
    assert snapshot(pg_store) == before


def test_directional_links_migration_keeps_the_alignments(pg_store: Store) -> None:
    check_directional_links_migration_keeps_the_alignments(pg_store)


def test_downgrade_to_base_and_upgrade_again(pg_store: Store) -> None:
    import_corpus(pg_store, shared("masakhaner2", "hau", "dev.txt"), corpus="hau", lang="hau")
    config = alembic_config(pg_store.url)
    head = ScriptDirectory.from_config(config).get_current_head()

    with pg_store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(pg_store) is None
    assert set(inspect(pg_store.engine).get_table_names()) <= {"alembic_version"}

    with pg_store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert current_revision(pg_store) == head
    assert set(inspect(pg_store.engine).get_table_names()) >= TABLES
    assert schema_diff(pg_store) == []
    with pg_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Sentence)) == 0
    report = import_corpus(pg_store, shared("masakhaner2", "hau", "dev.txt"), corpus="hau", lang="hau")
    assert corpus_stats(pg_store, "hau").total_sentences == report.sentences


# --- the password of the database URL is never shown, printed, stored or logged -----------------------------------


def password_of(url: str) -> str:
    password = make_url(url).password
    assert password and len(password) >= 8  # the fixture's role has a real password
    return str(password)


def test_the_home_page_shows_the_database_without_its_password(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XNER_DB", pg_url)
    at = load("app", timeout=120).run()

    assert not at.exception and not at.error
    kinds = ("markdown", "caption", "title", "error", "warning", "info", "success", "text", "exception")
    shown = "\n".join(seen(str(element.value)) for kind in kinds for element in getattr(at, kind))
    assert password_of(pg_url) not in shown
    captions = [seen(c.value) for c in at.main.caption]  # as the reader sees them
    database = [c for c in captions if c.startswith("Database: ")]
    assert database and ":***@127.0.0.1:" in database[0]  # the URL, its password masked


def test_cli_outputs_and_errors_never_print_the_password(pg_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    password = password_of(pg_url)
    commands = [
        ["demo", "--db", pg_url],
        ["corpora", "--db", pg_url],
        ["corpora", "--db", pg_url, "--json"],
        ["stats", "--corpus", "demo-en-es", "--db", pg_url],
        ["stats", "--corpus", "demo-en-es", "--db", pg_url, "--json"],
        ["train", "--corpus", "demo-en-es", "--out", str(tmp_path / "m"), "-o", "max_iterations=5", "--db", pg_url],
        ["stats", "--corpus", "nope", "--db", pg_url, "--json"],  # an error naming what exists
        ["corpora", "--db", pg_url.replace("@127.0.0.1:", "@127.0.0.1:x")],  # an invalid URL
        ["corpora", "--db", pg_url.replace(password, "wrong-" + password[:4]) + "x"],  # refused: wrong password
    ]
    for args in commands:
        result = runner.invoke(app, args)
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert password not in output, args
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "***" in runner.invoke(app, commands[-2]).output


def test_runs_written_by_train_and_experiment_hold_no_password(pg_store: Store, tmp_path: Path) -> None:
    assert load_demo(pg_store)
    import_corpus(pg_store, REPO / "data" / "demo" / "es.conll", corpus="es", lang="es", split="train")
    train_tagger(pg_store, "es", out=tmp_path / "crf", options={"max_iterations": "5"}, created_by="amina")
    config = ExperimentConfig.from_mapping(
        {
            "name": "mini",
            "tagger_options": {"max_iterations": 5},
            "languages": {"es": {"gold": {"corpus": "es"}, "test": {"corpus": "es", "split": "train"}}},
            "strategies": {"gold": {"mix": "gold"}},
            "ks": [20],
            "seeds": [0],
        }
    )
    run_experiment(pg_store, config)
    project_corpus(pg_store, "demo-en-es", method="model", options={"model": str(tmp_path / "crf")})

    rows = snapshot(pg_store)  # every row of every table, JSON columns (configs, params, sizes) included
    assert rows["training_run"] and rows["experiment"] and rows["projection_run"]
    assert password_of(pg_store.url) not in repr(rows)
    assert password_of(pg_store.url) not in (tmp_path / "crf" / "xner-tagger.json").read_text()


def test_logs_hold_no_password(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from xner.ui.support import configure_logging, log_unexpected

    password = password_of(pg_url)
    with caplog.at_level(logging.DEBUG):
        configure_logging()
        store = open_store(pg_url)  # migrations: Alembic's lines
        with store.session() as session:
            session.execute(select(func.count()).select_from(Sentence))
        store.dispose()
        try:
            raise RuntimeError(f"lost the connection to {pg_url}")
        except RuntimeError as error:
            log_unexpected(error)
        logging.getLogger("sqlalchemy.engine").warning("reconnecting to %s", pg_url)  # a library's own line
        with pytest.raises(XnerError, match=r"cannot open the database .*:\*\*\*@") as refused:
            open_store(pg_url.replace(password, "wrong"))

    assert "Running upgrade" in caplog.text  # the migrations did log
    assert password not in caplog.text and password not in str(refused.value)
    assert "lost the connection to postgresql+psycopg://" in caplog.text


# --- Store.write on a busy PostgreSQL: row locks -----------------------------------------------------------------


def hold_row_lock(store: Store, name: str):
    """A second connection holding ``SELECT ... FOR UPDATE`` on corpus ``name``; returns its release function."""
    connection = store.engine.connect()
    transaction = connection.begin()
    connection.execute(select(Corpus.id).where(Corpus.name == name).with_for_update())

    def release() -> None:
        transaction.rollback()
        connection.close()

    return release


def describe(name: str, text: str):
    """A ``Store.write`` function that sets corpus ``name``'s description, counting its calls."""

    def write(session) -> None:
        write.calls += 1
        session.execute(update(Corpus).where(Corpus.name == name).values(description=text))

    write.calls = 0
    return write


def test_write_retries_while_a_row_is_locked_then_succeeds(pg_store: Store, tmp_path: Path) -> None:
    import threading
    import time

    import_corpus(pg_store, write(tmp_path / "train.txt", "Ada B-PER\n"), corpus="c", lang="en")
    threading.Timer(1.5, hold_row_lock(pg_store, "c")).start()  # 3 lock timeouts of 500 ms
    change = describe("c", "after the lock")
    started = time.monotonic()
    pg_store.write(change, what="describing the corpus", max_wait_s=6)
    assert change.calls >= 2 and 1.3 < time.monotonic() - started < 4
    assert corpus_stats(pg_store, "c").name == "c"


def test_write_gives_up_on_a_row_locked_too_long(pg_store: Store, tmp_path: Path) -> None:
    from xner.errors import BusyError

    import_corpus(pg_store, write(tmp_path / "train.txt", "Ada B-PER\n"), corpus="c", lang="en")
    release = hold_row_lock(pg_store, "c")
    try:
        with pytest.raises(BusyError, match="describing the corpus failed: the database stayed busy"):
            pg_store.write(describe("c", "never"), what="describing the corpus", max_wait_s=1.0)
    finally:
        release()
    with pg_store.session() as session:
        assert session.scalar(select(Corpus.description).where(Corpus.name == "c")) == ""
