"""The Training page's figures and files: F1 bars of compared runs, and an experiment's learning curves as a Plotly
figure, a table, PNG and standalone HTML bytes, or files in a folder (``xner experiment --out``).

The runs, comparisons and curves themselves are plain data from :mod:`xner.services.training_view`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from xner.figures import plotly_text
from xner.figures.curves import curve_table, curves_figure, write_png
from xner.services.training_view import Comparison, Curves


def f1_bars(comparison: Comparison) -> go.Figure:
    """A grouped bar chart of F1 per label (overall first), one bar colour per run (labels escaped for Plotly)."""
    figure = go.Figure()
    labels = [plotly_text(row["label"]) for row in comparison.f1]
    for column in comparison.columns:
        figure.add_trace(go.Bar(name=plotly_text(column), x=labels, y=[row[column] for row in comparison.f1]))
    figure.update_layout(
        barmode="group",
        height=380,
        yaxis={"title": {"text": "entity F1"}, "range": [0, 1]},
        xaxis={"title": {"text": "label"}, "type": "category"},
        margin={"t": 30, "l": 60, "r": 20, "b": 50},
        legend={"orientation": "h"},
    )
    return figure


def curves_plot(curves: Curves) -> go.Figure:
    """The Plotly figure of :func:`xner.figures.curves.curves_figure`, its y axis naming the metric and label."""
    figure = curves_figure(curves.points, all_at=curves.all_at)
    figure.update_yaxes(title_text=plotly_text(curves.y_title), row=1, col=1)
    return figure


def curve_rows(curves: Curves) -> list[dict[str, Any]]:
    """:func:`xner.figures.curves.curve_table` rows flattened for a table: the mean named after the metric, the interval
    as two columns and the per-seed values as text."""
    rows = []
    for row in curve_table(curves.points):
        low, high = row.pop("ci95")
        values = row.pop("values")
        mean = row.pop("f1")
        rows.append(
            {**row, curves.metric: mean, "ci95 low": low, "ci95 high": high, "values": ", ".join(map(str, values))}
        )
    return rows


def curves_png(curves: Curves) -> bytes:
    """The curves as PNG bytes (:func:`xner.figures.curves.write_png`, through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="xner-curves-") as folder:
        return write_png(
            curves.points, Path(folder) / "curves.png", all_at=curves.all_at, ylabel=curves.y_title
        ).read_bytes()


def write_curve_files(curves: Curves, out: str | Path, stem: str = "curves") -> list[Path]:
    """``stem``.json (the table), .html (Plotly) and .png (matplotlib) of ``curves`` in the folder ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / f"{stem}.json"
    table.write_text(json.dumps(curve_table(curves.points), indent=1) + "\n", encoding="utf-8")
    html = folder / f"{stem}.html"
    html.write_bytes(curves_html(curves))
    png = write_png(curves.points, folder / f"{stem}.png", all_at=curves.all_at, ylabel=curves.y_title)
    return [table, html, png]


def curves_html(curves: Curves) -> bytes:
    """The interactive figure as a standalone HTML page (Plotly's script embedded: works offline)."""
    return curves_plot(curves).to_html(include_plotlyjs=True, full_html=True).encode("utf-8")
