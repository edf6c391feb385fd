"""xner from Python (a notebook, a script): plain functions over the same services as the ``xner`` command and the
app, taking names and paths and returning dataclasses.

A session on the demo project (a throwaway copy in a temporary folder):

>>> from xner import api
>>> store = api.demo_project()
>>> [corpus.name for corpus in api.corpora(store)]
['demo-en-es']
>>> run = api.project(store, "demo-en-es", method="heuristic", alignment_run=1)  # 1: the demo's gold alignment
>>> api.evaluate(store, "demo-en-es", run=run.run_id).scores["overall"]["f1"] > 0.9
True
>>> api.queue_for_review(store, "demo-en-es", run=run.run_id).corpus
'demo-en-es'
>>> api.review_state(store, "demo-en-es").unreviewed
100

Every function takes the open store first (see :func:`open_project`); runs are numbered per store, and a function
that takes a run defaults to the newest one. Errors are :class:`xner.errors.XnerError` with a message naming the
bad value.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.formats.parallel import SideOptions
from xner.formats.text import PathLike
from xner.services import demo as _demo
from xner.services import review as _review
from xner.services.aligning import AlignReport, align_corpus
from xner.services.corpora import CorpusStats, corpus_stats, list_corpora
from xner.services.evaluating import ProjectionEvaluation, evaluate_projection
from xner.services.exporting import ExportReport, export_corpus
from xner.services.importing import ImportReport
from xner.services.importing import import_alignments as _import_alignments
from xner.services.importing import import_corpus as _import_corpus
from xner.services.importing import import_parallel as _import_parallel
from xner.services.projecting import ProjectReport, project_corpus
from xner.services.review import QueueReport
from xner.store.db import Store, open_store
from xner.store.queries.review import reviewed_count
from xner.types import ReviewStatus, Span

DEMO_DIR: Path = _demo.DEMO_DIR
"""data/demo: 100 English–Spanish sentence pairs (``en.conll``, ``es.conll``) and their gold alignment
(``en-es.align``)."""

__all__ = [
    "DEMO_DIR",
    "AlignReport",
    "CorpusStats",
    "ExportReport",
    "ImportReport",
    "ProjectReport",
    "ProjectionEvaluation",
    "QueueEntry",
    "QueueReport",
    "ReviewState",
    "Store",
    "align",
    "corpora",
    "corpus",
    "demo_project",
    "evaluate",
    "export",
    "import_alignments",
    "import_conll",
    "import_parallel",
    "open_project",
    "project",
    "queue_for_review",
    "review_queue",
    "review_state",
    "scratch_project",
]


def open_project(db: str | PathLike | None = None) -> Store:
    """Open (and migrate to the newest schema) the project at ``db``.

    Args:
        db: an SQLAlchemy URL (``sqlite:///xner.db``, ``postgresql+psycopg://...``) or the path of a SQLite file
            (created when missing); default ``$XNER_DB``, else ``sqlite:///xner.db`` as for the command line.

    Returns:
        The open store; ``store.dispose()`` closes its connections.

    >>> folder = tempfile.TemporaryDirectory()
    >>> store = open_project(Path(folder.name) / "notes.db")
    >>> corpora(store)
    []
    >>> store.dispose(); folder.cleanup()
    """
    return open_store(None if db is None else str(db))


def scratch_project() -> Store:
    """An empty project in a SQLite file in a new temporary folder, deleted with the store (garbage-collected, or
    at exit): for trying things out.

    >>> store = scratch_project()
    >>> store.url.startswith("sqlite:///") and corpora(store) == []
    True
    """
    folder = tempfile.mkdtemp(prefix="xner-scratch-")
    store = open_store(f"sqlite:///{Path(folder) / 'xner.db'}")
    weakref.finalize(store, _remove, store.engine, folder)
    return store


def _remove(engine: Any, folder: str) -> None:
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def demo_project(*, ready_to_review: bool = True) -> Store:
    """A :func:`scratch_project` holding the demo project (the app's first start): corpus ``demo-en-es``
    (data/demo, gold entities on both sides) and alignment run 1 (``gold``); when ``ready_to_review``, also
    alignment run 2 (``simulated``: the gold links with aligner-like errors) and projection runs 1 (``heuristic``)
    and 2 (``ngram``) over it, run 1 queued for review.

    >>> store = demo_project(ready_to_review=False)
    >>> corpus(store, "demo-en-es").pairs
    100
    """
    store = scratch_project()
    _demo.load_demo(store, ready_to_review=ready_to_review)
    return store


def corpora(store: Store) -> list[CorpusStats]:
    """Every corpus of the project with its sizes and review progress, by name (as ``xner corpora``)."""
    return list_corpora(store)


def corpus(store: Store, name: str) -> CorpusStats:
    """One corpus's sentences per split and side, pairs, tokens, entities per label and review progress.

    >>> stats = corpus(demo_project(), "demo-en-es")
    >>> stats.kind, stats.src_lang, stats.tgt_lang, stats.sentences
    ('parallel', 'en', 'es', {'train/src': 100, 'train/tgt': 100})
    """
    return corpus_stats(store, name)


def import_conll(
    store: Store,
    path: PathLike,
    *,
    corpus: str,
    lang: str,
    split: str | None = None,
    labels: Collection[str] | None = None,
) -> ImportReport:
    """Import a labelled CoNLL file (MasakhaNER / CoNLL-2003 style, IOB tags in the last column) into the
    monolingual corpus ``corpus`` (created when missing), as ``xner import conll``.

    Args:
        split: ``train``, ``dev`` or ``test``; default: the one the file's name names, else ``train``.
        labels: the label set, when declared: any other label is an error.

    >>> report = import_conll(scratch_project(), DEMO_DIR / "en.conll", corpus="demo-en", lang="en")
    >>> report.sentences, report.split, report.split_from, report.entities["PER"]
    (100, 'train', 'default', 29)
    """
    return _import_corpus(store, path, corpus=corpus, lang=lang, split=split, labels=labels)


def import_parallel(
    store: Store,
    src_path: PathLike,
    tgt_path: PathLike | None = None,
    *,
    corpus: str,
    tgt_lang: str,
    src_lang: str = "en",
    split: str | None = None,
    pretokenized: bool = False,
) -> ImportReport:
    """Import a parallel corpus, as ``xner import parallel``: two line-aligned files, each plain text (tokenised
    by xner unless ``pretokenized``) or CoNLL (its gold entities kept), or one file of ``source<TAB>target`` or
    ``source ||| target`` lines when ``tgt_path`` is None.

    >>> store = scratch_project()
    >>> report = import_parallel(store, DEMO_DIR / "en.conll", DEMO_DIR / "es.conll", corpus="en-es", tgt_lang="es")
    >>> report.pairs, report.split
    (100, 'train')
    """
    return _import_parallel(
        store,
        src_path,
        tgt_path,
        corpus=corpus,
        src=SideOptions(src_lang, pretokenized=pretokenized),
        tgt=SideOptions(tgt_lang, pretokenized=pretokenized),
        split=split,
    )


def import_alignments(
    store: Store, path: PathLike, *, corpus: str, aligner: str = "gold", index_base: int = 0
) -> ImportReport:
    """Import word alignments in Pharaoh format (``i-j`` sure, ``ipj`` possible; one line per pair, in corpus
    order) as a new alignment run named ``aligner``; ``index_base=1`` for 1-based gold sets. The report's
    ``run_id`` is the new run.

    >>> store = scratch_project()
    >>> _ = import_parallel(store, DEMO_DIR / "en.conll", DEMO_DIR / "es.conll", corpus="en-es", tgt_lang="es")
    >>> import_alignments(store, DEMO_DIR / "en-es.align", corpus="en-es").run_id
    1
    """
    return _import_alignments(store, path, corpus=corpus, aligner=aligner, index_base=index_base)


def align(
    store: Store, corpus: str, *, aligner: str = "eflomal", options: Mapping[str, Any] | None = None
) -> AlignReport:
    """Word-align every pair of ``corpus`` with ``aligner`` (``eflomal``, ``simalign``, ``awesome``) and its
    named ``options`` (as ``-o`` on the command line), stored as a new alignment run.

    >>> report = align(demo_project(ready_to_review=False), "demo-en-es", options={"symmetrization": "intersection"})
    >>> report.run_id, report.aligner, report.pairs
    (2, 'eflomal', 100)
    """
    return align_corpus(store, corpus, aligner=aligner, options=options)


def project(
    store: Store,
    corpus: str,
    *,
    method: str = "heuristic",
    alignment_run: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> ProjectReport:
    """Project the source entities of ``corpus`` onto its targets with ``method`` (``heuristic``, ``ngram``,
    ``model``, ...) over alignment run ``alignment_run`` (default the newest), stored as a new projection run.

    >>> report = project(demo_project(ready_to_review=False), "demo-en-es", method="ngram")
    >>> report.run_id, report.alignment_run, report.pairs
    (1, 1, 100)
    """
    return project_corpus(store, corpus, method=method, options=options, alignment_run=alignment_run)


def evaluate(
    store: Store, corpus: str, *, run: int | None = None, labels: Collection[str] | None = None
) -> ProjectionEvaluation:
    """Span precision, recall and F1 of projection run ``run`` (default the newest) against the target gold,
    overall and per label (``scores["overall"]["f1"]``), only ``labels`` when given.

    >>> scores = evaluate(demo_project(), "demo-en-es", run=1, labels=["PER", "LOC"]).scores
    >>> sorted(scores), 0.5 < scores["overall"]["f1"] <= 1.0
    (['LOC', 'PER', 'overall'], True)
    """
    return evaluate_projection(store, corpus, run_id=run, labels=labels)


def queue_for_review(store: Store, corpus: str, *, run: int | None = None) -> QueueReport:
    """Make projection run ``run`` (default the newest) the review suggestions of ``corpus``'s unreviewed
    sentences (reviewed ones keep their state), as the app's *Queue for review*.

    >>> store = demo_project()
    >>> report = queue_for_review(store, "demo-en-es", run=2)
    >>> report.method, report.updated + report.queued, report.kept
    ('ngram', 100, 0)
    """
    return _review.queue_projection(store, corpus, run)


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Review progress of a corpus: its reviewable (target) sentences by status."""

    corpus: str
    total: int  # reviewable sentences
    unreviewed: int  # not reviewed, whether queued or not
    queued: int  # unreviewed sentences with a queued suggestion (what the review queue serves)
    by_status: dict[str, int]  # every ReviewStatus value -> count
    queued_run: int | None  # the projection run suggesting the queue's items (None: nothing queued)

    @property
    def reviewed(self) -> int:
        """Accepted, corrected or rejected (the one definition: :func:`xner.store.queries.review.reviewed_count`)."""
        return reviewed_count(self.by_status)


def review_state(store: Store, corpus: str) -> ReviewState:
    """How far the review of ``corpus`` is (the counts the app's Home and Review pages show).

    >>> state = review_state(demo_project(), "demo-en-es")
    >>> state.total, state.reviewed, state.queued, state.queued_run
    (100, 0, 100, 1)
    """
    overview = _review.queue_overview(store, corpus)
    progress = {status.value: overview.progress.get(status.value, 0) for status in ReviewStatus}
    return ReviewState(
        corpus=overview.corpus,
        total=overview.total,
        unreviewed=progress[ReviewStatus.UNREVIEWED.value],
        queued=overview.queued,
        by_status=progress,
        queued_run=overview.queued_run,
    )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One item of the review queue: a target sentence with its current spans."""

    sentence_id: int
    split: str
    position: int  # the sentence's index in its split, from 0
    status: str
    confidence: float | None  # of the queued suggestion
    tokens: tuple[str, ...]
    spans: tuple[Span, ...]  # half-open token ranges


def review_queue(
    store: Store,
    corpus: str,
    *,
    limit: int = 10,
    order: str = "confidence",
    statuses: Collection[ReviewStatus | str] = (ReviewStatus.UNREVIEWED,),
) -> list[QueueEntry]:
    """The first ``limit`` items of the review queue of ``corpus``, in the app's order: ``confidence`` (least
    confident first) or ``disagreement`` (the methods' most disagreed-on first). Reads only: nothing is leased.

    >>> [entry.status for entry in review_queue(demo_project(), "demo-en-es", limit=3)]
    ['unreviewed', 'unreviewed', 'unreviewed']
    """
    entries: list[QueueEntry] = []
    seen: set[int] = set()
    while len(entries) < limit:
        item = _review.next_item(store, corpus, order=order, statuses=statuses, skip=seen)
        if item is None:
            break
        seen.add(item.sentence_id)
        state = item.state
        entries.append(
            QueueEntry(
                item.sentence_id,
                item.split,
                item.position,
                state.status.value,
                state.confidence,
                item.tgt_tokens,
                state.spans,
            )
        )
    return entries


def export(
    store: Store,
    corpus: str,
    path: PathLike,
    *,
    fmt: str = "conll",
    side: str | None = None,
    statuses: Collection[ReviewStatus | str] | None = None,
    spans: str = "reviewed",
    run: int | None = None,
) -> ExportReport:
    """Write ``corpus`` to ``path`` (atomically), as ``xner export``.

    Args:
        fmt: ``conll`` (IOB2), ``jsonl``, ``spacy`` (DocBin) or ``hf`` (a ``datasets`` folder).
        side: ``src`` or ``tgt`` (default) of a parallel corpus.
        statuses: only sentences in these review statuses (default all).
        spans: ``reviewed`` (curated where reviewed, else gold), ``gold``, or ``run`` (projection run ``run``'s).
        run: a projection run (default the newest) for ``spans="run"``.

    >>> folder = tempfile.TemporaryDirectory()
    >>> report = export(demo_project(), "demo-en-es", Path(folder.name) / "es.conll", spans="run", run=1)
    >>> report.sentences, report.run_id
    (100, 1)
    >>> folder.cleanup()
    """
    chosen = None if statuses is None else [ReviewStatus.parse(str(status)) for status in statuses]
    return export_corpus(store, corpus, path, fmt=fmt, side=side, statuses=chosen, spans=spans, run_id=run)
