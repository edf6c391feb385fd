"""``xner stats`` and ``xner corpora``: sizes, entities per label and review progress."""

from __future__ import annotations

from typing import Annotated

import typer

from xner.cli._util import DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.services.corpora import CorpusStats, corpus_stats, list_corpora


def stats_text(stats: CorpusStats) -> str:
    langs = stats.src_lang + (f" → {stats.tgt_lang}" if stats.tgt_lang else "")
    lines = [f"corpus {stats.name} ({stats.kind}, {langs}); labels: {', '.join(stats.labels) or '-'}"]
    for key, count in stats.sentences.items():
        lines.append(f"  sentences {key:<16} {count:>10,}")
    if stats.pairs:
        lines.append(f"  pairs{'':<21} {stats.pairs:>10,}")
    lines.append(f"  tokens{'':<20} {stats.tokens:>10,}")
    for label, count in stats.entities.items():
        lines.append(f"  entities {label:<17} {count:>10,}")
    lines.append(
        f"  review: {stats.reviewed:,} of {stats.reviewable:,} reviewed ("
        + ", ".join(f"{k} {v:,}" for k, v in stats.review.items())
        + ")"
    )
    return "\n".join(lines)


@handle_errors
def stats(
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sentences, tokens, entities per label and review progress of a corpus."""
    result = corpus_stats(store_for(db), corpus)
    emit(result, as_json, lambda: stats_text(result))


@handle_errors
def corpora(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the corpora in the store."""
    result = list_corpora(store_for(db))
    emit(result, as_json, lambda: "\n".join(stats_text(s) for s in result) or "no corpora yet")
