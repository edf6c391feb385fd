"""The align use case's streamed eflomal runs and ``symmetrize_run``: each eflomal run stores the forward and
reverse links of every pair beside the symmetrised ones, and another symmetrisation is derived from them as a new run
without aligning again: exactly the intersection of the stored directions, and back to grow-diag-final-and exactly
the original run. Runs without directions (imported gold) are a clear error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.conftest import DEMO as DEMO_DIR
from tests.conftest import FAST_EFLOMAL, import_europarl
from xner.engine.align import symmetrize
from xner.errors import UnknownNameError, XnerError
from xner.formats.parallel import SideOptions
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.aligning import align_corpus, symmetrize_run
from xner.services.demo import load_demo
from xner.services.importing import import_parallel
from xner.store.db import Store
from xner.store.models import Alignment, AlignmentRun, Corpus, SentencePair

DEMO = "demo-en-es"
GDFA = {**FAST_EFLOMAL, "symmetrization": "grow-diag-final-and"}
Links = frozenset[tuple[int, int]]


def stored(store: Store, run: int) -> dict[int, tuple[Links, Links | None, Links | None]]:
    """Run ``run``'s rows by pair id: (links, forward, reverse), read straight from the table."""

    def links(text: str | None) -> Links | None:
        return None if text is None else parse_pharaoh_line(text).sure

    with store.session() as session:
        rows = session.execute(
            select(Alignment.pair_id, Alignment.links, Alignment.forward, Alignment.reverse).where(
                Alignment.run_id == run
            )
        )
        return {pair_id: (parse_pharaoh_line(text).sure, links(f), links(r)) for pair_id, text, f, r in rows}


def run_params(store: Store, run: int) -> dict:
    with store.session() as session:
        return dict(session.get(AlignmentRun, run).params)


@pytest.fixture
def demo(store: Store) -> Store:
    load_demo(store, ready_to_review=False)  # alignment run 1: the imported gold, no directions
    return store


def test_an_eflomal_run_stores_both_directions_and_its_links_are_their_symmetrisation(demo: Store) -> None:
    report = align_corpus(demo, DEMO, options=GDFA)
    rows = stored(demo, report.run_id)
    assert len(rows) == report.pairs == 100
    assert sum(len(links) for links, _, _ in rows.values()) == report.links
    for links, forward, reverse in rows.values():
        assert forward is not None and reverse is not None and forward and reverse
        assert links == symmetrize(forward, reverse, "grow-diag-final-and")
    # imported runs have none
    assert {f for _, f, _ in stored(demo, 1).values()} == {None}


@pytest.fixture(scope="module")
def europarl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int]]:
    """Europarl EN-DE (799 real pairs) aligned once by eflomal, grow-diag-final-and."""
    from xner.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('ep') / 'ep.db'}")
    import_europarl(store)
    yield store, align_corpus(store, "ep", options=GDFA).run_id
    store.dispose()


@pytest.mark.slow  # eflomal on real Europarl (~20 s)
def test_symmetrize_derives_the_intersection_and_back_the_original_run(europarl: tuple[Store, int]) -> None:
    store, original = europarl
    rows = stored(store, original)
    assert len(rows) == 799
    progress: list[tuple[int, int]] = []
    meet = symmetrize_run(store, "ep", original, method="intersection", on_progress=lambda *a: progress.append(a))
    assert progress[0] == (0, 799) and progress[-1] == (799, 799)
    derived = stored(store, meet.run_id)
    assert derived.keys() == rows.keys()
    for pair_id, (_, forward, reverse) in rows.items():
        assert forward is not None and reverse is not None
        assert derived[pair_id][0] == forward & reverse  # exactly the intersection of the stored directions
        assert derived[pair_id][1:] == (None, None)  # a derived run reads its origin's directions
    assert meet.links == sum(len(f & r) for _, f, r in rows.values() if f is not None and r is not None)
    assert meet.links < sum(len(links) for links, _, _ in rows.values())
    params = run_params(store, meet.run_id)
    assert (params["symmetrization"], params["derived_from"]) == ("intersection", original)
    assert {k: v for k, v in params.items() if k not in ("symmetrization", "derived_from")} == {
        k: v for k, v in run_params(store, original).items() if k != "symmetrization"
    }

    # back to grow-diag-final-and: the original run's links, from the original or from the derived run
    for source in (original, meet.run_id):
        back = symmetrize_run(store, "ep", source, method="grow-diag-final-and")
        assert run_params(store, back.run_id)["derived_from"] == original
        assert {pair: links for pair, (links, _, _) in stored(store, back.run_id).items()} == {
            pair: links for pair, (links, _, _) in rows.items()
        }
    # the directional methods give the stored directions themselves
    forward = symmetrize_run(store, "ep", original, method="forward")
    assert {p: links for p, (links, _, _) in stored(store, forward.run_id).items()} == {
        p: f for p, (_, f, _) in rows.items()
    }


