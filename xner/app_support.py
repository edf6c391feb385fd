"""What the Streamlit pages share: the store (cached per process and database URL), the demo bootstrap and the
reviewer's identity.

Pages import from here instead of opening databases themselves, so each page stays thin. Identity: with Streamlit's
OIDC login configured (``[auth]`` in ``.streamlit/secrets.toml``, see the README's team deployment), the logged-in
user's e-mail or name; otherwise the name typed into the sidebar, kept for the browser session.
"""

from __future__ import annotations

import gc

import streamlit as st

from xner.services.demo import load_demo
from xner.store.db import Store, open_store, resolve_url


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
        st.sidebar.caption(f"Reviewing as **{user}**")
        if auth_configured() and st.sidebar.button("Log out", key="xner_logout"):
            st.logout()
        return user
    if auth_configured():
        if st.sidebar.button("Log in", key="xner_login", type="primary"):
            st.login()
        return ""
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
    return name.strip()


def _keep_name() -> None:
    st.session_state[KEPT_NAME_KEY] = st.session_state[REVIEWER_KEY]
