"""End to end in a real headless browser: the app served by ``streamlit run`` on a temporary SQLite database, driven
by Playwright with Debian's chromium, as a linguist uses it.

Home: a CoNLL upload through the file widget (a success message), then a broken file (its name, line and reason),
then a new projection run of the demo corpus. Review: a reviewer name in the sidebar, decisions from the keyboard
(A accept, X reject, S skip, U undo), a span correction with the menus (delete, add, relabel, Ctrl+Enter; the
token editor on the sentence has its own test, tests/browser/test_editor.py). Spot check: a sample of
the new run drawn and three spans judged from the keyboard (Y, Y, N), checked in the database. Agreement opens
without an error. Export: the curated set downloaded and read back; then the review history in the database, read
through ``xner.services``.

A screenshot of each page goes to ``$XNER_ARTIFACTS`` (or a temporary folder; its path is printed).

The browser is Debian's (``apt-get install -y chromium chromium-driver``; ``scripts/test.sh`` installs it when it
can); ``playwright install`` is never needed. Without chromium the test is skipped, saying so.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser.harness import BROWSER_MARKS, App, Server, iob2, read_conll
from tests.conftest import DEMO
from xner.services import review, spotcheck
from xner.services.demo import DEMO_CORPUS
from xner.store.db import Store, open_store
from xner.types import ReviewStatus, Span
from xner.ui.render import WORD_JOINER

pytestmark = BROWSER_MARKS

REVIEWER = "amina"
GOOD_CONLL = (
    "Adébáyọ̀ B-PER\nlọ O\nsí O\nÈkó B-LOC\nní O\nọjọ́ B-DATE\nAjé I-DATE\n. O\n\n"
    "Ilé-ẹjọ́ B-ORG\nGíga I-ORG\njùlọ I-ORG\nti O\nÀbújá B-LOC\nsọ O\nọ̀rọ̀ O\n. O\n\n"
    "Fúnmiláyọ̀ B-PER\nRánsọ́mù-Kútì I-PER\nkọ O\nlẹ́tà O\n. O\n\n"
)
BAD_CONLL = "Adébáyọ̀ B-PER\nlọ O\nsí\nÈkó B-LOC\n\n"  # line 3 has no tag


# --- what the test expects --------------------------------------------------------------------------------------


def corpus_options(app: App, key: str = "training_corpus") -> list[str]:
    """The options of a page's corpus select box (the Training page's by default)."""
    box = app.widget(key).get_by_role("combobox")
    box.click()
    options = app.page.get_by_role("option").all_inner_texts()
    app.page.keyboard.press("Escape")
    return options


def queue_start(store: Store, count: int) -> list[review.ReviewItem]:
    """The first ``count`` items of the demo's review queue, as the page will show them."""
    items: list[review.ReviewItem] = []
    for _ in range(count):
        item = review.next_item(store, DEMO_CORPUS, skip=[i.sentence_id for i in items])
        assert item is not None
        items.append(item)
    return items


def correction_of(item: review.ReviewItem) -> tuple[Span, Span, str, tuple[Span, ...]]:
    """What the test corrects on ``item``: its second span is deleted and re-added one token longer (when that
    token is free) with another label, which is then relabelled back. On the demo's third item, "... en La Haya el
    sábado", this fixes the LOC projected onto "La" alone into "La Haya"."""
    spans = item.state.spans
    assert len(spans) >= 2, f"the demo changed: sentence {item.sentence_id} has {len(spans)} spans, the test needs 2"
    wrong = spans[1]
    taken = {i for span in spans if span is not wrong for i in range(span.start, span.end)}
    end = wrong.end + 1 if wrong.end < len(item.tgt_tokens) and wrong.end not in taken else wrong.end
    added_as = next(label for label in sorted(item.labels) if label != wrong.label)
    fixed = Span(wrong.start, end, wrong.label)
    return wrong, fixed, added_as, tuple(sorted({*spans, fixed} - {wrong}))


# --- the test -----------------------------------------------------------------------------------------------------


