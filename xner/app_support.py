"""What the Streamlit pages share: the store (cached per process) and the demo bootstrap.

Pages import from here instead of opening databases themselves, so each page stays thin.
"""

from __future__ import annotations

import streamlit as st

from xner.services.demo import load_demo
from xner.store.db import Store, open_store


@st.cache_resource(show_spinner=False)
def get_store(db: str | None = None) -> Store:
    """The store named by ``$XNER_DB`` (or ``db``), migrated, with the demo loaded when it is empty."""
    store = open_store(db)
    load_demo(store)
    return store
