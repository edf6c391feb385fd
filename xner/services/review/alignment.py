"""Reviewer-corrected word alignments: one ``manual`` alignment run per corpus, each correction replacing its pair's
links.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from xner.errors import XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.review.records import check_reviewer
from xner.store.db import Store
from xner.store.queries.review_items import (
    aligner_run,
    alignment_runs,
    alignment_text,
    new_alignment_run,
    pair_row,
    queued_alignment_run,
    save_alignment,
    token_counts,
)
from xner.store.queries.review_states import corpus_by_id
from xner.types import Alignment as Links
from xner.types import Link

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus
    from xner.store.models import SentencePair as PairRow

MANUAL_ALIGNER = "manual"  # the alignment run that holds reviewer-corrected links


def manual_links(session: Session, corpus: Corpus, pair_id: int) -> tuple[Link, ...] | None:
    run_id = manual_run(session, corpus)
    if run_id is None:
        return None
    text = alignment_text(session, run_id, pair_id)
    return tuple(sorted(parse_pharaoh_line(text).links)) if text is not None else ()


def manual_run(session: Session, corpus: Corpus) -> int | None:
    return aligner_run(session, corpus.id, MANUAL_ALIGNER)


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
    links = list(links)  # a retry must see them again

    def save(session: Session) -> int:
        pair = pair_row(session, pair_id)
        if pair is None:
            raise XnerError(f"no sentence pair {pair_id} in the store")
        corpus = corpus_by_id(session, pair.corpus_id)
        assert corpus is not None
        sizes = token_counts(session, [pair.src_sentence_id, pair.tgt_sentence_id])
        checked = _check_links(links, sizes[pair.src_sentence_id], sizes[pair.tgt_sentence_id], pair_id)
        run_id = manual_run(session, corpus)
        if run_id is None:
            run_id = _new_manual_run(session, corpus, pair, base_run, reviewer)
        text = Links(sure=frozenset(checked)).to_pharaoh()
        save_alignment(session, run_id, pair_id, text)
        return run_id

    return store.write(save, what=f"saving the alignment of pair {pair_id}")


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
    runs = alignment_runs(session, corpus.id)
    if base_run is not None and base_run not in runs:
        known = ", ".join(map(str, sorted(runs))) or "none"
        raise XnerError(f"corpus {corpus.name!r} has no alignment run {base_run}; its runs: {known}")
    if base_run is None:
        base_run = queued_alignment_run(session, pair.tgt_sentence_id)
    if base_run is None and runs:
        base_run = max(runs)
    params = {"base_run": base_run}
    return new_alignment_run(session, corpus.id, MANUAL_ALIGNER, params, reviewer, copy_of=base_run)
