"""The Training page's use cases, as plain data: the choices of a training form, the recorded training runs (trained
with ``xner train`` / the app, or as points of ``xner experiment`` sweeps) with their scores, side-by-side
comparisons of runs, and the learning curves of an experiment (their figures and files: :mod:`xner.figures.training`).

Runs are :class:`~xner.store.models.TrainingRun` rows with :class:`~xner.store.models.RunMetric` scores (label
``""`` for overall). A run's ``config`` is what decided its result: ``train_tagger`` stores corpus, side, splits,
statuses, tagger and options; an experiment point stores ``kind: experiment-point`` with its language, data,
strategy options, k, seed and tagger options (see :mod:`xner.services.experiments`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xner.errors import UnknownNameError
from xner.learning import TAGGERS
from xner.services.experiments import ALL, CurvePoint, learning_curves
from xner.services.runs import OptionSpec, option_specs
from xner.services.training import TRAIN_STATUSES, TrainReport
from xner.store.db import Store
from xner.store.queries import training as run_queries
from xner.types import ReviewStatus

DEFAULT_TAGGER = "crf"
STATUS_CHOICES: dict[str, tuple[ReviewStatus, ...]] = {
    "unreviewed, accepted and corrected": TRAIN_STATUSES,
    "reviewed only (accepted and corrected)": (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED),
}
METRICS = ("f1", "precision", "recall")
EXPERIMENT_POINT = "experiment-point"  # the config "kind" of runs trained by experiments
MISSING = "—"  # a setting a run does not have, in comparisons


# --- the training form -------------------------------------------------------------------------------------------


def tagger_names() -> list[str]:
    """The registered taggers, sorted, the default (``crf``) first.

    >>> tagger_names()
    ['crf', 'transformer']
    """
    return sorted(TAGGERS, key=lambda name: (name != DEFAULT_TAGGER, name))


def tagger_options(name: str) -> list[OptionSpec]:
    """The options of tagger ``name`` as form specs (kind, default, help); an unknown name lists the taggers.

    >>> [(o.name, o.default) for o in tagger_options("crf")][:3]
    [('c1', 0.1), ('c2', 0.05), ('max_iterations', 150)]
    """
    if name not in TAGGERS:
        raise UnknownNameError("tagger", name, TAGGERS)
    return option_specs(TAGGERS[name])


def default_eval_splits(splits: Sequence[str], train: Collection[str]) -> list[str]:
    """The split to score on by default: ``test``, else ``dev``/``validation``, when not trained on; else none.

    >>> default_eval_splits(["train", "dev", "test"], ["train"]), default_eval_splits(["train"], ["train"])
    (['test'], [])
    """
    for name in ("test", "dev", "validation"):
        if name in splits and name not in train:
            return [name]
    return []


def default_train_splits(splits: Sequence[str]) -> list[str]:
    """``train`` when the side has it, else its first split (none for no splits).

    >>> default_train_splits(["dev", "train"]), default_train_splits(["a", "b"]), default_train_splits([])
    (['train'], ['a'], [])
    """
    if "train" in splits:
        return ["train"]
    return list(splits[:1])


def safe_name(text: str, fallback: str = "model") -> str:
    """``text`` as one file-name component (letters, digits, ``.``, ``-``, ``_``).

    >>> safe_name("demo-en-es"), safe_name("../<b>x</b>"), safe_name("//")
    ('demo-en-es', 'b_x_b', 'model')
    """
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or fallback


def report_entities(report: TrainReport) -> list[dict[str, Any]]:
    """Rows ``{label, entities}`` of the training sentences' entities, by label."""
    return [{"label": label, "entities": count} for label, count in report.entities.items()]


def score_rows(scores: Mapping[str, Mapping[str, float]] | None) -> list[dict[str, Any]]:
    """Rows ``{label, precision, recall, f1, support}``, overall first then the labels in name order.

    >>> score_rows({"PER": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2},
    ...             "overall": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2}})[0]["label"]
    'overall'
    """
    if not scores:
        return []
    labels = sorted(scores, key=lambda label: (label != "overall", label))
    return [
        {
            "label": label,
            "precision": scores[label].get("precision"),
            "recall": scores[label].get("recall"),
            "f1": scores[label].get("f1"),
            "support": int(scores[label].get("support", 0)),
        }
        for label in labels
    ]


