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
whose tokens and entities are kept). The new corpus is written in one transaction, split by split, and records per
split where its translations came from (``Corpus.provenance``, see :func:`translation_provenance`): the source
corpus, the mode, the translator and its options, or the file and its SHA-256.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xner.engine.project import PROJECTORS
from xner.engine.translate import TRANSLATORS
from xner.engine.translate.markers import strip_markers
from xner.errors import InputError, UnknownNameError, XnerError
from xner.formats.parallel import ParallelItem, SideOptions, iter_side, plain_pair_batches
from xner.formats.text import iter_lines
from xner.options import describe
from xner.services.corpora import CorpusInfo, corpus_info, ensure_corpus, find_corpus, get_corpus
from xner.services.exporting import iter_export_sentences, require_splits
from xner.services.importing import BATCH, batches, insert_pairs, next_position
from xner.services.pairs import iter_pairs
from xner.store.columns import projected_to_record
from xner.store.db import Session, Store
from xner.store.models import Corpus
from xner.store.queries.corpora import held_splits
from xner.store.queries.runs import add_projection_run, insert_projections
from xner.text import detokenize, normalize, tokenize
from xner.types import CorpusKind, ProgressFn, ProjectedSpan, Sentence, Side

MODES = ("train", "test", "pivot")
IMPORTED = "imported"  # the translator name of translations read from a file


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
    require_entities: bool = False,
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
        require_entities: the translations must carry entities (a CoNLL file with its entities): translate-test
            without a source-language tagger. Checked before anything is stored.
        on_progress: called with (sentences translated, total).

    Raises:
        XnerError: an unknown mode, a monolingual corpus in pivot mode, a missing ``to_lang``, an unknown split,
            nothing to translate, a new corpus name taken by another kind of corpus or already holding one of the
            splits, a language the translator does not cover, translations without the required entities. All but
            the last are raised before anything is translated.
        InputError: a translations file with fewer or more sentences than the corpus, or an empty line.
    """
    if mode not in MODES:
        raise UnknownNameError("translation mode", mode, MODES)
    started = time.perf_counter()
    with store.session() as session:
        found = get_corpus(session, corpus)
        from_lang, to_lang = translation_languages(corpus_info(found), mode, to_lang)
        if splits:
            require_splits(session, found, translated_side(found.kind, mode), splits)
        originals = list(_originals(session, found, mode, splits))
        if not originals:
            raise XnerError(f"corpus {corpus!r} has no sentences to translate")
        labels = list(found.labels or [])
        src_lang, tgt_lang = (to_lang, from_lang) if mode == "test" else (from_lang, to_lang)
        if mode == "pivot":
            src_lang = found.src_lang
        _check_new_corpus(session, new_corpus, src_lang, tgt_lang, {item.split for item in originals})
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
        params: dict[str, Any] = {"file": shown, "sha256": file_digest(translations)}
        if on_progress:
            on_progress(len(originals), len(originals))
    else:
        engine = TRANSLATORS.create(translator, options)
        texts = [text_of(item.sentence) for item in originals]
        outputs = engine.translate(texts, src_lang=from_lang, tgt_lang=to_lang, on_progress=on_progress)
        translated = [_as_sentence(text, to_lang) for text in outputs]
        params = describe(engine)
    if require_entities and not any(sentence.spans for sentence in translated):
        where = f"the translations in {shown}" if shown else f"translations by {translator}"
        raise XnerError(
            f"{where} carry no entities to project: give a source-language tagger (from `xner train`) to tag "
            "them, or translations in CoNLL with their entities"
        )
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
    params = (
        describe(method)
        if translations is None
        else {"file": shown, "sha256": file_digest(translations), **describe(method)}
    )
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


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (recorded with imported translations, to recognise the same file later)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def translation_provenance(corpus: Corpus) -> dict[str, dict[str, Any]]:
    """Per split, where the translations of ``corpus`` came from (``source``, ``mode``, ``translator``, ``params``,
    ``pairs``); {} for a corpus xner did not translate."""
    return dict((corpus.provenance or {}).get("translation", {}))


def _check_new_corpus(session: Session, name: str, src_lang: str, tgt_lang: str, splits: Collection[str]) -> None:
    """The new corpus must be new, or a parallel corpus of the same languages without these splits (read-only)."""
    if not name.strip():
        raise XnerError("the translations need a non-empty corpus name")
    found = find_corpus(session, name)
    if found is None:
        return
    if (found.kind, found.src_lang, found.tgt_lang) != (CorpusKind.PARALLEL, src_lang, tgt_lang):
        have = (
            f"{found.src_lang}-{found.tgt_lang}"
            if found.kind == CorpusKind.PARALLEL
            else f"monolingual {found.src_lang}"
        )
        raise XnerError(
            f"corpus {name!r} exists ({have}, not parallel {src_lang}-{tgt_lang}): choose another name for the "
            "translations"
        )
    taken = held_splits(session, found.id, splits)
    if taken:
        raise XnerError(
            f"corpus {name!r} already holds split(s) {', '.join(map(repr, sorted(taken)))}: choose another name for "
            "the translations, or other splits"
        )


def translated_side(kind: str, mode: str) -> Side:
    """The side that ``mode`` translates of a corpus of ``kind`` (``mono`` or ``parallel``).

    >>> cases = [("parallel", "train"), ("parallel", "test"), ("mono", "test")]
    >>> [translated_side(kind, mode).value for kind, mode in cases]
    ['src', 'tgt', 'mono']
    """
    return Side.MONO if kind == CorpusKind.MONO else {"train": Side.SRC, "test": Side.TGT, "pivot": Side.TGT}[mode]


def translated_from(corpus: CorpusInfo, mode: str) -> str:
    """The language of the sentences that ``mode`` translates in ``corpus``.

    >>> translated_from(CorpusInfo("wiki", "parallel", "en", "yor"), "test")
    'yor'
    """
    return corpus.src_lang if translated_side(corpus.kind, mode) in (Side.MONO, Side.SRC) else corpus.tgt_lang or ""


def default_target_language(corpus: CorpusInfo, mode: str) -> str:
    """The language ``mode`` translates into when none is given: English for translate-test, the source language
    for pivot (back-translation), none for translate-train (it must be given)."""
    return {"train": "", "test": "en", "pivot": corpus.src_lang}[mode]


def translation_languages(corpus: CorpusInfo, mode: str, to_lang: str | None) -> tuple[str, str]:
    """(language translated from, language translated into) for ``mode`` on ``corpus``.

    Raises:
        XnerError: pivot mode on a monolingual corpus; translate-train without ``to_lang``.
    """
    if mode == "pivot" and corpus.kind != CorpusKind.PARALLEL:
        raise XnerError(f"corpus {corpus.name!r} is monolingual: pivot mode translates a parallel corpus's target")
    if mode == "train" and not to_lang:
        raise XnerError("translate-train needs the language to translate into (--to, e.g. --to yor)")
    return translated_from(corpus, mode), to_lang or default_target_language(corpus, mode)


def _originals(session: Session, corpus: Corpus, mode: str, splits: Collection[str] | None) -> Iterator[_Original]:
    """The sentences to translate, in corpus order, with the sentence each is paired with in the new corpus."""
    rows = iter_export_sentences(session, corpus, side=translated_side(corpus.kind, mode), splits=splits)
    if mode != "pivot":
        for sentence, meta in rows:
            yield _Original(meta["split"], sentence, sentence)
        return
    sources = iter_export_sentences(session, corpus, side=Side.SRC, splits=splits)
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
    """Write the new parallel corpus, split by split, its provenance and the marker projections if any, in one
    transaction."""
    spans = projected if projected is not None else [[] for _ in originals]
    by_split: dict[str, list[tuple[ParallelItem, list[ProjectedSpan]]]] = {}
    for original, translation, found in zip(originals, translated, spans, strict=True):
        by_split.setdefault(original.split, []).append((_pair(report.mode, original, translation), found))
    with store.transaction() as session:
        target = ensure_corpus(
            session, report.corpus, kind=CorpusKind.PARALLEL, src_lang=report.src_lang, tgt_lang=report.tgt_lang
        )
        target.labels = sorted(set(target.labels or []) | set(labels))
        target.description = (
            f"{report.mode} translation of {report.source!r} by {report.translator} "
            f"({', '.join(f'{k}={v}' for k, v in report.params.items() if k != 'sha256')})"
        )
        made = {"source": report.source, "mode": report.mode, "translator": report.translator, "params": report.params}
        provenance = translation_provenance(target)
        for split, rows in by_split.items():
            position = next_position(session, target, split, Side.SRC, append=False)
            for batch in plain_pair_batches((item for item, _ in rows), BATCH):
                insert_pairs(session, target, split, position, batch)
                position += len(batch)
            provenance[split] = {**made, "pairs": len(rows)}
            report.splits[split] = len(rows)
            report.pairs += len(rows)
        target.provenance = {"translation": provenance}
        if projected is not None:
            report.projection_run = _store_projection(session, target, report, by_split, created_by)


def _store_projection(
    session: Session,
    corpus: Corpus,
    report: TranslateReport,
    by_split: dict[str, list[tuple[ParallelItem, list[ProjectedSpan]]]],
    created_by: str,
) -> int:
    """The entities read from the markers as a projection run over the new pairs (``by_split``'s splits)."""
    params = {**report.params, "source": "gold", "translated": True, "splits": sorted(by_split)}
    run_id = add_projection_run(
        session, corpus.id, method="easyproject", alignment_run_id=None, params=params, created_by=created_by
    )
    counts: Counter[str] = Counter()
    rows = []
    for split, items in by_split.items():
        pairs = iter_pairs(session, corpus, splits=[split], with_spans=False)
        for pair, (_, spans) in zip(pairs, items, strict=True):
            records = [projected_to_record(span) for span in spans]
            counts.update(span.span.label for span in spans)
            confidence = min((record["confidence"] for record in records), default=1.0)
            rows.append({"run_id": run_id, "pair_id": pair.pair_id, "spans": records, "confidence": confidence})
    for batch in batches(rows):
        insert_projections(session, batch)
    report.entities = dict(sorted(counts.items()))
    return run_id


def _pair(mode: str, original: _Original, translation: Sentence) -> ParallelItem:
    """The new pair: the kept sentence and the translation, in the order of ``mode``."""
    kept = original.partner
    if mode == "test":
        return ParallelItem(translation, kept, None, None)
    return ParallelItem(kept, translation, None, None)
