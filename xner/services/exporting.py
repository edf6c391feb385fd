"""Export use case: a corpus side, filtered by split and review status, to CoNLL/IOB2, JSONL, a spaCy DocBin or
a Hugging Face dataset folder.

The entities written for a sentence come from one of three sources (``spans``): ``reviewed`` (the default: the
curated spans of a reviewed sentence, else its gold entities, or with a projection run the run's spans), ``gold``
(the imported gold entities, reviews ignored) or ``run`` (a projection run's spans for every sentence, so a
spot-checked run can be exported whole).
Output goes to a temporary file (or folder) beside the target that replaces it only when the export is complete,
so a failed export never leaves a half-written one.

:func:`export_alignments` writes an alignment run's links the same way, as Pharaoh text (one line per pair).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xner.errors import UnknownNameError, XnerError
from xner.formats import WRITERS
from xner.formats.pharaoh import parse_pharaoh_line
from xner.formats.text import PathLike, replace_dir
from xner.services.corpora import get_corpus
from xner.services.projecting import get_projection_run
from xner.store.db import Session, Store
from xner.store.queries import imports as import_queries
from xner.store.queries import runs as run_queries
from xner.store.queries import sentences as sentence_queries
from xner.store.queries.exports import corpus_reviewers, export_row_pages
from xner.store.queries.pairs import alignment_texts, pair_pages
from xner.store.queries.projections import projected_spans, run_labels
from xner.store.queries.review import curated_labels, status_is_reviewed
from xner.store.queries.sentences import entity_spans
from xner.types import CURATED_STATUSES, ReviewStatus
from xner.types import Sentence as SentenceData

if TYPE_CHECKING:
    from xner.store.models import Corpus

EXPORT_FORMATS = tuple(WRITERS)  # conll, jsonl, spacy, hf
SPAN_SOURCES = ("reviewed", "gold", "run")  # where an export's entities come from (see SpanSource)
FOLDER_FORMATS = frozenset(name for name, writer in WRITERS.items() if writer.folder)  # the others write a file


@dataclass
class ExportReport:
    corpus: str
    path: str
    format: str
    sentences: int
    entities: int
    spans: str = "reviewed"
    run_id: int | None = None  # the projection run whose spans were written, if any


@dataclass(frozen=True, slots=True)
class SpanSource:
    """Where the entities of exported sentences come from, checked against the corpus (:func:`span_source`).

    ``reviewed``: a reviewed sentence's curated spans; an unreviewed one's gold entities, or the spans of
    ``run_id`` when given. ``gold``: the gold entities of every sentence. ``run``: the spans of projection run
    ``run_id`` for every sentence (an empty list where the run has none).
    """

    kind: str = "reviewed"
    run_id: int | None = None

    def uses_run(self, status: str | None) -> bool:
        """Whether a sentence in review ``status`` carries the run's spans."""
        if self.run_id is None:
            return False
        return self.kind == "run" or not status_is_reviewed(status)

    def uses_curated(self, status: str | None) -> bool:
        """Whether a sentence in review ``status`` carries its curated spans."""
        return self.kind == "reviewed" and status_is_reviewed(status)


CURATED_OR_GOLD = SpanSource()


def span_source(
    session: Session, corpus: Corpus, side: str, spans: str = "reviewed", run_id: int | None = None
) -> SpanSource:
    """The :class:`SpanSource` of an export of ``side`` of ``corpus``, checked.

    Args:
        spans: ``reviewed``, ``gold`` or ``run``.
        run_id: the projection run (with ``run``, default the newest; with ``reviewed``, the spans of the
            unreviewed sentences instead of their gold ones; not with ``gold``).

    Raises:
        XnerError: an unknown ``spans``, a run with ``gold``, a run on the source side (runs label the target
            side), or a run the corpus does not have.
    """
    if spans not in SPAN_SOURCES:
        raise UnknownNameError("span source", spans, SPAN_SOURCES)
    if spans == "gold":
        if run_id is not None:
            raise XnerError("a projection run goes with spans 'run' or 'reviewed', not 'gold'")
        return SpanSource("gold")
    if spans == "reviewed" and run_id is None:
        return CURATED_OR_GOLD
    if side != "tgt":
        raise XnerError(
            f"projection runs label the target side: export side 'tgt' of {corpus.name!r} with a run, not {side!r}"
        )
    return SpanSource(spans, get_projection_run(session, corpus, run_id).id)


