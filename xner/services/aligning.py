"""Align use case: run an aligner over a parallel corpus and store the links as a new alignment run.

A run is written like an import (:mod:`xner.store.staging`): its rows in committed batches of :data:`BATCH` under a
hidden staging corpus, so reviewers can save meanwhile, and the finished run handed to its corpus in one short final
transaction; until then no reader sees it, and a failed or killed run leaves nothing visible.

eflomal runs in bounded memory: the pairs go from the store into its input files a page at a time, and its link
files come back a line at a time, symmetrised per pair and written in batches. Such a run keeps each pair's forward
and reverse links beside the symmetrised ones, so :func:`symmetrize_run` derives any other symmetrisation as a new
run without aligning again. The neural aligners (small corpora, a model in memory anyway) align in memory.
"""

from __future__ import annotations

import hashlib
import time
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Any

from xner.engine.align import ALIGNERS, SYMMETRIZATIONS, DirectionalAligner, TokenPair, symmetrize
from xner.errors import InputError, UnknownNameError, XnerError
from xner.formats.parallel import iter_bitext
from xner.formats.pharaoh import parse_pharaoh_line
from xner.formats.text import PathLike
from xner.options import describe, same_output
from xner.services.corpora import get_corpus
from xner.services.executing import Executor, in_shard_order, shards_read_through, worker_store, write_shard
from xner.services.pairs import count_pairs, iter_pairs, pair_ranges, require_parallel
from xner.store.db import Session, Store
from xner.store.models import Alignment as AlignmentRow
from xner.store.models import AlignmentRun, Corpus
from xner.store.queries.alignments import directional_counts, directional_page, replace_shard_alignments
from xner.store.queries.corpora import other_parallel_names
from xner.store.queries.pairs import pair_range_rows
from xner.store.queries.runs import alignment_run, alignment_run_ids, alignment_runs
from xner.store.staging import add_row, insert_rows, move_runs, staged, sweep_abandoned
from xner.types import Alignment, Link, ProgressFn

BATCH = 2000  # alignment rows per committed transaction: a short hold of the write lock
SHARD_PAIRS = 200_000  # pairs a worker aligns at once when eflomal runs in shards (its memory: ~1 GiB of text)
PRIORS_PAIRS = 100_000  # pairs the shared priors of a sharded run are learnt from


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


def iter_extra_text(
    files: Sequence[tuple[PathLike, PathLike]], *, pretokenized: bool = True, limit: int | None = None
) -> Iterator[TokenPair]:
    """The pairs of several line-aligned file pairs, one after the other, at most ``limit``, read as they are asked
    for (:func:`read_extra_text` streamed): extra text for :func:`align_corpus`, however large. The files are checked
    to exist at once; files of different lengths are an error when the reading gets there.

    Raises:
        InputError: a missing file (at once).
    """
    for path in (path for pair in files for path in pair):
        if not Path(path).is_file():  # as the reader would say, but before any work
            raise InputError(str(path), None, "file not found" if not Path(path).exists() else "is not a file")
    pairs = chain.from_iterable(iter_bitext(src, tgt, pretokenized=pretokenized) for src, tgt in files)
    return islice(pairs, limit)


def _run_params(engine: Any, extra: Sequence[TokenPair], extra_sources: Collection[str] = ()) -> dict[str, Any]:
    """What an alignment run records: the aligner's options and which extra text it learnt from."""
    names = [p if p.startswith("corpus:") else Path(p).name for p in extra_sources]
    params = {**describe(engine), "extra_pairs": len(extra), "extra_text": names}
    if extra:
        params["extra_sha256"] = _digest(extra)
    return params


def _digest(pairs: Iterable[TokenPair]) -> str:
    tally = _Tally(pairs)
    for _ in tally:
        pass
    return tally.digest.hexdigest()


class _Tally:
    """Extra text passed through once (into eflomal's input) while counting it and taking its digest."""

    def __init__(self, pairs: Iterable[TokenPair]) -> None:
        self.pairs = pairs
        self.count = 0
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[TokenPair]:
        for src, tgt in self.pairs:
            self.count += 1
            self.digest.update(("\t".join((" ".join(src), " ".join(tgt))) + "\n").encode("utf-8"))
            yield src, tgt

    def params(self, names: Collection[str]) -> dict[str, Any]:
        """What a run records of its extra text (as :func:`_run_params` does)."""
        extra = {"extra_pairs": self.count, "extra_text": list(names)}
        if self.count:
            extra["extra_sha256"] = self.digest.hexdigest()
        return extra


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
    rows = ({"pair_id": pair_id, "links": a.to_pharaoh()} for pair_id, a in alignments)
    return _write_run(store, corpus, aligner=aligner, params=params, rows=rows, created_by=created_by)


