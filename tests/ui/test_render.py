"""``xner.ui.render``: user text shows literally in Markdown, in HTML fragments and in Plotly.

The Markdown and HTML outputs are checked as strings and through a CommonMark renderer (markdown-it-py, with
GitHub's tables and strikethrough): the reader sees the payload as typed, and no element is made of it. Streamlit's
own renderer (react-markdown with GFM, math, emoji and directives, some of them working on the parsed text) is
checked in a real browser by ``tests/browser/test_payloads.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from xner.figures import plotly_text
from xner.types import Span
from xner.ui.render import (
    STYLE,
    WORD_JOINER,
    Html,
    bold,
    html,
    html_block,
    html_text,
    label_legend_html,
    line,
    literal,
    muted,
    show_html,
    tokens_html,
)

HOST = "xner-payload.invalid"  # the .invalid top-level domain never resolves
PAYLOADS = [
    f"![t](http://{HOST}/t.png)",
    "**bold**",
    "__bold__",
    "_it_",
    "*it*",
    f"[x](http://{HOST}/x)",
    "[j](javascript:alert(1))",
    f"http://{HOST}/a",
    f"https://{HOST}/a",
    f"www.{HOST}",
    f"<http://{HOST}/b>",
    f"a@{HOST}",
    "`code`",
    "``co`de``",
    "# heading",
    "## heading",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "2) item",
    "> quote",
    "| a | b |\n|---|---|\n| c | d |",
    "a | b",
    "~~strike~~",
    "~strike~",
    "$x^2$",
    "$$x$$",
    ":smile:",
    ":+1:",
    ":red[x]",
    ":blue-badge[x]",
    ":material/home:",
    ":material_home:",
    ":streamlit:",
    "&lt;",
    "&#42;",
    "&amp;lt;",
    "\\*escaped\\*",
    "<script>alert(1)</script>",
    f"<img src=http://{HOST}/i.png onerror=alert(1)>",
    '"><img src=x onerror=alert(1)>',
    "<b>b</b>",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "[^1]",
    "[x]: http://xner-payload.invalid/ref",
    "***",
    "---",
    "===",
    "line1\n\n# line2",
    "    indented code",
    "Adébáyọ̀ Ilé-ẹjọ́ 2024.",
]
SYNTAX = set("!\"#$&'()*+-.:<=>@[\\]^_`{|}~\n\r")


class Elements(HTMLParser):
    """The elements and the text of an HTML snippet (character references decoded, as a browser does)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> Elements:
    parser = Elements()
    parser.feed(markup)
    parser.close()
    return parser


def commonmark() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def seen(text: str) -> str:
    """What the reader sees: the word joiners are invisible, a line break shows as a space."""
    return re.sub(r"\s+", " ", text.replace(WORD_JOINER, "")).strip()


# --- literal: Markdown ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("**bold**", "&#42;&#42;bold&#42;&#42;"),
        ("_it_", "&#95;it&#95;"),
        (
            f"![t](http://{HOST}/t.png)",
            "&#33;&#91;t&#93;&#40;http&#58;\u2060//xner&#45;payload&#46;invalid/t&#46;png&#41;",
        ),
        ("# heading", "&#35; heading"),
        ("1. item", "1&#46; item"),
        ("a | b", "a &#124; b"),
        ("$x^2$", "&#36;x&#94;2&#36;"),
        (":smile:", "&#58;\u2060smile&#58;"),
        (":red[x]", "&#58;red&#91;x&#93;"),
        (":material/home:", "&#58;material/home&#58;"),
        ("&lt;", "&#38;lt;"),
        ("<script>alert(1)</script>", "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;"),
        (f"www.{HOST}", "www\u2060&#46;xner&#45;payload&#46;invalid"),
        (f"a@{HOST}", "a\u2060&#64;xner&#45;payload&#46;invalid"),
        ("a -> b --flag", "a &#45;\u2060&#62; b &#45;&#45;flag"),  # only a free-standing arrow becomes one
        ("x\n\n# y", "x&#10;&#10;&#35; y"),
        ("    code", "&#32;   code"),  # four spaces at the start would indent a code block
        ("Lagos, 2024; ok? 50% / 3", "Lagos, 2024; ok? 50% / 3"),  # nothing to escape: unchanged
    ],
)
def test_literal_writes_markdown_punctuation_as_character_references(text: str, markdown: str) -> None:
    assert literal(text) == markdown


@pytest.mark.parametrize("text", PAYLOADS)
def test_literal_leaves_no_markdown_syntax(text: str) -> None:
    escaped = literal(text)
    assert not SYNTAX & set(re.sub(r"&#\d+;", "", escaped)), escaped


