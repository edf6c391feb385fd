"""Word alignments in Pharaoh text form: one line per sentence pair, links ``i-j`` (sure) and ``ipj`` (possible).

Indices are 0-based in aligner output and 1-based in most gold sets (``index_base=1``); both read into 0-based
:class:`~xner.types.Alignment` objects. ``i?j`` is read as a possible link too.

>>> parse_pharaoh_line("1-1 2p3", index_base=1).to_pharaoh()
'0-0 1p2'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from xner.errors import InputError, XnerError
from xner.formats.text import PathLike, iter_line_chunks
from xner.types import Alignment, Link, ProgressFn

_LINK = re.compile(r"^(\d+)([-p?])(\d+)$")
_LINKS = re.compile(r"(\d+)([-p?])(\d+)")
_VALID_LINE = re.compile(r"\s*(?:\d+[-p?]\d+(?:\s+|$))*$")


class LinkError(XnerError):
    """A malformed link in Pharaoh text."""


def parse_pharaoh_line(text: str, *, index_base: int = 0) -> Alignment:
    """Parse one Pharaoh line into an :class:`Alignment` with 0-based indices.

    Raises:
        LinkError: a link that is not ``i-j``/``ipj``, or an index below ``index_base``.
    """
    if _VALID_LINE.match(text) is None:
        _raise_first_bad_link(text)
    # one C-level scan per line and set comprehensions: this runs for every pair a projection or evaluation reads
    found = _LINKS.findall(text)
    base = index_base
    sure: set[Link] = {(int(i) - base, int(j) - base) for i, kind, j in found if kind == "-"}
    possible: set[Link] = set()
    if len(sure) < len(found):
        possible = {(int(i) - base, int(j) - base) for i, kind, j in found if kind != "-"}
    if index_base and any(i < 0 or j < 0 for i, j in sure | possible):
        bad = next(f"{i}{kind}{j}" for i, kind, j in _LINKS.findall(text) if min(int(i), int(j)) < index_base)
        raise LinkError(f"link {bad!r} has index 0 but the file is read as 1-based (use index base 0)")
    return Alignment(sure=frozenset(sure), possible=frozenset(possible - sure))


def _raise_first_bad_link(text: str) -> None:
    for item in text.split():
        if _LINK.match(item) is None:
            raise LinkError(f"malformed link {item!r}: expected 'i-j' (sure) or 'ipj' (possible), i and j numbers")


def check_bounds(alignment: Alignment, src_len: int, tgt_len: int, *, index_base: int = 0) -> None:
    """Raise :class:`LinkError` when a link points past either sentence (message in the file's own indexing)."""
    links = alignment.links
    if not links or (max(i for i, _ in links) < src_len and max(j for _, j in links) < tgt_len):
        return
    for i, j in sorted(links):
        if i >= src_len or j >= tgt_len:
            side, index, length = ("source", i, src_len) if i >= src_len else ("target", j, tgt_len)
            raise LinkError(
                f"link {i + index_base}-{j + index_base}: {side} index {index + index_base} is beyond the "
                f"{side} sentence's {length} tokens (valid {index_base}..{length - 1 + index_base})"
            )


def read_pharaoh(
    path: PathLike,
    *,
    index_base: int = 0,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[tuple[int, Alignment]]:
    """Stream ``(line_number, alignment)`` from a Pharaoh file; an empty line is an empty alignment.

    Raises:
        InputError: a malformed link, naming file and line.
    """
    name = display_name or str(path)
    for first, lines in iter_line_chunks(path, on_progress=on_progress, display_name=display_name):
        for number, text in enumerate(lines, start=first):
            try:
                yield number, parse_pharaoh_line(text, index_base=index_base)
            except LinkError as error:
                raise InputError(name, number, str(error)) from None


def write_pharaoh(alignments: Iterable[Alignment], out: TextIO) -> int:
    """Write one Pharaoh line (0-based) per alignment; returns how many were written."""
    count = 0
    for alignment in alignments:
        out.write(alignment.to_pharaoh() + "\n")
        count += 1
    return count
