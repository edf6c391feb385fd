"""What the review page shows and edits, without Streamlit: queue filters, span edits, method comparison, the
alignment matrix figure and the keyboard shortcuts.

The page (``pages/1_Review.py``) only renders these and collects input; everything here is plain data in, plain
data out, so it is unit-tested without a browser. User strings reach HTML and Plotly only through
``xner.ui.render`` (:func:`~xner.ui.render.html`, :func:`~xner.ui.render.plotly_text`): Plotly reads a few HTML
tags in tick labels and hover text, so the figure's tokens are escaped for it.

>>> selection_to_span(2, 3, "LOC")
Span(start=2, end=4, label='LOC')
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from xner.errors import XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.review import QueuePreferences, ReviewItem, SearchHit, Suggestion
from xner.services.runs import run_label as run_label  # one label for a run on every page
from xner.types import REVIEWED_STATUSES, Alignment, Link, ReviewStatus, Span
from xner.ui.render import Html, colour_key, html_text, label_colours, plotly_text
from xner.ui.render import label_legend_html as label_legend_html  # the page's legend of labels

# --- keyboard shortcuts (Streamlit's native ``st.button(shortcut=...)``; "C" and "R" are reserved by Streamlit) --


@dataclass(frozen=True, slots=True)
class Shortcut:
    action: str
    key: str  # as st.button's ``shortcut`` takes it
    does: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("accept", "a", "the spans are right as shown: record them and load the next item"),
    Shortcut("reject", "x", "the sentence is unusable (bad translation or alignment): leave it out of training data"),
    Shortcut("skip", "s", "decide later: leave the item for this session, record nothing"),
    Shortcut("next", "n", "browse to the next item in queue order without deciding"),
    Shortcut("undo", "u", "revert your last decision of this session and show that item again"),
    Shortcut("save correction", "ctrl+enter", "record the corrected spans (added, deleted or relabelled entities)"),
    Shortcut("reload", "l", "load the shown item again (after somebody else changed it)"),
)
KEYS = {shortcut.action: shortcut.key for shortcut in SHORTCUTS}


def shortcut_rows() -> list[dict[str, str]]:
    """The shortcut table as rows for a dataframe.

    >>> shortcut_rows()[0]
    {'key': 'A', 'action': 'accept', 'what it does': 'the spans are right as shown: record them and load the next item'}
    """
    return [{"key": _key_name(s.key), "action": s.action, "what it does": s.does} for s in SHORTCUTS]


def _key_name(key: str) -> str:
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


# --- the queue filters ---------------------------------------------------------------------------------------

UNREVIEWED = "unreviewed"
ALL_REVIEWED = "reviewed (accepted, corrected or rejected)"
SECOND_REVIEW = "second review: items decided by others, not me"
STATUS_CHOICES: tuple[str, ...] = (
    UNREVIEWED,
    ALL_REVIEWED,
    ReviewStatus.ACCEPTED.value,
    ReviewStatus.CORRECTED.value,
    ReviewStatus.REJECTED.value,
    SECOND_REVIEW,
)
ORDER_CHOICES: dict[str, str] = {"lowest confidence first": "confidence", "most disagreement first": "disagreement"}


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The sidebar's queue choices, turned into :func:`xner.services.review.next_item` arguments."""

    status: str = UNREVIEWED  # one of STATUS_CHOICES
    order: str = "confidence"
    labels: tuple[str, ...] = ()
    confidence: tuple[float, float] = (0.0, 1.0)
    decided_by: str = ""  # only items this reviewer decided
    me: str = ""  # the reviewer using the page (for the second review)

    @property
    def is_second_review(self) -> bool:
        return self.status == SECOND_REVIEW

    @property
    def is_default(self) -> bool:
        """The whole queue of unreviewed items (no label, confidence or reviewer filter), in any order.

        >>> QueueFilters().is_default, QueueFilters(labels=("PER",)).is_default
        (True, False)
        """
        return (self.status, self.labels, self.confidence, self.decided_by) == (UNREVIEWED, (), (0.0, 1.0), "")

    def next_item_args(self) -> dict[str, Any]:
        """Keyword arguments for ``next_item`` (without ``skip``/``after``).

        >>> QueueFilters(SECOND_REVIEW, me="ana", confidence=(0.2, 1.0)).next_item_args()["not_decided_by"]
        'ana'
        >>> QueueFilters().next_item_args()
        {'order': 'confidence', 'statuses': ('unreviewed',)}
        """
        if self.status not in STATUS_CHOICES:
            raise XnerError(f"unknown queue status {self.status!r}; known: {', '.join(STATUS_CHOICES)}")
        if self.is_second_review and not self.me:
            raise XnerError("the second review needs your name: enter it in the sidebar")
        args: dict[str, Any] = {"order": self.order, "statuses": self._statuses()}
        if self.labels:
            args["labels"] = list(self.labels)
        low, high = self.confidence
        if low > 0.0:
            args["min_confidence"] = low
        if high < 1.0:
            args["max_confidence"] = high
        if self.decided_by:
            args["reviewer"] = self.decided_by
        if self.is_second_review:
            args["not_decided_by"] = self.me
        return args

    def _statuses(self) -> tuple[str, ...]:
        if self.status == UNREVIEWED:
            return (ReviewStatus.UNREVIEWED.value,)
        if self.status in (ALL_REVIEWED, SECOND_REVIEW):
            return tuple(status.value for status in REVIEWED_STATUSES)
        return (self.status,)


