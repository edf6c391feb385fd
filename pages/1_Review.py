"""Review projected entities, one target sentence at a time: its source with the entities, the spans each
projection method proposes, the alignment matrix; accept, reject, skip, undo or correct, from the keyboard.
Spans are corrected on the sentence itself (the token editor, ``xner/ui/token_editor``: click, shift-click or drag,
a label's key, Backspace, Ctrl+Enter) or with the menus below it.

The queue, decisions, concurrency and history live in ``xner.services.review``; filters, span edits and the matrix
figure in ``xner.ui.review``. This page renders them and collects input. Decisions are button callbacks whose
arguments are bound when the item is drawn (its sentence id and version), so a decision always names the version
the reviewer saw, and a change by somebody else in between is a conflict, never an overwrite. The shown item is
kept in the session until a decision, skip, next, undo or reload: a rerun (e.g. editing a span) reads no item.
An item opened out of queue order (*Go to a sentence*, a search hit) stays shown the same way (``review_pinned``),
reserved for the reviewer when it is free and read-only while somebody else holds it. The queue choices are saved
per reviewer and corpus, and given back to the sidebar's widgets in the next session.
Session keys start with ``review_``.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import streamlit as st

from xner.errors import ConflictError, XnerError
from xner.services import review
from xner.services.corpora import list_corpus_info
from xner.services.review import QueueOverview, ReviewItem
from xner.types import ReviewStatus, Span
from xner.ui import review as view
from xner.ui.render import STYLE, bold, literal, show_html, tokens_html
from xner.ui.support import get_store, guarded, page_guard, reviewer_sidebar
from xner.ui.token_editor import token_editor

with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Review · xner", page_icon="🔤", layout="wide")
    store = get_store()
    show_html(STYLE)
ss = st.session_state
for name, default in {
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
}.items():
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
    ss.review_history = review.history(store, item.sentence_id)
    same = previous is not None and previous.sentence_id == item.sentence_id
    if not (keep_draft and same):
        independent = item.independent or ss.get("review_status") == view.SECOND_REVIEW
        ss.review_draft = view.shown_spans(item, second_review=independent)
    ss.review_draft_base += 1
    ss.review_links = item.manual_links or item.links
    ss[f"review_pharaoh_{item.sentence_id}"] = view.links_to_pharaoh(ss.review_links)


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
    if review.claim_item(store, item.sentence_id, claim_for):
        ss.review_lease = (item.sentence_id, claim_for, time.monotonic())
        return False
    forget_item()
    return True


def release_shown() -> None:
    """Let other reviewers have the item this session holds (skip, next, another queue)."""
    if ss.review_lease is not None:
        sentence_id, holder, _ = ss.review_lease
        ss.review_lease = None
        review.release_lease(store, sentence_id, holder)


def keep_lease(item: ReviewItem, reviewer: str, lease_seconds: int) -> None:
    """Renew the shown item's lease once a third of it has passed (one small write now and then, not per rerun)."""
    held = ss.review_lease
    if not reviewer or held is None or held[:2] != (item.sentence_id, reviewer):
        return
    if time.monotonic() - held[2] > lease_seconds / 3:
        review.renew_lease(store, item.sentence_id, reviewer)
        ss.review_lease = (item.sentence_id, reviewer, time.monotonic())


