"""The review page's pure helpers (xner/ui/review.py): queue filters, span edits, method comparison, the
alignment matrix figure, link editing and the shortcut table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
import pytest
from sqlalchemy import select

from tests.conftest import DEMO, REPO
from xner.errors import XnerError
from xner.services import review
from xner.services.demo import load_demo
from xner.services.importing import import_alignments
from xner.services.projecting import project_corpus
from xner.services.review import EventView, ReviewItem, StateView, Suggestion
from xner.store.db import Store
from xner.store.models import Corpus, SentencePair
from xner.types import ProjectedSpan, ReviewStatus, Span
from xner.ui import matrix as matrix_view
from xner.ui import review as view

SRC = ("Ada", "met", "<b>Bob</b>", "in", "Paris")
TGT = ("Ada", "conoció", "a", "<b>Bob</b>", "en", "París")


def known_item(**changes) -> ReviewItem:
    """Ada met Bob in Paris → Ada conoció a Bob en París, with a heuristic (queued) and an ngram suggestion."""
    queued = Suggestion(
        2,
        "heuristic",
        7,
        0.5,
        (
            ProjectedSpan(Span(0, 1, "PER"), "heuristic", 1.0, Span(0, 1, "PER"), ((0, 0),)),
            ProjectedSpan(Span(5, 6, "LOC"), "heuristic", 0.5, Span(4, 5, "LOC"), ((4, 5),)),
        ),
        queued=True,
    )
    other = Suggestion(
        1,
        "ngram",
        7,
        0.8,
        (
            ProjectedSpan(Span(0, 1, "PER"), "ngram", 1.0, Span(0, 1, "PER"), ((0, 0),)),
            ProjectedSpan(Span(3, 4, "PER"), "ngram", 0.8, Span(2, 3, "PER"), ((2, 3),)),
        ),
    )
    values = {
        "sentence_id": 11,
        "corpus": "c",
        "src_lang": "en",
        "tgt_lang": "es",
        "split": "train",
        "position": 0,
        "pair_id": 5,
        "tgt_tokens": TGT,
        "src_tokens": SRC,
        "src_spans": (Span(0, 1, "PER"), Span(2, 3, "PER"), Span(4, 5, "LOC")),
        "tgt_gold": (),
        "state": StateView(11, ReviewStatus.UNREVIEWED, (Span(0, 1, "PER"), Span(5, 6, "LOC")), 0.5, 1, run_id=2),
        "suggestions": (other, queued),
        "links": ((0, 0), (1, 1), (2, 3), (3, 4), (4, 5)),
        "possible_links": ((3, 4),),
        "labels": ("LOC", "PER"),
    }
    values.update(changes)
    return ReviewItem(**values)


# --- the matrix -------------------------------------------------------------------------------------------------


def test_matrix_of_a_known_item_has_the_shape_links_and_highlights() -> None:
    item = known_item()
    matrix = matrix_view.item_matrix(item, item.state.spans)

    assert matrix.shape == (len(SRC), len(TGT))
    assert matrix.src_rows == {0, 2, 4} and matrix.tgt_cols == {0, 5}
    codes = matrix.codes
    assert (
        codes[0][0] == matrix_view.JUSTIFIES and codes[4][5] == matrix_view.JUSTIFIES
    )  # the queued run's justification
    assert codes[1][1] == matrix_view.SURE and codes[2][3] == matrix_view.SURE  # a link no queued span rests on
    assert codes[3][4] == matrix_view.POSSIBLE
    assert codes[2][0] == matrix_view.CROSS and codes[4][0] == matrix_view.CROSS  # entity row × projected column
    assert codes[2][2] == matrix_view.ENTITY and codes[1][5] == matrix_view.ENTITY and codes[1][0] == matrix_view.ENTITY
    assert codes[1][2] == matrix_view.EMPTY and codes[3][3] == matrix_view.EMPTY


def test_matrix_figure_is_a_heatmap_with_escaped_token_labels() -> None:
    item = known_item()
    figure = matrix_view.matrix_figure(matrix_view.item_matrix(item, item.state.spans), SRC, TGT)

    heatmap = figure.data[0]
    assert heatmap.type == "heatmap" and len(figure.data) == 1
    assert [list(row) for row in heatmap.z] == [
        list(row) for row in matrix_view.item_matrix(item, item.state.spans).codes
    ]
    assert list(figure.layout.yaxis.ticktext) == ["Ada", "met", "&lt;b&gt;Bob&lt;/b&gt;", "in", "Paris"]
    assert figure.layout.xaxis.ticktext[3] == "&lt;b&gt;Bob&lt;/b&gt;"
    assert figure.layout.yaxis.autorange == "reversed"  # the first source token on top
    assert list(heatmap.customdata[2][3][:2]) == ["&lt;b&gt;Bob&lt;/b&gt;", "&lt;b&gt;Bob&lt;/b&gt;"]
    assert heatmap.customdata[0][0][2] == "link justifying the projection"
    assert "<b>" not in json.dumps(figure.to_plotly_json(), default=str)
    quoted = matrix_view.matrix_figure(matrix_view.alignment_matrix(1, 1), ['"><img src=x>'], ["a&b"])
    assert quoted.layout.yaxis.ticktext == ('"&gt;&lt;img src=x&gt;',)  # Plotly shows &quot; literally
    assert quoted.layout.xaxis.ticktext == ("a&amp;b",)


def test_clickable_figure_has_one_point_per_cell() -> None:
    item = known_item()
    figure = matrix_view.matrix_figure(matrix_view.item_matrix(item, ()), SRC, TGT, clickable=True)
    cells = figure.data[1]
    assert cells.type == "scatter" and len(cells.x) == len(SRC) * len(TGT)
    assert (cells.y[7], cells.x[7]) == (1, 1)


def test_figure_dicts_are_valid_plotly_as_they_are_built_without_validation() -> None:
    item = known_item()
    for clickable in (False, True):
        matrix = matrix_view.item_matrix(item, item.state.spans)
        spec = matrix_view.matrix_figure_spec(matrix, SRC, TGT, clickable=clickable)
        validated = go.Figure(spec).to_dict()  # raises on an unknown property or a bad value
        assert matrix_view.matrix_figure(matrix, SRC, TGT, clickable=clickable).to_dict() == validated


def test_corrected_links_replace_the_alignment_and_keep_only_justifications_still_there() -> None:
    item = known_item()
    matrix = matrix_view.item_matrix(item, item.state.spans, links=[(0, 0), (1, 2)])
    assert matrix.codes[0][0] == matrix_view.JUSTIFIES and matrix.codes[1][2] == matrix_view.SURE
    assert matrix.codes[4][5] == matrix_view.CROSS  # the justifying link was removed
    assert matrix.codes[3][4] != matrix_view.POSSIBLE


def test_links_outside_the_sentences_are_ignored() -> None:
    matrix = matrix_view.alignment_matrix(2, 2, sure=[(0, 0), (5, 1), (1, 9)])
    assert matrix.codes == ((matrix_view.SURE, 0), (0, 0))


@pytest.fixture
def demo_store(store: Store, tmp_path: Path) -> Store:
    load_demo(store)
    links = import_alignments(store, DEMO / "en-es.align", corpus="demo-en-es", aligner="gold").run_id
    review.queue_projection(store, "demo-en-es", project_corpus(store, "demo-en-es", alignment_run=links).run_id)
    return store


def test_matrix_of_a_demo_item_marks_its_projection(demo_store: Store) -> None:
    item = review.next_item(demo_store, "demo-en-es")
    assert item is not None and item.suggestion is not None and item.links
    matrix = matrix_view.item_matrix(item, item.state.spans)

    assert matrix.shape == (len(item.src_tokens), len(item.tgt_tokens))
    justified = {link for p in item.suggestion.spans for link in p.links}
    assert (
        justified
        and {
            (i, j) for i, row in enumerate(matrix.codes) for j, code in enumerate(row) if code == matrix_view.JUSTIFIES
        }
        == justified
    )
    assert matrix.tgt_cols == {j for span in item.state.spans for j in range(span.start, span.end)}
    assert matrix.src_rows >= {i for span in item.src_spans for i in range(span.start, span.end)}
    drawn = {(i, j) for i, row in enumerate(matrix.codes) for j, code in enumerate(row) if code >= matrix_view.POSSIBLE}
    assert drawn == set(item.links)


def test_selected_cells_and_link_toggling() -> None:
    event = {"selection": {"points": [{"x": 3, "y": 1, "curve_number": 1}, {"x": "bad"}, {"y": 2}]}}
    assert matrix_view.selected_cells(event) == [(1, 3)]
    assert matrix_view.selected_cells(None) == [] and matrix_view.selected_cells({"selection": {}}) == []
    assert matrix_view.toggle_links([(0, 0)], [(0, 0), (1, 3)]) == ((1, 3),)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0-1 x", "malformed link 'x'"), ("2-0", r"link 2-0 is beyond the sentences \(2 source, 3 target tokens")],
)
def test_typed_links_are_checked(text: str, message: str) -> None:
    with pytest.raises(XnerError, match=message):
        matrix_view.pharaoh_to_links(text, n_src=2, n_tgt=3)
    assert matrix_view.pharaoh_to_links("", n_src=2, n_tgt=3) == ()
    assert matrix_view.links_to_pharaoh(matrix_view.pharaoh_to_links(" 1-2  0p0 ", n_src=2, n_tgt=3)) == "0-0 1-2"


# --- spans and methods ------------------------------------------------------------------------------------------


def test_span_edits() -> None:
    spans = (Span(0, 1, "PER"), Span(5, 6, "LOC"))
    added = view.add_span(spans, view.selection_to_span(2, 3, "ORG"))
    assert added == (Span(0, 1, "PER"), Span(2, 4, "ORG"), Span(5, 6, "LOC"))
    assert view.relabel_span(added, Span(2, 4, "ORG"), "MISC")[1] == Span(2, 4, "MISC")
    assert view.delete_span(added, Span(0, 1, "PER")) == (Span(2, 4, "ORG"), Span(5, 6, "LOC"))
    with pytest.raises(XnerError, match=r"the new entity \[0, 6\) X overlaps \[0, 1\) PER"):
        view.add_span(spans, Span(0, 6, "X"))
    with pytest.raises(XnerError, match="choose a label"):
        view.selection_to_span(1, 1, "")
    assert view.span_text(TGT, Span(3, 5, "PER")) == "[3, 5) <b>Bob</b> en"  # plain text: the page escapes it
    assert view.token_choice(TGT, 1) == "1: conoció"


# --- the token editor's data and what it sends ------------------------------------------------------------------


def test_label_keys_are_digits_in_legend_order_and_free_of_the_page_shortcuts() -> None:
    labels = ["PER", "LOC", "ORG", "DATE", "PER"]
    assert view.label_keys(labels) == {"1": "DATE", "2": "LOC", "3": "ORG", "4": "PER"}
    many = [f"L{n:02d}" for n in range(12)]
    assert list(view.label_keys(many).values()) == many[:9]  # the rest only in the menus
    shortcut_keys = {shortcut.key.split("+")[-1].lower() for shortcut in view.SHORTCUTS}
    assert not set(view.LABEL_KEYS) & (shortcut_keys | {"c", "r"})


def test_editor_data_carries_tokens_as_data_and_the_draft_with_its_revision() -> None:
    data = view.editor_data(TGT, (Span(5, 6, "LOC"), Span(0, 1, "GOLD")), ["PER", "LOC"], base=7, can_save=False)
    assert data["tokens"] == list(TGT)  # raw: the component sets textContent, never markup
    assert data["spans"] == [[0, 1, "GOLD"], [5, 6, "LOC"]]
    assert [(entry["label"], entry["key"]) for entry in data["labels"]] == [("LOC", "1"), ("PER", "2"), ("GOLD", "")]
    assert data["labels"][0]["colours"] == list(view.label_colours("LOC"))
    assert (data["base"], data["can_save"]) == (7, False)
    assert json.loads(json.dumps(data)) == data  # what the browser gets


def test_editor_change_is_checked_and_sorted() -> None:
    sent = {"spans": [[5, 6, "LOC"], [0, 2, "PER"]], "base": 3}
    change = view.editor_to_change(sent, n_tokens=len(TGT), labels={"PER", "LOC"})
    assert change == view.EditorChange((Span(0, 2, "PER"), Span(5, 6, "LOC")), 3)
    assert view.editor_to_change(None, n_tokens=6, labels={"PER"}) is None  # nothing sent yet
    assert view.editor_to_change({"spans": [], "base": 0}, n_tokens=6, labels=set()) == view.EditorChange((), 0)


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ({"spans": [[0, 7, "PER"]], "base": 1}, r"the span \[0, 7\) is outside the sentence's 6 tokens"),
        ({"spans": [[3, 3, "PER"]], "base": 1}, r"the span \[3, 3\) is outside"),
        ({"spans": [[0, 1, "<b>"]], "base": 1}, "unknown label '<b>'; known: LOC, PER"),
        ({"spans": [[0, 2, "PER"], [1, 2, "LOC"]], "base": 1}, r"\[1, 2\) LOC overlaps \[0, 2\) PER"),
        ({"spans": [["0", 1, "PER"]], "base": 1}, r"the span \['0', 1, 'PER'\]: expected \[start, end, label\]"),
        ({"spans": [[0, 1]], "base": 1}, "expected \\[start, end, label\\]"),
        ({"spans": "PER", "base": 1}, "expected spans and a draft revision"),
        ({"spans": [], "base": "1"}, "expected spans and a draft revision"),
    ],
)
def test_a_bad_editor_change_is_refused_with_the_reason(sent: dict, message: str) -> None:
    with pytest.raises(XnerError, match=message):
        view.editor_to_change(sent, n_tokens=6, labels={"PER", "LOC"})


def test_an_editor_change_from_an_older_draft_revision_is_ignored() -> None:
    draft = (Span(0, 1, "PER"),)
    edited = view.EditorChange((Span(0, 1, "PER"), Span(3, 4, "LOC")), base=4)
    assert view.editor_draft(edited, draft, 4) == edited.spans
    assert view.editor_draft(edited, draft, 5) == draft  # the menus, a reset or a reload changed it since
    assert view.editor_draft(None, draft, 4) == draft


def test_compare_methods_marks_the_disputed_spans() -> None:
    views = view.compare_methods(known_item().suggestions)
    assert [(v.run_id, v.method, v.queued) for v in views] == [(1, "ngram", False), (2, "heuristic", True)]
    assert views[0].disputed == (Span(3, 4, "PER"),) and views[0].disputed_tokens == (3,)
    assert views[1].disputed == (Span(5, 6, "LOC"),)
    assert view.methods_disagree(views)
    alone = view.compare_methods(known_item().suggestions[1:])
    assert not view.methods_disagree(alone) and view.compare_methods(()) == []


def test_shown_spans_in_a_second_review_are_the_suggestions() -> None:
    decided = StateView(11, ReviewStatus.CORRECTED, (), 0.5, 2, "ana", run_id=2)
    item = known_item(state=decided)
    assert view.shown_spans(item) == ()
    assert view.shown_spans(item, second_review=True) == (Span(0, 1, "PER"), Span(5, 6, "LOC"))
    assert view.shown_spans(known_item(state=decided, suggestions=()), second_review=True) == ()


# --- filters, shortcuts, legends, conflicts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (view.QueueFilters(), {"order": "confidence", "statuses": ("unreviewed",)}),
        (
            view.QueueFilters(view.ALL_REVIEWED, "disagreement", ("PER",), (0.25, 0.75), "ana"),
            {
                "order": "disagreement",
                "statuses": ("accepted", "corrected", "rejected"),
                "labels": ["PER"],
                "min_confidence": 0.25,
                "max_confidence": 0.75,
                "reviewer": "ana",
            },
        ),
        (
            view.QueueFilters("rejected", confidence=(0.0, 0.5)),
            {"order": "confidence", "statuses": ("rejected",), "max_confidence": 0.5},
        ),
        (
            view.QueueFilters(view.SECOND_REVIEW, me="bob"),
            {"order": "confidence", "statuses": ("accepted", "corrected", "rejected"), "not_decided_by": "bob"},
        ),
    ],
)
def test_queue_filters_become_next_item_arguments(filters: view.QueueFilters, expected: dict) -> None:
    assert filters.next_item_args() == expected


def test_queue_filters_refuse_unknown_status_and_anonymous_second_review() -> None:
    with pytest.raises(XnerError, match="unknown queue status 'done'; known: accepted, corrected, rejected"):
        view.QueueFilters("done").next_item_args()
    with pytest.raises(XnerError, match="the second review needs your name"):
        view.QueueFilters(view.SECOND_REVIEW).next_item_args()


def test_shortcuts_are_distinct_and_not_reserved_by_streamlit() -> None:
    keys = [shortcut.key for shortcut in view.SHORTCUTS]
    assert len(set(keys)) == len(keys)
    assert not {"c", "r"} & {key.split("+")[-1].lower() for key in keys}
    page = (REPO / "pages" / "1_Review.py").read_text(encoding="utf-8")
    for action in view.KEYS:
        assert f'view.KEYS["{action}"]' in page, action
    assert [row["key"] for row in view.shortcut_rows()] == ["A", "X", "S", "N", "U", "Ctrl+Enter", "L"]


def test_legends_escape_labels() -> None:
    legend = view.label_legend_html(["<script>alert(1)</script>", "PER", "PER"])
    assert legend.count("xner-ent") == 2 and "<script>" not in legend and "&#60;script&#62;" in legend
    assert "link justifying the projection" in matrix_view.matrix_legend_html()


def test_conflict_summary_names_who_when_and_what() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = EventView(
        1, 11, "bob", "correct", ReviewStatus.UNREVIEWED, ReviewStatus.CORRECTED, (), (Span(0, 1, "PER"),), 3, at
    )
    assert view.conflict_summary(None, event) == (
        "bob decided it (correct: corrected, 1 entities) at 2026-01-02 03:04:05 UTC; it is now at version 3"
    )
    assert view.conflict_spans(None, event) == (Span(0, 1, "PER"),)
    requeued = StateView(11, ReviewStatus.UNREVIEWED, (Span(2, 3, "LOC"),), 0.5, 4, "lead")
    assert (
        view.conflict_summary(requeued, None)
        == "its suggestion was re-queued by lead; it is now unreviewed at version 4"
    )
    assert view.conflict_spans(requeued, None) == (Span(2, 3, "LOC"),)


def test_run_label() -> None:
    run = review.QueuedRunInfo(4, "ngram", None, None, "ana")
    assert view.run_label(run) == "run 4 · ngram · by ana"
    aligned = review.QueuedRunInfo(5, "heuristic", 2, datetime(2026, 12, 7, 4, 10), "")
    assert view.run_label(aligned) == "run 5 · heuristic over alignment 2 · 2026-12-07 04:10"


def test_items_carry_possible_links_and_the_overview_counts(store: Store, tmp_path: Path) -> None:
    """The service additions the page relies on: possible links of the queued alignment, and the overview."""
    load_demo(store)
    lines = (DEMO / "en-es.align").read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("0-0", "0p0", 1)
    align = tmp_path / "possible.align"
    align.write_text("\n".join(lines) + "\n", encoding="utf-8")
    links = import_alignments(store, align, corpus="demo-en-es", aligner="gold-p").run_id
    run = project_corpus(store, "demo-en-es", alignment_run=links).run_id
    review.queue_projection(store, "demo-en-es", run)

    overview = review.queue_overview(store, "demo-en-es")
    assert overview.queued_run == run and overview.runs[-1].id == run and overview.runs[-1].method == "heuristic"
    assert overview.total == 100 and overview.reviewed == 0 and overview.progress["unreviewed"] == 100
    with store.session() as session:
        first_target = session.scalar(
            select(SentencePair.tgt_sentence_id)
            .join(Corpus, Corpus.id == SentencePair.corpus_id)
            .where(Corpus.name == "demo-en-es", SentencePair.position == 0)
        )
    item = review.get_item(store, first_target)
    assert item.possible_links == ((0, 0),) and (0, 0) in item.links
    assert matrix_view.item_matrix(item, ()).codes[0][0] in (matrix_view.POSSIBLE, matrix_view.JUSTIFIES)
    item = review.next_item(store, "demo-en-es")
    assert item is not None
    review.record_decision(
        store, item.sentence_id, reviewer="ana", action="reject", expected_version=item.state.version
    )
    overview = review.queue_overview(store, "demo-en-es")
    assert overview.reviewed == 1 and overview.progress["rejected"] == 1


# --- long pairs: the matrix in windows ---------------------------------------------------------------------------


def test_a_small_matrix_is_shown_whole() -> None:
    item = known_item()
    matrix = matrix_view.item_matrix(item, item.state.spans)
    [whole] = matrix_view.matrix_windows(matrix, SRC, TGT, matrix_view.window_focuses(item, item.state.spans))
    assert (whole.rows, whole.cols) == (range(5), range(6))


def diagonal(n_src: int, n_tgt: int, spans: list[Span]) -> matrix_view.Matrix:
    return matrix_view.alignment_matrix(
        n_src, n_tgt, sure=[(i, i * n_tgt // n_src) for i in range(n_src)], src_spans=spans
    )


@pytest.mark.parametrize(
    ("focus", "rows", "cols"),
    [
        ((Span(40, 42, "PER"), None), range(31, 51), range(28, 48)),  # target columns from the entity's links
        ((Span(0, 1, "ORG"), Span(2, 3, "ORG")), range(0, 20), range(0, 20)),  # at the start: clamped
        ((Span(59, 60, "LOC"), None), range(40, 60), range(37, 57)),  # at the end: clamped
        ((None, Span(30, 32, "DATE")), range(23, 43), range(21, 41)),  # source rows from the links
    ],
)
def test_a_long_matrix_is_windowed_around_each_entity(
    focus: tuple[Span | None, Span | None], rows: range, cols: range
) -> None:
    src, tgt = [f"s{i}" for i in range(60)], [f"t{j}" for j in range(57)]
    matrix = diagonal(60, 57, [focus[0]] if focus[0] else [])
    window, whole = matrix_view.matrix_windows(matrix, src, tgt, [focus])
    assert (window.rows, window.cols) == (rows, cols)
    assert (whole.rows, whole.cols, whole.title) == (range(60), range(57), "the whole matrix (60 × 57 tokens, scroll)")
    entity = focus[0] or focus[1]
    assert entity is not None and entity.label in window.title
    for span, shown in ((focus[0], window.rows), (focus[1], window.cols)):
        if span is not None:
            assert shown.start <= span.start and span.end <= shown.stop  # the entity is in view
    table = matrix_view.matrix_html(matrix, src, tgt, rows=window.rows, cols=window.cols)
    assert table.count("<td") == 20 * 20 and f">s{rows.start}<" in table and f">t{cols.stop - 1}<" in table


def test_a_long_matrix_without_entities_starts_at_the_top() -> None:
    src, tgt = ["a"] * 30, ["b"] * 25
    window, _ = matrix_view.matrix_windows(diagonal(30, 25, []), src, tgt, [])
    assert (window.rows, window.cols, window.title) == (range(20), range(20), "the start · source 0–19 × target 0–19")
    assert matrix_view.matrix_html(diagonal(30, 25, []), src, tgt).count("<td") == 30 * 25


def test_window_focuses_pair_each_projection_with_its_source() -> None:
    item = known_item()
    extra = Span(1, 2, "MISC")  # a shown target span no run proposed
    focuses = matrix_view.window_focuses(item, (*item.state.spans, extra))
    assert focuses == [
        (Span(0, 1, "PER"), Span(0, 1, "PER")),
        (Span(2, 3, "PER"), None),  # a source entity the queued run did not project ("Bob")
        (Span(4, 5, "LOC"), Span(5, 6, "LOC")),
        (None, extra),
    ]