def filters_to_preferences(filters: QueueFilters) -> QueuePreferences:
    """The queue choices of ``filters`` that a reviewer keeps across sessions (not the reviewer filter).

    >>> filters_to_preferences(QueueFilters(labels=("PER",), confidence=(0.2, 0.8))).labels
    ('PER',)
    """
    low, high = filters.confidence
    return QueuePreferences(filters.order, filters.status, tuple(sorted(filters.labels)), (low, high))


def preferences_to_choices(preferences: QueuePreferences, labels: Collection[str]) -> dict[str, Any]:
    """Saved queue choices as the sidebar's widget values (``order``, ``status``, ``labels``, ``confidence``),
    leaving out those the page no longer offers (an unknown status or order, labels the corpus lacks).

    >>> preferences_to_choices(QueuePreferences("disagreement", "gone", ("PER", "X"), (0.1, 0.9)), ["PER"])
    {'order': 'most disagreement first', 'labels': ['PER'], 'confidence': (0.1, 0.9)}
    """
    choices: dict[str, Any] = {}
    order = next((name for name, key in ORDER_CHOICES.items() if key == preferences.order), None)
    if order is not None:
        choices["order"] = order
    if preferences.status in STATUS_CHOICES:
        choices["status"] = preferences.status
    choices["labels"] = [label for label in preferences.labels if label in labels]
    low, high = preferences.confidence
    if 0.0 <= low <= high <= 1.0:
        choices["confidence"] = (float(low), float(high))
    return choices


def hit_snippet(hit: SearchHit, *, context: int = 6) -> tuple[tuple[str, ...], int, bool, bool]:
    """The tokens around a search hit: the tokens, the hit's index among them, and whether tokens were cut before
    and after.

    >>> hit = SearchHit(1, 1, "test", 0, "target", tuple("abcdefghij"), 5)
    >>> hit_snippet(hit, context=2)
    (('d', 'e', 'f', 'g', 'h'), 2, True, True)
    """
    start = max(hit.token_idx - context, 0)
    stop = min(hit.token_idx + context + 1, len(hit.tokens))
    return hit.tokens[start:stop], hit.token_idx - start, start > 0, stop < len(hit.tokens)


def shown_spans(item: ReviewItem, *, second_review: bool = False) -> tuple[Span, ...]:
    """The spans the page shows and a decision sends: the current ones, or in a second review the queued
    suggestion's (independent of the first reviewer), falling back to the current ones without a suggestion."""
    suggestion = item.suggestion
    if second_review and suggestion is not None:
        return tuple(sorted(p.span for p in suggestion.spans))
    return item.state.spans


# --- span edits ----------------------------------------------------------------------------------------------


def selection_to_span(first: int, last: int, label: str) -> Span:
    """The span from token ``first`` to token ``last`` (both included, as the reviewer picks them), half-open.

    >>> selection_to_span(4, 4, "PER")
    Span(start=4, end=5, label='PER')
    >>> selection_to_span(3, 1, "PER")
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: the last token (1) comes before the first (3): pick the first token of the entity first
    """
    if last < first:
        raise XnerError(
            f"the last token ({last}) comes before the first ({first}): pick the first token of the entity first"
        )
    if not label:
        raise XnerError("choose a label for the new entity")
    return Span(first, last + 1, label)


def add_span(spans: Iterable[Span], span: Span) -> tuple[Span, ...]:
    """``spans`` with ``span`` added; an overlap with an existing span is an error naming both.

    >>> add_span([Span(0, 2, "PER")], Span(3, 4, "LOC"))
    (Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC'))
    >>> add_span([Span(0, 2, "PER")], Span(1, 3, "LOC"))
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: the new entity [1, 3) LOC overlaps [0, 2) PER: delete or relabel that one instead
    """
    current = tuple(spans)
    for other in current:
        if other.overlaps(span):
            raise XnerError(
                f"the new entity [{span.start}, {span.end}) {span.label} overlaps [{other.start}, {other.end}) "
                f"{other.label}: delete or relabel that one instead"
            )
    return tuple(sorted((*current, span)))


