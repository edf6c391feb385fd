"""Source entities for projection (xner.services.sources) on real plain English (MAFAND-MT en-yor, no entities):
the gold, a saved tagger or one trained now, recorded with the run; the empty-run guard of the review queue; extra
parallel text from an imported corpus passed to eflomal; a translation model that is not here fails at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import ok
from tests.conftest import DEMO, import_mafand, snapshot
from xner.errors import XnerError
from xner.formats.parallel import SideOptions
from xner.services import review
from xner.services.aligning import _digest, align_corpus, corpus_text, extra_text_corpora
from xner.services.importing import import_corpus, import_parallel
from xner.services.managed import ManagedFolder
from xner.services.projecting import project_corpus
from xner.services.sources import (
    GOLD,
    SAVED,
    TRAIN,
    SourceChoice,
    gold_source_entities,
    labelled_corpora,
    project_with_source,
    recommended_tagger,
    saved_taggers,
    train_source_tagger,
    uses_source_entities,
)
from xner.store.db import Store

FAST_CRF = {"max_iterations": "20"}
FAST_EFLOMAL = {"symmetrization": "intersection", "rel_iterations": "0.3"}


@pytest.fixture
def folder(xner_home: Path) -> ManagedFolder:
    return ManagedFolder(xner_home)


@pytest.fixture
def english(store: Store) -> str:
    """The demo's English gold (100 sentences, PER/ORG/LOC/DATE) as a monolingual corpus: tagger training data."""
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    return "en"


def test_plain_english_has_no_gold_and_only_labelled_english_is_offered_for_training(
    store: Store, english: str, tmp_path: Path
) -> None:
    import_mafand(store, tmp_path)
    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="train")

    assert gold_source_entities(store, "mafand") == 0
    [labelled] = labelled_corpora(store, "en")  # not MAFAND (no entities), not the Spanish corpus
    assert (labelled.name, labelled.side, labelled.splits) == ("en", "mono", ("train",))
    assert labelled.entities > 0
    assert uses_source_entities("heuristic") and not uses_source_entities("model-transfer")


def test_a_saved_tagger_tags_the_english_side_and_is_recorded_with_the_run(
    store: Store, english: str, folder: ManagedFolder, tmp_path: Path
) -> None:
    pairs = import_mafand(store, tmp_path)
    trained = train_source_tagger(store, english, folder=folder, options=FAST_CRF)
    align_corpus(store, "mafand", options=FAST_EFLOMAL)
    [saved] = saved_taggers(store, folder)
    assert (saved.path, saved.kind, saved.corpus, saved.lang) == (trained.model_path, "crf", "en", "en")
    assert recommended_tagger([saved], "en") == saved

    result = project_with_source(store, "mafand", SourceChoice(SAVED, tagger=saved.path), folder=folder)

    report = result.projection
    assert result.training is None and report.pairs == pairs and report.entities
    assert report.params["source"] == f"tagger:{saved.path}"
    recorded = report.params["source_tagger"]
    assert (recorded["kind"], recorded["corpus"], recorded["side"], recorded["run_id"]) == (
        "crf",
        "en",
        "mono",
        trained.run_id,
    )
    assert set(recorded["labels"]) <= {"PER", "ORG", "LOC", "DATE"}
    queued = review.queue_projection(store, "mafand", report.run_id)  # it has entities: no confirmation needed
    assert queued.queued == pairs