# --- recorded runs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointLink:
    """One experiment point a run was trained for (a run shared by points has several)."""

    experiment: str
    language: str
    strategy: str
    k: int
    seed: int

    def describe(self) -> str:
        k = "all" if self.k == ALL else str(self.k)
        return f"{self.experiment}: {self.language} {self.strategy} k={k} seed {self.seed}"


@dataclass(frozen=True)
class RunInfo:
    """A training run as the Runs table shows it, with its configuration and every score."""

    id: int
    status: str
    created_at: datetime
    finished_at: datetime | None
    config: dict[str, Any]
    data_sizes: dict[str, Any]
    model_path: str | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # label ("" overall) -> name -> value
    points: tuple[PointLink, ...] = ()

    @property
    def from_experiment(self) -> bool:
        """True for a point of an experiment sweep, False for a run of ``xner train`` or the app."""
        return self.config.get("kind") == EXPERIMENT_POINT

    @property
    def tagger(self) -> str:
        return str(self.config.get("tagger", ""))

    @property
    def sentences(self) -> int:
        return training_sentences(self.data_sizes)

    def score(self, name: str, label: str = "") -> float | None:
        """Metric ``name`` (f1, precision, recall, support...) for ``label`` (``""``: overall), None if absent."""
        return self.metrics.get(label, {}).get(name)

    @property
    def labels(self) -> list[str]:
        """The entity labels the run has scores for, sorted."""
        return sorted(label for label in self.metrics if label and "f1" in self.metrics[label])

    def describe(self) -> str:
        """What was trained: ``corpus/side: splits`` or the experiment point(s)."""
        if self.points:
            more = f" (+{len(self.points) - 1} more)" if len(self.points) > 1 else ""
            return self.points[0].describe() + more
        return describe_config(self.config)


def training_sentences(sizes: Mapping[str, Any]) -> int:
    """The training sentences in a run's ``data_sizes``: ``sentences`` (``train_tagger``), or the sum over origins
    (experiment points: ``{"stages": 1, "gold": {"sentences": 20, ...}, ...}``).

    >>> training_sentences({"sentences": 7, "eval": {"sentences": 3}})
    7
    >>> training_sentences({"stages": 1, "gold": {"sentences": 20, "weight": 20.0}, "projected": {"sentences": 5}})
    25
    """
    if "sentences" in sizes:
        return int(sizes["sentences"])
    return sum(int(row.get("sentences", 0)) for row in sizes.values() if isinstance(row, Mapping))


def describe_config(config: Mapping[str, Any]) -> str:
    """One line for a run configuration.

    >>> describe_config({"corpus": "yor", "side": "mono", "splits": ["train"], "tagger": "crf"})
    'yor: train'
    >>> describe_config({"corpus": "ep", "side": "tgt", "splits": ["a", "b"]})
    'ep/tgt: a, b'
    >>> describe_config({"kind": "experiment-point", "language": "yor", "strategy": {"mix": "gold"}, "k": 20,
    ...                  "seed": 1})
    'yor mix=gold k=20 seed 1'
    """
    if config.get("kind") == EXPERIMENT_POINT:
        strategy = " ".join(f"{key}={value}" for key, value in (config.get("strategy") or {}).items())
        k = "all" if config.get("k") == ALL else config.get("k")
        return f"{config.get('language')} {strategy} k={k} seed {config.get('seed')}"
    side = config.get("side")
    where = str(config.get("corpus", "?")) + (f"/{side}" if side and side != "mono" else "")
    return f"{where}: {', '.join(config.get('splits') or [])}"


ALL_RUNS = "all"
TRAINED_RUNS = "trained"  # runs of `xner train` and the app (not experiment points)