def _write_run(
    store: Store,
    corpus: Corpus,
    *,
    aligner: str,
    params: Mapping[str, Any],
    rows: Iterable[dict[str, Any]] | Callable[[int], Iterable[dict[str, Any]]],
    created_by: str = "",
) -> int:
    """:func:`write_alignment_run` over row values (``pair_id``, ``links``, and ``forward``/``reverse`` where
    known), each batch of :data:`BATCH` rows drawn from ``rows`` only when the previous one is committed. ``rows``
    may be a function of the new run's id (for shards that write their own rows into it)."""
    sweep_abandoned(store)
    what = f"alignment run ({aligner}) of {corpus.name!r}"
    languages = {"kind": corpus.kind, "src_lang": corpus.src_lang, "tgt_lang": corpus.tgt_lang}
    with staged(store, what=what, **languages) as stage:
        run = {"corpus_id": stage.id, "aligner": aligner, "params": dict(params), "created_by": created_by}
        run_id = stage.write(partial(add_row, AlignmentRun, run))
        values = iter(rows(run_id) if callable(rows) else rows)
        while batch := [{"run_id": run_id, **row} for row in islice(values, BATCH)]:
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
    return list(_stream_pairs(store, _extra_corpus(store, corpus, like=like)))


def _extra_corpus(store: Store, corpus: str, *, like: str | None) -> Corpus:
    """The parallel corpus ``corpus``, checked as :func:`corpus_text` says."""
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
        return found


def _stream_pairs(
    store: Store, corpus: Corpus, *, splits: Collection[str] | None = None, pair_ids: array | None = None
) -> Iterator[TokenPair]:
    """The token pairs of ``corpus`` (of ``splits``) in pair id order, read a keyset page at a time in one read
    transaction; with ``pair_ids``, each pair's id is appended to it as the pair goes by (8 bytes a pair)."""
    with store.session() as session:
        for pair in iter_pairs(session, corpus, splits=splits, with_spans=False):
            if pair_ids is not None:
                pair_ids.append(pair.pair_id)
            yield pair.src_tokens, pair.tgt_tokens


def _announced(line: str, pairs: Iterable[TokenPair], phase: Callable[[str], None]) -> Iterator[TokenPair]:
    """``pairs``, with ``line`` said as the first is read."""
    phase(line)
    yield from pairs