def test_import_review_by_keyboard_correct_and_export_in_a_browser(
    server: Server, app: App, artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    page = app.page
    # 1. home: the app loads the demo into the empty database; a good CoNLL upload, then a broken one
    app.act(lambda: page.goto(server.url))
    page.get_by_role("heading", name="xner — projected NER data").wait_for()
    app.no_exception()
    page.get_by_role("tab", name="Import files").click()
    good = tmp_path / "dev.conll"
    good.write_text(GOOD_CONLL, encoding="utf-8")
    app.upload("home_conll_file", good)
    app.type("home_conll_corpus", "yoruba-news")
    app.type("home_conll_lang", "yor")
    app.click("home_conll_import")
    app.alert("success", "Imported 3 sentences into yoruba-news, split dev (DATE 1, LOC 2, ORG 1, PER 2).")
    assert page.get_by_role("tab", name="Import files").get_attribute("aria-selected") == "true"  # still there
    app.screenshot(artifacts, "01_home_import")

    bad = tmp_path / "news.conll"
    bad.write_text(BAD_CONLL, encoding="utf-8")
    app.upload("home_conll_file", bad)
    app.type("home_conll_corpus", "yoruba-more")
    app.click("home_conll_import")
    error = app.alert("error", "news.conll").inner_text().replace(WORD_JOINER, "")  # joiners: invisible, no emoji
    assert error.startswith("news.conll:3: expected a token and a tag"), error
    app.no_exception()
    app.screenshot(artifacts, "02_home_bad_file")

    # a new projection run of the demo corpus from the page (heuristic over its newest alignment run)
    page.get_by_role("tab", name="Align & project").click()
    app.click("home_project")
    app.alert("success", f"Projected 100 pairs of {DEMO_CORPUS} with heuristic over alignment run")
    app.no_exception()
    app.screenshot(artifacts, "02b_home_projected")

    # 2. review: the demo's queue, from the keyboard
    store = open_store(server.db)
    try:
        first, second, third, fourth, fifth = queue_start(store, 5)
        app.open("Review", "Review projected entities")
        assert app.sentence() == first.sentence_id
        assert app.button("review_accept").is_disabled()  # no name yet
        app.type("xner_reviewer", REVIEWER)
        assert app.button("review_accept").is_enabled()
        app.screenshot(artifacts, "03_review")

        for key, message, then in [
            ("a", f"Sentence {first.sentence_id}: accept recorded", second),
            ("a", f"Sentence {second.sentence_id}: accept recorded", third),
            ("x", f"Sentence {third.sentence_id}: reject recorded", fourth),
            ("s", f"Sentence {fourth.sentence_id} skipped for this session", fifth),
            ("u", f"Sentence {third.sentence_id}: your decision is undone", third),
        ]:
            app.press(key)
            app.alert("success", message)
            assert app.sentence() == then.sentence_id, key
        assert review.get_item(store, third.sentence_id).state.status == ReviewStatus.UNREVIEWED

        # correct the restored item: delete a span, add one, relabel it, save with Ctrl+Enter
        sid, tokens = third.sentence_id, third.tgt_tokens
        wrong, fixed, added_as, corrected = correction_of(third)
        assert app.button("review_save").is_disabled()  # nothing changed yet
        # the token editor's fallback: a closed expander whose opening reruns the page (its menus are drawn then)
        app.act(page.get_by_text("Edit with menus", exact=False).click)
        app.click(f"review_delete_{sid}_{wrong.start}_{wrong.end}")
        assert app.widget(f"review_delete_{sid}_{wrong.start}_{wrong.end}").count() == 0
        app.choose(f"review_first_{sid}", f"{fixed.start}: {tokens[fixed.start]}")
        app.choose(f"review_last_{sid}", f"{fixed.end - 1}: {tokens[fixed.end - 1]}")
        app.choose(f"review_label_{sid}", added_as)
        app.click("review_add")
        app.choose(f"review_relabel_{sid}_{fixed.start}_{fixed.end}", fixed.label)
        assert app.button("review_save").is_enabled()
        app.screenshot(artifacts, "04_review_correction")
        app.press("Control+Enter")
        app.alert("success", f"Sentence {sid}: correct recorded (corrected")
        assert app.sentence() == review.next_item(store, DEMO_CORPUS, skip=[fourth.sentence_id]).sentence_id  # type: ignore[union-attr]
        app.no_exception()
        app.screenshot(artifacts, "05_review_after_correction")

        # 3. spot check of the new run: draw a sample, judge three spans from the keyboard; agreement opens
        projected_run = max(run.id for run in review.queue_overview(store, DEMO_CORPUS).runs)
        app.open("Spot check", "Spot check")
        assert app.name_in_sidebar() == REVIEWER
        app.click("spot_draw")
        for key in ("y", "y", "n"):
            app.press(key)
        app.no_exception()
        app.screenshot(artifacts, "06_spot_check")
        (check,) = spotcheck.list_checks(store, DEMO_CORPUS, run_id=projected_run)
        assert (check.judged, check.correct) == (3, 2)
        judged = spotcheck.check_items(store, check.id, judged=True)
        assert [item.judged_by for item in judged] == [REVIEWER] * 3
        app.open("Agreement", "Reviewer agreement")
        assert app.name_in_sidebar() == REVIEWER
        app.screenshot(artifacts, "07_agreement")

        # 4. export: the curated set (accepted and corrected: the page's default), downloaded
        app.open("Export", "Export")
        entities = len(first.state.spans) + len(second.state.spans) + len(corrected)
        assert page.locator('[data-testid="stMetricValue"]').all_inner_texts() == ["3", str(entities)]
        app.click("export_prepare")
        with page.expect_download() as download_info:
            app.button("export_download").click()
        download = download_info.value
        assert download.suggested_filename == f"{DEMO_CORPUS}-tgt.conll"
        exported = artifacts / download.suggested_filename
        download.save_as(exported)
        app.screenshot(artifacts, "08_export")

        sentences = read_conll(exported.read_text(encoding="utf-8"))
        assert len(sentences) == 3
        assert {tuple(token for token, _ in sentence): sentence for sentence in sentences} == {
            first.tgt_tokens: iob2(first.tgt_tokens, first.state.spans),
            second.tgt_tokens: iob2(second.tgt_tokens, second.state.spans),
            third.tgt_tokens: iob2(third.tgt_tokens, corrected),
        }

        # 5. train a tagger on the reviewed sentences only (the three decided above), and see the run listed
        app.open("Training", "Training")
        app.choose("training_corpus", next(o for o in corpus_options(app) if o.startswith(DEMO_CORPUS)))
        app.act(app.widget("training_statuses").get_by_text("reviewed only", exact=False).click)
        app.click("training_train")
        app.alert("success", "Trained crf on")
        assert page.locator('[data-testid="stMetricValue"]').all_inner_texts()[:3] == [
            "3",
            str(sum(len(s.tgt_tokens) for s in (first, second, third))),
            str(entities),
        ]
        app.screenshot(artifacts, "09_training")
        page.get_by_role("tab", name="Runs").click()  # tabs switch in the browser: no script run
        app.widget("training_compare").wait_for()
        app.screenshot(artifacts, "10_training_runs")
        from xner.services.training_view import list_training_runs

        (run,) = list_training_runs(store)
        assert run.status == "done"

        # 7. translate-test of the demo's Spanish side, offline: the English CoNLL is the file of translations
        app.open("Translate", "Translate")
        page.get_by_role("tab", name="Translate-test evaluation").click()
        options = corpus_options(app, "translate_test_corpus")
        app.choose("translate_test_corpus", next(o for o in options if o.startswith(DEMO_CORPUS)))
        app.act(app.widget("translate_test_source").get_by_text("File of translations", exact=True).click)
        app.upload("translate_test_file", DEMO / "en.conll")
        app.click("translate_test_run")
        app.alert("success", f"Translate-test of {DEMO_CORPUS} with ngram: F1")
        app.no_exception()
        app.screenshot(artifacts, "11_translate_test")

        # 6. the history in the database
        assert [(e.reviewer, e.action, e.status_after) for e in review.history(store, sid)] == [
            (REVIEWER, "reject", ReviewStatus.REJECTED),
            (REVIEWER, "undo", ReviewStatus.UNREVIEWED),
            (REVIEWER, "correct", ReviewStatus.CORRECTED),
        ]
        mine = review.reviewer_history(store, DEMO_CORPUS, REVIEWER)[::-1]  # oldest first
        assert [(e.sentence_id, e.action) for e in mine] == [
            (first.sentence_id, "accept"),
            (second.sentence_id, "accept"),
            (sid, "reject"),
            (sid, "undo"),
            (sid, "correct"),
        ]
        assert mine[0].spans_after == first.state.spans and mine[1].spans_after == second.state.spans
        assert mine[-1].spans_before == third.state.spans and mine[-1].spans_after == corrected
        assert review.history(store, fourth.sentence_id) == []  # skipping records nothing
        state = review.get_item(store, sid).state
        assert (state.status, state.spans, state.updated_by) == (ReviewStatus.CORRECTED, corrected, REVIEWER)
    finally:
        store.dispose()
    with capsys.disabled():
        print(f"\nbrowser test: {time.monotonic() - started:.1f} s; screenshots and the download in {artifacts}")


def test_home_results_show_in_the_open_tab_and_a_delete_is_confirmed_in_a_browser(
    server: Server, app: App, artifacts: Path, tmp_path: Path
) -> None:
    """Issue 17 (items 6, 7, 9): the split field takes the file's name, each form's result shows next to it in the
    tab that stays open, and a corpus is deleted after a confirmation that says what goes."""
    page = app.page
    app.act(lambda: page.goto(server.url))
    page.get_by_role("heading", name="xner — projected NER data").wait_for()
    page.get_by_role("tab", name="Import files").click()
    gold = tmp_path / "news.test.conll"
    gold.write_text(GOOD_CONLL, encoding="utf-8")
    app.upload("home_conll_file", gold)
    assert app.widget("home_conll_split").get_by_role("combobox").input_value() == "test"
    app.type("home_conll_corpus", "yoruba-gold")
    app.type("home_conll_lang", "yor")
    app.click("home_conll_import")

    done = app.alert("success", "Imported 3 sentences into yoruba-gold, split test (")
    in_view = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"
    assert done.evaluate(in_view), "the result is off-screen"
    assert page.get_by_role("tab", name="Import files").get_attribute("aria-selected") == "true"

    page.get_by_role("tab", name="Delete").click()
    app.type("xner_reviewer", REVIEWER)
    app.choose("home_delete_corpus", "yoruba-gold")
    app.click("home_delete_ask")
    warning = page.locator('[data-testid="stAlertContentWarning"]').filter(has_text="This deletes corpus")
    assert "This deletes corpus 'yoruba-gold': 0 pairs, 3 sentences, 6 entities" in warning.first.inner_text()
    app.click("home_delete_confirm")

    deleted = app.alert("success", "Deleted corpus 'yoruba-gold': 0 pairs, 3 sentences")
    assert deleted.evaluate(in_view) and page.get_by_role("tab", name="Delete").get_attribute("aria-selected") == "true"
    app.no_exception()
    app.screenshot(artifacts, "home_deleted")
