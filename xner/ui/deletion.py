"""The home page's *Delete* tab: a corpus with everything under it, or one alignment or projection run, after a
confirmation step that says what goes and why it may be refused (it is being reviewed: deleted only when forced),
and the deletion log. Deletions go through :mod:`xner.services.deleting`. Widget keys start with ``home_``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.services.corpora import CorpusStats
from xner.services.deleting import (
    DeletePlan,
    delete_corpus,
    delete_run,
    deletion_log,
    plan_corpus_delete,
    plan_run_delete,
    report_summary,
)
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.ui.messages import flash, show_error, show_flashes
from xner.ui.render import literal
from xner.ui.support import Store

DELETE_KINDS = {"Corpus": None, "Alignment run": "alignment", "Projection run": "projection"}

PENDING_DELETE = "home_delete_pending"  # (what, corpus, run id) the confirmation step is about


def delete_section(store: Store, corpora: list[CorpusStats], reviewer: str) -> None:
    st.caption(
        "Delete a corpus with everything under it (sentences, pairs, runs, review states and history), or one "
        "alignment or projection run. Something being reviewed is deleted only when forced; every deletion is "
        "logged with who made it."
    )
    if corpora:
        target = delete_target(store, [c.name for c in corpora])
        if target is not None and st.button("Delete…", key="home_delete_ask"):
            st.session_state[PENDING_DELETE] = target
            st.session_state["home_delete_force"] = False
        if target is not None and st.session_state.get(PENDING_DELETE) == target:
            confirm_delete(store, target, reviewer)
    else:
        st.info("No corpora to delete.")
    show_flashes("delete")
    deletion_log_view(store)


def delete_target(store: Store, corpora: list[str]) -> tuple[str, str, int | None] | None:
    """What to delete: (``Corpus``/``Alignment run``/``Projection run``, corpus, run id), None without a run."""
    left, mid, right = st.columns(3)
    what = left.segmented_control("Delete", list(DELETE_KINDS), default="Corpus", key="home_delete_kind") or "Corpus"
    corpus = mid.selectbox("Corpus", corpora, key="home_delete_corpus")
    if DELETE_KINDS[what] is None:
        return what, corpus, None
    if DELETE_KINDS[what] == "alignment":
        runs = {r.id: f"{r.id}: {r.aligner}, {r.pairs} pairs" for r in list_alignment_runs(store, corpus)}
    else:
        runs = {r.id: f"{r.id}: {r.method}, {r.pairs} pairs" for r in list_projection_runs(store, corpus)}
    if not runs:
        right.caption("This corpus has no such runs.")
        return None
    run = right.selectbox("Run", list(runs)[::-1], format_func=lambda run: runs[run], key="home_delete_run")
    return what, corpus, run


def confirm_delete(store: Store, target: tuple[str, str, int | None], reviewer: str) -> None:
    """The confirmation step: what the delete removes, why it may be refused, then Delete or Cancel."""
    what, corpus, run = target
    kind = DELETE_KINDS[what]
    try:
        plan = plan_corpus_delete(store, corpus) if run is None else plan_run_delete(store, run, kind=kind)
    except XnerError as error:  # deleted meanwhile
        st.session_state.pop(PENDING_DELETE, None)
        show_error(error)
        return
    st.warning(literal(f"This deletes {plan.target}: {plan.removes}. A deletion cannot be undone."))
    force = False
    if plan.blockers:
        st.error(literal(f"It is being reviewed: {'; '.join(plan.blockers)}."))
        force = st.checkbox("Delete it anyway, although it is being reviewed", key="home_delete_force")
    if not reviewer:
        st.info("Enter your name in the sidebar first: every deletion is logged with who made it.")
    left, right = st.columns(2)
    blocked = not reviewer or (bool(plan.blockers) and not force)
    confirmed = left.button("Delete", key="home_delete_confirm", type="primary", disabled=blocked)
    if right.button("Cancel", key="home_delete_cancel"):
        st.session_state.pop(PENDING_DELETE, None)
        st.rerun()
    if confirmed:
        delete_now(store, plan, reviewer, force=force)


def delete_now(store: Store, plan: DeletePlan, reviewer: str, *, force: bool) -> None:
    try:
        with st.spinner("Deleting…"):
            if plan.kind == "corpus":
                report = delete_corpus(store, plan.name, deleted_by=reviewer, force=force)
            else:
                kind = plan.kind.removesuffix(" run")
                report = delete_run(store, int(plan.name), kind=kind, deleted_by=reviewer, force=force)
    except XnerError as error:
        show_error(error)
        return
    st.session_state.pop(PENDING_DELETE, None)
    flash("delete", "success", report_summary(report))
    st.rerun()


def deletion_log_view(store: Store) -> None:
    records = deletion_log(store)
    with st.expander(f"Deletion log ({len(records)})"):
        if not records:
            st.caption("No deletions yet.")
            return
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when": r.deleted_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "by": r.deleted_by,
                        "deleted": r.kind,
                        "name": r.name,
                        "corpus": r.corpus,
                        "detail": r.detail,
                        "removed": ", ".join(f"{n} {item}" for item, n in r.counts.items()),
                        "forced": r.forced,
                        "review use overridden": "; ".join(r.reasons),
                    }
                    for r in records
                ]
            ),
            hide_index=True,
            width="stretch",
            key="home_deletion_log",
        )