def align_corpus(
    store: Store,
    corpus: str,
    *,
    aligner: str = "eflomal",
    options: Mapping[str, Any] | None = None,
    extra: Iterable[TokenPair] = (),
    extra_sources: Collection[str] = (),
    extra_corpus: str | None = None,
    splits: Collection[str] | None = None,
    created_by: str = "",
    executor: Executor | None = None,
    shard_pairs: int = SHARD_PAIRS,
    priors_pairs: int = PRIORS_PAIRS,
    on_progress: ProgressFn | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> AlignReport:
    """Align every pair of ``corpus`` (or of ``splits``) with ``aligner`` and store the result as a new run.

    With an ``executor`` of several workers (a local pool, a Dask cluster: :mod:`xner.services.executing`) and more
    than ``shard_pairs`` pairs, eflomal aligns the corpus in shards of ``shard_pairs`` pairs (pair-id ranges), all
    guided by the same priors, learnt once here from the first ``priors_pairs`` pairs and the extra text. The
    trade-off: each shard's sampler sees only its own pairs (plus those priors) instead of the whole corpus, so a
    rare word learns less than in one run; in exchange the shards run at once on as many workers, each in memory
    bounded by its shard. On a server database the shards write their own rows (replacing an earlier try's).

    eflomal streams (memory bounded by its vocabularies, not by the corpus) and stores the forward and reverse
    links of each pair beside the symmetrised ones (see :func:`symmetrize_run`); the neural aligners align the
    pairs in memory.

    Args:
        aligner: a name in :data:`xner.engine.align.ALIGNERS` (``eflomal``, ``simalign``, ``awesome``).
        options: the aligner's options (text or typed values), e.g. ``{"symmetrization": "intersection"}``.
        extra: more parallel text for aligners that learn from text (see :func:`read_extra_text`); read once.
        extra_sources: names of the extra text files, recorded with the run.
        extra_corpus: an imported parallel corpus of the same languages whose pairs join ``extra`` (streamed from
            the store); recorded with the run as ``corpus:NAME``.
        on_progress: called with (pairs aligned, total); for eflomal, (pairs stored, total) while the run is saved.
        on_phase: called with a line on each phase (reading, the aligner's own phases, saving), so a long step
            with no pair count (eflomal's sampling) still shows what is happening.
    """
    engine = ALIGNERS.create(aligner, options)
    phase = on_phase or (lambda text: None)
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        total = count_pairs(session, found, splits)
    sources = [*extra_sources]
    if extra_corpus:
        more = _stream_pairs(store, _extra_corpus(store, extra_corpus, like=corpus))
        extra = chain(extra, _announced(f"reading the extra text of corpus {extra_corpus}", more, phase))
        sources.append(f"corpus:{extra_corpus}")
    names = [p if p.startswith("corpus:") else Path(p).name for p in sources]
    started = time.perf_counter()
    sharded = executor is not None and executor.workers > 1 and total > shard_pairs
    if isinstance(engine, DirectionalAligner) and sharded:
        assert executor is not None
        shards = _Sharding(executor, shard_pairs, priors_pairs)
        run_id, pairs, links, params = _align_sharded(
            store, found, engine, extra, names, splits, total, shards, created_by, on_progress, phase
        )
    elif isinstance(engine, DirectionalAligner):
        run_id, pairs, links, params = _align_streaming(
            store, found, engine, extra, names, splits, total, created_by, on_progress, phase
        )
    else:
        run_id, pairs, links, params = _align_in_memory(
            store, found, engine, extra, names, splits, created_by, on_progress, on_phase
        )
    return AlignReport(
        corpus=corpus,
        run_id=run_id,
        aligner=aligner,
        pairs=pairs,
        links=links,
        seconds=round(time.perf_counter() - started, 3),
        params=params,
    )


def _align_streaming(
    store: Store,
    corpus: Corpus,
    engine: DirectionalAligner,
    extra: Iterable[TokenPair],
    names: list[str],
    splits: Collection[str] | None,
    total: int,
    created_by: str,
    on_progress: ProgressFn | None,
    phase: Callable[[str], None],
) -> tuple[int, int, int, dict[str, Any]]:
    """eflomal's way: pairs streamed into its input, its links streamed back into the run's rows, with both
    directions kept. Returns the run id, the pairs and symmetrised links stored, and the run's params."""
    if on_progress:
        on_progress(0, total)
    phase(f"reading the sentence pairs of {corpus.name}")
    pair_ids = array("q")  # the pairs' ids in the order given to the aligner: 8 bytes a pair
    tally = _Tally(extra)
    pairs = _stream_pairs(store, corpus, splits=splits, pair_ids=pair_ids)
    links = 0

    def rows(directional: Iterable[tuple[frozenset[Link], frozenset[Link]]]) -> Iterator[dict[str, Any]]:
        nonlocal links
        for done, (pair_id, (fwd, rev)) in enumerate(zip(pair_ids, directional, strict=True), 1):
            row, count = _directional_row(pair_id, fwd, rev, engine.symmetrization)
            links += count
            yield row
            if on_progress and (done % BATCH == 0 or done == total):
                on_progress(done, total)

    with engine.aligned_links(pairs, extra=tally, on_phase=phase) as directional:
        params = {**describe(engine), **tally.params(names)}
        if splits:
            params["splits"] = sorted(splits)
        phase(f"saving the links of {len(pair_ids):,} pairs")
        run_id = _write_run(
            store, corpus, aligner=engine.name, params=params, rows=rows(directional), created_by=created_by
        )
    return run_id, len(pair_ids), links, params


def _directional_row(
    pair_id: int, fwd: frozenset[Link], rev: frozenset[Link], symmetrization: str
) -> tuple[dict[str, Any], int]:
    """An eflomal run's row of one pair (symmetrised links, both directions) and how many links it keeps."""
    sure = frozenset(symmetrize(fwd, rev, symmetrization))
    return {"pair_id": pair_id, "links": _pharaoh(sure), "forward": _pharaoh(fwd), "reverse": _pharaoh(rev)}, len(sure)


@dataclass(frozen=True)
class _Sharding:
    executor: Executor
    shard_pairs: int
    priors_pairs: int


@dataclass(frozen=True)
class AlignShard:
    """One shard of a sharded eflomal run: the pairs of a corpus with ids in ``[first_id, last_id]``, the aligner and
    the priors every shard shares. Picklable: a pool worker or another machine aligns it."""

    db: str
    corpus_id: int
    first_id: int
    last_id: int
    splits: tuple[str, ...] | None
    engine: DirectionalAligner
    priors: str
    write_run: int | None = None  # the shard writes its rows into this run itself


@dataclass
class AlignShardResult:
    pairs: int
    links: int
    rows: list[dict[str, Any]]  # empty when the shard wrote them itself


def align_shard(shard: AlignShard) -> AlignShardResult:
    """Align one shard through this process's connection to ``shard.db``: its rows (pair id order), or, with
    ``shard.write_run``, none (the shard stored them, replacing what an earlier try of it wrote)."""
    store = worker_store(shard.db)
    with store.session() as session:
        rows = pair_range_rows(session, shard.corpus_id, shard.first_id, shard.last_id, splits=shard.splits)
    pair_ids = [row[0] for row in rows]
    pairs = [(tuple(row[2]), tuple(row[3])) for row in rows]
    links = 0
    values = []
    with shard.engine.aligned_links(pairs, priors=shard.priors) as directional:
        for pair_id, (fwd, rev) in zip(pair_ids, directional, strict=True):
            row, count = _directional_row(pair_id, fwd, rev, shard.engine.symmetrization)
            links += count
            values.append(row)
    if shard.write_run is None:
        return AlignShardResult(len(values), links, values)
    write_shard(
        store,
        replace_shard_alignments,
        run_id=shard.write_run,
        first_id=shard.first_id,
        last_id=shard.last_id,
        rows=values,
        what="alignments",
    )
    return AlignShardResult(len(values), links, [])


def _align_sharded(
    store: Store,
    corpus: Corpus,
    engine: DirectionalAligner,
    extra: Iterable[TokenPair],
    names: list[str],
    splits: Collection[str] | None,
    total: int,
    sharding: _Sharding,
    created_by: str,
    on_progress: ProgressFn | None,
    phase: Callable[[str], None],
) -> tuple[int, int, int, dict[str, Any]]:
    """eflomal in shards (see :func:`align_corpus`): priors learnt here once, the shards aligned by the executor's
    workers, the rows written in shard order here (SQLite) or by the shards themselves (a server database)."""
    if on_progress:
        on_progress(0, total)
    tally = _Tally(extra)
    sample = islice(_stream_pairs(store, corpus, splits=splits), sharding.priors_pairs)
    phase(f"learning eflomal priors from {min(total, sharding.priors_pairs):,} pairs and the extra text")
    priors = engine.learn_priors(chain(sample, tally), on_phase=phase)
    with store.session() as session:
        ranges = pair_ranges(session, corpus, splits=splits, size=sharding.shard_pairs)
    params = {**describe(engine), **tally.params(names)}
    params["sharded"] = {
        "shards": len(ranges),
        "shard_pairs": sharding.shard_pairs,
        "priors_pairs": sharding.priors_pairs,
    }
    if splits:
        params["splits"] = sorted(splits)
    shards_write = store.engine.dialect.name != "sqlite"
    done = links = 0

    def rows(run_id: int) -> Iterator[dict[str, Any]]:
        nonlocal done, links
        shards = (
            AlignShard(
                store.url,
                corpus.id,
                first,
                last,
                tuple(sorted(splits)) if splits else None,
                engine,
                priors,
                run_id if shards_write else None,
            )
            for first, last in ranges
        )
        phase(f"aligning {total:,} pairs in {len(ranges)} shards of {sharding.shard_pairs:,}")
        with shards_read_through(store):
            for result in in_shard_order(sharding.executor.map_unordered(align_shard, shards)):
                done += result.pairs
                links += result.links
                yield from result.rows
                if on_progress:
                    on_progress(done, total)

    run_id = _write_run(store, corpus, aligner=engine.name, params=params, rows=rows, created_by=created_by)
    return run_id, done, links, params


def _align_in_memory(
    store: Store,
    corpus: Corpus,
    engine: Any,
    extra: Iterable[TokenPair],
    names: list[str],
    splits: Collection[str] | None,
    created_by: str,
    on_progress: ProgressFn | None,
    on_phase: Callable[[str], None] | None,
) -> tuple[int, int, int, dict[str, Any]]:
    """The neural aligners' way: every pair in memory, aligned as one batch (returns as :func:`_align_streaming`)."""
    phase = on_phase or (lambda text: None)
    phase(f"reading the sentence pairs of {corpus.name}")
    pair_ids = array("q")
    records = list(_stream_pairs(store, corpus, splits=splits, pair_ids=pair_ids))
    extra = list(extra)
    if on_progress:
        on_progress(0, len(records))
    phases = {"on_phase": on_phase} if on_phase else {}  # aligners written before phases take no on_phase
    alignments = engine.align(records, extra=extra, on_progress=on_progress, **phases)
    params = {**_run_params(engine, extra), "extra_text": names}
    if splits:
        params["splits"] = sorted(splits)
    phase(f"saving the links of {len(records):,} pairs")
    run_id = write_alignment_run(
        store,
        corpus,
        aligner=engine.name,
        params=params,
        alignments=zip(pair_ids, alignments, strict=True),
        created_by=created_by,
    )
    return run_id, len(records), sum(len(a.links) for a in alignments), params


def _pharaoh(links: Iterable[Link]) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(links))


