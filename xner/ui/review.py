"""What the review page shows and edits, without Streamlit: queue filters, span edits, the token editor's data,
method comparison, conflicts and the keyboard shortcuts (the alignment matrix: :mod:`xner.ui.matrix`).

The page (``pages/1_Review.py``) only renders these and collects input; everything here is plain data in, plain
data out, so it is unit-tested without a browser. User strings reach HTML and Plotly only through
``xner.ui.render`` (:func:`~xner.ui.render.html`, :func:`~xner.figures.plotly_text`): Plotly reads a few HTML
tags in tick labels and hover text, so the figure's tokens are escaped for it.

>>> selection_to_span(2, 3, "LOC")
Span(start=2, end=4, label='LOC')
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xner.errors import UnknownNameError, XnerError
from xner.services.review import QueuePreferences, ReviewItem, SearchHit, Suggestion
from xner.services.runs import run_label as run_label  # one label for a run on every page
from xner.types import REVIEWED_STATUSES, ReviewStatus, Span
from xner.ui.render import label_colours
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
            raise UnknownNameError("queue status", self.status, STATUS_CHOICES)
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


@functools.cache
def shortcut_tables() -> tuple[Any, Any]:
    """:func:`shortcut_rows` and :func:`editor_key_rows` as Arrow tables, built once per process: ``st.dataframe``
    sends a table as it is, where it converts rows through pandas on every page run (~0.8 ms each).

    >>> shortcuts, editor_keys = shortcut_tables()
    >>> shortcuts.to_pylist() == shortcut_rows() and editor_keys.to_pylist() == editor_key_rows()
    True
    """
    import pyarrow as pa

    return pa.Table.from_pylist(shortcut_rows()), pa.Table.from_pylist(editor_key_rows())


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
            raise UnknownNameError("label", label, labels)
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
