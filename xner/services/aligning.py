"""Align use case: run an aligner over a parallel corpus and store the links as a new alignment run.

A run is written like an import (:mod:`xner.store.staging`): its rows in committed batches of :data:`BATCH` under a
hidden staging corpus, so reviewers can save meanwhile, and the finished run handed to its corpus in one short final
transaction; until then no reader sees it, and a failed or killed run leaves nothing visible.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from xner.engine.align import ALIGNERS, TokenPair
from xner.errors import XnerError
from xner.formats.parallel import iter_bitext
from xner.formats.text import PathLike
from xner.options import describe, same_output
from xner.services.corpora import get_corpus
from xner.services.pairs import iter_pairs, require_parallel
from xner.store.db import Store
from xner.store.models import Alignment as AlignmentRow
from xner.store.models import AlignmentRun, Corpus
from xner.store.queries.corpora import other_parallel_names
from xner.store.queries.runs import alignment_runs
from xner.store.staging import add_row, insert_rows, move_runs, staged, sweep_abandoned
from xner.types import Alignment, ProgressFn

BATCH = 2000  # alignment rows per committed transaction: a short hold of the write lock


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


def _run_params(engine: Any, extra: Sequence[TokenPair], extra_sources: Collection[str] = ()) -> dict[str, Any]:
    """What an alignment run records: the aligner's options and which extra text it learnt from."""
    names = [p if p.startswith("corpus:") else Path(p).name for p in extra_sources]
    params = {**describe(engine), "extra_pairs": len(extra), "extra_text": names}
    if extra:
        params["extra_sha256"] = _digest(extra)
    return params


def _digest(pairs: Sequence[TokenPair]) -> str:
    digest = hashlib.sha256()
    for src, tgt in pairs:
        digest.update(("\t".join((" ".join(src), " ".join(tgt))) + "\n").encode("utf-8"))
    return digest.hexdigest()


def find_alignment_run(
    store: Store,
    corpus: str,
    *,
    aligner: str,
    options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
) -> int | None:
    """The newest run that aligned all of ``corpus`` as :func:`align_corpus` with these arguments would, or None.

    A run made with other options (runtime ones such as the device aside), other extra text, or over some splits
    only does not count.
    """
    wanted = _run_params(ALIGNERS.create(aligner, options), extra)
    del wanted["extra_text"]  # the file names: the digest says whether the text is the same
    with store.session() as session:
        found = get_corpus(session, corpus)
        for run in alignment_runs(session, found.id, aligner=aligner, newest_first=True):
            stored = {key: value for key, value in (run.params or {}).items() if key != "extra_text"}
            if "splits" not in stored and same_output(stored, wanted):
                return run.id
    return None


def write_alignment_run(
    store: Store,
    corpus: Corpus,
    *,
    aligner: str,
    params: Mapping[str, Any],
    alignments: Iterable[tuple[int, Alignment]],
    created_by: str = "",
) -> int:
    """Store a new alignment run of ``corpus`` with one row per ``(pair id, alignment)`` (Pharaoh text); returns
    the run id. Invisible until complete: batches of :data:`BATCH` rows committed under a hidden staging corpus,
    then the run handed to ``corpus`` in one short transaction; on any error the rows are removed again."""
    sweep_abandoned(store)
    what = f"alignment run ({aligner}) of {corpus.name!r}"
    languages = {"kind": corpus.kind, "src_lang": corpus.src_lang, "tgt_lang": corpus.tgt_lang}
    with staged(store, what=what, **languages) as stage:
        run = {"corpus_id": stage.id, "aligner": aligner, "params": dict(params), "created_by": created_by}
        run_id = stage.write(partial(add_row, AlignmentRun, run))
        rows = ({"run_id": run_id, "pair_id": pair_id, "links": a.to_pharaoh()} for pair_id, a in alignments)
        while batch := list(islice(rows, BATCH)):
            stage.write(partial(insert_rows, AlignmentRow, batch))
        stage.publish(partial(move_runs, from_id=stage.id, to_id=corpus.id))
    return run_id


