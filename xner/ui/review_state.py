"""The review page's session state and its changes: the shown item with its drafts, history and lease, the
queue position, and the decisions, edits and navigation that buttons and the token editor trigger (callbacks,
which run before the page is drawn).

Decisions are button callbacks whose arguments are bound when the item is drawn (its sentence id and version), so a
decision always names the version the reviewer saw, and a change by somebody else in between is a conflict, never
an overwrite. Session keys start with ``review_``; the page (``pages/1_Review.py``) calls :func:`init_session`
first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import streamlit as st

from xner.errors import ConflictError, XnerError
from xner.services import review
from xner.services.review import ReviewItem
from xner.types import ReviewStatus, Span
from xner.ui import matrix as matrix_view
from xner.ui import review as view
from xner.ui.support import Store, get_store, guarded

ss = st.session_state  # a proxy: every access reads the running session's state


def _store() -> Store:
    """The page's store (cached per process and database URL)."""
    return get_store()


def init_session() -> None:
    """The page's session keys, set once per browser session (each with what it holds)."""
    defaults: dict[str, Any] = {
        "review_item": None,  # the shown ReviewItem
        "review_key": None,  # the queue (corpus + filters) it came from
        "review_history": [],  # its decisions
        "review_draft": (),  # the spans being corrected
        "review_draft_base": 0,  # the draft's revision: raised by every change not made in the token editor
        "review_links": (),  # the links being fixed
        "review_clicks": 0,  # cells clicked so far: a new chart per click, so the next click is a new selection
        "review_skipped": [],  # sentences skipped this session
        "review_after": None,  # browsing position ("next")
        "review_done": [],  # (sentence id, version) of this session's decisions: the undo stack
        "review_conflict": None,
        "review_message": "",
        "review_error": "",
        "review_remaining": None,  # (count, exact) of the queue when the item was loaded
        "review_lease": None,  # (sentence id, reviewer, time.monotonic() of the last claim) of the leased item
        "review_overview": None,  # the page run's QueueOverview, handed to the item area's run within it
        "review_pinned": None,  # the sentence opened out of queue order (by number or search), while it is shown
        "review_prefs_for": None,  # (reviewer, corpus) whose saved queue choices the sidebar was given
        "review_prefs_saved": None,  # the QueuePreferences last saved (or loaded) for them
    }
    for name, default in defaults.items():
        ss.setdefault(name, default)


# --- session changes (button callbacks run before the page is drawn) -------------------------------------------


def show(item: ReviewItem | None, *, keep_draft: bool = False) -> None:
    """Make ``item`` the shown item, with its history and fresh drafts (unless kept, on a reload)."""
    previous = ss.review_item
    ss.review_item = item
    ss.review_conflict = None
    if item is None:
        ss.review_history = []
        return
    ss.review_history = review.history(_store(), item.sentence_id)
    same = previous is not None and previous.sentence_id == item.sentence_id
    if not (keep_draft and same):
        independent = item.independent or ss.get("review_status") == view.SECOND_REVIEW
        ss.review_draft = view.shown_spans(item, second_review=independent)
    ss.review_draft_base += 1
    ss.review_links = item.manual_links or item.links
    ss[f"review_pharaoh_{item.sentence_id}"] = matrix_view.links_to_pharaoh(ss.review_links)


def forget_item() -> None:
    """Load the next item of the queue on the coming run (the shown item's lease is released)."""
    release_shown()
    ss.review_item = None
    ss.review_conflict = None
    ss.review_pinned = None


def must_claim(item: ReviewItem, claim_for: str | None) -> bool:
    """True when the shown unreviewed item is not leased to the reviewer (e.g. shown before they typed their name)
    and somebody else holds it: the page then moves on to an item of their own. Otherwise it leases it now."""
    if claim_for is None or item.state.status != ReviewStatus.UNREVIEWED:
        return False
    if ss.review_lease is not None and ss.review_lease[:2] == (item.sentence_id, claim_for):
        return False
    release_shown()
    if review.claim_item(_store(), item.sentence_id, claim_for):
        ss.review_lease = (item.sentence_id, claim_for, time.monotonic())
        return False
    forget_item()
    return True


