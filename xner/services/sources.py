"""Where a projection's source entities come from: the corpus's gold entities, a saved source-language tagger of
the managed ``models/`` folder, or a tagger trained now on a labelled corpus (:func:`project_with_source`).

The English side of a low-resource project is usually plain text (MAFAND-MT): without a source tagger nothing is
projected. The run records which source it used (run parameters ``source`` and ``source_tagger``).

Which tagger is offered first (:func:`recommended_tagger`) and how one is trained now follow
``benchmarks/source_tagger_quality.py`` on the Europarl English gold (PER/ORG/LOC F1): a CRF trained on CoNLL-2003
English scores 0.51 (PER 0.12: Reuters hardly ever writes "Mr Evans"), the same CRF also trained on titled copies of
the person names (:mod:`xner.learning.titles`) 0.61 (PER 0.64), while the transformer tagger on the only real
English encoder installable here scored 0.42 (PER 0.60, 2,000 sentences, 187 s on 2 cores; ../shared/design/
offline.md). So titled CRFs come first, and English taggers trained here get titled copies by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xner.engine.project import PROJECTORS
from xner.errors import UnknownNameError, XnerError
from xner.learning.taggers import read_manifest
from xner.services.corpora import get_corpus
from xner.services.exporting import splits_in_import_order
from xner.services.managed import MODELS, ManagedFolder
from xner.services.projecting import ProjectReport, project_corpus
from xner.services.training import TrainReport, default_model_name, train_tagger
from xner.store.db import Store
from xner.store.queries.corpora import languages_by_name, side_entity_count, visible_of_language
from xner.types import CorpusKind, ProgressFn, Side, StageProgress, stage_progress

GOLD, SAVED, TRAIN = "gold", "saved tagger", "train now"
SOURCES = (GOLD, SAVED, TRAIN)
TAGGER_RANK = ("crf", "transformer")  # measured order on Europarl English (see the module docstring)


@dataclass(frozen=True, slots=True)
class SavedTagger:
    """A tagger saved in the managed ``models/`` folder, with what its manifest says about its training."""

    name: str
    path: str
    kind: str  # crf, transformer
    corpus: str  # the corpus it was trained on ("" when unknown)
    side: str
    lang: str | None  # the language of that side, when the corpus is still there
    labels: tuple[str, ...]
    saved_at: str = ""
    titled: bool = False  # trained with titled copies of person names (xner.learning.titles)

    def describe(self) -> str:
        """One line for a select box: name, kind, training corpus and language, labels.

        >>> SavedTagger("crf-en", "/m/crf-en", "crf", "conll03", "mono", "en", ("PER", "LOC"), titled=True).describe()
        'crf-en: crf, trained on conll03 (en) + titled names; PER, LOC'
        """
        trained = f", trained on {self.corpus}" if self.corpus else ""
        lang = f" ({self.lang})" if self.lang else ""
        titled = " + titled names" if self.titled else ""
        return f"{self.name}: {self.kind}{trained}{lang}{titled}; {', '.join(self.labels) or 'no labels'}"


@dataclass(frozen=True, slots=True)
class LabelledCorpus:
    """A corpus side with entities in a given language: training data for a source tagger."""

    name: str
    side: str  # src or mono
    entities: int
    splits: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.name} ({self.entities:,} entities; splits {', '.join(self.splits)})"


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """Where the source entities come from: ``kind`` is one of :data:`SOURCES`; ``tagger`` the saved tagger's
    folder (SAVED); ``corpus``, ``tagger_kind`` and ``options`` the training (TRAIN)."""

    kind: str = GOLD
    tagger: str | None = None
    corpus: str | None = None
    tagger_kind: str = "crf"
    options: Mapping[str, Any] = field(default_factory=dict)
    titled: bool = False  # train on titled copies of person names too (see train_source_tagger)


@dataclass
class SourcedProjection:
    """A projection run and, when the source tagger was trained for it, that training."""

    projection: ProjectReport
    training: TrainReport | None = None


def uses_source_entities(method: str) -> bool:
    """Whether projection method ``method`` projects source entities (``model-transfer`` tags the target instead).

    >>> uses_source_entities("heuristic"), uses_source_entities("model-transfer")
    (True, False)
    """
    return PROJECTORS.lookup(method).needs_source_entities


def gold_source_entities(store: Store, corpus: str) -> int:
    """How many gold entities the source side of ``corpus`` has (0: plain text, a source tagger is needed)."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        return side_entity_count(session, found.id, Side.SRC)


def labelled_corpora(store: Store, lang: str) -> list[LabelledCorpus]:
    """The corpora whose ``lang`` side has entities (a monolingual corpus, or the source side of a parallel one),
    by name: what a source tagger for ``lang`` can be trained on."""
    found = []
    with store.session() as session:
        for corpus in visible_of_language(session, lang):
            side = Side.MONO if corpus.kind == CorpusKind.MONO else Side.SRC
            entities = side_entity_count(session, corpus.id, side)
            if entities:
                splits = tuple(splits_in_import_order(session, corpus, side))
                found.append(LabelledCorpus(corpus.name, side, entities, splits))
    return found