def list_training_runs(store: Store, *, show: str = ALL_RUNS, experiment: str | None = None) -> list[RunInfo]:
    """The training runs, newest first, with their scores and experiment points.

    Args:
        store: the open store.
        show: :data:`ALL_RUNS`, or :data:`TRAINED_RUNS` for the runs of ``xner train`` and the app only.
        experiment: only the runs linked to this experiment (by name).
    """
    with store.session() as session:
        runs = run_queries.training_runs(session, experiment=experiment)
        ids = [run.id for run in runs]
        metrics = run_queries.run_metrics(session, ids)
        points: dict[int, list[PointLink]] = {}
        for run_id, name, language, strategy, k, seed in run_queries.run_points(session, ids):
            points.setdefault(run_id, []).append(PointLink(name, language, strategy, k, seed))
    infos = [
        RunInfo(
            run.id,
            run.status,
            run.created_at,
            run.finished_at,
            dict(run.config or {}),
            dict(run.data_sizes or {}),
            run.model_path,
            metrics.get(run.id, {}),
            tuple(points.get(run.id, ())),
        )
        for run in runs
    ]
    if show == TRAINED_RUNS:
        infos = [info for info in infos if not info.from_experiment]
    return infos


def run_rows(runs: Iterable[RunInfo]) -> list[dict[str, Any]]:
    """The Runs table: id, when, status, what was trained, tagger, sentences, overall F1, precision and recall."""
    return [
        {
            "id": run.id,
            "when (UTC)": run.created_at.strftime("%Y-%m-%d %H:%M"),
            "status": run.status,
            "source": "experiment" if run.from_experiment else "train",
            "trained on": run.describe(),
            "tagger": run.tagger,
            "sentences": run.sentences,
            "F1": run.score("f1"),
            "P": run.score("precision"),
            "R": run.score("recall"),
            "seconds": run.score("train_seconds"),
        }
        for run in runs
    ]


def run_label(run: RunInfo) -> str:
    """A short name for a run in pickers and charts: ``run 3 · yor: train``."""
    return f"run {run.id} · {run.describe()}"


# --- comparing runs ----------------------------------------------------------------------------------------------


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as ``{"a.b": "text"}``, lists joined with commas.

    >>> flatten({"tagger": "crf", "options": {"c1": 0.1}, "splits": ["train", "dev"], "run": None})
    {'tagger': 'crf', 'options.c1': '0.1', 'splits': 'train, dev', 'run': 'None'}
    """
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = ", ".join(str(item) for item in value)
        else:
            flat[name] = str(value)
    return flat


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: their settings (one column per run) and their F1 per label."""

    columns: list[str]  # "run N" per run, in the order given
    settings: list[dict[str, Any]]  # {"setting", "differs", <column>: value...}
    f1: list[dict[str, Any]]  # {"label", <column>: f1...}, overall first

    @property
    def differing(self) -> list[dict[str, Any]]:
        """The settings whose value is not the same for every run."""
        return [row for row in self.settings if row["differs"]]


def compare_runs(runs: Sequence[RunInfo]) -> Comparison:
    """Settings and per-label F1 of ``runs`` side by side; a setting one run lacks shows as :data:`MISSING`."""
    columns = [f"run {run.id}" for run in runs]
    flats = [{**flatten(run.config), "training sentences": str(run.sentences)} for run in runs]
    keys = list(dict.fromkeys(key for flat in flats for key in flat))
    settings = []
    for key in keys:
        values = [flat.get(key, MISSING) for flat in flats]
        settings.append({"setting": key, "differs": len(set(values)) > 1, **dict(zip(columns, values, strict=True))})
    labels = sorted({label for run in runs for label in run.labels})
    f1 = [
        {"label": label or "overall", **{col: run.score("f1", label) for col, run in zip(columns, runs, strict=True)}}
        for label in ["", *labels]
    ]
    return Comparison(columns, settings, f1)


# --- experiments and learning curves -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentInfo:
    """An experiment: its languages and strategies (from its config) and how many points are linked."""

    name: str
    languages: list[str]
    strategies: list[str]
    points: int
    updated_at: datetime