def side_for(corpus: Corpus, side: str | None) -> str:
    """The side to read: ``mono`` for a monolingual corpus, else ``side`` (default ``tgt``), checked."""
    if corpus.kind == "mono":
        if side not in (None, "mono"):
            raise XnerError(f"corpus {corpus.name!r} is monolingual: it has no {side!r} side")
        return "mono"
    side = side or "tgt"
    if side not in ("src", "tgt"):
        raise XnerError(f"side must be 'src' or 'tgt' for parallel corpus {corpus.name!r}, got {side!r}")
    return side


def iter_export_sentences(
    session: Session,
    corpus: Corpus,
    *,
    side: str,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    source: SpanSource = CURATED_OR_GOLD,
) -> Iterator[tuple[SentenceData, dict]]:
    """Yield ``(sentence, meta)`` split by split (in import order), by position, a page at a time.

    ``reviewer`` keeps only the sentences whose latest review decision (event) is that reviewer's; ``source``
    says which entities each sentence carries (a sentence with a run's spans has ``projection_run`` in its meta).

    Keyset paging on (corpus, split, side, position) follows the unique index, so each page is one index range
    read however large the corpus (:func:`xner.store.queries.exports.export_row_pages`).
    """
    pages = export_row_pages(
        session,
        corpus.id,
        side,
        splits=splits,
        statuses=statuses,
        reviewer=reviewer,
        with_pairs=source.run_id is not None,
    )
    for page in pages:
        yield from _page_sentences(session, page, source)


def splits_in_import_order(session: Session, corpus: Corpus, side: str) -> list[str]:
    """The splits of ``corpus`` that have sentences on ``side``, in the order they were first imported."""
    return sentence_queries.splits_in_import_order(session, corpus.id, side)


def side_name(side: str) -> str:
    """``"src "`` / ``"tgt "`` for a side of a parallel corpus, ``""`` for a monolingual one (in messages)."""
    return "" if side == "mono" else f"{side} "


def require_splits(session: Session, corpus: Corpus, side: str, wanted: Collection[str]) -> None:
    """Every split in ``wanted`` must have sentences on ``side`` of ``corpus``; the error lists the ones it has."""
    have = splits_in_import_order(session, corpus, side)
    missing = [split for split in wanted if split not in have]
    if missing:
        names = ", ".join(repr(split) for split in missing)
        raise XnerError(
            f"corpus {corpus.name!r} has no {side_name(side)}sentences in split {names}; "
            f"its splits: {', '.join(have) or 'none'}"
        )


def _page_sentences(session: Session, page: Sequence[Any], source: SpanSource) -> Iterator[tuple[SentenceData, dict]]:
    from_run = [row.pair_id for row in page if source.uses_run(row.status)]
    projected = projected_spans(session, source.run_id, from_run) if source.run_id is not None and from_run else {}
    gold_ids = [row.id for row in page if not source.uses_run(row.status) and not source.uses_curated(row.status)]
    gold = entity_spans(session, gold_ids)
    for row in page:
        meta = {"split": row.split, "position": row.position, "status": row.status or ReviewStatus.UNREVIEWED.value}
        if source.uses_run(row.status):
            spans = projected.get(row.pair_id, [])
            meta["projection_run"] = source.run_id
        elif source.uses_curated(row.status):  # the curated spans replace the gold ones (queued suggestions do not)
            spans = list(row.spans)
        else:
            spans = gold.get(row.id, [])
        yield SentenceData(tuple(row.tokens), tuple(sorted(spans)), row.text, row.lang), meta


