"""Translate use case: a stored corpus translated sentence by sentence into a new parallel corpus.

Three modes, one per use of machine translation in projection (method notes §3–5):

- ``train`` (translate-train): the labelled sentences of a corpus (a monolingual one, or the source side of a
  parallel one) become the source side, with their entities; their translations into ``to_lang`` the target side.
  Align and project it, and the projected target side is training data in the target language.
- ``test`` (translate-test, the paper's "compare to original" protocol): the sentences of a labelled corpus in the
  target language become the target side, with their gold entities; their translations (into English, say) the
  source side. Tag the source side with a source-language tagger (``xner project --source-tagger``), align,
  project back onto the original tokens and score against their gold (``xner eval projection``).
- ``pivot`` (back-translation): the target side of a parallel corpus translated into ``to_lang`` (by default the
  source language), paired with the corpus's own source sentences: the pivot corpus that ``xner project --refine
  backtranslation --via`` expects.

The translations come from a translator (``nllb``, ``ctranslate2``; :mod:`xner.engine.translate`) or, offline,
from a file of translations made elsewhere, line-aligned with the sentences (plain text, one per line, or CoNLL,
whose tokens and entities are kept). The new corpus is written in one transaction, split by split.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from xner.engine.project import PROJECTORS
from xner.engine.translate import TRANSLATORS
from xner.engine.translate.markers import strip_markers
from xner.errors import InputError, UnknownNameError, XnerError
from xner.formats.parallel import ParallelItem, SideOptions, iter_side
from xner.formats.text import iter_lines
from xner.options import describe
from xner.services.corpora import ensure_corpus, get_corpus
from xner.services.exporting import iter_export_sentences
from xner.services.importing import batches, insert_pairs, next_position
from xner.services.pairs import iter_pairs
from xner.services.projecting import span_record
from xner.store.db import Store
from xner.store.models import Corpus, Projection, ProjectionRun
from xner.text import detokenize, normalize, tokenize
from xner.types import ProjectedSpan, Sentence

MODES = ("train", "test", "pivot")
IMPORTED = "imported"  # the translator name of translations read from a file
ProgressFn = Callable[[int, int], None]


@dataclass
class TranslateReport:
    corpus: str  # the new parallel corpus
    source: str  # the corpus that was translated
    mode: str
    translator: str
    src_lang: str
    tgt_lang: str
    pairs: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    projection_run: int | None = None  # with markers: the run holding the entities read from the markers
    entities: dict[str, int] = field(default_factory=dict)  # with markers: projected entities per label
    empty: int = 0  # translations that came out empty (kept: the pair stays, with an empty target)


@dataclass(frozen=True)
class _Original:
    """A stored sentence to translate, with the sentence it is paired with in the new corpus (pivot mode)."""

    split: str
    sentence: Sentence  # the one translated
    partner: Sentence  # the one kept beside the translation (the sentence itself, or its source in pivot mode)


def text_of(sentence: Sentence) -> str:
    """The running text of a stored sentence: its original text, or its tokens detokenised."""
    return sentence.text if sentence.text else detokenize(sentence.tokens)


def translate_corpus(
    store: Store,
    corpus: str,
    *,
    new_corpus: str,
    mode: str = "train",
    to_lang: str | None = None,
    translator: str = "nllb",
    options: Mapping[str, Any] | None = None,
    translations: str | Path | None = None,
    translations_options: SideOptions | None = None,
    translations_name: str | None = None,
    markers: bool = False,
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
) -> TranslateReport:
    """Translate ``corpus`` into the parallel corpus ``new_corpus`` (see the module notes for ``mode``).

    Args:
        to_lang: the language to translate into; default: English for ``test``, the source language for ``pivot``
            (required for ``train``).
        translator: a name in :data:`xner.engine.translate.TRANSLATORS`, with ``options``; ignored when
            ``translations`` is given.
        translations: a file of translations made elsewhere, one per sentence in corpus order (split by split);
            ``translations_options`` says how to read it (format, tokenisation; its ``lang`` is replaced);
            ``translations_name`` is the file's name in messages and records (an upload's own name).
        splits: only these splits of ``corpus``.
        on_progress: called with (sentences translated, total).

    Raises:
        XnerError: an unknown mode, a monolingual corpus in pivot mode, a missing ``to_lang``, a new corpus name
            that exists with sentences, a language the translator does not cover.
        InputError: a translations file with fewer or more sentences than the corpus, or an empty line.
    """
    if mode not in MODES:
        raise UnknownNameError("translation mode", mode, MODES)
    started = time.perf_counter()
    with store.session() as session:
        found = get_corpus(session, corpus)
        from_lang, to_lang = _languages(found, mode, to_lang)
        originals = list(_originals(session, found, mode, splits))
        labels = list(found.labels or [])
    name = IMPORTED if translations is not None else translator
    shown = translations_name or (str(translations) if translations is not None else None)
    projected: list[list[ProjectedSpan]] | None = None
    if markers:
        if mode != "train":
            raise XnerError("markers (EasyProject) go with translate-train: --mode train")
        translated, projected, params = _translate_marked(
            originals, from_lang, to_lang, translator, options, translations, shown, on_progress
        )
        name = f"{name}+markers"
    elif translations is not None:
        translated = _read_translations(translations, translations_options, to_lang, len(originals), shown)
        params: dict[str, Any] = {"file": shown}
        if on_progress:
            on_progress(len(originals), len(originals))
    else:
        engine = TRANSLATORS.create(translator, options)
        texts = [text_of(item.sentence) for item in originals]
        outputs = engine.translate(texts, src_lang=from_lang, tgt_lang=to_lang, on_progress=on_progress)
        translated = [_as_sentence(text, to_lang) for text in outputs]
        params = describe(engine)
    src_lang, tgt_lang = (to_lang, from_lang) if mode == "test" else (from_lang, to_lang)
    if mode == "pivot":
        src_lang = found.src_lang
    report = TranslateReport(new_corpus, corpus, mode, name, src_lang, tgt_lang, params=params)
    report.empty = sum(not sentence.tokens for sentence in translated)
    _store(store, report, originals, translated, labels, projected, created_by)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _translate_marked(
    originals: list[_Original],
    from_lang: str,
    to_lang: str,
    translator: str,
    options: Mapping[str, Any] | None,
    translations: str | Path | None,
    shown: str | None,
    on_progress: ProgressFn | None,
) -> tuple[list[Sentence], list[list[ProjectedSpan]], dict[str, Any]]:
    """EasyProject translate-train: the marker-free translations, the entities read from their markers, params."""
    wanted = {"translator": translator, **({"entity_translations": False} if translations else {}), **(options or {})}
    method = PROJECTORS.create("easyproject", {**wanted, "src_lang": from_lang, "tgt_lang": to_lang})
    given = _read_marked_lines(translations, len(originals), shown) if translations is not None else None
    sources = [item.sentence for item in originals]
    results = method.translate_marked(sources, translations=given, on_progress=on_progress)
    sentences = [Sentence(r.marked.tokens, (), " ".join(r.marked.tokens), to_lang) for r in results]
    params = describe(method) if translations is None else {"file": shown, **describe(method)}
    return sentences, [r.projected() for r in results], params


def _read_marked_lines(path: str | Path, expected: int, name: str | None) -> list[str]:
    """The lines of a file of marked translations (one per sentence, none empty); ``name`` in messages."""
    name = name or str(path)
    lines = []
    for number, text in iter_lines(path, display_name=name):
        if len(lines) == expected:
            raise InputError(name, number, f"more translations than sentences: the corpus has {expected} to translate")
        if not strip_markers(text):
            raise InputError(name, number, "empty translation: the file needs one non-empty line per sentence")
        lines.append(text)
    if len(lines) < expected:
        raise InputError(name, len(lines) or None, f"only {len(lines)} translations for {expected} sentences")
    return lines


def _languages(corpus: Corpus, mode: str, to_lang: str | None) -> tuple[str, str]:
    """(language translated from, language translated into) for ``mode`` on ``corpus``."""
    if mode == "pivot":
        if corpus.kind != "parallel":
            raise XnerError(f"corpus {corpus.name!r} is monolingual: pivot mode translates a parallel corpus's target")
        return corpus.tgt_lang or "", to_lang or corpus.src_lang
    if mode == "test":
        return corpus.src_lang if corpus.kind == "mono" else corpus.tgt_lang or "", to_lang or "en"
    if not to_lang:
        raise XnerError("translate-train needs the language to translate into (--to, e.g. --to yor)")
    return corpus.src_lang, to_lang


def _originals(session: Session, corpus: Corpus, mode: str, splits: Collection[str] | None) -> Iterator[_Original]:
    """The sentences to translate, in corpus order, with the sentence each is paired with in the new corpus."""
    side = "mono" if corpus.kind == "mono" else {"train": "src", "test": "tgt", "pivot": "tgt"}[mode]
    rows = iter_export_sentences(session, corpus, side=side, splits=splits)
    if mode != "pivot":
        for sentence, meta in rows:
            yield _Original(meta["split"], sentence, sentence)
        return
    sources = iter_export_sentences(session, corpus, side="src", splits=splits)
    for (sentence, meta), (source, _) in zip(rows, sources, strict=True):
        yield _Original(meta["split"], sentence, source)


def _as_sentence(text: str, lang: str) -> Sentence:
    text = normalize(text.strip())
    return Sentence(tuple(tokenize(text)), (), text, lang)


def _read_translations(
    path: str | Path, options: SideOptions | None, lang: str, expected: int, name: str | None
) -> list[Sentence]:
    """The sentences of a translations file, which must hold exactly ``expected`` of them; ``name`` in messages."""
    name = name or str(path)
    base = options or SideOptions(lang)
    side = SideOptions(lang, base.format, base.pretokenized, base.normal_form, base.conll)
    read: list[Sentence] = []
    last_line = 0
    for line, sentence in iter_side(path, side, display_name=name):
        if len(read) == expected:
            raise InputError(
                name, line, f"more translations than sentences: the corpus has {expected} sentences to translate"
            )
        read.append(sentence)
        last_line = line
    if len(read) < expected:
        raise InputError(
            name,
            last_line or None,
            f"only {len(read)} translations for {expected} sentences: the file needs one per sentence, in corpus "
            "order (split by split)",
        )
    return read


def _store(
    store: Store,
    report: TranslateReport,
    originals: list[_Original],
    translated: list[Sentence],
    labels: list[str],
    projected: list[list[ProjectedSpan]] | None,
    created_by: str,
) -> None:
    """Write the new parallel corpus, split by split, and the marker projections if any, in one transaction."""
    with store.transaction() as session:
        target = ensure_corpus(
            session, report.corpus, kind="parallel", src_lang=report.src_lang, tgt_lang=report.tgt_lang
        )
        target.labels = sorted(set(target.labels or []) | set(labels))
        target.description = (
            f"{report.mode} translation of {report.source!r} by {report.translator} "
            f"({', '.join(f'{k}={v}' for k, v in report.params.items())})"
        )
        by_split: dict[str, list[ParallelItem]] = {}
        for original, translation in zip(originals, translated, strict=True):
            by_split.setdefault(original.split, []).append(_pair(report.mode, original, translation))
        for split, items in by_split.items():
            position = next_position(session, target, split, "src", append=False)
            for batch in batches(items):
                insert_pairs(session, target, split, position, batch)
                position += len(batch)
            report.splits[split] = len(items)
            report.pairs += len(items)
        if projected is not None:
            report.projection_run = _store_projection(session, target, report, projected, created_by)


def _store_projection(
    session: Session, corpus: Corpus, report: TranslateReport, projected: list[list[ProjectedSpan]], created_by: str
) -> int:
    """The entities read from the markers as a projection run of ``corpus`` (pairs in the order they were added)."""
    run = ProjectionRun(corpus_id=corpus.id, method="easyproject", alignment_run_id=None, created_by=created_by)
    run.params = {**report.params, "source": "gold", "translated": True}
    session.add(run)
    session.flush()
    pairs = iter_pairs(session, corpus, with_spans=False)
    counts: Counter[str] = Counter(span.span.label for spans in projected for span in spans)
    rows = []
    for pair, spans in zip(pairs, projected, strict=True):
        records = [span_record(span) for span in spans]
        confidence = min((record["confidence"] for record in records), default=1.0)
        rows.append({"run_id": run.id, "pair_id": pair.pair_id, "spans": records, "confidence": confidence})
    for batch in batches(rows):
        session.execute(insert(Projection), batch)
    report.entities = dict(sorted(counts.items()))
    return run.id


def _pair(mode: str, original: _Original, translation: Sentence) -> ParallelItem:
    """The new pair: the kept sentence and the translation, in the order of ``mode``."""
    kept = original.partner
    if mode == "test":
        return ParallelItem(translation, kept, None, None)
    return ParallelItem(kept, translation, None, None)
