"""Taggers (xner.learning), the train use case (xner.services.training) and ``xner train``.

The CRF runs on hand-made news sentences (names in varied contexts) and, when ../shared/data is there, on the
start of CoNLL-2003 English scored with seqeval. Trainings stay small: a few hundred sentences, ≤ 50 iterations.
"""

from __future__ import annotations

import io
import json
import pickle
from itertools import islice, pairwise
from pathlib import Path

import pytest
from seqeval.metrics import f1_score
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import DEMO, shared, write
from xner.cli import app
from xner.errors import UnknownNameError, XnerError
from xner.formats.conll import read_conll, write_conll
from xner.learning import TAGGERS, load_tagger, read_manifest
from xner.learning.crf import CrfTagger
from xner.options import describe
from xner.schemes import spans_to_tags
from xner.services.importing import import_corpus
from xner.services.training import train_tagger
from xner.store.models import RunMetric, TrainingRun
from xner.types import ReviewStatus, Sentence, Span

FAST = {"max_iterations": 40}

PEOPLE = [
    "Angela Merkel",
    "Amina Mohammed",
    "Nelson Mandela",
    "Kofi Annan",
    "Jacinda Ardern",
    "Wole Soyinka",
    "Emmanuel Macron",
    "Ngozi Okonjo-Iweala",
]
PLACES = ["Berlin", "Lagos", "Nairobi", "Paris", "Kampala", "Geneva", "Johannesburg", "Accra", "New York"]
ORGS = ["United Nations", "World Bank", "African Union", "Red Cross", "Siemens", "Reuters"]
TEMPLATES = [
    "{PER} arrived in {LOC} on Monday for talks with the {ORG} .",
    "The {ORG} said on Tuesday that {PER} would visit {LOC} next month .",
    "Speaking in {LOC} , {PER} praised the work of the {ORG} .",
    "{PER} , who met officials from the {ORG} , left {LOC} late on Friday .",
    "Prices rose sharply in {LOC} last year , the {ORG} reported .",
    "Shares in {ORG} fell 3 percent after {PER} resigned .",
    "Heavy rain closed schools across {LOC} on Wednesday .",
    "There was no immediate comment from the government .",
    '" We will not give up , " {PER} told reporters .',
    "Police said two people were injured .",
]


def news_sentence(template: str, **names: str) -> Sentence:
    """A template with {PER}, {LOC}, {ORG} slots filled in, tokenised on spaces, with the filled names as spans."""
    tokens: list[str] = []
    spans = []
    for word in template.split():
        if word.startswith("{") and word.endswith("}"):
            label = word[1:-1]
            name = names[label].split()
            spans.append(Span(len(tokens), len(tokens) + len(name), label))
            tokens += name
        else:
            tokens.append(word)
    return Sentence(tuple(tokens), tuple(spans))


def news(count: int, offset: int = 0) -> list[Sentence]:
    """``count`` sentences, each template filled with a different name mix (deterministic)."""
    result = []
    for i in range(offset, offset + count):
        names = {"PER": PEOPLE[i * 3 % len(PEOPLE)], "LOC": PLACES[i * 5 % len(PLACES)], "ORG": ORGS[i % len(ORGS)]}
        result.append(news_sentence(TEMPLATES[i % len(TEMPLATES)], **names))
    return result


@pytest.fixture(scope="module")
def crf() -> CrfTagger:
    tagger = TAGGERS.create("crf", FAST)
    tagger.fit(news(300))
    return tagger


# ---- the CRF tagger ----


def test_the_crf_finds_names_it_saw_in_training_in_a_new_context(crf):
    tokens = "Yesterday Kofi Annan flew from Accra to meet the Red Cross .".split()
    assert crf.predict([tokens]) == [[Span(1, 3, "PER"), Span(5, 6, "LOC"), Span(9, 11, "ORG")]]
    assert crf.labels == ("LOC", "ORG", "PER")
    assert crf.info["sentences"] == 300 and crf.info["iterations"] <= 40
    assert crf.info["entities"] == {"LOC": 180, "ORG": 180, "PER": 180}


def test_the_crf_predicts_nothing_for_an_empty_sentence_or_batch(crf):
    assert crf.predict([[], ["Police", "said", "so", "."]]) == [[], []]
    assert crf.predict([]) == [] and crf.predict_scored([[]]) == [[]]


def test_scored_spans_are_sorted_disjoint_and_confident_in_range(crf):
    batch = [s.tokens for s in news(40, offset=1000)] + ["Merkel spoke to Annan in Geneva and New York .".split()]
    scored = crf.predict_scored(batch)
    assert [[span for span, _ in row] for row in scored] == crf.predict(batch)
    for row in scored:
        spans = [span for span, _ in row]
        assert spans == sorted(spans)
        assert all(a.end <= b.start for a, b in pairwise(spans))
        assert all(0.0 <= confidence <= 1.0 for _, confidence in row)
    # a training-like sentence is tagged with near certainty
    assert all(confidence > 0.9 for _, confidence in scored[0])


