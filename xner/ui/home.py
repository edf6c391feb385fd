"""What the home page charts and tabulates, without Streamlit: review progress and entities per label as shares of
each corpus (so a large corpus does not flatten the small ones), and projection runs scored against the target gold
side by side.

Plain data in (the services' dataclasses), pandas frames out; the page (``pages/0_Home.py``) only draws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from xner.services.corpora import CorpusStats
from xner.services.evaluating import ProjectionEvaluation
from xner.types import ReviewStatus

STATUSES = tuple(status.value for status in ReviewStatus)
SCORE_COLUMNS = ("precision", "recall", "F1", "support")


def share(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole`` (0 when ``whole`` is 0).

    >>> share(1, 4), share(3, 0)
    (25.0, 0.0)
    """
    return 100.0 * part / whole if whole else 0.0


def review_shares(corpora: Iterable[CorpusStats]) -> pd.DataFrame:
    """Per cent of each corpus's target sentences in each review status: one row per corpus (index), one column per
    status; a row sums to 100 (0 for a corpus without sentences to review)."""
    rows = {}
    for corpus in corpora:
        total = sum(corpus.review.get(status, 0) for status in STATUSES)
        rows[corpus.name] = {status: share(corpus.review.get(status, 0), total) for status in STATUSES}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(STATUSES)).rename_axis("corpus")


def label_shares(corpora: Iterable[CorpusStats]) -> pd.DataFrame:
    """Entities per label of each corpus, as counts and as per cent of that corpus's entities (columns corpus,
    label, count, share); empty when no corpus has entities."""
    rows = []
    for corpus in corpora:
        total = sum(corpus.entities.values())
        for label, count in sorted(corpus.entities.items()):
            rows.append({"corpus": corpus.name, "label": label, "count": count, "share": share(count, total)})
    return pd.DataFrame(rows, columns=["corpus", "label", "count", "share"])


def quality_table(evaluations: Sequence[ProjectionEvaluation], names: Mapping[int, str]) -> pd.DataFrame:
    """One row per run and label ("overall" first), with precision, recall, F1 and gold support, as
    ``xner eval projection`` computes them; ``names`` gives each run's label (run id -> text)."""
    rows = [
        {
            "run": names.get(evaluation.run_id, f"run {evaluation.run_id}"),
            "label": label,
            **{column: scores[column.lower()] for column in SCORE_COLUMNS},
        }
        for evaluation in evaluations
        for label, scores in evaluation.scores.items()
    ]
    return pd.DataFrame(rows, columns=["run", "label", *SCORE_COLUMNS])
