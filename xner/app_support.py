"""What the Streamlit pages share: the store (cached per process and database URL) and the demo bootstrap.

Pages import from here instead of opening databases themselves, so each page stays thin.
"""

from __future__ import annotations

import streamlit as st

from xner.services.demo import load_demo
from xner.store.db import Store, open_store, resolve_url


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Store:
    store = open_store(url)
    load_demo(store)
    return store


def get_store(db: str | None = None) -> Store:
    """The store at ``db`` (default ``$XNER_DB``, else ./xner.db), migrated, with the demo loaded when empty."""
    return _open(resolve_url(db))