def test_save_and_load_give_identical_predictions(crf, tmp_path):
    folder = crf.save(tmp_path / "model")
    manifest = read_manifest(folder)
    assert (manifest["kind"], manifest["labels"], manifest["options"]["max_iterations"]) == (
        "crf",
        ["LOC", "ORG", "PER"],
        40,
    )
    loaded = load_tagger(folder)
    batch = [s.tokens for s in news(50, offset=500)] + ["Ngozi Okonjo-Iweala left Kampala .".split()]
    assert loaded.predict_scored(batch) == crf.predict_scored(batch)
    assert loaded.labels == crf.labels and loaded == crf


def test_a_tagger_pickles_with_its_model(crf):
    copy = pickle.loads(pickle.dumps(crf))
    batch = [s.tokens for s in news(20, offset=200)]
    assert copy.predict_scored(batch) == crf.predict_scored(batch)
    untrained = pickle.loads(pickle.dumps(TAGGERS.create("crf")))
    with pytest.raises(XnerError, match="not trained"):
        untrained.predict([["x"]])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"c3": "1"}, r"unknown option of crf 'c3'; known: affixes, all_transitions, c1, c2"),
        ({"c1": "-0.5"}, r"option 'c1' of the crf tagger must be at least 0, got -0.5"),
        ({"max_iterations": "many"}, r"option 'max_iterations' takes a number \(int\), got 'many'"),
        ({"all_transitions": "perhaps"}, r"option 'all_transitions' takes true or false"),
    ],
)
def test_bad_crf_options_name_the_option(options, message):
    with pytest.raises(XnerError, match=message):
        TAGGERS.create("crf", options)


def test_unknown_tagger_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown tagger 'bert'; known: crf"):
        TAGGERS.create("bert")


def test_training_errors_name_the_sentence_or_the_problem(tmp_path):
    tagger = TAGGERS.create("crf", {"max_iterations": "5"})
    overlapping = Sentence(("Kofi", "Annan", "Foundation"), (Span(0, 2, "PER"), Span(0, 3, "ORG")))
    with pytest.raises(XnerError, match=r"training sentence 1: span \[0, 3\) ORG overlaps another span"):
        tagger.fit([news(1)[0], overlapping])
    with pytest.raises(XnerError, match="no sentence has tokens"):
        tagger.fit([Sentence(())])
    with pytest.raises(XnerError, match="nothing to save"):
        tagger.save(tmp_path / "never")
    assert not (tmp_path / "never").exists()


# ---- real data: CoNLL-2003 English ----


def test_crf_on_the_start_of_conll2003_english():
    train = list(islice(read_conll(shared("conll2003_en", "train.txt")), 1000))
    test = list(islice(read_conll(shared("conll2003_en", "test.txt")), 500))
    tagger = TAGGERS.create("crf", {"max_iterations": 50})
    tagger.fit(train)
    predicted = tagger.predict([s.tokens for s in test])
    gold_tags = [spans_to_tags(s.spans, len(s.tokens)) for s in test]
    predicted_tags = [spans_to_tags(p, len(s.tokens)) for p, s in zip(predicted, test, strict=True)]
    # measured 0.770 (PER/ORG/LOC, seqeval micro F1, 50 iterations); a broken feature or decoder drops far below
    assert f1_score(gold_tags, predicted_tags) > 0.72


# ---- the train use case ----


def conll_file(path: Path, sentences: list[Sentence]) -> Path:
    out = io.StringIO()
    write_conll(sentences, out)
    return write(path, out.getvalue())


@pytest.fixture
def news_store(store, tmp_path):
    """A monolingual corpus 'news' with 200 train and 60 test sentences."""
    import_corpus(store, conll_file(tmp_path / "train.conll", news(200)), corpus="news", lang="en")
    import_corpus(store, conll_file(tmp_path / "test.conll", news(60, offset=777)), corpus="news", lang="en")
    return store


def runs(store) -> list[TrainingRun]:
    with store.session() as session:
        return list(session.scalars(select(TrainingRun).order_by(TrainingRun.id)))


def metrics(store, run_id: int) -> dict[tuple[str, str], float]:
    with store.session() as session:
        rows = session.execute(
            select(RunMetric.name, RunMetric.label, RunMetric.value).where(RunMetric.run_id == run_id)
        )
        return {(name, label): value for name, label, value in rows}


