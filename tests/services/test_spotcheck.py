"""Spot checks of projection precision: the statistics (Wilson intervals against Newcombe's published values,
kappa against scikit-learn, allocation, stratified estimate) and the services on the demo corpus projected over
eflomal links, judged against its gold target entities."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import snapshot, write
from xner.errors import UnknownNameError, XnerError
from xner.formats.parallel import SideOptions
from xner.services import spotcheck
from xner.services.aligning import align_corpus
from xner.services.demo import load_demo
from xner.services.executing import LocalExecutor, closing_executor, executor_for
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.stats import (
    allocate,
    cohen_kappa,
    stratified_proportion,
    wilson_half_width,
    wilson_interval,
    wilson_sample_size,
)
from xner.store.db import Store
from xner.store.models import Projection, SentencePair, SpotCheckItem
from xner.store.queries.sentences import entity_spans
from xner.types import Span

pytest_plugins = ["tests.pg", "tests.dask_cluster"]

DEMO = "demo-en-es"
RUN = 1  # the one projection run of the fixture


def stratum_key(label: str, confidence: float) -> str:
    return spotcheck.stratum_of(label, confidence, spotcheck.STRATA, spotcheck.BUCKETS)


# --- statistics ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (8, 10, 0.490, 0.943),
        # Newcombe (1998), Stat. Med. 17:857, table I, method 3 (Wilson score without continuity correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_interval_known_values(successes: int, n: int, low: float, high: float) -> None:
    digits = 3 if n == 10 else 4
    assert [round(x, digits) for x in wilson_interval(successes, n)] == [low, high]


def test_wilson_edge_cases_and_bad_counts() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(XnerError, match="need 0 <= successes <= n, got 11 of 10"):
        wilson_interval(11, 10)
    with pytest.raises(XnerError, match="need 0 <= successes <= n"):
        wilson_interval(-1, 10)


@pytest.mark.parametrize(("p", "half_width"), [(0.5, 0.05), (0.8, 0.05), (0.95, 0.02), (1.0, 0.03), (0.3, 0.1)])
def test_sample_size_is_the_smallest_that_reaches_the_width(p: float, half_width: float) -> None:
    n = wilson_sample_size(p, half_width)
    assert wilson_half_width(p, n) <= half_width < wilson_half_width(p, n - 1)


def test_sample_size_near_the_normal_approximation_and_bad_widths() -> None:
    assert wilson_sample_size(0.5, 0.05) in range(380, 390)  # the textbook 1.96² / (4 · 0.05²) = 385
    assert spotcheck.checks_needed(0.8, 0.05) == wilson_sample_size(0.8, 0.05)
    with pytest.raises(XnerError, match="half-width must be positive"):
        wilson_sample_size(0.5, 0)
    with pytest.raises(XnerError, match="a proportion must be in"):
        wilson_sample_size(1.5, 0.1)


def test_cohen_kappa_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    first = list("aabbcabcaacbbaacbbca")
    second = list("abbbcabaaacbcbacbbaa")
    assert cohen_kappa(zip(first, second, strict=True)) == pytest.approx(metrics.cohen_kappa_score(first, second))
    assert cohen_kappa([("a", "a"), ("a", "a")]) == 1.0  # one category throughout: full agreement
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)
    with pytest.raises(XnerError, match="at least one item"):
        cohen_kappa([])


@pytest.mark.parametrize("n", [1, 3, 4, 10, 37, 100, 1000])
def test_allocation_is_proportional_with_one_per_stratum(n: int) -> None:
    sizes = {"PER": 120, "LOC": 300, "ORG": 45, "DATE": 3, "MISC": 0}
    counts = allocate(sizes, n)
    assert set(counts) == {"PER", "LOC", "ORG", "DATE"}
    assert sum(counts.values()) == min(max(n, 4), 468)
    assert all(1 <= counts[k] <= sizes[k] for k in counts)
    if 4 <= n <= 468:
        for key, count in counts.items():  # within one draw of the exact quota, after the one-per-stratum floor
            assert abs(count - n * sizes[key] / 468) < 1 + (count == 1)


def test_stratified_estimate_weights_by_population() -> None:
    one = stratified_proportion([(500, 10, 8)])  # one stratum: its own Wilson interval
    assert (one.value, one.low, one.high) == (0.8, *wilson_interval(8, 10))
    # equal samples from unequal strata: the big stratum dominates the estimate
    mixed = stratified_proportion([(900, 10, 10), (100, 10, 0), (50, 0, 0)])
    assert mixed.value == pytest.approx(0.9) and mixed.judged == 20
    assert mixed.low < 0.9 < mixed.high
    nothing = stratified_proportion([(10, 0, 0)])
    assert (nothing.value, nothing.low, nothing.high, nothing.judged) == (0.0, 0.0, 1.0, 0)
    with pytest.raises(XnerError, match="need successes <= judged <= population"):
        stratified_proportion([(5, 10, 3)])


# --- the services --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def projected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with the n-gram method projected over eflomal links (imperfect, with varied confidences)."""
    from xner.store.db import open_store

    path = tmp_path_factory.mktemp("spot") / "demo.db"
    store = open_store(str(path))
    load_demo(store, ready_to_review=False)
    links = align_corpus(store, DEMO, options={"symmetrization": "intersection"}).run_id
    project_corpus(store, DEMO, method="ngram", alignment_run=links)
    store.dispose()
    return path


