"""Alignment refinement through pivot sentences: the pure compose/combine functions and the refine service."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import shared, write
from xner.cli import app
from xner.engine.align import ALIGNERS
from xner.engine.align.compose import COMBINE_MODES, REFINE_MODES, combine, compose, refine_links, vote
from xner.errors import UnknownNameError, XnerError
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import get_corpus
from xner.services.evaluating import evaluate_projection
from xner.services.importing import import_alignments, import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.services.refining import (
    REFINED_ALIGNER,
    Refinement,
    compose_via,
    leg_aligner,
    refine_alignment,
    refine_with,
    store_refinement,
)
from xner.store.models import AlignmentRun
from xner.types import Alignment

runner = CliRunner()

# --- compose ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src_pivot", "pivot_tgt", "expected"),
    [
        ({(0, 0), (1, 1)}, {(0, 0), (1, 1)}, {(0, 0), (1, 1)}),
        ({(0, 1), (1, 0)}, {(0, 0), (1, 1)}, {(0, 1), (1, 0)}),  # pivot word order swapped: links still meet
        ({(0, 0), (0, 1)}, {(0, 2), (1, 3)}, {(0, 2), (0, 3)}),  # one source word, two pivot words
        ({(0, 0), (1, 0)}, {(0, 5)}, {(0, 5), (1, 5)}),  # two source words, one pivot word
        ({(0, 0), (1, 1)}, {(0, 0)}, {(0, 0)}),  # pivot word 1 is unaligned to the target: source 1 gets nothing
        ({(2, 7)}, set(), set()),
        (set(), {(0, 0)}, set()),
    ],
)
def test_compose_chains_links_through_the_pivot(src_pivot, pivot_tgt, expected):
    assert compose(src_pivot, pivot_tgt) == expected


def test_compose_takes_alignments_with_their_possible_links():
    src_pivot = Alignment(sure=frozenset({(0, 0)}), possible=frozenset({(1, 1)}))
    assert compose(src_pivot, Alignment(sure=frozenset({(0, 1), (1, 0)}))) == {(0, 1), (1, 0)}


# --- combine ------------------------------------------------------------------------------------------------------

DIRECT = {(0, 0), (1, 2), (3, 3)}  # source 2 and targets 1, 4 unaligned
COMPOSED = {(0, 0), (1, 1), (2, 2), (3, 2), (3, 4), (2, 6)}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("intersection", {(0, 0)}),
        ("union", DIRECT | COMPOSED),
        # (1, 1): target 1 unaligned; (2, 2), (2, 6): source 2 unaligned; (3, 4): target 4; not (3, 2): both aligned
        ("fill", DIRECT | {(1, 1), (2, 2), (3, 4), (2, 6)}),
        ("fill-and", DIRECT | {(2, 6)}),  # the only composed link with both ends unaligned
        # grown from the direct links: (1, 1) and (2, 2) touch (1, 2); (3, 4) touches (3, 3); (2, 6) touches none
        ("grow", DIRECT | {(1, 1), (2, 2), (3, 4)}),
        # (1, 2) is contradicted (the pivot aligns source 1 to 1 and target 2 to sources 2, 3); (3, 3) is not
        # contradicted because no composed link reaches target 3
        ("prune", {(0, 0), (3, 3)}),
    ],
)
def test_combine_modes_on_a_hand_made_case(mode, expected):
    assert combine(DIRECT, COMPOSED, mode) == expected


@pytest.mark.parametrize("mode", COMBINE_MODES)
def test_combine_with_nothing_composed(mode):
    expected = set() if mode == "intersection" else DIRECT
    assert combine(DIRECT, set(), mode) == expected


@pytest.mark.parametrize("mode", COMBINE_MODES)
def test_combine_without_direct_links(mode):
    expected = set() if mode in ("intersection", "prune", "grow") else COMPOSED
    assert combine(set(), COMPOSED, mode) == expected


def test_fill_never_changes_an_aligned_token():
    filled = combine(DIRECT, COMPOSED, "fill")
    for i, j in filled - DIRECT:
        assert i not in {s for s, _ in DIRECT} or j not in {t for _, t in DIRECT}
    assert DIRECT <= filled <= DIRECT | COMPOSED


def test_unknown_combine_mode_lists_the_modes():
    with pytest.raises(UnknownNameError, match="unknown combine mode 'majority'; known: fill, fill-and, grow"):
        combine(DIRECT, COMPOSED, "majority")
    with pytest.raises(UnknownNameError, match="vote"):
        refine_links(DIRECT, [COMPOSED], "majority")


@pytest.mark.parametrize(
    ("min_votes", "expected"),
    [(None, {(0, 0), (1, 1)}), (1, {(0, 0), (1, 1), (2, 2), (3, 3)}), (3, {(0, 0)})],
)
def test_vote(min_votes, expected):
    alignments = [{(0, 0), (1, 1)}, {(0, 0), (1, 1), (2, 2)}, {(0, 0), (3, 3)}]
    assert vote(alignments, min_votes=min_votes) == expected


@pytest.mark.parametrize("bad", [0, 4])
def test_vote_bounds(bad):
    with pytest.raises(XnerError, match=f"between 1 and 3 .*got {bad}"):
        vote([set(), set(), set()], min_votes=bad)


def test_refine_links_vote_counts_the_direct_links_and_each_pivot():
    direct, via_a, via_b = {(0, 0), (1, 1)}, {(0, 0), (1, 2)}, {(1, 2), (2, 2)}
    assert refine_links(direct, [via_a, via_b], "vote") == {(0, 0), (1, 2)}
    assert refine_links(direct, [via_a, via_b], "union") == direct | via_a | via_b
    assert refine_links(direct, [via_a], "vote") == {(0, 0)}  # two voters: both must agree
    assert set(REFINE_MODES) == {*COMBINE_MODES, "vote"}


# --- service on hand-made corpora with a deterministic aligner ----------------------------------------------------


@dataclass
class DiagonalAligner:
    """Test aligner: links token i to token i + shift (where both exist)."""

    name: ClassVar[str] = "diagonal"
    shift: int = 0

    def align(self, pairs, *, extra=(), on_progress=None):
        result = []
        for src, tgt in pairs:
            links = {(i, i + self.shift) for i in range(len(src)) if 0 <= i + self.shift < len(tgt)}
            result.append(Alignment(sure=frozenset(links)))
        if on_progress:
            on_progress(len(pairs), len(pairs))
        return result


SOURCES = ["a b c", "d e", "f g h i"]
DIRECT_LINKS = "0-0 2-2\n0-0 1p1\n0-0 1-1 3-2\n"


def _parallel(store, tmp_path, name, sources, targets, tgt_lang):
    text = "".join(f"{s}\t{t}\n" for s, t in zip(sources, targets, strict=True))
    path = write(tmp_path / f"{name}.tsv", text)
    pretokenized = dict(pretokenized=True, format="text")
    import_parallel(
        store,
        path,
        None,
        corpus=name,
        src=SideOptions("en", **pretokenized),
        tgt=SideOptions(tgt_lang, **pretokenized),
        split="test",
    )


@pytest.fixture
def small(store, tmp_path, monkeypatch):
    """Corpus ``ende`` with a direct run (1) and pivot corpus ``enxx`` over the same English sentences."""
    monkeypatch.setitem(ALIGNERS, "diagonal", DiagonalAligner)
    _parallel(store, tmp_path, "ende", SOURCES, ["A B C", "D E", "F G H I"], "de")
    _parallel(store, tmp_path, "enxx", SOURCES, ["x y z", "u v", "p q r s"], "xx")
    report = import_alignments(store, write(tmp_path / "direct.txt", DIRECT_LINKS), corpus="ende", aligner="manual")
    assert report.run_id == 1
    return store


def _stored(store, corpus, run_id):
    with store.session() as session:
        return [
            p.alignment.to_pharaoh() for p in iter_pairs(session, get_corpus(session, corpus), alignment_run=run_id)
        ]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("fill", ["0-0 1-1 2-2", "0-0 1p1", "0-0 1-1 2-2 3-2 3-3"]),
        ("intersection", ["0-0 2-2", "0-0 1p1", "0-0 1-1"]),  # the possible mark of 1p1 survives
        ("union", ["0-0 1-1 2-2", "0-0 1p1", "0-0 1-1 2-2 3-2 3-3"]),
        ("prune", ["0-0 2-2", "0-0 1p1", "0-0 1-1"]),  # 3-2 contradicted by 2-2 and 3-3
    ],
)
def test_refine_stores_a_new_run_with_its_params(small, mode, expected):
    report = refine_alignment(small, "ende", via="enxx", aligner="diagonal", combine=mode, created_by="me")
    assert (report.aligner, report.pairs, report.run_id) == (REFINED_ALIGNER, 3, 2)
    assert _stored(small, "ende", report.run_id) == expected
    assert report.links == sum(len(line.split()) for line in expected)
    with small.session() as session:
        run = session.get(AlignmentRun, report.run_id)
        assert (run.aligner, run.created_by) == ("backtranslation", "me")
        assert run.params == report.params
    leg = {"aligner": "diagonal", "shift": 0, "extra_pairs": 0}
    assert report.params == {
        "base_run": 1,
        "base_aligner": "manual",
        "combine": mode,
        "via": ["enxx"],
        "legs": {"enxx": {"src_pivot": leg, "pivot_tgt": leg}},
    }


def test_refine_with_a_stored_source_pivot_run_and_leg_options(small, tmp_path):
    via_run = import_alignments(
        small, write(tmp_path / "via.txt", "0-1 1-0\n\n0-3\n"), corpus="enxx", aligner="manual"
    ).run_id
    progress = []
    report = refine_alignment(
        small,
        "ende",
        via="enxx",
        via_run=via_run,
        alignment_run=1,
        aligner="diagonal",
        options={"shift": "1"},  # options as text, as from the CLI
        combine="union",
        on_progress=lambda done, total: progress.append((done, total)),
    )
    # pivot→target shifted by one: 0→1→2, 1→0→1; pair 3: 0→3→(none: target has 4 tokens)
    assert _stored(small, "ende", report.run_id) == ["0-0 0-2 1-1 2-2", "0-0 1p1", "0-0 1-1 3-2"]
    assert report.params["legs"]["enxx"] == {
        "src_pivot": {"run": via_run, "aligner": "manual"},
        "pivot_tgt": {"aligner": "diagonal", "shift": 1, "extra_pairs": 0},
    }
    assert progress[-1] == (3, 3)  # one leg aligned here


def test_several_pivots_vote(small):
    composition = compose_via(small, "ende", via="enxx", aligner="diagonal")
    assert composition.links == [{(0, 0), (1, 1), (2, 2)}, {(0, 0), (1, 1)}, {(0, 0), (1, 1), (2, 2), (3, 3)}]
    report = store_refinement(small, "ende", [composition, composition], combine="vote")
    # three voters (direct + twice the same pivot): the pivot's links win, direct-only 3-2 loses
    assert _stored(small, "ende", report.run_id) == ["0-0 1-1 2-2", "0-0 1p1", "0-0 1-1 2-2 3-3"]
    assert (report.params["via"], report.params["min_votes"]) == (["enxx", "enxx"], 2)
    with pytest.raises(XnerError, match="min_votes is an option of the combine mode 'vote'"):
        store_refinement(small, "ende", composition, combine="fill", min_votes=1)
    stale = dataclasses.replace(composition, pair_ids=composition.pair_ids[:2])
    with pytest.raises(XnerError, match="compose again"):
        store_refinement(small, "ende", stale)


def test_pivot_corpus_with_other_sources_is_an_error_naming_the_pair(small, tmp_path):
    _parallel(small, tmp_path, "other", ["a b c", "d X", "f g h i"], ["x", "y", "z"], "xx")
    with pytest.raises(XnerError, match=r"pair 2 \(split 'test', position 1 in 'ende'\).*'d e' vs 'd X'"):
        refine_alignment(small, "ende", via="other", aligner="diagonal")
    _parallel(small, tmp_path, "short", SOURCES[:2], ["x", "y"], "xx")
    with pytest.raises(XnerError, match=r"it has 2 pairs and 'ende' has 3; pair 3 of 'ende' .*position 2"):
        refine_alignment(small, "ende", via="short", aligner="diagonal")
    with pytest.raises(UnknownNameError, match="unknown combine mode 'majority'"):
        refine_alignment(small, "ende", via="enxx", combine="majority")
    with pytest.raises(UnknownNameError, match="unknown corpus 'nope'"):
        refine_alignment(small, "ende", via="nope", aligner="diagonal")
    with pytest.raises(XnerError, match="has no alignment run 9"):
        refine_alignment(small, "ende", via="enxx", aligner="diagonal", via_run=9)
    with pytest.raises(XnerError, match="via_run replaces"):
        refine_alignment(small, "ende", via="enxx", aligner="diagonal", via_run=1, extra=[(["a"], ["x"])])
    with small.session() as session:
        assert session.scalar(select(func.count()).select_from(AlignmentRun)) == 1  # nothing stored by the failures


def test_legs_are_aligned_like_the_direct_run(small):
    assert leg_aligner(small, "ende") == ("eflomal", {})  # an imported run: eflomal defaults
    direct = align_corpus(small, "ende", aligner="diagonal", options={"shift": "1"}).run_id
    assert leg_aligner(small, "ende") == ("diagonal", {"shift": 1})  # run params beyond the options are dropped
    assert leg_aligner(small, "ende", alignment_run=1) == ("eflomal", {})
    report = refine_with(small, "ende", Refinement(via="enxx", combine="union"), alignment_run=direct)
    assert report.params["legs"]["enxx"]["pivot_tgt"] == {"aligner": "diagonal", "shift": 1, "extra_pairs": 0}


def test_project_over_a_refined_run(small):
    """The projection reads a new refined run that records its base (the links themselves: tests above)."""
    direct = align_corpus(small, "ende", aligner="diagonal").run_id
    plain = project_corpus(small, "ende", alignment_run=direct)
    refined = project_corpus(small, "ende", alignment_run=direct, refine=Refinement(via="enxx", combine="fill"))
    assert (plain.refined_from, refined.refined_from) == (None, direct)
    assert refined.alignment_run not in (direct, plain.alignment_run)
    with small.session() as session:
        assert session.get(AlignmentRun, refined.alignment_run).params["base_run"] == direct


def test_project_refine_on_the_command_line(small, tmp_path):
    db = str(tmp_path / "test.db")
    align_corpus(small, "ende", aligner="diagonal")
    result = runner.invoke(
        app, ["project", "--corpus", "ende", "--refine", "backtranslation", "--via", "enxx", "--db", db, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["refined_from"] == 2 and report["alignment_run"] == 3
    for args, message in [
        (["--refine", "backtranslation"], "needs --via CORPUS"),
        (["--via", "enxx"], "--via and --via-run go with --refine backtranslation"),
        (["--refine", "pivot", "--via", "enxx"], "unknown refinement 'pivot'"),
        (["--refine", "backtranslation", "--via", "enxx", "--combine", "and"], "unknown combine mode 'and'"),
        (["--refine", "backtranslation", "--via", "nope"], "unknown corpus 'nope'"),
    ]:
        failed = runner.invoke(app, ["project", "--corpus", "ende", "--db", db, *args])
        assert failed.exit_code != 0 and message in failed.output, (args, failed.output)


# --- real data: Europarl EN-DE refined through the Spanish translations of the same sentences ---------------------


FAST = {"symmetrization": "intersection", "n_samplers": 1}  # one sampler: a few seconds per run of 799 pairs


@pytest.fixture(scope="module")
def europarl(tmp_path_factory):
    """EN-DE and EN-ES Europarl gold (799 pairs each, same English), EN-DE aligned directly by eflomal."""
    from xner.store.db import open_store

    files = {lang: shared("europarl_ner_ixa", f"{lang}-europarl.test.conll02") for lang in ("en", "de", "es")}
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('refine') / 'ep.db'}")
    for lang in ("de", "es"):
        import_parallel(
            store,
            files["en"],
            files[lang],
            corpus=f"en-{lang}",
            src=SideOptions("en"),
            tgt=SideOptions(lang),
            split="test",
        )
    es_de = {"src": SideOptions("es"), "tgt": SideOptions("de"), "split": "test"}
    import_parallel(store, files["es"], files["de"], corpus="es-de", **es_de)
    from xner.services.aligning import align_corpus

    direct = align_corpus(store, "en-de", options=FAST).run_id
    yield store, direct
    store.dispose()


@pytest.mark.slow  # Europarl aligned three ways (~70 s)
def test_europarl_refined_via_spanish(europarl):
    store, direct = europarl
    composition = compose_via(store, "en-de", via="en-es", options=FAST)
    assert len(composition.links) == 799
    fill = store_refinement(store, "en-de", composition, combine="fill")
    # the default base is the newest run, now the refined one: name the direct run to combine it again
    both = store_refinement(store, "en-de", composition, combine="intersection", alignment_run=direct)
    assert fill.params["base_run"] == both.params["base_run"] == direct
    assert fill.params["legs"]["en-es"]["pivot_tgt"]["symmetrization"] == "intersection"
    with store.session() as session:
        found = get_corpus(session, "en-de")
        runs = session.scalars(select(AlignmentRun.aligner).where(AlignmentRun.corpus_id == found.id))
        assert list(runs) == [
            "eflomal",
            "backtranslation",
            "backtranslation",
        ]
        pairs = {run: list(iter_pairs(session, found, alignment_run=run)) for run in (direct, fill.run_id, both.run_id)}
    agree = composed_total = 0
    for base, filled, kept, links in zip(
        pairs[direct], pairs[fill.run_id], pairs[both.run_id], composition.links, strict=True
    ):
        assert all(i < len(base.src_tokens) and j < len(base.tgt_tokens) for i, j in filled.alignment.links | links)
        assert kept.alignment.links <= base.alignment.links <= filled.alignment.links
        agree += len(links & base.alignment.links)
        composed_total += len(links)
    # links through Spanish mostly agree with the direct EN-DE ones: a shifted index would make this near zero
    assert composed_total > 5000 and agree / composed_total > 0.6
    assert fill.links > sum(len(p.alignment.links) for p in pairs[direct])
    f1 = evaluate_projection(store, "en-de", run_id=project_corpus(store, "en-de", alignment_run=fill.run_id).run_id)
    assert f1.scores["overall"]["f1"] > 0.7


@pytest.mark.slow  # the Europarl fixture above
def test_europarl_pivot_with_another_source_language_is_refused(europarl):
    store, _ = europarl
    with pytest.raises(XnerError, match=r"'es-de' cannot serve as pivot of 'en-de'.*pair 1 \(split 'test', position 0"):
        refine_alignment(store, "en-de", via="es-de")
