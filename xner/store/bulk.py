"""Bulk inserts: many rows of one table in one statement, with as little work per row as the database allows.

SQLAlchemy's Core ``session.execute(insert(table), [dict, ...])`` spends most of a large import's write time in
Python, not in the database: it builds and type-processes a parameter dict per row (``construct_params``). On SQLite
:func:`insert_tuples` hands the DB-API cursor plain tuples instead, each value passed through its column type's own
bind processor (JSON encoding, dates), so what is stored is exactly what the Core insert stores: the rows of an
import are written 2-3 times faster. Other databases take the Core insert (their drivers batch it themselves).

A column with a Python-side default that the rows do not give (a run's ``created_at``) is filled by SQLAlchemy, so
such inserts take the Core path too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Plan = tuple[str, list[int], list[tuple[int, Callable[[Any], Any]]]]
_PLANS: dict[tuple[int, str, tuple[str, ...]], _Plan | None] = {}


def insert_tuples(session: Session, table: Table, keys: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert ``rows`` into ``table``, each a tuple of the values of columns ``keys`` in that order.

    Args:
        session: the session of the transaction.
        table: the table.
        keys: the column names the tuples give values for.
        rows: the rows; values as the ORM takes them (a list for a JSON column, a datetime for a date).

    >>> from sqlalchemy import create_engine
    >>> from xner.store.models import Base, Corpus, Sentence
    >>> engine = create_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> with Session(engine) as session:
    ...     corpus = Corpus(name="c", kind="mono", src_lang="yo", labels=[])
    ...     session.add(corpus)
    ...     session.flush()
    ...     keys = ("corpus_id", "split", "side", "position", "lang", "tokens", "n_tokens")
    ...     insert_tuples(session, Sentence.__table__, keys, [(corpus.id, "train", "mono", 0, "yo", ["Ade"], 1)])
    ...     session.get(Sentence, 1).tokens
    ['Ade']
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    plan = _plan(table, dialect, tuple(keys))
    if plan is None:
        session.execute(insert(table), [dict(zip(keys, row, strict=True)) for row in rows])
        return
    sql, order, processors = plan
    if order:
        rows = [tuple([row[index] for index in order]) for row in rows]
    if len(processors) == 1:
        (at, process), after = processors[0], processors[0][0] + 1
        rows = [(*row[:at], process(row[at]), *row[after:]) for row in rows]
    elif processors:
        rows = [_processed(row, processors) for row in rows]
    session.connection().exec_driver_sql(sql, rows)  # type: ignore[arg-type]


def insert_dicts(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, as for Core's ``insert(table)``) through :func:`insert_tuples`."""
    if not rows:
        return
    keys = tuple(rows[0])
    try:
        tuples = [tuple([row[key] for key in keys]) for row in rows]
    except KeyError:  # rows with other keys: SQLAlchemy says which
        session.execute(insert(table), list(rows))
        return
    insert_tuples(session, table, keys, tuples)


def _list_of_strings_first(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor (``json.dumps``) with a shortcut for what most JSON values of an import are, a
    sentence's tokens: plain ASCII tokens without quotes, backslashes or control characters are written as
    ``json.dumps`` writes them (``["a", "b"]``), with two joins instead of the encoder; anything else goes to
    ``process``. The same text either way (tests/store/test_bulk.py)."""

    def encode(value: Any) -> Any:
        if value and type(value) in (list, tuple):
            try:
                plain = " ".join(value)
            except TypeError:  # not all strings
                return process(value)
            if plain.isascii() and plain.isprintable() and '"' not in plain and "\\" not in plain:
                return '["' + '", "'.join(value) + '"]'
        return process(value)

    return encode


def _processed(row: tuple, processors: list[tuple[int, Callable[[Any], Any]]]) -> tuple:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)


def _plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The driver-level statement for ``keys`` on SQLite (its SQL, the order of the values it takes, empty when it is
    ``keys``'s, and the bind processors to apply by position); None where the Core insert is needed."""
    cache_key = (id(table), dialect.name, keys)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    plan: _Plan | None = None
    missing_defaults = any(
        column.default is not None and column.key not in keys and not column.primary_key for column in table.columns
    )
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark" and not missing_defaults:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        names = list(compiled.positiontup or ())
        if sorted(names) == sorted(keys):
            order = [keys.index(name) for name in names]
            if order == sorted(order):
                order = []  # the tuples are in the statement's order already
            processors: list[tuple[int, Callable[[Any], Any]]] = []
            for position, name in enumerate(names):
                column_type = table.c[name].type
                process: Callable[[Any], Any] | None = column_type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None and type(column_type) is JSON and dialect._json_serializer is None:  # type: ignore[attr-defined]
                    process = _list_of_strings_first(process)
                if process is not None:
                    processors.append((position, process))
            plan = (str(compiled), order, processors)
    _PLANS[cache_key] = plan
    return plan
