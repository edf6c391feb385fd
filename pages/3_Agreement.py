"""Agreement: how far reviewers agree (Cohen's kappa, span F1), the items they disagree on, and adjudication.

An adjudicator picks a disputed item, compares each reviewer's decision side by side and records the final one:
one reviewer's version, or a correction by hand. The decision is optimistic like on the review page: when the
item changed after it was shown, nothing is saved and the other decision is shown instead.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xner.errors import ConflictError, XnerError
from xner.services.corpora import list_corpus_info
from xner.services.review import (
    AgreementReport,
    Disagreement,
    EventView,
    ReviewItem,
    adjudicate,
    agreement,
    disagreements,
    get_item,
)
from xner.types import ReviewStatus, Span
from xner.ui.charts import kappa_heatmap
from xner.ui.render import STYLE, Html, bold, line, literal, show_html, tokens_html
from xner.ui.support import Store, get_store, page_guard, reviewer_sidebar

BY_HAND = ""  # the adjudication choice "correct by hand" (reviewer names are never empty)
SHOWN = "agree_shown"  # (sentence id, version) of the item the last run showed: the version a decision expects
FLASH = "agree_flash"
FINAL_STATUSES = [ReviewStatus.CORRECTED.value, ReviewStatus.ACCEPTED.value, ReviewStatus.REJECTED.value]


def html_line(label: str, body: Html) -> None:
    """A bold label (escaped) over a fragment of xner.ui.render's (tokens)."""
    show_html(line(bold(label)), line(body))


def agreement_metrics(report: AgreementReport) -> None:
    items, reviewers, kappa, observed, f1 = st.columns(5)
    items.metric("Items with ≥ 2 reviewers", report.items)
    reviewers.metric("Reviewers", len(report.reviewers))
    kappa.metric("Cohen's κ (status)", "–" if report.kappa is None else f"{report.kappa:.3f}")
    observed.metric("Observed agreement", f"{report.observed:.1%}")
    f1.metric(
        "Span F1 between reviewers",
        "–" if report.span_f1 is None else f"{report.span_f1:.3f}",
        help="Exact span matches, over the items neither reviewer rejected.",
    )


def pairs_table(report: AgreementReport) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "reviewer A": pair.first,
                "reviewer B": pair.second,
                "items": pair.items,
                "observed": pair.observed,
                "kappa": pair.kappa,
                "span items": pair.span_items,
                "span F1": pair.span_f1,
            }
            for pair in report.pairs
        ]
    )


def describe(item: Disagreement) -> str:
    votes = ", ".join(f"{vote.reviewer}: {vote.status_after.value}" for vote in item.votes)
    ruled = f" · adjudicated {item.adjudication.status_after.value}" if item.adjudication else ""
    return f"sentence {item.sentence_id} — {votes}{ruled}"


def disputes_table(items: list[Disagreement]) -> pd.DataFrame:
    """One row per disputed item: each reviewer's status in a column of its own, and any adjudication."""
    return pd.DataFrame(
        [
            {
                "sentence": item.sentence_id,
                **{vote.reviewer: vote.status_after.value for vote in item.votes},
                "adjudicated": item.adjudication.status_after.value if item.adjudication else "",
            }
            for item in items
        ]
    )


def show_decision(title: str, event: EventView, tokens: tuple[str, ...]) -> None:
    note = f" · {event.note}" if event.note else ""
    html_line(
        f"{title}: {event.status_after.value} ({event.action}, {event.at:%Y-%m-%d %H:%M}){note}",
        tokens_html(tokens, event.entities),
    )


def votes_side_by_side(item: ReviewItem, dispute: Disagreement) -> None:
    for column, vote in zip(st.columns(len(dispute.votes)), dispute.votes, strict=True):
        with column:
            show_decision(vote.reviewer, vote, item.tgt_tokens)
    if dispute.adjudication is not None:
        show_decision(f"Adjudicated by {dispute.adjudication.reviewer}", dispute.adjudication, item.tgt_tokens)


def spans_editor(item: ReviewItem, start_from: tuple[Span, ...]) -> list[dict]:
    """An editable table of spans (token indices, half-open end) over the target tokens."""
    st.dataframe(pd.DataFrame([list(item.tgt_tokens)]), hide_index=True, key=f"agree_tokens_{item.sentence_id}")
    st.caption("Token indices above; a span covers tokens start … end − 1.")
    table = pd.DataFrame(
        [{"start": s.start, "end": s.end, "label": s.label} for s in start_from], columns=["start", "end", "label"]
    ).astype({"start": "Int64", "end": "Int64", "label": "object"})
    edited = st.data_editor(
        table,
        num_rows="dynamic",
        hide_index=True,
        key=f"agree_spans_{item.sentence_id}",  # edits belong to their item
        column_config={
            "start": st.column_config.NumberColumn(min_value=0, max_value=len(item.tgt_tokens) - 1, step=1),
            "end": st.column_config.NumberColumn(min_value=1, max_value=len(item.tgt_tokens), step=1),
            "label": st.column_config.SelectboxColumn(options=list(item.labels)),
        },
    )
    return edited.dropna(how="all").to_dict("records")


