"""Imports never block reviewing, and nothing of an unfinished import can be read.

An import writes committed batches under a hidden corpus and publishes it in one short transaction
(xner.services.importing, xner.store.staging). These tests run real imports (the demo corpus of data/demo repeated
into tens of thousands of pairs, and the real MasakhaNER / Europarl files when ../shared/data has them) while
reviewers decide, in a child process (``python -m xner import ...``) or in this one, on SQLite and on PostgreSQL,
and check what every reader sees during and after: nothing of the import until it is complete, then all of it;
a failed import leaves nothing, a killed one is invisible and removed by the next import.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import REPO, shared, snapshot, write
from xner.errors import CorpusImportingError, InputError, XnerError
from xner.formats.parallel import SideOptions, iter_parallel, plain_pair
from xner.services import projecting
from xner.services.corpora import corpus_stats, get_corpus, list_corpora, list_corpus_info
from xner.services.demo import DEMO_CORPUS, DEMO_DIR, load_demo
from xner.services.exporting import export_corpus
from xner.services.importing import BATCH, import_alignments, import_corpus, import_parallel, insert_pairs
from xner.services.projecting import project_corpus
from xner.services.review import get_item, next_item, record_decision
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.store.db import Store, open_store
from xner.store.models import Alignment, AlignmentRun, Corpus, Projection, ProjectionRun, Sentence, SentencePair
from xner.store.staging import STAGING_PREFIX, begin_stage, is_abandoned, process_owner, sweep_abandoned

pytest_plugins = ["tests.pg"]

DEMO_PAIRS, DEMO_ENTITIES = 100, 217  # per copy of the demo: pairs, entities per side
SLOW_DECISION_S = 1.5  # no decision may take this long while an import runs
REVIEWER_PAUSE_S = 0.02  # between two decisions of the test's reviewer (a person takes seconds)


# --- data and helpers ----------------------------------------------------------------------------------------------


def repeated_demo(folder: Path, copies: int, *, bad_last_line: bool = False) -> tuple[Path, Path]:
    """The demo's English and Spanish CoNLL sides, ``copies`` times over (``copies`` × 100 pairs, 217 entities a
    side per copy); with ``bad_last_line``, the Spanish side ends with a line that has no tag."""
    en = (DEMO_DIR / "en.conll").read_text(encoding="utf-8")
    es = (DEMO_DIR / "es.conll").read_text(encoding="utf-8")
    src, tgt = folder / "big.en.conll", folder / "big.es.conll"
    src.write_text(en * copies, encoding="utf-8")
    tgt.write_text(es * copies + ("Madrid\n" if bad_last_line else ""), encoding="utf-8")
    return src, tgt


def demo_conll(folder: Path, copies: int, name: str = "train.conll", *, bad_line: str | None = None) -> Path:
    """The demo's Spanish side as a monolingual CoNLL file, ``copies`` times over; ``bad_line`` appended last."""
    text = (DEMO_DIR / "es.conll").read_text(encoding="utf-8") * copies
    return write(folder / name, text + (f"{bad_line}\n" if bad_line else ""))


def file_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def start_import(url: str, *args: str) -> subprocess.Popen[str]:
    """``python -m xner import ARGS --db URL --json`` in a child process running this checkout."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("XNER_DB", None)
    command = [sys.executable, "-m", "xner", "import", *args, "--db", url, "--json"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def finish(child: subprocess.Popen[str], timeout: float = 300) -> dict:
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, err[-2000:]
    return json.loads(out)


def hidden(store: Store) -> list[tuple[str, str, int]]:
    """``(name, import_state, sentences)`` of every hidden corpus (read past the visibility rule, on purpose)."""
    with store.session() as session:
        rows = session.execute(
            select(Corpus.name, Corpus.import_state, func.count(Sentence.id))
            .outerjoin(Sentence, Sentence.corpus_id == Corpus.id)
            .where(Corpus.import_state.is_not(None))
            .group_by(Corpus.id)
        ).all()
    return [tuple(row) for row in rows]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assert_invisible(store: Store, name: str, tmp_path: Path) -> None:
    """No reader sees corpus ``name`` (being imported): lists skip it, look-ups, stats and exports refuse it."""
    assert name not in [info.name for info in list_corpus_info(store)]
    assert name not in [stats.name for stats in list_corpora(store)]
    with store.session() as session, pytest.raises(CorpusImportingError, match=f"corpus '{name}' is being imported"):
        get_corpus(session, name)
    with pytest.raises(CorpusImportingError):
        corpus_stats(store, name)
    with pytest.raises(CorpusImportingError):
        export_corpus(store, name, tmp_path / "never.conll")
    with pytest.raises(CorpusImportingError):
        next_item(store, name)
    assert not (tmp_path / "never.conll").exists()


class Reviewer:
    """Accepts the demo's target sentences one after another (round robin), timing every decision."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.session() as session:
            demo = get_corpus(session, DEMO_CORPUS)
            self.ids = list(
                session.scalars(
                    select(Sentence.id)
                    .where(Sentence.corpus_id == demo.id, Sentence.side == "tgt")
                    .order_by(Sentence.id)
                )
            )
        self.versions = {sid: get_item(store, sid).state.version for sid in self.ids}
        self.turn = 0
        self.seconds: list[float] = []

    def decide(self) -> float:
        sentence_id = self.ids[self.turn % len(self.ids)]
        self.turn += 1
        started = time.perf_counter()
        state = record_decision(
            self.store, sentence_id, reviewer="ana", action="accept", expected_version=self.versions[sentence_id]
        )
        took = time.perf_counter() - started
        self.versions[sentence_id] = state.version
        self.seconds.append(took)
        return took