def symmetrize_run(
    store: Store,
    corpus: str,
    run: int,
    *,
    method: str,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
) -> AlignReport:
    """A new alignment run of ``corpus`` whose links are ``method`` applied to the forward and reverse links
    stored with alignment run ``run``: another symmetrisation without aligning again. Streamed: a page of rows
    read, symmetrised and written at a time.

    An eflomal run holds its directional links; a run derived by this function holds none and reads its origin's,
    so symmetrising it again is the same as symmetrising the origin. The new run records ``derived_from`` (the run
    whose directional links it used) and ``symmetrization`` in its params, beside the origin's other params.

    Args:
        method: a name in :data:`xner.engine.align.SYMMETRIZATIONS` (``intersection``, ``union``, ``grow-diag``,
            ``grow-diag-final``, ``grow-diag-final-and``, ``forward``, ``reverse``).
        on_progress: called with (pairs done, total).

    Raises:
        UnknownNameError: an unknown ``method`` (the message lists them) or corpus.
        XnerError: ``corpus`` has no alignment run ``run``, or it has no directional links (imported, neural and
            manual runs, and runs stored before xner kept them).
    """
    if method not in SYMMETRIZATIONS:
        raise UnknownNameError("symmetrization", method, SYMMETRIZATIONS)
    started = time.perf_counter()
    with store.session() as session:
        found = get_corpus(session, corpus)
        origin, total = _directional_origin(session, found, run)
        aligner, origin_id = origin.aligner, origin.id
        params = {**(origin.params or {}), "symmetrization": method, "derived_from": origin_id}
    links = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal links
        after, done = None, 0
        while True:
            with store.session() as session:  # a short read per page: the writes commit between them
                page = directional_page(session, origin_id, after=after, size=BATCH)
            if not page:
                return
            for pair_id, forward, reverse in page:
                sure = symmetrize(parse_pharaoh_line(forward).sure, parse_pharaoh_line(reverse).sure, method)
                links += len(sure)
                yield {"pair_id": pair_id, "links": _pharaoh(sure)}
            after, done = page[-1][0], done + len(page)
            if on_progress:
                on_progress(done, total)

    if on_progress:
        on_progress(0, total)
    run_id = _write_run(store, found, aligner=aligner, params=params, rows=rows(), created_by=created_by)
    return AlignReport(
        corpus=corpus,
        run_id=run_id,
        aligner=aligner,
        pairs=total,
        links=links,
        seconds=round(time.perf_counter() - started, 3),
        params=params,
    )