def delete_span(spans: Iterable[Span], span: Span) -> tuple[Span, ...]:
    """``spans`` without ``span``.

    >>> delete_span([Span(0, 2, "PER"), Span(3, 4, "LOC")], Span(0, 2, "PER"))
    (Span(start=3, end=4, label='LOC'),)
    """
    return tuple(sorted(s for s in spans if s != span))


def relabel_span(spans: Iterable[Span], span: Span, label: str) -> tuple[Span, ...]:
    """``spans`` with ``span`` given ``label``.

    >>> relabel_span([Span(0, 2, "PER")], Span(0, 2, "PER"), "ORG")
    (Span(start=0, end=2, label='ORG'),)
    """
    return tuple(sorted(Span(s.start, s.end, label) if s == span else s for s in spans))


def span_text(tokens: Sequence[str], span: Span) -> str:
    """A span as plain text for widget labels: ``[start, end) tokens``.

    >>> span_text(["Ada", "Lovelace", "sang"], Span(0, 2, "PER"))
    '[0, 2) Ada Lovelace'
    """
    return f"[{span.start}, {span.end}) {' '.join(span.tokens(tokens))}"


def token_choice(tokens: Sequence[str], index: int) -> str:
    """How a token is offered in a select box: ``index: token``."""
    return f"{index}: {tokens[index]}"


# --- editing on the sentence (the token editor component, ``xner/ui/token_editor``) ------------------------------

LABEL_KEYS = "123456789"  # digits: the page's letters (A, X, S, N, U, L; C and R) stay free for its shortcuts


@dataclass(frozen=True, slots=True)
class EditorChange:
    """What the token editor sent: the whole draft as the reviewer left it, and the draft revision (``base``) it
    was edited from. A change from an older revision (the draft was changed since by the menus, a reset or a
    reload) is stale and ignored."""

    spans: tuple[Span, ...]
    base: int


EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("click · shift-click · drag", "select tokens (a click on an entity selects it; a second click, that token alone)"),
    ("← → · Shift+← →", "move or extend the selection from the keyboard (Tab into the sentence first)"),
    ("1 … 9", "give the selected tokens the label with that key on the legend (entities they touch are replaced)"),
    ("Backspace · Delete", "remove the entities the selection touches"),
    ("Esc", "clear the selection"),
    ("Ctrl+Enter", "save the correction"),
)


def editor_key_rows() -> list[dict[str, str]]:
    """The token editor's keys as rows for a dataframe (beside :func:`shortcut_rows`).

    >>> editor_key_rows()[-1]
    {'on the sentence': 'Ctrl+Enter', 'what it does': 'save the correction'}
    """
    return [{"on the sentence": keys, "what it does": does} for keys, does in EDITOR_KEYS]


def editor_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """The labels the editor offers, in key order: the item's labels sorted, one key each (1..9).

    >>> editor_labels(["PER", "LOC", "PER", "ORG"])
    ('LOC', 'ORG', 'PER')
    """
    return tuple(sorted(set(labels)))


def label_keys(labels: Iterable[str]) -> dict[str, str]:
    """The key that gives the selected tokens each label: 1..9 in the legend's (sorted) order. Labels after the
    ninth get no key (the menus below the sentence still offer them).

    >>> label_keys(["PER", "LOC", "ORG"])
    {'1': 'LOC', '2': 'ORG', '3': 'PER'}
    """
    return dict(zip(LABEL_KEYS, editor_labels(labels), strict=False))


def editor_data(
    tokens: Sequence[str], spans: Iterable[Span], labels: Iterable[str], *, base: int, can_save: bool
) -> dict[str, Any]:
    """What the token editor is given (JSON): the tokens (shown as text, never as markup), the draft's spans as
    ``[start, end, label]``, each label with its key and colours, the draft revision and whether Ctrl+Enter may
    save.

    >>> data = editor_data(["Ada", "<b>"], [Span(0, 1, "PER")], ["PER"], base=3, can_save=True)
    >>> data["tokens"], data["spans"], data["labels"][0]["key"], data["base"]
    (['Ada', '<b>'], [[0, 1, 'PER']], '1', 3)
    """
    keys = {label: key for key, label in label_keys(labels).items()}
    offered = [*editor_labels(labels), *sorted({s.label for s in spans} - set(keys))]
    return {
        "tokens": list(tokens),
        "spans": [[span.start, span.end, span.label] for span in sorted(spans)],
        "labels": [
            {"label": label, "key": keys.get(label, ""), "colours": list(label_colours(label))} for label in offered
        ],
        "base": base,
        "can_save": can_save,
    }


