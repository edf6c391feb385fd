"""In a real browser (Debian's chromium, Playwright): the home page draws its share charts and the projection
runs' quality (table and F1 chart) on the demo without an error, and the run pickers show run labels."""

from __future__ import annotations

from pathlib import Path

from tests.browser.harness import BROWSER_MARKS, App, Server
from xner.services.demo import DEMO_CORPUS
from xner.services.runs import list_projection_runs, run_label
from xner.store.db import open_store

pytestmark = BROWSER_MARKS


def drawn(charts) -> None:
    """Each chart has drawn its marks (a canvas or an SVG), not left an empty frame for a bad spec."""
    for chart in charts.all():
        chart.locator("canvas, svg").first.wait_for()


def test_home_charts_and_projection_quality_render_in_a_browser(
    server: Server,
    app: App,
    artifacts: Path,
) -> None:
    page = app.page
    app.act(lambda: page.goto(server.url))
    page.get_by_role("heading", name="xner — projected NER data").wait_for()
    app.no_exception()
    charts = page.locator('[data-testid="stVegaLiteChart"]:visible')
    page.get_by_text("Review progress").first.wait_for()
    charts.nth(1).wait_for()
    assert charts.count() == 2  # review progress and entities per label, in shares
    drawn(charts)

    page.get_by_role("tab", name="Align & project").click()
    page.get_by_text("Projection quality").first.wait_for()
    page.get_by_text("exact-match spans against the target side").first.wait_for()
    charts.first.wait_for()
    assert charts.count() == 1  # F1 per label and run
    store = open_store(server.db)
    try:
        runs = list_projection_runs(store, DEMO_CORPUS)
    finally:
        store.dispose()
    queue = app.widget("home_queue_run").get_by_role("combobox")
    assert queue.input_value() == run_label(runs[-1])  # the newest run, by its label
    drawn(charts)
    app.no_exception()
    app.screenshot(artifacts, "home_projection_quality")
