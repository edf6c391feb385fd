"""eflomal: fast statistical alignment (Östling & Tiedemann 2016), CPU only, no model needed.

eflomal learns from the text it aligns, so more parallel text helps: ``extra`` pairs (e.g. Europarl or MAFAND-MT)
are either aligned jointly with the corpus (``extra_mode="joint"``: best quality) or first aligned alone to derive
Dirichlet priors that then guide the corpus alignment (``extra_mode="priors"``: the eflomal way to reuse a large
text without re-aligning it each time). The forward and reverse alignments are symmetrised by ``symmetrization``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar, Literal

from xner.engine.align.base import ALIGNERS, PhaseFn, TokenPair
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
        with self._aligned_files(pairs, extra, on_phase) as (kept, fwd_path, rev_path):
            if on_phase:
                on_phase(f"symmetrising the links ({self.symmetrization})")
            links = _symmetrized_lines(fwd_path, rev_path, len(kept), self.symmetrization)
        result = [Alignment() for _ in pairs]
        for k, pair_links in zip(kept, links, strict=True):
            result[k] = Alignment(sure=pair_links)
        if on_progress:
            on_progress(len(pairs), len(pairs))
        return result

    def directional(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = ()
    ) -> tuple[list[set[Link]], list[set[Link]]]:
        """Forward and reverse links of each pair (before symmetrisation); empty pairs get none."""
        fwd: list[set[Link]] = [set() for _ in pairs]
        rev: list[set[Link]] = [set() for _ in pairs]
        with self._aligned_files(pairs, extra) as (kept, fwd_path, rev_path):
            count = len(kept)
            for k, f, r in zip(kept, _read_links(fwd_path, 0, count), _read_links(rev_path, 0, count), strict=True):
                fwd[k], rev[k] = f, r
        return fwd, rev

    @contextmanager
    def _aligned_files(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair], on_phase: PhaseFn | None = None
    ) -> Iterator[tuple[list[int], str, str]]:
        """Run eflomal on the non-empty ``pairs`` (with ``extra`` as ``extra_mode`` says); yields their indices and
        the forward and reverse Pharaoh files, whose first lines are their links, in that order."""
        phase = on_phase or (lambda text: None)
        with tempfile.TemporaryDirectory(prefix="xner-eflomal-") as folder:
            priors = None
            if self.extra_mode == "priors" and extra:
                phase(f"eflomal: aligning {len(extra):,} extra pairs for priors")
                priors = os.path.join(folder, "priors")
                self._write_priors(extra, priors)
                extra = ()
            kept = [k for k, (src, tgt) in enumerate(pairs) if len(src) and len(tgt)]
            both = [pairs[k] for k in kept] + [(s, t) for s, t in extra if len(s) and len(t)]
            fwd_path, rev_path = os.path.join(folder, "fwd"), os.path.join(folder, "rev")
            if both:
                phase(_sampling_phase(len(kept), len(both) - len(kept), self.n_samplers))
                src_lines, tgt_lines = [_line(s) for s, _ in both], [_line(t) for _, t in both]
                with open(priors, encoding="utf-8") if priors else nullcontext() as handle:
                    self._aligner().align(
                        src_lines,
                        tgt_lines,
                        links_filename_fwd=fwd_path,
                        links_filename_rev=rev_path,
                        priors_input=handle,
                    )
            else:  # nothing to align
                for path in (fwd_path, rev_path):
                    open(path, "w").close()
            yield kept, fwd_path, rev_path

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

    def _write_priors(self, extra: Sequence[TokenPair], path: str) -> None:
        """Align ``extra`` alone and write eflomal priors (lexical, HMM jump and fertility counts) from it."""
        import eflomal

        fwd, rev = self.directional(extra)
        src = [_line(s) for s, _ in extra]
        tgt = [_line(t) for _, t in extra]
        counts = eflomal.calculate_priors(src, tgt, [_pharaoh(x) for x in fwd], [_pharaoh(x) for x in rev])
        with open(path, "w", encoding="utf-8") as handle:
            eflomal.write_priors(handle, *counts)


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


def _read_links(path: str, start: int = 0, stop: int | None = None) -> list[set[Link]]:
    """The links of lines ``start`` … ``stop`` of an eflomal Pharaoh file."""
    with open(path, encoding="utf-8") as handle:
        return [{(int(i), int(j)) for i, j in _LINK.findall(line)} for line in islice(handle, start, stop)]


def _symmetrized_lines(fwd_path: str, rev_path: str, count: int, method: str) -> list[frozenset[Link]]:
    """The symmetrised links of the first ``count`` lines of the two files."""
    fwd, rev = _read_links(fwd_path, 0, count), _read_links(rev_path, 0, count)
    return [frozenset(symmetrize(f, r, method)) for f, r in zip(fwd, rev, strict=True)]
