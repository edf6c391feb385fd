"""Translation: the NLLB and CTranslate2 translators on a tiny random NLLB-shaped model built here (no download),
and the translate use case (translate-train, translate-test, back-translation pivots) on the demo corpus and on
Europarl with imported translations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import DEMO, shared, write
from tests.tiny_models import build_tiny_nllb, one_torch_thread
from xner.engine.translate import TRANSLATORS
from xner.engine.translate.base import length_batches, translate_batched
from xner.engine.translate.nllb import convert_model
from xner.errors import InputError, UnknownNameError, XnerError
from xner.formats.conll import read_conll
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import corpus_stats, get_corpus, list_corpora
from xner.services.evaluating import evaluate_projection
from xner.services.importing import import_corpus, import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.services.refining import Refinement
from xner.services.training import train_tagger
from xner.services.translating import translate_corpus
from xner.store.db import Store
from xner.store.models import Projection
from xner.text import detokenize, tokenize

EN = [detokenize(s.tokens) for s in read_conll(DEMO / "en.conll")]
ES = [detokenize(s.tokens) for s in read_conll(DEMO / "es.conll")]
TINY = {"device": "cpu", "num_beams": "1", "max_length": "12"}


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory: pytest.TempPathFactory) -> str:
    with one_torch_thread():
        return build_tiny_nllb(tmp_path_factory.mktemp("nllb"), EN + ES)


@pytest.fixture(autouse=True)
def _one_thread():
    with one_torch_thread():
        yield


def nllb(model: str, **options: str):
    return TRANSLATORS.create("nllb", {"model": model, **TINY, **options})


# --- batching -------------------------------------------------------------------------------------------------


def test_length_batches_group_similar_lengths_longest_first():
    assert length_batches([3, 9, 1, 7, 9], 2) == [[1, 4], [3, 0], [2]]
    assert length_batches([], 4) == []


def test_translate_batched_keeps_the_order_skips_empty_texts_and_reports_progress():
    seen: list[list[str]] = []
    progress: list[tuple[int, int]] = []

    def upper(batch: list[str]) -> list[str]:
        seen.append(batch)
        return [text.upper() for text in batch]

    texts = ["a b c", "", "d", "e f", "  "]
    out = translate_batched(texts, [len(t) for t in texts], 2, upper, lambda d, n: progress.append((d, n)))
    assert out == ["A B C", "", "D", "E F", ""]
    assert seen == [["a b c", "e f"], ["d"]]  # the blank texts never reach the model
    assert progress == [(2, 5), (4, 5), (5, 5)]


# --- the nllb and ctranslate2 translators ---------------------------------------------------------------------


def test_nllb_translates_in_order_with_progress(tiny_nllb):
    progress: list[tuple[int, int]] = []
    texts = [EN[0], "", EN[1], EN[2]]
    out = nllb(tiny_nllb, batch_size="2").translate(
        texts, src_lang="en", tgt_lang="es", on_progress=lambda d, n: progress.append((d, n))
    )
    assert len(out) == 4 and out[1] == ""
    assert all(isinstance(text, str) and text for text in (out[0], out[2], out[3]))
    assert progress[0] == (1, 4) and progress[-1] == (4, 4)
    # the batch a sentence falls in does not change its translation (padding is masked)
    alone = [nllb(tiny_nllb, batch_size="1").translate([t], src_lang="eng", tgt_lang="spa_Latn")[0] for t in texts]
    assert alone == out


def test_nllb_accepts_iso_and_nllb_codes_and_refuses_uncovered_languages(tiny_nllb):
    translator = nllb(tiny_nllb)
    assert translator.translate([EN[3]], src_lang="eng_Latn", tgt_lang="yo") == translator.translate(
        [EN[3]], src_lang="en", tgt_lang="yor"
    )
    with pytest.raises(XnerError, match=r"pcm .*Nigerian Pidgin.* not one of NLLB-200's languages"):
        translator.translate([EN[3]], src_lang="en", tgt_lang="pcm")
    with pytest.raises(XnerError, match="'xx'"):
        translator.translate([EN[3]], src_lang="xx", tgt_lang="yor")


def test_nllb_options_are_checked():
    with pytest.raises(UnknownNameError, match="option of nllb 'beams'"):
        TRANSLATORS.create("nllb", {"beams": "2"})
    with pytest.raises(XnerError, match="at least 1"):
        TRANSLATORS.create("nllb", {"batch_size": "0"})
    with pytest.raises(UnknownNameError, match="value for option 'dtype'"):
        TRANSLATORS.create("nllb", {"dtype": "float8"})


def test_a_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(XnerError, match=r"cannot load model .*no such folder"):
        nllb(str(tmp_path / "nope" / "model")).translate(["Hello ."], src_lang="en", tgt_lang="yor")


@pytest.mark.slow  # converts a model for CTranslate2 (~11 s)
def test_ctranslate2_gives_the_transformers_translation(tiny_nllb, tmp_path):
    pytest.importorskip("ctranslate2")
    converted = convert_model(tiny_nllb, tmp_path / "ct2", quantization="none")
    assert (converted / "model.bin").is_file() and (converted / "tokenizer.json").is_file()
    fast = TRANSLATORS.create("ctranslate2", {"model": str(converted), **TINY, "batch_size": "3"})
    texts = [*EN[:5], ""]
    expected = nllb(tiny_nllb).translate(texts, src_lang="en", tgt_lang="es")
    assert fast.translate(texts, src_lang="en", tgt_lang="es") == expected
    with pytest.raises(XnerError, match="exists and is not empty"):
        convert_model(tiny_nllb, converted)


def test_ctranslate2_needs_a_model():
    with pytest.raises(XnerError, match="needs -o model=FOLDER"):
        TRANSLATORS.create("ctranslate2").translate(["x"], src_lang="en", tgt_lang="yor")


# --- the translate use case -----------------------------------------------------------------------------------


def _demo_en(store: Store) -> None:
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")


def test_translate_train_with_a_model_keeps_the_source_entities(store, tiny_nllb):
    _demo_en(store)
    progress: list[tuple[int, int]] = []
    report = translate_corpus(
        store,
        "en",
        new_corpus="en-es-mt",
        to_lang="es",
        options={"model": tiny_nllb, **TINY, "batch_size": "32"},
        on_progress=lambda d, n: progress.append((d, n)),
    )
    assert (report.pairs, report.splits, report.src_lang, report.tgt_lang) == (100, {"train": 100}, "en", "es")
    assert report.params["model"] == tiny_nllb and progress[-1] == (100, 100)
    gold = list(read_conll(DEMO / "en.conll"))
    with store.session() as session:
        found = get_corpus(session, "en-es-mt")
        assert "train translation of 'en' by nllb" in found.description
        pairs = list(iter_pairs(session, found))
    assert [p.src_tokens for p in pairs] == [s.tokens for s in gold]
    assert [p.src_spans for p in pairs] == [s.spans for s in gold]
    assert all(p.tgt_spans == () for p in pairs)
    translations = nllb(tiny_nllb).translate(EN, src_lang="en", tgt_lang="es")
    assert [p.tgt_tokens for p in pairs] == [tuple(tokenize(text)) for text in translations]


def test_translate_train_with_imported_translations_then_project(store):
    """The offline default: translations made elsewhere, here the demo's Spanish CoNLL (tokens and gold kept)."""
    _demo_en(store)
    report = translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=DEMO / "es.conll")
    assert (report.translator, report.pairs) == ("imported", 100)
    per_label = corpus_stats(store, "en").entities
    assert corpus_stats(store, "en-es").entities == {label: 2 * n for label, n in per_label.items()}
    align_corpus(store, "en-es", aligner="eflomal")
    project_corpus(store, "en-es", method="ngram")
    scores = evaluate_projection(store, "en-es").scores["overall"]
    assert scores["support"] == 217 and scores["f1"] > 0.5


def test_translations_file_of_the_wrong_length_names_file_and_line(store, tmp_path):
    _demo_en(store)
    short = write(tmp_path / "short.txt", "\n".join(ES[:98]) + "\n")
    with pytest.raises(InputError, match=r"short.txt:98: only 98 translations for 100 sentences"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", translations=short)
    long = write(tmp_path / "long.txt", "\n".join([*ES, "Una más ."]) + "\n")
    with pytest.raises(InputError, match=r"long.txt:101: more translations than sentences"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", translations=long)
    holey = write(tmp_path / "holey.txt", "\n".join([*ES[:4], "", *ES[5:]]) + "\n")
    with pytest.raises(InputError, match=r"holey.txt:5: empty sentence"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", translations=holey)
    assert [c.name for c in list_corpora(store)] == ["en"]  # nothing half-written


def test_translate_errors(store, tmp_path):
    _demo_en(store)
    with pytest.raises(UnknownNameError, match="translation mode 'back'"):
        translate_corpus(store, "en", new_corpus="x", mode="back", to_lang="es")
    with pytest.raises(XnerError, match="needs the language to translate into"):
        translate_corpus(store, "en", new_corpus="x")
    with pytest.raises(XnerError, match="monolingual: pivot mode"):
        translate_corpus(store, "en", new_corpus="x", mode="pivot")
    with pytest.raises(XnerError, match="corpus 'en' has no sentences in split 'tset'; its splits: train"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", splits=["tset"])
    translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=DEMO / "es.conll")
    # checked before translating (an unreadable translations file would fail later)
    missing = tmp_path / "missing.txt"
    with pytest.raises(XnerError, match="corpus 'en-es' already holds split\\(s\\) 'train': choose another name"):
        translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=missing)
    with pytest.raises(XnerError, match=r"corpus 'en' exists \(monolingual en, not parallel en-es\)"):
        translate_corpus(store, "en", new_corpus="en", to_lang="es", translations=missing)
    with pytest.raises(XnerError, match=r"corpus 'en-es' exists \(en-es, not parallel en-yor\)"):
        translate_corpus(store, "en", new_corpus="en-es", to_lang="yor", translations=missing)


def test_pivot_corpus_feeds_the_back_translation_refinement(store, tiny_nllb):
    """pivot mode pairs the corpus's own sources with back-translations of its targets: what --via expects."""
    import_parallel(
        store, DEMO / "en.conll", DEMO / "es.conll", corpus="demo", src=SideOptions("en"), tgt=SideOptions("es")
    )
    report = translate_corpus(store, "demo", new_corpus="demo-bt", mode="pivot", options={"model": tiny_nllb, **TINY})
    assert (report.src_lang, report.tgt_lang) == ("en", "en")
    align_corpus(store, "demo", aligner="eflomal")
    projected = project_corpus(store, "demo", method="heuristic", refine=Refinement(via="demo-bt", combine="union"))
    assert projected.refined_from is not None and projected.pairs == 100


@pytest.mark.slow  # Europarl aligned and a CRF trained (~50 s)
def test_translate_test_on_europarl_with_the_human_english(store, tmp_path):
    """The paper's "compare to original" protocol with the human English of Europarl as the translation: tag the
    English with an English CRF, align, project back onto the German tokens, score against the German gold; and
    the model-transfer baseline (the English CRF on the German itself), scored the same way."""
    de = shared("europarl_ner_ixa", "de-europarl.test.conll02")
    en = shared("europarl_ner_ixa", "en-europarl.test.conll02")
    english = shared("conll2003_en", "train.txt")
    import_corpus(store, de, corpus="ep-de", lang="de", split="test")
    report = translate_corpus(store, "ep-de", new_corpus="ep-de-tt", mode="test", translations=en)
    assert (report.src_lang, report.tgt_lang, report.pairs) == ("en", "de", 799)
    import_corpus(store, english, corpus="conll-en", lang="en", split="train")
    train_tagger(store, "conll-en", out=tmp_path / "en-crf", options={"max_iterations": "30"})
    align_corpus(store, "ep-de-tt", aligner="eflomal")
    labels = ["PER", "ORG", "LOC"]
    project_corpus(store, "ep-de-tt", method="ngram", source_tagger=tmp_path / "en-crf")
    translate_test = evaluate_projection(store, "ep-de-tt", labels=labels).scores["overall"]
    transfer_run = project_corpus(store, "ep-de-tt", method="model-transfer", options={"model": tmp_path / "en-crf"})
    assert transfer_run.alignment_run is None
    transfer = evaluate_projection(store, "ep-de-tt", labels=labels).scores["overall"]
    assert translate_test["support"] == transfer["support"] == 502
    assert translate_test["f1"] > 0.3 and transfer["f1"] < translate_test["f1"] / 2


def test_translate_test_without_entities_to_project_is_an_error_and_stores_nothing(store, tmp_path):
    from xner.services.workflows import run_translate_test

    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="test")
    plain = write(tmp_path / "en.txt", "\n".join(EN) + "\n")
    with pytest.raises(XnerError, match=r"the translations in en\.txt carry no entities to project: give a source"):
        run_translate_test(store, "es", tagger=None, translations=plain, translations_name="en.txt")
    with pytest.raises(XnerError, match="translations made by a model carry no entities"):
        run_translate_test(store, "es", tagger=None, translator="nllb")  # before any model loads
    assert [c.name for c in list_corpora(store)] == ["es"]
    # model transfer projects no source entities: nothing to ask for
    with pytest.raises(XnerError, match="holds no saved tagger"):  # a bad folder fails before translating
        run_translate_test(store, "es", tagger=None, method="model-transfer", method_options={"model": tmp_path})
    assert [c.name for c in list_corpora(store)] == ["es"]


def test_translate_train_in_one_go_queues_the_projection_for_review(store):
    """translate → align → project → queue: the projected translations are ready to review (and to train on)."""
    from xner.services.review import queue_overview
    from xner.services.workflows import run_translate_train

    _demo_en(store)
    stages: list[str] = []
    report = run_translate_train(
        store,
        "en",
        new_corpus="en-es",
        to_lang="es",
        translations=DEMO / "es.conll",
        on_progress=lambda stage, done, total: stages.append(stage),
    )
    assert report.translation.pairs == 100 and report.alignment_run is not None
    assert report.queued == 100 and sum(report.entities.values()) > 150
    assert list(dict.fromkeys(stages)) == ["translate", "align", "project"]
    overview = queue_overview(store, "en-es")
    assert overview.queued_run == report.projection_run


# --- what a rerun reuses --------------------------------------------------------------------------------------


def _demo_es_two_splits(store: Store) -> None:
    for split in ("test", "dev"):
        import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split=split)


