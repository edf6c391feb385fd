"""What a review item is made of, and finding one: the pair behind a target sentence, every run's suggestion for
it, alignment links (the reviewers' ``manual`` run included, and its writes), and the lookups that go to an item
by number, by split and position or by a word.

Alignment links are returned as their stored Pharaoh text: the services parse it (:mod:`xner.formats.pharaoh`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, insert, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from xner.store.models import Alignment, AlignmentRun, Projection, ProjectionRun, ReviewState, Sentence
from xner.store.models import SentencePair as PairRow
from xner.store.paging import AnyRow


def pair_of_target(session: Session, sentence_id: int) -> AnyRow | None:
    """The pair whose target is ``sentence_id``: ``id`` and ``src_sentence_id``; None for a monolingual one."""
    return session.execute(
        select(PairRow.id, PairRow.src_sentence_id).where(PairRow.tgt_sentence_id == sentence_id)
    ).one_or_none()


def sentence_tokens(session: Session, sentence_id: int) -> tuple[str, ...]:
    """The tokens of sentence ``sentence_id`` (empty when the store has none)."""
    return tuple(session.scalar(select(Sentence.tokens).where(Sentence.id == sentence_id)) or ())


def token_counts(session: Session, sentence_ids: Collection[int]) -> dict[int, int]:
    """The number of tokens of each of ``sentence_ids``, by sentence id."""
    rows = session.execute(select(Sentence.id, Sentence.n_tokens).where(Sentence.id.in_(list(sentence_ids))))
    return {sentence_id: n_tokens for sentence_id, n_tokens in rows}


def pair_suggestions(session: Session, corpus_id: int, pair_id: int) -> Sequence[AnyRow]:
    """The projections of pair ``pair_id`` by every run of corpus ``corpus_id``, oldest run first: ``run_id``,
    ``spans`` (stored records), ``confidence``, ``method``, ``alignment_run_id``. A run still being written belongs
    to a hidden staging corpus until it is complete, so it is left out."""
    return session.execute(
        select(
            Projection.run_id,
            Projection.spans,
            Projection.confidence,
            ProjectionRun.method,
            ProjectionRun.alignment_run_id,
        )
        .join(Projection.run)
        .where(Projection.pair_id == pair_id, ProjectionRun.corpus_id == corpus_id)
        .order_by(Projection.run_id)
    ).all()


def alignment_text(session: Session, run_id: int, pair_id: int) -> str | None:
    """The stored Pharaoh links of pair ``pair_id`` in alignment run ``run_id`` (None: the run has no row)."""
    return session.scalar(select(Alignment.links).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id))


def aligner_run(session: Session, corpus_id: int, aligner: str) -> int | None:
    """The first alignment run of corpus ``corpus_id`` made by ``aligner``, or None."""
    return session.scalar(
        select(AlignmentRun.id)
        .where(AlignmentRun.corpus_id == corpus_id, AlignmentRun.aligner == aligner)
        .order_by(AlignmentRun.id)
        .limit(1)
    )


def alignment_runs(session: Session, corpus_id: int) -> set[int]:
    """The ids of the alignment runs of corpus ``corpus_id``."""
    return set(session.scalars(select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus_id)))


def queued_alignment_run(session: Session, tgt_sentence_id: int) -> int | None:
    """The alignment run behind the projection run queued for target sentence ``tgt_sentence_id``, or None."""
    return session.scalar(
        select(ProjectionRun.alignment_run_id)
        .join(ReviewState, ReviewState.run_id == ProjectionRun.id)
        .where(ReviewState.sentence_id == tgt_sentence_id)
    )


def new_alignment_run(
    session: Session, corpus_id: int, aligner: str, params: dict[str, Any], created_by: str, *, copy_of: int | None
) -> int:
    """Create an alignment run of corpus ``corpus_id``, with a copy of every pair's links of run ``copy_of`` when
    given (one INSERT ... SELECT); returns its id."""
    run = AlignmentRun(corpus_id=corpus_id, aligner=aligner, params=params, created_by=created_by)
    session.add(run)
    session.flush()
    if copy_of is not None:
        copied = select(literal(run.id), Alignment.pair_id, Alignment.links).where(Alignment.run_id == copy_of)
        session.execute(insert(Alignment).from_select(["run_id", "pair_id", "links"], copied))
    return run.id


def save_alignment(session: Session, run_id: int, pair_id: int, text: str) -> None:
    """Store ``text`` (Pharaoh links) as pair ``pair_id``'s links in alignment run ``run_id``, replacing any."""
    row = session.scalars(
        select(Alignment).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id)
    ).one_or_none()
    if row is None:
        session.add(Alignment(run_id=run_id, pair_id=pair_id, links=text))
    else:
        row.links = text


