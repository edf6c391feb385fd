"""User text in the app, shown literally: the one place where user strings (tokens, labels, corpus and run names,
reviewer names, notes, file names, messages that quote them) meet markup.

Streamlit renders most of its text as Markdown (CommonMark with GitHub's extensions, LaTeX between ``$``, emoji
shortcodes, colour and badge directives such as ``:red[x]``, ``:material/icon:`` icons, arrows for ``->``), and
HTML where a page allows it; Plotly reads a few HTML tags in chart text. A token ``![t](http://host/t.png)`` would
make every reviewer's browser fetch that URL, and ``**bold**`` would lose its asterisks. So no user string reaches
Streamlit or Plotly except through one of these functions:

- :func:`literal` for text in a Markdown element. In Streamlit 1.67 these are: ``st.markdown``, ``st.caption``,
  ``st.title``/``header``/``subheader``, ``st.success``/``info``/``warning``/``error``, ``st.toast``, ``st.spinner``,
  ``st.progress(text=...)``, the label of every widget and button (``st.download_button`` too), of tabs, expanders and
  metrics, ``help=`` tooltips, the value and delta of ``st.metric``, the options of ``st.radio``, ``st.pills`` and
  ``st.segmented_control`` (their ``format_func`` results) and a radio's ``captions``, the cells and headers of
  ``st.table``. Labels drop headings, lists, tables and quotes, but keep links and images.
- :func:`html`, :func:`tokens_html`, :func:`label_legend_html` and friends build :class:`Html` fragments, which
  only :func:`show_html` puts on a page (the app's only ``st.html``; no ``unsafe_allow_html`` anywhere).
- :func:`plotly_text` for chart text: tick labels, category names, legend and trace names, hover data, titles.

These show text as it is and take user strings unchanged (an escape would show): ``st.text``, ``st.code``,
``st.json``, ``st.dataframe``/``st.data_editor`` cells and column names (drawn on a canvas), the options of
``st.selectbox`` and ``st.multiselect`` and their ``format_func`` results, text input values and placeholders, the
file names in ``st.file_uploader``, Vega-Lite charts (``st.bar_chart``). Checked in Streamlit's frontend (which
components render through its Markdown component) and in a real browser, element by element, with the payloads
of ``tests/ui/test_render.py``; ``tests/browser/test_payloads.py`` keeps checking the app's pages.

How it holds:

- Markdown: every ASCII punctuation character that Markdown, GFM or Streamlit can read as syntax is written as a
  numeric character reference (``*`` as ``&#42;``). CommonMark takes a character reference as literal text, so no
  emphasis, link, image, code span, heading, list, table, strikethrough, math, HTML, directive or entity can start
  from it. A few of Streamlit's extensions work on the decoded text instead (links made of bare ``http://``,
  ``www.`` and e-mail addresses, ``:emoji:`` and ``:material_icon:`` shortcodes, ``->`` arrows): there an invisible
  WORD JOINER (U+2060) is put between the characters that would form them, which the reader does not see.
- HTML: fragments are escaped the same way (and for HTML), and :func:`show_html` puts them in one ``<div>`` on one
  line in an ``st.html`` element, which the browser inserts as (DOMPurify-sanitised) HTML and never reads as
  Markdown. (Through ``st.markdown(unsafe_allow_html=True)`` the same block cost the browsers about a tenth more
  CPU per review press: benchmarks/review_load.py.)
- Plotly: ``& < >`` are escaped (no tag, no entity), and ``$`` and ``%`` too (a ``$...$`` text would be LaTeX, a
  ``%{...}`` in a hover template a variable).

>>> literal("**bold** <b>")
'&#42;&#42;bold&#42;&#42; &#60;b&#62;'
>>> from xner.types import Span
>>> tokens_html(["Ada", "<b>", "Lagos"], [Span(0, 1, "PER")]).endswith("Ada<sub>PER</sub></span> &#60;b&#62; Lagos")
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from xner.types import Span

# --- text for Markdown -----------------------------------------------------------------------------------------

# ASCII punctuation that Markdown, GFM or Streamlit may read as syntax (, / ; ? % never start anything)
_SYNTAX = "!\"#$&'()*+-.:<=>@[\\]^_`{|}~"
# ... and line breaks: a blank line would end a paragraph (or an HTML block) and start a new block
_REFERENCES = {ord(char): f"&#{ord(char)};" for char in _SYNTAX + "\n\r"}

WORD_JOINER = "\u2060"  # invisible, no line break: splits what Streamlit would transform after parsing
_JOINED = re.compile(
    r"(?<=:)(?=[\w+-]+:)"  # :smile:, :material_home:, :streamlit: shortcodes: after their first colon
    r"|^(?=[\w+-]+:)|(?<=:)(?=[\w+-]+$)"  # ... and those a colon of the text around would open or close
    r"|(?<=:)(?=//)"  # bare links: http://example.org
    r"|(?i:(?<=www)(?=\.))"  # www.example.org
    r"|(?<=[-.\w+])(?=@[-\w]+\.)"  # e-mail addresses
)
_ARROW = re.compile(r"(?<!\S)(?:<->|->|<-|--|>=|<=|~=)(?!\S)")  # made arrows and dashes between spaces


def literal(text: object) -> str:
    r"""``text`` for any Markdown element, shown exactly as typed: no Markdown, HTML, LaTeX, emoji, directive or
    link is read in it (see the module's docstring). A line break shows as a space, as in HTML.

    Args:
        text: any value; ``str(text)`` is shown.

    Returns:
        Markdown source (the punctuation as character references, word joiners where they are needed).

    >>> literal("[x](javascript:alert(1)) $x$")
    '&#91;x&#93;&#40;javascript&#58;alert&#40;1&#41;&#41; &#36;x&#36;'
    >>> literal(":smile: a -> b --c") == "&#58;\u2060smile&#58; a &#45;\u2060&#62; b &#45;&#45;c"
    True
    """
    joined = _ARROW.sub(lambda found: WORD_JOINER.join(found.group()), _JOINED.sub(WORD_JOINER, str(text)))
    escaped = joined.translate(_REFERENCES)
    if escaped[:1] in (" ", "\t"):  # indented at the start: a code block
        return f"&#{ord(escaped[0])};{escaped[1:]}"
    return escaped


# --- HTML fragments --------------------------------------------------------------------------------------------


class Html(str):
    """Markup made by this module, every user string in it escaped; :func:`show_html` shows it."""

    __slots__ = ()


def html_text(text: object) -> str:
    """``text`` as HTML text or attribute value, with Markdown's punctuation escaped too (a fragment never becomes
    Markdown) and line breaks as references (a blank line would end the HTML block).

    >>> html_text('<img src="x" onerror=alert(1)>')
    '&#60;img src&#61;&#34;x&#34; onerror&#61;alert&#40;1&#41;&#62;'
    """
    return str(text).translate(_REFERENCES)


def html(*parts: object) -> Html:
    """``parts`` joined into one fragment: :class:`Html` parts as they are, anything else as escaped text.

    >>> html(bold("Note:"), " <i>x</i>")
    '<b>Note&#58;</b> &#60;i&#62;x&#60;/i&#62;'
    """
    return Html("".join(part if isinstance(part, Html) else html_text(part) for part in parts))


def bold(*parts: object) -> Html:
    """``parts`` in bold (text escaped)."""
    return Html(f"<b>{html(*parts)}</b>")


def italic(*parts: object) -> Html:
    """``parts`` in italics (text escaped)."""
    return Html(f"<i>{html(*parts)}</i>")


def muted(*parts: object) -> Html:
    """``parts`` in a lighter colour (text escaped)."""
    return Html(f'<span style="opacity:0.7">{html(*parts)}</span>')


def line(*parts: object) -> Html:
    """``parts`` as a line of their own (a ``<div>``)."""
    return Html(f"<div>{html(*parts)}</div>")


def html_block(*parts: object) -> Html:
    """``parts`` as one raw HTML block for ``st.markdown(unsafe_allow_html=True)``: a single line that starts with
    ``<div``, which Markdown passes on untouched (CommonMark's HTML block, kind 6).

    >>> html_block(bold("**x**"))
    '<div class="xner-html"><b>&#42;&#42;x&#42;&#42;</b></div>'
    """
    return Html('<div class="xner-html">' + " ".join(html(*parts).splitlines()) + "</div>")


def show_html(*parts: object, where: Any = None) -> None:
    """Show ``parts`` (see :func:`html`) as HTML in ``where`` (a Streamlit container: a column, the sidebar; the page
    by default). The app's only ``st.html``: a page shows HTML through nothing else. A lone :data:`STYLE` goes in
    as it is, so Streamlit puts it aside instead of in a block that takes room on the page."""
    import streamlit as st

    body = parts[0] if len(parts) == 1 and parts[0] is STYLE else html_block(*parts)
    (where or st).html(body)


# --- tokens and labels -------------------------------------------------------------------------------------------

# (background, border) per label: pale fills keep dark text readable; borders tell neighbours apart
_FIXED = {
    "PER": ("#fde2e4", "#e5989b"),
    "ORG": ("#dbeafe", "#60a5fa"),
    "LOC": ("#dcfce7", "#4ade80"),
    "DATE": ("#fef3c7", "#f59e0b"),
    "MISC": ("#ede9fe", "#a78bfa"),
}


def label_colours(label: str) -> tuple[str, str]:
    """(background, border) colours of ``label``: fixed for PER/ORG/LOC/DATE/MISC, derived from the name otherwise.

    >>> label_colours("PER"), label_colours("EVENT") == label_colours("EVENT")
    (('#fde2e4', '#e5989b'), True)
    """
    if label in _FIXED:
        return _FIXED[label]
    hue = int(hashlib.sha1(label.encode("utf-8")).hexdigest()[:4], 16) % 360
    return f"hsl({hue}, 80%, 90%)", f"hsl({hue}, 60%, 55%)"


def tokens_html(tokens: Sequence[str], spans: Iterable[Span], *, marked: Iterable[int] = ()) -> Html:
    """The tokens joined by spaces, each span wrapped in a coloured box with its label; ``marked`` token indices
    are underlined (e.g. the tokens a selected link touches). Overlapping spans: the first one wins.

    >>> tokens_html(["_a_", "b"], [Span(1, 2, "L")], marked=[0]).startswith("<u>&#95;a&#95;</u> <span")
    True
    """
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
        label = html_text(span.label)
        parts.append(
            f'<span class="xner-ent" style="background:{background};border-color:{border}" '
            f'title="{label}">{inner}<sub>{label}</sub></span>'
        )
        i = span.end
    return Html(" ".join(parts))


def _token(token: str, underline: bool) -> str:
    return f"<u>{html_text(token)}</u>" if underline else html_text(token)


def label_chip(label: str) -> Html:
    """``label`` in its colours, as in the sentences."""
    background, border = label_colours(label)
    style = f"background:{background};border-color:{border}"
    return Html(f'<span class="xner-ent" style="{style}">{html_text(label)}</span>')


def label_legend_html(labels: Iterable[str]) -> Html:
    """One coloured chip per label (escaped), for the legend under the sentences.

    >>> "&#60;b&#62;" in label_legend_html(["<b>"])
    True
    """
    return Html(" ".join(label_chip(label) for label in sorted(set(labels))))


def colour_key(colour: str, name: str) -> Html:
    """A small square of ``colour`` (a CSS colour of the app's, never user text) and ``name``."""
    return Html(
        f'<span style="display:inline-block;width:0.9em;height:0.9em;background:{colour};'
        f'border:1px solid #999;vertical-align:middle"></span> {html_text(name)}'
    )


STYLE = Html(
    "<style>"
    ".xner-ent { border: 1px solid; border-radius: 4px; padding: 1px 3px; line-height: 2;"
    " -webkit-box-decoration-break: clone; box-decoration-break: clone; }"
    " .xner-ent sub { font-size: 0.65em; font-weight: 600; margin-left: 3px; opacity: 0.8; }"
    "</style>"
)
