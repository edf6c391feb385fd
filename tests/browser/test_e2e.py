"""Issue 17 end to end in one real browser session (chromium through Playwright, see tests/browser/harness.py): a
linguist goes from two plain text files to an exported curated set without leaving the browser.

On a fresh SQLite database: Home › Import files takes the first MAFAND-MT en-yor pairs as a parallel corpus, more
MAFAND pairs as a second one (the extra text) and a few thousand CoNLL-2003 English sentences to train the source
tagger on. Align & project aligns the first corpus with eflomal, learning from the extra text too; projects it with
source entities from a CRF trained now on the CoNLL corpus (its progress bar shown until it is done); queues the run.
Review: a correction with the token editor (click, shift-click, a label's key, Backspace, Ctrl+Enter), then an
accept with ``a``. Export: the curated set downloaded and read back against the database.

A full-page screenshot of each stage goes to the test's temporary folder and to ``/tmp/e2e/NN-stage.png``.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.harness import (
    BROWSER_MARKS,
    CHROMIUM,
    TIMEOUT_MS,
    App,
    Server,
    editor_token,
    iob2,
    read_conll,
    select_entity,
    serve_app,
)
from tests.conftest import SHARED_DATA, shared
from xner.services import review
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.store.db import Store, open_store
from xner.types import ReviewStatus, Span
from xner.ui import review as view

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(
        not all((SHARED_DATA / folder).is_dir() for folder in ("mafand_mt/en-yor", "conll2003_en")),
        reason=f"real data not available: {SHARED_DATA} lacks mafand_mt/en-yor or conll2003_en",
    ),  # checked before the app and the browser start
]

REVIEWER = "amina"
LABELS = "PER,ORG,LOC,DATE"  # the target language's label set (MasakhaNER's)
CORPUS, EXTRA, LABELLED = "mafand-yor", "mafand-extra", "conll-en"
PAIRS, EXTRA_PAIRS, CONLL_SENTENCES = 150, 1500, 3000
CRF_ITERATIONS = 40  # enough for a tagger that finds entities in news text, and quick to train
LONG_RUN_S = 240  # aligning, and training a CRF then projecting, run longer than one click's wait
SCREENSHOTS = Path("/tmp/e2e")


# --- the inputs, written by the test from the real data ------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def mafand(folder: Path, stem: str, start: int, stop: int) -> tuple[Path, Path]:
    """MAFAND-MT en-yor training pairs ``start:stop`` as two plain text files named after the split (train)."""
    sides = []
    for lang in ("en", "yor"):
        lines = shared("mafand_mt", "en-yor", f"train.{lang}").read_text(encoding="utf-8").splitlines()[start:stop]
        sides.append(write_lines(folder / f"{stem}.train.{lang}", lines))
    return sides[0], sides[1]


def conll_english(folder: Path) -> tuple[Path, Counter[str]]:
    """The first CoNLL-2003 English training sentences as a CoNLL file, and its entities per label."""
    blocks = shared("conll2003_en", "train.txt").read_text(encoding="utf-8").strip().split("\n\n")[:CONLL_SENTENCES]
    path = folder / "conll-en.train.txt"
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    tags = (line.rsplit(" ", 1)[1] for block in blocks for line in block.splitlines())
    return path, Counter(tag[2:] for tag in tags if tag.startswith("B-"))


# --- browser helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[App, Server, Store]]:
    """One chromium tab on the app served on a fresh SQLite database, and the app's store; when the test fails,
    the tab as it was is saved as failure.png (in the test's folder and /tmp/e2e)."""
    from playwright.sync_api import sync_playwright

    failed = request.session.testsfailed
    with serve_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        store = open_store(server.db)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1100}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield App(page, server.url), server, store
            if request.session.testsfailed > failed:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                for folder in (tmp_path, SCREENSHOTS):
                    page.screenshot(path=str(folder / "failure.png"), full_page=True)
        finally:
            store.dispose()
            browser.close()


def act_long(app: App, action: Callable[[], object], seconds: float = LONG_RUN_S) -> None:
    """:meth:`App.act` for an action whose script run takes longer than one click's wait (a run with progress)."""
    runs = len(app.finished)
    action()
    deadline = time.monotonic() + seconds
    while len(app.finished) <= runs:
        assert time.monotonic() < deadline, f"the app did not finish the run within {seconds} s"
        app.page.wait_for_timeout(100)
    app.idle()


def shot(app: App, folder: Path, number: int, stage: str) -> None:
    """A full-page screenshot into ``folder``, copied to /tmp/e2e/NN-stage.png for a person to look at."""
    name = f"{number:02d}-{stage}"
    app.screenshot(folder, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / f"{name}.png", SCREENSHOTS / f"{name}.png")