def pair_row(session: Session, pair_id: int) -> PairRow | None:
    """The sentence pair row ``pair_id`` (for the service's own use: never handed to callers)."""
    return session.get(PairRow, pair_id)


def target_pair(session: Session, corpus_id: int, sentence_id: int) -> int | None:
    """The pair of corpus ``corpus_id`` whose target is ``sentence_id``, or None."""
    return session.scalar(
        select(PairRow.id).where(PairRow.corpus_id == corpus_id, PairRow.tgt_sentence_id == sentence_id)
    )


def target_at(session: Session, corpus_id: int, split: str, position: int) -> int | None:
    """The target sentence of the pair at ``position`` of ``split`` in corpus ``corpus_id``, or None."""
    return session.scalar(
        select(PairRow.tgt_sentence_id).where(
            PairRow.corpus_id == corpus_id, PairRow.split == split, PairRow.position == position
        )
    )


def pair_splits(session: Session, corpus_id: int) -> list[str]:
    """The splits of the pairs of corpus ``corpus_id``, sorted."""
    return sorted(session.scalars(select(PairRow.split).where(PairRow.corpus_id == corpus_id).distinct()))


def split_size(session: Session, corpus_id: int, split: str) -> int:
    """The pairs in ``split`` of corpus ``corpus_id``."""
    query = select(func.count()).select_from(PairRow).where(PairRow.corpus_id == corpus_id, PairRow.split == split)
    return session.scalar(query) or 0


def token_search_page(
    session: Session,
    corpus_id: int,
    *,
    source: bool,
    needle: str,
    after: tuple[str, int] | None,
    limit: int,
) -> Sequence[AnyRow]:
    """Up to ``limit`` pairs of corpus ``corpus_id`` after (split, position) ``after``, in the order of the pairs'
    (corpus, split, position) index (so that the first matches end the read), whose target (or ``source``)
    sentence's stored JSON tokens may contain ``needle`` (:func:`tokens_like`): ``id``, ``tgt_sentence_id``,
    ``split``, ``position``, ``tokens``. Candidates only: the caller checks the tokens."""
    column = PairRow.src_sentence_id if source else PairRow.tgt_sentence_id
    keyset = [tuple_(PairRow.split, PairRow.position) > tuple_(*after)] if after is not None else []
    return session.execute(
        select(PairRow.id, PairRow.tgt_sentence_id, PairRow.split, PairRow.position, Sentence.tokens)
        .join(Sentence, Sentence.id == column)
        .where(PairRow.corpus_id == corpus_id, *keyset, tokens_like(needle))
        .order_by(PairRow.split, PairRow.position)
        .limit(limit)
    ).all()


def tokens_like(needle: str) -> ColumnElement[bool]:
    """A ``LIKE`` condition on a sentence's tokens' JSON text that every sentence with a token containing
    ``needle`` (lower case) satisfies: the query's runs of plain ASCII in their order (JSON keeps them as they are;
    ``ilike`` folds their case), or for a query without any, the query as typed and as JSON escapes it, in lower
    and upper case (a mixed-case non-ASCII spelling is then missed)."""
    text = cast(Sentence.tokens, String)
    runs = re.findall(r"[ -!#-\[\]-~]+", needle)  # printable ASCII but the quote and backslash that JSON escapes
    if runs:  # in their order, anything (such as escaped letters) between them
        return text.ilike(f"%{'%'.join(_like_escape(run) for run in runs)}%", escape="\\")
    forms = {form for case in (needle, needle.upper()) for form in (case, json.dumps(case)[1:-1])}
    return or_(*(text.like(f"%{_like_escape(form)}%", escape="\\") for form in sorted(forms)))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
