"""The eflomal aligner's streaming path: the input files it writes a pair at a time are the ones eflomal's own
``Aligner`` writes from the whole text in memory; the links come back per pair, in order, with the direction of each
file right; pairs with an empty side get none; extra text (joint and priors) is read once, as it comes."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from tests.conftest import DEMO, shared
from xner.engine.align import ALIGNERS, DirectionalAligner, symmetrize
from xner.engine.align.eflomal_aligner import EflomalAligner, _write_text
from xner.formats.parallel import iter_bitext

eflomal = pytest.importorskip("eflomal")

QUICK = {"n_samplers": 1, "rel_iterations": 0.3}


def demo_pairs() -> list[tuple[list[str], list[str]]]:
    """The 100 demo pairs' tokens (first column of data/demo/en.conll and es.conll)."""
    sides = []
    for name in ("en.conll", "es.conll"):
        sentences, tokens = [], []
        for line in (DEMO / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                tokens.append(line.split()[0])
            elif tokens:
                sentences.append(tokens)
                tokens = []
        if tokens:
            sentences.append(tokens)
        sides.append(sentences)
    assert len(sides[0]) == len(sides[1]) == 100
    return list(zip(*sides, strict=True))


def europarl_pairs(limit: int) -> list[tuple[list[str], list[str]]]:
    folder = shared("parallel_europarl", "en-de")
    return [(list(s), list(t)) for s, t in islice(iter_bitext(folder / "train.en", folder / "train.de"), limit)]


def eflomals_own_files(pairs, tmp_path: Path, prefix: int) -> tuple[list[str], list[str]]:
    """The indexed text eflomal 2.0's ``Aligner.prepare_files`` writes for ``pairs`` (it reads the whole text)."""
    aligner = eflomal.Aligner(source_prefix_len=prefix, target_prefix_len=prefix)
    src_lines = [" ".join(s) + "\n" for s, _ in pairs]
    tgt_lines = [" ".join(t) + "\n" for _, t in pairs]
    paths = tmp_path / "own.src", tmp_path / "own.tgt"
    with open(paths[0], "wb") as src_out, open(paths[1], "wb") as tgt_out:
        aligner.prepare_files(src_lines, src_out, tgt_lines, tgt_out, None, None)
    return paths[0].read_text().splitlines(), paths[1].read_text().splitlines()


@pytest.mark.parametrize("source", ["demo", "europarl"])
@pytest.mark.parametrize("prefix", [0, 4])
def test_input_files_are_the_ones_eflomal_writes_itself(tmp_path: Path, source: str, prefix: int) -> None:
    pairs = demo_pairs() if source == "demo" else europarl_pairs(3000)
    own_src, own_tgt = eflomals_own_files(pairs, tmp_path, prefix)
    folder = tmp_path / "streamed"
    folder.mkdir()
    text = _write_text(str(folder), iter(pairs), (), (prefix, prefix))
    for path, own in ((text.src_path, own_src), (text.tgt_path, own_tgt)):
        lines = Path(path).read_text().splitlines()
        assert lines[0].split() == own[0].split()  # the header, padded: "sentences vocabulary"
        assert lines[1:] == own[1:]
    assert (text.pairs, text.sentences, len(text.kept)) == (len(pairs), len(pairs), len(pairs))
    assert len(text.src_index) == int(own_src[0].split()[1])


def test_links_come_back_per_pair_in_order_with_each_direction_right() -> None:
    pairs = demo_pairs()
    # pairs with an empty side are not given to eflomal and get no links; the rest keep their places
    given = [*pairs[:10], ([], pairs[10][1]), *pairs[11:50], (pairs[50][0], []), *pairs[51:]]
    consumed = []

    def stream() -> Iterator[tuple[list[str], list[str]]]:
        for pair in given:
            consumed.append(pair)
            yield pair

    aligner = EflomalAligner(**QUICK)
    assert isinstance(aligner, DirectionalAligner)
    with aligner.aligned_links(stream()) as links:
        assert len(consumed) == len(given)  # read once, before the first links
        result = list(links)
    assert len(result) == len(given)
    assert result[10] == result[50] == (frozenset(), frozenset())
    for (src, tgt), (forward, reverse) in zip(given, result, strict=True):
        if not (src and tgt):
            continue
        assert forward and reverse
        assert all(i < len(src) and j < len(tgt) for i, j in forward | reverse)
        # forward: each target word picks at most one source word; reverse: each source word one target word
        assert len({j for _, j in forward}) == len(forward)
        assert len({i for i, _ in reverse}) == len(reverse)
    # the list interface (another sample: eflomal has no seed) keeps the empty pairs' places too
    alignments = ALIGNERS.create("eflomal", {**QUICK, "symmetrization": "intersection"}).align(given)
    assert len(alignments) == len(given)
    assert [k for k, a in enumerate(alignments) if not a.links] == [10, 50]


def test_symmetrised_links_are_the_symmetrisation_of_the_directional_ones() -> None:
    pairs = demo_pairs()
    aligner = EflomalAligner(**QUICK)
    with aligner.aligned_links(pairs) as links:
        both = list(links)
    for method in ("intersection", "union", "grow-diag-final-and"):
        for forward, reverse in both:
            made = symmetrize(forward, reverse, method)
            assert forward & reverse <= made <= forward | reverse


@pytest.mark.parametrize("mode", ["joint", "priors"])
def test_extra_text_is_read_once_as_it_comes(mode: str) -> None:
    pairs = demo_pairs()
    extra = europarl_pairs(2000)
    read = 0

    def stream() -> Iterator[tuple[list[str], list[str]]]:
        nonlocal read
        for pair in extra:
            read += 1
            yield pair

    phases: list[str] = []
    aligner = EflomalAligner(**QUICK, extra_mode=mode)
    with aligner.aligned_links(pairs, extra=stream(), on_phase=phases.append) as links:
        result = list(links)
    assert read == len(extra)
    assert len(result) == len(pairs) and all(f and r for f, r in result)
    if mode == "priors":
        assert phases[0] == "eflomal: aligning 2,000 extra pairs for priors"
        assert phases[-1] == "eflomal: sampling forward and reverse links of 100 pairs (1 samplers)"
    else:
        assert phases == ["eflomal: sampling forward and reverse links of 100 pairs + 2,000 extra (1 samplers)"]


def test_nothing_to_align_gives_empty_links() -> None:
    with EflomalAligner(**QUICK).aligned_links([([], ["a"]), (["b"], [])]) as links:
        assert list(links) == [(frozenset(), frozenset())] * 2