def editor_to_change(value: object, *, n_tokens: int, labels: Collection[str]) -> EditorChange | None:
    """The editor's value (``{"spans": [[start, end, label], ...], "base": n}``, from the browser, so checked)
    as an :class:`EditorChange`; ``None`` when there is none. Spans beyond the sentence, overlapping or with a label
    the item does not know are an error naming them.

    >>> editor_to_change({"spans": [[2, 4, "LOC"], [0, 1, "PER"]], "base": 1}, n_tokens=4, labels={"LOC", "PER"})
    EditorChange(spans=(Span(start=0, end=1, label='PER'), Span(start=2, end=4, label='LOC')), base=1)
    >>> editor_to_change({"spans": [[0, 2, "PER"], [1, 3, "LOC"]], "base": 1}, n_tokens=4, labels={"LOC", "PER"})
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: the new entity [1, 3) LOC overlaps [0, 2) PER: delete or relabel that one instead
    """
    if not isinstance(value, Mapping) or "spans" not in value:
        return None
    base, raw = value.get("base"), value["spans"]
    if not isinstance(base, int) or not isinstance(raw, list):
        raise XnerError(f"the sentence editor sent {value!r}: expected spans and a draft revision")
    spans: tuple[Span, ...] = ()
    for entry in raw:
        if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, int) for x in entry[:2])):
            raise XnerError(f"the sentence editor sent the span {entry!r}: expected [start, end, label]")
        start, end, label = entry
        if not 0 <= start < end <= n_tokens:
            raise XnerError(f"the span [{start}, {end}) is outside the sentence's {n_tokens} tokens")
        if label not in labels:
            raise XnerError(f"unknown label {label!r}; known: {', '.join(sorted(labels))}")
        spans = add_span(spans, Span(start, end, label))
    return EditorChange(spans, base)


def editor_draft(change: EditorChange | None, draft: tuple[Span, ...], base: int) -> tuple[Span, ...]:
    """The draft after the editor's ``change``: its spans when it was edited from the current revision ``base``,
    else ``draft`` unchanged (a stale change, or none).

    >>> editor_draft(EditorChange((Span(0, 1, "PER"),), base=2), (), 2)
    (Span(start=0, end=1, label='PER'),)
    >>> editor_draft(EditorChange((Span(0, 1, "PER"),), base=1), (), 2)
    ()
    """
    if change is None or change.base != base:
        return draft
    return change.spans


# --- projection methods side by side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodView:
    """One projection run's spans for the item, and those not every method proposes."""

    run_id: int
    method: str
    alignment_run_id: int | None
    confidence: float
    spans: tuple[Span, ...]
    disputed: tuple[Span, ...]  # spans of this run that some other run does not propose
    queued: bool

    @property
    def disputed_tokens(self) -> tuple[int, ...]:
        return tuple(sorted({i for span in self.disputed for i in range(span.start, span.end)}))


def compare_methods(suggestions: Sequence[Suggestion]) -> list[MethodView]:
    """Each projection run's spans, with the spans the runs do not all agree on (empty with a single run)."""
    sets = [frozenset(p.span for p in s.spans) for s in suggestions]
    shared = frozenset.intersection(*sets) if sets else frozenset()
    return [
        MethodView(
            s.run_id,
            s.method,
            s.alignment_run_id,
            s.confidence,
            tuple(sorted(spans)),
            tuple(sorted(spans - shared)),
            s.queued,
        )
        for s, spans in zip(suggestions, sets, strict=True)
    ]


def methods_disagree(views: Sequence[MethodView]) -> bool:
    """True when two runs propose different spans."""
    return any(view.disputed for view in views)


# --- the alignment matrix ------------------------------------------------------------------------------------

EMPTY, ENTITY, CROSS, POSSIBLE, SURE, JUSTIFIES = range(6)
CELL_NAMES = {
    EMPTY: "",
    ENTITY: "source entity row / projected target column",
    CROSS: "source entity × projected target",
    POSSIBLE: "possible link",
    SURE: "sure link",
    JUSTIFIES: "link justifying the projection",
}
CELL_COLOURS = {
    EMPTY: "#ffffff",
    ENTITY: "#fef3c7",
    CROSS: "#fde68a",
    POSSIBLE: "#93c5fd",
    SURE: "#1d4ed8",
    JUSTIFIES: "#dc2626",
}