def _directional_origin(session: Session, corpus: Corpus, run: int) -> tuple[AlignmentRun, int]:
    """Alignment run ``run`` of ``corpus`` when it holds forward and reverse links for each of its pairs, else the
    run it was derived from (followed back); with that run's row count."""
    found = alignment_run(session, corpus.id, run)
    if found is None:
        runs = ", ".join(str(run_id) for run_id in alignment_run_ids(session, corpus.id)) or "none"
        raise XnerError(f"corpus {corpus.name!r} has no alignment run {run} (its alignment runs: {runs})")
    current, seen = found, {found.id}
    while True:
        rows, directional = directional_counts(session, current.id)
        if rows and directional == rows:
            return current, rows
        derived = (current.params or {}).get("derived_from")
        origin = alignment_run(session, corpus.id, derived) if isinstance(derived, int) else None
        if origin is None or origin.id in seen:
            break
        current = origin
        seen.add(origin.id)
    gone = f", derived from run {derived}, which is gone" if isinstance(derived, int) and origin is None else ""
    raise XnerError(
        f"alignment run {run} ({found.aligner}{gone}) has no forward and reverse links to symmetrise: eflomal runs "
        f"store them, imported, neural and manual runs (and runs stored before xner kept them) do not; align "
        f"again with `xner align --corpus {corpus.name} --aligner eflomal`"
    )
