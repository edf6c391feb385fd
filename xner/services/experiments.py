"""Sample-efficiency sweeps: train a tagger for every (language, strategy, k gold sentences, seed) of a config and
record each run with its data sizes and scores; learning curves with confidence bands from the recorded runs.

A config (YAML or JSON; see ``docs/study/`` for the real study's) names, per language, the gold corpus split the k
sentences are sampled from, the test split, and optionally a parallel corpus with a projection run (its target
sentences with projected spans; reviewed ones carry their curated spans and status). Strategies are
:class:`xner.learning.strategies.Strategy` options by name. Each point is a
:class:`~xner.store.models.TrainingRun` identified by the hash of everything that decides its result, so an
interrupted sweep resumes where it stopped and a point shared by two experiments is trained once.
"""

from __future__ import annotations

import json
import logging
import math
import random
import statistics
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from xner.errors import XnerError
from xner.learning import TAGGERS
from xner.learning.strategies import Augment, Example, Strategy, fit_plan
from xner.options import describe
from xner.services.corpora import find_corpus, get_corpus
from xner.services.executing import Executor, LocalExecutor
from xner.services.exporting import side_for
from xner.services.pairs import iter_pairs
from xner.services.projecting import get_projection_run
from xner.services.training import config_hash, evaluate_tagger, read_sentences
from xner.store.db import Store
from xner.store.queries import training as run_queries
from xner.store.queries.corpora import held_splits, sentence_counts
from xner.store.queries.projections import run_spans_and_confidence
from xner.store.queries.review import corpus_review_states
from xner.types import CorpusKind, ProgressFn, ReviewStatus, Sentence, Side

log = logging.getLogger(__name__)

ALL = -1  # k for "all gold sentences"
TRAIN_STATUSES = (ReviewStatus.UNREVIEWED, ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED)


# --- the configuration -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataRef:
    corpus: str
    split: str = "train"
    run: int | None = None  # projection run (projected data only); None: the newest


@dataclass(frozen=True)
class LanguageData:
    gold: DataRef
    test: DataRef
    projected: DataRef | None = None
    source: DataRef | None = None  # labelled source-language sentences (strategies with source_sentences)