@dataclass(frozen=True, slots=True)
class Matrix:
    """The alignment matrix as cell codes: ``codes[i][j]`` for source token i × target token j."""

    codes: tuple[tuple[int, ...], ...]
    src_rows: frozenset[int]  # highlighted rows: source entity tokens
    tgt_cols: frozenset[int]  # highlighted columns: tokens of the shown target spans

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.codes), len(self.codes[0]) if self.codes else 0


def alignment_matrix(
    n_src: int,
    n_tgt: int,
    *,
    sure: Collection[Link] = (),
    possible: Collection[Link] = (),
    justified: Collection[Link] = (),
    src_spans: Iterable[Span] = (),
    tgt_spans: Iterable[Span] = (),
) -> Matrix:
    """Cell codes of the matrix: links (sure, possible, justifying the projection) over highlighted rows of source
    entity tokens and columns of target span tokens. Links outside the sentences are ignored.

    >>> m = alignment_matrix(2, 3, sure=[(0, 1)], possible=[(1, 2)], src_spans=[Span(0, 1, "PER")])
    >>> m.codes
    ((1, 4, 1), (0, 0, 3))
    """
    rows = frozenset(i for span in src_spans for i in range(span.start, min(span.end, n_src)))
    cols = frozenset(j for span in tgt_spans for j in range(span.start, min(span.end, n_tgt)))
    grid = [[(i in rows) + (j in cols) for j in range(n_tgt)] for i in range(n_src)]
    for code, links in ((POSSIBLE, possible), (SURE, sure), (JUSTIFIES, justified)):
        for i, j in links:
            if 0 <= i < n_src and 0 <= j < n_tgt:
                grid[i][j] = code
    return Matrix(tuple(tuple(row) for row in grid), rows, cols)


def item_matrix(item: ReviewItem, spans: Iterable[Span], *, links: Collection[Link] | None = None) -> Matrix:
    """The matrix of ``item``: its alignment (``links`` when given, e.g. a reviewer's corrected ones, all sure),
    its source entities (gold and those the runs projected from), the shown target ``spans``, and the links the
    queued suggestion names as its justification."""
    suggestion = item.suggestion
    justified = {link for p in suggestion.spans for link in p.links} if suggestion else set()
    sources = set(item.src_spans) | {p.src_span for s in item.suggestions for p in s.spans if p.src_span is not None}
    if links is None:
        possible = set(item.possible_links)
        sure = set(item.links) - possible
    else:
        sure, possible, justified = set(links), set(), justified & set(links)
    return alignment_matrix(
        len(item.src_tokens),
        len(item.tgt_tokens),
        sure=sure,
        possible=possible,
        justified=justified,
        src_spans=sources,
        tgt_spans=spans,
    )


def _colourscale() -> list[list[Any]]:
    """A discrete colour scale over the cell codes 0..5."""
    top = max(CELL_COLOURS)
    scale: list[list[Any]] = []
    for code, colour in sorted(CELL_COLOURS.items()):
        scale.append([code / (top + 1), colour])
        scale.append([(code + 1) / (top + 1), colour])
    return scale


def matrix_figure(
    matrix: Matrix, src_tokens: Sequence[str], tgt_tokens: Sequence[str], *, clickable: bool = False
) -> go.Figure:
    """The matrix as a Plotly heatmap: source tokens down, target tokens across (escaped tick and hover text).
    ``clickable`` adds a transparent point per cell, so that a click selects that cell (heatmaps cannot be
    selected in Plotly) and the page can toggle its link.

    The figure is built from plain dicts and not validated again by Plotly: validation took 20-40 ms a figure,
    most of a review page's rerun. ``tests/test_review_view.py`` checks that the dicts are valid Plotly."""
    return go.Figure(matrix_figure_spec(matrix, src_tokens, tgt_tokens, clickable=clickable), _validate=False)


