"""The database schema (SQLAlchemy 2 typed ORM). Every change here needs an Alembic revision in migrations/.

Layout:
- ``corpus``: a named collection, monolingual (CoNLL import) or parallel (source/target languages). A corpus whose
  ``import_state`` is set is hidden from every reader: an import still writing it, the staging corpus of an
  import into an existing corpus or of a new alignment/projection run, or the rest of a failed import being
  removed (see :mod:`xner.store.staging`).
- ``sentence``: tokenised text of one side (``mono``, ``src`` or ``tgt``) with its split and position.
- ``entity``: gold entity spans of a sentence (half-open token ranges).
- ``sentence_pair``: a source and a target sentence at one position of a parallel corpus.
- ``alignment_run`` / ``alignment``: one aligner run and its links per pair (Pharaoh text, 0-based).
- ``projection_run`` / ``projection``: one projection method run and its target spans per pair.
- ``review_state``: the current curated spans and status of a target sentence, with a version counter for
  optimistic concurrency, the projection run that suggested its spans and the methods' disagreement on it;
  ``review_event``: the append-only history of every decision (who, when, before, after, applied or a vote beside
  the state); ``review_lease``: the items shown to reviewers right now; ``review_queue``: a corpus's queue settings
  (overlap, lease length); ``review_preference``: each reviewer's queue choices per corpus.
- ``spot_check`` / ``spot_check_item``: a stratified sample of one projection run's spans and their judgments.
- ``training_run`` / ``run_metric``: training runs (config, data sizes) and their scores.
- ``deletion_log``: the append-only record of every corpus or run deleted (who, what, when, counts removed).

Tokens and span lists are stored as JSON text: they are read and written whole; only the Review page's token search
reads the tokens' text with a bounded ``LIKE`` (:mod:`xner.store.queries.review_items`). Span lists of review
states and events read and write :class:`~xner.types.Span` tuples (:class:`xner.store.columns.SpanList`).

Relationships are declared for the joins queries make (``select(...).join(Projection.run)``) and for navigation;
each parent side cascades with ``passive_deletes``: the database's ``ON DELETE CASCADE`` removes the children.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from xner.store.columns import SpanList
from xner.types import Span


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The one declarative base of xner's schema."""

    # Named constraints, so later migrations can drop or alter them (SQLite batch mode needs the names).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Corpus(Base):
    __tablename__ = "corpus"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "mono" | "parallel"
    src_lang: Mapped[str] = mapped_column(String(32))  # the language of a mono corpus
    tgt_lang: Mapped[str | None] = mapped_column(String(32))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    description: Mapped[str] = mapped_column(Text, default="")
    # How xner made this corpus (a translation: see xner.services.translating); None for an imported corpus.
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # None: complete and visible. "importing" / "discarding": hidden (xner.store.staging), with the writing
    # process ("host:pid:start") and its last sign of life, so that an abandoned one can be told and removed.
    import_state: Mapped[str | None] = mapped_column(String(16), default=None)
    import_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    import_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    import_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    sentences: Mapped[list[Sentence]] = relationship(
        back_populates="corpus", cascade="all, delete-orphan", passive_deletes=True
    )


class Sentence(Base):
    __tablename__ = "sentence"
    __table_args__ = (UniqueConstraint("corpus_id", "split", "side", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))  # "mono" | "src" | "tgt"
    position: Mapped[int] = mapped_column(Integer)  # 0-based order within (corpus, split, side)
    lang: Mapped[str] = mapped_column(String(32))
    tokens: Mapped[list[str]] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    n_tokens: Mapped[int] = mapped_column(Integer)
    source_line: Mapped[int | None] = mapped_column(Integer)  # line in the imported file, for messages

    corpus: Mapped[Corpus] = relationship(back_populates="sentences")
    entities: Mapped[list[Entity]] = relationship(
        back_populates="sentence", cascade="all, delete-orphan", passive_deletes=True
    )


class Entity(Base):
    __tablename__ = "entity"
    __table_args__ = (Index("ix_entity_corpus_label", "corpus_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"), index=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))

    sentence: Mapped[Sentence] = relationship(back_populates="entities")