@dataclass(frozen=True)
class ExperimentConfig:
    """A sweep: languages × strategies × ks × seeds, one tagger configuration."""

    name: str
    languages: Mapping[str, LanguageData]
    strategies: Mapping[str, Mapping[str, Any]]
    ks: tuple[int, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    tagger: str = "crf"
    tagger_options: Mapping[str, Any] = field(default_factory=dict)
    augmenter: str = "mention_replacement"
    augmenter_options: Mapping[str, Any] = field(default_factory=dict)
    workers: int = 1

    @classmethod
    def load(cls, path: str | Path) -> ExperimentConfig:
        """Read a YAML or JSON config; every problem is an XnerError naming the file and the key."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise XnerError(f"{path}: cannot read the experiment config ({error})") from None
        try:
            if path.suffix.lower() == ".json":
                raw = json.loads(text)
            else:
                import yaml

                raw = yaml.safe_load(text)
        except Exception as error:
            raise XnerError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({error})") from None
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: Any, *, source: str = "config") -> ExperimentConfig:
        if not isinstance(raw, Mapping):
            raise XnerError(f"{source}: an experiment config is a mapping with name, languages, strategies, ks")
        known = {"name", "languages", "strategies", "ks", "seeds", "tagger", "tagger_options", "augmenter"}
        known |= {"augmenter_options", "workers", "source"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise XnerError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for key in ("name", "languages", "strategies", "ks"):
            if not raw.get(key):
                raise XnerError(f"{source}: '{key}' is missing or empty")
        default_source = raw.get("source")  # the source corpus of every language that names none
        languages = {
            str(code): _language(code, spec if "source" in spec else {**spec, "source": default_source}, source)
            if isinstance(spec, Mapping)
            else _language(code, spec, source)
            for code, spec in raw["languages"].items()
        }
        strategies = {str(name): dict(options or {}) for name, options in raw["strategies"].items()}
        for name, options in strategies.items():
            try:
                Strategy.from_options(options)
            except XnerError as error:
                raise XnerError(f"{source}: strategy {name!r}: {error}") from None
        config = cls(
            name=str(raw["name"]),
            languages=languages,
            strategies=strategies,
            ks=tuple(_k(k, source) for k in raw["ks"]),
            seeds=tuple(int(seed) for seed in raw.get("seeds", (0, 1, 2))),
            tagger=str(raw.get("tagger", "crf")),
            tagger_options=dict(raw.get("tagger_options") or {}),
            augmenter=str(raw.get("augmenter", "mention_replacement")),
            augmenter_options=dict(raw.get("augmenter_options") or {}),
            workers=max(1, int(raw.get("workers", 1))),
        )
        TAGGERS.create(config.tagger, config.tagger_options)  # an unknown tagger or option fails now, not mid-sweep
        return config

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def override(
        self,
        *,
        languages: Sequence[str] | None = None,
        ks: Sequence[int] | None = None,
        seeds: Sequence[int] | None = None,
        eval_split: str | None = None,
        workers: int | None = None,
    ) -> ExperimentConfig:
        """This config with the command line's choices in place of the file's: a subset of its ``languages`` (in
        the order given), other ``ks`` and ``seeds``, and the ``eval_split`` every language is scored on. Another
        evaluation split makes another experiment (``NAME-SPLIT``), so scores on two splits never share a curve.

        Raises:
            XnerError: a language the config does not define (the message lists those it does), or an empty list.

        >>> raw = {"name": "s", "languages": {"yor": {"gold": "g", "test": "g"}, "hau": {"gold": "h", "test": "h"}},
        ...        "strategies": {"gold": {"mix": "gold"}}, "ks": [50, 100]}
        >>> small = ExperimentConfig.from_mapping(raw).override(languages=["hau"], ks=[10], seeds=[7], eval_split="dev")
        >>> small.name, list(small.languages), small.ks, small.seeds, small.languages["hau"].test
        ('s-dev', ['hau'], (10,), (7,), DataRef(corpus='h', split='dev', run=None))
        """
        changes: dict[str, Any] = {}
        chosen = dict(self.languages)
        if languages is not None:
            unknown = [code for code in languages if code not in self.languages]
            if unknown:
                raise XnerError(
                    f"experiment {self.name!r} has no language {', '.join(map(repr, unknown))}; "
                    f"its languages: {', '.join(self.languages)}"
                )
            if not languages:
                raise XnerError("give at least one language")
            chosen = {code: self.languages[code] for code in dict.fromkeys(languages)}
        if eval_split is not None:
            if not eval_split.strip():
                raise XnerError("the evaluation split is empty; give a split name such as test or dev")
            if any(data.test.split != eval_split for data in chosen.values()):
                changes["name"] = f"{self.name}-{eval_split}"
            chosen = {code: replace(data, test=replace(data.test, split=eval_split)) for code, data in chosen.items()}
        changes["languages"] = chosen
        if ks is not None:
            if not ks:
                raise XnerError("give at least one k")
            changes["ks"] = tuple(dict.fromkeys(_k(k, "--ks") for k in ks))
        if seeds is not None:
            if not seeds:
                raise XnerError("give at least one seed")
            changes["seeds"] = tuple(dict.fromkeys(int(seed) for seed in seeds))
        if workers is not None:
            changes["workers"] = max(1, workers)
        return replace(self, **changes)


def parse_ks(text: str) -> list[int]:
    """``"50,100,all"`` → ``[50, 100, ALL]`` (the ``--ks`` option).

    >>> parse_ks("50, 100,all")
    [50, 100, -1]
    """
    return [_k(part.strip(), "--ks") for part in text.split(",") if part.strip()]


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` or a range ``"0-4"`` → the seeds (the ``--seeds`` option).

    >>> parse_seeds("0-4"), parse_seeds("3,7")
    ([0, 1, 2, 3, 4], [3, 7])
    """
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        try:
            seeds += list(range(int(first), int(last) + 1)) if dash and first else [int(part)]
        except ValueError:
            raise XnerError(f"--seeds: {part!r} is not a seed; give numbers or ranges, e.g. 0,1,2 or 0-4") from None
    return seeds


def _language(code: Any, spec: Any, source: str) -> LanguageData:
    where = f"{source}: language {code!r}"
    if not isinstance(spec, Mapping) or "gold" not in spec or "test" not in spec:
        raise XnerError(f"{where} needs 'gold' and 'test' ({{corpus, split}}), and may have 'projected', 'source'")

    def ref(key: str, default_split: str) -> DataRef | None:
        value = spec.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return DataRef(value, default_split)
        if not isinstance(value, Mapping) or "corpus" not in value:
            raise XnerError(f"{where}: '{key}' needs a corpus")
        run = value.get("run")
        return DataRef(str(value["corpus"]), str(value.get("split", default_split)), None if run is None else int(run))

    gold, test = ref("gold", "train"), ref("test", "test")
    assert gold is not None and test is not None
    return LanguageData(gold, test, ref("projected", "train"), ref("source", "train"))


def _k(value: Any, source: str) -> int:
    if str(value).lower() == "all":
        return ALL
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise XnerError(f"{source}: k must be a whole number or 'all', got {value!r}") from None
    if k < 0:
        raise XnerError(f"{source}: k must not be negative, got {k}")
    return k


# --- the data ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pools:
    """What one language's runs learn from and are scored on."""

    gold: tuple[Sentence, ...]
    test: tuple[Sentence, ...]
    projected: tuple[Example, ...] = ()
    projection_run: int | None = None
    source: tuple[Sentence, ...] = ()

    def fingerprint(self) -> dict[str, Any]:
        """Sizes that change when the data does (part of each run's configuration)."""
        return {
            "gold": len(self.gold),
            "test": len(self.test),
            "projected": len(self.projected),
            "projection_run": self.projection_run,
            "projected_reviewed": sum(1 for e in self.projected if e.status != ReviewStatus.UNREVIEWED.value),
            "source": len(self.source),
        }


def load_pools(
    store: Store, data: LanguageData, *, sources: dict[DataRef, tuple[Sentence, ...]] | None = None
) -> Pools:
    """Gold and test sentences (curated where reviewed), the projected target sentences and the labelled source
    sentences of one language. ``sources`` caches the source sentences across languages (they usually share one
    corpus), so it is read once and the pools share one tuple."""
    sources = {} if sources is None else sources
    with store.session() as session:
        gold_corpus = get_corpus(session, data.gold.corpus)
        gold = read_sentences(session, gold_corpus, side_for(gold_corpus, None), [data.gold.split], TRAIN_STATUSES)
        test_corpus = get_corpus(session, data.test.corpus)
        test = read_sentences(session, test_corpus, side_for(test_corpus, None), [data.test.split], TRAIN_STATUSES)
        if not gold:
            raise XnerError(f"corpus {data.gold.corpus!r} has no sentences in split {data.gold.split!r}")
        if not test:
            raise XnerError(f"corpus {data.test.corpus!r} has no sentences in split {data.test.split!r}")
        source: tuple[Sentence, ...] = ()
        if data.source is not None:
            if data.source not in sources:
                source_corpus = get_corpus(session, data.source.corpus)
                side = Side.SRC if source_corpus.kind == CorpusKind.PARALLEL else Side.MONO
                sources[data.source] = tuple(
                    read_sentences(session, source_corpus, side, [data.source.split], TRAIN_STATUSES)
                )
            source = sources[data.source]
        if data.projected is None:
            return Pools(tuple(gold), tuple(test), source=source)
        projected, run_id = _projected(session, data.projected)
    return Pools(tuple(gold), tuple(test), tuple(projected), run_id, source)


def _projected(session: Any, ref: DataRef) -> tuple[list[Example], int]:
    """The target sentences of a projection run: projected spans and confidence, or the curated spans and status
    of reviewed ones (rejected sentences are left out)."""
    corpus = get_corpus(session, ref.corpus)
    run = get_projection_run(session, corpus, ref.run)
    projections = run_spans_and_confidence(session, run.id)
    states = corpus_review_states(session, corpus.id)
    examples = []
    for pair in iter_pairs(session, corpus, splits=[ref.split], with_spans=False):
        if pair.pair_id not in projections:
            continue
        spans, confidence = projections[pair.pair_id]
        status, curated = states.get(pair.tgt_id, (ReviewStatus.UNREVIEWED.value, None))
        if status == ReviewStatus.REJECTED.value:
            continue
        reviewed = status != ReviewStatus.UNREVIEWED.value and curated is not None
        chosen = curated if reviewed and curated is not None else spans
        sentence = Sentence(pair.tgt_tokens, tuple(chosen))
        examples.append(Example(sentence, "projected", confidence=float(confidence), status=status))
    return examples, run.id


def sample_gold(gold: Sequence[Sentence], k: int, seed: int) -> list[Example]:
    """``k`` gold sentences drawn at random with ``seed`` (all for :data:`ALL`); the same k and seed always draw
    the same sentences, and a larger k with the same seed keeps the smaller draw (nested samples).

    >>> pool = [Sentence((str(i),)) for i in range(10)]
    >>> small, large = sample_gold(pool, 3, 0), sample_gold(pool, 6, 0)
    >>> [e.sentence for e in small] == [e.sentence for e in large[:3]]
    True
    """
    order = list(range(len(gold)))
    random.Random(seed).shuffle(order)
    chosen = order if k == ALL else order[:k]
    return [Example(gold[i], "gold") for i in chosen]


# --- running a sweep -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    language: str
    strategy: str
    k: int
    seed: int


@dataclass
class SweepReport:
    experiment: str
    points: int
    trained: int = 0
    cached: int = 0
    skipped: list[str] = field(default_factory=list)  # points that cannot be trained (e.g. gold-only at k=0)
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)  # points without a result for every seed (failed, unfinished)