@pytest.mark.slow  # several translate-test runs (~10 s)
def test_translate_test_reuses_only_translations_and_alignments_made_the_same_way(store, tmp_path):
    from xner.services.workflows import run_translate_test

    _demo_es_two_splits(store)
    english = DEMO / "en.conll"
    first = run_translate_test(store, "es", tagger=None, translations=english, splits=["test"], method="ngram")
    assert first.translated and first.aligned and first.evaluation.pairs == 100
    again = run_translate_test(store, "es", tagger=None, method="heuristic", splits=["test"])
    assert not again.translated and not again.aligned and again.alignment_run == first.alignment_run
    same_file = run_translate_test(store, "es", tagger=None, translations=english, splits=["test"])
    assert not same_file.translated and same_file.alignment_run == first.alignment_run
    assert same_file.evaluation.scores == first.evaluation.scores
    other_options = run_translate_test(
        store, "es", tagger=None, splits=["test"], aligner_options={"symmetrization": "intersection"}
    )
    assert other_options.aligned and other_options.alignment_run != first.alignment_run
    extra = [(("the", "house"), ("la", "casa"))] * 3
    with_extra = run_translate_test(store, "es", tagger=None, splits=["test"], extra=extra)
    assert with_extra.aligned and with_extra.alignment_run not in (first.alignment_run, other_options.alignment_run)
    assert run_translate_test(store, "es", tagger=None, splits=["test"], extra=extra).alignment_run == (
        with_extra.alignment_run
    )

    changed = (english.read_text(encoding="utf-8")).replace("Madrid", "Madrid-X", 1)
    other = write(tmp_path / "other.conll", changed)
    with pytest.raises(XnerError, match=r"read from '.*en.conll', not read from 'other.conll': leave the translator"):
        run_translate_test(store, "es", tagger=None, translations=other, translations_name="other.conll")
    with pytest.raises(XnerError, match=r"holds translations of split 'test' read from .*, not by nllb \(model="):
        run_translate_test(store, "es", tagger=None, translator="nllb", splits=["test"])
    with pytest.raises(XnerError, match="holds no translate-test translations of split 'dev' of 'es'"):
        run_translate_test(store, "es", tagger=None)  # all splits: dev was never translated
    with pytest.raises(XnerError, match=r"corpus 'es' has no sentences in split 'tset'"):
        run_translate_test(store, "es", tagger=None, parallel="es-tt-new", translations=english, splits=["tset"])