class SentencePair(Base):
    __tablename__ = "sentence_pair"
    __table_args__ = (UniqueConstraint("corpus_id", "split", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    # indexed, so that deleting sentences (a failed import, in batches) does not scan every pair per sentence
    src_sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"), index=True)
    tgt_sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"), index=True)


class AlignmentRun(Base):
    __tablename__ = "alignment_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    aligner: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    alignments: Mapped[list[Alignment]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class Alignment(Base):
    __tablename__ = "alignment"
    __table_args__ = (UniqueConstraint("run_id", "pair_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("alignment_run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("sentence_pair.id", ondelete="CASCADE"), index=True)
    links: Mapped[str] = mapped_column(Text)  # Pharaoh, 0-based, "ipj" for possible links
    # the directional links a symmetrised run was made from (Pharaoh, 0-based, source-target; "" for a pair the
    # aligner left out): eflomal runs store them, so `xner symmetrize` derives any other symmetrisation later.
    # None for runs without directions (imported, neural, derived, manual fixes)
    forward: Mapped[str | None] = mapped_column(Text)
    reverse: Mapped[str | None] = mapped_column(Text)

    run: Mapped[AlignmentRun] = relationship(back_populates="alignments")


class ProjectionRun(Base):
    __tablename__ = "projection_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(64))
    alignment_run_id: Mapped[int | None] = mapped_column(ForeignKey("alignment_run.id", ondelete="SET NULL"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")

    projections: Mapped[list[Projection]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class Projection(Base):
    __tablename__ = "projection"
    __table_args__ = (
        UniqueConstraint("run_id", "pair_id"),
        Index("ix_projection_run_confidence", "run_id", "confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("projection_run.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("sentence_pair.id", ondelete="CASCADE"), index=True)
    # [{"start", "end", "label", "confidence", "src_start", "src_end", "links": [[i, j], ...]}, ...]
    spans: Mapped[list[dict]] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)  # the lowest span confidence (1.0 when no span)

    run: Mapped[ProjectionRun] = relationship(back_populates="projections")
    pair: Mapped[SentencePair] = relationship()  # many-to-one only: a pair does not list its projections


class ReviewState(Base):
    """The current curated state of one target sentence; rewritten on each decision, version-checked."""

    __tablename__ = "review_state"
    __table_args__ = (
        # The two queue orders, each read as one index range per status (sentence_id breaks ties); labels ride
        # along so that the label filter is checked in the index, without reading the rows.
        Index("ix_review_state_queue", "corpus_id", "status", "confidence", "sentence_id", "labels"),
        Index("ix_review_state_disagreement", "corpus_id", "status", "disagreement", "sentence_id", "labels"),
        # A queue with overlap > 1 reads decided items still short of their reviewers, one range per vote count.
        Index("ix_review_state_votes", "corpus_id", "status", "votes", "confidence", "sentence_id"),
    )

    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"), primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # xner.types.ReviewStatus values
    spans: Mapped[tuple[Span, ...]] = mapped_column(SpanList)  # stored [{"start", "end", "label"}], sorted
    confidence: Mapped[float | None] = mapped_column(Float)
    # The projection run whose spans were queued as the suggestion (None: never queued, or the run was deleted).
    run_id: Mapped[int | None] = mapped_column(ForeignKey("projection_run.id", ondelete="SET NULL"))
    # 1 - mean pairwise span F1 between the newest runs of different projection methods (0: one method only).
    disagreement: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The labels of ``spans`` as " LOC PER " (sorted, space-delimited), for the label filter of the queue.
    labels: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Distinct reviewers whose own decision (accept, reject, correct) on the item stands (not undone).
    votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An adjudication settled the item: no queue serves it for more votes.
    final: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReviewEvent(Base):
    """Append-only: one row per decision, never updated; removed only with its whole corpus (a deletion, recorded in
    ``deletion_log``)."""

    __tablename__ = "review_event"
    __table_args__ = (Index("ix_review_event_sentence", "sentence_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"))
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(32))
    status_before: Mapped[str] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))
    spans_before: Mapped[tuple[Span, ...]] = mapped_column(SpanList)
    spans_after: Mapped[tuple[Span, ...]] = mapped_column(SpanList)
    version: Mapped[int] = mapped_column(Integer)  # the state's version this decision produced
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    undoes: Mapped[int | None] = mapped_column(Integer)  # for an "undo": the id of the event it reverts
    # False: a vote recorded beside the state (the item was already decided by another reviewer), not applied to it
    applied: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ReviewLease(Base):
    """An item shown to a reviewer: no queue serves it to anyone else until it is decided, released or expired."""

    __tablename__ = "review_lease"

    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewQueue(Base):
    """The review settings of a corpus's queue (a corpus without a row has the defaults)."""

    __tablename__ = "review_queue"

    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), primary_key=True)
    overlap: Mapped[int] = mapped_column(Integer, default=1)  # distinct reviewers who must decide each item
    lease_seconds: Mapped[int] = mapped_column(Integer, default=300)  # how long a shown item stays claimed
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewPreference(Base):
    """A reviewer's queue choices on a corpus's Review page (order, items, labels, confidence range), restored in
    their next session."""

    __tablename__ = "review_preference"

    reviewer: Mapped[str] = mapped_column(String(200), primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), primary_key=True)
    queue_order: Mapped[str] = mapped_column(String(32))  # "confidence" | "disagreement"
    status: Mapped[str] = mapped_column(String(100))  # the page's item choice (xner.ui.review.STATUS_CHOICES)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    max_confidence: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewRevision(Base):
    """A counter per corpus, raised in the same transaction as every write that changes what its review counts
    count (states queued, decided or undone; appended pairs published). Readers keep the counts under it
    (``xner.services.review.counts``): a page run reads one row instead of counting 100k states. No row yet reads
    as revision 0."""

    __tablename__ = "review_revision"

    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class SpotCheck(Base):
    """A stratified random sample of the spans of one projection run, judged right or wrong by reviewers."""

    __tablename__ = "spot_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("projection_run.id", ondelete="CASCADE"), index=True)
    requested: Mapped[int] = mapped_column(Integer)  # the N asked for (the sample may hold a few more)
    strata: Mapped[list[str]] = mapped_column(JSON)  # the stratum keys, e.g. ["label", "confidence_bucket"]
    buckets: Mapped[list[float]] = mapped_column(JSON)  # confidence bucket edges
    populations: Mapped[dict[str, int]] = mapped_column(JSON)  # spans of the run per stratum (the weights)
    seed: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[SpotCheckItem]] = relationship(
        back_populates="check", cascade="all, delete-orphan", passive_deletes=True
    )


