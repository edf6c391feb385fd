"""xner: named-entity training data for low-resource languages by annotation projection.

The functions of :mod:`xner.api` are also here (``xner.open_project(...)``, ``xner.project(...)``), imported on
first use so that ``import xner.types`` stays light:

>>> import xner
>>> xner.review_state is xner.api.review_state
True
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The functions of xner.api (tests/test_api.py checks that this list matches it).
API = (
    "align",
    "corpora",
    "corpus",
    "demo_project",
    "evaluate",
    "export",
    "import_alignments",
    "import_conll",
    "import_parallel",
    "open_project",
    "project",
    "queue_for_review",
    "review_queue",
    "review_state",
    "scratch_project",
)


def __getattr__(name: str) -> Any:  # PEP 562: loads xner.api (the services, SQLAlchemy) only when one is used
    if name in API:
        from xner import api

        return getattr(api, name)
    raise AttributeError(f"module 'xner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
