"""Spot check: estimate a projection run's precision from a stratified random sample of its spans.

Choose a corpus (its language pair) and a projection run, draw a sample (or resume one), judge the sampled spans
one at a time, and read the precision per stratum and overall with Wilson 95% intervals.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.services.corpora import CorpusInfo, list_corpus_info
from xner.services.runs import list_projection_runs, run_label
from xner.services.spotcheck import (
    BUCKETS,
    STRATA,
    CheckItem,
    CheckSummary,
    PrecisionEstimate,
    checks_needed,
    draw_sample,
    estimate,
    judge,
    list_checks,
    next_unjudged_item,
)
from xner.ui.charts import precision_chart
from xner.ui.render import STYLE, bold, line, literal, muted, show_html, tokens_html
from xner.ui.support import Store, get_store, guarded, page_guard, reviewer_sidebar

STRATUM_NAMES = {"label": "entity label", "confidence_bucket": "confidence bucket"}
EDGES = [round(0.1 * i, 1) for i in range(1, 10)]  # inner confidence bucket edges to choose from
SKIPPED = "spot_skipped"  # item ids passed over in this browser session, per spot check
MESSAGE = "spot_message"
NOT_SAVED = "spot_not_saved"


def draw_form(store: Store, corpus: str, run_id: int, reviewer: str, *, expanded: bool) -> None:
    """The "draw a new sample" form; a drawn sample becomes the selected spot check."""
    with st.expander("Draw a new sample", expanded=expanded), st.form("spot_draw_form"):
        n = st.number_input("Sample size N", min_value=1, max_value=100_000, value=100, step=10, key="spot_n")
        strata = st.multiselect(
            "Strata", STRATA, default=list(STRATA), format_func=STRATUM_NAMES.get, key="spot_strata"
        )
        edges = st.multiselect(
            "Confidence bucket edges (between 0 and 1)",
            EDGES,
            default=[edge for edge in BUCKETS if 0 < edge < 1],
            key="spot_edges",
            help="Used when the strata include the confidence bucket.",
        )
        seed = st.number_input("Random seed", min_value=0, value=0, step=1, key="spot_seed")
        if not st.form_submit_button("Draw sample", key="spot_draw", type="primary"):
            return
    buckets = [0.0, *sorted(edges), 1.0]
    try:
        report = draw_sample(
            store, corpus, run_id, int(n), strata=strata, buckets=buckets, seed=int(seed), reviewer=reviewer
        )
    except XnerError as error:
        st.error(literal(str(error)))
        return
    st.session_state["spot_check"] = report.check_id
    st.session_state[MESSAGE] = (
        f"Spot check {report.check_id}: drew {report.drawn} spans from {len(report.allocation)} strata "
        f"({sum(report.populations.values())} spans in run {run_id})."
    )


def describe_check(check: CheckSummary) -> str:
    by = f", by {check.created_by}" if check.created_by else ""
    when = f" {check.created_at:%Y-%m-%d %H:%M}" if check.created_at else ""
    return f"#{check.id}: {check.judged}/{check.drawn} judged (N={check.requested}, seed {check.seed}{by}){when}"


def sentence_block(title: str, tokens: tuple[str, ...], spans: list, note: str = "") -> None:
    """A titled sentence with its spans highlighted (everything escaped by xner.ui.render)."""
    extra = (" ", muted(note)) if note else ()
    show_html(line(bold(title), *extra), line(tokens_html(tokens, spans)))


@guarded
def record(store: Store, check_id: int, item_id: int, correct: bool, reviewer: str) -> None:
    """Button callback: store the judgment of the item that was on screen when the button was pressed."""
    try:
        judge(store, check_id, item_id, correct, reviewer)
    except XnerError as error:
        st.session_state[NOT_SAVED] = f"Not saved: {error}"


@guarded
def skip(check_id: int, item_id: int) -> None:
    st.session_state.setdefault(SKIPPED, {}).setdefault(check_id, []).append(item_id)


@guarded
def unskip(check_id: int) -> None:
    st.session_state.setdefault(SKIPPED, {})[check_id] = []


def judging(store: Store, check: CheckSummary, reviewer: str, tgt_lang: str, src_lang: str) -> None:
    """The next unjudged item with Correct / Incorrect / Skip, and the progress."""
    st.progress(check.judged / check.drawn if check.drawn else 0.0, text=f"{check.judged} / {check.drawn} judged")
    if NOT_SAVED in st.session_state:
        st.error(literal(st.session_state.pop(NOT_SAVED)))
    skipped = st.session_state.get(SKIPPED, {}).get(check.id, [])
    item: CheckItem | None = next_unjudged_item(store, check.id, skip=skipped)
    if item is None:
        if skipped and check.judged < check.drawn:
            st.info(f"Only skipped items are left ({check.drawn - check.judged}).")
            st.button("Show the skipped items again", key="spot_unskip", on_click=unskip, args=(check.id,))
        else:
            st.success(f"All {check.drawn} sampled spans are judged.")
        return
    projected = item.span.tokens(item.tgt_tokens)
    sentence_block(
        f"Target ({tgt_lang})",
        item.tgt_tokens,
        [item.span],
        f"stratum {item.stratum} · confidence {item.confidence:.2f}",
    )
    source = [item.src_span] if item.src_span else []
    sentence_block(f"Source ({src_lang})", item.src_tokens, source, "" if source else "source entity unknown")
    show_html("Is ", bold(" ".join(projected)), " a correct ", bold(item.span.label), " projection?")
    if not reviewer:
        st.info("Log in or enter your name in the sidebar to judge.")
    disabled = not reviewer
    correct, wrong, later = st.columns(3)
    correct.button(
        "Correct",
        key="spot_correct",
        shortcut="y",
        type="primary",
        disabled=disabled,
        on_click=record,
        args=(store, check.id, item.id, True, reviewer),
    )
    wrong.button(
        "Incorrect",
        key="spot_wrong",
        shortcut="n",
        disabled=disabled,
        on_click=record,
        args=(store, check.id, item.id, False, reviewer),
    )
    later.button("Skip", key="spot_skip", shortcut="s", on_click=skip, args=(check.id, item.id))


def estimate_table(result: PrecisionEstimate) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stratum": s.stratum,
                "spans in run": s.population,
                "sampled": s.sampled,
                "judged": s.judged,
                "correct": s.correct,
                "precision": s.precision,
                "95% low": s.low,
                "95% high": s.high,
            }
            for s in (*result.strata, result.overall)
        ]
    )


def estimate_view(store: Store, check: CheckSummary) -> None:
    """The precision estimate: overall metric, chart, table and how many more checks a target interval needs."""
    result = estimate(store, check.id)
    overall = result.overall
    if overall.judged == 0:
        st.info("Judge a few spans to see the precision estimate.")
        return
    st.metric(
        "Projection precision (stratified)",
        f"{overall.precision:.1%}",
        help="Each stratum weighted by its share of the run's spans.",
    )
    st.caption(
        f"95% interval {overall.low:.1%} – {overall.high:.1%} · {overall.correct}/{overall.judged} correct · "
        f"strata with judgments cover {result.coverage:.0%} of the run's spans"
    )
    st.plotly_chart(precision_chart(result), key="spot_chart", config={"displayModeBar": False})
    st.dataframe(
        estimate_table(result),
        hide_index=True,
        key="spot_table",
        column_config={
            name: st.column_config.NumberColumn(format="%.3f") for name in ("precision", "95% low", "95% high")
        },
    )
    width = st.number_input(
        "Target interval half-width ±",
        min_value=0.005,
        max_value=0.5,
        value=0.05,
        step=0.01,
        format="%.3f",
        key="spot_width",
    )
    more = result.more_checks(width)
    simple = checks_needed(overall.precision or 0.5, width)
    st.metric(f"More checks for ±{width:.3f}", f"{more:d}")
    st.caption(f"A simple random sample at this precision needs {simple:d} judgments for ±{width:.3f} in all.")


@st.fragment
def check_view(store: Store, run_id: int, reviewer: str, info: CorpusInfo) -> None:
    """The run's checks to choose from, and judging beside the estimate. A judgment reruns only this fragment, not
    the corpus and run look-ups; the chooser is in it, so its judged counts are read afresh with the rest (drawn
    by the page's run, they stayed at "0/20 judged" while the judging went on)."""
    checks = {check.id: check for check in reversed(list_checks(store, info.name, run_id=run_id))}
    if not checks:
        st.info("No spot check of this run yet: draw a sample above.")
        return
    check_id = st.selectbox(
        "Spot check (newest first; pick one to resume it)",
        list(checks),
        format_func=lambda i: describe_check(checks[i]),
        key="spot_check",
    )
    check = checks[check_id]
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Judge")
        judging(store, check, reviewer, info.tgt_lang or "", info.src_lang)
    with right:
        st.subheader("Estimate")
        estimate_view(store, check)


with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Spot check · xner", page_icon="🎯", layout="wide")
    store = get_store()
    reviewer = reviewer_sidebar()
    show_html(STYLE)
    st.title("Spot check")
    st.caption("Estimate how precise a projection run is by judging a random sample of its projected spans.")

    corpora = {info.name: info for info in list_corpus_info(store, kind="parallel")}
    if not corpora:
        st.info("No parallel corpus yet. Import one with `xner import parallel SRC TGT --corpus NAME --tgt-lang CODE`.")
        st.stop()
    corpus = st.sidebar.selectbox(
        "Corpus (language pair)",
        list(corpora),
        format_func=lambda n: f"{n} ({corpora[n].languages})",
        key="spot_corpus",
    )
    info = corpora[corpus]
    runs = list_projection_runs(store, corpus)
    if not runs:
        st.info(f"Corpus {literal(corpus)} has no projection run yet: run `xner project --corpus NAME` first.")
        st.stop()
    described = {run.id: run_label(run) for run in runs}
    run_id = st.sidebar.selectbox(
        "Projection run", list(reversed(described)), format_func=described.get, key="spot_run"
    )
    chosen = next(run for run in runs if run.id == run_id)
    st.sidebar.caption(f"Run {run_id} covers {chosen.pairs:,} pairs.")

    draw_form(store, corpus, run_id, reviewer, expanded=not list_checks(store, corpus, run_id=run_id))
    if MESSAGE in st.session_state:
        st.info(literal(st.session_state.pop(MESSAGE)))
    check_view(store, run_id, reviewer, info)