def export_corpus(
    store: Store,
    corpus: str,
    out: PathLike,
    *,
    fmt: str = "conll",
    side: str | None = None,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    spans: str = "reviewed",
    run_id: int | None = None,
) -> ExportReport:
    """Write one side of ``corpus`` to ``out`` (atomically), filtered by splits and review statuses.

    An empty selection is not an error: it gives an empty but valid output (an empty file, a DocBin without docs,
    or a dataset folder whose selected splits have no rows) and a report of 0 sentences.

    Args:
        fmt: ``conll`` (IOB2, space-separated), ``jsonl`` (Prodigy/spaCy shape), ``spacy`` (a DocBin for
            ``spacy train``) or ``hf`` (a ``datasets`` folder for ``load_from_disk``, one dataset per split).
        side: ``src`` or ``tgt`` for a parallel corpus (default ``tgt``); monolingual corpora have one side.
        splits: only these splits (default all).
        statuses: only sentences in these review statuses (default all).
        reviewer: only sentences whose latest review decision is this reviewer's (default any).
        spans: where the entities come from: ``reviewed`` (curated where reviewed, else gold or ``run_id``'s),
            ``gold`` or ``run`` (projection run ``run_id``'s, default the newest run, for every sentence).
        run_id: a projection run of ``corpus`` (see ``spans``); only for the target side.

    Raises:
        XnerError: an unknown format, corpus, side, span source or run, or ``out`` in the way (a folder where a
            file goes, or for ``hf`` a file or a folder that is not a saved dataset).
        MissingDependencyError: the format's package (spacy, datasets) is not installed.
    """
    writer = WRITERS.create(fmt)
    target = Path(out)
    folder = writer.folder
    _check_target(target, folder=folder)
    with store.session() as session:
        found = get_corpus(session, corpus)
        chosen = side_for(found, side)
        source = span_source(session, found, chosen, spans, run_id)
        selection = _Selection(session, found, chosen, splits, statuses, reviewer, source)
        with _atomic_path(target, folder=folder) as partial:
            writer.write(selection, partial)
    return ExportReport(corpus, str(target), fmt, selection.sentences, selection.entities, source.kind, source.run_id)


# --- alignment runs as Pharaoh text -------------------------------------------------------------------------


@dataclass
class AlignmentExportReport:
    corpus: str
    run_id: int
    aligner: str
    path: str
    pairs: int  # lines written: one per pair, empty for a pair the run has no links for
    links: int  # sure and possible links written
    splits: list[str] | None = None  # the splits exported (None: all)


def export_alignments(
    store: Store, run_id: int, out: PathLike, *, splits: Collection[str] | None = None
) -> AlignmentExportReport:
    """Write the links of alignment run ``run_id`` to ``out`` (atomically) in Pharaoh format: one line per sentence
    pair of the run's corpus, in the corpus's pair order (import order), 0-based ``i-j`` sure and ``ipj`` possible
    links sorted, an empty line for a pair the run has no links for. ``xner import alignments`` reads it back.

    Args:
        run_id: an alignment run of any corpus (run ids are unique across corpora).
        splits: only the pairs of these splits (default all); a file for one split imports into that split.

    Raises:
        XnerError: an unknown run (the message lists the runs), a split the corpus has no pairs in, or ``out`` a
            folder.
    """
    target = Path(out)
    _check_target(target, folder=False)
    with store.session() as session:
        found = run_queries.visible_alignment_run(session, run_id)
        if found is None:
            known = [f"{rid} ({aligner}, {name})" for rid, aligner, name in run_queries.visible_alignment_runs(session)]
            raise XnerError(f"no alignment run {run_id}; the runs: {', '.join(known) or 'none'}")
        run, corpus = found
        wanted = sorted(set(splits)) if splits else None
        if wanted:
            held = import_queries.pair_splits(session, corpus.id)
            missing = [s for s in wanted if s not in held]
            if missing:
                raise XnerError(
                    f"corpus {corpus.name!r} has no pairs in split {', '.join(map(repr, missing))}; "
                    f"it has {', '.join(sorted(held)) or 'none'}"
                )
        report = AlignmentExportReport(corpus.name, run.id, run.aligner, str(target), 0, 0, wanted)
        with _atomic_path(target, folder=False) as partial, partial.open("w", encoding="utf-8") as handle:
            for rows in pair_pages(session, corpus.id, splits=wanted):
                texts = alignment_texts(session, run.id, [row[0] for row in rows])
                for row in rows:
                    alignment = parse_pharaoh_line(texts.get(row[0], ""))
                    handle.write(alignment.to_pharaoh() + "\n")
                    report.links += len(alignment.links)
                report.pairs += len(rows)
    return report


# --- the app's export form: what a corpus offers, and what an export would hold -----------------------------

DEFAULT_STATUSES = CURATED_STATUSES  # the statuses the app's export form starts with


@dataclass(frozen=True, slots=True)
class ExportChoices:
    """What an export of a corpus can select: its sides, the splits of each side and the reviewers who decided."""

    corpus: str
    kind: str
    sides: tuple[str, ...]
    splits: dict[str, list[str]]  # side -> splits in import order
    reviewers: list[str]