def more_options(app: App, key: str) -> None:
    """Open the "More options" expander that holds the widget ``key`` (the browser does it: no script run)."""
    expander = app.page.locator('[data-testid="stExpander"]').filter(has=app.widget(key))
    expander.locator("summary").first.click()
    app.widget(key).locator("input").wait_for()


def upload_parallel(app: App, name: str, files: tuple[Path, Path], pairs: int) -> None:
    """Import two plain text files as parallel corpus ``name`` (en → yor, the label set :data:`LABELS`); the split
    comes from their names."""
    app.upload("home_parallel_src", files[0])
    app.upload("home_parallel_tgt", files[1])
    assert app.widget("home_parallel_split").get_by_role("combobox").input_value() == "train"
    app.page.get_by_text("From the file name.").first.wait_for()
    app.type("home_parallel_corpus", name)
    for key, value in (("home_parallel_tgt_lang", "yor"), ("home_parallel_labels", LABELS)):
        if app.widget(key).locator("input").input_value() != value:  # kept from the import before
            app.type(key, value)
    app.click("home_parallel_import")
    app.alert("success", f"Imported {pairs} pairs into {name}, split train (no entities).")
    app.no_exception()


def item_to_correct(app: App, store: Store) -> tuple[review.ReviewItem, Span, Span]:
    """Skip (S) to the first item with an entity and two free tokens side by side: the item, the entity to delete
    and the new entity (the free tokens, another label)."""
    for _ in range(30):
        item = review.get_item(store, app.sentence())
        spans = item.state.spans
        taken = {i for span in spans for i in range(span.start, span.end)}
        free = [i for i in range(len(item.tgt_tokens) - 1) if i not in taken and i + 1 not in taken]
        if spans and free:
            wrong = spans[0]
            label = next(label for label in view.label_keys(item.labels).values() if label != wrong.label)
            return item, wrong, Span(free[0], free[0] + 2, label)
        app.press("s")
    raise AssertionError("no item in the first 30 with an entity and two free tokens: the projection changed")


# --- the test -----------------------------------------------------------------------------------------------