@pytest.mark.parametrize("text", PAYLOADS)
def test_literal_renders_as_the_text_as_typed_in_commonmark(text: str) -> None:
    rendered = parse(commonmark().render(literal(text)))
    assert rendered.tags == ["p"], rendered.tags  # one paragraph: no link, image, emphasis, code, list, table...
    assert seen("".join(rendered.text)) == seen(text)


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        (":smile:", ":\u2060smile:"),  # emoji shortcodes are replaced in the parsed text: a joiner breaks them
        ("ok:smile", "\u2060ok:\u2060smile"),  # ... also one a colon before or after the text would complete
        (":material_home:", ":\u2060material_home:"),
        ("http://x.invalid", "\u2060http:\u2060//x.invalid"),  # bare links, made from the parsed text too
        ("WWW.x.invalid", "WWW\u2060.x.invalid"),
        ("a.b@x.invalid", "a.b\u2060@x.invalid"),
        (
            "<-> -> <- -- >= <= ~=",
            "<\u2060-\u2060> -\u2060> <\u2060- -\u2060- >\u2060= <\u2060= ~\u2060=",
        ),  # typographic arrows between spaces
        ("--refine x->y a@b", "--refine x->y a@b"),  # inside words: nothing to break (commands copy as they are)
    ],
)
def test_literal_breaks_what_streamlit_transforms_after_parsing_with_invisible_joiners(text: str, joined: str) -> None:
    import html as stdlib_html

    assert stdlib_html.unescape(literal(text)) == joined


def test_literal_takes_any_value() -> None:
    assert literal(3) == "3" and literal(None) == "None" and literal(ValueError("a*b")) == "a&#42;b"


# --- HTML fragments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", PAYLOADS)
def test_a_fragment_shows_its_user_text_as_typed_and_markdown_leaves_it_alone(text: str) -> None:
    block = html_block(line(bold(text), " ", muted(text)), tokens_html([text, "x"], [Span(0, 1, text)], marked=[1]))
    assert "\n" not in block and block.startswith('<div class="xner-html">')  # one line: a single HTML block
    assert commonmark().render(block).strip() == block  # CommonMark passes an HTML block through untouched
    rendered = parse(block)
    assert set(rendered.tags) <= {"div", "b", "span", "sub", "u"}, rendered.tags
    assert [seen(part) for part in rendered.text if part.strip()] == [seen(text)] * 4 + ["x"]
    assert all(name in ("class", "style", "title") for name, _ in rendered.attributes)


def test_html_escapes_text_and_keeps_fragments() -> None:
    fragment = html(bold("<i>x</i>"), " & ", Html("<br>"))
    assert fragment == "<b>&#60;i&#62;x&#60;/i&#62;</b> &#38; <br>" and isinstance(fragment, Html)
    assert html_text("\"'") == "&#34;&#39;"  # quotes too: the label is also an attribute (title="...")
    assert not isinstance(Html("<b>") + "<i>", Html)  # a plain concatenation is no fragment


def test_tokens_html_marks_spans_and_escapes_labels() -> None:
    fragment = tokens_html(["Ada", "*", "Lagos"], [Span(0, 1, "PER"), Span(2, 3, "<b>")], marked=[1])
    assert 'title="PER">Ada<sub>PER</sub></span> <u>&#42;</u> <span' in fragment
    assert "<sub>&#60;b&#62;</sub>" in fragment and "<b>" not in fragment
    assert label_legend_html(["<b>", "PER", "PER"]).count("xner-ent") == 2


def test_show_html_is_the_one_door_to_raw_html() -> None:
    calls = []

    class Container:
        def html(self, body: str, **options: object) -> None:
            calls.append((body, options))

    show_html(STYLE, where=Container())
    show_html("**x** <b>", bold("y"), where=Container())
    assert calls[1] == ('<div class="xner-html">&#42;&#42;x&#42;&#42; &#60;b&#62;<b>y</b></div>', {})
    assert calls[0] == (STYLE, {}) and calls[0][0].startswith("<style>")


# --- Plotly ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        (f"<a href='http://{HOST}/p'>p</a>", f"&lt;a href='http://{HOST}/p'&gt;p&lt;/a&gt;"),
        ("a<br>b", "a&lt;br&gt;b"),
        ("&lt; & &#42;", "&amp;lt; &amp; &amp;#42;"),
        ("$x^2$", "&#36;x^2&#36;"),  # a text between dollars would be LaTeX
        ("%{x} 50%", "&#37;{x} 50&#37;"),  # a hover template variable
        ('"quoted"', '"quoted"'),  # Plotly shows &quot; as it is: quotes stay
    ],
)
def test_plotly_text_escapes_tags_entities_latex_and_templates(text: str, shown: str) -> None:
    assert plotly_text(text) == shown


def test_charts_escape_names_for_plotly() -> None:
    """Language, strategy, label and reviewer names in the app's figures: no tag, no LaTeX, no template."""
    from xner.figures.curves import curves_figure
    from xner.figures.training import f1_bars
    from xner.services.experiments import CurvePoint
    from xner.services.training_view import Comparison
    from xner.ui.matrix import alignment_matrix, matrix_figure

    name = "<b>x</b>$y$%{z}"
    escaped = "&lt;b&gt;x&lt;/b&gt;&#36;y&#36;&#37;{z}"
    point = CurvePoint(name, name, 10, 2, 0.5, 0.4, 0.6, (0.4, 0.6))
    curves = curves_figure([point])
    assert [a.text for a in curves.layout.annotations] == [escaped]  # the panel's title: the language
    assert curves.data[1].name == escaped and curves.data[1].hovertemplate.endswith(f"<extra>{escaped}</extra>")
    bars = f1_bars(Comparison(["run 1"], [], [{"label": name, "run 1": 0.5}]))
    assert list(bars.data[0].x) == [escaped]
    matrix = matrix_figure(alignment_matrix(1, 1), [name], [name])
    assert matrix.layout.xaxis.ticktext == (escaped,) and matrix.layout.yaxis.ticktext == (escaped,)
