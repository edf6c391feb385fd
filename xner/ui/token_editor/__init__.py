"""The token editor: the review page's sentence, on which a reviewer marks entities with the mouse and the keyboard.

A Streamlit ``st.components.v2`` component kept in the repo: plain JavaScript and CSS (``editor.js``,
``editor.css``), no build step, nothing fetched. It runs in the app's page (no iframe), its markup in a shadow root,
and draws every token with ``textContent`` (tokens are user data: never markup). Only this module imports it; the
page reads and checks what it sends through :mod:`xner.ui.review` (``editor_to_change``, ``editor_draft``).

In the browser:

- a click on a token selects it (on a token of an entity, that entity); shift-click or a drag extends the selection
  from the first token; ←/→ move it, shift+←/→ extend it; Esc clears it;
- a label's key (1..9, shown on the legend; :func:`xner.ui.review.label_keys`) gives the selected tokens that
  label: entities the selection touches are replaced by the new one;
- Backspace or Delete removes the entities the selection touches;
- Ctrl+Enter (⌘+Enter) saves the correction, as the page's "Save correction" shortcut does.

Each edit sends the whole draft (``draft``: ``{"spans": [[start, end, label], ...], "base": revision}``) and
Ctrl+Enter sends it again with the save (``save``), so a save never misses an edit whose rerun has not finished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent
_HTML = (
    '<div class="xner-te" tabindex="0" role="group" aria-label="Sentence: select tokens to mark an entity">'
    '<div class="xner-te-tokens"></div><div class="xner-te-keys"></div></div>'
)

_mount = st.components.v2.component(
    "xner.token_editor",  # the component's registered name (kept: not a module path)
    html=_HTML,
    css=(_HERE / "editor.css").read_text(encoding="utf-8"),
    js=(_HERE / "editor.js").read_text(encoding="utf-8"),
)


def token_editor(data: dict[str, Any], *, key: str, on_draft: Callable[[], None], on_save: Callable[[], None]) -> Any:
    """Draw the editor with ``data`` (:func:`xner.ui.review.editor_data`); ``on_draft`` runs when the reviewer
    changed the spans, ``on_save`` on Ctrl+Enter. Both read ``st.session_state[key]`` (``draft``, ``save``)."""
    return _mount(key=key, data=data, on_draft_change=on_draft, on_save_change=on_save)