@guarded
def decide(action: str, sentence_id: int, version: int, reviewer: str, spans: tuple[Span, ...] | None) -> None:
    try:
        state = review.record_decision(
            store, sentence_id, reviewer=reviewer, action=action, expected_version=version, spans=spans
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
        state = review.undo(store, sentence_id, reviewer=reviewer, expected_version=version)
    except ConflictError as error:
        ss.review_conflict = {"sentence_id": sentence_id, "error": error, "action": "undo"}
        return
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = f"Sentence {sentence_id}: your decision is undone; it is {state.status} again."
    ss.review_remaining = None  # the restored item is shown out of queue order
    show(review.get_item(store, sentence_id))


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
    show(review.get_item(store, sentence_id), keep_draft=True)


@guarded
def open_sentence(sentence_id: int, reviewer: str) -> None:
    """Show sentence ``sentence_id`` out of queue order, reserved for the reviewer when it is unreviewed and free
    (when others hold it, it is shown without decisions: see :func:`held_notice`)."""
    release_shown()
    try:
        item = review.open_item(store, sentence_id, reviewer=reviewer)
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
        sentence_id = review.find_sentence(store, corpus, ss.review_goto)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_goto = ""
    open_sentence(sentence_id, reviewer)


@guarded
def queue_run(corpus: str, run_id: int, reviewer: str, allow_empty: bool = False) -> None:
    try:
        report = review.queue_projection(store, corpus, run_id, created_by=reviewer, allow_empty=allow_empty)
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
    cells = view.selected_cells(ss.get(chart_key))
    ss.review_links = view.toggle_links(ss.review_links, cells)
    ss[text_key] = view.links_to_pharaoh(ss.review_links)
    ss.review_clicks += 1


@guarded
def links_typed(text_key: str, n_src: int, n_tgt: int) -> None:
    try:
        ss.review_links = view.pharaoh_to_links(ss[text_key], n_src=n_src, n_tgt=n_tgt)
    except XnerError as error:
        ss.review_error = f"Alignment not changed: {error}"


@guarded
def save_links(pair_id: int, sentence_id: int, reviewer: str) -> None:
    try:
        run_id = review.fix_alignment(store, pair_id, ss.review_links, reviewer=reviewer)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = (
        f"Alignment of sentence {sentence_id} saved ({len(ss.review_links)} links) in the corpus's manual "
        f"alignment run {run_id}; project with --alignment-run {run_id} to use it."
    )
    show(review.get_item(store, sentence_id), keep_draft=True)


# --- the sidebar: who, which corpus, which queue --------------------------------------------------------------


def sidebar_filters(corpus: str, overview: QueueOverview, reviewer: str) -> view.QueueFilters:
    restore_preferences(corpus, reviewer, overview.labels)
    bar = st.sidebar
    order = bar.radio("Queue order", list(view.ORDER_CHOICES), key="review_order")
    status = bar.selectbox("Items", view.STATUS_CHOICES, key="review_status")
    labels = bar.multiselect("Labels (any of)", overview.labels, key="review_labels")
    confidence = bar.slider("Confidence", 0.0, 1.0, (0.0, 1.0), step=0.05, key="review_confidence")
    decided_by = bar.text_input("Decided by (a reviewer's items)", key="review_decided_by", max_chars=200)
    filters = view.QueueFilters(
        status, view.ORDER_CHOICES[order], tuple(labels), tuple(confidence), decided_by.strip(), reviewer
    )
    remember_preferences(corpus, reviewer, filters)
    return filters


def restore_preferences(corpus: str, reviewer: str, labels: list[str]) -> None:
    """Before the queue widgets are drawn: the reviewer's saved queue choices for the corpus, once per reviewer and
    corpus in a session (the widgets keep them afterwards)."""
    if not reviewer or ss.review_prefs_for == (reviewer, corpus):
        return
    ss.review_prefs_for = (reviewer, corpus)
    ss.review_prefs_saved = review.queue_preferences(store, corpus, reviewer)
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
    review.save_queue_preferences(store, corpus, reviewer, wanted)
    ss.review_prefs_saved = wanted


def queue_progress(overview: QueueOverview, filters: view.QueueFilters) -> None:
    """The corpus's progress and what is left in this queue, above the item: counted afresh on every run of the item
    area, so a decision shows at once."""
    share = overview.reviewed / overview.total if overview.total else 0.0
    left = ""
    if filters.is_default:
        left = f" · this queue: {overview.queued:,} items left"
    elif ss.review_remaining is not None:
        count, exact = ss.review_remaining
        left = f" · this queue: {count:,}{'' if exact else '+'} items left"
    st.progress(min(share, 1.0), text=f"{overview.reviewed:,} of {overview.total:,} sentences reviewed{left}")
    counts, clear = st.columns([5, 1], vertical_alignment="center")
    counts.caption(" · ".join(f"{literal(status)} {count:,}" for status, count in overview.progress.items()))
    if ss.review_skipped:
        clear.button(
            f"Clear {len(ss.review_skipped)} skipped", key="review_clear_skipped", on_click=ss.review_skipped.clear
        )


def sidebar_keys() -> None:
    st.sidebar.caption("Keys: " + " · ".join(f"{literal(key)} {literal(action)}" for key, action in _key_hints()))


def _key_hints() -> list[tuple[str, str]]:
    return [(row["key"], row["action"]) for row in view.shortcut_rows()]


def sidebar_runs(corpus: str, overview: QueueOverview, reviewer: str) -> None:
    with st.sidebar.expander("Projection runs"):
        for run in overview.runs:
            queued = " (queued)" if run.id == overview.queued_run else ""
            st.caption(literal(view.run_label(run)) + queued)
        names = {run.id: view.run_label(run) for run in overview.runs}
        run_id = st.selectbox(
            "Queue another run",
            list(names),
            index=len(overview.runs) - 1,
            format_func=names.get,
            key="review_requeue_run",
        )
        empty, confirmed = empty_run_confirmation(corpus, run_id, "review_requeue_empty")
        st.button(
            f"Queue run {run_id} (reviewed items keep their decisions)",
            key="review_requeue",
            on_click=queue_run,
            args=(corpus, run_id, reviewer, empty),
            disabled=not confirmed,
        )


def empty_run_confirmation(corpus: str, run_id: int, key: str) -> tuple[bool, bool]:
    """Whether projection run ``run_id`` has no entities and, if so, whether queueing it anyway is confirmed (a
    warning that says why it is empty and a checkbox); (False, True) for a run with entities."""
    reason = review.empty_run_reason(store, corpus, run_id)
    if reason is None:
        return False, True
    st.warning(literal(f"Projection run {run_id} has no entities: {reason}. Its items would suggest nothing."))
    return True, st.checkbox("Queue it anyway (reviewers mark every entity by hand)", key=f"{key}_{run_id}")


def sidebar_queue_settings(corpus: str, reviewer: str) -> review.QueueSettings:
    settings = review.queue_settings(store, corpus)
    with st.sidebar.expander(f"Queue settings (overlap {settings.overlap:d})"):
        st.caption(
            "Overlap: how many different reviewers decide each item (for agreement). Each item shown to a "
            "reviewer is reserved for them until they decide, skip or leave it, or the reservation expires."
        )
        overlap = st.number_input(
            "Reviewers per item", 1, review.leases.MAX_OVERLAP, settings.overlap, key="review_overlap"
        )
        minutes = st.number_input(
            "Reservation (minutes)", 1, 240, max(1, settings.lease_seconds // 60), key="review_lease_minutes"
        )
        st.button(
            "Save queue settings",
            key="review_save_settings",
            on_click=save_settings,
            args=(corpus, reviewer, int(overlap), int(minutes) * 60),
            disabled=not reviewer,
        )
    return settings


@guarded
def save_settings(corpus: str, reviewer: str, overlap: int, lease_seconds: int) -> None:
    try:
        saved = review.set_queue_settings(store, corpus, by=reviewer, overlap=overlap, lease_seconds=lease_seconds)
    except XnerError as error:
        ss.review_error = str(error)
        return
    ss.review_message = (
        f"Queue of {corpus}: {saved.overlap} reviewer(s) per item, items reserved for {saved.lease_seconds // 60} min."
    )
    forget_item()


# --- the item ------------------------------------------------------------------------------------------------


def load_item(corpus: str, filters: view.QueueFilters, reviewer: str) -> ReviewItem | None:
    """The shown item; after a decision (or a new queue) the first one of the queue: one service call at most.
    In the queue of unreviewed items a named reviewer's item is leased to them, so nobody else is served it."""
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
    item = review.next_item(store, corpus, **args, skip=skipped, after=ss.review_after, claim_for=claim_for)
    if item is None and ss.review_after is not None:  # browsed past the end: start again from the top
        ss.review_after = None
        item = review.next_item(store, corpus, **args, skip=skipped, claim_for=claim_for)
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
    opened = review.open_item(store, item.sentence_id, reviewer=reviewer)
    if opened.leased:
        ss.review_lease = (item.sentence_id, reviewer, time.monotonic())
    ss.review_item = opened
    return opened


def navigation(corpus: str, reviewer: str) -> None:
    """Go to a sentence by its number or split and position, or find one by a word on either side."""
    # Drawn only while open (on_change="rerun" tracks the state): a search costs nothing until asked for.
    nav = st.expander("Go to a sentence · search tokens", key="review_nav_open", on_change="rerun")
    if not nav.open:
        return
    with nav:
        goto, find, side = st.columns([2, 3, 2], vertical_alignment="bottom")
        goto.text_input(
            "Go to sentence",
            key="review_goto",
            placeholder="1234 or train 12",
            help="The number shown as 'Sentence N', or a split and position (e.g. train 12); Enter opens it.",
            on_change=go_to,
            args=(corpus, reviewer),
            max_chars=100,
        )
        query = find.text_input(
            "Search tokens", key="review_search", placeholder="part of a word, any case", max_chars=review.MAX_QUERY
        )
        sides = side.segmented_control(
            "Side", list(review.SIDES), selection_mode="multi", default=list(review.SIDES), key="review_search_sides"
        )
        if query.strip():
            search_results(corpus, reviewer, query, tuple(sides or review.SIDES))


def search_results(corpus: str, reviewer: str, query: str, sides: tuple[str, ...]) -> None:
    try:
        hits = review.search_tokens(store, corpus, query, sides=sides)
    except XnerError as error:
        st.error(literal(str(error)))
        return
    if not hits:
        st.caption("No token contains it.")
        return
    more = "the first " if len(hits) == review.SEARCH_LIMIT else ""
    st.caption(f"{more}{len(hits)} match(es), in corpus order:")
    for number, hit in enumerate(hits):
        tokens, index, cut_before, cut_after = view.hit_snippet(hit)
        open_button, where, text = st.columns([2, 2, 8], vertical_alignment="center")
        open_button.button(
            f"Sentence {hit.sentence_id:d}",
            key=f"review_hit_{number}",
            on_click=open_sentence,
            args=(hit.sentence_id, reviewer),
            width="stretch",
        )
        where.caption(f"{literal(hit.split)} #{hit.position:d} · {literal(hit.side)}")
        show_html(
            "… " if cut_before else "", tokens_html(tokens, (), marked=(index,)), " …" if cut_after else "", where=text
        )


def held_notice(item: ReviewItem) -> bool:
    """True (decisions off) when the item was opened out of queue order while other reviewers hold it."""
    if not item.held_by:
        return False
    st.warning(
        f"Sentence {item.sentence_id} is reserved for {literal(', '.join(item.held_by))}, who has it open: shown "
        "here read-only. Reload it to decide once their reservation ends."
    )
    return True


def item_header(item: ReviewItem) -> None:
    suggestion = item.suggestion
    parts = [
        literal(item.corpus),
        f"{literal(item.split)} #{item.position}",
        f"status **{literal(item.state.status)}** (version {item.state.version})",
    ]
    if item.state.confidence is not None:
        parts.append(f"confidence **{item.state.confidence:.2f}**")
    if suggestion is not None:
        parts.append(f"method **{literal(suggestion.method)}** (run {suggestion.run_id})")
    if item.state.disagreement:
        parts.append(f"methods disagree **{item.state.disagreement:.2f}**")
    if item.state.updated_by and item.state.status != "unreviewed":
        parts.append(f"last decided by {literal(item.state.updated_by)}")
    st.subheader(f"Sentence {item.sentence_id}")
    st.caption(" · ".join(parts))


def sentences(item: ReviewItem, spans: tuple[Span, ...]) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Source** ({literal(item.src_lang)})")
        show_html(tokens_html(item.src_tokens, item.src_spans))
    with right:
        st.markdown(f"**Target** ({literal(item.tgt_lang or '')})")
        show_html(tokens_html(item.tgt_tokens, spans))
    labels = {s.label for s in (*item.src_spans, *spans)}
    if labels:
        show_html(view.label_legend_html(labels))
    if item.tgt_gold and set(item.tgt_gold) != set(spans):
        with st.expander("Target entities in the imported corpus (gold)"):
            show_html(tokens_html(item.tgt_tokens, item.tgt_gold))


def methods(item: ReviewItem) -> None:
    views = view.compare_methods(item.suggestions)
    if len(views) < 2:
        return
    disagree = view.methods_disagree(views)
    title = "Projection methods: they disagree" if disagree else "Projection methods: they agree"
    with st.expander(title, expanded=disagree):
        for method in views:
            flags = [f"confidence {method.confidence:.2f}"]
            if method.queued:
                flags.append("queued")
            if method.disputed:
                flags.append(f"⚠ {len(method.disputed)} disputed")
            over = f" over alignment run {method.alignment_run_id}" if method.alignment_run_id is not None else ""
            st.markdown(f"**{literal(method.method)}** run {method.run_id}{over} · {' · '.join(flags)}")
            show_html(tokens_html(item.tgt_tokens, method.spans, marked=method.disputed_tokens))
        st.caption("Underlined: tokens of spans that not every method proposes.")


def actions(item: ReviewItem, reviewer: str, spans: tuple[Span, ...], blocked: bool) -> None:
    sid, version = item.sentence_id, item.state.version
    locked = not reviewer or blocked
    columns = st.columns(6)
    columns[0].button(
        "Accept",
        key="review_accept",
        shortcut=view.KEYS["accept"],
        type="primary",
        on_click=decide,
        args=("accept", sid, version, reviewer, spans),
        disabled=locked,
        width="stretch",
    )
    columns[1].button(
        "Reject",
        key="review_reject",
        shortcut=view.KEYS["reject"],
        on_click=decide,
        args=("reject", sid, version, reviewer, None),
        disabled=locked,
        width="stretch",
    )
    columns[2].button(
        "Skip", key="review_skip", shortcut=view.KEYS["skip"], on_click=skip, args=(sid,), width="stretch"
    )
    columns[3].button(
        "Next", key="review_next", shortcut=view.KEYS["next"], on_click=browse_next, args=(sid,), width="stretch"
    )
    undo_button(columns[4], reviewer)
    columns[5].button(
        "Reload", key="review_reload", shortcut=view.KEYS["reload"], on_click=reload, args=(sid,), width="stretch"
    )
    if not reviewer:
        st.info("Enter your name in the sidebar to record decisions: each one is stored with its reviewer.")


def undo_button(where: Any, reviewer: str) -> None:
    last = f"Undo your decision on sentence {ss.review_done[-1][0]}" if ss.review_done else "Nothing to undo yet"
    where.button(
        "Undo",
        help=last,
        key="review_undo",
        shortcut=view.KEYS["undo"],
        on_click=undo_last,
        args=(reviewer,),
        disabled=not reviewer or not ss.review_done,
        width="stretch",
    )


def correction(item: ReviewItem, reviewer: str, spans: tuple[Span, ...], blocked: bool) -> None:
    sid, tokens = item.sentence_id, item.tgt_tokens
    draft: tuple[Span, ...] = ss.review_draft
    labels = sorted(set(item.labels) | {span.label for span in draft})
    with st.container(border=True):
        st.markdown("**Correct the spans** — the correction is saved as *corrected*")
        key = f"review_editor_{sid}"
        can_save = bool(reviewer) and not blocked
        token_editor(
            view.editor_data(tokens, draft, item.labels, base=ss.review_draft_base, can_save=can_save),
            key=key,
            on_draft=partial(editor_edited, key, len(tokens), tuple(labels)),
            on_save=partial(editor_saved, key, item, reviewer, spans, tuple(labels)),
        )
        with st.expander("Edit with menus (keyboard only, screen readers)", key="review_menus"):
            menus(item, draft, labels)
        save, reset = st.columns([3, 1])
        save.button(
            "Save correction",
            key="review_save",
            shortcut=view.KEYS["save correction"],
            type="primary",
            on_click=decide,
            args=("correct", sid, item.state.version, reviewer, draft),
            disabled=not reviewer or blocked or draft == spans,
        )
        reset.button("Reset", key="review_reset", on_click=reset_draft, args=(spans,), disabled=draft == spans)


def menus(item: ReviewItem, draft: tuple[Span, ...], labels: list[str]) -> None:
    """The correction with select boxes and buttons: the token editor's fallback."""
    sid, tokens = item.sentence_id, item.tgt_tokens
    for span in draft:
        text, label, delete = st.columns([6, 3, 1], vertical_alignment="center")
        text.markdown(literal(view.span_text(tokens, span)))
        key = f"review_relabel_{sid}_{span.start}_{span.end}"
        label.selectbox(
            "Label",
            labels,
            index=labels.index(span.label),
            key=key,
            label_visibility="collapsed",
            on_change=edit_draft,
            args=("relabel", span, key),
        )
        delete.button(
            "✕",
            key=f"review_delete_{sid}_{span.start}_{span.end}",
            help="Delete this entity",
            on_click=edit_draft,
            args=("delete", span),
        )
    if tokens:
        first, last, label, add = st.columns([3, 3, 3, 2], vertical_alignment="bottom")
        choices = list(range(len(tokens)))
        first.selectbox(
            "First token", choices, format_func=lambda i: view.token_choice(tokens, i), key=f"review_first_{sid}"
        )
        last.selectbox(
            "Last token", choices, format_func=lambda i: view.token_choice(tokens, i), key=f"review_last_{sid}"
        )
        label.selectbox("Label", labels, key=f"review_label_{sid}")
        add.button("Add", key="review_add", on_click=edit_draft, args=("add", None, "", sid))


def alignment(item: ReviewItem, spans: tuple[Span, ...], reviewer: str) -> None:
    st.markdown("**Alignment** (source tokens down, target tokens across)")
    if not item.src_tokens:
        st.caption("This sentence has no source sentence.")
        return
    matrix = view.item_matrix(item, spans)
    windows = view.matrix_windows(matrix, item.src_tokens, item.tgt_tokens, view.window_focuses(item, spans))
    window = windows[0]
    if len(windows) > 1:  # a long pair: a window around an entity, or the whole matrix to scroll
        titles = [w.title for w in windows]
        title = st.selectbox("Show", titles, key=f"review_window_{item.sentence_id}")
        window = windows[titles.index(title)] if title in titles else window
    show_html(view.matrix_html(matrix, item.src_tokens, item.tgt_tokens, rows=window.rows, cols=window.cols))
    show_html(view.matrix_legend_html())
    if not item.links:
        st.caption("No alignment links: no suggestion is queued for this sentence, or its run has none.")
    if item.pair_id is not None:
        fix_alignment(item, spans, reviewer)


def fix_alignment(item: ReviewItem, spans: tuple[Span, ...], reviewer: str) -> None:
    sid = item.sentence_id
    # Drawn only while open (on_change="rerun" tracks the state): the clickable chart costs a rerun ~10 ms.
    fixing = st.expander("Fix the alignment", key="review_fix_open", on_change="rerun")
    if not fixing.open:
        return
    with fixing:
        st.caption(
            "Drag a small box over a cell (or over several) to add or remove their links, or edit the links as "
            "Pharaoh text (source-target, from 0). "
            "Saved links go to the corpus's `manual` alignment run; a new projection over it uses them."
        )
        chart_key, text_key = f"review_links_chart_{sid}_{ss.review_clicks}", f"review_pharaoh_{sid}"
        matrix = view.item_matrix(item, spans, links=ss.review_links)
        st.plotly_chart(
            view.matrix_figure(matrix, item.src_tokens, item.tgt_tokens, clickable=True),
            key=chart_key,
            on_select=lambda: cells_clicked(chart_key, text_key),
            selection_mode=("points", "box"),
            config={"displayModeBar": False},
        )
        st.text_input(
            "Links",
            key=text_key,
            on_change=links_typed,
            args=(text_key, len(item.src_tokens), len(item.tgt_tokens)),
        )
        st.button(
            f"Save the alignment ({len(ss.review_links)} links)",
            key="review_save_links",
            on_click=save_links,
            args=(item.pair_id, sid, reviewer),
            disabled=not reviewer,
        )


def conflict_panel(item: ReviewItem | None) -> bool:
    """Show a refused decision: who decided instead, when, and their spans. True when it concerns the shown item
    (its decisions stay off until the reviewer reloads it)."""
    conflict = ss.review_conflict
    if conflict is None:
        return False
    error: ConflictError = conflict["error"]
    sid = conflict["sentence_id"]
    summary = view.conflict_summary(error.current, error.decision)
    st.warning(
        f"**Your {literal(conflict['action'])} on sentence {sid} was not saved**: {literal(summary)}. "
        "Nothing was overwritten; reload the item to see it as it is now and decide again."
    )
    shown = item is not None and item.sentence_id == sid
    if shown:
        theirs = view.conflict_spans(error.current, error.decision)
        show_html(bold("Their entities:"), " ", tokens_html(item.tgt_tokens, theirs))
        if conflict["action"] == "correct":
            show_html(
                bold("Your correction (kept below, not saved):"), " ", tokens_html(item.tgt_tokens, ss.review_draft)
            )
    st.button("Reload the item", key="review_conflict_reload", on_click=reload, args=(sid,), type="primary")
    return shown


def history_table() -> None:
    events = ss.review_history
    st.markdown("**History of this item**")
    if not events:
        st.caption("No decision on it yet.")
        return
    rows = [
        {
            "at": f"{event.at:%Y-%m-%d %H:%M}",
            "reviewer": event.reviewer,
            "action": event.action if event.applied else f"{event.action} (vote)",
            "status": f"{event.status_before} → {event.status_after}",
            "entities": len(event.entities),
            "version": event.version,
        }
        for event in events[-10:]
    ]
    narrow = st.column_config.Column(width="small")
    widths = {name: narrow for name in ("reviewer", "action", "entities", "version")}
    st.dataframe(rows, hide_index=True, key="review_history_table", column_config=widths)


def messages() -> None:
    if ss.review_message:
        st.success(literal(ss.review_message))
        ss.review_message = ""
    if ss.review_error:
        st.error(literal(ss.review_error))
        ss.review_error = ""


@st.fragment
def item_area(corpus: str, filters: view.QueueFilters, reviewer: str, settings: review.QueueSettings) -> None:
    """The queue's progress, messages and the item with its decisions. A fragment: a decision, skip or edit reruns
    only this part (the sidebar and the rest stay as drawn), which spares the browsers a fifth of their work per
    press (benchmarks/review_load.py). The progress is counted afresh on each of its runs."""
    overview = ss.pop("review_overview", None) or review.queue_overview(store, corpus)
    top = st.container()
    problem = ""
    try:
        item = load_item(corpus, filters, reviewer)
    except XnerError as error:
        item, problem = None, str(error)
    with top:
        messages()
        queue_progress(overview, filters)
    if problem:
        st.info(literal(problem))
        return
    blocked = conflict_panel(item)
    navigation(corpus, reviewer)
    if item is None:
        st.success("Nothing left in this queue. Change the filters, clear the skipped items, or queue another run.")
        undo_button(st, reviewer)
        return
    keep_lease(item, reviewer, settings.lease_seconds)
    blocked = held_notice(item) or blocked
    shown = view.shown_spans(item, second_review=filters.is_second_review or item.independent)
    item_header(item)
    sentences(item, shown)
    actions(item, reviewer, shown, blocked)
    if filters.is_second_review or item.independent:
        st.caption("Second review: you see the projection's suggestion, not the first reviewer's decision.")
    left, right = st.columns([1, 1])
    with left:
        correction(item, reviewer, shown, blocked)
        methods(item)
        history_table()
    with right:
        alignment(item, shown, reviewer)


# --- the page ------------------------------------------------------------------------------------------------

with page_guard():  # the error boundary (also under app.py's)
    st.title("Review projected entities")
    reviewer = reviewer_sidebar()
    corpora = {info.name: info for info in list_corpus_info(store, kind="parallel")}
    if not corpora:
        st.info("No parallel corpus yet: import one on the home page or with `xner import parallel`, then project it.")
        st.stop()
    corpus = st.sidebar.selectbox(
        "Corpus", list(corpora), format_func=lambda name: f"{name} ({corpora[name].languages})", key="review_corpus"
    )
    overview = review.queue_overview(store, corpus)
    filters = sidebar_filters(corpus, overview, reviewer)
    sidebar_keys()
    if not overview.runs:
        messages()
        st.info(
            f"Corpus {literal(corpus)} has no projection run yet. Align and project it on the home page, or run "
            f"`xner align --corpus NAME` then `xner project --corpus NAME`; its suggestions can then be queued here."
        )
        st.stop()
    sidebar_runs(corpus, overview, reviewer)
    settings = sidebar_queue_settings(corpus, reviewer)
    if overview.queued_run is None:
        messages()
        st.info(f"Corpus {literal(corpus)} has {len(overview.runs)} projection run(s), none queued for review yet.")
        newest = overview.runs[-1].id
        choice = st.selectbox(
            "Projection run to review",
            [run.id for run in overview.runs],
            index=len(overview.runs) - 1,
            format_func=lambda run_id: view.run_label(next(r for r in overview.runs if r.id == run_id)),
            key="review_queue_run",
        )
        chosen = choice or newest
        empty, confirmed = empty_run_confirmation(corpus, chosen, "review_queue_empty")
        st.button(
            f"Queue projection run {chosen:d} for review",
            key="review_queue",
            type="primary",
            on_click=queue_run,
            args=(corpus, chosen, reviewer, empty),
            disabled=not confirmed,
        )
        st.stop()

    ss.review_overview = overview  # for the item area's run within this one; its own reruns count afresh
    item_area(corpus, filters, reviewer, settings)
    with st.expander("Keyboard shortcuts"):
        st.dataframe(view.shortcut_rows(), hide_index=True, key="review_shortcuts")
        st.dataframe(view.editor_key_rows(), hide_index=True, key="review_editor_keys")