def leftovers(folder: Path) -> list[str]:
    """Partial or backup directories a training left beside its model."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_train_records_the_run_its_sizes_and_scores(news_store, tmp_path):
    out = tmp_path / "models" / "news-crf"
    report = train_tagger(news_store, "news", out=out, eval_splits=["test"], options=FAST, created_by="ada")
    assert (report.side, report.splits, report.sentences, report.eval_sentences) == ("mono", ["train"], 200, 60)
    assert report.entities == {"LOC": 120, "ORG": 120, "PER": 120}
    assert report.f1 is not None and report.f1 > 0.95 and not report.replaced
    assert report.model_path == str(out.resolve())
    (run,) = runs(news_store)
    assert (run.id, run.status, run.model_path) == (report.run_id, "done", str(out.resolve()))
    assert run.finished_at is not None and run.finished_at >= run.created_at
    assert run.config == {
        "corpus": "news",
        "side": "mono",
        "splits": ["train"],
        "statuses": ["accepted", "corrected", "unreviewed"],
        "tagger": "crf",
        "options": describe(TAGGERS.create("crf", FAST)),
    }
    assert run.config["options"]["max_iterations"] == 40 and len(run.config_hash) == 64
    assert run.data_sizes["sentences"] == 200 and run.data_sizes["entities"] == report.entities
    assert run.data_sizes["eval"]["splits"] == ["test"] and run.data_sizes["eval"]["sentences"] == 60
    scores = metrics(news_store, run.id)
    for label in ("", "LOC", "ORG", "PER"):
        row = report.scores[label or "overall"]
        assert {name: scores[(name, label)] for name in ("precision", "recall", "f1", "support")} == row
    assert scores[("support", "")] == sum(run.data_sizes["eval"]["entities"].values())
    assert scores[("train_seconds", "")] > 0
    # the saved model is the one that was scored, and tells where it came from
    manifest = read_manifest(out)
    assert manifest["info"]["corpus"] == "news" and manifest["info"]["created_by"] == "ada"
    assert manifest["info"]["run_id"] == run.id
    assert load_tagger(out).predict([["Kofi", "Annan", "spoke"]]) == [[Span(0, 2, "PER")]]
    assert leftovers(out.parent) == []


def test_training_the_same_configuration_again_replaces_its_run(news_store, tmp_path):
    first = train_tagger(news_store, "news", out=tmp_path / "a", eval_splits=["test"], options=FAST)
    again = train_tagger(news_store, "news", out=tmp_path / "b", eval_splits=["test"], options={"max_iterations": "40"})
    assert again.run_id == first.run_id and again.replaced
    (run,) = runs(news_store)
    assert run.model_path == str((tmp_path / "b").resolve())
    assert len(metrics(news_store, run.id)) == 1 + 4 * 4  # train_seconds + 4 measures × (overall + 3 labels)
    # other options make another run; saving it over the first run's model takes that run's path away
    other = train_tagger(news_store, "news", out=tmp_path / "b", options={"max_iterations": 30, "c1": 0.2})
    assert other.run_id != first.run_id and other.scores is None
    first_run, second_run = runs(news_store)
    assert (first_run.model_path, second_run.model_path) == (None, str((tmp_path / "b").resolve()))
    assert read_manifest(tmp_path / "b")["options"]["c1"] == 0.2
    assert set(metrics(news_store, second_run.id)) == {("train_seconds", "")}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"corpus": "nope"}, r"unknown corpus 'nope'; known: news"),
        ({"splits": ["train", "tset"]}, r"corpus 'news' has no sentences in split 'tset'; its splits: train, test"),
        ({"eval_splits": ["dev"]}, r"has no sentences in split 'dev'; its splits: train, test"),
        ({"splits": []}, r"give at least one training split"),
        ({"side": "tgt"}, r"corpus 'news' is monolingual: it has no 'tgt' side"),
        ({"tagger": "bert"}, r"unknown tagger 'bert'; known: crf"),
        ({"options": {"c3": "1"}}, r"unknown option of crf 'c3'"),
        ({"statuses": ["rejected"]}, r"nothing to train on: the sentences of corpus 'news' in split\(s\) train"),
    ],
)
def test_bad_requests_record_nothing_and_save_nothing(news_store, tmp_path, kwargs, message):
    kwargs = {"corpus": "news", **kwargs}
    if "statuses" in kwargs:
        kwargs["statuses"] = [ReviewStatus.parse(s) for s in kwargs["statuses"]]
    out = tmp_path / "model"
    with pytest.raises(XnerError, match=message):
        train_tagger(news_store, kwargs.pop("corpus"), out=out, **kwargs)
    assert runs(news_store) == [] and not out.exists()


def test_a_corpus_without_entities_or_an_occupied_out_is_refused(store, tmp_path):
    plain = [Sentence(tuple("Police said two people were injured .".split()))] * 5
    import_corpus(store, conll_file(tmp_path / "train.conll", plain), corpus="plain", lang="en")
    with pytest.raises(XnerError, match=r"nothing to learn: .* corpus 'plain' .* have no entities \(5 sentences\)"):
        train_tagger(store, "plain", out=tmp_path / "m")
    notes = write(tmp_path / "notes.txt", "mine")
    with pytest.raises(XnerError, match="is a file: give a directory"):
        train_tagger(store, "plain", out=notes)
    (tmp_path / "work").mkdir()
    write(tmp_path / "work" / "draft.txt", "mine too")
    with pytest.raises(XnerError, match=r"work is not empty and holds no saved tagger"):
        train_tagger(store, "plain", out=tmp_path / "work")
    assert runs(store) == [] and notes.read_text() == "mine"


@pytest.mark.parametrize("stage", ["fit", "save"])
def test_a_failed_training_marks_the_run_and_keeps_the_earlier_model(news_store, tmp_path, monkeypatch, stage):
    out = tmp_path / "model"
    train_tagger(news_store, "news", out=out, options=FAST)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def fail(self, target, *args, **kwargs):
        if stage == "save":  # fail half-way through writing
            (Path(target) / "model.crfsuite").write_bytes(b"half")
        raise XnerError(f"{stage} broke")

    monkeypatch.setattr(CrfTagger, stage, fail)
    with pytest.raises(XnerError, match=f"{stage} broke"):
        train_tagger(news_store, "news", out=out, options=FAST)
    (run,) = runs(news_store)
    assert (run.status, run.model_path) == ("failed", None) and run.finished_at is not None
    assert metrics(news_store, run.id) == {}
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert train_tagger(news_store, "news", out=tmp_path / "new", options=FAST).run_id == run.id
    assert runs(news_store)[0].status == "done"


# ---- xner train ----


@pytest.mark.slow  # trains a CRF and projects through the CLI (~18 s)
def test_cli_train_then_project_with_the_model_method(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def ok(*args: str | Path):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    db = ("--db", tmp_path / "x.db")
    ok("import", "parallel", DEMO / "en.conll", DEMO / "es.conll", "--corpus", "demo", "--src-lang", "en",
       "--tgt-lang", "es", "--src-format", "conll", "--tgt-format", "conll", "--split", "train", *db)  # fmt: skip
    ok("align", "--corpus", "demo", "-o", "symmetrization=intersection", *db)
    model = tmp_path / "es-crf"
    text = ok("train", "--corpus", "demo", "--out", model, "--eval-split", "train", "-o", "max_iterations=30", *db)
    assert text.stdout.startswith("trained crf on 100 sentences of 'demo' (tgt: train) in ")
    assert f"; train F1 1.0000 on 100 sentences; saved to {model.resolve()} (training run 1)\n" in text.stdout
    assert read_manifest(model)["info"]["side"] == "tgt"

    data = json.loads(ok("train", "--corpus", "demo", "--side", "src", "--out", tmp_path / "en-crf",
                         "--option", "max_iterations=20", "--json", *db).stdout)  # fmt: skip
    assert (data["run_id"], data["side"], data["sentences"], data["scores"]) == (2, "src", 100, None)
    assert data["options"]["max_iterations"] == 20

    projected = json.loads(
        ok("project", "--corpus", "demo", "--method", "model", "-o", f"model={model}", "--json", *db).stdout
    )
    assert projected["pairs"] == 100 and projected["params"]["model"] == str(model)
    scored = json.loads(ok("eval", "projection", "--corpus", "demo", "--json", *db).stdout)
    assert scored["scores"]["overall"]["f1"] > 0.8  # a tagger trained on this very target side
    also = ok("project", "--corpus", "demo", "--source-tagger", tmp_path / "en-crf", "--json", *db)
    assert json.loads(also.stdout)["params"]["source"] == f"tagger:{tmp_path / 'en-crf'}"

    bad = runner.invoke(
        app, ["train", "--corpus", "demo", "--out", str(tmp_path / "x"), "--split", "dev", *map(str, db)]
    )
    assert bad.exit_code == 1
    assert bad.stderr == "error: corpus 'demo' has no tgt sentences in split 'dev'; its splits: train\n"
    assert not (tmp_path / "x").exists()
    bad = runner.invoke(app, ["train", "--corpus", "demo", "--out", "x", "--status", "approved", *map(str, db)])
    assert bad.exit_code == 1 and "unknown review status 'approved'" in bad.stderr
    from xner.store.db import open_store

    check = open_store(str(db[1]))
    with check.session() as session:
        assert session.scalar(select(func.count()).select_from(TrainingRun)) == 2
    check.dispose()


def test_cli_train_help_lists_the_crf_options():
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for name in ("--out", "--eval-split", "--side", "c1", "c2", "max_iterations", "window", "min_freq"):
        assert name in text
