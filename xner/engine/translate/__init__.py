"""Machine translation: translators behind one interface (:class:`~xner.engine.translate.base.Translator`),
chosen by name, and the mapping of language codes to NLLB-200's."""

from xner.engine.translate import nllb as _nllb  # noqa: F401 - registers "nllb" and "ctranslate2"
from xner.engine.translate.base import TRANSLATORS, Translator

__all__ = ["TRANSLATORS", "Translator"]
