"""Word aligners behind one interface (:class:`~xner.engine.align.base.Aligner`), chosen by name.

>>> from xner.engine.align import ALIGNERS
>>> sorted(ALIGNERS)
['awesome', 'eflomal', 'simalign']
"""

from xner.engine.align import eflomal_aligner as _eflomal  # noqa: F401 - registers "eflomal"
from xner.engine.align import neural as _neural  # noqa: F401 - registers "simalign" and "awesome"
from xner.engine.align.base import ALIGNERS, Aligner, DirectionalAligner, DirectionalLinks, TokenPair
from xner.engine.align.symmetrize import SYMMETRIZATIONS, symmetrize

__all__ = [
    "ALIGNERS",
    "SYMMETRIZATIONS",
    "Aligner",
    "DirectionalAligner",
    "DirectionalLinks",
    "TokenPair",
    "symmetrize",
]
