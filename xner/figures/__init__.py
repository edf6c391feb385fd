"""Figures and report files, Plotly and matplotlib but no Streamlit: the app's charts of learning curves and
training runs, and the same curves as PNG/HTML files for ``xner experiment --out`` and the study. A layer between
the ui and CLI (which both draw them) and the services (whose plain data they draw).
"""

from __future__ import annotations

_PLOTLY_REFERENCES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("$"): "&#36;", ord("%"): "&#37;"}


def plotly_text(text: object) -> str:
    """``text`` for Plotly (tick labels, categories, legend and trace names, hover data, titles): no tag in it is
    markup, no ``$...$`` is LaTeX, no ``%{...}`` a template variable; Plotly shows the references as the characters.

    >>> plotly_text('<a href="x">$1 & 50%</a>')
    '&lt;a href="x"&gt;&#36;1 &amp; 50&#37;&lt;/a&gt;'
    """
    return str(text).translate(_PLOTLY_REFERENCES)