def points_of(config: ExperimentConfig) -> list[Point]:
    return [
        Point(language, strategy, k, seed)
        for language in config.languages
        for strategy in config.strategies
        for k in config.ks
        for seed in config.seeds
    ]


def run_config(config: ExperimentConfig, point: Point, pools: Pools) -> dict[str, Any]:
    """Everything that decides a point's result: its hash identifies the training run."""
    return {
        "kind": "experiment-point",
        "language": point.language,
        "data": asdict(config.languages[point.language]),
        "pools": pools.fingerprint(),
        "strategy": dict(sorted(config.strategies[point.strategy].items())),
        # without gold sentences k changes nothing: such points share one run across the ks
        "k": point.k if "gold" in Strategy.from_options(config.strategies[point.strategy]).uses else 0,
        "seed": point.seed,
        "tagger": config.tagger,
        "tagger_options": describe(TAGGERS.create(config.tagger, config.tagger_options)),
        "augmenter": [config.augmenter, dict(sorted(config.augmenter_options.items()))],
    }


def run_experiment(
    store: Store,
    config: ExperimentConfig,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    on_progress: ProgressFn | None = None,
) -> SweepReport:
    """Train every point of ``config`` not trained before (by configuration hash) and link all to the experiment.

    Points run where ``executor`` runs tasks (:mod:`xner.services.executing`; default: ``workers`` local
    processes, default the config's); this process records each result as it comes. A failing point is marked
    failed and the sweep goes on; running again retries failed and unfinished points.
    """
    started = time.perf_counter()
    check_data(store, config)
    points = points_of(config)
    report = SweepReport(config.name, len(points))
    experiment_id = _upsert_experiment(store, config)
    sources: dict[DataRef, tuple[Sentence, ...]] = {}
    pools = {language: load_pools(store, data, sources=sources) for language, data in config.languages.items()}
    todo: list[tuple[Point, dict[str, Any]]] = []
    shared: list[tuple[Point, dict[str, Any]]] = []
    queued: set[str] = set()  # the configuration hashes in todo
    for point in points:
        if _needs_gold(config, point) and point.k == 0:
            reason = f"{point.language} {point.strategy} k=0: the strategy needs gold sentences"
            if reason not in report.skipped:
                report.skipped.append(reason)
            continue
        run_cfg = run_config(config, point, pools[point.language])
        key = config_hash(run_cfg)
        run_id = _cached_run(store, key)
        if run_id is not None:
            _link(store, experiment_id, point, run_id)
            report.cached += 1
        elif key in queued:
            shared.append((point, run_cfg))  # the same run as an earlier point (e.g. projected-only at each k)
        else:
            queued.add(key)
            todo.append((point, run_cfg))
    done = report.cached
    total = report.cached + len(todo) + len(shared)
    if on_progress:
        on_progress(done, total)
    executor = executor or LocalExecutor(workers or config.workers)
    for point, run_cfg, outcome in _train_all(config, pools, todo, executor):
        run_id = _record(store, run_cfg, outcome)
        _link(store, experiment_id, point, run_id)
        if outcome.get("error"):
            log.warning("%s %s k=%s seed=%s failed: %s", *vars(point).values(), outcome["error"])
        else:
            report.trained += 1
        done += 1
        if on_progress:
            on_progress(done, total)
    for point, run_cfg in shared:
        run_id = _cached_run(store, config_hash(run_cfg), done_only=False)
        if run_id is not None:
            _link(store, experiment_id, point, run_id)
            report.cached += 1
    if on_progress and shared:
        on_progress(total, total)  # the shared points were trained with the point they share a run with
    report.missing = [gap.describe() for gap in sweep_gaps(store, config)]
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def check_data(store: Store, config: ExperimentConfig) -> None:
    """Check, before any work, that every corpus and split the sweep reads (gold pool, evaluation split, projected
    and source sentences) holds sentences; one error names every one that does not, with the splits it has.

    Raises:
        XnerError: the missing corpora and splits, all of them.
    """
    problems: list[str] = []
    with store.session() as session:
        for code, data in config.languages.items():
            refs = (("gold", data.gold), ("evaluation", data.test), ("projected", data.projected))
            for role, ref in (*refs, ("source", data.source)):
                if ref is None:
                    continue
                corpus = find_corpus(session, ref.corpus)
                if corpus is None:
                    problems.append(f"{code}: {role} corpus {ref.corpus!r} does not exist")
                elif not held_splits(session, corpus.id, [ref.split]):
                    splits = [split for split, *_ in sentence_counts(session, corpus.id)]
                    held = ", ".join(dict.fromkeys(splits)) or "none"
                    problems.append(f"{code}: {role} split {ref.split!r} of {ref.corpus!r} is empty (it has: {held})")
    if problems:
        raise XnerError(f"experiment {config.name!r} cannot run: " + "; ".join(dict.fromkeys(problems)))


