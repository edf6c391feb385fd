"""The forms the pages share: corpus and side pickers, a widget per option of a component (aligner, projector,
tagger, translator; its :class:`~xner.services.runs.OptionSpec` list), and the model picker.

Models: pages never take a server path. A model is a saved one from the managed folder's ``models/``
(:mod:`xner.services.managed`) or, where the component can load one, a model hub name (:func:`model_input`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from xner.engine.translate.codes import LanguageNotCoveredError, to_nllb
from xner.errors import XnerError
from xner.services.corpora import CorpusInfo
from xner.services.managed import MODELS, check_hub_name
from xner.services.runs import OptionSpec
from xner.types import Side
from xner.ui.render import literal
from xner.ui.support import app_folder

# --- corpus and side pickers (Export, Training) -------------------------------------------------------------------


def corpus_select(corpora: Sequence[CorpusInfo], key: str) -> CorpusInfo:
    """A select box of the corpora (name and languages); returns the chosen one."""
    info = {c.name: c for c in corpora}
    name = st.selectbox("Corpus", list(info), format_func=lambda n: f"{n} ({info[n].languages})", key=key)
    return info[name]


def side_select(corpus: CorpusInfo, sides: Sequence[str], key: str) -> str:
    """A segmented control of a corpus's sides (target and source with their languages, or the text)."""
    names = {
        Side.TGT: f"target ({literal(corpus.tgt_lang)})",
        Side.SRC: f"source ({literal(corpus.src_lang)})",
        Side.MONO: "text",
    }
    return st.segmented_control("Side", sides, default=sides[0], format_func=names.get, required=True, key=key)


# --- options of a component -----------------------------------------------------------------------------------


def option_inputs(
    specs: Sequence[OptionSpec], prefix: str, primary: Sequence[str] = (), *, saved_models_only: bool = False
) -> dict[str, object]:
    """A widget per option of a component (the ``primary`` ones first, the others in an expander), keyed
    ``<prefix>_<option>``; returns the options whose value differs from the default. Options that name a model
    (:data:`MODEL_OPTIONS`) get :func:`model_input`: a saved model, or a hub name unless ``saved_models_only``."""
    values: dict[str, object] = {}
    for spec in [s for s in specs if s.name in primary]:
        values[spec.name] = option_input(spec, prefix, saved_models_only=saved_models_only)
    others = [s for s in specs if s.name not in primary]
    if others:
        with st.expander("More options"):
            for spec in others:
                values[spec.name] = option_input(spec, prefix, saved_models_only=saved_models_only)
    return {
        spec.name: values[spec.name]
        for spec in specs
        if values[spec.name] != spec.default and not (values[spec.name] == "" and spec.default is None)
    }


def option_input(spec: OptionSpec, prefix: str, *, saved_models_only: bool = False) -> object:
    """The widget of one option (select, checkbox, number or text input, by its kind; :func:`model_input` for an
    option that names a model); returns its value."""
    key = f"{prefix}_{spec.name}"
    label = spec.name.replace("_", " ")
    if spec.name in MODEL_OPTIONS and spec.kind in ("text", "optional_text"):
        default = "" if spec.default is None else str(spec.default)
        return model_input(label, key, default=default, hub=not saved_models_only, help=spec.help)
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


# --- models: saved in the managed folder, or hub names ------------------------------------------------------------

MODEL_OPTIONS = ("model", "tokenizer")  # text options of components that name a model to load
NO_MODEL = "(none)"
HUB_MODEL = "(a model hub name)"


def models_ready(options: Mapping[str, object]) -> bool:
    """False when an option that names a model was left empty or its hub name was refused (see :func:`model_input`):
    a run must not start with the component's default in its place."""
    return all(options[name] for name in MODEL_OPTIONS if name in options)


def model_input(label: str, key: str, *, default: str = "", hub: bool = True, help: str | None = None) -> str:
    """Choose a model without naming a server path: a saved model of the managed ``models/`` folder (a select box,
    keyed ``<key>_saved``) or, with ``hub``, a model hub name (a text input keyed ``key``, checked by
    :func:`~xner.services.managed.check_hub_name`; a refused name shows why).

    Returns:
        What the services load: the saved model's folder, or the hub name; "" when none is chosen or the name is
        refused. With an empty ``default``, "(none)" is offered (and chosen) first.
    """
    folder = app_folder()
    saved = folder.names(MODELS)
    if not saved and not hub:
        st.caption(literal(f"{label}: no saved models yet (train one on the Training page)."))
        return ""
    choices = ([] if default else [NO_MODEL]) + saved + ([HUB_MODEL] if hub else [])
    index = choices.index(HUB_MODEL) if default and hub else 0
    choice = st.selectbox(literal(label), choices, index=index, key=f"{key}_saved", help=help)
    if choice == NO_MODEL:
        return ""
    if choice != HUB_MODEL:
        return str(folder.existing(MODELS, choice))
    name = st.text_input(
        f"{literal(label)}: hub name",
        value=default,
        key=key,
        max_chars=200,
        placeholder="e.g. xlm-roberta-base or org/name",
        help="A model hub name (already in the server's model cache when the hub cannot be reached); never a path.",
    ).strip()
    if not name:
        return ""
    try:
        return check_hub_name(name)
    except XnerError as error:
        st.error(literal(str(error)))
        return ""


# --- languages of a translation ---------------------------------------------------------------------------------


def language_feedback(from_lang: str, to_lang: str, *, model: bool, file_choice: str) -> bool:
    """Show the NLLB-200 codes the two languages resolve to, or why they do not; returns False when a model cannot
    translate them (a file of translations needs no NLLB code: its problems are only warnings). ``file_choice`` is
    the page's name of that other choice, offered when a model cannot translate a language."""
    if not to_lang:
        st.caption("Enter the language to translate into (an ISO code such as `yor`, `sw` or `en`).")
        return False
    ok = True
    codes = []
    for code in (from_lang, to_lang):
        try:
            codes.append(f"{literal(code)} → `{to_nllb(code)}`")
        except LanguageNotCoveredError as error:
            if model:
                st.error(literal(f"{error}; here: choose {file_choice}."))
                ok = False
            else:
                st.info(literal(f"{error}: no NLLB code is needed for a file of translations."))
        except XnerError as error:
            if model:
                st.error(literal(str(error)))
                ok = False
            else:
                st.warning(literal(f"{error}. The file's translations are stored with this code as given."))
    if codes:
        st.caption("NLLB-200 codes: " + ", ".join(codes))
    return ok
