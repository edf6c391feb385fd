"""Every page, with AppTest, on a project whose user strings are Markdown and HTML payloads: tokens, labels, the
corpus name, the runs' ``created_by``, reviewer names, an adjudication note and uploaded file names.

Each page is opened (and driven where a payload shows only after an action: an upload, a decision, a training, a
file of translations), then every element that Streamlit renders as Markdown -- bodies, labels, ``help``, progress
text, radio and button-group options, metric values, expander and tab labels -- is read from the element tree: no
payload is there as typed (it would be markup), and the escaped forms of ``xner.ui.render`` are where the page shows
the strings. Plotly specs carry no tag of a payload. What the browser makes of it: ``tests/browser/test_payloads.py``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import click, seen, sign_in
from tests.apptest import open_page as open_script
from tests.ui.pages.payloads import (
    ADJUDICATOR,
    CORPUS,
    FILE,
    FIRST,
    LABEL,
    NOTE,
    RUN,
    TAGS,
    TOKEN,
    TYPED,
    build,
    fragments,
    payload,
)
from xner.figures import plotly_text
from xner.store.db import Store, open_store
from xner.ui.render import html_text, literal

MARKDOWN_FIELDS = ("body", "label", "help", "text", "delta", "captions")  # rendered as Markdown by Streamlit
PLAIN_TEXT = {"text", "code", "json", "text_input", "text_area"}  # elements whose text is shown as it is


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    return build(tmp_path_factory.mktemp("payloads"))


@pytest.fixture
def project(project_file: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A private copy of the payload project, which the pages open through $XNER_DB."""
    source = project_file[0]
    shutil.copy(source, tmp_path / "payloads.db")
    url = f"sqlite:///{tmp_path / 'payloads.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    yield store
    store.dispose()


# --- reading the element tree ---------------------------------------------------------------------------------