@dataclass(frozen=True)
class Gap:
    """A (language, strategy, k) of a sweep without a result for every seed it asks for."""

    language: str
    strategy: str
    k: int
    missing_seeds: tuple[int, ...]
    wanted: int

    def describe(self) -> str:
        """``"yor hybrid k=500: no result (seeds 0, 1)"`` or ``"yor gold k=250: 1 of 5 seeds (missing 1, 2...)"``."""
        where = f"{self.language} {self.strategy} k={'all' if self.k == ALL else self.k}"
        seeds = ", ".join(map(str, self.missing_seeds))
        if len(self.missing_seeds) == self.wanted:
            return f"{where}: no result (seeds {seeds})"
        return f"{where}: {self.wanted - len(self.missing_seeds)} of {self.wanted} seeds (missing {seeds})"


def sweep_gaps(store: Store, config: ExperimentConfig) -> list[Gap]:
    """The points of ``config`` that lack a done run for some of its seeds (failed, not yet trained, interrupted),
    by (language, strategy, k) in the config's order; points that cannot be trained (k = 0 without gold) are not
    gaps. An empty list: every mean of the sweep stands on all its seeds."""
    try:
        _, values = point_values(store, config.name)
    except XnerError:
        values = {}
    missing: dict[tuple[str, str, int], list[int]] = {}
    for point in points_of(config):
        if point.k == 0 and _needs_gold(config, point):
            continue
        if (point.language, point.strategy, point.k, point.seed) not in values:
            missing.setdefault((point.language, point.strategy, point.k), []).append(point.seed)
    return [Gap(*key, tuple(seeds), len(config.seeds)) for key, seeds in missing.items()]


def _needs_gold(config: ExperimentConfig, point: Point) -> bool:
    return Strategy.from_options(config.strategies[point.strategy]).mix in ("gold", "gold+synthetic")


def _train_all(
    config: ExperimentConfig,
    pools: Mapping[str, Pools],
    todo: list[tuple[Point, dict[str, Any]]],
    executor: Executor,
) -> Iterator[tuple[Point, dict[str, Any], dict[str, Any]]]:
    """Train the points of ``todo`` where ``executor`` runs tasks; yields each as it completes."""
    train = partial(_train_task, (config, dict(pools)))
    for index, outcome in executor.map_unordered(train, [point for point, _ in todo]):
        point, run_cfg = todo[index]
        yield point, run_cfg, outcome


def _train_task(context: tuple[ExperimentConfig, dict[str, Pools]], point: Point) -> dict[str, Any]:
    config, pools = context
    return train_point(config, point, pools[point.language])


def train_point(config: ExperimentConfig, point: Point, pools: Pools) -> dict[str, Any]:
    """Train and score one point; returns its sizes and scores, or the error (never raises for a bad point)."""
    try:
        strategy = Strategy.from_options(config.strategies[point.strategy])
        gold = sample_gold(pools.gold, point.k, point.seed)
        augment = make_augment(config.augmenter, config.augmenter_options) if "synthetic" in strategy.uses else None
        plan = strategy.plan(gold, pools.projected, seed=point.seed, augment=augment, source=pools.source)
        options = dict(config.tagger_options)
        if "seed" in TAGGERS.lookup(config.tagger).__dataclass_fields__:  # randomness follows the point's seed
            options["seed"] = point.seed
        tagger = TAGGERS.create(config.tagger, options)
        started = time.perf_counter()
        fit_plan(tagger, plan)
        seconds = time.perf_counter() - started
        scores = evaluate_tagger(tagger, pools.test).as_dict()
        return {"sizes": plan.sizes(), "scores": scores, "train_seconds": round(seconds, 3)}
    except XnerError as error:
        return {"error": str(error), "sizes": {}, "scores": {}}


