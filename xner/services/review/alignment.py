"""Reviewer-corrected word alignments: one ``manual`` alignment run per corpus, each correction replacing its pair's
links.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from xner.errors import XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.review.records import check_reviewer
from xner.store.db import Store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    ProjectionRun,
    ReviewState,
    Sentence,
)
from xner.store.models import SentencePair as PairRow
from xner.types import Alignment as Links
from xner.types import Link

MANUAL_ALIGNER = "manual"  # the alignment run that holds reviewer-corrected links


def manual_links(session: Session, corpus: Corpus, pair_id: int) -> tuple[Link, ...] | None:
    run_id = manual_run(session, corpus)
    if run_id is None:
        return None
    text = session.scalar(select(Alignment.links).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id))
    return tuple(sorted(parse_pharaoh_line(text).links)) if text is not None else ()


def manual_run(session: Session, corpus: Corpus) -> int | None:
    return session.scalar(
        select(AlignmentRun.id)
        .where(AlignmentRun.corpus_id == corpus.id, AlignmentRun.aligner == MANUAL_ALIGNER)
        .order_by(AlignmentRun.id)
        .limit(1)
    )


def fix_alignment(
    store: Store, pair_id: int, links: Iterable[Link], *, reviewer: str, base_run: int | None = None
) -> int:
    """Store ``reviewer``'s corrected word alignment of pair ``pair_id``; returns the corpus's manual run id.

    A corpus has one alignment run named ``manual``: made on the first correction as a copy of ``base_run``
    (default: the alignment behind the pair's queued suggestion, else the corpus's newest run), so it is a
    whole alignment that ``xner project --run`` can use, with each correction replacing its pair's links.
    Links are ``(src_idx, tgt_idx)``, 0-based, stored as sure links.

    Raises:
        XnerError: unknown pair or base run, or a link beyond either sentence.
    """
    reviewer = check_reviewer(reviewer)
    with store.transaction() as session:
        pair = session.get(PairRow, pair_id)
        if pair is None:
            raise XnerError(f"no sentence pair {pair_id} in the store")
        corpus = session.get(Corpus, pair.corpus_id)
        assert corpus is not None
        sizes = dict(
            session.execute(
                select(Sentence.id, Sentence.n_tokens).where(
                    Sentence.id.in_([pair.src_sentence_id, pair.tgt_sentence_id])
                )
            ).all()
        )
        checked = _check_links(links, sizes[pair.src_sentence_id], sizes[pair.tgt_sentence_id], pair_id)
        run_id = manual_run(session, corpus)
        if run_id is None:
            run_id = _new_manual_run(session, corpus, pair, base_run, reviewer)
        text = Links(sure=frozenset(checked)).to_pharaoh()
        row = session.scalars(
            select(Alignment).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id)
        ).one_or_none()
        if row is None:
            session.add(Alignment(run_id=run_id, pair_id=pair_id, links=text))
        else:
            row.links = text
        return run_id


def _check_links(links: Iterable[Link], n_src: int, n_tgt: int, pair_id: int) -> list[Link]:
    checked = set()
    for link in links:
        try:
            i, j = (int(x) for x in link)
        except (TypeError, ValueError):
            raise XnerError(f"pair {pair_id}: a link is a (source index, target index) pair, got {link!r}") from None
        if not (0 <= i < n_src and 0 <= j < n_tgt):
            raise XnerError(
                f"pair {pair_id}: link {i}-{j} is beyond the sentences ({n_src} source, {n_tgt} target tokens)"
            )
        checked.add((i, j))
    return sorted(checked)


def _new_manual_run(session: Session, corpus: Corpus, pair: PairRow, base_run: int | None, reviewer: str) -> int:
    runs = set(session.scalars(select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus.id)))
    if base_run is not None and base_run not in runs:
        known = ", ".join(map(str, sorted(runs))) or "none"
        raise XnerError(f"corpus {corpus.name!r} has no alignment run {base_run}; its runs: {known}")
    if base_run is None:
        base_run = session.scalar(
            select(ProjectionRun.alignment_run_id)
            .join(ReviewState, ReviewState.run_id == ProjectionRun.id)
            .where(ReviewState.sentence_id == pair.tgt_sentence_id)
        )
    if base_run is None and runs:
        base_run = max(runs)
    run = AlignmentRun(corpus_id=corpus.id, aligner=MANUAL_ALIGNER, params={"base_run": base_run}, created_by=reviewer)
    session.add(run)
    session.flush()
    if base_run is not None:
        copied = select(literal(run.id), Alignment.pair_id, Alignment.links).where(Alignment.run_id == base_run)
        session.execute(insert(Alignment).from_select(["run_id", "pair_id", "links"], copied))
    return run.id
