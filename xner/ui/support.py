"""What the Streamlit pages share: the error boundary, the store (cached per process and database URL), the demo
bootstrap, the reviewer's identity, the managed folder and progress bars (forms and pickers: :mod:`xner.ui.forms`).

Pages import from here instead of opening databases themselves, so each page stays thin.

Errors: every page runs inside :func:`page_guard` (app.py wraps the navigation in it too, and widget callbacks are
wrapped by :func:`guarded`). An :class:`~xner.errors.XnerError` (anything the user can cause) shows its one-line
message; a database failure shows one line without SQL or URL; anything else is logged on the server with its full
traceback (passwords in URLs hidden) under a short error id, and the page shows only that id.

Identity: with Streamlit's OIDC login configured (``[auth]`` in ``.streamlit/secrets.toml``, see the README's team
deployment), the logged-in user's e-mail or name, and no typed name is accepted; otherwise the name typed into the
sidebar, kept for the browser session and marked as unverified.

"""

from __future__ import annotations

import gc
import logging
import secrets
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.exc import OperationalError

from xner.errors import XnerError
from xner.services.demo import load_demo
from xner.services.managed import ManagedFolder
from xner.store.db import PasswordFilter, database_error_message, hide_passwords, open_store, resolve_url, safe_url
from xner.store.db import Store as Store  # pages annotate with it, and import nothing from xner.store
from xner.types import ProgressFn, StageProgress
from xner.ui.render import literal

log = logging.getLogger("xner.app")
PENDING_ERRORS = "xner_pending_errors"  # messages of failed callbacks, shown by the next page_guard
UNVERIFIED = "Names are not verified: anyone can type any name. Configure a login for a team — see the README."
F = TypeVar("F", bound=Callable[..., Any])


# --- the error boundary ---------------------------------------------------------------------------------------------


def configure_logging() -> None:
    """Send xner's log records (warnings and up) to stderr, the server log, and hide passwords of URLs in every
    record that the root's, Streamlit's and xner's handlers write (SQLAlchemy and Alembic lines included)."""
    logger = logging.getLogger("xner")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
    for name in ("", "streamlit", "xner"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, PasswordFilter) for f in handler.filters):
                handler.addFilter(PasswordFilter())


def error_text(error: XnerError) -> str:
    """An XnerError's message as a page shows it: passwords in URLs hidden, paths in the managed folder relative to
    it (``models/crf-yor``)."""
    text = hide_passwords(str(error))
    try:
        return app_folder().shorten(text)
    except XnerError:  # no folder to speak of (e.g. $XNER_DB is not a valid URL: the error says so)
        return text


def failure_message(error: Exception) -> str:
    """What a page shows for ``error``: an XnerError's own message (:func:`error_text`); one line for a database
    failure; for anything else an error id, under which the full traceback is logged (see :func:`log_unexpected`)."""
    if isinstance(error, XnerError):
        return error_text(error)
    if isinstance(error, OperationalError):
        log_unexpected(error)
        return database_error_message(error)
    return f"Something went wrong (error id {log_unexpected(error)}); the details are in the server log."


def log_unexpected(error: BaseException) -> str:
    """Log ``error`` with its full traceback (passwords hidden) under a new short id, and return the id."""
    error_id = secrets.token_hex(3)
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    log.error("error id %s: %s", error_id, hide_passwords(details))
    return error_id


@contextmanager
def page_guard() -> Iterator[None]:
    """The error boundary of a page: run the page's body inside it.

    Shows the messages of callbacks that failed in this run first; then an XnerError raised in the body shows its
    message, and any other exception a short line with an error id (see :func:`failure_message`), and the page
    stops there. Streamlit's control flow (``st.stop``, ``st.rerun``, ``st.switch_page``: ``BaseException``
    subclasses) passes through.
    """
    configure_logging()
    for message in st.session_state.pop(PENDING_ERRORS, []):
        st.error(literal(message))
    try:
        yield
    except Exception as error:
        st.error(literal(failure_message(error)))
        st.stop()


def guarded(callback: F) -> F:
    """``callback`` (a widget's ``on_click``/``on_change``) inside the error boundary: Streamlit runs callbacks
    before the page, so a failure's message is kept and shown by the page's :func:`page_guard`."""

    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except Exception as error:
            st.session_state.setdefault(PENDING_ERRORS, []).append(failure_message(error))
            return None

    return run  # type: ignore[return-value]


# --- the store ------------------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Store:
    store = open_store(url)
    load_demo(store)
    # The libraries imported by now (Streamlit, Plotly, pandas, SQLAlchemy) are never freed: moving them out of
    # the collector's reach stops the full collection that otherwise walks them every ~10 reruns (~100 ms each,
    # the review page's p95; benchmarks/review_speed.py).
    gc.freeze()
    return store


def get_store(db: str | None = None) -> Store:
    """The store at ``db`` (default ``$XNER_DB``, else ./xner.db), migrated, with the demo loaded when empty."""
    return _open(resolve_url(db))


