"""HTML for the review app, without Streamlit: tokens with their entity spans, one colour per label.

Every user-supplied string (tokens, labels, names) goes through :func:`escape`; the pages render only what these
functions return, so a ``<script>`` token shows as text. Colours are fixed per common label and derived from the
label's name otherwise, so a label keeps its colour across pages and sessions.

>>> from xner.types import Span
>>> tokens_html(["Ada", "<b>", "Lagos"], [Span(0, 1, "PER")]).endswith("Ada<sub>PER</sub></span> &lt;b&gt; Lagos")
True
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence

from xner.types import Span

# (background, border) per label: pale fills keep dark text readable; borders tell neighbours apart
_FIXED = {
    "PER": ("#fde2e4", "#e5989b"),
    "ORG": ("#dbeafe", "#60a5fa"),
    "LOC": ("#dcfce7", "#4ade80"),
    "DATE": ("#fef3c7", "#f59e0b"),
    "MISC": ("#ede9fe", "#a78bfa"),
}


def escape(text: object) -> str:
    """``text`` as HTML text or attribute value: ``& < > " '`` escaped."""
    return html.escape(str(text), quote=True)


def label_colours(label: str) -> tuple[str, str]:
    """(background, border) colours of ``label``: fixed for PER/ORG/LOC/DATE/MISC, derived from the name otherwise.

    >>> label_colours("PER"), label_colours("EVENT") == label_colours("EVENT")
    (('#fde2e4', '#e5989b'), True)
    """
    if label in _FIXED:
        return _FIXED[label]
    hue = int(hashlib.sha1(label.encode("utf-8")).hexdigest()[:4], 16) % 360
    return f"hsl({hue}, 80%, 90%)", f"hsl({hue}, 60%, 55%)"


def tokens_html(tokens: Sequence[str], spans: Iterable[Span], *, marked: Iterable[int] = ()) -> str:
    """The tokens joined by spaces, each span wrapped in a coloured box with its label; ``marked`` token indices
    are underlined (e.g. the tokens a selected link touches). Overlapping spans: the first one wins."""
    starts: dict[int, Span] = {}
    covered: set[int] = set()
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if any(i in covered for i in range(span.start, span.end)):
            continue
        starts[span.start] = span
        covered.update(range(span.start, span.end))
    underline = set(marked)
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        span = starts.get(i)
        if span is None:
            parts.append(_token(tokens[i], i in underline))
            i += 1
            continue
        inner = " ".join(_token(tokens[k], k in underline) for k in range(span.start, min(span.end, len(tokens))))
        background, border = label_colours(span.label)
        parts.append(
            f'<span class="xner-ent" style="background:{background};border-color:{border}" '
            f'title="{escape(span.label)}">{inner}<sub>{escape(span.label)}</sub></span>'
        )
        i = span.end
    return " ".join(parts)


def _token(token: str, underline: bool) -> str:
    return f"<u>{escape(token)}</u>" if underline else escape(token)


STYLE = """<style>
.xner-ent { border: 1px solid; border-radius: 4px; padding: 1px 3px; line-height: 2;
  -webkit-box-decoration-break: clone; box-decoration-break: clone; }
.xner-ent sub { font-size: 0.65em; font-weight: 600; margin-left: 3px; opacity: 0.8; }
</style>"""


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:@])")  # ":" and "@" stop URL and e-mail autolinks


def markdown_text(text: object) -> str:
    """``text`` for a Markdown element (``st.markdown``, ``st.error``, captions): HTML escaped and Markdown
    punctuation backslash-escaped, so a name or an error message shows as typed and never turns into markup.

    >>> markdown_text("<script>alert(1)</script> *x*")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt; \\\\*x\\\\*'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))