@dataclass(frozen=True, slots=True)
class ExportPreview:
    """How many sentences and entities (per label) an export with these filters writes."""

    sentences: int
    entities: dict[str, int] = field(default_factory=dict)

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())


def export_choices(store: Store, corpus: str) -> ExportChoices:
    """The sides, splits and reviewers of ``corpus``; an unknown corpus lists the known ones."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        sides = ("mono",) if found.kind == "mono" else ("tgt", "src")
        splits = {side: splits_in_import_order(session, found, side) for side in sides}
        reviewers = corpus_reviewers(session, found.id)
        return ExportChoices(found.name, found.kind, sides, splits, reviewers)


def export_preview(
    store: Store,
    corpus: str,
    *,
    side: str | None = None,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    spans: str = "reviewed",
    run_id: int | None = None,
) -> ExportPreview:
    """Sentences and entities per label that ``export_corpus`` would write with the same filters and span source."""
    labels: Counter[str] = Counter()
    count = 0
    with store.session() as session:
        found = get_corpus(session, corpus)
        chosen = side_for(found, side)
        source = span_source(session, found, chosen, spans, run_id)
        rows = iter_export_sentences(
            session, found, side=chosen, splits=splits, statuses=statuses, reviewer=reviewer, source=source
        )
        for sentence, _ in rows:
            count += 1
            labels.update(span.label for span in sentence.spans)
    return ExportPreview(count, dict(sorted(labels.items())))


@dataclass
class _Selection:
    """The sentences an export writes, counted as they stream by."""

    session: Session
    corpus: Corpus
    side: str
    splits: Collection[str] | None
    statuses: Collection[ReviewStatus] | None
    reviewer: str | None = None
    source: SpanSource = CURATED_OR_GOLD
    sentences: int = 0
    entities: int = 0

    def rows(self) -> Iterator[tuple[SentenceData, dict]]:
        rows = iter_export_sentences(
            self.session,
            self.corpus,
            side=self.side,
            splits=self.splits,
            statuses=self.statuses,
            reviewer=self.reviewer,
            source=self.source,
        )
        for sentence, meta in rows:
            self.sentences += 1
            self.entities += len(sentence.spans)
            yield sentence, meta

    def split_names(self) -> list[str]:
        """The selected splits that have sentences on this side, in import order."""
        found = splits_in_import_order(self.session, self.corpus, self.side)
        return [split for split in found if not self.splits or split in self.splits]

    def labels(self) -> list[str]:
        """The corpus's whole label set (see :func:`export_labels`)."""
        return export_labels(self.session, self.corpus, self.source.run_id)


def export_labels(session: Session, corpus: Corpus, run_id: int | None = None) -> list[str]:
    """Every label of ``corpus``, sorted: its label set (all labels imported or declared), any a curator used and
    any projection run ``run_id`` used.

    The whole corpus's set, whatever the filters, so that every export of a corpus numbers its tags alike.
    """
    labels = set(corpus.labels)
    labels |= curated_labels(session, corpus.id)
    if run_id is not None:
        labels |= run_labels(session, run_id)
    return sorted(labels)


def _check_target(target: Path, *, folder: bool) -> None:
    """Refuse, before any work, a target that the export must not replace."""
    if not folder:
        if target.is_dir():
            raise XnerError(f"{target} is a folder: give a file name for the export")
        return
    if target.exists() and not target.is_dir():
        raise XnerError(f"{target} is a file: give a folder name for the dataset export")
    if target.is_dir() and any(target.iterdir()) and not is_saved_dataset(target):
        raise XnerError(f"{target} is a folder but not a saved dataset: give a new or empty folder to export to")


def is_saved_dataset(folder: Path) -> bool:
    """True when ``folder`` holds what ``save_to_disk`` writes (a DatasetDict or a Dataset)."""
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


@contextmanager
def _atomic_path(target: Path, *, folder: bool) -> Iterator[Path]:
    """A temporary file or empty folder beside ``target``, moved into its place only when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        partial = Path(name)
    try:
        yield partial
        _as_umask_allows(partial)  # mkstemp/mkdtemp make owner-only files; an export is shared like any file
        if folder:
            replace_dir(partial, target)
        else:
            os.replace(partial, target)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()


def _as_umask_allows(path: Path) -> None:
    path.chmod((0o777 if path.is_dir() else 0o666) & ~_umask())


def _umask() -> int:
    """The process umask; read from /proc where possible, since setting it to read it races with other threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask
