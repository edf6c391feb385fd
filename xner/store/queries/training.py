"""Training runs (identified by the hash of their configuration), their metrics, and experiments with the runs
linked to their points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from xner.store.models import Experiment, ExperimentRun, RunMetric, TrainingRun, utcnow

CHUNK = 500  # run ids per IN (...) list when reading metrics and points


def _metric_rows(run_id: int, train_seconds: float, scores: Mapping[str, Mapping[str, float]] | None) -> list[dict]:
    """One row per score (label ``"overall"`` is stored as ``""``), after the training time."""
    rows: list[dict[str, Any]] = [{"run_id": run_id, "name": "train_seconds", "label": "", "value": train_seconds}]
    for label, row in (scores or {}).items():
        rows += [
            {"run_id": run_id, "name": name, "label": "" if label == "overall" else label, "value": value}
            for name, value in row.items()
        ]
    return rows


def _run_by_hash(session: Session, key: str) -> TrainingRun | None:
    return session.scalars(select(TrainingRun).where(TrainingRun.config_hash == key)).one_or_none()


def start_training_run(session: Session, key: str, config: dict[str, Any], sizes: dict[str, Any]) -> tuple[int, bool]:
    """Create the run of configuration hash ``key`` as running, or reset the existing one (dropping its scores);
    returns its id and whether it existed."""
    run = _run_by_hash(session, key)
    replaced = run is not None
    if run is None:
        run = TrainingRun(config_hash=key)
        session.add(run)
    else:
        session.execute(delete(RunMetric).where(RunMetric.run_id == run.id))
    run.config, run.status, run.data_sizes = config, "running", sizes
    run.model_path, run.created_at, run.finished_at = None, utcnow(), None
    session.flush()
    return run.id, replaced


def finish_training_run(
    session: Session,
    run_id: int,
    model_path: str,
    train_seconds: float,
    scores: Mapping[str, Mapping[str, float]] | None,
) -> None:
    """Record run ``run_id`` as done with its model at ``model_path`` and its scores; another run's model saved at
    the same place is gone, so that run keeps its scores but no longer a path."""
    run = session.get(TrainingRun, run_id)
    assert run is not None
    run.status, run.model_path, run.finished_at = "done", model_path, utcnow()
    session.execute(insert(RunMetric), _metric_rows(run.id, train_seconds, scores))
    session.execute(
        update(TrainingRun)
        .where(TrainingRun.model_path == model_path, TrainingRun.id != run.id)
        .values(model_path=None)
    )
    session.flush()


def fail_training_run(session: Session, run_id: int) -> None:
    """Record run ``run_id`` (when it still exists) as failed, without a model."""
    run = session.get(TrainingRun, run_id)
    if run is not None:
        run.status, run.model_path, run.finished_at = "failed", None, utcnow()


def record_training_run(
    session: Session,
    key: str,
    config: dict[str, Any],
    sizes: dict[str, Any],
    *,
    failed: bool,
    train_seconds: float,
    scores: Mapping[str, Mapping[str, float]] | None,
) -> int:
    """Store a finished run of configuration hash ``key`` (new or replacing the existing one) as done or failed,
    with its metrics; returns its id."""
    run = _run_by_hash(session, key)
    if run is None:
        run = TrainingRun(config_hash=key)
        session.add(run)
    run.config, run.data_sizes = config, sizes
    run.status = "failed" if failed else "done"
    run.created_at = run.finished_at = utcnow()
    session.flush()
    session.execute(delete(RunMetric).where(RunMetric.run_id == run.id))
    session.execute(insert(RunMetric), _metric_rows(run.id, train_seconds, scores))
    return run.id


def training_run_status(session: Session, key: str) -> tuple[int, str] | None:
    """The id and status of the run of configuration hash ``key``; None when there is none."""
    row = session.execute(
        select(TrainingRun.id, TrainingRun.status).where(TrainingRun.config_hash == key)
    ).one_or_none()
    return None if row is None else (row.id, row.status)


def training_runs(session: Session, *, experiment: str | None = None) -> list[TrainingRun]:
    """The training runs, newest first; with ``experiment``, only those linked to that experiment (by name)."""
    query = select(TrainingRun).order_by(TrainingRun.created_at.desc(), TrainingRun.id.desc())
    if experiment is not None:
        linked = (
            select(ExperimentRun.run_id)
            .join(Experiment, Experiment.id == ExperimentRun.experiment_id)
            .where(Experiment.name == experiment)
        )
        query = query.where(TrainingRun.id.in_(linked))
    return list(session.scalars(query))


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for first in range(0, len(ids), size):
        yield ids[first : first + size]


def run_metrics(session: Session, ids: Sequence[int]) -> dict[int, dict[str, dict[str, float]]]:
    """The metrics of each of the runs ``ids``: run id -> label (``""`` overall) -> name -> value."""
    found: dict[int, dict[str, dict[str, float]]] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(RunMetric.run_id, RunMetric.label, RunMetric.name, RunMetric.value).where(
                RunMetric.run_id.in_(chunk)
            )
        )
        for run_id, label, name, value in rows:
            found.setdefault(run_id, {}).setdefault(label, {})[name] = value
    return found


def run_points(session: Session, ids: Sequence[int]) -> list[tuple[int, str, str, str, int, int]]:
    """(run id, experiment name, language, strategy, k, seed) of each experiment point linked to one of ``ids``,
    ordered by experiment, language, strategy and k within each chunk of ids."""
    found: list[tuple[int, str, str, str, int, int]] = []
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                ExperimentRun.run_id,
                Experiment.name,
                ExperimentRun.language,
                ExperimentRun.strategy,
                ExperimentRun.k,
                ExperimentRun.seed,
            )
            .join(Experiment, Experiment.id == ExperimentRun.experiment_id)
            .where(ExperimentRun.run_id.in_(chunk))
            .order_by(Experiment.name, ExperimentRun.language, ExperimentRun.strategy, ExperimentRun.k)
        )
        found += [(run_id, name, language, strategy, k, seed) for run_id, name, language, strategy, k, seed in rows]
    return found


def upsert_experiment(session: Session, name: str, config: dict[str, Any]) -> int:
    """Create experiment ``name`` with ``config``, or update the existing one's config; returns its id."""
    found = session.scalars(select(Experiment).where(Experiment.name == name)).one_or_none()
    if found is None:
        found = Experiment(name=name, config=config)
        session.add(found)
    else:
        found.config, found.updated_at = config, utcnow()
    session.flush()
    return found.id


