"""Decisions on review items: accept, reject, correct, adjudicate and undo, each one conditional UPDATE of the state
(optimistic concurrency) and one append-only event, in one transaction.

Whose decision becomes the item's state: the first reviewer's. A later decision by another reviewer — a second or
N-th review in a queue with overlap, or a reviewer who loaded the item before somebody else decided it — is recorded
as a *vote* beside the state (``applied`` False): it never replaces the first decision, it counts in the agreement
statistics, and where it differs the item goes to adjudication (:func:`adjudicate` sets the final state). A
reviewer may change their own decision while nobody else has voted on the item. A stale version is a
:class:`ConflictError` only when the item changed in a way the reviewer's decision cannot stand beside: a new
projection suggestion, or their own decision in another tab.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from xner.errors import ConflictError, UnknownNameError, XnerError
from xner.services.review.counts import note_decision
from xner.services.review.leases import release_in
from xner.services.review.records import (
    ACTIONS,
    VOTES,
    EventView,
    StateView,
    check_reviewer,
    current_state,
    labels_text,
    load_events,
    new_state_values,
    standing_events,
    target_sentence,
    voters,
)
from xner.store.db import Store, retry_busy
from xner.store.models import utcnow
from xner.store.queries.projections import suggested_labels
from xner.store.queries.review_states import insert_event, insert_missing_states, raise_review_revision, update_state
from xner.types import ReviewStatus, Span

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus
    from xner.store.queries.review_states import SentenceRow

RACE_RETRIES = 3  # a decision read again when a concurrent write lands between its read and its update


def record_decision(
    store: Store,
    sentence_id: int,
    *,
    reviewer: str,
    action: str,
    expected_version: int,
    spans: Iterable[Span | Mapping[str, Any]] | None = None,
    status: ReviewStatus | str | None = None,
    note: str = "",
) -> StateView:
    """Record ``reviewer``'s decision on target sentence ``sentence_id`` and return the new state.

    Args:
        action: ``accept`` (the spans are right: ``spans`` when given, else the current ones), ``correct``
            (``spans`` replace the current ones; adding or deleting an entity is a correction, ``[]`` removes
            all), ``reject`` (the sentence is unusable; spans kept), ``adjudicate`` (a final decision on a
            disagreement: ``status`` and optionally ``spans``) or ``skip`` (writes nothing and returns the
            current state; the page remembers the skip for its session).
        expected_version: the ``state.version`` the reviewer saw.
        spans: :class:`Span` objects or ``{"start", "end", "label"}`` mappings over the target tokens.
        status: the adjudicated status (only with ``adjudicate``).

    Raises:
        ConflictError: somebody changed the item since ``expected_version``; ``error.current`` is the state now
            and ``error.decision`` the decision that made it (nothing is written).
        XnerError: unknown sentence, action or status, or spans out of range, overlapping or with an unknown
            label.
    """
    action = _check_action(action)
    reviewer = check_reviewer(reviewer)
    _check_version(expected_version, sentence_id)
    spans = list(spans) if spans is not None else None  # a retry must see them again

    def record(last_try: bool = False) -> StateView:
        return retry_busy(
            lambda: _record(store, sentence_id, reviewer, action, expected_version, spans, status, note, last_try),
            what=f"saving your {action} of sentence {sentence_id}",
        )

    for _ in range(RACE_RETRIES):
        try:
            return record()
        except _RaceLostError:  # another write landed between our read and our update: decide again on it
            continue
    return record(last_try=True)


def _record(
    store: Store,
    sentence_id: int,
    reviewer: str,
    action: str,
    expected_version: int,
    spans: Iterable[Span | Mapping[str, Any]] | None,
    status: ReviewStatus | str | None,
    note: str,
    last_try: bool = False,
) -> StateView:
    """One attempt of :func:`record_decision`, in one transaction."""
    with store.transaction() as session:
        target, corpus = target_sentence(session, sentence_id)
        current = current_state(session, sentence_id)
        if action == "skip":
            release_in(session, sentence_id, reviewer)
            return current
        new_status, new_spans = _decide(session, target, corpus, current, action, spans, status)
        events = load_events(session, sentence_id=sentence_id)
        if current.version != expected_version and not _may_stand_beside(
            events, current, expected_version, reviewer, action, spans
        ):
            raise _conflict(session, sentence_id, expected_version)
        applied = _applies(action, current, events, reviewer)
        state = _write(
            session,
            corpus,
            current,
            new_status,
            new_spans,
            reviewer,
            action,
            current.version,
            note,
            applied=applied,
            votes=len(voters(events) | ({reviewer} if action in VOTES else set())),
            final=action == "adjudicate" or current.final,
            race_is_conflict=last_try,
        )
        release_in(session, sentence_id, reviewer)
        return state


def _applies(action: str, current: StateView, events: Sequence[EventView], reviewer: str) -> bool:
    """Whether the decision becomes the item's state: an adjudication, the first decision, or a change of mind of
    the reviewer whose decision is the state while nobody else voted; otherwise it is a vote beside the state."""
    if action == "adjudicate" or current.status == ReviewStatus.UNREVIEWED:
        return True
    return not current.final and current.updated_by == reviewer and voters(events) <= {reviewer}


def _may_stand_beside(
    events: Sequence[EventView],
    current: StateView,
    expected_version: int,
    reviewer: str,
    action: str,
    spans: Iterable[Span | Mapping[str, Any]] | None,
) -> bool:
    """A decision made on an older version is still recorded when everything since was other reviewers'
    decisions (each version after ``expected_version`` has its event, none of them this reviewer's): it then
    stands beside theirs as a vote. Not after a new suggestion was queued (a version without an event), nor
    after the reviewer's own decision elsewhere, nor an accept that does not say which spans it accepts."""
    if action not in VOTES or (action == "accept" and spans is None) or expected_version > current.version:
        return False
    later = [event for event in events if event.version > expected_version]
    return len(later) == current.version - expected_version and all(event.reviewer != reviewer for event in later)


def adjudicate(
    store: Store,
    sentence_id: int,
    *,
    reviewer: str,
    status: ReviewStatus | str,
    expected_version: int,
    spans: Iterable[Span | Mapping[str, Any]] | None = None,
    note: str = "",
) -> StateView:
    """The final decision on an item reviewers disagree on (:func:`record_decision` with ``adjudicate``)."""
    return record_decision(
        store,
        sentence_id,
        reviewer=reviewer,
        action="adjudicate",
        expected_version=expected_version,
        spans=spans,
        status=status,
        note=note,
    )


def undo(store: Store, sentence_id: int, *, reviewer: str, expected_version: int) -> StateView:
    """Revert ``reviewer``'s last (not yet undone) decision on the item, as a new ``undo`` event.

    The state goes back to what it was before that decision. History stays append-only: the undone event stays,
    and the undo event names it (``undoes``); undoing again reverts the reviewer's decision before that.

    Raises:
        ConflictError: the item changed since ``expected_version``, or somebody else decided it after the
            reviewer (undoing would discard their decision).
        XnerError: the reviewer has no decision on the item to undo.
    """
    reviewer = check_reviewer(reviewer)
    return store.write(
        lambda session: _undo(session, sentence_id, reviewer, expected_version),
        what=f"undoing your decision on sentence {sentence_id}",
    )


def _undo(session: Session, sentence_id: int, reviewer: str, expected_version: int) -> StateView:
    """One attempt of :func:`undo`, in the caller's transaction."""
    _, corpus = target_sentence(session, sentence_id)
    current = current_state(session, sentence_id)
    events = load_events(session, sentence_id=sentence_id)
    effective = standing_events(events)
    mine = [event for event in effective if event.reviewer == reviewer]
    if not mine:
        raise XnerError(f"sentence {sentence_id}: {reviewer!r} has no decision on it to undo")
    last = mine[-1]
    later = [event for event in effective if event.id > last.id]
    _check_version(expected_version, sentence_id)
    if later:
        other = later[-1]
        raise ConflictError(
            f"sentence {sentence_id}: {other.reviewer!r} decided it ({other.status_after}) after your "
            f"decision; undoing yours would discard theirs",
            current=current,
            decision=other,
        )
    status, spans = (last.status_before, last.spans_before) if last.applied else (current.status, current.spans)
    return _write(
        session,
        corpus,
        current,
        status,
        spans,
        reviewer,
        "undo",
        expected_version,
        f"undo of event {last.id}",
        undoes=last.id,
        applied=last.applied,
        votes=len(voters([event for event in events if event.id != last.id])),
        final=current.final and last.action != "adjudicate",
    )


def _check_version(expected_version: object, sentence_id: int) -> None:
    if not isinstance(expected_version, int) or isinstance(expected_version, bool) or expected_version < 0:
        raise XnerError(f"sentence {sentence_id}: expected_version must be a version number, got {expected_version!r}")


class _RaceLostError(Exception):
    """The conditional update found a newer version than the one just read: a concurrent write landed between."""


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise UnknownNameError("review action", action, ACTIONS)
    return action


def _decide(
    session: Session,
    target: SentenceRow,
    corpus: Corpus,
    current: StateView,
    action: str,
    spans: Iterable[Span | Mapping[str, Any]] | None,
    status: ReviewStatus | str | None,
) -> tuple[ReviewStatus, tuple[Span, ...]]:
    if action == "correct" and spans is None:
        raise XnerError(
            f"sentence {target.id}: a correction needs the corrected spans (an empty list removes every entity)"
        )
    if action == "reject" and spans is not None:
        raise XnerError(f"sentence {target.id}: a rejection keeps the spans; correct the item to change them")
    if action != "adjudicate" and status is not None:
        raise XnerError(f"sentence {target.id}: only an adjudication sets the status directly, not {action!r}")
    new_spans = current.spans
    if spans is not None:
        new_spans = check_spans(
            spans, n_tokens=len(target.tokens), labels=_known_labels(session, corpus, target.id), where=target.id
        )
    if action == "adjudicate":
        if status is None:
            raise XnerError(f"sentence {target.id}: an adjudication needs the final status")
        decided = ReviewStatus.parse(str(status))
        if decided == ReviewStatus.UNREVIEWED:
            raise XnerError(f"sentence {target.id}: an adjudication decides accepted, corrected or rejected")
        return decided, new_spans
    return {"accept": ReviewStatus.ACCEPTED, "correct": ReviewStatus.CORRECTED}.get(
        action, ReviewStatus.REJECTED
    ), new_spans


def _known_labels(session: Session, corpus: Corpus, sentence_id: int) -> frozenset[str]:
    """The corpus's labels and those the projections of this sentence's pair use."""
    return frozenset(set(corpus.labels) | suggested_labels(session, sentence_id))


def check_spans(
    spans: Iterable[Span | Mapping[str, Any]], *, n_tokens: int, labels: Collection[str], where: object
) -> tuple[Span, ...]:
    """``spans`` as sorted :class:`Span` objects, checked: inside the sentence, not overlapping, known labels
    (any label when ``labels`` is empty). ``where`` names the sentence in messages.

    >>> check_spans([{"start": 2, "end": 3, "label": "LOC"}], n_tokens=3, labels={"LOC"}, where=7)
    (Span(start=2, end=3, label='LOC'),)
    >>> check_spans([Span(1, 4, "LOC")], n_tokens=3, labels={"LOC"}, where=7)
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: sentence 7: span [1, 4) 'LOC' is beyond the sentence's 3 tokens
    """
    result = []
    for item in spans:
        try:
            span = item if isinstance(item, Span) else Span(int(item["start"]), int(item["end"]), str(item["label"]))
        except (KeyError, TypeError, ValueError) as error:
            raise XnerError(
                f"sentence {where}: a span needs integer start and end and a label, got {item!r}"
            ) from error
        except XnerError as error:
            raise XnerError(f"sentence {where}: {error}") from None
        if span.end > n_tokens:
            raise XnerError(
                f"sentence {where}: span [{span.start}, {span.end}) {span.label!r} is beyond the sentence's "
                f"{n_tokens} tokens"
            )
        if not span.label or span.label != span.label.strip() or " " in span.label:
            raise XnerError(f"sentence {where}: invalid label {span.label!r}: a label is one word")
        if labels and span.label not in labels:
            known = ", ".join(sorted(labels))
            raise XnerError(f"sentence {where}: unknown label {span.label!r}; known: {known}")
        result.append(span)
    ordered = sorted(result)
    for first, second in pairwise(ordered):
        if first.overlaps(second):
            raise XnerError(
                f"sentence {where}: spans [{first.start}, {first.end}) {first.label!r} and "
                f"[{second.start}, {second.end}) {second.label!r} overlap"
            )
    return tuple(ordered)


def _write(
    session: Session,
    corpus: Corpus,
    current: StateView,
    status: ReviewStatus,
    spans: tuple[Span, ...],
    reviewer: str,
    action: str,
    expected_version: int,
    note: str,
    *,
    applied: bool,
    votes: int,
    final: bool,
    undoes: int | None = None,
    race_is_conflict: bool = True,
) -> StateView:
    """One conditional UPDATE of the state (only at ``expected_version``) and its event, in the caller's
    transaction; a stale version raises :class:`ConflictError` and writes nothing. Not ``applied``: the event
    records ``status``/``spans`` as a vote, and the state keeps its own (only its version, votes and final flag
    change)."""
    sentence_id = current.sentence_id
    _check_version(expected_version, sentence_id)
    if current.version != expected_version:
        raise _conflict(session, sentence_id, expected_version)
    created = current.version == 0 and current.updated_at is None  # never written: no state row yet
    if created:  # create the default row first
        default = {
            "b_id": sentence_id,
            "b_spans": current.spans,
            "b_labels": labels_text(current.spans),
            "b_confidence": current.confidence,
            "b_disagreement": 0.0,
            "b_run": None,
            "b_by": "",
            "b_at": utcnow(),
        }
        insert_missing_states(session, [new_state_values(corpus.id, default)])
    now = utcnow()
    version = expected_version + 1
    values: dict[str, Any] = {"version": version, "votes": votes, "final": final}
    if applied:
        values |= {
            "status": status.value,
            "spans": spans,
            "labels": labels_text(spans),
            "updated_by": reviewer,
            "updated_at": now,
        }
    if not update_state(session, sentence_id, expected_version, values):
        if not race_is_conflict:
            raise _RaceLostError
        raise _conflict(session, sentence_id, expected_version)
    insert_event(
        session,
        {
            "sentence_id": sentence_id,
            "corpus_id": corpus.id,
            "reviewer": reviewer,
            "action": action,
            "status_before": current.status.value,
            "status_after": status.value,
            "spans_before": current.spans,
            "spans_after": spans,
            "version": version,
            "created_at": now,
            "note": note,
            "undoes": undoes,
            "applied": applied,
        },
    )
    if not applied:
        return replace(current, version=version, votes=votes, final=final)
    revision = raise_review_revision(session, corpus.id)  # last: the status counts changed (see review_states)
    note_decision(session, corpus, revision, None if created else current.status.value, status.value)
    return replace(
        current,
        status=status,
        spans=spans,
        version=version,
        updated_by=reviewer,
        updated_at=now,
        votes=votes,
        final=final,
    )


def _conflict(session: Session, sentence_id: int, expected_version: int) -> ConflictError:
    current = current_state(session, sentence_id)
    events = load_events(session, sentence_id=sentence_id, newest_first=True, limit=1)
    decision = events[0] if events and events[0].version == current.version else None
    if decision is not None:
        by = f"{decision.reviewer!r} ({decision.action}: {decision.status_after}, {len(decision.spans_after)} spans)"
        when = f" at {decision.at:%Y-%m-%d %H:%M:%S}"
    else:
        by = "a new projection queue" + (f" by {current.updated_by!r}" if current.updated_by else "")
        when = ""
    return ConflictError(
        f"sentence {sentence_id} was changed by {by}{when} after you loaded version {expected_version} "
        f"(now version {current.version}): reload it and decide again",
        current=current,
        decision=decision,
    )
