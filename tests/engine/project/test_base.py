"""The projector interface: declared capabilities, one binding step, batches everywhere."""

import pytest

from xner.engine.project import PROJECTORS
from xner.errors import UnknownNameError, XnerError
from xner.types import Sentence, Span

CAPABILITIES = ("needs_alignment", "needs_source_entities", "needs_tagger", "needs_languages")


@pytest.mark.parametrize("name", sorted(PROJECTORS))
def test_every_projector_declares_its_capabilities_and_binds_in_one_step(name):
    projector = PROJECTORS.create(name)
    assert all(isinstance(getattr(type(projector), flag), bool) for flag in CAPABILITIES)
    assert projector.bind(src_lang="en", tgt_lang="es") is projector
    assert callable(projector.project_batch)


@pytest.mark.parametrize(
    ("name", "declared"),
    [
        ("heuristic", (True, True, False, False)),
        ("ngram", (True, True, False, False)),
        ("model", (True, True, True, False)),
        ("model-transfer", (False, False, True, False)),
        ("easyproject", (False, True, False, True)),
    ],
)
def test_what_each_method_needs(name, declared):
    assert tuple(getattr(PROJECTORS[name], flag) for flag in CAPABILITIES) == declared


def test_a_batch_is_each_pair_projected_alone():
    src = Sentence(("the", "European", "Parliament", "met", "Obama"), (Span(1, 3, "ORG"), Span(4, 5, "PER")))
    tgt = ["el", "Parlamento", "Europeo", "vio", "a", "Obama"]
    links = {(0, 0), (1, 2), (2, 1), (3, 3), (4, 5)}
    for name in ("heuristic", "ngram"):
        projector = PROJECTORS.create(name)
        one = projector.project(src, tgt, links)
        assert projector.project_batch([src, src], [tgt, tgt], [links, links]) == [one, one]
        assert [p.span for p in one] == [Span(1, 3, "ORG"), Span(5, 6, "PER")]


def test_binding_fills_the_languages_the_options_leave_empty():
    chosen = PROJECTORS.create("easyproject", {"tgt_lang": "yo"}).bind(src_lang="en", tgt_lang="es")
    assert (chosen.src_lang, chosen.tgt_lang) == ("en", "yo")


def test_the_tagger_folder_is_asked_for_by_name():
    with pytest.raises(XnerError, match=r"model-transfer method needs a trained source-language tagger: -o model=DIR"):
        PROJECTORS.create("model-transfer").tagger_folder()
    assert PROJECTORS.create("model", {"model": "runs/yo"}).tagger_folder() == "runs/yo"


def test_an_unknown_method_lists_the_known_ones():
    with pytest.raises(
        UnknownNameError, match=r"unknown projection method 'heuristics'; known: easyproject, heuristic"
    ):
        PROJECTORS.lookup("heuristics")
