"""Learning: NER taggers trained on core types (pure computation; saving a model to a directory is allowed).

Taggers share one interface (:class:`~xner.learning.taggers.Tagger`) and are chosen by name from
:data:`~xner.learning.taggers.TAGGERS`; :func:`~xner.learning.taggers.load_tagger` reads a saved one back.

>>> from xner.learning import TAGGERS
>>> sorted(TAGGERS)
['crf', 'transformer']
"""

from xner.learning import crf as _crf  # noqa: F401 - registers "crf"
from xner.learning import melm as _melm  # noqa: F401 - registers the "melm" augmenter
from xner.learning import transformer as _transformer  # noqa: F401 - registers "transformer"
from xner.learning.augment import AUGMENTERS, Augmenter, Gazetteer, Synthetic, SyntheticOrigin
from xner.learning.taggers import TAGGERS, ScoredSpan, Tagger, load_tagger, read_manifest

__all__ = [
    "AUGMENTERS",
    "TAGGERS",
    "Augmenter",
    "Gazetteer",
    "ScoredSpan",
    "Synthetic",
    "SyntheticOrigin",
    "Tagger",
    "load_tagger",
    "read_manifest",
]