def database_label(store: Store) -> str:
    """The store's database URL as a page shows it: its password hidden."""
    return safe_url(store.url)


def app_folder() -> ManagedFolder:
    """The managed folder of the app's database (``$XNER_HOME``, else beside the SQLite file, else ./xner-home)."""
    return ManagedFolder.for_database(resolve_url())


REVIEWER_KEY = "xner_reviewer"
KEPT_NAME_KEY = "xner_reviewer_kept"  # the name typed, kept across pages (see reviewer_sidebar)


def logged_in_user() -> str:
    """The OIDC user's e-mail (or name) when Streamlit's login is configured and the user logged in, else ""."""
    try:
        user = st.user
        if user.get("is_logged_in"):
            return str(user.get("email") or user.get("name") or "")
    except (AttributeError, KeyError, RuntimeError):  # no auth configured, or outside a Streamlit run
        pass
    return ""


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section: reviewers then log in with OIDC."""
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except (FileNotFoundError, KeyError, RuntimeError):
        return False


def reviewer_sidebar() -> str:
    """Show who is reviewing in the sidebar and return the reviewer, or "" when nobody is identified.

    With OIDC configured: the logged-in user with a log-out button, else a log-in button (no typed names, so
    every decision carries a verified identity). Without: a name input, kept for the browser session.
    """
    user = logged_in_user()
    if user:
        st.sidebar.caption(f"Reviewing as **{literal(user)}**")
        if auth_configured() and st.sidebar.button("Log out", key="xner_logout"):
            st.logout()
        return user
    if auth_configured():
        if st.sidebar.button("Log in", key="xner_login", type="primary"):
            st.login()
        return ""  # with a login, a typed name is never an identity
    # Streamlit drops a widget's value when another page opens: a plain session key carries the name over
    if KEPT_NAME_KEY in st.session_state:
        st.session_state[REVIEWER_KEY] = st.session_state[KEPT_NAME_KEY]
    name = st.sidebar.text_input(
        "Your name (recorded with each decision)",
        key=REVIEWER_KEY,
        max_chars=200,
        placeholder="e.g. amina",
        on_change=_keep_name,
    )
    st.sidebar.caption(UNVERIFIED)
    return name.strip()


def _keep_name() -> None:
    st.session_state[KEPT_NAME_KEY] = st.session_state[REVIEWER_KEY]


# --- widgets shared by the pages that start runs --------------------------------------------------------------


@contextmanager
def count_progress(label: str) -> Iterator[ProgressFn]:
    """A progress bar fed with (done, total) (a service's ``on_progress``), removed when the block ends.

    Calls after the block are ignored (a generator may report once more when it is closed, later).
    """
    bar = st.progress(0.0, text=literal(label))
    open_ = [True]

    def update(done: int, total: int) -> None:
        if open_[0]:
            bar.progress(min(done / total, 1.0) if total else 1.0, text=literal(f"{label}: {done:,}/{total:,}"))

    try:
        yield update
    finally:
        open_[0] = False
        bar.empty()


@dataclass
class PhasedBar:
    """A progress bar fed with counts (``update(done, total)``, a service's ``on_progress``) and phase lines
    (``phase(text)``, its ``on_phase``): the text shows the latest phase, the bar the latest count."""

    bar: Any
    label: str
    done: int = 0
    total: int = 0
    current: str = ""
    open: bool = True

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._draw()

    def phase(self, text: str) -> None:
        self.current = text
        self._draw()

    def _draw(self) -> None:
        if not self.open:
            return
        count = f"{self.done:,}/{self.total:,}" if self.total else ""
        text = " — ".join(part for part in (count, self.current) if part)
        value = min(self.done / self.total, 1.0) if self.total else 0.0
        self.bar.progress(value, text=literal(f"{self.label}: {text}" if text else self.label))


@contextmanager
def phased_progress(label: str) -> Iterator[PhasedBar]:
    """A :class:`PhasedBar` labelled ``label``, removed when the block ends (later calls are ignored)."""
    progress = PhasedBar(st.progress(0.0, text=literal(label)), label)
    try:
        yield progress
    finally:
        progress.open = False
        progress.bar.empty()


@contextmanager
def stage_progress(labels: Mapping[str, str]) -> Iterator[StageProgress]:
    """Progress bars fed with (stage, done, total) (a staged service's ``on_progress``, e.g. translate-test's
    ``translate``, ``align``, ``project``): one bar per stage, labelled ``labels[stage]`` (else the stage's name),
    added as each stage starts and all removed when the block ends. Calls after the block are ignored."""
    placeholder = st.empty()
    box = placeholder.container()
    bars: dict[str, Any] = {}
    open_ = [True]

    def update(stage: str, done: int, total: int) -> None:
        if not open_[0]:
            return
        label = labels.get(stage, stage)
        if stage not in bars:
            bars[stage] = box.progress(0.0, text=literal(label))
        value = min(done / total, 1.0) if total else 1.0
        bars[stage].progress(value, text=literal(f"{label}: {done:,}/{total:,}"))

    try:
        yield update
    finally:
        open_[0] = False
        placeholder.empty()