def extra_text_corpora(store: Store, corpus: str) -> list[str]:
    """The other parallel corpora of ``corpus``'s language pair, by name: what can serve as its extra text."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        return other_parallel_names(session, found.id, found.src_lang, found.tgt_lang)


def corpus_text(store: Store, corpus: str, *, like: str | None = None) -> list[TokenPair]:
    """Every sentence pair of the parallel corpus ``corpus`` as token pairs: extra text for eflomal. With ``like``,
    the two must be different corpora of the same language pair.

    Raises:
        XnerError: an unknown or monolingual corpus; with ``like``, the same corpus or other languages.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        if like is not None:
            other = get_corpus(session, like)
            if other.id == found.id:
                raise XnerError(f"the extra text must be another corpus than {like!r}, which is aligned anyway")
            if (found.src_lang, found.tgt_lang) != (other.src_lang, other.tgt_lang):
                raise XnerError(
                    f"extra text {corpus!r} is {found.src_lang}-{found.tgt_lang}, but {like!r} is "
                    f"{other.src_lang}-{other.tgt_lang}: choose a corpus of the same language pair"
                )
        return [(p.src_tokens, p.tgt_tokens) for p in iter_pairs(session, found, with_spans=False)]


def align_corpus(
    store: Store,
    corpus: str,
    *,
    aligner: str = "eflomal",
    options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
    extra_sources: Collection[str] = (),
    extra_corpus: str | None = None,
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> AlignReport:
    """Align every pair of ``corpus`` (or of ``splits``) with ``aligner`` and store the result as a new run.

    Args:
        aligner: a name in :data:`xner.engine.align.ALIGNERS` (``eflomal``, ``simalign``, ``awesome``).
        options: the aligner's options (text or typed values), e.g. ``{"symmetrization": "intersection"}``.
        extra: more parallel text for aligners that learn from text (see :func:`read_extra_text`).
        extra_sources: names of the extra text files, recorded with the run.
        extra_corpus: an imported parallel corpus of the same languages whose pairs join ``extra``; recorded
            with the run as ``corpus:NAME``.
        on_progress: called with (pairs aligned, total).
        on_phase: called with a line on each phase (reading, the aligner's own phases, saving), so a long step
            with no pair count (eflomal's sampling) still shows what is happening.
    """
    engine = ALIGNERS.create(aligner, options)
    phase = on_phase or (lambda text: None)
    phase(f"reading the sentence pairs of {corpus}")
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        pairs = iter_pairs(session, found, splits=splits, with_spans=False)
        records = [(p.pair_id, p.src_tokens, p.tgt_tokens) for p in pairs]
    if on_progress:
        on_progress(0, len(records))
    if extra_corpus:
        phase(f"reading the extra text of corpus {extra_corpus}")
        extra = [*extra, *corpus_text(store, extra_corpus, like=corpus)]
        extra_sources = [*extra_sources, f"corpus:{extra_corpus}"]
    started = time.perf_counter()
    phases = {"on_phase": on_phase} if on_phase else {}  # aligners written before phases take no on_phase
    alignments = engine.align([(s, t) for _, s, t in records], extra=extra, on_progress=on_progress, **phases)
    params = _run_params(engine, extra, extra_sources)
    if splits:
        params["splits"] = sorted(splits)
    phase(f"saving the links of {len(records):,} pairs")
    pair_ids = (pair_id for pair_id, _, _ in records)
    run_id = write_alignment_run(
        store,
        found,
        aligner=aligner,
        params=params,
        alignments=zip(pair_ids, alignments, strict=True),
        created_by=created_by,
    )
    return AlignReport(
        corpus=corpus,
        run_id=run_id,
        aligner=aligner,
        pairs=len(records),
        links=sum(len(a.links) for a in alignments),
        seconds=round(time.perf_counter() - started, 3),
        params=params,
    )