@pytest.fixture
def demo(projected: Path, tmp_path: Path):
    import shutil

    from xner.store.db import open_store

    for suffix in ("", "-wal", "-shm"):
        if Path(f"{projected}{suffix}").exists():
            shutil.copy(f"{projected}{suffix}", tmp_path / f"demo.db{suffix}")
    store = open_store(str(tmp_path / "demo.db"))
    yield store
    store.dispose()


def run_spans(store: Store, run_id: int) -> list[tuple[int, int, str, float, bool]]:
    """Every span of the run: (pair, index, label, confidence, right by the gold target entities)."""
    with store.session() as session:
        rows = session.execute(
            select(Projection.pair_id, Projection.spans, SentencePair.tgt_sentence_id)
            .join(SentencePair, SentencePair.id == Projection.pair_id)
            .where(Projection.run_id == run_id)
        ).all()
        gold = entity_spans(session, [row.tgt_sentence_id for row in rows])
    return [
        (
            pair_id,
            index,
            r["label"],
            r["confidence"],
            Span(r["start"], r["end"], r["label"]) in gold.get(tgt, []),
        )
        for pair_id, spans, tgt in rows
        for index, r in enumerate(spans)
    ]


def judge_by_gold(store: Store, check_id: int, limit: int | None = None) -> None:
    truth = {(p, i): right for p, i, _, _, right in run_spans(store, RUN)}
    for item in spotcheck.check_items(store, check_id)[:limit]:
        index = _index(store, item.id)
        spotcheck.judge(store, check_id, item.id, truth[(item.pair_id, index)], "ana")


def _index(store: Store, item_id: int) -> int:
    with store.session() as session:
        return session.get(SpotCheckItem, item_id).span_index


def test_sample_is_stratified_by_label_and_confidence_bucket(demo: Store) -> None:
    spans = run_spans(demo, RUN)
    report = spotcheck.draw_sample(demo, DEMO, None, 40, seed=7, reviewer="lead")

    assert report.run_id == RUN and report.requested == 40
    expected = Counter(stratum_key(label, conf) for *_, label, conf, _ in spans)
    assert report.populations == dict(expected)
    assert sum(report.populations.values()) == len(spans)
    assert report.allocation == allocate(expected, 40)
    assert report.drawn == sum(report.allocation.values()) >= 40
    items = spotcheck.check_items(demo, report.check_id)
    assert len(items) == report.drawn
    assert Counter(item.stratum for item in items) == Counter(report.allocation)
    assert len({(item.pair_id, item.span) for item in items}) == len(items)  # no span drawn twice
    for item in items:
        assert item.stratum == stratum_key(item.span.label, item.confidence)
        assert item.correct is None and item.span.end <= len(item.tgt_tokens)
        assert item.src_span is not None and item.src_span.end <= len(item.src_tokens) and item.links
    # the same seed draws the same spans; another seed others
    again = spotcheck.check_items(demo, spotcheck.draw_sample(demo, DEMO, RUN, 40, seed=7).check_id)
    other = spotcheck.check_items(demo, spotcheck.draw_sample(demo, DEMO, RUN, 40, seed=8).check_id)
    assert [(i.pair_id, i.span) for i in again] == [(i.pair_id, i.span) for i in items]
    assert [(i.pair_id, i.span) for i in other] != [(i.pair_id, i.span) for i in items]


def sample_of(store: Store, check_id: int) -> list[tuple[str, int, Span]]:
    return [(item.stratum, item.pair_id, item.span) for item in spotcheck.check_items(store, check_id)]


def test_shards_scanned_in_a_pool_draw_the_same_sample(demo: Store) -> None:
    whole = spotcheck.draw_sample(demo, DEMO, RUN, 25, seed=3)
    sharded = spotcheck.draw_sample(demo, DEMO, RUN, 25, seed=3, executor=LocalExecutor(2))  # 8 pair-id ranges
    assert (sharded.populations, sharded.allocation) == (whole.populations, whole.allocation)
    assert sample_of(demo, sharded.check_id) == sample_of(demo, whole.check_id)


@pytest.mark.slow
def test_a_dask_cluster_draws_the_same_sample(demo: Store, dask_executor: str) -> None:
    whole = spotcheck.draw_sample(demo, DEMO, RUN, 30, seed=5)
    with closing_executor(executor_for(dask_executor)) as executor:
        on_dask = spotcheck.draw_sample(demo, DEMO, RUN, 30, seed=5, executor=executor)
    assert on_dask.populations == whole.populations
    assert sample_of(demo, on_dask.check_id) == sample_of(demo, whole.check_id)


def test_one_stratum_per_label_or_none(demo: Store) -> None:
    by_label = spotcheck.draw_sample(demo, DEMO, RUN, 20, strata=["label"])
    assert set(by_label.populations) <= {"DATE", "LOC", "ORG", "PER"}
    whole = spotcheck.draw_sample(demo, DEMO, RUN, 20, strata=())
    assert list(whole.populations) == ["all"] and whole.drawn == 20
    buckets = spotcheck.draw_sample(demo, DEMO, RUN, 20, strata=["confidence_bucket"], buckets=[0, 0.9, 1])
    assert set(buckets.populations) <= {"[0, 0.9]", "(0.9, 1]"}


def test_judging_everything_gives_the_true_precision(demo: Store) -> None:
    spans = run_spans(demo, RUN)
    true_precision = sum(right for *_, right in spans) / len(spans)
    assert 0.5 < true_precision < 1.0  # eflomal links: the projection makes some mistakes
    report = spotcheck.draw_sample(demo, DEMO, RUN, 10_000)  # more than the run has: every span
    assert report.drawn == len(spans)
    judge_by_gold(demo, report.check_id)

    result = spotcheck.estimate(demo, report.check_id)
    assert result.overall.precision == pytest.approx(true_precision)
    assert (result.overall.judged, result.overall.population, result.coverage) == (len(spans), len(spans), 1.0)
    assert result.overall.low <= true_precision <= result.overall.high
    for stratum in result.strata:
        rights = [right for _, _, label, conf, right in spans if stratum.stratum == stratum_key(label, conf)]
        assert (stratum.judged, stratum.correct) == (len(rights), sum(rights))
        assert (stratum.low, stratum.high) == wilson_interval(sum(rights), len(rights))