class SpotCheckItem(Base):
    """One sampled projected span; ``correct`` stays None until somebody judges it."""

    __tablename__ = "spot_check_item"
    __table_args__ = (
        UniqueConstraint("check_id", "pair_id", "span_index"),
        Index("ix_spot_check_item_check_stratum", "check_id", "stratum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("sentence_pair.id", ondelete="CASCADE"), index=True)
    span_index: Mapped[int] = mapped_column(Integer)  # the span's index in its projection row's spans
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    stratum: Mapped[str] = mapped_column(String(200))
    correct: Mapped[bool | None] = mapped_column(Boolean)
    judged_by: Mapped[str] = mapped_column(String(200), default="")
    judged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    check: Mapped[SpotCheck] = relationship(back_populates="items")


class TrainingRun(Base):
    __tablename__ = "training_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    config_hash: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | running | done | failed
    data_sizes: Mapped[dict] = mapped_column(JSON, default=dict)
    model_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    metrics: Mapped[list[RunMetric]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )
    experiment_runs: Mapped[list[ExperimentRun]] = relationship(
        back_populates="training_run", cascade="all, delete-orphan", passive_deletes=True
    )


class RunMetric(Base):
    __tablename__ = "run_metric"
    __table_args__ = (UniqueConstraint("run_id", "name", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_run.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))  # precision | recall | f1 | support ...
    label: Mapped[str] = mapped_column(String(64), default="")  # "" for overall
    value: Mapped[float] = mapped_column(Float)

    run: Mapped[TrainingRun] = relationship(back_populates="metrics")


class Experiment(Base):
    """A named sweep (``xner experiment CONFIG``): its configuration as last run; its runs are linked below."""

    __tablename__ = "experiment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    config: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    runs: Mapped[list[ExperimentRun]] = relationship(
        back_populates="experiment", cascade="all, delete-orphan", passive_deletes=True
    )


class ExperimentRun(Base):
    """One point of a sweep: the training run of (language, strategy, k, seed). A run cached by its configuration
    may belong to several experiments."""

    __tablename__ = "experiment_run"
    __table_args__ = (UniqueConstraint("experiment_id", "language", "strategy", "k", "seed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("training_run.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(200))
    k: Mapped[int] = mapped_column(Integer)  # gold sentences; -1 for all of them
    seed: Mapped[int] = mapped_column(Integer)

    experiment: Mapped[Experiment] = relationship(back_populates="runs")
    training_run: Mapped[TrainingRun] = relationship(back_populates="experiment_runs")


class DeletionLog(Base):
    """Append-only: one row per deleted corpus or run (who, what, when, what it removed), never updated or deleted
    by xner. No foreign keys: the row outlives what it records."""

    __tablename__ = "deletion_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_by: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # "corpus" | "alignment run" | "projection run"
    name: Mapped[str] = mapped_column(String(200))  # the corpus name, or the run id
    corpus: Mapped[str] = mapped_column(String(200))  # the corpus (of a run: the corpus it belonged to)
    detail: Mapped[str] = mapped_column(Text, default="")  # e.g. the run's aligner or method
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # what was removed (and what lost its link to a run)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)  # deleted although it was being reviewed
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # the review use a forced delete overrode
