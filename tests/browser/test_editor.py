"""The review page's token editor in a real browser (chromium through Playwright, see tests/browser/harness.py): a
reviewer fixes a projection on the sentence itself -- drag over tokens, Esc; click a token, shift-click another,
press a label's key, click an entity and press Backspace, Ctrl+Enter -- and the correction is in the database. Tokens
and a label made of Markdown and HTML show as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import BROWSER_MARKS, App, editor_token, review_page, select_entity
from xner.services import review
from xner.store.db import Store
from xner.types import ReviewStatus, Span
from xner.ui import review as view

pytestmark = BROWSER_MARKS

REVIEWER = "amina"


@pytest.fixture
def reviewing(tmp_path: Path) -> Iterator[tuple[App, Store]]:
    """The Review page in a browser tab, the reviewer named; and the app's store."""
    with review_page(tmp_path, REVIEWER) as session:
        yield session


def editable_item(app: App, store: Store) -> tuple[review.ReviewItem, Span, Span, Span]:
    """Skip (S) to the first item with a span that can grow by a token and another span: the span, its fix and
    the other span."""
    for _ in range(20):
        item = review.get_item(store, app.sentence())
        spans = item.state.spans
        taken = {i for span in spans for i in range(span.start, span.end)}
        for wrong in spans:
            others = [span for span in spans if span != wrong]
            if others and wrong.end < len(item.tgt_tokens) and wrong.end not in taken:
                return item, wrong, Span(wrong.start, wrong.end + 1, wrong.label), others[0]
        app.press("s")
    raise AssertionError("the demo changed: no item in its first 20 with two spans, one of which can grow")


def test_fix_a_projection_on_the_sentence_with_clicks_and_keys(reviewing: tuple[App, Store]) -> None:
    app, store = reviewing
    item, wrong, fixed, other = editable_item(app, store)
    sid, tokens = item.sentence_id, item.tgt_tokens
    assert app.page.locator(".xner-te-tok").all_inner_texts() == list(tokens)  # every token, as text
    key = next(key for key, label in view.label_keys(item.labels).items() if label == fixed.label)
    assert app.button("review_save").is_disabled()

    page = app.page
    start, end = (editor_token(app, i).bounding_box() for i in (0, 2))
    assert start is not None and end is not None
    page.mouse.move(start["x"] + 2, start["y"] + 2)  # a drag over tokens selects them (no script run)
    page.mouse.down()
    page.mouse.move(end["x"] + 2, end["y"] + 2)
    page.mouse.up()
    assert page.locator(".xner-te-sel").count() >= 3
    page.keyboard.press("Escape")  # clears it
    assert page.locator(".xner-te-sel").count() == 0

    select_entity(app, wrong)
    editor_token(app, fixed.end - 1).click(modifiers=["Shift"])  # ... and extends the selection to the fix's last token
    assert app.page.locator(".xner-te-sel").count() == len(fixed)
    app.press(key)  # the label: the new entity replaces the one it overlaps
    assert tuple(app.page.locator(".xner-te-ent sub").all_inner_texts()) == tuple(
        s.label for s in sorted({*item.state.spans, fixed} - {wrong})
    )
    select_entity(app, other)
    app.press("Backspace")  # ... and deletes it
    expected = tuple(sorted({*item.state.spans, fixed} - {wrong, other}))
    assert app.page.locator(".xner-te-ent").count() == len(expected)
    assert review.get_item(store, sid).state.status == ReviewStatus.UNREVIEWED  # edits save nothing

    app.press("Control+Enter")
    app.alert("success", f"Sentence {sid}: correct recorded (corrected")
    app.no_exception()
    assert app.page.locator('[data-testid="stAlertContentWarning"]').count() == 0  # saved once, no conflict

    state = review.get_item(store, sid).state
    assert (state.status, state.updated_by, state.spans) == (ReviewStatus.CORRECTED, REVIEWER, expected)
    assert [(e.reviewer, e.action, e.spans_before, e.spans_after) for e in review.history(store, sid)] == [
        (REVIEWER, "correct", item.state.spans, expected)
    ]
    assert app.sentence() != sid  # the next item is shown


def test_the_editor_shows_payload_tokens_and_labels_as_text(tmp_path: Path) -> None:
    """Tokens and a label made of Markdown and HTML (tests/ui/pages/test_payloads.py) are text in the editor: no element
    is made of them, and a fix with them is saved as it is."""
    from tests.ui.pages.payloads import LABEL, TAGS, TOKEN, TYPED, build

    database, _ = build(tmp_path)
    with review_page(tmp_path, TYPED, database) as (app, store):
        page = app.page
        item = review.get_item(store, app.sentence())
        assert TOKEN in item.tgt_tokens
        assert page.locator(".xner-te-tok").all_inner_texts() == list(item.tgt_tokens)
        made = page.locator(".xner-te :is(strong, em, del, a, img, code, h1, h2, li, table, script, .katex)")
        assert made.count() == 0
        assert any(LABEL in chip for chip in page.locator(".xner-te-key").all_inner_texts())
        assert not any(f">{tag}<" in page.locator(".xner-te").first.inner_html() for tag in TAGS)

        i = item.tgt_tokens.index(TOKEN)
        new, inside = Span(i, i + 1, LABEL), next((s for s in item.state.spans if s.start <= i < s.end), None)
        editor_token(app, i).click()  # on an entity: selects it; a second click: the token alone
        if inside is not None and len(inside) > 1:
            editor_token(app, i).click()
        if inside == new:  # already so: the fix is to remove it
            app.press("Backspace")
            expected = tuple(s for s in item.state.spans if s != new)
        else:
            app.press(next(key for key, label in view.label_keys(item.labels).items() if label == LABEL))
            expected = tuple(sorted([*(s for s in item.state.spans if not s.overlaps(new)), new]))
        app.press("Control+Enter")
        app.alert("success", "correct recorded")
        state = review.get_item(store, item.sentence_id).state
        assert (state.status, state.spans) == (ReviewStatus.CORRECTED, expected)
