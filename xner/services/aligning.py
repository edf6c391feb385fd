"""Align use case: run an aligner over a parallel corpus and store the links as a new alignment run."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from xner.engine.align import ALIGNERS, TokenPair
from xner.formats.parallel import iter_bitext
from xner.formats.text import PathLike
from xner.options import describe
from xner.services.corpora import get_corpus
from xner.services.pairs import iter_pairs, require_parallel
from xner.store.db import Store
from xner.store.models import Alignment as AlignmentRow
from xner.store.models import AlignmentRun

BATCH = 5000


@dataclass
class AlignReport:
    corpus: str
    run_id: int
    aligner: str
    pairs: int
    links: int
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)


def read_extra_text(
    src_path: PathLike, tgt_path: PathLike, *, pretokenized: bool = True, limit: int | None = None
) -> list[TokenPair]:
    """Line-aligned parallel text (one sentence per line) as token pairs; pairs with an empty side are skipped.

    ``pretokenized`` splits on whitespace (Moses-tokenised text such as Europarl); otherwise xner's tokenizer
    runs (raw text such as MAFAND-MT). Files of different lengths are an error naming the longer one.
    """
    return list(islice(iter_bitext(src_path, tgt_path, pretokenized=pretokenized), limit))


def align_corpus(
    store: Store,
    corpus: str,
    *,
    aligner: str = "eflomal",
    options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
    extra_sources: Collection[str] = (),
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: Callable[[int, int], None] | None = None,
) -> AlignReport:
    """Align every pair of ``corpus`` (or of ``splits``) with ``aligner`` and store the result as a new run.

    Args:
        aligner: a name in :data:`xner.engine.align.ALIGNERS` (``eflomal``, ``simalign``, ``awesome``).
        options: the aligner's options (text or typed values), e.g. ``{"symmetrization": "intersection"}``.
        extra: more parallel text for aligners that learn from text (see :func:`read_extra_text`).
        extra_sources: names of the extra text files, recorded with the run.
    """
    engine = ALIGNERS.create(aligner, options)
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        corpus_id = found.id
        pairs = iter_pairs(session, found, splits=splits, with_spans=False)
        records = [(p.pair_id, p.src_tokens, p.tgt_tokens) for p in pairs]
    started = time.perf_counter()
    alignments = engine.align([(s, t) for _, s, t in records], extra=extra, on_progress=on_progress)
    params = {**describe(engine), "extra_pairs": len(extra), "extra_text": [Path(p).name for p in extra_sources]}
    if splits:
        params["splits"] = sorted(splits)
    with store.transaction() as session:
        run = AlignmentRun(corpus_id=corpus_id, aligner=aligner, params=params, created_by=created_by)
        session.add(run)
        session.flush()
        rows = (
            {"run_id": run.id, "pair_id": pair_id, "links": alignment.to_pharaoh()}
            for (pair_id, _, _), alignment in zip(records, alignments, strict=True)
        )
        while batch := list(islice(rows, BATCH)):
            session.execute(insert(AlignmentRow), batch)
        run_id = run.id
    return AlignReport(
        corpus=corpus,
        run_id=run_id,
        aligner=aligner,
        pairs=len(records),
        links=sum(len(a.links) for a in alignments),
        seconds=round(time.perf_counter() - started, 3),
        params=params,
    )
