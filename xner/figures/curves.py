"""Learning-curve figures: F1 against the number of gold sentences, one line per strategy with its 95% band, one
panel per language. Plotly for the app and HTML files, matplotlib for PNG (both draw the same points).

k = "all" is drawn at the size of the gold pool when known (``all_at``), else one step beyond the largest k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from xner.figures import plotly_text
from xner.services.experiments import ALL, CurvePoint

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")


def _x(point: CurvePoint, all_at: Mapping[str, int]) -> int:
    if point.k != ALL:
        return point.k
    return all_at.get(point.language, 0) or 2000


def _series(points: Sequence[CurvePoint]) -> dict[str, dict[str, list[CurvePoint]]]:
    """Points by language, then strategy (in their order)."""
    grouped: dict[str, dict[str, list[CurvePoint]]] = {}
    for point in points:
        grouped.setdefault(point.language, {}).setdefault(point.strategy, []).append(point)
    return grouped


def curves_figure(points: Sequence[CurvePoint], *, all_at: Mapping[str, int] | None = None) -> go.Figure:
    """A Plotly figure with one subplot per language (shared colours per strategy, legend once); language and
    strategy names are escaped for Plotly (:func:`xner.ui.render.plotly_text`)."""
    all_at = all_at or {}
    grouped = _series(points)
    languages = list(grouped)
    titles = [plotly_text(language) for language in languages]
    figure = make_subplots(rows=1, cols=max(1, len(languages)), subplot_titles=titles, shared_yaxes=True)
    strategies = list(dict.fromkeys(p.strategy for p in points))
    for col, language in enumerate(languages, start=1):
        for strategy, series in grouped[language].items():
            colour = COLOURS[strategies.index(strategy) % len(COLOURS)]
            series = sorted(series, key=lambda p: _x(p, all_at))
            xs = [_x(p, all_at) for p in series]
            figure.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=[p.high for p in series] + [p.low for p in series][::-1],
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.15,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=strategy,
                ),
                row=1,
                col=col,
            )
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=[p.mean for p in series],
                    mode="lines+markers",
                    name=plotly_text(strategy),
                    line={"color": colour},
                    legendgroup=strategy,
                    showlegend=col == 1,
                    customdata=[[p.n, p.low, p.high] for p in series],
                    hovertemplate="k=%{x}: F1 %{y:.3f} [%{customdata[1]:.3f}, %{customdata[2]:.3f}], "
                    "%{customdata[0]} seeds<extra>" + plotly_text(strategy) + "</extra>",
                ),
                row=1,
                col=col,
            )
        figure.update_xaxes(title_text="gold sentences (k)", type="log", row=1, col=col)
    figure.update_yaxes(title_text="entity F1 (test)", row=1, col=1)
    figure.update_layout(height=420, margin={"t": 60, "l": 60, "r": 20, "b": 50}, legend={"orientation": "h"})
    return figure


def write_png(
    points: Sequence[CurvePoint],
    path: str | Path,
    *,
    all_at: Mapping[str, int] | None = None,
    ylabel: str = "entity F1 (test)",
    columns: int = 3,
) -> Path:
    """The curves as a PNG (matplotlib, no browser needed), one panel per language, ``columns`` panels a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_at = all_at or {}
    grouped = _series(points)
    strategies = list(dict.fromkeys(p.strategy for p in points))
    languages = list(grouped) or ["-"]
    columns = max(1, min(columns, len(languages)))
    rows = -(-len(languages) // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), sharey=True, squeeze=False)
    axes = grid.flatten()
    for axis in axes[len(languages) :]:
        axis.set_visible(False)
    for axis, language in zip(axes, languages, strict=False):
        for strategy, series in grouped.get(language, {}).items():
            colour = COLOURS[strategies.index(strategy) % len(COLOURS)]
            series = sorted(series, key=lambda p: _x(p, all_at))
            xs = [max(1, _x(p, all_at)) for p in series]
            axis.plot(xs, [p.mean for p in series], marker="o", ms=3, color=colour, label=strategy)
            axis.fill_between(xs, [p.low for p in series], [p.high for p in series], color=colour, alpha=0.15)
        axis.set_xscale("log")
        axis.set_title(language)
        axis.set_xlabel("gold sentences (k)")
        axis.grid(alpha=0.3)
    for row in grid:
        row[0].set_ylabel(ylabel)
    axes[len(languages) - 1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=120)
    plt.close(fig)
    return target


def curve_table(points: Sequence[CurvePoint]) -> list[dict[str, Any]]:
    """Rows for a table or JSON: language, strategy, k, seeds, mean and interval."""
    return [
        {
            "language": p.language,
            "strategy": p.strategy,
            "k": "all" if p.k == ALL else p.k,
            "seeds": p.n,
            "f1": round(p.mean, 4),
            "ci95": [round(p.low, 4), round(p.high, 4)],
            "values": [round(v, 4) for v in p.values],
        }
        for p in points
    ]
