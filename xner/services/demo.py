"""The demo project: a small English–Spanish parallel corpus with gold entities and alignments (data/demo/), ready
to review.

Besides the gold alignment run, :func:`load_demo` stores a *simulated* aligner run: the gold links with
aligner-like errors (missed links, links spilling onto a neighbouring word, a stray link now and then) drawn from
a fixed seed. Both projection methods (``heuristic`` and ``ngram``) run over it, and the heuristic run is queued for
review, so a fresh database opens with realistic suggestions: most right, some wrong, and the two methods
disagreeing on a few sentences (the ``disagreement`` queue order has something to show).

Why not eflomal: it learns from the text it aligns, and 100 pairs are too few for it to align well; it is also
randomised without a seed option, so the demo (and the tests that count its items) would change from run to run.
The simulated run is deterministic, takes milliseconds and is labelled ``simulated`` with its parameters.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterable
from pathlib import Path

from xner.formats.parallel import SideOptions
from xner.services.corpora import corpus_names, get_corpus
from xner.services.importing import import_alignments, import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.services.review import queue_projection
from xner.store.db import Store
from xner.types import Alignment, Link

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
DEMO_CORPUS = "demo-en-es"
DEMO_USER = "demo"
SIMULATED_ALIGNER = "simulated"
# Error rates of the simulated aligner: per gold link, dropped / also linked to a neighbour; per pair, a stray link.
NOISE = {"seed": 7, "drop": 0.05, "neighbour": 0.1, "stray": 0.1}


def load_demo(store: Store, *, demo_dir: Path = DEMO_DIR, ready_to_review: bool = True) -> bool:
    """Load the demo project into an empty store; returns False (and does nothing) when the store has corpora.

    Stores the corpus (gold entities on both sides) and alignment run 1 (``gold``); ``ready_to_review`` adds
    alignment run 2 (``simulated``), projection runs 1 (``heuristic``) and 2 (``ngram``) over run 2, and queues
    projection run 1 for review. Without it, the store holds only the files of data/demo (what tests of the
    services start from).
    """
    with store.session() as session:
        if corpus_names(session):  # visible ones: an import still under way does not count
            return False
    import_parallel(
        store,
        demo_dir / "en.conll",
        demo_dir / "es.conll",
        corpus=DEMO_CORPUS,
        src=SideOptions("en", "conll"),
        tgt=SideOptions("es", "conll"),
        split="train",
    )
    gold = import_alignments(store, demo_dir / "en-es.align", corpus=DEMO_CORPUS, aligner="gold", created_by=DEMO_USER)
    assert gold.run_id is not None
    if not ready_to_review:
        return True
    simulated = _store_simulated_run(store, gold.run_id)
    heuristic = project_corpus(store, DEMO_CORPUS, method="heuristic", alignment_run=simulated, created_by=DEMO_USER)
    project_corpus(store, DEMO_CORPUS, method="ngram", alignment_run=simulated, created_by=DEMO_USER)
    queue_projection(store, DEMO_CORPUS, heuristic.run_id, created_by=DEMO_USER)
    return True


def _store_simulated_run(store: Store, gold_run: int) -> int:
    """Store the simulated aligner's links (see the module docstring) as a new alignment run; returns its id."""
    rng = random.Random(NOISE["seed"])
    with store.session() as session:
        corpus = get_corpus(session, DEMO_CORPUS)
        lines = [
            Alignment(
                sure=frozenset(
                    simulate_aligner_errors(
                        pair.alignment.links if pair.alignment else (),
                        len(pair.src_tokens),
                        len(pair.tgt_tokens),
                        rng,
                    )
                )
            ).to_pharaoh()
            for pair in iter_pairs(session, corpus, alignment_run=gold_run, with_spans=False)
        ]
    with tempfile.TemporaryDirectory(prefix="xner-demo-") as folder:
        path = Path(folder) / "simulated.align"
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        report = import_alignments(
            store,
            path,
            corpus=DEMO_CORPUS,
            aligner=SIMULATED_ALIGNER,
            params={"base_run": gold_run, **NOISE},
            created_by=DEMO_USER,
        )
    assert report.run_id is not None
    return report.run_id


def simulate_aligner_errors(links: Iterable[Link], n_src: int, n_tgt: int, rng: random.Random) -> set[Link]:
    """``links`` with aligner-like errors at the rates of :data:`NOISE`, drawn from ``rng``.

    >>> sorted(simulate_aligner_errors({(0, 0), (1, 1), (2, 2)}, 3, 3, random.Random(1)))
    [(0, 0), (1, 1), (2, 2)]
    """
    result: set[Link] = set()
    for i, j in sorted(links):
        draw = rng.random()
        if draw < NOISE["drop"]:
            continue  # a missed link
        result.add((i, j))
        if draw > 1 - NOISE["neighbour"]:  # the link spills onto the next or previous target word
            k = j + rng.choice((-1, 1))
            if 0 <= k < n_tgt:
                result.add((i, k))
    if n_src and n_tgt and rng.random() < NOISE["stray"]:
        result.add((rng.randrange(n_src), rng.randrange(n_tgt)))
    return result