def release_shown() -> None:
    """Let other reviewers have the item this session holds (skip, next, another queue)."""
    if ss.review_lease is not None:
        sentence_id, holder, _ = ss.review_lease
        ss.review_lease = None
        review.release_lease(_store(), sentence_id, holder)


def keep_lease(item: ReviewItem, reviewer: str, lease_seconds: int) -> None:
    """Renew the shown item's lease once a third of it has passed (one small write now and then, not per rerun)."""
    held = ss.review_lease
    if not reviewer or held is None or held[:2] != (item.sentence_id, reviewer):
        return
    if time.monotonic() - held[2] > lease_seconds / 3:
        review.renew_lease(_store(), item.sentence_id, reviewer)
        ss.review_lease = (item.sentence_id, reviewer, time.monotonic())


@guarded
def decide(action: str, sentence_id: int, version: int, reviewer: str, spans: tuple[Span, ...] | None) -> None:
    try:
        state = review.record_decision(
            _store(), sentence_id, reviewer=reviewer, action=action, expected_version=version, spans=spans
        )
    except ConflictError as error:
        ss.review_conflict = {"sentence_id": sentence_id, "error": error, "action": action}
        return
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_lease = None  # the decision released it
    ss.review_done.append((sentence_id, state.version))
    if state.updated_by != reviewer:  # another reviewer had decided it: recorded as a vote beside theirs
        ss.review_message = (
            f"Sentence {sentence_id} was already decided by {state.updated_by} ({state.status}): your {action} is "
            "recorded beside it as a vote; the Agreement page lists the item for adjudication if the two differ."
        )
    else:
        ss.review_message = f"Sentence {sentence_id}: {action} recorded ({state.status}, version {state.version})."
    ss.review_after = sentence_id  # go on from here: in a queue of reviewed items the item stays in it
    forget_item()


@guarded
def undo_last(reviewer: str) -> None:
    sentence_id, version = ss.review_done.pop()
    try:
        state = review.undo(_store(), sentence_id, reviewer=reviewer, expected_version=version)
    except ConflictError as error:
        ss.review_conflict = {"sentence_id": sentence_id, "error": error, "action": "undo"}
        return
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = f"Sentence {sentence_id}: your decision is undone; it is {state.status} again."
    ss.review_remaining = None  # the restored item is shown out of queue order
    show(review.get_item(_store(), sentence_id))


@guarded
def skip(sentence_id: int) -> None:
    ss.review_skipped.append(sentence_id)  # forget_item releases its lease
    ss.review_message = f"Sentence {sentence_id} skipped for this session."
    forget_item()


@guarded
def browse_next(sentence_id: int) -> None:
    ss.review_after = sentence_id
    forget_item()


@guarded
def reload(sentence_id: int) -> None:
    show(review.get_item(_store(), sentence_id), keep_draft=True)


@guarded
def open_sentence(sentence_id: int, reviewer: str) -> None:
    """Show sentence ``sentence_id`` out of queue order, reserved for the reviewer when it is unreviewed and free
    (when others hold it, it is shown without decisions: see :func:`held_notice`)."""
    release_shown()
    try:
        item = review.open_item(_store(), sentence_id, reviewer=reviewer)
    except XnerError as error:
        ss.review_error = str(error)
        return
    if item.leased:
        ss.review_lease = (sentence_id, reviewer.strip(), time.monotonic())
    ss.review_remaining = None  # out of queue order
    show(item)
    ss.review_pinned = sentence_id


@guarded
def go_to(corpus: str, reviewer: str) -> None:
    """The "Go to sentence" box: a number or a split and position (emptied once opened, for the next one)."""
    try:
        sentence_id = review.find_sentence(_store(), corpus, ss.review_goto)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_goto = ""
    open_sentence(sentence_id, reviewer)