def decide(store: Store, item: ReviewItem, expected: int, adjudicator: str, **decision) -> None:
    """Record the adjudication at the version that was shown; a conflict shows the decision that came first."""
    try:
        state = adjudicate(store, item.sentence_id, reviewer=adjudicator, expected_version=expected, **decision)
    except ConflictError as error:
        st.error(literal(str(error)))
        if error.decision is not None:
            show_decision(f"Saved first by {error.decision.reviewer}", error.decision, item.tgt_tokens)
        st.info("The decisions above are the current ones: check them and adjudicate again.")
        return
    except XnerError as error:
        st.error(literal(f"Not saved: {error}"))
        return
    outcome = f"{state.status.value} (version {state.version})"
    st.session_state[FLASH] = f"Sentence {item.sentence_id} adjudicated: {outcome}."
    st.session_state.pop(SHOWN, None)
    st.rerun()


def adjudication(store: Store, dispute: Disagreement, adjudicator: str) -> None:
    """Each reviewer's decision side by side, the adjudicator's choice, and the adjudicate button."""
    shown = st.session_state.get(SHOWN)
    item = get_item(store, dispute.sentence_id)
    html_line(f"Source ({item.src_lang})", tokens_html(item.src_tokens, item.src_spans))
    st.caption(f"Current state: {literal(item.state.status.value)}, version {item.state.version}")
    votes_side_by_side(item, dispute)
    choices = {vote.reviewer: vote for vote in dispute.votes}
    choice = st.radio(
        "Final decision",
        [*choices, BY_HAND],
        format_func=lambda name: (
            f"{literal(name)}'s version ({literal(choices[name].status_after.value)})" if name else "By hand"
        ),
        horizontal=True,
        key="agree_choice",
    )
    if choice == BY_HAND:
        status = st.selectbox("Final status", FINAL_STATUSES, key="agree_status")
        spans: list[dict] | tuple[Span, ...] = spans_editor(item, item.state.spans)
    else:
        status, spans = choices[choice].status_after.value, choices[choice].spans_after
    note = st.text_input("Note (optional)", key=f"agree_note_{item.sentence_id}", max_chars=500)
    if not adjudicator:
        st.info("Log in or enter your name in the sidebar to adjudicate.")
    clicked = st.button("Adjudicate", key="agree_submit", type="primary", disabled=not adjudicator)
    # a decision expects the version the previous run showed: what the adjudicator saw when clicking
    expected = shown[1] if shown and shown[0] == item.sentence_id else None
    st.session_state[SHOWN] = (item.sentence_id, item.state.version)
    if not clicked:
        return
    if expected is None:  # the list changed under the click (e.g. somebody adjudicated the item shown)
        st.warning("The item on screen changed before your click: check it and adjudicate again.")
        return
    decide(store, item, expected, adjudicator, status=status, spans=spans, note=note.strip())


with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Agreement · xner", page_icon="🤝", layout="wide")
    store = get_store()
    adjudicator = reviewer_sidebar()
    show_html(STYLE)
    st.title("Reviewer agreement")
    st.caption("Where several reviewers decided the same sentences: how much they agree, and where they do not.")

    corpora = {info.name: info for info in list_corpus_info(store)}
    if not corpora:
        st.info("No corpora yet. Import one with `xner import conll FILE --corpus NAME --lang CODE`.")
        st.stop()
    corpus = st.sidebar.selectbox(
        "Corpus", list(corpora), format_func=lambda n: f"{n} ({corpora[n].languages})", key="agree_corpus"
    )
    if FLASH in st.session_state:
        st.success(literal(st.session_state.pop(FLASH)))

    report = agreement(store, corpus)
    if report.items == 0:
        st.info("No sentence has decisions from two reviewers yet: agreement needs a second, independent review.")
        st.stop()
    agreement_metrics(report)
    st.dataframe(
        pairs_table(report),
        hide_index=True,
        key="agree_pairs",
        column_config={name: st.column_config.NumberColumn(format="%.3f") for name in ("observed", "kappa", "span F1")},
    )
    if len(report.reviewers) >= 3:
        st.plotly_chart(kappa_heatmap(report), key="agree_heatmap", config={"displayModeBar": False})

    st.subheader("Disagreements")
    include = st.toggle("Include adjudicated items", key="agree_include")
    disputes = {d.sentence_id: d for d in disagreements(store, corpus, include_adjudicated=include)}
    if not disputes:
        st.success("No open disagreements." if not include else "No disagreements.")
        st.stop()
    st.dataframe(disputes_table(list(disputes.values())), hide_index=True, key="agree_disputes")
    sentence_id = st.selectbox(
        "Item to adjudicate", list(disputes), format_func=lambda sid: describe(disputes[sid]), key="agree_item"
    )
    adjudication(store, disputes[sentence_id], adjudicator)