def review_during(child: subprocess.Popen[str], store: Store, name: str, tmp_path: Path) -> list[float]:
    """Decide again and again while ``child`` imports corpus ``name`` (checking meanwhile that no reader sees it and
    that the sweep leaves a live import alone); returns the seconds of the decisions made while it ran."""
    reviewer = Reviewer(store)
    wait_for(lambda: any(row[0] == name and row[2] > 0 for row in hidden(store)), "the first committed batch")
    during: list[float] = []
    checking = True
    while child.poll() is None:
        time.sleep(REVIEWER_PAUSE_S)
        took = reviewer.decide()
        if child.poll() is None:
            during.append(took)
        if checking and len(during) % 10 == 1:
            try:
                assert_invisible(store, name, tmp_path)
                assert sweep_abandoned(store) == []  # a live import is never taken for abandoned
            except (AssertionError, pytest.fail.Exception):
                if not is_published(store, name):  # visible before its final transaction: a leak
                    raise
                checking = False  # published (complete) while the child was still exiting
    return during


def is_published(store: Store, name: str) -> bool:
    with store.session() as session:
        return session.scalar(select(func.count()).where(Corpus.name == name, Corpus.import_state.is_(None))) == 1


# --- reviewing during an import ------------------------------------------------------------------------------------


def check_review_during_import(url: str, tmp_path: Path, copies: int) -> None:
    store = open_store(url)
    try:
        load_demo(store)
        src, tgt = repeated_demo(tmp_path, copies)
        started = time.monotonic()
        child = start_import(
            url, "parallel", str(src), str(tgt), "--corpus", "big", "--tgt-lang", "es", "--split", "train"
        )
        during = review_during(child, store, "big", tmp_path)
        report = finish(child)
        lasted = time.monotonic() - started
        assert report["pairs"] == copies * DEMO_PAIRS
        assert len(during) >= 10, f"only {len(during)} decisions in {lasted:.1f} s of import"
        assert max(during) < SLOW_DECISION_S, sorted(during)[-5:]
        assert sorted(during)[len(during) // 2] < 0.5
        stats = corpus_stats(store, "big")
        assert stats.pairs == copies * DEMO_PAIRS
        assert sum(stats.entities.values()) == 2 * copies * DEMO_ENTITIES
        assert "big" in [info.name for info in list_corpus_info(store)]
        assert hidden(store) == []
    finally:
        store.dispose()


@pytest.mark.slow
def test_review_decisions_stay_fast_while_a_long_import_runs_sqlite(tmp_path: Path) -> None:
    check_review_during_import(f"sqlite:///{tmp_path / 'review.db'}", tmp_path, copies=250)


@pytest.mark.slow
@pytest.mark.postgres
def test_review_decisions_stay_fast_while_a_long_import_runs_postgres(pg_url: str, tmp_path: Path) -> None:
    check_review_during_import(pg_url, tmp_path, copies=150)


@pytest.mark.slow
def test_two_imports_and_a_reviewer_at_once_on_the_real_files(tmp_path: Path) -> None:
    """A real bitext (Europarl en-de, 27,580 pairs) imports in a child while this process adds MasakhaNER Yorùbá's
    dev and test splits to the corpus that holds its train split, and a reviewer decides on the demo meanwhile."""
    europarl_en = shared("parallel_europarl", "en-de", "train.en")
    europarl_de = shared("parallel_europarl", "en-de", "train.de")
    yor = shared("masakhaner2", "yor")
    url = f"sqlite:///{tmp_path / 'real.db'}"
    store = open_store(url)
    try:
        load_demo(store)
        import_corpus(store, yor / "train.txt", corpus="yor", lang="yor")
        child = start_import(
            url, "parallel", str(europarl_en), str(europarl_de), "--corpus", "ep-de", "--tgt-lang", "de",
            "--pretokenized",
        )  # fmt: skip
        reviewer = Reviewer(store)
        wait_for(lambda: any(row[0] == "ep-de" and row[2] > 0 for row in hidden(store)), "the first batch")

        def decide_and_check(_done: int, _total: int) -> None:
            reviewer.decide()
            if "ep-de" in [info.name for info in list_corpus_info(store)]:  # published, the child maybe still exiting
                assert corpus_stats(store, "ep-de").pairs == 27_580  # never visible half-imported

        for split in ("dev", "test"):
            import_corpus(store, yor / f"{split}.txt", corpus="yor", lang="yor", on_progress=decide_and_check)
        while child.poll() is None:
            time.sleep(REVIEWER_PAUSE_S)
            reviewer.decide()
        report = finish(child)
        assert report["pairs"] == file_lines(europarl_en) == 27_580
        assert corpus_stats(store, "ep-de").pairs == 27_580
        yor_stats = corpus_stats(store, "yor")
        assert yor_stats.sentences == {"dev/mono": 983, "test/mono": 1964, "train/mono": 6876}
        assert max(reviewer.seconds) < SLOW_DECISION_S, sorted(reviewer.seconds)[-5:]
        assert hidden(store) == []
    finally:
        store.dispose()


# --- what readers see while an import runs (deterministic: checked from the importer's progress callback) ---------


class CheckMidway:
    """An ``on_progress`` callback that, once some batches of the import are committed (hidden), runs ``check``
    once; the callback runs between batches, outside any transaction of the import."""

    def __init__(self, store: Store, check: Callable[[], None], *, rows: int = 2 * BATCH) -> None:
        self.store, self.check, self.rows, self.done = store, check, rows, False

    def __call__(self, *_progress: int) -> None:
        if not self.done and any(row[2] >= self.rows for row in hidden(self.store)):
            self.done = True
            self.check()


def test_a_new_corpus_is_invisible_until_its_import_is_complete(store: Store, tmp_path: Path) -> None:
    path = demo_conll(tmp_path, 60)  # 6,000 sentences: three batches

    def midway() -> None:
        assert_invisible(store, "es-news", tmp_path)
        assert [(name, state) for name, state, _ in hidden(store)] == [("es-news", "importing")]
        with pytest.raises(CorpusImportingError, match=r"being imported \(started .* UTC\); wait for it"):
            import_corpus(store, path, corpus="es-news", lang="es")  # the name is taken meanwhile

    midway_check = CheckMidway(store, midway)
    report = import_corpus(store, path, corpus="es-news", lang="es", on_progress=midway_check)
    assert midway_check.done
    assert report.sentences == 6000
    stats = corpus_stats(store, "es-news")
    assert stats.sentences == {"train/mono": 6000}
    assert sum(stats.entities.values()) == 60 * DEMO_ENTITIES
    assert stats.labels == ["DATE", "LOC", "ORG", "PER"]
    assert hidden(store) == []


@pytest.mark.parametrize(("split", "append"), [("dev", False), ("train", True)])
def test_an_import_into_an_existing_corpus_is_invisible_until_complete(
    store: Store, tmp_path: Path, split: str, append: bool
) -> None:
    load_demo(store)
    before = corpus_stats(store, DEMO_CORPUS)
    exported = export_corpus(store, DEMO_CORPUS, tmp_path / "before.conll")
    first = next_item(store, DEMO_CORPUS)
    src, tgt = repeated_demo(tmp_path, 30)  # 3,000 pairs: two batches

    def midway() -> None:
        assert corpus_stats(store, DEMO_CORPUS) == before
        assert export_corpus(store, DEMO_CORPUS, tmp_path / "during.conll").sentences == exported.sentences
        assert (tmp_path / "during.conll").read_bytes() == (tmp_path / "before.conll").read_bytes()
        assert next_item(store, DEMO_CORPUS) == first
        assert [info.name for info in list_corpus_info(store)] == [DEMO_CORPUS]
        assert [name.startswith(STAGING_PREFIX) for name, _, _ in hidden(store)] == [True]

    midway_check = CheckMidway(store, midway)
    import_parallel(
        store,
        src,
        tgt,
        corpus=DEMO_CORPUS,
        src=SideOptions("en"),
        tgt=SideOptions("es"),
        split=split,
        append=append,
        on_progress=midway_check,
    )
    assert midway_check.done
    after = corpus_stats(store, DEMO_CORPUS)
    assert after.pairs == before.pairs + 3000
    assert sum(after.entities.values()) == sum(before.entities.values()) + 2 * 30 * DEMO_ENTITIES
    with store.session() as session:
        demo = get_corpus(session, DEMO_CORPUS)
        positions = session.scalars(
            select(SentencePair.position)
            .where(SentencePair.corpus_id == demo.id, SentencePair.split == split)
            .order_by(SentencePair.position)
        ).all()
    assert positions == list(range(len(positions)))  # appended after the split's last position, no gap
    assert len(positions) == 3000 + (DEMO_PAIRS if append else 0)
    assert hidden(store) == []


def staged_rows(store: Store, model: type) -> int:
    """Rows of ``model`` (alignments, projections) whose run hangs under a hidden staging corpus."""
    run = AlignmentRun if model is Alignment else ProjectionRun
    with store.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(model)
            .join(run, run.id == model.run_id)
            .join(Corpus, Corpus.id == run.corpus_id)
            .where(Corpus.import_state.is_not(None))
        )


def test_alignment_and_projection_runs_are_invisible_until_complete(store: Store, tmp_path: Path) -> None:
    src, tgt = repeated_demo(tmp_path, 30)  # 3,000 pairs: two batches
    import_parallel(store, src, tgt, corpus="big", src=SideOptions("en"), tgt=SideOptions("es"))
    path = write(tmp_path / "big.align", (DEMO_DIR / "en-es.align").read_text(encoding="utf-8") * 30)
    staged_alignments = []

    def alignments_read(_done: int, _total: int) -> None:
        assert list_alignment_runs(store, "big") == []
        with pytest.raises(XnerError, match="has no alignments yet"):
            project_corpus(store, "big")
        staged_alignments.append(staged_rows(store, Alignment))

    report = import_alignments(store, path, corpus="big", aligner="gold", on_progress=alignments_read)
    assert max(staged_alignments) >= BATCH  # a batch was committed, hidden, while the file was still being read
    assert [(run.id, run.pairs) for run in list_alignment_runs(store, "big")] == [(report.run_id, 3000)]

    project_corpus(store, "big", method="heuristic")
    staged_projections = []

    def projected(done: int, total: int) -> None:
        assert [run.method for run in list_projection_runs(store, "big")] == ["heuristic"]
        staged_projections.append((done, staged_rows(store, Projection)))

    project_corpus(store, "big", method="ngram", on_progress=projected)
    assert staged_projections == [(2000, 2000), (3000, 3000)]
    runs = [(run.method, run.pairs) for run in list_projection_runs(store, "big")]
    assert runs == [("heuristic", 3000), ("ngram", 3000)]
    assert hidden(store) == []


def test_a_failed_projection_leaves_no_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo(store, ready_to_review=False)
    before = snapshot(store)
    monkeypatch.setattr(projecting, "BATCH", 30)
    real = projecting.project_shard
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise XnerError("the projector broke")
        return real(*args, **kwargs)

    monkeypatch.setattr(projecting, "project_shard", failing)
    with pytest.raises(XnerError, match="the projector broke"):
        project_corpus(store, DEMO_CORPUS, method="heuristic")
    assert snapshot(store) == before


# --- failed and killed imports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new-corpus", "existing-corpus"])
def test_a_failed_import_near_the_end_leaves_nothing(store: Store, tmp_path: Path, existing: bool) -> None:
    if existing:
        import_corpus(store, demo_conll(tmp_path, 1, "dev.conll"), corpus="es-news", lang="es")
    path = demo_conll(tmp_path, 50, bad_line="Madrid")  # 5,000 good sentences, then a line without a tag
    before = snapshot(store)
    midway_check = CheckMidway(store, lambda: None)
    with pytest.raises(InputError) as info:
        import_corpus(store, path, corpus="es-news", lang="es", split="train", on_progress=midway_check)
    assert midway_check.done  # batches had been committed: the import removed them itself
    assert str(info.value).startswith(f"{path}:{file_lines(path)}: ")
    assert snapshot(store) == before
    report = import_corpus(store, demo_conll(tmp_path, 2), corpus="es-news", lang="es", split="train")
    assert report.sentences == 200 and corpus_stats(store, "es-news").sentences["train/mono"] == 200


