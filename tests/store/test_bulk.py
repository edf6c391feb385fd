"""Bulk inserts store exactly what SQLAlchemy's Core insert stores: JSON, span lists, dates, defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Table, insert, select, text

from xner.store.bulk import insert_dicts, insert_tuples
from xner.store.db import Store, open_store
from xner.store.models import AlignmentRun, Corpus, ReviewState, Sentence
from xner.types import Span

KEYS = ("corpus_id", "split", "side", "position", "lang", "tokens", "text", "n_tokens", "source_line")


def sentence_rows(corpus_id: int) -> list[tuple]:
    tokens = [
        ("Ọba", "Adé", "lọ", "sí", "Èkó"),
        ("He", "said", '"no"', "\\", "😀"),
        ("Ada", "met", "Bola", "in", "Lagos", "on", "3.5", "days'", "notice", "."),  # plain ASCII: the shortcut
        ("tab\there", "del\x7f", "nul\x00"),  # control characters: escaped by json.dumps
        ("x",),
    ]
    return [
        (corpus_id, "train", "mono", position, "yo", words, " ".join(words), len(words), 3 * position + 1)
        for position, words in enumerate(tokens)
    ]


def two_stores(tmp_path: Path) -> tuple[Store, Store, int]:
    stores = open_store(str(tmp_path / "core.db")), open_store(str(tmp_path / "bulk.db"))
    for store in stores:
        with store.transaction() as session:
            session.add(Corpus(name="c", kind="mono", src_lang="yo", labels=[]))
    return stores[0], stores[1], 1


def raw(store: Store, table: str) -> list[tuple]:
    """The stored values as SQLite holds them (JSON text, date strings), not as the ORM reads them back."""
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def test_insert_tuples_stores_what_the_core_insert_stores(tmp_path: Path) -> None:
    core, bulk, corpus_id = two_stores(tmp_path)
    rows = sentence_rows(corpus_id)
    with core.transaction() as session:
        session.execute(insert(Sentence), [dict(zip(KEYS, row, strict=True)) for row in rows])
    with bulk.transaction() as session:
        insert_tuples(session, Sentence.__table__, KEYS, rows)  # type: ignore[arg-type]
    assert raw(bulk, "sentence") == raw(core, "sentence")
    with bulk.session() as session:
        assert session.scalars(select(Sentence.tokens).order_by(Sentence.id)).all() == [list(r[5]) for r in rows]


def test_insert_tuples_takes_keys_in_any_order(tmp_path: Path) -> None:
    core, bulk, corpus_id = two_stores(tmp_path)
    rows = sentence_rows(corpus_id)
    order = tuple(reversed(KEYS))
    with core.transaction() as session:
        session.execute(insert(Sentence), [dict(zip(KEYS, row, strict=True)) for row in rows])
    with bulk.transaction() as session:
        insert_tuples(session, Sentence.__table__, order, [row[::-1] for row in rows])  # type: ignore[arg-type]
    assert raw(bulk, "sentence") == raw(core, "sentence")


def test_insert_dicts_runs_type_processors_and_defaults(tmp_path: Path) -> None:
    """Span lists (a TypeDecorator) and dates go through their bind processors; a Python-side default the rows
    leave out (a run's created_at) is still filled."""
    core, bulk, corpus_id = two_stores(tmp_path)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for store in (core, bulk):
        with store.transaction() as session:
            insert_tuples(session, Sentence.__table__, KEYS, sentence_rows(corpus_id))  # type: ignore[arg-type]
    states = [
        {
            "sentence_id": sentence_id,
            "corpus_id": corpus_id,
            "status": "unreviewed",
            "spans": (Span(3, 5, "LOC"), Span(0, 2, "PER")),
            "confidence": 0.5,
            "run_id": None,
            "disagreement": 0.0,
            "labels": " LOC PER ",
            "version": 0,
            "updated_by": "",
            "updated_at": moment,
            "votes": 0,
            "final": False,
        }
        for sentence_id in (1, 2)
    ]
    with core.transaction() as session:
        session.execute(insert(ReviewState), states)
    with bulk.transaction() as session:
        insert_dicts(session, ReviewState.__table__, states)  # type: ignore[arg-type]
    assert raw(bulk, "review_state") == raw(core, "review_state")
    with bulk.transaction() as session:
        insert_dicts(session, AlignmentRun.__table__, [{"corpus_id": corpus_id, "aligner": "gold", "params": {}}])  # type: ignore[arg-type]
    with bulk.session() as session:
        run = session.scalars(select(AlignmentRun)).one()
        assert run.created_at is not None and run.params == {}


def test_insert_dicts_with_other_keys_fails_like_the_core_insert(tmp_path: Path) -> None:
    _, bulk, corpus_id = two_stores(tmp_path)
    table: Table = Sentence.__table__  # type: ignore[assignment]
    first = dict(zip(KEYS, sentence_rows(corpus_id)[0], strict=True))
    second = {key: value for key, value in first.items() if key != "lang"} | {"position": 1}
    try:
        with bulk.transaction() as session:
            insert_dicts(session, table, [first, second])
    except Exception as error:  # SQLAlchemy names the missing parameter
        assert "lang" in str(error)
    else:
        raise AssertionError("a row without a required column was inserted")
    assert raw(bulk, "sentence") == []