def matrix_figure_spec(
    matrix: Matrix, src_tokens: Sequence[str], tgt_tokens: Sequence[str], *, clickable: bool = False
) -> dict[str, Any]:
    """The Plotly figure of :func:`matrix_figure` as a dict (``data`` and ``layout``)."""
    n_src, n_tgt = matrix.shape
    src = [plotly_text(token) for token in src_tokens]
    tgt = [plotly_text(token) for token in tgt_tokens]
    hover = [
        [[src[i], tgt[j], CELL_NAMES[matrix.codes[i][j]] or "no link"] for j in range(n_tgt)] for i in range(n_src)
    ]
    traces: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "z": [list(row) for row in matrix.codes],
            "x": list(range(n_tgt)),
            "y": list(range(n_src)),
            "zmin": -0.5,  # each code sits in the middle of its colour band
            "zmax": max(CELL_COLOURS) + 0.5,
            "colorscale": _colourscale(),
            "showscale": False,
            "xgap": 1,
            "ygap": 1,
            "customdata": hover,
            "hovertemplate": "%{y}: %{customdata[0]} × %{x}: %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        }
    ]
    if clickable:
        cells = [(i, j) for i in range(n_src) for j in range(n_tgt)]
        traces.append(
            {
                "type": "scatter",
                "x": [j for _, j in cells],
                "y": [i for i, _ in cells],
                "mode": "markers",
                "marker": {"size": 14, "opacity": 0.01, "symbol": "square"},
                "hoverinfo": "none",  # hover events (a click needs them) without a label
                "showlegend": False,
            }
        )
    axis = {"showgrid": False, "zeroline": False}
    layout = {
        "height": max(260, 24 * n_src + 140),
        "margin": {"l": 10, "r": 10, "t": 110, "b": 10},
        "clickmode": "event+select",
        "dragmode": "select" if clickable else False,
        "plot_bgcolor": "#ffffff",
        "xaxis": {"tickvals": list(range(n_tgt)), "ticktext": tgt, "side": "top", "tickangle": -50, **axis},
        "yaxis": {"tickvals": list(range(n_src)), "ticktext": src, "autorange": "reversed", **axis},
    }
    return {"data": traces, "layout": layout}


WINDOW_ROWS = 20  # source tokens a window shows: with WINDOW_COLS, readable in half of a 1440 px page
WINDOW_COLS = 20  # target tokens a window shows

MATRIX_STYLE = Html(
    "<style>"
    ".xner-mx-wrap { overflow: auto; max-width: 100%; max-height: 34em; }"
    ".xner-mx { border-collapse: separate; border-spacing: 1px; font-size: 0.75em; line-height: 1; }"
    " .xner-mx td { width: 15px; min-width: 15px; height: 15px; padding: 0; border: 1px solid #eee; }"
    " .xner-mx th { font-weight: normal; padding: 0 4px 0 0; white-space: nowrap; background: #ffffff; }"
    " .xner-mx th.xner-mx-row { text-align: right; max-width: 10em; overflow: hidden; text-overflow: ellipsis;"
    " position: sticky; left: 0; z-index: 1; }"
    " .xner-mx th.xner-mx-col { vertical-align: bottom; padding: 0 0 4px 0; max-height: 10em;"
    " position: sticky; top: 0; z-index: 1; }"
    " .xner-mx th.xner-mx-corner { position: sticky; top: 0; left: 0; z-index: 2; }"
    " .xner-mx th.xner-mx-col span { writing-mode: vertical-rl; transform: rotate(180deg); display: inline-block;"
    " max-height: 10em; overflow: hidden; text-overflow: ellipsis; }"
    " .xner-mx .xner-mx-on { font-weight: 600; }"
    "</style>"
)


def matrix_html(
    matrix: Matrix,
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    *,
    rows: range | None = None,
    cols: range | None = None,
) -> Html:
    """The matrix as an HTML table, source tokens down and target tokens across, each cell coloured by its code
    (link cells carry a tooltip: the two tokens and the kind of link); every token escaped. ``rows`` and ``cols``
    show a window of it (default: all). The table scrolls in its box with the token headers kept in view.

    The review page shows this on every item instead of a Plotly heatmap: a browser draws the table for about half
    the CPU of the whole page with the heatmap (benchmarks/review_load.py, 8 browsers on 2 cores: 0.66 CPU-s per
    press with the heatmap, 0.38 without), which is what decides how many reviewers one machine serves. The
    clickable Plotly chart (:func:`matrix_figure`) remains for fixing links.

    >>> m = alignment_matrix(1, 2, sure=[(0, 1)], src_spans=[Span(0, 1, "PER")])
    >>> table = matrix_html(m, ["<Ada>"], ["a", "b"])
    >>> "&#60;Ada&#62;" in table and "<Ada>" not in table and table.count("<td") == 2
    True
    >>> matrix_html(m, ["<Ada>"], ["a", "b"], cols=range(1, 2)).count("<td")
    1
    """
    n_src, n_tgt = matrix.shape
    rows = range(n_src) if rows is None else range(max(rows.start, 0), min(rows.stop, n_src))
    cols = range(n_tgt) if cols is None else range(max(cols.start, 0), min(cols.stop, n_tgt))
    header = "".join(
        f'<th class="xner-mx-col{" xner-mx-on" if j in matrix.tgt_cols else ""}" '
        f'title="{j}: {html_text(tgt_tokens[j])}"><span>{html_text(tgt_tokens[j])}</span></th>'
        for j in cols
    )
    body = []
    for i in rows:
        token = src_tokens[i]
        cells = []
        for j in cols:
            code = matrix.codes[i][j]
            tip = ""
            if code >= POSSIBLE:
                tip = f' title="{i}: {html_text(token)} × {j}: {html_text(tgt_tokens[j])} · {CELL_NAMES[code]}"'
            cells.append(f'<td style="background:{CELL_COLOURS[code]}"{tip}></td>')
        on = " xner-mx-on" if i in matrix.src_rows else ""
        body.append(f'<tr><th class="xner-mx-row{on}" title="{i}: {html_text(token)}">{html_text(token)}</th>')
        body.append("".join(cells) + "</tr>")
    table = f'<table class="xner-mx"><tr><th class="xner-mx-corner"></th>{header}</tr>{"".join(body)}</table>'
    return Html(f'{MATRIX_STYLE}<div class="xner-mx-wrap">{table}</div>')


