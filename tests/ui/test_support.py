"""What the pages share (xner/ui/support.py): the error boundary (no tracebacks for users, an error id in the server
log), the reviewer's identity with and without a login, and the shipped Streamlit settings."""

from __future__ import annotations

import logging
import re
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import load, seen
from tests.conftest import REPO
from xner.ui.support import UNVERIFIED

SECRET = "s3cret-pa55"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://accounts.example.org/.well-known/openid-configuration",
}


def failing_page(kind: str) -> None:
    """A page whose body raises ``kind`` inside the boundary (AppTest runs this function's source as a script)."""
    import sqlite3

    import streamlit as st
    from sqlalchemy.exc import OperationalError

    from xner.errors import XnerError
    from xner.ui.support import page_guard

    with page_guard():
        st.title("before")
        with st.columns(2)[0]:  # an error deep in the layout still lands as one message
            if kind == "xner":
                raise XnerError("unknown corpus 'yor'; known: demo-en-es")
            if kind == "database":
                raise OperationalError(
                    "UPDATE review_state SET version=? WHERE id=?",
                    (2, 1),
                    sqlite3.OperationalError("database is locked"),
                )
            if kind == "bug":
                raise RuntimeError(
                    f"boom at postgresql+psycopg://xner:{'s3cret' + '-pa55'}@db/xner in /srv/xner/app.py"
                )
            if kind == "stop":
                st.stop()
            if kind == "rerun" and not st.session_state.get("rerun_done"):
                st.session_state["rerun_done"] = True
                st.rerun()
        st.write("after")


def callback_page() -> None:
    import streamlit as st

    from xner.ui.support import guarded, page_guard

    @guarded
    def explode() -> None:
        raise ValueError("a bug in a callback")

    with page_guard():
        st.button("Go", key="go", on_click=explode)
        st.write("page drawn")


def texts(at: AppTest, kind: str) -> list[str]:
    """The bodies of the elements of one kind, as the reader sees them (escapes and character references resolved)."""
    return [seen(str(element.value)) for element in getattr(at, kind)]


def everything(at: AppTest) -> str:
    kinds = ("markdown", "caption", "title", "error", "warning", "info", "success", "exception", "text")
    return "\n".join(seen(str(element.value)) for kind in kinds for element in getattr(at, kind))


# --- the error boundary -------------------------------------------------------------------------------------------


def test_an_xner_error_shows_its_one_line_and_stops_the_page() -> None:
    at = AppTest.from_function(failing_page, args=("xner",)).run()

    assert not at.exception
    assert texts(at, "error") == ["unknown corpus 'yor'; known: demo-en-es"]
    assert "after" not in texts(at, "markdown")


def test_a_database_failure_is_one_line_without_sql(caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_function(failing_page, args=("database",)).run()

    assert not at.exception
    [message] = texts(at, "error")
    assert "database is locked" in message and "try again" in message
    assert "UPDATE" not in everything(at) and "review_state" not in everything(at)


def test_an_unexpected_error_shows_an_id_and_logs_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="xner.app"):
        at = AppTest.from_function(failing_page, args=("bug",)).run()

    assert not at.exception
    [message] = texts(at, "error")
    found = re.fullmatch(
        r"Something went wrong \(error id ([0-9a-f]{6})\); the details are in the server log\.", message
    )
    assert found, message
    assert "boom" not in everything(at) and "/srv/xner" not in everything(at)
    [record] = [r for r in caplog.records if r.name == "xner.app"]
    logged = record.getMessage()
    assert f"error id {found[1]}" in logged and "Traceback (most recent call last)" in logged
    assert "RuntimeError: boom at postgresql+psycopg://xner:***@db/xner" in logged and SECRET not in logged


@pytest.mark.parametrize("kind", ["stop", "rerun"])
def test_streamlit_control_flow_passes_through(kind: str) -> None:
    at = AppTest.from_function(failing_page, args=(kind,)).run()

    assert not at.exception and not at.error
    assert ("after" in texts(at, "markdown")) == (kind == "rerun")