@guarded
def queue_run(corpus: str, run_id: int, reviewer: str, allow_empty: bool = False) -> None:
    try:
        report = review.queue_projection(_store(), corpus, run_id, created_by=reviewer, allow_empty=allow_empty)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = (
        f"Projection run {report.run_id} ({report.method}) queued: {report.queued} new items, "
        f"{report.updated} re-suggested, {report.kept} reviewed ones kept."
    )
    forget_item()


@guarded
def edit_draft(change: str, span: Span | None = None, key: str = "", sentence_id: int = 0) -> None:
    """Add, delete or relabel a span of the correction being drafted."""
    try:
        if change == "delete" and span is not None:
            ss.review_draft = view.delete_span(ss.review_draft, span)
        elif change == "relabel" and span is not None:
            ss.review_draft = view.relabel_span(ss.review_draft, span, ss[key])
        elif change == "add":
            new = view.selection_to_span(
                ss[f"review_first_{sentence_id}"], ss[f"review_last_{sentence_id}"], ss[f"review_label_{sentence_id}"]
            )
            ss.review_draft = view.add_span(ss.review_draft, new)
    except XnerError as error:
        ss.review_error = str(error)
    ss.review_draft_base += 1  # the token editor redraws from the draft


@guarded
def reset_draft(spans: tuple[Span, ...]) -> None:
    ss.review_draft = spans
    ss.review_draft_base += 1


def editor_change(key: str, sent: str, n_tokens: int, labels: tuple[str, ...]) -> view.EditorChange | None:
    """What the token editor ``key`` sent as ``sent`` (its ``draft`` or ``save``), checked. A bad one raises
    :class:`XnerError`, and the editor is redrawn from the draft."""
    try:
        return view.editor_to_change((ss.get(key) or {}).get(sent), n_tokens=n_tokens, labels=labels)
    except XnerError:
        ss.review_draft_base += 1
        raise


@guarded
def editor_edited(key: str, n_tokens: int, labels: tuple[str, ...]) -> None:
    try:
        change = editor_change(key, "draft", n_tokens, labels)
    except XnerError as error:
        ss.review_error = f"Correction not changed: {error}"
        return
    ss.review_draft = view.editor_draft(change, ss.review_draft, ss.review_draft_base)


@guarded
def editor_saved(key: str, item: ReviewItem, reviewer: str, spans: tuple[Span, ...], labels: tuple[str, ...]) -> None:
    """Ctrl+Enter in the token editor: save the draft it sent with the key (its last edit may not have been applied
    yet), as the "Save correction" button does."""
    try:
        change = editor_change(key, "save", len(item.tgt_tokens), labels)
    except XnerError as error:
        ss.review_error = f"Correction not saved: {error}"
        return
    ss.review_draft = view.editor_draft(change, ss.review_draft, ss.review_draft_base)
    if not reviewer:
        ss.review_error = "Enter your name in the sidebar to save a correction."
    elif ss.review_draft == spans:
        ss.review_error = "Nothing to save: the entities are as shown (press A to accept them)."
    else:
        decide("correct", item.sentence_id, item.state.version, reviewer, ss.review_draft)


@guarded
def cells_clicked(chart_key: str, text_key: str) -> None:
    cells = matrix_view.selected_cells(ss.get(chart_key))
    ss.review_links = matrix_view.toggle_links(ss.review_links, cells)
    ss[text_key] = matrix_view.links_to_pharaoh(ss.review_links)
    ss.review_clicks += 1


@guarded
def links_typed(text_key: str, n_src: int, n_tgt: int) -> None:
    try:
        ss.review_links = matrix_view.pharaoh_to_links(ss[text_key], n_src=n_src, n_tgt=n_tgt)
    except XnerError as error:
        ss.review_error = f"Alignment not changed: {error}"


@guarded
def save_links(pair_id: int, sentence_id: int, reviewer: str) -> None:
    try:
        run_id = review.fix_alignment(_store(), pair_id, ss.review_links, reviewer=reviewer)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = (
        f"Alignment of sentence {sentence_id} saved ({len(ss.review_links)} links) in the corpus's manual "
        f"alignment run {run_id}; project with --alignment-run {run_id} to use it."
    )
    show(review.get_item(_store(), sentence_id), keep_draft=True)