def nodes(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def markdown_values(at: AppTest) -> list[tuple[str, str]]:
    """(element type, text) of every text the page gives Streamlit to render as Markdown."""
    found = []
    for node in nodes(at._tree):
        kind, proto = getattr(node, "type", ""), getattr(node, "proto", None)
        if proto is None or kind in PLAIN_TEXT or not hasattr(proto, "ListFields"):
            continue
        for field, value in proto.ListFields():
            if field.name in MARKDOWN_FIELDS:
                values = list(value) if field.name == "captions" else [value]
                found += [(kind, str(text)) for text in values]
            elif kind == "radio" and field.name == "options":  # a radio's options are Markdown
                found += [(kind, str(option)) for option in value]
            elif kind == "button_group" and field.name == "options":  # pills, segmented controls
                found += [(kind, option.content) for option in value]
            elif kind in ("expander", "tab") and hasattr(value, "label"):  # blocks: proto.expandable.label...
                found.append((kind, value.label))
    return found


def plotly_strings(at: AppTest) -> list[str]:
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return strings


def assert_only_escaped(at: AppTest) -> list[str]:
    """No payload reaches Markdown or Plotly as typed; returns the Markdown texts, for the page's own checks."""
    assert not at.exception, at.exception
    values = markdown_values(at)
    assert values, "the page rendered nothing"
    for kind, text in values:
        for tag in TAGS:
            for fragment in fragments(tag):
                assert fragment not in text, f"{kind} shows {fragment!r} as typed: {text[:300]!r}"
    for text in plotly_strings(at):
        for tag in TAGS:
            assert f"<b>{tag}</b>" not in text and f"${tag}$" not in text, text
    return [text for _, text in values]


def open_page(name: str, reviewer: str = TYPED) -> AppTest:
    """Page ``name`` (``1_Review.py``) signed in as ``reviewer`` when it asks for a name."""
    at = open_script(name.removesuffix(".py"))
    if reviewer and at.sidebar.text_input:
        sign_in(at, reviewer)
    return at


# --- the pages ------------------------------------------------------------------------------------------------


def test_home(project: Store) -> None:
    at = open_page("0_Home.py")
    assert_only_escaped(at)
    at.file_uploader(key="home_conll_file").set_value((FILE, f"{TOKEN} B-{LABEL}\nx\n\n".encode(), "text/plain"))
    at.text_input(key="home_conll_corpus").input(payload("new"))
    at.text_input(key="home_conll_lang").input("yo").run()
    texts = assert_only_escaped(click(at, "home_conll_import"))
    assert any(text.startswith(literal(FILE) + "&#58;") for text in texts)  # the file's name, line and reason
    assert seen(at.error[0].value).startswith(f"{FILE}:2: ")

    at.file_uploader(key="home_conll_file").set_value((FILE, f"{TOKEN} B-{LABEL}\n\n".encode(), "text/plain"))
    texts = assert_only_escaped(click(at, "home_conll_import"))
    assert any(literal(payload("new")) in text for text in texts)
    assert seen(at.success[0].value).startswith(f"Imported 1 sentences into {payload('new')}, split train")


def test_review(project: Store) -> None:
    at = open_page("1_Review.py")
    at.session_state["review_menus"] = True  # the correction menus (drawn once their expander is open)
    texts = assert_only_escaped(at.run())
    joined = "\n".join(texts)
    assert literal(CORPUS) in joined and literal(RUN) in joined  # the item's header, the runs in the sidebar
    assert html_text(TOKEN) in joined and f"<sub>{html_text(LABEL)}</sub>" in joined  # the sentences
    assert literal(f"[0, 1) {TOKEN}") in joined  # a span of the correction, as text
    texts = assert_only_escaped(click(at, "review_accept"))
    assert any("accept recorded" in seen(text) for text in texts)
    at.text_input(key="review_decided_by").input(FIRST).run()  # a reviewer's items: names flow into the queue
    assert_only_escaped(at)


def test_spot_check(project: Store) -> None:
    at = open_page("2_Spot_check.py", reviewer=FIRST)
    texts = assert_only_escaped(at)
    assert any(html_text(TOKEN) in text for text in texts)  # the sentence of the span to judge
    assert_only_escaped(click(at, "spot_correct"))
    assert any(text.startswith(plotly_text(LABEL)) for text in plotly_strings(at))  # a stratum of the chart


def test_agreement(project: Store, project_file: tuple[Path, int]) -> None:
    at = open_page("3_Agreement.py", reviewer=ADJUDICATOR)
    texts = assert_only_escaped(at)
    assert f"{literal(FIRST)}'s version (accepted)" in at.radio(key="agree_choice").options
    assert any(html_text(FIRST) in text and html_text(TOKEN) in text for text in texts)
    at.toggle(key="agree_include").set_value(True).run()
    at.selectbox(key="agree_item").set_value(project_file[1]).run()
    texts = assert_only_escaped(at)
    assert any(html_text(ADJUDICATOR) in text and html_text(NOTE) in text for text in texts)
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("agree_note_"))).input(NOTE).run()
    assert_only_escaped(click(at, "agree_submit"))


def test_export(project: Store) -> None:
    at = open_page("4_Export.py")
    assert_only_escaped(at)
    texts = assert_only_escaped(click(at, "export_prepare"))
    assert any(text.startswith("Download ") for text in texts)


def test_training(project: Store) -> None:
    at = open_page("5_Training.py")
    assert_only_escaped(at)
    at.radio(key="training_statuses").set_value(at.radio(key="training_statuses").options[-1]).run()
    texts = assert_only_escaped(click(at, "training_train"))
    assert any(literal(CORPUS) in text for text in texts)  # trained on it, or why not


def test_translate(project: Store) -> None:
    at = open_page("6_Translate.py")
    assert_only_escaped(at)
    at.text_input(key=f"translate_to_train_{CORPUS}").input("yo").run()
    at.segmented_control(key="translate_source").set_value("File of translations").run()
    name = FILE.removesuffix(".conll") + ".txt"
    at.file_uploader(key="translate_file").set_value((name, b"one line only\n", "text/plain")).run()
    texts = assert_only_escaped(click(at, "translate_run"))
    assert any(literal(name) in text for text in texts)
    assert seen(at.error[0].value).startswith(f"Translation failed: {name}:1: only 1 translations for 4")
