"""The review page's alignment matrix, without Streamlit: cell codes from an item's links and spans, the Plotly
figure whose cells are clicked to fix links, the HTML table with a window around an entity for long pairs, and
links as Pharaoh text. User tokens reach HTML and Plotly only escaped (:mod:`xner.ui.render`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from xner.errors import XnerError
from xner.figures import plotly_text
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.review import ReviewItem
from xner.types import Alignment, Link, Span
from xner.ui.render import Html, colour_key, html_text

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
    most of a review page's rerun. ``tests/ui/test_review.py`` checks that the dicts are valid Plotly."""
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
