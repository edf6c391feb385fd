"""Reading big query results a page at a time: the one page size and the one keyset-paging iterator.

Keyset paging (``WHERE key > last ORDER BY key LIMIT n``) keeps every page one index range read however deep into a
table it is, where ``OFFSET`` would rescan all the rows before the page; memory stays flat at one page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.orm import QueryableAttribute, Session

AnySelect: TypeAlias = Select[*tuple[Any, ...]]  # a select of any columns
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
Key: TypeAlias = ColumnElement[Any] | QueryableAttribute[Any]  # a column, or a mapped attribute

PAGE_SIZE = 2000
"""Rows per page for every paged read and batched write of the services (keyset pages, ``yield_per``, batches)."""


def keyset_page(
    session: Session, query: AnySelect, key: Key, *, after: Any = None, size: int = PAGE_SIZE
) -> Sequence[AnyRow]:
    """One page of the rows of ``query``: the first ``size`` in ascending ``key`` order after key value ``after``
    (from the start when None). For paging across transactions (one short write per page); within one session,
    :func:`keyset_pages` pages on by itself. ``query`` and ``key`` as there.
    """
    if after is not None:
        query = query.where(key > after)
    return session.execute(query.order_by(key).limit(size)).all()


def keyset_pages(session: Session, query: AnySelect, key: Key, *, size: int = PAGE_SIZE) -> Iterator[Sequence[AnyRow]]:
    """The rows of ``query`` in ascending ``key`` order, ``size`` at a time, each page one ``key > last`` range read.

    Args:
        query: a select without ORDER BY or LIMIT; it must select ``key`` (each page resumes after the last row's).
        key: a column unique among the rows of ``query`` (e.g. a primary key, or the position within one split),
            best with an index that starts with the query's equality conditions and then ``key``.
        size: rows per page.

    Returns:
        An iterator of non-empty pages (lists of rows); it stops at the first empty page.

    >>> from sqlalchemy import create_engine, select, table, column, text
    >>> engine = create_engine("sqlite://")
    >>> with Session(engine) as session:
    ...     _ = session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    ...     _ = session.execute(text("INSERT INTO t VALUES (1), (2), (3), (5), (8)"))
    ...     t = table("t", column("id"))
    ...     [[row.id for row in page] for page in keyset_pages(session, select(t.c.id), t.c.id, size=2)]
    [[1, 2], [3, 5], [8]]
    """
    page = keyset_page(session, query, key, size=size)
    while page:
        yield page
        page = keyset_page(session, query, key, after=page[-1]._mapping[key], size=size)
