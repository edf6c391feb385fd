"""eflomal: fast statistical alignment (Östling & Tiedemann 2016), CPU only, no model needed.

eflomal learns from the text it aligns, so more parallel text helps: ``extra`` pairs (e.g. Europarl or MAFAND-MT)
are either aligned jointly with the corpus (``extra_mode="joint"``: best quality) or first aligned alone to derive
Dirichlet priors that then guide the corpus alignment (``extra_mode="priors"``: the eflomal way to reuse a large
text without re-aligning it each time). The forward and reverse alignments are symmetrised by ``symmetrization``.

Memory stays bounded however large the corpus: :meth:`EflomalAligner.aligned_links` writes the pairs into eflomal's
input files as they come (only the vocabularies are held) and reads the link files back a line at a time.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import tee
from typing import Any, ClassVar, Literal, TextIO

from xner.engine.align.base import ALIGNERS, DirectionalLinks, PhaseFn, TokenPair
from xner.engine.align.symmetrize import symmetrize
from xner.errors import MissingDependencyError
from xner.types import Alignment, Link, ProgressFn

Symmetrization = Literal[
    "grow-diag-final-and", "grow-diag-final", "grow-diag", "intersection", "union", "forward", "reverse"
]


@ALIGNERS.register("eflomal")
@dataclass
class EflomalAligner:
    """Options:

    symmetrization: how forward and reverse links combine.
    model: 1 = IBM1, 2 = + HMM, 3 = + fertility (eflomal's default and best).
    n_samplers: independent samplers whose results are averaged (more: steadier, slower).
    rel_iterations: iterations relative to eflomal's default schedule.
    null_prior: prior probability of a word aligning to nothing.
    src_prefix_len / tgt_prefix_len: align on the first N characters of each word (a crude stemmer that helps
        morphologically rich languages); 0 keeps whole words. eflomal always lowercases.
    extra_mode: how ``extra`` text is used: ``joint`` or ``priors``.
    """

    name: ClassVar[str] = "eflomal"
    symmetrization: Symmetrization = "grow-diag-final-and"
    model: int = 3
    n_samplers: int = 3
    rel_iterations: float = 1.0
    null_prior: float = 0.2
    src_prefix_len: int = 0
    tgt_prefix_len: int = 0
    extra_mode: Literal["joint", "priors"] = "joint"

    def align(
        self,
        pairs: Sequence[TokenPair],
        *,
        extra: Sequence[TokenPair] = (),
        on_progress: ProgressFn | None = None,
        on_phase: PhaseFn | None = None,
    ) -> list[Alignment]:
        if on_progress:
            on_progress(0, len(pairs))
        with self.aligned_links(pairs, extra=extra, on_phase=on_phase) as links:
            result = [Alignment(sure=frozenset(symmetrize(f, r, self.symmetrization))) for f, r in links]
        if on_progress:
            on_progress(len(pairs), len(pairs))
        return result

    def directional(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = ()
    ) -> tuple[list[frozenset[Link]], list[frozenset[Link]]]:
        """Forward and reverse links of each pair (before symmetrisation); empty pairs get none."""
        with self.aligned_links(pairs, extra=extra) as links:
            both = list(links)
        return [f for f, _ in both], [r for _, r in both]

    @contextmanager
    def aligned_links(
        self,
        pairs: Iterable[TokenPair],
        *,
        extra: Iterable[TokenPair] = (),
        priors: str | None = None,
        on_phase: PhaseFn | None = None,
    ) -> Iterator[Iterator[DirectionalLinks]]:
        """Align ``pairs`` in bounded memory; yields an iterator of their ``(forward, reverse)`` links, in order.

        ``pairs`` and ``extra`` are read once, as they come, into eflomal's input files (its indexed text, written
        here a sentence at a time: only the vocabulary stays in memory); eflomal's C sampler runs as a child
        process; the iterator then reads its two link files a line at a time. A pair with an empty side is not
        given to eflomal and gets no links. The files live in a temporary folder until the ``with`` block ends.
        ``priors``: the text of a priors file (:meth:`learn_priors`) that guides the sampler instead of ``extra``'s.
        """
        phase = on_phase or (lambda text: None)
        with tempfile.TemporaryDirectory(prefix="xner-eflomal-") as folder:
            priors_path = None
            if priors:
                priors_path = os.path.join(folder, "priors")
                with open(priors_path, "w", encoding="utf-8") as handle:
                    handle.write(priors)
            elif self.extra_mode == "priors":
                priors_path = self._priors(extra, folder, phase)
                extra = ()
            text = _write_text(folder, pairs, extra, (self.src_prefix_len, self.tgt_prefix_len))
            fwd_path, rev_path = os.path.join(folder, "fwd"), os.path.join(folder, "rev")
            if text.sentences:
                phase(_sampling_phase(text.pairs, text.sentences - text.pairs, self.n_samplers))
                self._run(text, fwd_path, rev_path, priors_path)
            else:  # nothing to align
                for path in (fwd_path, rev_path):
                    open(path, "w").close()
            with open(fwd_path, encoding="utf-8") as fwd, open(rev_path, encoding="utf-8") as rev:
                yield _links_per_pair(text.kept, fwd, rev)

    def _run(self, text: _EflomalText, fwd_path: str, rev_path: str, priors: str | None) -> None:
        """eflomal's sampler over the written text (what ``eflomal.Aligner.align`` does after reading it in)."""
        eflomal = _eflomal()
        priors_path = None
        if priors:
            priors_path = os.path.join(os.path.dirname(text.src_path), "priors.indexed")
            src_index = eflomal.TextIndex(text.src_index, self.src_prefix_len)
            tgt_index = eflomal.TextIndex(text.tgt_index, self.tgt_prefix_len)
            with open(priors, encoding="utf-8") as handle, open(priors_path, "w", encoding="utf-8") as out:
                eflomal.to_eflomal_priors_file(eflomal.read_priors(handle), src_index, tgt_index, out)
        eflomal.align(
            text.src_path,
            text.tgt_path,
            links_filename_fwd=fwd_path,
            links_filename_rev=rev_path,
            priors_filename=priors_path,
            model=self.model,
            n_samplers=self.n_samplers,
            rel_iterations=self.rel_iterations,
            null_prior=self.null_prior,
        )

    def learn_priors(self, pairs: Iterable[TokenPair], *, on_phase: PhaseFn | None = None) -> str:
        """eflomal's priors (lexical, HMM jump and fertility counts) learnt by aligning ``pairs``, as the text of a
        priors file for :meth:`aligned_links` (empty without pairs): what shards aligned apart share."""
        with tempfile.TemporaryDirectory(prefix="xner-priors-") as folder:
            path = self._priors(pairs, folder, on_phase or (lambda text: None))
            if path is None:
                return ""
            with open(path, encoding="utf-8") as handle:
                return handle.read()

    def _priors(self, extra: Iterable[TokenPair], folder: str, phase: PhaseFn) -> str | None:
        """Align ``extra`` alone and write eflomal priors (lexical, HMM jump and fertility counts) from it into
        ``folder``; their path (None without extra text). The text is streamed through files, as in
        :meth:`aligned_links`."""
        lines = os.path.join(folder, "extra.src"), os.path.join(folder, "extra.tgt")
        with open(lines[0], "w", encoding="utf-8") as src_out, open(lines[1], "w", encoding="utf-8") as tgt_out:
            written = 0
            for src, tgt in extra:
                src_out.write(_line(src))
                tgt_out.write(_line(tgt))
                written += 1
        if not written:
            return None
        phase(f"eflomal: aligning {written:,} extra pairs for priors")
        eflomal = _eflomal()
        with (
            replace(self, extra_mode="joint").aligned_links(_read_pairs(*lines)) as links,
            open(lines[0], encoding="utf-8") as src_in,
            open(lines[1], encoding="utf-8") as tgt_in,
        ):
            fwd, rev = tee(links)  # read in step by calculate_priors's zip: one line buffered
            counts = eflomal.calculate_priors(
                src_in, tgt_in, (_pharaoh(f) for f, _ in fwd), (_pharaoh(r) for _, r in rev)
            )
        path = os.path.join(folder, "priors")
        with open(path, "w", encoding="utf-8") as handle:
            eflomal.write_priors(handle, *counts)
        return path