def restore_preferences(corpus: str, reviewer: str, labels: Sequence[str]) -> None:
    """Before the queue widgets are drawn: the reviewer's saved queue choices for the corpus, once per reviewer and
    corpus in a session (the widgets keep them afterwards)."""
    if not reviewer or ss.review_prefs_for == (reviewer, corpus):
        return
    ss.review_prefs_for = (reviewer, corpus)
    ss.review_prefs_saved = review.queue_preferences(_store(), corpus, reviewer)
    if ss.review_prefs_saved is not None:
        for name, value in view.preferences_to_choices(ss.review_prefs_saved, labels).items():
            ss[f"review_{name}"] = value


def remember_preferences(corpus: str, reviewer: str, filters: view.QueueFilters) -> None:
    """Save the queue choices when the reviewer changed them (one small write per change, none per rerun)."""
    if not reviewer or ss.review_prefs_for != (reviewer, corpus):
        return
    wanted = view.filters_to_preferences(filters)
    if wanted == (ss.review_prefs_saved or review.QueuePreferences()):
        return
    review.save_queue_preferences(_store(), corpus, reviewer, wanted)
    ss.review_prefs_saved = wanted


@guarded
def save_settings(corpus: str, reviewer: str, overlap: int, lease_seconds: int) -> None:
    try:
        saved = review.set_queue_settings(_store(), corpus, by=reviewer, overlap=overlap, lease_seconds=lease_seconds)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = (
        f"Queue of {corpus}: {saved.overlap} reviewer(s) per item, items reserved for {saved.lease_seconds // 60} min."
    )
    forget_item()


def load_item(
    corpus: str, filters: view.QueueFilters, reviewer: str, counts: dict[str, int] | None = None
) -> ReviewItem | None:
    """The shown item; after a decision (or a new queue) the first one of the queue: one service call at most.
    In the queue of unreviewed items a named reviewer's item is leased to them, so nobody else is served it.
    ``counts``: the corpus's states per status, just counted by this page run (``QueueOverview.status_counts``)."""
    key = (corpus, filters)
    if ss.review_key != key:
        ss.review_key, ss.review_after = key, None
        forget_item()
    shown = ss.review_item
    if shown is not None and shown.sentence_id == ss.review_pinned:
        return keep_pinned(shown, reviewer)
    claim_for = reviewer if reviewer and filters.status == view.UNREVIEWED else None
    if shown is not None and not must_claim(shown, claim_for):
        return shown
    args = filters.next_item_args()
    skipped = list(ss.review_skipped)
    item = review.next_item(
        _store(), corpus, **args, skip=skipped, after=ss.review_after, claim_for=claim_for, counts=counts
    )
    if item is None and ss.review_after is not None:  # browsed past the end: start again from the top
        ss.review_after = None
        item = review.next_item(_store(), corpus, **args, skip=skipped, claim_for=claim_for, counts=counts)
    ss.review_remaining = (item.remaining, item.remaining_exact) if item else (0, True)
    if item is not None and item.leased and claim_for:
        ss.review_lease = (item.sentence_id, claim_for, time.monotonic())
    show(item)
    return item


def keep_pinned(item: ReviewItem, reviewer: str) -> ReviewItem:
    """The item opened out of queue order, stays shown; an unreviewed one not reserved for the reviewer (others held
    it, or no name was typed then) is reserved now if it has room, else shown with who holds it."""
    if not reviewer or item.state.status != ReviewStatus.UNREVIEWED:
        return item
    if ss.review_lease is not None and ss.review_lease[:2] == (item.sentence_id, reviewer):
        return item
    opened = review.open_item(_store(), item.sentence_id, reviewer=reviewer)
    if opened.leased:
        ss.review_lease = (item.sentence_id, reviewer, time.monotonic())
    ss.review_item = opened
    return opened
