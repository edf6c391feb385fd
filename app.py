"""xner's browser app: the navigation between its pages (the home page is pages/0_Home.py).

Start with ``bash scripts/app.sh`` (or ``streamlit run app.py``); the database is ``$XNER_DB`` or ./xner.db.
Each page is a thin script over the ``xner`` services and also runs on its own (AppTest opens them one by one).
Every page runs inside the error boundary (``xner.ui.support.page_guard``): users see one line, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from xner.ui.support import page_guard

PAGES = [
    st.Page("pages/0_Home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_Review.py", title="Review", icon=":material/rate_review:"),
    st.Page("pages/2_Spot_check.py", title="Spot check", icon=":material/fact_check:"),
    st.Page("pages/3_Agreement.py", title="Agreement", icon=":material/handshake:"),
    st.Page("pages/4_Export.py", title="Export", icon=":material/download:"),
    st.Page("pages/5_Training.py", title="Training", icon=":material/model_training:"),
    st.Page("pages/6_Translate.py", title="Translate", icon=":material/translate:"),
]

# The tab's icon before a page sets its own: without it the browser shows the page's Material icon, which it fetches
# from fonts.gstatic.com on every page load (a request outside the app; tests/browser/test_payloads.py counts them)
st.set_page_config(page_icon="🔤")
with page_guard():
    st.navigation(PAGES).run()
