"""Charts the pages draw: a spot check's precision per stratum with Wilson intervals (Spot check page) and the
reviewers' pairwise kappa (Agreement page). User names and labels are escaped for Plotly
(:func:`~xner.ui.render.plotly_text`).
"""

from __future__ import annotations

import plotly.graph_objects as go

from xner.figures import plotly_text
from xner.services.review import AgreementReport
from xner.services.spotcheck import PrecisionEstimate


def precision_chart(result: PrecisionEstimate) -> go.Figure:
    """Precision per judged stratum and overall: points with Wilson 95% error bars (labels escaped for Plotly)."""
    rows = [s for s in result.strata if s.judged] + ([result.overall] if result.overall.judged else [])
    names = [plotly_text(s.stratum) if s is not result.overall else "<b>overall (weighted)</b>" for s in rows]
    values = [s.precision or 0.0 for s in rows]
    figure = go.Figure(
        go.Scatter(
            x=values,
            y=names,
            mode="markers",
            marker={"size": 10, "color": ["#2563eb" if s is not result.overall else "#dc2626" for s in rows]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [s.high - v for s, v in zip(rows, values, strict=True)],
                "arrayminus": [v - s.low for s, v in zip(rows, values, strict=True)],
            },
            customdata=[[s.correct, s.judged, s.low, s.high] for s in rows],
            hovertemplate="%{y}: %{x:.3f} (%{customdata[0]}/%{customdata[1]}), "
            "95%% CI [%{customdata[2]:.3f}, %{customdata[3]:.3f}]<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"range": [0, 1.02], "title": "precision (Wilson 95% interval)"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=120 + 32 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return figure


def kappa_heatmap(report: AgreementReport) -> go.Figure:
    """Pairwise kappa as a symmetric matrix (blank where two reviewers share no item); names escaped for Plotly."""
    names = list(report.reviewers)
    index = {name: i for i, name in enumerate(names)}
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    for pair in report.pairs:
        i, j = index[pair.first], index[pair.second]
        matrix[i][j] = matrix[j][i] = round(pair.kappa, 3)
    labels = [plotly_text(name) for name in names]
    figure = go.Figure(
        go.Heatmap(
            z=matrix, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu", texttemplate="%{z}", hoverongaps=False
        )
    )
    figure.update_layout(height=120 + 40 * len(names), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure
