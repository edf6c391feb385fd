"""Issue 17 in a real browser at 1440 px.

A long sentence pair on the review page: the longest pair of the real Europarl EN-DE parallel NER gold (eflomal
links, heuristic projection), opened with *Go to sentence*. Its alignment matrix is shown in a window around an
entity, readable (cells and token headers at full size, nothing cut by the column), and the whole matrix scrolls
inside its box with the token headers kept in view. Screenshots go to ``$XNER_ARTIFACTS`` (or a temporary folder):
``long_sentence_window.png`` and ``long_sentence_whole.png``; their folder is printed.

The Spot check page's judged counts after judgments from the keyboard: in the browser a judgment reruns only the
judging fragment (AppTest reruns the whole page, so it cannot show a count left stale outside the fragment).
"""

from __future__ import annotations

from pathlib import Path

from tests.browser.harness import BROWSER_MARKS, App, browser_tab
from tests.ui.pages.review_harness import long_pair_store
from xner.services import spotcheck
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.store.db import open_store

pytestmark = BROWSER_MARKS


def test_a_long_pair_is_readable_at_1440_px(tmp_path: Path, artifacts: Path) -> None:
    store, sentence_id, n_src, n_tgt = long_pair_store(tmp_path)
    assert n_src >= 50 and n_tgt >= 50  # a long pair, as in the issue (60 × 57)
    try:
        with browser_tab(str(store.engine.url), tmp_path) as (app, _):
            page = app.page
            app.open("Review", "Review projected entities")
            app.type("xner_reviewer", "amina")
            app.act(page.get_by_text("Go to a sentence · search tokens").click)
            app.type("review_goto", str(sentence_id))
            assert app.sentence() == sentence_id
            app.no_exception()
            check_window(app, sentence_id, n_src, n_tgt)
            app.screenshot(artifacts, "long_sentence_window")

            app.choose(f"review_window_{sentence_id}", f"the whole matrix ({n_src} × {n_tgt} tokens, scroll)")
            check_whole(app, n_src, n_tgt)
            app.screenshot(artifacts, "long_sentence_whole")
            print(f"\nlong-sentence screenshots in {artifacts}")
    finally:
        store.dispose()


def check_window(app: App, sentence_id: int, n_src: int, n_tgt: int) -> None:
    """A window of at most 20 × 20 cells, each at least 15 px, inside the page and its column."""
    table = app.page.locator("table.xner-mx")
    cells = table.locator("td")
    assert 0 < cells.count() <= 20 * 20
    box, cell = table.bounding_box(), cells.first.bounding_box()
    assert box is not None and cell is not None
    assert cell["width"] >= 15 and cell["height"] >= 15
    wrap = app.page.locator(".xner-mx-wrap").bounding_box()
    assert wrap is not None and box["width"] <= wrap["width"] + 1  # no horizontal scrolling needed
    assert box["x"] + box["width"] <= 1440


def check_whole(app: App, n_src: int, n_tgt: int) -> None:
    """Every cell, in a box that scrolls; after scrolling to the far corner, the token headers are still in view."""
    table = app.page.locator("table.xner-mx")
    assert table.locator("td").count() == n_src * n_tgt
    wrap = app.page.locator(".xner-mx-wrap")
    wrap.evaluate("box => { box.scrollTop = box.scrollHeight; box.scrollLeft = box.scrollWidth; }")
    app.page.wait_for_timeout(100)
    area = wrap.bounding_box()
    header = table.locator("th.xner-mx-col").last.bounding_box()
    row = table.locator("th.xner-mx-row").last.bounding_box()
    assert area is not None and header is not None and row is not None
    assert area["y"] - 1 <= header["y"] <= area["y"] + 5  # stuck to the top of the box
    assert area["x"] - 1 <= row["x"] <= area["x"] + 5  # stuck to its left


def test_the_spot_check_chooser_counts_judgments_as_they_are_made(tmp_path: Path, artifacts: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'spot.db'}")
    load_demo(store)
    report = spotcheck.draw_sample(store, DEMO_CORPUS, None, 12, reviewer="amina")
    try:
        with browser_tab(str(store.engine.url), tmp_path) as (app, _):
            page = app.page
            app.open("Spot check", "Spot check")
            app.type("xner_reviewer", "amina")
            for key in ("y", "n", "y", "y"):
                app.press(key)
            app.no_exception()
            (check,) = spotcheck.list_checks(store, DEMO_CORPUS, run_id=report.run_id)
            assert check.judged == 4
            chooser = app.widget("spot_check").get_by_role("combobox").input_value()
            assert chooser.startswith(f"#{check.id}: 4/{check.drawn} judged"), chooser
            progress = page.locator('[data-testid="stProgress"]').first.inner_text()
            assert f"4 / {check.drawn} judged" in progress
    finally:
        store.dispose()