def test_a_failing_callback_is_reported_by_the_page(caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_function(callback_page).run()
    at = at.button(key="go").click().run()

    assert not at.exception
    [message] = texts(at, "error")
    assert message.startswith("Something went wrong (error id ") and "a bug" not in everything(at)
    assert "page drawn" in texts(at, "markdown")
    assert any("ValueError: a bug in a callback" in r.getMessage() for r in caplog.records)
    assert not at.run().error  # shown once


def test_a_database_that_cannot_be_opened_shows_one_line_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XNER_DB", f"postgresql+psycopg://xner:{SECRET}@127.0.0.1:1/xner")  # nothing listens on 1
    for page in ("app", "0_Home", "4_Export"):
        at = load(page).run()

        assert not at.exception, page
        [message] = texts(at, "error")
        assert message.startswith("cannot open the database postgresql") and "xner:***@127" in message
        assert SECRET not in everything(at)


def test_an_invalid_database_url_is_one_line_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XNER_DB", f"postgresql+psycopg://xner:{SECRET}@db:port/xner")  # the port is not a number
    at = load("app").run()

    assert not at.exception
    [message] = texts(at, "error")
    assert message.startswith("invalid database URL 'postgresql+psycopg://xner:***@db:port/xner'")
    assert SECRET not in everything(at)


def test_every_page_runs_inside_the_boundary() -> None:
    for page in ["app.py", *sorted(str(p.relative_to(REPO)) for p in (REPO / "pages").glob("*.py"))]:
        source = (REPO / page).read_text(encoding="utf-8")
        assert "with page_guard():" in source, page


def test_the_shipped_settings_hide_error_details_and_listen_locally() -> None:
    from streamlit.config import ShowErrorDetailsConfigOptions

    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["client"]["showErrorDetails"] == ShowErrorDetailsConfigOptions.NONE.value == "none"
    assert settings["server"]["address"] == "127.0.0.1"
    script = (REPO / "scripts" / "app.sh").read_text(encoding="utf-8")
    assert 'address=(--server.address "${XNER_ADDRESS:-127.0.0.1}")' in script


# --- identity -----------------------------------------------------------------------------------------------------


def name_fields(at: AppTest) -> list[str]:
    """The keys of the text inputs that take a reviewer's name (the Review page's "Decided by" is a filter)."""
    return [field.key for field in at.sidebar.text_input if field.key != "review_decided_by"]


IDENTIFIED_PAGES = ["0_Home", "1_Review", "2_Spot_check", "3_Agreement", "5_Training", "6_Translate"]


@pytest.mark.parametrize("name", IDENTIFIED_PAGES)
def test_without_a_login_typed_names_are_marked_unverified(db: str, name: str) -> None:
    at = load(name).run()

    assert not at.exception
    assert at.sidebar.text_input(key="xner_reviewer")
    assert UNVERIFIED in texts(at.sidebar, "caption")


@pytest.mark.parametrize("name", IDENTIFIED_PAGES)
def test_with_a_login_no_typed_name_is_accepted(db: str, name: str) -> None:
    at = load(name)
    at.secrets["auth"] = AUTH
    at.user = {}
    at.session_state["xner_reviewer_kept"] = "mallory"  # a name typed before the login was configured
    at.run()

    assert not at.exception
    assert not name_fields(at) and at.sidebar.button(key="xner_login")
    assert UNVERIFIED not in texts(at.sidebar, "caption")
    assert "mallory" not in everything(at)

    at.user = {"is_logged_in": True, "email": "amina@example.org", "name": "Amina"}
    at.run()
    assert not name_fields(at) and at.sidebar.button(key="xner_logout")
    assert "amina@example.org" in texts(at.sidebar, "caption")[0]
    assert UNVERIFIED not in texts(at.sidebar, "caption")