def _sampling_phase(pairs: int, extra: int, samplers: int) -> str:
    """What eflomal does in its one long step (it reports no progress of its own).

    >>> _sampling_phase(799, 27580, 3)
    'eflomal: sampling forward and reverse links of 799 pairs + 27,580 extra (3 samplers)'
    """
    more = f" + {extra:,} extra" if extra else ""
    return f"eflomal: sampling forward and reverse links of {pairs:,} pairs{more} ({samplers} samplers)"


def _line(tokens: Sequence[str]) -> str:
    # eflomal splits on whitespace: a token with a space inside (rare, from JSONL) must stay one token
    line = " ".join(tokens)
    if line.split() == list(tokens):  # the usual case, checked in C: no empty token, no space in one
        return line + "\n"
    return " ".join("_".join(token.split()) or "_" for token in tokens) + "\n"


def _pharaoh(links: Iterable[Link]) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(links))


_LINK = re.compile(r"(\d+)-(\d+)")
_HEADER = 40  # characters kept for an input file's header ("sentences vocabulary"), written last
_NO_LINKS: frozenset[Link] = frozenset()


@dataclass
class _EflomalText:
    """eflomal's indexed input as :func:`_write_text` wrote it."""

    src_path: str
    tgt_path: str
    src_index: dict[str, int]
    tgt_index: dict[str, int]
    kept: bytearray  # per pair of the corpus: 1 when given to eflomal, 0 when a side is empty
    pairs: int  # lines of the corpus's pairs (the extra pairs follow them)
    sentences: int  # lines in all


