"""The payload project: a small project whose user strings (tokens, a label, the corpus name, the runs'
``created_by``, reviewer names, an adjudication note, a file name) are Markdown and HTML payloads, for the AppTest
(tests/ui/pages/test_payloads.py) and the browser tests (tests/browser/test_payloads.py, test_editor.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write
from xner.formats.parallel import SideOptions
from xner.services import review, spotcheck
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.store.db import open_store

HOST = "xner-payload.invalid"  # never resolves: the .invalid top-level domain is reserved


def payload(tag: str, *, url: bool = True) -> str:
    """A string of Markdown and HTML constructs, each marked with ``tag`` (no spaces: it can be a token or a label).

    >>> payload("t", url=False)
    '**t**_t_<b>t</b>$t$[t](javascript:alert(1)):smile:'
    """
    image = f"![{tag}](http://{HOST}/{tag}.png)" if url else ""
    return f"**{tag}**_{tag}_{image}<b>{tag}</b>${tag}$[{tag}](javascript:alert(1)):smile:"


def fragments(tag: str) -> list[str]:
    """The parts of :func:`payload` that are markup when they reach Markdown or HTML as typed."""
    return [f"**{tag}**", f"_{tag}_", f"![{tag}]", f"<b>{tag}</b>", f"${tag}$", f"[{tag}](javascript", ":smile:"]


TOKEN, LABEL, CORPUS, RUN, ALIGNER = payload("tok"), payload("lab"), payload("cor"), payload("run"), payload("aln")
FIRST, SECOND, ADJUDICATOR, TYPED = payload("ana"), payload("bob"), payload("eve"), payload("you")
NOTE = payload("note")
FILE = payload("file", url=False).replace("</b>", "<b>") + " <img src=x onerror=alert(1)>.conll"  # a name has no "/"
TAGS = ("tok", "lab", "cor", "run", "aln", "ana", "bob", "eve", "you", "note", "file")


def build(folder: Path) -> tuple[Path, int]:
    """A SQLite project of four sentence pairs whose tokens, label, corpus, runs and reviewers are payloads: a queued
    projection run, two reviewers who disagree (one item adjudicated with a note), a spot check with one judgment.
    Returns the database and the adjudicated sentence."""
    store = open_store(f"sqlite:///{folder / 'payloads.db'}")
    src = write(folder / "src.conll", f"Ada B-{LABEL}\nmet O\n{TOKEN} B-PER\n\n" * 4)
    tgt = write(folder / "tgt.conll", f"{TOKEN} B-{LABEL}\ndijo O\nAda B-PER\n\n" * 4)
    import_parallel(store, src, tgt, corpus=CORPUS, src=SideOptions("en"), tgt=SideOptions("es"), split="train")
    import_alignments(store, write(folder / "a.align", "0-0 1-1 2-2\n" * 4), corpus=CORPUS, aligner=ALIGNER)
    run = project_corpus(store, CORPUS, method="heuristic", created_by=RUN).run_id
    review.queue_projection(store, CORPUS, run, created_by=RUN)
    items: list[review.ReviewItem] = []
    for _ in range(3):
        item = review.next_item(store, CORPUS, skip=[i.sentence_id for i in items])
        assert item is not None
        items.append(item)
    for item, (second, spans) in zip(items[:2], (("reject", None), ("correct", [])), strict=True):
        state = review.record_decision(
            store, item.sentence_id, reviewer=FIRST, action="accept", expected_version=item.state.version
        )
        state = review.record_decision(
            store, item.sentence_id, reviewer=SECOND, action=second, expected_version=state.version, spans=spans
        )
    review.adjudicate(
        store, items[1].sentence_id, reviewer=ADJUDICATOR, expected_version=state.version, status="accepted", note=NOTE
    )
    check = spotcheck.draw_sample(store, CORPUS, run, 2, reviewer=FIRST)
    first = spotcheck.next_unjudged_item(store, check.check_id, skip=[])
    assert first is not None
    spotcheck.judge(store, check.check_id, first.id, True, FIRST)
    store.dispose()
    return folder / "payloads.db", items[1].sentence_id