def link_experiment_run(
    session: Session, experiment_id: int, language: str, strategy: str, k: int, seed: int, run_id: int
) -> None:
    """Point the experiment's point (language, strategy, k, seed) at run ``run_id``, replacing its old link."""
    session.execute(
        delete(ExperimentRun).where(
            ExperimentRun.experiment_id == experiment_id,
            ExperimentRun.language == language,
            ExperimentRun.strategy == strategy,
            ExperimentRun.k == k,
            ExperimentRun.seed == seed,
        )
    )
    session.execute(
        insert(ExperimentRun).values(
            experiment_id=experiment_id, run_id=run_id, language=language, strategy=strategy, k=k, seed=seed
        )
    )


def find_experiment(session: Session, name: str) -> tuple[int, dict[str, Any]] | None:
    """The id and configuration of experiment ``name``; None when there is none."""
    found = session.scalars(select(Experiment).where(Experiment.name == name)).one_or_none()
    return None if found is None else (found.id, found.config)


def experiment_point_values(
    session: Session, experiment_id: int, metric: str, label: str
) -> list[tuple[str, str, int, int, float]]:
    """(language, strategy, k, seed, value of ``metric`` for ``label``) of each of the experiment's done points."""
    rows = session.execute(
        select(ExperimentRun.language, ExperimentRun.strategy, ExperimentRun.k, ExperimentRun.seed, RunMetric.value)
        .join(TrainingRun, TrainingRun.id == ExperimentRun.run_id)
        .join(RunMetric, RunMetric.run_id == TrainingRun.id)
        .where(
            ExperimentRun.experiment_id == experiment_id,
            TrainingRun.status == "done",
            RunMetric.name == metric,
            RunMetric.label == label,
        )
    ).all()
    return [(language, strategy, k, seed, value) for language, strategy, k, seed, value in rows]


def experiments(session: Session) -> list[tuple[Experiment, int]]:
    """Every experiment, by name, with the count of its linked points."""
    counts = dict(
        session.execute(select(ExperimentRun.experiment_id, func.count()).group_by(ExperimentRun.experiment_id)).all()
    )
    return [(found, counts.get(found.id, 0)) for found in session.scalars(select(Experiment).order_by(Experiment.name))]


def experiment_labels(session: Session, name: str) -> list[str]:
    """The entity labels the runs of experiment ``name`` have F1 scores for, sorted (overall, ``""``, left out)."""
    rows = session.scalars(
        select(RunMetric.label)
        .join(ExperimentRun, ExperimentRun.run_id == RunMetric.run_id)
        .join(Experiment, Experiment.id == ExperimentRun.experiment_id)
        .where(Experiment.name == name, RunMetric.label != "", RunMetric.name == "f1")
        .distinct()
    )
    return sorted(rows)


def experiment_run_configs(session: Session, name: str, k: int) -> list[tuple[str, dict[str, Any]]]:
    """(language, training-run configuration) of the runs of experiment ``name``'s points at ``k``."""
    rows = session.execute(
        select(ExperimentRun.language, TrainingRun.config)
        .join(TrainingRun, TrainingRun.id == ExperimentRun.run_id)
        .join(Experiment, Experiment.id == ExperimentRun.experiment_id)
        .where(Experiment.name == name, ExperimentRun.k == k)
    )
    return [(language, config) for language, config in rows]