def list_experiments(store: Store) -> list[ExperimentInfo]:
    """Every experiment, by name, with the count of its linked points."""
    with store.session() as session:
        return [
            ExperimentInfo(
                found.name,
                [str(code) for code in (found.config or {}).get("languages", {})],
                [str(name) for name in (found.config or {}).get("strategies", {})],
                count,
                found.updated_at,
            )
            for found, count in run_queries.experiments(session)
        ]


def experiment_labels(store: Store, experiment: str) -> list[str]:
    """The entity labels the experiment's runs have scores for, sorted (overall is ``""``, not listed)."""
    with store.session() as session:
        return run_queries.experiment_labels(session, experiment)


def gold_pool_sizes(store: Store, experiment: str) -> dict[str, int]:
    """The gold pool size per language (where k = "all" is drawn), from the runs' recorded ``pools``."""
    sizes: dict[str, int] = {}
    for language, config in _language_configs(store, experiment):
        gold = ((config or {}).get("pools") or {}).get("gold")
        if isinstance(gold, int) and gold > 0:
            sizes[language] = gold
    return sizes


def evaluation_splits(store: Store, experiment: str) -> dict[str, str]:
    """The split each language is scored on (``test``, or ``dev`` where the test set is held out), from the runs'
    recorded data."""
    splits: dict[str, str] = {}
    for language, config in _language_configs(store, experiment):
        split = (((config or {}).get("data") or {}).get("test") or {}).get("split")
        if isinstance(split, str) and split:
            splits[language] = split
    return splits


def _language_configs(store: Store, experiment: str) -> list[tuple[str, dict[str, Any]]]:
    """(language, training-run configuration) of the experiment's k = "all" runs."""
    with store.session() as session:
        return run_queries.experiment_run_configs(session, experiment, ALL)


@dataclass(frozen=True)
class Curves:
    """The learning curves of one experiment, metric and label (``""``: overall), for some languages."""

    experiment: str
    metric: str
    label: str
    points: list[CurvePoint]
    all_at: dict[str, int]
    eval_splits: dict[str, str] = field(default_factory=dict)  # language → the split it is scored on

    @property
    def title(self) -> str:
        return f"entity {self.metric}" + (f" ({self.label})" if self.label else "")

    @property
    def y_title(self) -> str:
        """The title with the split scored on: ``(test)``, or ``(test; dev for lug, luo)`` when languages differ.

        >>> Curves("e", "f1", "", [], {}, {"yor": "test", "hau": "test", "lug": "dev", "luo": "dev"}).y_title
        'entity f1 (test; dev for lug, luo)'
        """
        shown = {language: self.eval_splits.get(language, "test") for language in self._languages()}
        if not shown:
            return f"{self.title} (test)"
        counts = list(shown.values())
        usual = max(set(counts), key=lambda split: (counts.count(split), split == "test"))  # ties: test
        others = sorted({split for split in shown.values() if split != usual})
        exceptions = [f"{split} for {', '.join(sorted(k for k, v in shown.items() if v == split))}" for split in others]
        return f"{self.title} ({'; '.join([usual, *exceptions])})"

    def _languages(self) -> list[str]:
        return sorted({point.language for point in self.points} or set(self.eval_splits))

    def file_stem(self) -> str:
        """A file name (without suffix) for the downloads: ``<experiment>-<metric>[-<label>]``."""
        parts = [self.experiment, self.metric, *([self.label] if self.label else [])]
        return "-".join(safe_name(part, "curves") for part in parts)


def experiment_curves(
    store: Store,
    experiment: str,
    *,
    metric: str = "f1",
    label: str = "",
    languages: Collection[str] | None = None,
) -> Curves:
    """The experiment's curves (mean over seeds with 95% interval) of ``metric`` for ``label``, for ``languages``
    (default all); an unknown experiment raises an XnerError."""
    points = learning_curves(store, experiment, metric=metric, label=label)
    if languages is not None:
        points = [point for point in points if point.language in languages]
    splits = evaluation_splits(store, experiment)
    return Curves(experiment, metric, label, points, gold_pool_sizes(store, experiment), splits)