def test_train_now_trains_saves_then_projects_with_both_stages_reported(
    store: Store, english: str, folder: ManagedFolder, tmp_path: Path
) -> None:
    import_mafand(store, tmp_path)
    align_corpus(store, "mafand", options=FAST_EFLOMAL)
    stages: list[tuple[str, int, int]] = []

    choice = SourceChoice(TRAIN, corpus=english, options=FAST_CRF)
    result = project_with_source(
        store, "mafand", choice, folder=folder, method="ngram", on_progress=lambda *a: stages.append(a)
    )

    assert result.training is not None
    model = Path(result.training.model_path)
    assert model.parent == folder.subfolder("models") and model.name.startswith("crf-en-all-")
    assert [t.path for t in saved_taggers(store, folder)] == [str(model)]
    assert result.projection.params["source"] == f"tagger:{model}"
    assert result.projection.params["source_tagger"]["run_id"] == result.training.run_id
    assert "titled_copies" not in result.projection.params["source_tagger"]  # not asked for
    assert [s for s, _, _ in stages if s == "train"] and stages[-1][0] == "project"
    assert stages[-1][1] == stages[-1][2] == result.projection.pairs


def test_a_tagger_trained_with_titled_names_is_offered_first(store: Store, english: str, folder: ManagedFolder) -> None:
    titled = train_source_tagger(store, english, folder=folder, options=FAST_CRF, titled=True)
    plain_folder = ManagedFolder(folder.root / "other")
    plain = train_source_tagger(store, english, folder=plain_folder, options=FAST_CRF)
    taggers = saved_taggers(store, folder) + saved_taggers(store, plain_folder)  # the plain one is newer

    best = recommended_tagger(taggers, "en")

    assert best is not None and best.path == titled.model_path and best.titled
    assert best.describe().startswith(f"{best.name}: crf, trained on en (en) + titled names; ")
    assert [t.titled for t in taggers if t.path == plain.model_path] == [False]


def test_choices_that_are_incomplete_are_refused_before_anything_runs(
    store: Store, folder: ManagedFolder, tmp_path: Path
) -> None:
    import_mafand(store, tmp_path, limit=20)
    before = snapshot(store)
    for choice, message in (
        (SourceChoice(SAVED), "choose a saved source tagger"),
        (SourceChoice(TRAIN), "choose a labelled corpus"),
        (SourceChoice("guess"), "unknown source of entities 'guess'"),
    ):
        with pytest.raises(XnerError, match=message):
            project_with_source(store, "mafand", choice, folder=folder)
    assert snapshot(store) == before


def test_an_empty_run_is_queued_only_with_a_confirmation_that_says_why(
    store: Store, folder: ManagedFolder, tmp_path: Path
) -> None:
    pairs = import_mafand(store, tmp_path)
    align_corpus(store, "mafand", options=FAST_EFLOMAL)
    run = project_with_source(store, "mafand", SourceChoice(GOLD), folder=folder).projection
    assert run.entities == {} and run.params["source"] == "gold"
    reason = review.empty_run_reason(store, "mafand", run.run_id)
    assert reason == "the source side of 'mafand' has no gold entities"
    before = snapshot(store)

    with pytest.raises(review.EmptyRunError) as refused:
        review.queue_projection(store, "mafand", run.run_id)

    assert (refused.value.run_id, refused.value.pairs, refused.value.reason) == (run.run_id, pairs, reason)
    assert f"queueing it would give {pairs} items with nothing suggested" in str(refused.value)
    assert snapshot(store) == before  # nothing queued
    confirmed = review.queue_projection(store, "mafand", run.run_id, allow_empty=True)
    assert confirmed.queued == pairs


def test_a_tagger_that_finds_nothing_is_named_as_the_reason(
    store: Store, folder: ManagedFolder, tmp_path: Path
) -> None:
    """When a source tagger finds nothing (two pairs of function words), the reason names the tagger."""
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    model = train_source_tagger(store, "en", folder=folder, options=FAST_CRF).model_path
    src, tgt = tmp_path / "plain.en", tmp_path / "plain.yor"
    src.write_text("the of and\nin to a\n", encoding="utf-8")
    tgt.write_text("àti ti\nsí ni\n", encoding="utf-8")
    import_parallel(store, src, tgt, corpus="plain", src=SideOptions("en", "text"), tgt=SideOptions("yor", "text"))
    align_corpus(store, "plain", options=FAST_EFLOMAL)
    run = project_corpus(store, "plain", source_tagger=model)
    assert run.entities == {}

    assert review.empty_run_reason(store, "plain", run.run_id) == (
        f"the source tagger {Path(model).name!r} found no entities"
    )