@pytest.mark.slow
def test_a_killed_import_is_invisible_and_removed_by_the_next_import(store: Store, tmp_path: Path) -> None:
    url = store.url
    load_demo(store)
    src, tgt = repeated_demo(tmp_path, 400)
    child = start_import(url, "parallel", str(src), str(tgt), "--corpus", "big", "--tgt-lang", "es")
    wait_for(lambda: any(row[0] == "big" and row[2] >= 4 * BATCH for row in hidden(store)), "some committed batches")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    (left,) = hidden(store)
    assert left[:2] == ("big", "importing") and left[2] >= 4 * BATCH
    assert_invisible(store, "big", tmp_path)
    assert [info.name for info in list_corpus_info(store)] == [DEMO_CORPUS]

    report = import_parallel(
        store, *repeated_demo(tmp_path, 2), corpus="big", src=SideOptions("en"), tgt=SideOptions("es")
    )
    assert report.pairs == 200
    assert report.warnings == ["removed the unfinished rows of an interrupted earlier write (corpus 'big')"]
    assert hidden(store) == []
    assert corpus_stats(store, "big").pairs == 200
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Sentence)) == 2 * (DEMO_PAIRS + 200)


def test_a_killed_append_is_removed_by_the_next_import(store: Store, tmp_path: Path) -> None:
    """An append whose process died (a stage whose owner is a process that has exited, with a committed batch)
    stays hidden, the corpus it was appending to unchanged, until the next import removes it."""
    load_demo(store)
    before = corpus_stats(store, DEMO_CORPUS)
    stage = begin_stage(
        store, what=f"import of dev.conll into {DEMO_CORPUS!r}", kind="parallel", src_lang="en", tgt_lang="es"
    )
    pairs = iter_parallel(*repeated_demo(tmp_path, 3), SideOptions("en"), SideOptions("es"))
    items = [plain_pair(item) for item in pairs]
    stage.write(partial(insert_pairs, corpus=stage.corpus, split="dev", start=0, batch=items))
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with store.transaction() as session:  # as if that process had written it and been killed
        session.execute(
            update(Corpus).where(Corpus.id == stage.id).values(import_owner=process_owner(int(exited.stdout)))
        )
    assert [row[1:] for row in hidden(store)] == [("importing", 600)]
    assert corpus_stats(store, DEMO_CORPUS) == before

    report = import_corpus(store, demo_conll(tmp_path, 1), corpus="es-mono", lang="es")
    assert report.warnings == [
        f"removed the unfinished rows of an interrupted earlier write (import of dev.conll into {DEMO_CORPUS!r})"
    ]
    assert hidden(store) == []
    assert corpus_stats(store, DEMO_CORPUS) == before
    with pytest.raises(XnerError, match="was stopped: another process took it for abandoned"):
        stage.write(lambda session: None)  # the "dead" writer, were it alive after all, could not go on


@pytest.fixture
def two_stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_store(url), open_store(url)
    yield first, second
    first.dispose()
    second.dispose()


def test_the_sweep_leaves_live_imports_alone(two_stores: tuple[Store, Store], tmp_path: Path) -> None:
    store, other = two_stores
    path = demo_conll(tmp_path, 50)

    def midway() -> None:
        assert sweep_abandoned(other) == []  # this process is alive: its import is not abandoned
        assert [row[1] for row in hidden(other)] == ["importing"]

    midway_check = CheckMidway(store, midway)
    assert import_corpus(store, path, corpus="es-news", lang="es", on_progress=midway_check).sentences == 5000
    assert midway_check.done and hidden(store) == []


def test_is_abandoned_by_pid_start_time_and_heartbeat() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    me = process_owner()
    host, pid, start = me.split(":")
    assert not is_abandoned(me, None)
    if start:
        assert is_abandoned(f"{host}:{pid}:{int(start) + 1}", now)  # the pid now belongs to a later process
    assert not is_abandoned("another-host:1:5", now - timedelta(minutes=5))
    assert is_abandoned("another-host:1:5", now - timedelta(hours=1))
    assert is_abandoned(None, None)


def test_a_review_item_shows_no_suggestion_of_an_unfinished_projection_run(store: Store) -> None:
    load_demo(store)
    item = next_item(store, DEMO_CORPUS)
    assert item is not None
    shown = []

    def progress(_done: int, _total: int) -> None:  # the new run's rows are committed, hidden, not yet published
        shown.append(len(get_item(store, item.sentence_id).suggestions))

    project_corpus(store, DEMO_CORPUS, method="heuristic", on_progress=progress)
    assert shown == [len(item.suggestions)]
    assert len(get_item(store, item.sentence_id).suggestions) == len(item.suggestions) + 1