@dataclass(frozen=True, slots=True)
class MatrixWindow:
    """A part of the matrix to show: a title (plain text) and its source rows and target columns."""

    title: str
    rows: range
    cols: range


def window_focuses(item: ReviewItem, spans: Iterable[Span]) -> list[tuple[Span | None, Span | None]]:
    """The entities a window can centre on, in source order: (source span, target span) of each projected span
    of the queued suggestion, then the source entities it did not project and the shown target spans it did not
    propose."""
    suggestion = item.suggestion
    projected = [(p.src_span, p.span) for p in suggestion.spans] if suggestion else []
    sources = {src for src, _ in projected}
    targets = {tgt for _, tgt in projected}
    focuses = projected + [(src, None) for src in item.src_spans if src not in sources]
    focuses += [(None, tgt) for tgt in spans if tgt not in targets]
    return sorted(set(focuses), key=lambda f: (f[0] is None, f[0] or f[1], f[1] or f[0]))


def matrix_windows(
    matrix: Matrix,
    src_tokens: Sequence[str],
    tgt_tokens: Sequence[str],
    focuses: Sequence[tuple[Span | None, Span | None]],
    *,
    max_rows: int = WINDOW_ROWS,
    max_cols: int = WINDOW_COLS,
) -> list[MatrixWindow]:
    """The ways to show a matrix: the whole of it when it fits ``max_rows`` × ``max_cols``; else a window around
    each focus (an entity, its source and target tokens and their links in view), or around the start without
    one, then the whole matrix to scroll.

    >>> m = alignment_matrix(60, 57, sure=[(i, i) for i in range(57)], src_spans=[Span(40, 42, "PER")])
    >>> [(w.rows, w.cols) for w in matrix_windows(m, ["s"] * 60, ["t"] * 57, [(Span(40, 42, "PER"), None)])]
    [(range(31, 51), range(31, 51)), (range(0, 60), range(0, 57))]
    """
    n_src, n_tgt = matrix.shape
    whole = MatrixWindow(f"the whole matrix ({n_src} × {n_tgt} tokens, scroll)", range(n_src), range(n_tgt))
    if n_src <= max_rows and n_tgt <= max_cols:
        return [whole]
    windows = []
    for src, tgt in focuses or [(None, None)]:
        row_mid, col_mid = _focus_centre(matrix, src, tgt)
        rows, cols = _around(row_mid, n_src, max_rows), _around(col_mid, n_tgt, max_cols)
        windows.append(MatrixWindow(_focus_title(src, tgt, src_tokens, tgt_tokens, rows, cols), rows, cols))
    return [*windows, whole]


def _focus_centre(matrix: Matrix, src: Span | None, tgt: Span | None) -> tuple[float, float]:
    """The middle of the focus's rows and columns; a side it lacks is taken from its links, else in proportion."""
    n_src, n_tgt = matrix.shape
    rows = range(src.start, src.end) if src else range(0)
    cols = range(tgt.start, tgt.end) if tgt else range(0)
    if not cols and rows:
        cols = sorted({j for i in rows if i < n_src for j in range(n_tgt) if matrix.codes[i][j] >= POSSIBLE})
    if not rows and cols:
        rows = sorted({i for i in range(n_src) for j in cols if j < n_tgt and matrix.codes[i][j] >= POSSIBLE})
    row_mid = (min(rows) + max(rows)) / 2 if rows else None
    col_mid = (min(cols) + max(cols)) / 2 if cols else None
    if row_mid is None and col_mid is None:
        return 0.0, 0.0
    if row_mid is None:
        row_mid = col_mid * n_src / max(n_tgt, 1)  # type: ignore[operator]
    if col_mid is None:
        col_mid = row_mid * n_tgt / max(n_src, 1)
    return row_mid, col_mid