def saved_taggers(store: Store, folder: ManagedFolder) -> list[SavedTagger]:
    """The saved taggers of ``folder``'s ``models/`` (folders with a tagger manifest), by name; the language of
    each comes from its training corpus in ``store`` when that corpus is still there."""
    taggers = []
    with store.session() as session:
        languages = languages_by_name(session)
    for entry in folder.list(MODELS):
        if not entry.is_folder:
            continue
        path = folder.path(MODELS, entry.name)
        try:
            manifest = read_manifest(path)
        except XnerError:  # an aligner or translation model, not a tagger
            continue
        info = manifest.get("info") or {}
        corpus, side = str(info.get("corpus") or ""), str(info.get("side") or "")
        src, tgt = languages.get(corpus, (None, None))
        lang = tgt if side == Side.TGT else src
        labels = tuple(str(label) for label in manifest.get("labels") or ())
        saved_at = str(manifest.get("saved_at", ""))
        titled = bool(info.get("titled_copies"))
        kind = str(manifest["kind"])
        taggers.append(SavedTagger(entry.name, str(path), kind, corpus, side, lang, labels, saved_at, titled))
    return taggers


def recommended_tagger(taggers: list[SavedTagger], lang: str) -> SavedTagger | None:
    """The tagger offered first for source language ``lang``: of those trained on ``lang`` text (else of all), one
    trained with titled names, then the best-ranked kind (:data:`TAGGER_RANK`), then the newest."""
    fitting = [t for t in taggers if t.lang == lang] or taggers
    if not fitting:
        return None

    def key(tagger: SavedTagger) -> tuple[bool, int, str]:
        rank = TAGGER_RANK.index(tagger.kind) if tagger.kind in TAGGER_RANK else len(TAGGER_RANK)
        return (tagger.titled, -rank, tagger.saved_at)

    return max(fitting, key=key)


def train_source_tagger(
    store: Store,
    corpus: str,
    *,
    folder: ManagedFolder,
    tagger: str = "crf",
    options: Mapping[str, Any] | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
    titled: bool = False,
) -> TrainReport:
    """Train a ``tagger`` on the labelled side of ``corpus`` (monolingual, or the source side of a parallel one) and
    save it in ``folder``'s ``models/`` under a derived name; trains on ``train`` (or every split but dev and test)
    and scores on ``dev`` when there is one. ``titled`` adds titled copies of the person mentions ("Mr Smith"):
    the better English source tagger (see the module docstring).

    Raises:
        XnerError: the corpus has no labelled sentences (see :func:`xner.services.training.train_tagger`).
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        side = Side.MONO if found.kind == CorpusKind.MONO else Side.SRC
        splits = splits_in_import_order(session, found, side)
    train = ["train"] if "train" in splits else [s for s in splits if s not in ("dev", "test")] or list(splits)
    held_out = ["dev"] if "dev" in splits and "dev" not in train else []
    name = default_model_name(corpus, tagger, when=datetime.now())
    return train_tagger(
        store,
        corpus,
        out=folder.ensure(MODELS) / name,
        side=None if side == Side.MONO else side,
        splits=train,
        eval_splits=held_out,
        tagger=tagger,
        options=options,
        created_by=created_by,
        on_progress=on_progress,
        titled=titled,
    )


def project_with_source(
    store: Store,
    corpus: str,
    source: SourceChoice,
    *,
    folder: ManagedFolder,
    method: str = "heuristic",
    options: Mapping[str, Any] | None = None,
    alignment_run: int | None = None,
    created_by: str = "",
    on_progress: StageProgress | None = None,
) -> SourcedProjection:
    """Project ``corpus`` with its source entities from ``source``: the gold ones, a saved tagger's, or those of a
    tagger trained first (stage ``train``) and saved in ``folder``; the projection is stage ``project``.

    Raises:
        XnerError: an unknown source kind, a saved-tagger choice without a tagger, a training choice without a
            corpus, and whatever training or projecting raises.
    """
    training = None
    if source.kind == GOLD:
        tagger = None
    elif source.kind == SAVED:
        if not source.tagger:
            raise XnerError("choose a saved source tagger, or train one now")
        tagger = source.tagger
    elif source.kind == TRAIN:
        if not source.corpus:
            raise XnerError("choose a labelled corpus to train the source tagger on")
        training = train_source_tagger(
            store,
            source.corpus,
            folder=folder,
            tagger=source.tagger_kind,
            options=source.options,
            titled=source.titled,
            created_by=created_by,
            on_progress=stage_progress(on_progress, "train"),
        )
        tagger = training.model_path
    else:
        raise UnknownNameError("source of entities", source.kind, SOURCES)
    projection = project_corpus(
        store,
        corpus,
        method=method,
        options=options,
        alignment_run=alignment_run,
        source_tagger=tagger,
        created_by=created_by,
        on_progress=stage_progress(on_progress, "project"),
    )
    return SourcedProjection(projection, training)