def test_symmetrize_errors_name_the_problem(demo: Store) -> None:
    with pytest.raises(XnerError, match=r"alignment run 1 \(gold\) has no forward and reverse links to symmetrise"):
        symmetrize_run(demo, DEMO, 1, method="intersection")
    with pytest.raises(XnerError, match=r"corpus 'demo-en-es' has no alignment run 9 \(its alignment runs: 1\)"):
        symmetrize_run(demo, DEMO, 9, method="intersection")
    with pytest.raises(UnknownNameError, match="grow-diag-final-and"):
        symmetrize_run(demo, DEMO, 1, method="grow")
    with pytest.raises(UnknownNameError, match="corpus"):
        symmetrize_run(demo, "nope", 1, method="union")
    with demo.session() as session:
        runs = session.scalar(select(AlignmentRun.id).order_by(AlignmentRun.id.desc()).limit(1))
    assert runs == 1  # nothing was written


def test_a_run_of_some_splits_and_extra_text_from_a_corpus_are_streamed(store: Store) -> None:
    for split in ("train", "test"):
        import_parallel(
            store, DEMO_DIR / "en.conll", DEMO_DIR / "es.conll", corpus="c", src=SideOptions("en", "conll"),
            tgt=SideOptions("es", "conll"), split=split,
        )  # fmt: skip
        import_parallel(
            store, DEMO_DIR / "en.conll", DEMO_DIR / "es.conll", corpus="more", src=SideOptions("en", "conll"),
            tgt=SideOptions("es", "conll"), split=split,
        )  # fmt: skip
    phases: list[str] = []
    report = align_corpus(
        store, "c", options=FAST_EFLOMAL, splits=["test"], extra_corpus="more", on_phase=phases.append
    )
    assert report.pairs == 100 and report.params["splits"] == ["test"]
    assert report.params["extra_pairs"] == 200 and report.params["extra_text"] == ["corpus:more"]
    assert "eflomal: sampling forward and reverse links of 100 pairs + 200 extra (1 samplers)" in phases
    with store.session() as session:
        query = select(SentencePair.id).join(Corpus, Corpus.id == SentencePair.corpus_id)
        test_pairs = set(session.scalars(query.where(SentencePair.split == "test", Corpus.name == "c")))
    assert stored(store, report.run_id).keys() == test_pairs


@pytest.mark.slow  # a tiny random BERT over the 100 demo pairs: ~90 s on 2 loaded cores
def test_a_neural_run_aligns_in_memory_and_stores_no_directions(demo: Store, tmp_path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("simalign")
    from tests.tiny_models import build_tiny_bert, one_torch_thread

    texts = ["The President of Kenya visited Paris .", "El presidente de Kenia visitó París ."]
    model = build_tiny_bert(tmp_path / "bert", texts, vocab_size=60, max_positions=160)
    with one_torch_thread():
        report = align_corpus(demo, DEMO, aligner="simalign", options={"model": model, "method": "argmax"})
    rows = stored(demo, report.run_id)
    assert len(rows) == report.pairs == 100 and report.links == sum(len(links) for links, _, _ in rows.values())
    assert {(f, r) for _, f, r in rows.values()} == {(None, None)}
    with pytest.raises(XnerError, match=r"\(simalign\) has no forward and reverse links"):
        symmetrize_run(demo, DEMO, report.run_id, method="union")