def make_augment(name: str, options: Mapping[str, Any]) -> Augment:
    """An augmenter of :mod:`xner.learning.augment` as the ``(sentences, n, seed, names) -> sentences`` strategies
    take (``names``: the sentences whose mentions make the gazetteer of mention replacement)."""
    from xner.learning.augment import AUGMENTERS, Gazetteer

    augmenter = AUGMENTERS.create(name, options)

    def augment(sentences: Sequence[Sentence], n: int, seed: int, names: Sequence[Sentence] = ()) -> list[Sentence]:
        gazetteer = Gazetteer.from_sentences(names) if names else None
        return [s.sentence for s in augmenter.augment(sentences, n=n, seed=seed, gazetteer=gazetteer)]

    return augment


# --- the store -------------------------------------------------------------------------------------------------


def _upsert_experiment(store: Store, config: ExperimentConfig) -> int:
    with store.transaction() as session:
        return run_queries.upsert_experiment(session, config.name, config.as_dict())


def _cached_run(store: Store, key: str, *, done_only: bool = True) -> int | None:
    """The run of configuration hash ``key`` when it is done (or, ``done_only=False``, in any state)."""
    with store.session() as session:
        found = run_queries.training_run_status(session, key)
    return found[0] if found is not None and (found[1] == "done" or not done_only) else None