def _around(middle: float, size: int, width: int) -> range:
    start = min(max(round(middle - (width - 1) / 2), 0), max(size - width, 0))
    return range(start, min(start + width, size))


def _focus_title(
    src: Span | None, tgt: Span | None, src_tokens: Sequence[str], tgt_tokens: Sequence[str], rows: range, cols: range
) -> str:
    label = (src or tgt).label if (src or tgt) else ""
    name = " ".join(src.tokens(src_tokens)) if src else " ".join(tgt.tokens(tgt_tokens)) if tgt else "the start"
    where = f"source {rows.start}–{rows.stop - 1} × target {cols.start}–{cols.stop - 1}"
    return f"{name} ({label}) · {where}" if label else f"{name} · {where}"


def selected_cells(selection: Mapping[str, Any] | None) -> list[Link]:
    """The ``(src_idx, tgt_idx)`` cells a Plotly selection event (``st.plotly_chart(on_select=...)``) picked.

    >>> selected_cells({"selection": {"points": [{"x": 2, "y": 0}, {"x": 2.0, "y": 0.0}]}})
    [(0, 2)]
    """
    points = ((selection or {}).get("selection") or {}).get("points") or []
    cells = set()
    for point in points:
        try:
            cells.add((round(float(point["y"])), round(float(point["x"]))))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(cells)


def toggle_links(links: Iterable[Link], cells: Iterable[Link]) -> tuple[Link, ...]:
    """``links`` with each of ``cells`` added when absent and removed when present.

    >>> toggle_links([(0, 0), (1, 1)], [(1, 1), (2, 2)])
    ((0, 0), (2, 2))
    """
    result = set(links)
    for cell in cells:
        result ^= {cell}
    return tuple(sorted(result))


def links_to_pharaoh(links: Iterable[Link]) -> str:
    """Links as one Pharaoh line (sure links, sorted).

    >>> links_to_pharaoh([(1, 0), (0, 0)])
    '0-0 1-0'
    """
    return Alignment(sure=frozenset(links)).to_pharaoh()


def pharaoh_to_links(text: str, *, n_src: int, n_tgt: int) -> tuple[Link, ...]:
    """The links of a Pharaoh line typed by the reviewer (possible links count as links), checked against the
    sentence lengths.

    >>> pharaoh_to_links("0-1 1p0", n_src=2, n_tgt=2)
    ((0, 1), (1, 0))
    >>> pharaoh_to_links("0-5", n_src=2, n_tgt=2)
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: link 0-5 is beyond the sentences (2 source, 2 target tokens; indices start at 0)
    """
    links = sorted(parse_pharaoh_line(text.strip()).links)
    for i, j in links:
        if i >= n_src or j >= n_tgt:
            raise XnerError(
                f"link {i}-{j} is beyond the sentences ({n_src} source, {n_tgt} target tokens; indices start at 0)"
            )
    return tuple(links)


MATRIX_LEGEND = tuple((CELL_NAMES[code], CELL_COLOURS[code]) for code in (ENTITY, SURE, POSSIBLE, JUSTIFIES))


def matrix_legend_html() -> Html:
    """The matrix's colours explained (fixed text, no user data)."""
    return Html(" ".join(colour_key(colour, name) for name, colour in MATRIX_LEGEND))


# --- runs and conflicts, described ---------------------------------------------------------------------------


def conflict_spans(current: Any, decision: Any) -> tuple[Span, ...]:
    """The entities the other reviewer saved (their decision's, else the stored state's; none for a reject)."""
    if decision is not None:
        return tuple(decision.entities)
    if current is None or current.status == ReviewStatus.REJECTED:
        return ()
    return tuple(current.spans)


def conflict_summary(current: Any, decision: Any) -> str:
    """Who changed the item, when, and to what (plain text: the page escapes it)."""
    if decision is not None:
        when = f"{decision.at:%Y-%m-%d %H:%M:%S} UTC" if decision.at else "just now"
        return (
            f"{decision.reviewer} decided it ({decision.action}: {decision.status_after}, "
            f"{len(decision.entities)} entities) at {when}; it is now at version {decision.version}"
        )
    if current is not None:
        by = f" by {current.updated_by}" if current.updated_by else ""
        return f"its suggestion was re-queued{by}; it is now {current.status} at version {current.version}"
    return "it changed since you loaded it"
