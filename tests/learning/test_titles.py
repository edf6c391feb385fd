"""Titled copies of person mentions (xner.learning.titles) and training with them (train_tagger(titled=True))."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO
from xner.learning.titles import TITLES, titled_copies
from xner.services.importing import import_corpus
from xner.services.training import train_tagger
from xner.services.training_view import list_training_runs
from xner.store.db import Store
from xner.types import Sentence, Span

CASES = [
    # tokens, spans, expected tokens with the title as "T", expected spans
    ("John Smith said", [(0, 2, "PER")], "T Smith said", [(1, 2, "PER")]),
    ("Evans spoke", [(0, 1, "PER")], "T Evans spoke", [(1, 2, "PER")]),
    ("Mr Evans spoke", [(1, 2, "PER")], "Mr Evans spoke", [(1, 2, "PER")]),  # already titled: as it was
    (
        "Ada Obi of Shell visited New York",
        [(0, 2, "PER"), (3, 4, "ORG"), (5, 7, "LOC")],
        "T Obi of Shell visited New York",
        [(1, 2, "PER"), (3, 4, "ORG"), (5, 7, "LOC")],
    ),
    ("Shell met Jo Bo Li", [(0, 1, "ORG"), (2, 5, "PER")], "Shell met T Li", [(0, 1, "ORG"), (3, 4, "PER")]),
]


@pytest.mark.parametrize(("text", "spans", "expected", "expected_spans"), CASES)
def test_person_mentions_become_a_title_and_the_last_token(text, spans, expected, expected_spans) -> None:
    source = Sentence(tuple(text.split()), tuple(Span(*s) for s in spans), lang="en")

    [copy] = titled_copies([source], seed=3)

    shown = ["T" if token in TITLES and token not in text.split() else token for token in copy.tokens]
    assert " ".join(shown) == expected
    assert copy.spans == tuple(Span(*s) for s in expected_spans) and copy.lang == "en"


def test_sentences_without_persons_give_no_copy_and_the_seed_fixes_the_titles() -> None:
    people = Sentence(("Ada", "Obi", "and", "Bo", "Li"), (Span(0, 2, "PER"), Span(3, 5, "PER")))
    places = Sentence(("In", "Lagos"), (Span(1, 2, "LOC"),))

    assert titled_copies([places]) == []
    copies = [titled_copies([places, people] * 20, seed=seed) for seed in (1, 1, 2)]
    assert copies[0] == copies[1] != copies[2]
    assert len(copies[0]) == 20 and {copy.tokens[0] for copy in copies[0]} == set(TITLES)


def test_training_with_titled_copies_is_its_own_recorded_configuration(store: Store, tmp_path) -> None:
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    options = {"max_iterations": "10"}
    plain = train_tagger(store, "en", out=tmp_path / "plain", options=options)
    titled = train_tagger(store, "en", out=tmp_path / "titled", options=options, titled=True)

    assert titled.run_id != plain.run_id and not titled.replaced  # another configuration, not a retraining
    assert titled.sentences == plain.sentences  # the corpus's own sentences; the copies are counted apart
    runs = {run.id: run for run in list_training_runs(store)}
    assert runs[titled.run_id].config["titled_copies"] is True and "titled_copies" not in runs[plain.run_id].config
    assert 0 < runs[titled.run_id].data_sizes["titled_copies"] <= plain.sentences