def test_translate_test_scores_the_splits_asked_for(store, tmp_path):
    from xner.services.workflows import run_translate_test

    _demo_es_two_splits(store)
    text = (DEMO / "en.conll").read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    english = write(tmp_path / "en-both.conll", text + text)  # test, then dev: corpus order
    both = run_translate_test(store, "es", tagger=None, translations=english)
    dev = run_translate_test(store, "es", tagger=None, splits=["dev"])
    assert (both.evaluation.pairs, dev.evaluation.pairs) == (200, 100)
    assert not dev.translated and dev.alignment_run == both.alignment_run
    assert dev.evaluation.scores["overall"]["support"] * 2 == both.evaluation.scores["overall"]["support"]


def test_translate_test_compares_translator_options_but_not_runtime_ones(store, tiny_nllb, tmp_path):
    from xner.services.workflows import run_translate_test

    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="test")
    _demo_en(store)
    crf = train_tagger(store, "en", out=tmp_path / "crf", options={"max_iterations": "10"}).model_path
    options = {"model": tiny_nllb, **TINY}
    first = run_translate_test(store, "es", tagger=crf, translator="nllb", translator_options=options)
    assert first.translated and first.evaluation.pairs == 100
    runtime = {**options, "batch_size": "4", "device": "cpu"}
    assert not run_translate_test(store, "es", tagger=crf, translator="nllb", translator_options=runtime).translated
    assert not run_translate_test(store, "es", tagger=crf).translated
    with pytest.raises(XnerError, match=r"by nllb \(model=.*num_beams=1.*\), not by nllb \(.*num_beams=2"):
        run_translate_test(store, "es", tagger=crf, translator="nllb", translator_options={**options, "num_beams": 2})
    with pytest.raises(XnerError, match="translator options need a translator"):
        run_translate_test(store, "es", tagger=crf, translator_options={"num_beams": 2})


@pytest.mark.slow  # translate, align, project (~15 s)
def test_translate_train_into_an_existing_corpus_aligns_projects_and_queues_only_the_new_split(store, tmp_path):
    from xner.services.workflows import run_translate_train

    _demo_en(store)
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="dev")
    settings = {"new_corpus": "en-es", "to_lang": "es", "translations": DEMO / "es.conll"}
    first = run_translate_train(store, "en", splits=["train"], **settings)
    second = run_translate_train(store, "en", splits=["dev"], **settings)
    assert (first.queued, second.queued) == (100, 100)
    assert second.alignment_run != first.alignment_run
    with store.session() as session:
        found = get_corpus(session, "en-es")
        assert found.provenance["translation"].keys() == {"train", "dev"}
        dev_pairs = [p.pair_id for p in iter_pairs(session, found, splits=["dev"], alignment_run=second.alignment_run)]
        assert len(dev_pairs) == 100
    for report, split in ((first, "train"), (second, "dev")):
        scores = evaluate_projection(store, "en-es", run_id=report.projection_run, splits=[split])
        assert scores.pairs == 100 and scores.scores["overall"]["f1"] > 0.5
    with store.session() as session:
        covered = session.scalars(select(Projection.pair_id).where(Projection.run_id == second.projection_run))
        assert sorted(covered) == sorted(dev_pairs)


def test_blank_lines_at_the_end_of_a_translations_file_are_ignored(store, tmp_path):
    _demo_en(store)
    trailing = write(tmp_path / "es.txt", "\n".join(ES) + "\n\n \n")
    report = translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=trailing)
    assert report.pairs == 100


def test_translations_from_two_threads_do_not_mix_their_languages(tiny_nllb):
    """The cached tokenizer's source language is shared state: concurrent translations must not mix it."""
    from concurrent.futures import ThreadPoolExecutor

    translator = nllb(tiny_nllb)
    jobs = [(EN[:20], "en", "es"), (ES[:20], "es", "en")] * 2
    alone = [translator.translate(texts, src_lang=src, tgt_lang=tgt) for texts, src, tgt in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda job: translator.translate(job[0], src_lang=job[1], tgt_lang=job[2]), jobs))
    assert together == alone


def test_long_sentences_are_reported_when_cut(tiny_nllb, caplog):
    with caplog.at_level("WARNING", logger="xner.engine.translate.nllb"):
        nllb(tiny_nllb).translate([EN[0], "Short ."], src_lang="en", tgt_lang="es")
    assert "1 of 2 sentences exceed max_length=12 subwords and are cut" in caplog.text


def test_translate_train_checks_the_later_steps_before_translating(store, tmp_path):
    from xner.services.workflows import run_translate_train

    _demo_en(store)
    settings = {"new_corpus": "en-es", "to_lang": "es", "translations": DEMO / "es.conll"}
    with pytest.raises(UnknownNameError, match="projection method 'bogus'"):
        run_translate_train(store, "en", method="bogus", **settings)
    with pytest.raises(UnknownNameError, match="option of eflomal 'bogus'"):
        run_translate_train(store, "en", aligner_options={"bogus": "1"}, **settings)
    with pytest.raises(XnerError, match="holds no saved tagger"):
        run_translate_train(store, "en", source_tagger=tmp_path, **settings)
    assert [c.name for c in list_corpora(store)] == ["en"]
