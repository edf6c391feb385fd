"""The review page's sidebar below the reviewer and corpus: the queue's filters (with the reviewer's saved choices),
the keyboard hints, the corpus's projection runs with queueing another, and the queue settings. Widget keys start
with ``review_``; the callbacks are :mod:`xner.ui.review_state`'s.
"""

from __future__ import annotations

import streamlit as st

from xner.services import review
from xner.services.review import QueueOverview
from xner.ui import review as view
from xner.ui import review_state
from xner.ui.render import literal
from xner.ui.support import Store


def queue_filters(corpus: str, overview: QueueOverview, reviewer: str) -> view.QueueFilters:
    """The queue's widgets (order, items, labels, confidence, decided by), given the reviewer's saved choices first;
    returns the filters, saved when changed."""
    review_state.restore_preferences(corpus, reviewer, overview.labels)
    bar = st.sidebar
    order = bar.radio("Queue order", list(view.ORDER_CHOICES), key="review_order")
    status = bar.selectbox("Items", view.STATUS_CHOICES, key="review_status")
    labels = bar.multiselect("Labels (any of)", overview.labels, key="review_labels")
    confidence = bar.slider("Confidence", 0.0, 1.0, (0.0, 1.0), step=0.05, key="review_confidence")
    decided_by = bar.text_input("Decided by (a reviewer's items)", key="review_decided_by", max_chars=200)
    filters = view.QueueFilters(
        status, view.ORDER_CHOICES[order], tuple(labels), (confidence[0], confidence[1]), decided_by.strip(), reviewer
    )
    review_state.remember_preferences(corpus, reviewer, filters)
    return filters


def key_hints() -> None:
    """The keyboard shortcuts, in one caption."""
    st.sidebar.caption("Keys: " + " · ".join(f"{literal(key)} {literal(action)}" for key, action in _key_hints()))


def _key_hints() -> list[tuple[str, str]]:
    return [(row["key"], row["action"]) for row in view.shortcut_rows()]


def projection_runs(store: Store, corpus: str, overview: QueueOverview, reviewer: str) -> None:
    """The corpus's projection runs, and queueing another one."""
    with st.sidebar.expander("Projection runs"):
        for run in overview.runs:
            queued = " (queued)" if run.id == overview.queued_run else ""
            st.caption(literal(view.run_label(run)) + queued)
        names = {run.id: view.run_label(run) for run in overview.runs}
        run_id = st.selectbox(
            "Queue another run",
            list(names),
            index=len(overview.runs) - 1,
            format_func=lambda run: names[run],
            key="review_requeue_run",
        )
        empty, confirmed = empty_run_confirmation(store, corpus, run_id, "review_requeue_empty")
        st.button(
            f"Queue run {run_id} (reviewed items keep their decisions)",
            key="review_requeue",
            on_click=review_state.queue_run,
            args=(corpus, run_id, reviewer, empty),
            disabled=not confirmed,
        )


def empty_run_confirmation(store: Store, corpus: str, run_id: int, key: str) -> tuple[bool, bool]:
    """Whether projection run ``run_id`` has no entities and, if so, whether queueing it anyway is confirmed (a
    warning that says why it is empty and a checkbox); (False, True) for a run with entities."""
    reason = review.empty_run_reason(store, corpus, run_id)
    if reason is None:
        return False, True
    st.warning(literal(f"Projection run {run_id} has no entities: {reason}. Its items would suggest nothing."))
    return True, st.checkbox("Queue it anyway (reviewers mark every entity by hand)", key=f"{key}_{run_id}")


def queue_settings(store: Store, corpus: str, reviewer: str) -> review.QueueSettings:
    """The queue's settings (reviewers per item, reservation), and saving them."""
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
            on_click=review_state.save_settings,
            args=(corpus, reviewer, int(overlap), int(minutes) * 60),
            disabled=not reviewer,
        )
    return settings