def _write_text(
    folder: str, pairs: Iterable[TokenPair], extra: Iterable[TokenPair], prefix_lens: tuple[int, int]
) -> _EflomalText:
    """eflomal's indexed input (the files ``eflomal.Aligner`` writes with ``read_text`` and ``write_text``), written
    a sentence pair at a time: ``count id id …`` per line, words lowercased and cut to their prefix, ids in order of
    first appearance. Only the two vocabularies stay in memory; the header, which needs the totals, goes into the
    space left for it at the top. Pairs with an empty side are left out."""
    text = _EflomalText(
        os.path.join(folder, "src.eflomal"), os.path.join(folder, "tgt.eflomal"), {}, {}, bytearray(), 0, 0
    )
    with open(text.src_path, "w", encoding="ascii") as src_out, open(text.tgt_path, "w", encoding="ascii") as tgt_out:
        for handle in (src_out, tgt_out):
            handle.write(" " * _HEADER + "\n")

        def add(src: Sequence[str], tgt: Sequence[str]) -> int:
            if not (len(src) and len(tgt)):
                return 0
            src_out.write(_indexed(src, text.src_index, prefix_lens[0]))
            tgt_out.write(_indexed(tgt, text.tgt_index, prefix_lens[1]))
            text.sentences += 1
            return 1

        for src, tgt in pairs:
            text.kept.append(add(src, tgt))
        text.pairs = text.sentences
        for src, tgt in extra:
            add(src, tgt)
        for handle, index in ((src_out, text.src_index), (tgt_out, text.tgt_index)):
            handle.seek(0)
            handle.write(f"{text.sentences} {len(index)}".ljust(_HEADER))  # eflomal reads "%zd %u", then spaces
    return text


def _indexed(tokens: Sequence[str], index: dict[str, int], prefix_len: int) -> str:
    """One sentence as eflomal's ``read_text``/``write_text`` write it; ``index`` gains its new words.

    >>> index = {}
    >>> _indexed(["The", "cat", "the"], index, 0), _indexed(["Cats"], index, 3), index
    ('3 0 1 0\\n', '1 1\\n', {'the': 0, 'cat': 1})
    """
    words = _line(tokens).lower().split()
    if prefix_len:
        words = [word[:prefix_len] for word in words]
    ids = [index.setdefault(word, len(index)) for word in words]
    if len(ids) >= _MAX_SENT_LEN:  # eflomal leaves such a sentence out (length 0: no links)
        return "0\n"
    return f"{len(ids)} {' '.join(map(str, ids))}\n"


_MAX_SENT_LEN = 0x400  # eflomal's limit (MAX_SENT_LEN in eflomal.c)


def _links_per_pair(kept: bytearray, fwd: TextIO, rev: TextIO) -> Iterator[DirectionalLinks]:
    """The forward and reverse links of each pair: the next line of each file for a pair given to eflomal."""
    for given in kept:
        if given:
            yield _parse(next(fwd)), _parse(next(rev))
        else:
            yield _NO_LINKS, _NO_LINKS


def _parse(line: str) -> frozenset[Link]:
    return frozenset((int(i), int(j)) for i, j in _LINK.findall(line))


def _read_pairs(src_path: str, tgt_path: str) -> Iterator[TokenPair]:
    """Token pairs of two line-aligned files of :func:`_line` lines."""
    with open(src_path, encoding="utf-8") as src, open(tgt_path, encoding="utf-8") as tgt:
        for src_line, tgt_line in zip(src, tgt, strict=True):
            yield src_line.split(), tgt_line.split()


def _eflomal() -> Any:
    try:
        import eflomal
    except ImportError:  # pragma: no cover - eflomal is in requirements.txt
        raise MissingDependencyError("eflomal", "the eflomal aligner") from None
    return eflomal
