"""What the Streamlit pages share: the store (cached per process and database URL), the demo bootstrap and the
reviewer's identity.

Pages import from here instead of opening databases themselves, so each page stays thin. Identity: with Streamlit's
OIDC login configured (``[auth]`` in ``.streamlit/secrets.toml``, see the README's team deployment), the logged-in
user's e-mail or name; otherwise the name typed into the sidebar, kept for the browser session.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import streamlit as st

from xner.render import literal
from xner.services.corpora import CorpusInfo
from xner.services.demo import load_demo
from xner.services.runs import OptionSpec
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


# --- corpus and side pickers (Export, Training) -------------------------------------------------------------------


def corpus_select(corpora: Sequence[CorpusInfo], key: str) -> CorpusInfo:
    """A select box of the corpora (name and languages); returns the chosen one."""
    info = {c.name: c for c in corpora}
    name = st.selectbox("Corpus", list(info), format_func=lambda n: f"{n} ({info[n].languages})", key=key)
    return info[name]


def side_select(corpus: CorpusInfo, sides: Sequence[str], key: str) -> str:
    """A segmented control of a corpus's sides (target and source with their languages, or the text)."""
    names = {
        "tgt": f"target ({literal(corpus.tgt_lang)})",
        "src": f"source ({literal(corpus.src_lang)})",
        "mono": "text",
    }
    return st.segmented_control("Side", sides, default=sides[0], format_func=names.get, required=True, key=key)


# --- widgets shared by the pages that start runs --------------------------------------------------------------


@contextmanager
def count_progress(label: str) -> Iterator[Callable[[int, int], None]]:
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


@contextmanager
def stage_progress(labels: Mapping[str, str]) -> Iterator[Callable[[str, int, int], None]]:
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


def option_inputs(specs: Sequence[OptionSpec], prefix: str, primary: Sequence[str] = ()) -> dict[str, object]:
    """A widget per option of a component (the ``primary`` ones first, the others in an expander), keyed
    ``<prefix>_<option>``; returns the options whose value differs from the default."""
    values: dict[str, object] = {}
    for spec in [s for s in specs if s.name in primary]:
        values[spec.name] = option_input(spec, prefix)
    others = [s for s in specs if s.name not in primary]
    if others:
        with st.expander("More options"):
            for spec in others:
                values[spec.name] = option_input(spec, prefix)
    return {
        spec.name: values[spec.name]
        for spec in specs
        if values[spec.name] != spec.default and not (values[spec.name] == "" and spec.default is None)
    }


def option_input(spec: OptionSpec, prefix: str) -> object:
    """The widget of one option (select, checkbox, number or text input, by its kind); returns its value."""
    key = f"{prefix}_{spec.name}"
    label = spec.name.replace("_", " ")
    if spec.kind == "choice":
        return st.selectbox(label, spec.choices, index=spec.choices.index(str(spec.default)), key=key, help=spec.help)
    if spec.kind == "bool":
        return st.checkbox(label, value=bool(spec.default), key=key, help=spec.help)
    if spec.kind == "int":
        return int(st.number_input(label, value=int(spec.default), step=1, key=key, help=spec.help))
    if spec.kind == "float":
        return float(st.number_input(label, value=float(spec.default), format="%g", key=key, help=spec.help))
    placeholder = "empty: the default" if spec.kind.startswith("optional") else ""
    default = "" if spec.default is None else str(spec.default)
    return st.text_input(label, value=default, key=key, help=spec.help, placeholder=placeholder).strip()