@pytest.mark.slow  # eflomal with extra text (~20 s)
def test_extra_text_from_an_imported_corpus_is_passed_to_eflomal_and_recorded(store: Store, tmp_path: Path) -> None:
    pairs = import_mafand(store, tmp_path, "dev", "mafand", limit=300)
    extra = import_mafand(store, tmp_path, "train", "mafand-train", limit=2000)
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    assert extra_text_corpora(store, "mafand") == ["mafand-train"]  # same language pair, not itself, not mono
    phases: list[str] = []
    counts: list[tuple[int, int]] = []

    report = align_corpus(
        store,
        "mafand",
        options=FAST_EFLOMAL,
        extra_corpus="mafand-train",
        on_phase=phases.append,
        on_progress=lambda done, total: counts.append((done, total)),
    )

    text = corpus_text(store, "mafand-train")
    assert len(text) == extra and report.pairs == pairs
    assert report.params["extra_pairs"] == extra and report.params["extra_text"] == ["corpus:mafand-train"]
    assert report.params["extra_sha256"] == _digest(text)  # exactly that corpus's pairs went to the aligner
    assert counts[0] == (0, pairs) and counts[-1] == (pairs, pairs)
    assert "reading the extra text of corpus mafand-train" in phases
    assert f"eflomal: sampling forward and reverse links of {pairs} pairs + {extra:,} extra (3 samplers)" in phases
    assert phases[-1] == f"saving the links of {pairs} pairs"


def test_the_cli_takes_an_imported_corpus_as_extra_text(store: Store, tmp_path: Path) -> None:
    pairs = import_mafand(store, tmp_path, limit=100)
    extra = import_mafand(store, tmp_path, "train", "mafand-train", limit=500)
    result = ok(
        "align",
        "--corpus",
        "mafand",
        "--extra-corpus",
        "mafand-train",
        "-o",
        "rel_iterations=0.3",
        "--json",
        "--db",
        store.url,
    )

    report = json.loads(result.stdout)
    assert report["pairs"] == pairs and report["params"]["extra_pairs"] == extra
    assert report["params"]["extra_text"] == ["corpus:mafand-train"]


def test_extra_text_must_be_another_corpus_of_the_same_languages(store: Store, tmp_path: Path) -> None:
    import_mafand(store, tmp_path, limit=20)
    import_parallel(
        store, DEMO / "en.conll", DEMO / "es.conll", corpus="en-es", src=SideOptions("en"), tgt=SideOptions("es")
    )
    before = snapshot(store)
    with pytest.raises(XnerError, match="'en-es' is en-es, but 'mafand' is en-yor"):
        align_corpus(store, "mafand", extra_corpus="en-es")
    with pytest.raises(XnerError, match="must be another corpus than 'mafand'"):
        align_corpus(store, "mafand", extra_corpus="mafand")
    assert snapshot(store) == before


def test_a_translation_model_that_is_not_here_fails_at_once_with_the_offline_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xner.engine.translate import TRANSLATORS

    for offline, endpoint in (("1", None), ("", "http://127.0.0.1:9")):  # HF_HUB_OFFLINE, or a hub that is down
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        if endpoint:
            monkeypatch.setenv("HF_ENDPOINT", endpoint)
        with pytest.raises(XnerError) as failed:
            TRANSLATORS.create("nllb", {"model": "nllb-600m"}).translate(["Hello"], src_lang="en", tgt_lang="yor")
        message = str(failed.value)
        assert "\n" not in message and "no model hub can be reached" in message
        assert message.endswith("(Translate page: File of translations; `xner translate --translations FILE`)")
