"""The demo project: a small English–Spanish parallel corpus with gold entities and alignments (data/demo/)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from xner.formats.parallel import SideOptions
from xner.services.importing import import_alignments, import_parallel
from xner.store.db import Store
from xner.store.models import Corpus

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
DEMO_CORPUS = "demo-en-es"


def load_demo(store: Store, *, demo_dir: Path = DEMO_DIR) -> bool:
    """Load the demo corpus into an empty store; returns False (and does nothing) when the store has corpora."""
    with store.session() as session:
        if session.scalar(select(func.count()).select_from(Corpus)):
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
    import_alignments(store, demo_dir / "en-es.align", corpus=DEMO_CORPUS, aligner="gold", created_by="demo")
    return True
