"""Review projected entities, one target sentence at a time: its source with the entities, the spans each
projection method proposes, the alignment matrix; accept, reject, skip, undo or correct, from the keyboard.
Spans are corrected on the sentence itself (the token editor, ``xner/ui/token_editor``: click, shift-click or drag,
a label's key, Backspace, Ctrl+Enter) or with the menus below it.

The queue, decisions, concurrency and history live in ``xner.services.review``; filters and span edits in
``xner.ui.review``, the matrix in ``xner.ui.matrix``, the session state and the callbacks that change it in
``xner.ui.review_state``. This page renders them and collects input. Decisions are button callbacks whose
arguments are bound when the item is drawn (its sentence id and version), so a decision always names the version
the reviewer saw, and a change by somebody else in between is a conflict, never an overwrite. The shown item is
kept in the session until a decision, skip, next, undo or reload: a rerun (e.g. editing a span) reads no item.
An item opened out of queue order (*Go to a sentence*, a search hit) stays shown the same way (``review_pinned``),
reserved for the reviewer when it is free and read-only while somebody else holds it. The queue choices are saved
per reviewer and corpus, and given back to the sidebar's widgets in the next session.
Session keys start with ``review_``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from xner.errors import ConflictError, XnerError
from xner.services import review
from xner.services.corpora import list_corpus_info
from xner.services.review import QueueOverview, ReviewItem
from xner.types import Span
from xner.ui import matrix as matrix_view
from xner.ui import review as view
from xner.ui import review_sidebar, review_state
from xner.ui.render import STYLE, bold, literal, show_html, tokens_html
from xner.ui.support import get_store, page_guard, reviewer_sidebar
from xner.ui.token_editor import token_editor

with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Review · xner", page_icon="🔤", layout="wide")
    store = get_store()
    show_html(STYLE)
    review_state.init_session()
ss = st.session_state


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


# --- the item ------------------------------------------------------------------------------------------------


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
            on_change=review_state.go_to,
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
            on_click=review_state.open_sentence,
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
        on_click=review_state.decide,
        args=("accept", sid, version, reviewer, spans),
        disabled=locked,
        width="stretch",
    )
    columns[1].button(
        "Reject",
        key="review_reject",
        shortcut=view.KEYS["reject"],
        on_click=review_state.decide,
        args=("reject", sid, version, reviewer, None),
        disabled=locked,
        width="stretch",
    )
    columns[2].button(
        "Skip", key="review_skip", shortcut=view.KEYS["skip"], on_click=review_state.skip, args=(sid,), width="stretch"
    )
    columns[3].button(
        "Next",
        key="review_next",
        shortcut=view.KEYS["next"],
        on_click=review_state.browse_next,
        args=(sid,),
        width="stretch",
    )
    undo_button(columns[4], reviewer)
    columns[5].button(
        "Reload",
        key="review_reload",
        shortcut=view.KEYS["reload"],
        on_click=review_state.reload,
        args=(sid,),
        width="stretch",
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
        on_click=review_state.undo_last,
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
            on_draft=partial(review_state.editor_edited, key, len(tokens), tuple(labels)),
            on_save=partial(review_state.editor_saved, key, item, reviewer, spans, tuple(labels)),
        )
        # Drawn only while open (on_change="rerun" tracks the state): its select boxes cost ~5 ms of every rerun.
        fallback = st.expander("Edit with menus (keyboard only, screen readers)", key="review_menus", on_change="rerun")
        if fallback.open:
            with fallback:
                menus(item, draft, labels)
        save, reset = st.columns([3, 1])
        save.button(
            "Save correction",
            key="review_save",
            shortcut=view.KEYS["save correction"],
            type="primary",
            on_click=review_state.decide,
            args=("correct", sid, item.state.version, reviewer, draft),
            disabled=not reviewer or blocked or draft == spans,
        )
        reset.button(
            "Reset", key="review_reset", on_click=review_state.reset_draft, args=(spans,), disabled=draft == spans
        )


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
            on_change=review_state.edit_draft,
            args=("relabel", span, key),
        )
        delete.button(
            "✕",
            key=f"review_delete_{sid}_{span.start}_{span.end}",
            help="Delete this entity",
            on_click=review_state.edit_draft,
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
        add.button("Add", key="review_add", on_click=review_state.edit_draft, args=("add", None, "", sid))


def alignment(item: ReviewItem, spans: tuple[Span, ...], reviewer: str) -> None:
    st.markdown("**Alignment** (source tokens down, target tokens across)")
    if not item.src_tokens:
        st.caption("This sentence has no source sentence.")
        return
    matrix = matrix_view.item_matrix(item, spans)
    windows = matrix_view.matrix_windows(
        matrix, item.src_tokens, item.tgt_tokens, matrix_view.window_focuses(item, spans)
    )
    window = windows[0]
    if len(windows) > 1:  # a long pair: a window around an entity, or the whole matrix to scroll
        titles = [w.title for w in windows]
        title = st.selectbox("Show", titles, key=f"review_window_{item.sentence_id}")
        window = windows[titles.index(title)] if title in titles else window
    show_html(matrix_view.matrix_html(matrix, item.src_tokens, item.tgt_tokens, rows=window.rows, cols=window.cols))
    show_html(matrix_view.matrix_legend_html())
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
        matrix = matrix_view.item_matrix(item, spans, links=ss.review_links)
        st.plotly_chart(
            matrix_view.matrix_figure(matrix, item.src_tokens, item.tgt_tokens, clickable=True),
            key=chart_key,
            on_select=lambda: review_state.cells_clicked(chart_key, text_key),
            selection_mode=("points", "box"),
            config={"displayModeBar": False},
        )
        st.text_input(
            "Links",
            key=text_key,
            on_change=review_state.links_typed,
            args=(text_key, len(item.src_tokens), len(item.tgt_tokens)),
        )
        st.button(
            f"Save the alignment ({len(ss.review_links)} links)",
            key="review_save_links",
            on_click=review_state.save_links,
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
    st.button(
        "Reload the item", key="review_conflict_reload", on_click=review_state.reload, args=(sid,), type="primary"
    )
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
        item = review_state.load_item(corpus, filters, reviewer, overview.status_counts)
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
    review_state.keep_lease(item, reviewer, settings.lease_seconds)
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
    filters = review_sidebar.queue_filters(corpus, overview, reviewer)
    review_sidebar.key_hints()
    if not overview.runs:
        messages()
        st.info(
            f"Corpus {literal(corpus)} has no projection run yet. Align and project it on the home page, or run "
            f"`xner align --corpus NAME` then `xner project --corpus NAME`; its suggestions can then be queued here."
        )
        st.stop()
    review_sidebar.projection_runs(store, corpus, overview, reviewer)
    settings = review_sidebar.queue_settings(store, corpus, reviewer)
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
        empty, confirmed = review_sidebar.empty_run_confirmation(store, corpus, chosen, "review_queue_empty")
        st.button(
            f"Queue projection run {chosen:d} for review",
            key="review_queue",
            type="primary",
            on_click=review_state.queue_run,
            args=(corpus, chosen, reviewer, empty),
            disabled=not confirmed,
        )
        st.stop()

    ss.review_overview = overview  # for the item area's run within this one; its own reruns count afresh
    item_area(corpus, filters, reviewer, settings)
    with st.expander("Keyboard shortcuts"):
        shortcuts, editor_keys = view.shortcut_tables()
        st.dataframe(shortcuts, hide_index=True, key="review_shortcuts")
        st.dataframe(editor_keys, hide_index=True, key="review_editor_keys")
