"""Reading the sentence pairs of a parallel corpus as core types, a page at a time.

Used by the align, refine, project, evaluate and translate use cases. Pairs come in (split, position) order
through keyset paging on the pair id, so memory stays flat and each page is one indexed query however large the
corpus.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from xner.errors import XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.store.db import Session
from xner.store.models import AlignmentRun, Corpus
from xner.store.paging import PAGE_SIZE
from xner.store.queries import runs
from xner.store.queries.pairs import (
    alignment_texts,
    pair_count,
    pair_id_ranges,
    pair_pages,
    pair_range_entities,
    pair_range_rows,
)
from xner.store.queries.sentences import entity_spans
from xner.types import Alignment, Link, Sentence, Span

NO_LINKS: list[Link] = []

ProjectionInput = tuple[int, Sentence, tuple[str, ...], list[Link]]
"""One pair as a projection reads it: ``(pair id, source sentence with its entities, target tokens, links)``."""


@dataclass(frozen=True, slots=True)
class PairRecord:
    """One stored sentence pair with its tokens, gold entities and (optionally) the links of one alignment run."""

    pair_id: int
    split: str
    position: int
    src_id: int
    tgt_id: int
    src_tokens: tuple[str, ...]
    tgt_tokens: tuple[str, ...]
    src_spans: tuple[Span, ...] = ()
    tgt_spans: tuple[Span, ...] = ()
    alignment: Alignment | None = None


def require_parallel(corpus: Corpus) -> None:
    if corpus.kind != "parallel":
        raise XnerError(f"corpus {corpus.name!r} is monolingual: alignment and projection need a parallel corpus")


def count_pairs(session: Session, corpus: Corpus, splits: Collection[str] | None = None) -> int:
    return pair_count(session, corpus.id, splits)


def iter_pairs(
    session: Session,
    corpus: Corpus,
    *,
    splits: Collection[str] | None = None,
    alignment_run: int | None = None,
    with_spans: bool = True,
    page: int = PAGE_SIZE,
) -> Iterator[PairRecord]:
    """The pairs of ``corpus`` in id order (= import order), with gold spans and the links of ``alignment_run``."""
    for rows in pair_pages(session, corpus.id, splits=splits, size=page):
        spans = entity_spans(session, [r[3] for r in rows] + [r[4] for r in rows]) if with_spans else {}
        links = _links(session, alignment_run, [r[0] for r in rows]) if alignment_run is not None else {}
        for pair_id, split, position, src_id, tgt_id, src_tokens, tgt_tokens in rows:
            yield PairRecord(
                pair_id,
                split,
                position,
                src_id,
                tgt_id,
                tuple(src_tokens),
                tuple(tgt_tokens),
                tuple(sorted(spans.get(src_id, ()))),
                tuple(sorted(spans.get(tgt_id, ()))),
                links.get(pair_id, Alignment()) if alignment_run is not None else None,
            )


def pair_ranges(
    session: Session, corpus: Corpus, *, splits: Collection[str] | None = None, size: int = PAGE_SIZE
) -> list[tuple[int, int]]:
    """The pairs of ``corpus`` (of ``splits``) as shards of ``size`` pairs: ``(first id, last id)`` ranges, in id
    order (see :func:`read_pair_range`)."""
    return pair_id_ranges(session, corpus.id, splits=splits, size=size)


def read_pair_range(
    session: Session,
    corpus_id: int,
    first_id: int,
    last_id: int,
    *,
    splits: Collection[str] | None = None,
    alignment_run: int | None = None,
    with_spans: bool = True,
) -> list[ProjectionInput]:
    """The pairs of corpus ``corpus_id`` with ids in ``[first_id, last_id]`` (of ``splits``) in id order, as a
    projection reads them: the source sentence with its gold entities (sorted; none when not ``with_spans``), the
    target tokens and the links of ``alignment_run`` (empty without a run or a row for the pair; a list, in stored
    order, without duplicates). Two queries (pairs with their links, entities) of plain tuples, whatever the range's
    size."""
    rows = pair_range_rows(session, corpus_id, first_id, last_id, splits=splits, alignment_run=alignment_run)
    spans: dict[int, list[Span]] = {}
    if with_spans:
        for sentence_id, start, end, label in pair_range_entities(session, corpus_id, first_id, last_id):
            if sentence_id in spans:
                spans[sentence_id].append(Span(start, end, label))
            else:
                spans[sentence_id] = [Span(start, end, label)]
    pairs = []
    for pair_id, src_id, src_tokens, tgt_tokens, text in rows:
        entities = spans.get(src_id)
        source = Sentence(tuple(src_tokens), tuple(sorted(entities)) if entities else ())
        links = stored_links(text) if text else NO_LINKS
        pairs.append((pair_id, source, tuple(tgt_tokens), links))
    return pairs


_SURE_LINKS = re.compile(r"(?:\d+-\d+ )*\d+-\d+")  # what an aligner's run stores: sure links, one space apart


def stored_links(text: str) -> list[Link]:
    """All the links (sure and possible) of one stored Pharaoh line, as a list: the links of
    ``parse_pharaoh_line(text)``, faster for the common line of sure links only (the numbers converted in one
    C-level pass, and no set built: a stored line has no duplicate link, as it was written from a set).

    >>> stored_links("0-1 2-2"), sorted(stored_links("0-1 1p2"))
    ([(0, 1), (2, 2)], [(0, 1), (1, 2)])
    """
    if _SURE_LINKS.fullmatch(text) is None:
        return list(parse_pharaoh_line(text).links)
    numbers = iter(map(int, text.replace("-", " ").split()))
    return list(zip(numbers, numbers, strict=True))


def _links(session: Session, run_id: int, pair_ids: list[int]) -> dict[int, Alignment]:
    return {pair_id: parse_pharaoh_line(text) for pair_id, text in alignment_texts(session, run_id, pair_ids).items()}


def get_alignment_run(
    session: Session, corpus: Corpus, run_id: int | None, *, exclude: int | None = None
) -> AlignmentRun:
    """Alignment run ``run_id`` of ``corpus``, or its newest run (other than ``exclude``) when None."""
    if run_id is not None:
        run = runs.alignment_run(session, corpus.id, run_id, exclude=exclude)
        if run is None:
            known = [str(r) for r in runs.alignment_run_ids(session, corpus.id)]
            raise XnerError(
                f"corpus {corpus.name!r} has no alignment run {run_id}; its runs: {', '.join(known) or 'none'}"
            )
        return run
    run = runs.newest_alignment_run(session, corpus.id, exclude=exclude)
    if run is None:
        raise XnerError(f"corpus {corpus.name!r} has no alignments yet: run `xner align` or import alignments first")
    return run