def test_partial_judgments_give_the_stratified_estimate(demo: Store) -> None:
    report = spotcheck.draw_sample(demo, DEMO, RUN, 30, seed=1)
    assert spotcheck.estimate(demo, report.check_id).overall.precision is None
    judge_by_gold(demo, report.check_id, limit=12)
    result = spotcheck.estimate(demo, report.check_id)

    judged = [s for s in result.strata if s.judged]
    assert len(judged) > 0 and result.overall.judged == 12 == sum(s.judged for s in result.strata)
    weight = sum(s.population for s in judged)
    expected = sum(s.population / weight * s.correct / s.judged for s in judged)
    assert result.overall.precision == pytest.approx(expected)
    assert result.coverage == pytest.approx(weight / sum(s.population for s in result.strata))
    assert all(s.precision is None and (s.low, s.high) == (0.0, 1.0) for s in result.strata if not s.judged)
    assert result.more_checks(0.05) > result.more_checks(0.2) >= 0
    assert result.more_checks(0.49) == 0

    # judging again replaces the judgment
    item = spotcheck.check_items(demo, report.check_id, judged=True)[0]
    flipped = spotcheck.judge(demo, report.check_id, item.id, not item.correct, "bob")
    assert (flipped.correct, flipped.judged_by) == (not item.correct, "bob") and flipped.judged_at is not None
    assert spotcheck.estimate(demo, report.check_id).overall.judged == 12
    assert len(spotcheck.check_items(demo, report.check_id, judged=False)) == report.drawn - 12
    following = spotcheck.next_check_item(demo, report.check_id)
    assert following is not None and following.correct is None and following.tgt_tokens


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"strata": ["method"]},
            UnknownNameError,
            "unknown spot-check stratum 'method'; known: confidence_bucket, label",
        ),
        ({"strata": ["label", "label"]}, XnerError, "strata repeat a name"),
        ({"buckets": [0, 0.5]}, XnerError, "buckets must rise strictly from 0 to 1"),
        ({"buckets": [0, 0.8, 0.5, 1]}, XnerError, "buckets must rise strictly"),
        ({"n": 0}, XnerError, "at least 1 span, got n=0"),
        ({"run_id": 9}, XnerError, "has no projection run 9"),
        ({"corpus": "nope"}, UnknownNameError, "unknown corpus 'nope'"),
    ],
)
def test_bad_samples_are_refused(demo: Store, kwargs: dict, error: type, message: str) -> None:
    arguments = {"corpus": DEMO, "run_id": RUN, "n": 10, **kwargs}
    before = snapshot(demo)
    with pytest.raises(error, match=message):
        spotcheck.draw_sample(demo, arguments.pop("corpus"), arguments.pop("run_id"), arguments.pop("n"), **arguments)
    assert snapshot(demo) == before


def test_bad_judgments_are_refused(demo: Store) -> None:
    first = spotcheck.draw_sample(demo, DEMO, RUN, 5).check_id
    second = spotcheck.draw_sample(demo, DEMO, RUN, 5, seed=3).check_id
    item = spotcheck.check_items(demo, second)[0]
    with pytest.raises(XnerError, match=f"spot check {first} has no item {item.id}"):
        spotcheck.judge(demo, first, item.id, True, "ana")
    with pytest.raises(XnerError, match=r"no spot check 99; the spot checks: 1, 2"):
        spotcheck.judge(demo, 99, item.id, True, "ana")
    with pytest.raises(XnerError, match="no spot check 99"):
        spotcheck.estimate(demo, 99)
    with pytest.raises(XnerError, match="is True \\(correct\\) or False \\(wrong\\), got 1"):
        spotcheck.judge(demo, second, item.id, 1, "ana")  # type: ignore[arg-type]
    with pytest.raises(XnerError, match="needs the reviewer's name"):
        spotcheck.judge(demo, second, item.id, True, "")


def test_a_run_without_spans_cannot_be_checked(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path / "src.txt", "the cat sleeps\na dog barks\n")
    tgt = write(tmp_path / "tgt.txt", "le chat dort\nun chien aboie\n")
    options = {"src": SideOptions("en", pretokenized=True), "tgt": SideOptions("fr", pretokenized=True)}
    import_parallel(store, src, tgt, corpus="plain", split="train", **options)
    import_alignments(store, write(tmp_path / "a.txt", "0-0 1-1 2-2\n0-0 1-1 2-2\n"), corpus="plain", aligner="gold")
    run = project_corpus(store, "plain").run_id
    with pytest.raises(XnerError, match=f"projection run {run} of corpus 'plain' has no spans to check"):
        spotcheck.draw_sample(store, "plain", run, 10)


@pytest.mark.postgres
def test_spot_check_on_postgresql(pg_url: str) -> None:
    from xner.store.db import open_store

    store = open_store(pg_url)
    try:
        load_demo(store, ready_to_review=False)
        run = project_corpus(store, DEMO, method="heuristic").run_id  # over the gold links: all right
        report = spotcheck.draw_sample(store, DEMO, run, 20, seed=4)
        for item in spotcheck.check_items(store, report.check_id):
            spotcheck.judge(store, report.check_id, item.id, True, "ana")
        result = spotcheck.estimate(store, report.check_id)
        assert (result.overall.precision, result.overall.judged) == (1.0, report.drawn)
        assert result.overall.high == 1.0 and result.overall.low == pytest.approx(
            wilson_interval(report.drawn, report.drawn)[0]
        )
    finally:
        store.dispose()
