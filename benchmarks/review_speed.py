"""Review speed on SQLite with 100k pairs, xner against Label Studio in the same run: the review services, the whole
review page, importing the pairs, and a key press to the next item in a browser, for both apps.

A synthetic parallel corpus (default 100,000 pairs, 8-30 tokens a side, 0-4 entities) is written straight into a
fresh SQLite file with one alignment run and two projection runs of different methods (the second one differs on
about a fifth of the pairs, so the disagreement order has something to sort). The newest run is queued with
``queue_projection`` (timed), then:

1. **Services**, each call timed ``--samples`` times: ``next_item`` by confidence, by disagreement, with a label
   filter, with a confidence range, with 50 skipped items, and the second-review queue (reviewed by somebody else,
   not by me) once some items are reviewed; ``get_item`` of random sentences; ``find_sentence`` and
   ``search_tokens`` (a frequent word, and words found nowhere: the whole corpus read); ``record_decision``
   (accept / correct / reject, each on a fresh item) and ``undo``.
2. **Page**: the review page (pages/1_Review.py) on the same database, driven by Streamlit's ``AppTest`` (the
   script run and its element tree, in this process: no browser, no websocket), ``--page-samples`` times each:
   a rerun that keeps the shown item (what every widget change costs), accept + load the next item, skip + next,
   and accept + next in disagreement order and with a label filter.
3. **Import**: the same number of pre-annotated pairs (CoNLL source and target, entities on both sides, plus a
   Pharaoh alignment file; :func:`synthetic_pairs`) written to files and imported by the real CLI, each command a
   child process on a new SQLite file: ``xner import parallel`` then ``xner import alignments``; pairs/s from the
   command's own report and from its wall time (interpreter start-up included).
4. **Browser**: ``streamlit run app.py`` on the database of 1-2, the review page in headless chromium (Playwright,
   Debian's chromium; review_load.py's server and page helpers), ``a`` (accept) pressed ``--browser-presses``
   times: the time from the keydown to the next item rendered (another "Sentence N" header and the token editor
   drawing other tokens), in the browser's own clock.
5. **Label Studio** (benchmarks/labelstudio.py): Label Studio 1.23.2 in its own virtualenv (made on first use
   under benchmarks/.cache; never a dependency of xner) on a fresh SQLite folder, an NER project, the SAME
   pre-annotated pairs as tasks with the target entities as predictions: its bulk import (tasks/s, wall), the
   labelling page's next-task call then submitting an annotation (``--samples`` rounds), and Ctrl+Enter -> next
   task shown in its labelling page (``--browser-presses``).

The parts run one after the other (never two servers at once). Then the ratios (xner rate / Label Studio's for
import, Label Studio's time / xner's for next item, save, accept + next and the browser) and the targets: next item
and save p95 <= 30 ms, a full page rerun p95 <= 300 ms, import >= 10x Label Studio, accept + next on the page
(AppTest) >= 5x Label Studio's next task + submit at p50 and p95. The 1-minute load average is recorded before and
after each part: figures taken while other work uses the cores are noisy.

Usage::

    .venv/bin/python benchmarks/review_speed.py           # 100k pairs, 200 samples per call, 30 per page action
    .venv/bin/python benchmarks/review_speed.py --quick   # 10k pairs, 50 samples, 10 per page action and browser
    .venv/bin/python benchmarks/review_speed.py --pairs 20k --samples 50 --no-page --no-import --no-label-studio

Writes benchmarks/results/review_speed.json (``--quick``: benchmarks/.cache/review_speed_quick.json, so a quick
check never replaces the full figures) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import REPO, RESULTS, command_line, load, machine, percentiles, run_child, write_results, xner_command

from xner.services import review
from xner.store.db import Store, open_store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    Entity,
    Projection,
    ProjectionRun,
    ReviewEvent,
    Sentence,
    SentencePair,
)
from xner.types import REVIEWED_STATUSES

LABELS = ("PER", "ORG", "LOC", "DATE")
Span3 = tuple[int, int, str]  # a half-open token span and its label
WORDS = "the of and to in a is that for it as was with be by on not this are or from at ya da na ta ce ba su".split()
BATCH = 5000
CORPUS = "synthetic"
# Label Studio imports 100k tasks faster in requests of 10k (634 tasks/s) than in one (391-445/s, 2026-12-07): the
# benchmark gives it the faster way
LS_IMPORT_BATCH = 10_000
PAGE = REPO / "pages" / "1_Review.py"
QUICK_OUT = REPO / "benchmarks" / ".cache" / "review_speed_quick.json"

# Targets: absolute ones, and ratios to Label Studio measured in the same run (issue 19: import >= 10x, accept + next
# on the page >= 5x).
TARGETS = {
    "next_item_p95_ms": 30,
    "save_p95_ms": 30,
    "page_rerun_p95_ms": 300,
    "import_vs_label_studio": 10.0,
    "accept_next_vs_label_studio": 5.0,
}


def size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def random_spans(rng: random.Random, n_tokens: int) -> list[Span3]:
    spans, position = [], 0
    for _ in range(rng.randint(0, 4)):
        start = position + rng.randint(0, 4)
        end = start + rng.randint(1, 3)
        if end > n_tokens:
            break
        spans.append((start, end, rng.choice(LABELS)))
        position = end + 1
    return spans


def build(store: Store, pairs: int, seed: int) -> None:
    """The synthetic corpus, its alignment run and two projection runs, written in batches with Core inserts."""
    rng = random.Random(seed)
    with store.transaction() as session:
        corpus = Corpus(name=CORPUS, kind="parallel", src_lang="en", tgt_lang="ha", labels=list(LABELS))
        session.add(corpus)
        session.flush()
        aligned = AlignmentRun(corpus_id=corpus.id, aligner="synthetic")
        first = ProjectionRun(corpus_id=corpus.id, method="heuristic")
        session.add_all([aligned, first])
        session.flush()
        second = ProjectionRun(corpus_id=corpus.id, method="ngram")
        session.add(second)
        session.flush()
        corpus_id, align_id, run_ids = corpus.id, aligned.id, (first.id, second.id)
        # explicit ids (the rows refer to each other), after any already in the store
        next_id = (session.scalar(select(func.max(Sentence.id))) or 0) + 1
        first_pair = (session.scalar(select(func.max(SentencePair.id))) or 0) + 1
    for offset in range(0, pairs, BATCH):
        count = min(BATCH, pairs - offset)
        sentences, entities, pair_rows, links, projections = [], [], [], [], []
        for position in range(offset, offset + count):
            src_id, tgt_id, pair_id = next_id, next_id + 1, first_pair + position
            next_id += 2
            n_src, n_tgt = rng.randint(8, 30), rng.randint(8, 30)
            for sid, side, n in ((src_id, "src", n_src), (tgt_id, "tgt", n_tgt)):
                tokens = [rng.choice(WORDS) for _ in range(n)]
                sentences.append(
                    {
                        "id": sid,
                        "corpus_id": corpus_id,
                        "split": "train",
                        "side": side,
                        "position": position,
                        "lang": "en" if side == "src" else "ha",
                        "tokens": tokens,
                        "text": None,
                        "n_tokens": n,
                        "source_line": None,
                    }
                )
            src_spans = random_spans(rng, min(n_src, n_tgt))
            entities += [
                {"sentence_id": src_id, "corpus_id": corpus_id, "start": s, "end": e, "label": label}
                for s, e, label in src_spans
            ]
            pair_rows.append(
                {
                    "id": pair_id,
                    "corpus_id": corpus_id,
                    "split": "train",
                    "position": position,
                    "src_sentence_id": src_id,
                    "tgt_sentence_id": tgt_id,
                }
            )
            links.append(
                {
                    "run_id": align_id,
                    "pair_id": pair_id,
                    "links": " ".join(f"{i}-{i}" for i in range(min(n_src, n_tgt))),
                }
            )
            for index, run_id in enumerate(run_ids):
                spans = src_spans if index == 0 or rng.random() > 0.2 else random_spans(rng, min(n_src, n_tgt))
                records = [
                    {
                        "start": s,
                        "end": e,
                        "label": label,
                        "confidence": round(rng.choice((1.0, 1.0, 0.8, 0.6667, 0.5)), 4),
                        "links": [[i, i] for i in range(s, e)],
                        "src_start": s,
                        "src_end": e,
                    }
                    for s, e, label in spans
                ]
                confidence = min((r["confidence"] for r in records), default=1.0)
                projections.append({"run_id": run_id, "pair_id": pair_id, "spans": records, "confidence": confidence})
        with store.transaction() as session:
            session.execute(insert(Sentence), sentences)
            session.execute(insert(SentencePair), pair_rows)
            if entities:
                session.execute(insert(Entity), entities)
            session.execute(insert(Alignment), links)
            session.execute(insert(Projection), projections)
    advance_id_sequences(store, (Sentence, SentencePair))


def advance_id_sequences(store: Store, models: tuple[type, ...]) -> None:
    """After inserts with explicit ids, move PostgreSQL's id sequences past them, so that later inserts (an import,
    the review history) get new ids; SQLite takes the next id from the table itself and needs nothing."""
    if store.engine.dialect.name != "postgresql":
        return
    with store.transaction() as session:
        for model in models:
            table = model.__tablename__
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )


def timed(call: Callable[[], object], samples: int) -> dict[str, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def measure(store: Store, samples: int, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed + 1)
    with store.session() as session:
        targets = list(session.scalars(select(Sentence.id).where(Sentence.side == "tgt")))
    skipped = rng.sample(targets, 50)
    results = {
        "next_item confidence": timed(lambda: review.next_item(store, CORPUS), samples),
        "next_item disagreement": timed(lambda: review.next_item(store, CORPUS, order="disagreement"), samples),
        "next_item label DATE": timed(lambda: review.next_item(store, CORPUS, labels=["DATE"]), samples),
        "next_item confidence 0.6-0.9": timed(
            lambda: review.next_item(store, CORPUS, min_confidence=0.6, max_confidence=0.9), samples
        ),
        "next_item skip 50": timed(lambda: review.next_item(store, CORPUS, skip=skipped), samples),
        "get_item": timed(lambda: review.get_item(store, rng.choice(targets)), samples),
        # going to an item out of queue order (issue 17): a reference, and token searches, bounded and unbounded
        "find_sentence split + position": timed(
            lambda: review.find_sentence(store, CORPUS, f"train {rng.randrange(len(targets))}"), samples
        ),
        "search_tokens frequent ('THA')": timed(lambda: review.search_tokens(store, CORPUS, "THA"), min(samples, 50)),
        "search_tokens no hit, reads every pair ('zzqx')": timed(
            lambda: review.search_tokens(store, CORPUS, "zzqx"), min(samples, 10)
        ),
        "search_tokens no hit, non-ASCII ('ƙƙ')": timed(
            lambda: review.search_tokens(store, CORPUS, "ƙƙ"), min(samples, 10)
        ),
    }

    decided, writes = [], []
    for _ in range(samples):  # the reviewer's loop: next item, then a decision on it (only the write is timed)
        item = review.next_item(store, CORPUS)
        assert item is not None
        action = rng.choice(("accept", "correct", "reject"))
        spans = list(item.state.spans[:-1]) if action == "correct" else None
        started = time.perf_counter()
        review.record_decision(
            store, item.sentence_id, reviewer="ana", action=action, spans=spans, expected_version=item.state.version
        )
        writes.append((time.perf_counter() - started) * 1000)
        decided.append((item.sentence_id, item.state.version + 1))
    results["record_decision"] = percentiles(writes)
    results["next_item second review (reviewed, not by bob)"] = timed(
        lambda: review.next_item(store, CORPUS, statuses=REVIEWED_STATUSES, not_decided_by="bob"), samples
    )
    undos = []
    for sentence_id, version in decided:
        started = time.perf_counter()
        review.undo(store, sentence_id, reviewer="ana", expected_version=version)
        undos.append((time.perf_counter() - started) * 1000)
    results["undo"] = percentiles(undos)
    return results


# --- the review page ---------------------------------------------------------------------------------------------


def measure_page(url: str, samples: int) -> dict[str, dict[str, float]]:
    """Rerun times of the review page on the store at ``url``, driven by AppTest (see the module docstring)."""
    os.environ["XNER_DB"] = url  # the page opens $XNER_DB through xner.ui.support.get_store
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    # The server compiles a page once and keeps its bytecode (ScriptCache); AppTest makes a new cache per run (in
    # its page manager and, since Streamlit 1.67, in its script runner), so every run would compile the page again
    # (~20-90 ms here). One shared cache in both places measures what the server does.
    shared_cache = ScriptCache()
    app_test.ScriptCache = lambda: shared_cache  # type: ignore[attr-defined]
    local_script_runner.ScriptCache = lambda: shared_cache  # type: ignore[attr-defined]

    # "missing ScriptRunContext" once, when the page's cached store is first opened outside a script run: harmless
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    page = AppTest.from_file(str(PAGE), default_timeout=120).run()  # the first run imports and opens: not timed
    page.text_input(key="xner_reviewer").input("bench").run()

    def timed_page(action: Callable[[], object]) -> dict[str, float]:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            action()
            times.append((time.perf_counter() - started) * 1000)
            if page.exception:
                raise RuntimeError(f"the review page failed: {page.exception}")
        return percentiles(times)

    def click(key: str) -> Callable[[], object]:
        return lambda: page.button(key=key).click().run()

    results = {
        "rerun, item kept": timed_page(page.run),
        "accept + load next item": timed_page(click("review_accept")),
        "skip + load next item": timed_page(click("review_skip")),
    }
    page.radio(key="review_order").set_value("most disagreement first").run()
    results["accept + next, disagreement order"] = timed_page(click("review_accept"))
    page.multiselect(key="review_labels").set_value(["DATE"]).run()
    results["accept + next, label DATE"] = timed_page(click("review_accept"))
    return results


# --- import ------------------------------------------------------------------------------------------------------


def conll_lines(tokens: list[str], spans: list[tuple[int, int, str]]) -> str:
    tags = ["O"] * len(tokens)
    for start, end, label in spans:
        tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
    return "".join(f"{token} {tag}\n" for token, tag in zip(tokens, tags, strict=True)) + "\n"


def synthetic_pairs(pairs: int, seed: int) -> Iterator[tuple[list[str], list[str], list[Span3], list[Span3]]]:
    """The pre-annotated pairs both apps import: (source tokens, target tokens, source spans, target spans), the
    target's entities the source's on four pairs in five."""
    rng = random.Random(seed + 2)
    for _ in range(pairs):
        n_src, n_tgt = rng.randint(8, 30), rng.randint(8, 30)
        src_tokens = [rng.choice(WORDS) for _ in range(n_src)]
        tgt_tokens = [rng.choice(WORDS) for _ in range(n_tgt)]
        spans = random_spans(rng, min(n_src, n_tgt))
        yield src_tokens, tgt_tokens, spans, spans if rng.random() > 0.2 else random_spans(rng, n_tgt)


def write_import_files(folder: Path, pairs: int, seed: int) -> tuple[Path, Path, Path]:
    """Pre-annotated pairs as files: source and target CoNLL (entities on both sides) and their Pharaoh links."""
    paths = folder / "train.en.conll", folder / "train.ha.conll", folder / "train.align"
    with (
        paths[0].open("w", encoding="utf-8") as src,
        paths[1].open("w", encoding="utf-8") as tgt,
        paths[2].open("w", encoding="utf-8") as align,
    ):
        for src_tokens, tgt_tokens, src_spans, tgt_spans in synthetic_pairs(pairs, seed):
            src.write(conll_lines(src_tokens, src_spans))
            tgt.write(conll_lines(tgt_tokens, tgt_spans))
            align.write(" ".join(f"{i}-{i}" for i in range(min(len(src_tokens), len(tgt_tokens)))) + "\n")
    return paths


def measure_import(folder: Path, pairs: int, seed: int) -> dict[str, object]:
    """Import the pre-annotated pairs, then their alignments, through the CLI into a new SQLite file."""
    src, tgt, align = write_import_files(folder, pairs, seed)
    db = f"sqlite:///{folder / 'import.db'}"
    commands = {
        "xner import parallel (CoNLL both sides)": [
            *xner_command(),
            *("import", "parallel", str(src), str(tgt), "--corpus", CORPUS, "--src-lang", "en", "--tgt-lang", "ha"),
            *("--split", "train", "--db", db, "--json"),
        ],
        "xner import alignments (Pharaoh)": [
            *xner_command(),
            *("import", "alignments", str(align), "--corpus", CORPUS, "--aligner", "synthetic", "--db", db, "--json"),
        ],
    }
    steps: dict[str, dict[str, object]] = {}
    for name, command in commands.items():
        child = run_child(command, folder)
        if child.returncode != 0:
            raise RuntimeError(f"{name} failed ({child.returncode}): {child.stderr_tail}")
        seconds = float(child.report["seconds"])
        steps[name] = {
            "pairs": child.report["pairs"],
            "seconds_in_xner": round(seconds, 2),
            "wall_seconds": round(child.wall_seconds, 2),
            "pairs_per_second": round(pairs / seconds),
            "pairs_per_second_wall": round(pairs / child.wall_seconds),
            "peak_rss_mib": round(child.peak_rss_mib, 1),
        }
    wall = sum(float(step["wall_seconds"]) for step in steps.values())
    return {
        "files_mib": round(sum(path.stat().st_size for path in (src, tgt, align)) / 2**20, 1),
        "steps": steps,
        "pairs_and_alignments_per_second_wall": round(pairs / wall),
    }


# --- the review page in a browser ---------------------------------------------------------------------------------

# Installed before each press of ``a``: a promise resolved with the milliseconds from the keydown to the page showing
# another "Sentence N" header than ``previous.sentence`` AND the token editor (its markup in a shadow root) drawing
# other tokens than ``previous.tokens``: the next item rendered. Checked on every DOM change of the page and every
# 4 ms (changes inside a shadow root reach no observer on the page).
XNER_STATE = """
() => {
  const heading = [...document.querySelectorAll('[data-testid="stHeading"]')]
    .map((e) => /^\\s*Sentence (\\d+)/.exec(e.textContent)).find((m) => m);
  const editors = [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter((e) => e.shadowRoot && e.shadowRoot.querySelector('.xner-te-tokens'));
  const tokens = editors.map((e) => [...e.shadowRoot.querySelectorAll('.xner-te-tok')].map((t) => t.textContent));
  return {sentence: heading ? heading[1] : null, tokens: tokens.length ? tokens[tokens.length - 1].join(' ') : ''};
}
"""
XNER_WAIT = (
    """
(previous) => {
  const state = """
    + XNER_STATE
    + """;
  window.__benchKeyAt = null;
  window.addEventListener('keydown', () => { window.__benchKeyAt = performance.now(); }, {capture: true, once: true});
  window.__benchWait = new Promise((resolve) => {
    let timer = null;
    const check = () => {
      if (window.__benchKeyAt === null) return;
      const heading = [...document.querySelectorAll('[data-testid="stHeading"]')]
        .map((e) => /^\\s*Sentence (\\d+)/.exec(e.textContent)).find((m) => m);
      if (!heading || heading[1] === previous.sentence) return;
      const now = state();
      if (!now.tokens || now.tokens === previous.tokens) return;
      observer.disconnect();
      clearInterval(timer);
      resolve({ms: performance.now() - window.__benchKeyAt, sentence: Number(now.sentence)});
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    timer = setInterval(check, 4);
  });
}
"""
)


def measure_browser(url: str, folder: Path, presses: int) -> dict[str, object]:
    """Keypress -> next item rendered on the review page served by ``streamlit run app.py`` on the store at ``url``,
    in headless chromium (review_load's server and page helpers): ``a`` (accept) ``presses`` times."""
    return asyncio.run(_browser_presses(url, folder, presses))


async def _browser_presses(url: str, folder: Path, presses: int) -> dict[str, object]:
    from playwright.async_api import async_playwright
    from review_load import Reviewer, app_server

    times: list[float] = []
    with app_server(url, folder / "streamlit.log") as server:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = await (await browser.new_context(viewport={"width": 1440, "height": 1100})).new_page()
                page.set_default_timeout(60_000)
                reviewer = Reviewer("bench-browser", page, press_timeout=60)
                reviewer.listen()
                opened = time.perf_counter()
                await reviewer.open(server.base)
                first_shown = time.perf_counter() - opened
                for _ in range(presses):
                    previous = await page.evaluate(XNER_STATE)
                    await page.evaluate(XNER_WAIT, previous)
                    runs = len(reviewer.finished)
                    await page.keyboard.press("a")
                    shown = await page.evaluate("() => window.__benchWait")
                    times.append(shown["ms"])
                    if not await reviewer.run_ended(runs, 60):
                        raise RuntimeError("the review page's run after a press did not end within 60 s")
                    await reviewer.idle(60)
                    state = await reviewer.state()
                    if state["exception"] or state["error"]:
                        raise RuntimeError(f"the review page failed: {state}")
            finally:
                await browser.close()
    store = open_store(url, upgrade=False)
    try:
        with store.session() as session:
            query = select(func.count()).select_from(ReviewEvent).where(ReviewEvent.reviewer == reviewer.name)
            decided = session.scalar(query)
    finally:
        store.dispose()
    if decided != presses:
        raise RuntimeError(f"{presses} accept presses in the browser recorded {decided} decisions")
    return {
        "first_item_shown_seconds": round(first_shown, 2),
        "decisions_recorded": decided,
        "accept_key_to_next_item_shown": percentiles(times),
    }


# --- Label Studio, on the same pre-annotated items -----------------------------------------------------------------


def measure_label_studio(folder: Path, pairs: int, seed: int, samples: int, presses: int, batch: int) -> dict:
    """Label Studio (benchmarks/labelstudio.py) on the ``pairs`` pre-annotated items xner imports: start, import, the
    next task + submit loop through its API, and Ctrl+Enter -> next task shown in its labelling page."""
    import labelstudio

    version = labelstudio.ensure_venv()
    tasks = [
        labelstudio.pair_to_task(src_tokens, tgt_tokens, tgt_spans)
        for src_tokens, tgt_tokens, _, tgt_spans in synthetic_pairs(pairs, seed)
    ]
    data = folder / "label-studio"
    data.mkdir()
    results: dict[str, object] = {
        "version": version,
        "server": "label-studio start (Django's threaded development server, one process), SQLite",
        "venv": str(labelstudio.VENV.relative_to(REPO)),
    }
    with labelstudio.serve(data) as server:
        results["start_seconds"] = server.start_seconds
        client = labelstudio.Client(server)
        try:
            project, view = labelstudio.create_project(client)
            results["import"] = labelstudio.import_tasks(client, project, tasks, batch or len(tasks))
            results["api"] = labelstudio.review_loop(client, project, view, samples)
        finally:
            client.close()
        if presses:
            results["browser"] = asyncio.run(labelstudio.browser_presses(server, project, presses))
        client = labelstudio.Client(server)
        try:
            results["annotations"] = labelstudio.annotations(client, project, expected=samples + presses)
        finally:
            client.close()
    return results


# --- targets and ratios ----------------------------------------------------------------------------------------


def ratios(calls: dict, page: dict, imported: dict, browser: dict, label_studio: dict) -> dict[str, dict]:
    """xner against Label Studio, measured in this run: how many times faster xner is (LS time / xner time, xner
    rate / LS rate), at p50 and p95 where both are timed, with the two figures each ratio comes from."""
    out: dict[str, dict] = {}

    def times(name: str, xner: dict, ls: dict) -> None:
        out[name] = {
            "xner_p50_ms": xner["p50_ms"],
            "label_studio_p50_ms": ls["p50_ms"],
            "p50": round(ls["p50_ms"] / xner["p50_ms"], 2),
            "xner_p95_ms": xner["p95_ms"],
            "label_studio_p95_ms": ls["p95_ms"],
            "p95": round(ls["p95_ms"] / xner["p95_ms"], 2),
        }

    ls_import, api = label_studio.get("import"), label_studio.get("api")
    if imported and ls_import:
        steps = imported["steps"]
        ls_rate = ls_import["tasks_per_second"]
        parallel = steps["xner import parallel (CoNLL both sides)"]["pairs_per_second_wall"]
        out["import: xner import parallel (wall) / LS bulk import"] = {
            "xner_pairs_per_second": parallel,
            "label_studio_tasks_per_second": ls_rate,
            "ratio": round(parallel / ls_rate, 2),
        }
        both = imported["pairs_and_alignments_per_second_wall"]
        out["import: xner parallel + alignments (wall) / LS bulk import"] = {
            "xner_pairs_per_second": both,
            "label_studio_tasks_per_second": ls_rate,
            "ratio": round(both / ls_rate, 2),
        }
    if api and page:
        times(
            "accept + next: LS next task + submit (API) / xner review page accept + next (AppTest)",
            page["accept + load next item"],
            api["next + submit"],
        )
    if api and calls:
        times(
            "next item: LS next task (API) / xner next_item by confidence",
            calls["next_item confidence"],
            api["next task (POST /api/dm/actions?id=next_task)"],
        )
        times(
            "save: LS submit (API) / xner record_decision",
            calls["record_decision"],
            api["submit (POST /api/tasks/ID/annotations)"],
        )
    if browser and label_studio.get("browser"):
        times(
            "browser: LS Ctrl+Enter -> next task shown / xner a -> next item shown",
            browser["accept_key_to_next_item_shown"],
            label_studio["browser"]["ctrl_enter_to_next_task_shown"],
        )
    return out


def check_targets(calls: dict, page: dict, against: dict) -> dict[str, dict[str, object]]:
    """Each target with the figure it is checked against (the worst of its group) and whether it is met."""
    checks: dict[str, dict[str, object]] = {}

    def add(name: str, value: float, target: float, at_most: bool = True) -> None:
        checks[name] = {"value": value, "target": target, "met": value <= target if at_most else value >= target}

    if calls:
        worst = max((row["p95_ms"], name) for name, row in calls.items() if name.startswith(("next_item", "get_item")))
        add(f"next item p95 ms (worst: {worst[1]})", worst[0], TARGETS["next_item_p95_ms"])
        add("save p95 ms (record_decision)", calls["record_decision"]["p95_ms"], TARGETS["save_p95_ms"])
    if page:
        worst = max((row["p95_ms"], name) for name, row in page.items())
        add(f"page rerun p95 ms (worst: {worst[1]})", worst[0], TARGETS["page_rerun_p95_ms"])
    for name, ratio in against.items():
        if name.startswith("import: xner import parallel"):
            add(f"{name} (x)", ratio["ratio"], TARGETS["import_vs_label_studio"], at_most=False)
        if name.startswith("accept + next"):
            worse = min(ratio["p50"], ratio["p95"])
            add(f"{name}, the lower of p50 and p95 (x)", worse, TARGETS["accept_next_vs_label_studio"], at_most=False)
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k pairs, 50 samples, 10 per page action and browser")
    parser.add_argument("--pairs", type=size, default=None, help="pairs (k/M suffixes; default 100k, quick 10k)")
    parser.add_argument("--samples", type=int, default=None, help="samples per service call (default 200)")
    parser.add_argument("--page-samples", type=int, default=None, help="samples per page action (default 30)")
    parser.add_argument("--browser-presses", type=int, default=None, help="key presses per app in chromium (30)")
    parser.add_argument("--no-page", action="store_true", help="skip the review page part (AppTest)")
    parser.add_argument("--no-import", action="store_true", help="skip the import part")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser part (both apps)")
    parser.add_argument("--no-label-studio", action="store_true", help="measure xner only")
    parser.add_argument(
        "--ls-import-batch",
        type=int,
        default=LS_IMPORT_BATCH,
        help=f"tasks per Label Studio import request (default {LS_IMPORT_BATCH:,}; 0: all in one)",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default results/review_speed.json)")
    args = parser.parse_args()
    pairs = args.pairs or (10_000 if args.quick else 100_000)
    samples = args.samples or (50 if args.quick else 200)
    page_samples = args.page_samples or (10 if args.quick else 30)
    presses = 0 if args.no_browser else args.browser_presses or (10 if args.quick else 30)
    out = args.out or (QUICK_OUT if args.quick else RESULTS / "review_speed.json")
    loads: dict[str, dict[str, list[float]]] = {}
    page: dict[str, dict[str, float]] = {}
    imported: dict[str, object] = {}
    browser: dict[str, object] = {}
    label_studio: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "review.db"
        store = open_store(str(path))
        loads["build"] = {"before": load()}
        started = time.perf_counter()
        build(store, pairs, args.seed)
        built = time.perf_counter() - started
        started = time.perf_counter()
        report = review.queue_projection(store, CORPUS)
        queued = time.perf_counter() - started
        loads["build"]["after"] = load()
        loads["services"] = {"before": load()}
        calls = measure(store, samples, args.seed)
        loads["services"]["after"] = load()
        store.dispose()
        if not args.no_page:
            loads["page"] = {"before": load()}
            page = measure_page(f"sqlite:///{path}", page_samples)
            loads["page"]["after"] = load()
        if not args.no_import:
            loads["import"] = {"before": load()}
            imported = {"pairs": pairs, **measure_import(Path(folder), pairs, args.seed)}
            loads["import"]["after"] = load()
        if presses:
            loads["browser"] = {"before": load()}
            browser = {"presses": presses, **measure_browser(f"sqlite:///{path}", Path(folder), presses)}
            loads["browser"]["after"] = load()
        if not args.no_label_studio:
            loads["label_studio"] = {"before": load()}
            label_studio = measure_label_studio(Path(folder), pairs, args.seed, samples, presses, args.ls_import_batch)
            loads["label_studio"]["after"] = load()
    against = ratios(calls, page, imported, browser, label_studio)
    checks = check_targets(calls, page, against)
    payload = {
        "benchmark": "review_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "load_average_1_5_15_min": loads,
        "pairs": pairs,
        "build_seconds": round(built, 1),
        "queue_projection_seconds": round(queued, 2),
        "queued": report.queued,
        "calls": calls,
        "page": {"samples_per_action": page_samples, "driver": "streamlit.testing.v1.AppTest", "actions": page}
        if page
        else {},
        "import": imported,
        "browser": {"driver": "Playwright + Debian chromium, streamlit run app.py", **browser} if browser else {},
        "label_studio": label_studio,
        "ratios_xner_vs_label_studio": against,
        "targets": TARGETS,
        "checks": checks,
    }
    write_results(out, payload)
    print_tables(payload)
    print(f"\nwritten to {out}")


def print_tables(payload: dict) -> None:
    pairs, loads = payload["pairs"], payload["load_average_1_5_15_min"]
    print(
        f"{pairs:,} pairs: built in {payload['build_seconds']} s, queued in {payload['queue_projection_seconds']} s;"
        f" load averages {loads}\n"
    )
    print("| call | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    for name, row in payload["calls"].items():
        print(f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    for name, row in payload["page"].get("actions", {}).items():
        print(f"| review page: {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    if payload["browser"]:
        row = payload["browser"]["accept_key_to_next_item_shown"]
        print(f"| browser: a -> next item shown | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    label_studio = payload["label_studio"]
    for name, row in label_studio.get("api", {}).items():
        print(
            f"| Label Studio {label_studio['version']}: {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |"
        )
    if label_studio.get("browser"):
        row = label_studio["browser"]["ctrl_enter_to_next_task_shown"]
        name = "Label Studio browser: Ctrl+Enter -> next task shown"
        print(f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    if payload["import"]:
        print(
            "\n| import step | pairs/s (in xner) | pairs/s (wall) | wall s | peak RSS MiB |\n|---|---:|---:|---:|---:|"
        )
        for name, step in payload["import"]["steps"].items():
            print(
                f"| {name} | {step['pairs_per_second']:,} | {step['pairs_per_second_wall']:,} | "
                f"{step['wall_seconds']} | {step['peak_rss_mib']} |"
            )
    if label_studio.get("import"):
        ls = label_studio["import"]
        print(f"| Label Studio bulk import | | {ls['tasks_per_second']:,} | {ls['wall_seconds']} | |")
    print()
    for name, ratio in payload["ratios_xner_vs_label_studio"].items():
        figures = f"{ratio['ratio']}x" if "ratio" in ratio else f"p50 {ratio['p50']}x, p95 {ratio['p95']}x"
        print(f"- {name}: {figures}")
    for name, check in payload["checks"].items():
        print(f"- {name}: {check['value']} (target {check['target']}): {'met' if check['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
