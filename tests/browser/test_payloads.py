"""In a real browser: no user string is markup on any page, and nothing leaves the machine because of one.

The app runs (``streamlit run``, as in ``tests/browser/harness.py``) on the payload project of
``tests/ui/pages/test_payloads.py``: tokens, a label, the corpus name, the runs' creator, reviewer names and a note made
of Markdown and HTML (images and links to ``http://xner-payload.invalid/...``, emphasis, code, LaTeX, emoji
shortcodes, ``javascript:`` links). Every request of the page to a host other than the app's own is aborted and
counted: there must be none. Every page is opened; on the review page the tokens show as typed (``**tok**`` with
its asterisks, no ``<strong>``). Screenshots go to ``$XNER_ARTIFACTS`` (or a temporary folder), the review page's as
``payloads_review.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import BROWSER_MARKS, App, Server, serve_app
from tests.ui.pages.payloads import CORPUS, FILE, FIRST, HOST, LABEL, RUN, TAGS, TOKEN, TYPED, build
from xner.ui.render import WORD_JOINER

pytestmark = BROWSER_MARKS

# elements that Markdown (or HTML in a user string) would make: none may carry a payload's text or address
MARKUP = """() => [...document.querySelectorAll(
    'strong, em, del, a, img, code, h1, h2, h3, h4, h5, h6, li, blockquote, table, .katex, span[role=img], script'
)].map(e => ({tag: e.tagName.toLowerCase(), text: e.textContent.trim(), href: e.getAttribute('href') || '',
             src: e.getAttribute('src') || ''}))"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The app on the payload project."""
    database, _ = build(tmp_path)
    with serve_app(f"sqlite:///{database}", tmp_path) as running:
        yield running


def visible(app: App) -> str:
    """The text of the page's main area as the reader sees it (invisible word joiners dropped)."""
    return app.page.locator('[data-testid="stMain"]').inner_text().replace(WORD_JOINER, "")


def assert_no_markup_from_payloads(app: App, where: str) -> None:
    app.no_exception()
    for element in app.page.evaluate(MARKUP):
        assert element["text"] not in TAGS, f"{where}: <{element['tag']}> made of a payload: {element}"
        assert HOST not in element["href"] + element["src"], f"{where}: a payload's address in {element}"
        assert not element["href"].startswith("javascript"), f"{where}: {element}"


def test_every_page_shows_payloads_as_text_and_fetches_nothing_outside(
    server: Server, app: App, artifacts: Path, tmp_path: Path
) -> None:
    page = app.page
    outside: list[str] = []

    def only_the_app(route) -> None:  # every request to another host is aborted (and counted): nothing leaves
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    app.act(lambda: page.goto(server.url))
    page.get_by_role("heading", name="xner — projected NER data").wait_for()
    assert_no_markup_from_payloads(app, "home")

    # an upload whose file name is a payload: its error names the file as it is
    page.get_by_role("tab", name="Import files").click()
    upload = tmp_path / "upload" / FILE
    upload.parent.mkdir()
    upload.write_text(f"{TOKEN} B-{LABEL}\nx\n\n", encoding="utf-8")
    uploader = app.widget("home_conll_file")
    app.act(lambda: uploader.locator('input[type="file"]').set_input_files(upload))
    uploader.locator('[data-testid="stFileChipName"]:visible').first.wait_for()  # a long name is shortened there
    app.type("home_conll_corpus", "uploaded")
    app.type("home_conll_lang", "yo")
    app.click("home_conll_import")
    error = app.alert("error", "expected a token").inner_text().replace(WORD_JOINER, "")
    assert error.startswith(f"{FILE}:2: "), error
    assert_no_markup_from_payloads(app, "home, after the upload")
    app.screenshot(artifacts, "payloads_home")

    # review: the tokens and the label as typed, names in the sidebar and in the header
    app.open("Review", "Review projected entities")
    app.type("xner_reviewer", TYPED)
    main = visible(app)
    assert TOKEN in main and LABEL in main and CORPUS in main, main[:2000]
    assert "**tok**" in main and page.locator("strong", has_text="tok").count() == 0
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary').first.click()  # Projection runs
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text().replace(WORD_JOINER, "")
    assert f"by {RUN}" in sidebar  # the projection run's creator
    assert_no_markup_from_payloads(app, "review")
    app.screenshot(artifacts, "payloads_review")
    app.press("a")  # a decision: the message that follows names no payload, but the next item shows them too
    assert_no_markup_from_payloads(app, "review, after a decision")

    for name, title in [
        ("Spot check", "Spot check"),
        ("Agreement", "Reviewer agreement"),
        ("Export", "Export"),
        ("Training", "Training"),
        ("Translate", "Translate"),
    ]:
        app.open(name, title)
        assert_no_markup_from_payloads(app, name)
        if name == "Agreement":  # the reviewers' names in the choice of the final decision, as typed
            assert f"{FIRST}'s version (accepted)" in visible(app)
            app.screenshot(artifacts, "payloads_agreement")
    assert outside == [], f"requests to other hosts: {outside}"