def test_two_plain_text_files_to_an_exported_curated_set_in_a_browser(
    session: tuple[App, Server, Store], tmp_path: Path
) -> None:
    app, server, store = session
    page = app.page
    started = time.monotonic()
    main = mafand(tmp_path, CORPUS, 0, PAIRS)
    extra = mafand(tmp_path, "extra", PAIRS, PAIRS + EXTRA_PAIRS)  # short: the file chip shows it whole
    conll, entities = conll_english(tmp_path)

    # 1. Home › Import files: the two parallel corpora, then the labelled English corpus
    app.act(lambda: page.goto(server.url))
    page.get_by_role("heading", name="xner — projected NER data").wait_for()
    page.get_by_role("tab", name="Import files").click()
    app.act(app.widget("home_import_kind").get_by_text("Parallel text", exact=True).click)
    upload_parallel(app, CORPUS, main, PAIRS)
    shot(app, tmp_path, 1, "import-parallel")
    upload_parallel(app, EXTRA, extra, EXTRA_PAIRS)
    shot(app, tmp_path, 2, "import-extra-text")

    app.act(app.widget("home_import_kind").get_by_text("CoNLL corpus", exact=True).click)
    app.upload("home_conll_file", conll)
    assert app.widget("home_conll_split").get_by_role("combobox").input_value() == "train"
    app.type("home_conll_corpus", LABELLED)
    app.type("home_conll_lang", "en")
    app.click("home_conll_import")
    found = ", ".join(f"{label} {n}" for label, n in sorted(entities.items()))
    app.alert("success", f"Imported {CONLL_SENTENCES} sentences into {LABELLED}, split train ({found}).")
    app.no_exception()
    shot(app, tmp_path, 3, "import-conll")

    # 2. Align & project: eflomal with the extra text (one sampler: quick), then a CRF trained now
    page.get_by_role("tab", name="Align & project").click()
    app.choose("home_corpus", CORPUS)
    app.choose(f"home_align_extra_{CORPUS}", EXTRA)
    more_options(app, "home_align_eflomal_n_samplers")
    app.type("home_align_eflomal_n_samplers", "1")
    act_long(app, app.button("home_align").click)
    app.alert("success", f"Aligned {PAIRS} pairs of {CORPUS} with eflomal (")
    app.alert("success", f"{EXTRA_PAIRS:,} extra pairs of {EXTRA}")
    app.no_exception()
    (aligned,) = list_alignment_runs(store, CORPUS)
    assert aligned.pairs == PAIRS and aligned.params["extra_pairs"] == EXTRA_PAIRS
    assert aligned.params["n_samplers"] == 1
    shot(app, tmp_path, 4, "aligned")

    total = sum(entities.values())
    describe = f"{LABELLED} ({total:,} entities; splits train)"
    assert app.widget("home_source_train_corpus").get_by_role("combobox").input_value() == describe  # train now
    more_options(app, "home_source_train_crf_max_iterations")
    app.type("home_source_train_crf_max_iterations", str(CRF_ITERATIONS))

    def project_and_see_training() -> None:
        app.button("home_project").click()
        bar = page.locator('[data-testid="stProgress"]').filter(has_text="training the source tagger")
        bar.first.wait_for(timeout=LONG_RUN_S * 1000)

    act_long(app, project_and_see_training)
    assert page.locator('[data-testid="stProgress"]').count() == 0  # the bars are gone: training is done
    trained = app.alert("success", "Trained source tagger ").inner_text()
    assert f" on {LABELLED}" in trained, trained
    projected = app.alert("success", f"Projected {PAIRS} pairs of {CORPUS} with heuristic over alignment run")
    app.no_exception()
    (run,) = list_projection_runs(store, CORPUS)
    assert f"projection run {run.id} (entities: " in projected.inner_text()
    assert run.alignment_run_id == aligned.id and run.pairs == PAIRS
    shot(app, tmp_path, 5, "projected")

    app.click("home_queue")
    app.alert("success", f"Queued projection run {run.id} of {CORPUS}: ")
    app.no_exception()
    overview = review.queue_overview(store, CORPUS)
    assert overview.queued_run == run.id and overview.queued > 0  # a non-empty run: items to review
    shot(app, tmp_path, 6, "queued")

    # 3. Review: the token editor (click, shift-click, a label's key, Backspace, Ctrl+Enter), then an accept (A)
    app.open("Review", "Review projected entities")
    app.type("xner_reviewer", REVIEWER)
    app.choose("review_corpus", f"{CORPUS} (en → yor)")
    item, wrong, new = item_to_correct(app, store)
    sid = item.sentence_id
    assert page.locator(".xner-te-tok").all_inner_texts() == list(item.tgt_tokens)
    shot(app, tmp_path, 7, "review")

    editor_token(app, new.start).click()
    editor_token(app, new.end - 1).click(modifiers=["Shift"])
    assert page.locator(".xner-te-sel").count() == len(new)
    key = next(key for key, label in view.label_keys(item.labels).items() if label == new.label)
    app.press(key)
    select_entity(app, wrong)
    app.press("Backspace")
    corrected = tuple(sorted({*item.state.spans, new} - {wrong}))
    assert page.locator(".xner-te-ent").count() == len(corrected)
    assert review.get_item(store, sid).state.status == ReviewStatus.UNREVIEWED  # edits save nothing yet
    shot(app, tmp_path, 8, "review-edited")

    app.press("Control+Enter")
    app.alert("success", f"Sentence {sid}: correct recorded (corrected")
    app.no_exception()
    state = review.get_item(store, sid).state
    assert (state.status, state.spans, state.updated_by) == (ReviewStatus.CORRECTED, corrected, REVIEWER)
    shot(app, tmp_path, 9, "review-corrected")

    accepted = review.get_item(store, app.sentence())
    assert accepted.sentence_id != sid
    page.evaluate("document.activeElement && document.activeElement.blur()")  # the page's shortcut, not the editor's
    app.press("a")
    app.alert("success", f"Sentence {accepted.sentence_id}: accept recorded")
    app.no_exception()
    kept = review.get_item(store, accepted.sentence_id).state
    assert (kept.status, kept.spans, kept.updated_by) == (ReviewStatus.ACCEPTED, accepted.state.spans, REVIEWER)
    shot(app, tmp_path, 10, "review-accepted")

    # 4. Export: the curated set (accepted and corrected: the page's default) downloaded and read back
    app.open("Export", "Export")
    app.choose("export_corpus", f"{CORPUS} (en → yor)")
    saved = {sentence: review.get_item(store, sentence).state.spans for sentence in (sid, accepted.sentence_id)}
    expected = {
        item.tgt_tokens: iob2(item.tgt_tokens, saved[sid]),
        accepted.tgt_tokens: iob2(accepted.tgt_tokens, saved[accepted.sentence_id]),
    }
    shown = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert shown == ["2", str(sum(map(len, saved.values())))]
    app.click("export_prepare")
    with page.expect_download() as download_info:
        app.button("export_download").click()
    download = download_info.value
    assert download.suggested_filename == f"{CORPUS}-tgt.conll"
    exported = tmp_path / download.suggested_filename
    download.save_as(exported)
    shot(app, tmp_path, 11, "export")

    sentences = read_conll(exported.read_text(encoding="utf-8"))
    assert {tuple(token for token, _ in sentence): sentence for sentence in sentences} == expected
    print(f"\ne2e browser test: {time.monotonic() - started:.1f} s; screenshots in {SCREENSHOTS} and {tmp_path}")
