"""What the AppTest tests of the app and its pages share: opening a script, signing in, clicking, and reading what
the page drew as the reader sees it. Fixtures stay in conftest.py."""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

TIMEOUT = 60  # seconds a script run may take (CI runs two tests at once on two loaded cores)
REVIEWER_KEY = "xner_reviewer"  # the sidebar's reviewer name field (xner.ui.support)


def script(name: str) -> str:
    """The path of ``app`` (the navigation and Home page) or of a page in pages/ by its file stem (``1_Review``)."""
    return str(REPO / "app.py" if name == "app" else REPO / "pages" / f"{name}.py")


def load(name: str, *, timeout: float = TIMEOUT) -> AppTest:
    """The script ``name`` (see :func:`script`) ready to run, not yet run."""
    return AppTest.from_file(script(name), default_timeout=timeout)


def open_page(name: str, *, reviewer: str = "") -> AppTest:
    """Run the script ``name`` once (it must not fail) and, given a ``reviewer``, sign in under that name."""
    at = load(name).run()
    assert not at.exception, at.exception
    if reviewer:
        sign_in(at, reviewer)
    return at


def sign_in(at: AppTest, reviewer: str) -> AppTest:
    """Type ``reviewer`` into the sidebar's name field and rerun."""
    at.text_input(key=REVIEWER_KEY).input(reviewer).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Click the button ``key`` and rerun; the run must not fail."""
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def seen(markup: str) -> str:
    """A Markdown (or HTML) body's text as the reader sees it: backslash escapes and character references
    resolved, the invisible word joiners of ``xner.ui.render.literal`` dropped; tags are kept."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markup)).replace("\u2060", "")


def messages(at: AppTest, kind: str) -> list[str]:
    """The texts of the page's ``kind`` elements (``error``, ``warning``, ``success``, ``info``...), as seen."""
    return [seen(element.value) for element in getattr(at, kind)]


def html_bodies(at: Any) -> list[str]:
    """The bodies of the HTML elements the page drew (``xner.ui.render.show_html``: ``st.html``)."""
    return [element.proto.body for element in at.get("html")]


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page with ``column``."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def metrics(at: AppTest) -> dict[str, str]:
    """The page's metrics, label to value."""
    return {metric.label: metric.value for metric in at.metric}
