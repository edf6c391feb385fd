"""eflomal: fast statistical alignment (Östling & Tiedemann 2016), CPU only, no model needed.

eflomal learns from the text it aligns, so more parallel text helps: ``extra`` pairs (e.g. Europarl or MAFAND-MT)
are either aligned jointly with the corpus (``extra_mode="joint"``: best quality) or first aligned alone to derive
Dirichlet priors that then guide the corpus alignment (``extra_mode="priors"``: the eflomal way to reuse a large
text without re-aligning it each time). The forward and reverse alignments are symmetrised by ``symmetrization``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import ClassVar, Literal

from xner.engine.align.base import ALIGNERS, ProgressFn, TokenPair
from xner.engine.align.symmetrize import symmetrize
from xner.errors import MissingDependencyError
from xner.types import Alignment, Link

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
    ) -> list[Alignment]:
        if on_progress:
            on_progress(0, len(pairs))
        links = [symmetrize(f, r, self.symmetrization) for f, r in zip(*self.directional(pairs, extra), strict=True)]
        if on_progress:
            on_progress(len(pairs), len(pairs))
        return [Alignment(sure=frozenset(pair_links)) for pair_links in links]

    def directional(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = ()
    ) -> tuple[list[set[Link]], list[set[Link]]]:
        """Forward and reverse links of each pair (before symmetrisation)."""
        if self.extra_mode == "priors" and extra:
            with tempfile.TemporaryDirectory(prefix="xner-eflomal-") as folder:
                priors = os.path.join(folder, "priors")
                self._write_priors(extra, priors)
                return self._run(pairs, priors_path=priors)
        if not extra:
            return self._run(pairs)
        fwd, rev = self._run(list(pairs) + list(extra))
        return fwd[: len(pairs)], rev[: len(pairs)]

    def _aligner(self):
        try:
            import eflomal
        except ImportError:  # pragma: no cover - eflomal is in requirements.txt
            raise MissingDependencyError("eflomal", "the eflomal aligner") from None
        return eflomal.Aligner(
            model=self.model,
            n_samplers=self.n_samplers,
            rel_iterations=self.rel_iterations,
            null_prior=self.null_prior,
            source_prefix_len=self.src_prefix_len,
            target_prefix_len=self.tgt_prefix_len,
        )

    def _run(
        self, pairs: Sequence[TokenPair], priors_path: str | None = None
    ) -> tuple[list[set[Link]], list[set[Link]]]:
        """Run eflomal on the non-empty pairs; empty ones get no links."""
        kept = [k for k, (src, tgt) in enumerate(pairs) if len(src) and len(tgt)]
        fwd: list[set[Link]] = [set() for _ in pairs]
        rev: list[set[Link]] = [set() for _ in pairs]
        if not kept:
            return fwd, rev
        with tempfile.TemporaryDirectory(prefix="xner-eflomal-") as folder:
            fwd_path, rev_path = os.path.join(folder, "fwd"), os.path.join(folder, "rev")
            src_lines = [_line(pairs[k][0]) for k in kept]
            tgt_lines = [_line(pairs[k][1]) for k in kept]
            with open(priors_path, encoding="utf-8") if priors_path else nullcontext() as priors:
                self._aligner().align(
                    src_lines, tgt_lines, links_filename_fwd=fwd_path, links_filename_rev=rev_path, priors_input=priors
                )
            for k, links in zip(kept, _read_links(fwd_path), strict=True):
                fwd[k] = links
            for k, links in zip(kept, _read_links(rev_path), strict=True):
                rev[k] = links
        return fwd, rev

    def _write_priors(self, extra: Sequence[TokenPair], path: str) -> None:
        """Align ``extra`` alone and write eflomal priors (lexical, HMM jump and fertility counts) from it."""
        import eflomal

        fwd, rev = self._run(extra)
        src = [_line(s) for s, _ in extra]
        tgt = [_line(t) for _, t in extra]
        counts = eflomal.calculate_priors(src, tgt, [_pharaoh(x) for x in fwd], [_pharaoh(x) for x in rev])
        with open(path, "w", encoding="utf-8") as handle:
            eflomal.write_priors(handle, *counts)


def _line(tokens: Sequence[str]) -> str:
    # eflomal splits on whitespace: a token with a space inside (rare, from JSONL) must stay one token
    return " ".join("_".join(token.split()) or "_" for token in tokens) + "\n"


def _pharaoh(links: Iterable[Link]) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(links))


def _read_links(path: str) -> list[set[Link]]:
    result = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            links = set()
            for item in line.split():
                i, _, j = item.partition("-")
                links.add((int(i), int(j)))
            result.append(links)
    return result
