"""Messages of the home page's forms (its tabs: :mod:`xner.ui.imports`, :mod:`xner.ui.deletion`): kept for the
form's place across the rerun that follows a change (:func:`flash`, shown by :func:`show_flashes` next to the form,
in its tab), and errors shown as the CLI prints them.
"""

from __future__ import annotations

import streamlit as st

from xner.errors import XnerError
from xner.ui.render import literal
from xner.ui.support import error_text

FLASH = "home_flash_"  # + a form's name: (kind, text) messages kept across the rerun that follows a change


def flash(form: str, kind: str, text: str) -> None:
    """Keep a message for ``form``'s place on the page, shown there after the rerun (:func:`show_flashes`)."""
    st.session_state.setdefault(FLASH + form, []).append((kind, text))


def show_flashes(form: str) -> None:
    """The messages kept for ``form``, shown here: next to the form, in its tab."""
    for kind, text in st.session_state.pop(FLASH + form, []):
        getattr(st, kind)(literal(text))


def show_error(error: XnerError) -> None:
    """An error as the CLI prints it (file:line: reason), shown as text, never as markup."""
    st.error(literal(error_text(error)))