def _record(store: Store, run_cfg: dict[str, Any], outcome: dict[str, Any]) -> int:
    """Store one trained point as a done (or failed) training run with its metrics; returns the run id."""
    with store.transaction() as session:
        return run_queries.record_training_run(
            session,
            config_hash(run_cfg),
            run_cfg,
            outcome.get("sizes") or {},
            failed=bool(outcome.get("error")),
            train_seconds=outcome.get("train_seconds", 0.0),
            scores=outcome.get("scores"),
        )


def _link(store: Store, experiment_id: int, point: Point, run_id: int) -> None:
    with store.transaction() as session:
        run_queries.link_experiment_run(
            session, experiment_id, point.language, point.strategy, point.k, point.seed, run_id
        )


# --- learning curves -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurvePoint:
    """Mean F1 of one (language, strategy, k) over its seeds, with a 95% t interval."""

    language: str
    strategy: str
    k: int
    n: int
    mean: float
    low: float
    high: float
    values: tuple[float, ...]


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom.

    >>> round(t95(4), 3), round(t95(14), 3), round(t95(1000), 3)
    (2.776, 2.145, 1.962)
    """
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of ``values`` (the interval is the mean itself for one value).

    >>> [round(x, 3) for x in mean_interval([0.5, 0.6, 0.7])]
    [0.6, 0.352, 0.848]
    """
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    half = t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def point_values(
    store: Store, experiment: str, *, metric: str = "f1", label: str = ""
) -> tuple[dict[str, Any], dict[tuple[str, str, int, int], float]]:
    """The experiment's configuration and ``metric`` of each of its done points, by (language, strategy, k, seed)."""
    with store.session() as session:
        found = run_queries.find_experiment(session, experiment)
        if found is None:
            raise XnerError(f"no experiment named {experiment!r}; run `xner experiment CONFIG` first")
        experiment_id, config = found
        rows = run_queries.experiment_point_values(session, experiment_id, metric, label)
    return config, {(language, strategy, k, seed): value for language, strategy, k, seed, value in rows}


def _curve_points(config: Mapping[str, Any], groups: Mapping[tuple[str, str, int], list[float]]) -> list[CurvePoint]:
    """Mean and interval per (language, strategy, k), ordered by language, the config's strategy order and k."""
    order = {name: i for i, name in enumerate(config.get("strategies", {}))}
    points = []
    for (language, strategy, k), values in groups.items():
        mean, low, high = mean_interval(values)
        points.append(CurvePoint(language, strategy, k, len(values), mean, low, high, tuple(sorted(values))))
    points.sort(key=lambda p: (p.language, order.get(p.strategy, len(order)), p.k if p.k != ALL else math.inf))
    return points


def learning_curves(store: Store, experiment: str, *, metric: str = "f1", label: str = "") -> list[CurvePoint]:
    """The experiment's done points, grouped by (language, strategy, k), ordered by language, strategy and k."""
    config, values = point_values(store, experiment, metric=metric, label=label)
    groups: dict[tuple[str, str, int], list[float]] = {}
    for (language, strategy, k, _), value in values.items():
        groups.setdefault((language, strategy, k), []).append(value)
    return _curve_points(config, groups)


def paired_differences(
    store: Store, experiment: str, strategy: str, baseline: str, *, metric: str = "f1", label: str = ""
) -> list[CurvePoint]:
    """``strategy`` minus ``baseline`` seed by seed (the same seed draws the same gold sentences, so the pair
    differs only in the strategy), with the mean difference and its 95% t interval per (language, k); the points'
    strategy is ``"<strategy> − <baseline>"``. A baseline without gold (projected-only) pairs at every k."""
    config, values = point_values(store, experiment, metric=metric, label=label)
    groups: dict[tuple[str, str, int], list[float]] = {}
    name = f"{strategy} − {baseline}"
    for (language, which, k, seed), value in values.items():
        if which != strategy:
            continue
        other = values.get((language, baseline, k, seed))
        if other is not None:
            groups.setdefault((language, name, k), []).append(value - other)
    return _curve_points(config, groups)
