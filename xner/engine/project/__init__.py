"""Projection methods behind one interface (:class:`~xner.engine.project.base.Projector`), chosen by name."""

from xner.engine.project import easyproject as _easyproject  # noqa: F401 - registers "easyproject"
from xner.engine.project import heuristic as _heuristic  # noqa: F401 - registers "heuristic"
from xner.engine.project import model as _model  # noqa: F401 - registers "model"
from xner.engine.project import ngram as _ngram  # noqa: F401 - registers "ngram"
from xner.engine.project import transfer as _transfer  # noqa: F401 - registers "model-transfer"
from xner.engine.project.base import PROJECTORS, Projector

__all__ = ["PROJECTORS", "Projector"]
