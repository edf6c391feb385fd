"""What the review page's AppTest tests share (test_review.py, test_review_navigation.py): the demo with its own
projection runs over noisy links, queued (a module-scoped file and a private copy per test, as fixtures), a
Europarl store with its longest pair queued (also used by tests/browser/test_issue17.py), and readers of the page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from tests.apptest import html_bodies, seen
from tests.apptest import open_page as open_script
from tests.conftest import DEMO, import_europarl
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.demo import load_demo
from xner.services.importing import import_alignments
from xner.services.projecting import project_corpus
from xner.store.db import Store, open_store
from xner.store.models import Sentence
from xner.store.models import SentencePair as PairRow

PAGE = "1_Review"
CORPUS = "demo-en-es"


def noisy_links(text: str) -> str:
    """The demo's gold links with aligner-like errors at fixed places: some links dropped, some spilling onto the
    previous target word."""
    lines = []
    for k, line in enumerate(text.splitlines()):
        links = []
        for m, item in enumerate(line.split()):
            i, j = map(int, item.split("-"))
            if (k + m) % 9 == 0:
                continue
            links.append(f"{i}-{j}")
            if (3 * k + m) % 7 == 0 and j > 0:
                links.append(f"{i}-{j - 1}")
        lines.append(" ".join(links))
    return "\n".join(lines) + "\n"


def project_demo(store: Store, folder: Path) -> dict[str, int]:
    """Heuristic and ngram runs over the noisy links; the heuristic one queued, compared with the ngram one."""
    align = folder / "noisy.align"
    align.write_text(noisy_links((DEMO / "en-es.align").read_text(encoding="utf-8")), encoding="utf-8")
    links = import_alignments(store, align, corpus=CORPUS, aligner="noisy", created_by="test").run_id
    assert links is not None
    ngram = project_corpus(store, CORPUS, method="ngram", alignment_run=links).run_id
    heuristic = project_corpus(store, CORPUS, method="heuristic", alignment_run=links).run_id
    review.queue_projection(store, CORPUS, heuristic, methods_runs=[ngram])
    return {"links": links, "ngram": ngram, "heuristic": heuristic}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("review_page")
    store = open_store(str(folder / "demo.db"))
    load_demo(store)
    runs = project_demo(store, folder)
    store.dispose()
    return folder / "demo.db", runs


@pytest.fixture
def demo(
    demo_file: tuple[Path, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, dict[str, int]]]:
    """A private copy of the queued demo store, which the page opens through $XNER_DB."""
    source, runs = demo_file
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", tmp_path / f"demo.db{suffix}")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    yield store, runs
    store.dispose()


def open_page(reviewer: str = "ana") -> AppTest:
    return open_script(PAGE, reviewer=reviewer)


def shown(at: AppTest) -> review.ReviewItem:
    item = at.session_state["review_item"]
    assert item is not None
    return item


def bodies(at: AppTest) -> list[str]:
    """Every markdown/HTML text the page rendered (markdown, captions, alerts, titles), sidebar included, as the
    browser gets it."""
    texts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader", "header"):
        texts.extend(str(element.value) for element in getattr(at, kind))
    return texts + html_bodies(at)


def rendered(at: AppTest) -> list[str]:
    """:func:`bodies` as the reader sees their text (the markup around it kept)."""
    return [reader(text) for text in bodies(at)]


reader = seen


def queue_left(at: AppTest) -> int:
    progress = at.main.get("progress")[0].proto.text
    return int(re.sub(r"\D", "", progress.split("this queue:")[1]))


def long_pair_store(folder: Path) -> tuple[Store, int, int, int]:
    """A store with Europarl EN-DE (corpus ``ep``) aligned, projected and queued, and its longest pair: (store,
    target sentence id, source tokens, target tokens). Skipped when the data is absent."""
    store = open_store(f"sqlite:///{folder / 'long.db'}")
    import_europarl(store)
    links = align_corpus(store, "ep", options={"symmetrization": "intersection"}).run_id
    review.queue_projection(store, "ep", project_corpus(store, "ep", method="heuristic", alignment_run=links).run_id)
    source, target = Sentence.__table__.alias("source"), Sentence.__table__.alias("target")
    with store.session() as session:
        row = session.execute(
            select(PairRow.tgt_sentence_id, source.c.n_tokens, target.c.n_tokens.label("n_tgt"))
            .join(source, source.c.id == PairRow.src_sentence_id)
            .join(target, target.c.id == PairRow.tgt_sentence_id)
            .order_by((source.c.n_tokens + target.c.n_tokens).desc(), PairRow.id)
            .limit(1)
        ).one()
        assert session.scalar(select(func.count()).select_from(PairRow)) == 799
    return store, row.tgt_sentence_id, row.n_tokens, row.n_tgt
