"""xner home page: the project's corpora, their languages, sizes, entities and review progress.

Start with ``bash scripts/app.sh`` (or ``streamlit run app.py``); the database is ``$XNER_DB`` or ./xner.db.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xner.app_support import get_store
from xner.services.corpora import list_corpora

st.set_page_config(page_title="xner", page_icon="🔤", layout="wide")
st.title("xner — projected NER data")
st.caption(
    "English entities are projected onto translations through word alignments; linguists review the "
    "projections and export curated training data."
)

store = get_store()
corpora = list_corpora(store)
if not corpora:
    st.info("No corpora yet. Import one with `xner import conll FILE --corpus NAME --lang CODE`.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "corpus": c.name,
            "kind": c.kind,
            "languages": c.src_lang + (f" → {c.tgt_lang}" if c.tgt_lang else ""),
            "sentences": c.total_sentences,
            "pairs": c.pairs,
            "tokens": c.tokens,
            "entities": sum(c.entities.values()),
            "reviewed": sum(v for k, v in c.review.items() if k != "unreviewed"),
            "unreviewed": c.review.get("unreviewed", 0),
        }
        for c in corpora
    ]
)
st.subheader("Corpora")
st.dataframe(table, hide_index=True, width="stretch", key="home_corpora")

st.subheader("Entities per label")
labels = pd.DataFrame(
    [{"corpus": c.name, "label": label, "count": n} for c in corpora for label, n in c.entities.items()]
)
if labels.empty:
    st.info("No entities yet.")
else:
    st.bar_chart(labels, x="label", y="count", color="corpus", stack=False)
st.caption(f"Database: `{store.url}`")
