"""Tagging schemes (IOB1, IOB2, BIOES/BILOU) as data, decoded by one function.

A scheme declares which tag prefixes it allows and which prefix begins, continues, ends or stands alone for a
span. :func:`tags_to_spans` reads any scheme; in ``strict`` mode a sequence the scheme forbids (an ``I-PER``
after ``O`` in IOB2) is an error, otherwise it is repaired the way IOB1 reads it (the ``I-`` starts a span) and
reported, so that an IOB1 file imports as IOB2 with a warning.

>>> tags_to_spans(["B-PER", "I-PER", "O", "B-LOC"])
[Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC')]
>>> spans_to_tags([Span(0, 2, "PER")], 3)
['B-PER', 'I-PER', 'O']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xner.errors import UnknownNameError, XnerError
from xner.options import Registry
from xner.types import Span

OUTSIDE = "O"


class TagError(XnerError):
    """An invalid tag or tag sequence; ``index`` is the 0-based token position."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"token {index}: {reason}")


@dataclass(frozen=True)
class Scheme:
    """A tagging scheme: its prefixes by role. ``end``/``single`` are None where the scheme has no such tag."""

    name: str
    begin: str
    inside: str
    end: str | None = None
    single: str | None = None

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(p for p in (self.begin, self.inside, self.end, self.single) if p is not None)


SCHEMES: Registry[Scheme] = Registry("tagging scheme")
SCHEMES.update(
    {
        "iob2": Scheme("iob2", begin="B", inside="I"),
        "iob1": Scheme("iob1", begin="B", inside="I"),
        "bioes": Scheme("bioes", begin="B", inside="I", end="E", single="S"),
        "bilou": Scheme("bilou", begin="B", inside="I", end="L", single="U"),
    }
)
# "auto" reads every scheme above at once: B/I as IOB, E/L as span end, S/U as single-token span.
AUTO = "auto"
_AUTO_ROLES = {"B": "begin", "I": "inside", "E": "end", "L": "end", "S": "single", "U": "single"}


def get_scheme(name: str) -> Scheme | None:
    """The scheme called ``name`` (None for ``auto``); unknown names raise an error listing the known ones."""
    key = name.lower()
    if key == AUTO:
        return None
    if key not in SCHEMES:  # not SCHEMES.lookup: the known names include auto
        raise UnknownNameError(SCHEMES.kind, name, [*SCHEMES, AUTO])
    return SCHEMES[key]


def split_tag(tag: str, scheme: Scheme | None = None) -> tuple[str, str]:
    """Split ``B-PER`` into ``("B", "PER")``; ``O`` gives ``("O", "")``.

    Raises:
        TagError: (index -1; callers set the position) when the tag is not ``O`` or ``PREFIX-LABEL`` with a
            prefix of the scheme.
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, label = tag.partition("-")
    allowed = scheme.prefixes if scheme is not None else tuple(_AUTO_ROLES)
    if not sep or not label or prefix not in allowed:
        expected = ", ".join(f"{p}-LABEL" for p in allowed)
        raise TagError(-1, f"invalid tag {tag!r}: expected O or one of {expected}")
    return prefix, label


def _role(prefix: str, scheme: Scheme | None) -> str:
    if scheme is None:
        return _AUTO_ROLES[prefix]
    for role in ("begin", "inside", "end", "single"):
        if getattr(scheme, role) == prefix:
            return role
    raise AssertionError(prefix)  # split_tag already checked the prefix


def tags_to_spans(tags: Sequence[str], scheme: str = AUTO, *, strict: bool = False) -> list[Span]:
    """Decode a tag sequence into sorted half-open spans.

    Args:
        tags: one tag per token.
        scheme: ``iob2``, ``iob1``, ``bioes``, ``bilou`` or ``auto`` (any of them).
        strict: raise on a sequence the scheme forbids instead of repairing it.

    Returns:
        The spans, sorted by (start, end, label).

    Raises:
        TagError: an invalid tag, or (strict) an invalid sequence; ``index`` names the token.
    """
    spans, _ = decode_tags(tags, scheme, strict=strict)
    return spans


def decode_tags(tags: Sequence[str], scheme: str = AUTO, *, strict: bool = False) -> tuple[list[Span], int]:
    """Like :func:`tags_to_spans`, also returning how many spans needed repair (IOB1-style starts).

    >>> decode_tags(["I-PER", "I-PER", "O", "I-LOC"])
    ([Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC')], 2)
    """
    spec = get_scheme(scheme)  # before the fast path, so that an unknown scheme name is never silently accepted
    if spec is None or spec.name == "iob2":
        clean = _decode_clean_iob2(tags)
        if clean is not None:
            return clean, 0
    # IOB1 legitimately starts spans with I-: that is its definition, not a repair.
    iob1 = spec is not None and spec.name == "iob1"
    spans: list[Span] = []
    repaired = 0
    start, label = -1, ""  # the open span, if start >= 0

    def close(end: int) -> None:
        nonlocal start
        if start >= 0:
            spans.append(Span(start, end, label))
        start = -1

    for index, tag in enumerate(tags):
        try:
            prefix, tag_label = split_tag(tag, spec)
        except TagError as error:
            raise TagError(index, error.reason) from None
        if prefix == OUTSIDE:
            if strict and start >= 0 and spec is not None and spec.end is not None:
                raise TagError(index, f"span {label} opened at token {start} is not closed by {spec.end}-{label}")
            close(index)
            continue
        role = _role(prefix, spec)
        continues = start >= 0 and label == tag_label
        if role == "begin":
            if strict and start >= 0 and spec is not None and spec.end is not None:
                raise TagError(index, f"{tag!r} opens a span while {label} opened at token {start} is not closed")
            close(index)
            start, label = index, tag_label
        elif role == "inside":
            if not continues:
                if strict and not iob1:
                    raise TagError(index, f"{tag!r} does not continue a {tag_label} span (previous tag ends it)")
                repaired += 0 if iob1 else 1
                close(index)
                start, label = index, tag_label
        elif role == "end":
            if not continues:
                if strict:
                    raise TagError(index, f"{tag!r} ends a {tag_label} span that was never opened")
                repaired += 1
                close(index)
                start, label = index, tag_label
            close(index + 1)
        else:  # single
            if strict and start >= 0 and spec is not None:
                raise TagError(index, f"{tag!r} while {label} opened at token {start} is not closed")
            close(index)
            spans.append(Span(index, index + 1, tag_label))
    if strict and start >= 0 and spec is not None and spec.end is not None:
        raise TagError(len(tags) - 1, f"span {label} opened at token {start} is not closed at sentence end")
    close(len(tags))
    return sorted(spans), repaired


def _decode_clean_iob2(tags: Sequence[str]) -> list[Span] | None:
    """The spans of a sequence of ``O``, ``B-X`` and ``I-X`` tags where every ``I-X`` continues an ``X`` span (what
    nearly every file holds), looking only at the entity tokens; None for anything else (the full decoder then
    reads it and words the errors). Same spans as the full decoder, in the same order.

    >>> _decode_clean_iob2(["B-PER", "I-PER", "O", "B-LOC", "B-LOC"])
    [Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC'), Span(start=4, end=5, label='LOC')]
    >>> _decode_clean_iob2(["O", "I-PER"]) is None
    True
    """
    spans: list[Span] = []
    start, label, last = -1, "", -2  # the open span and its last token
    for index in [index for index, tag in enumerate(tags) if tag != OUTSIDE]:
        tag = tags[index]
        if tag.startswith("I-") and index == last + 1 and tag[2:] == label:
            last = index
            continue
        if not tag.startswith("B-") or len(tag) == 2:
            return None
        if start >= 0:
            spans.append(Span(start, last + 1, label))
        start, label, last = index, tag[2:], index
    if start >= 0:
        spans.append(Span(start, last + 1, label))
    return spans


def spans_to_tags(spans: Sequence[Span], length: int, scheme: str = "iob2") -> list[str]:
    """Encode spans as one tag per token (IOB2 by default; ``bioes`` and ``bilou`` too).

    Raises:
        XnerError: spans overlap or reach past ``length``.
    """
    spec = get_scheme(scheme) or SCHEMES["iob2"]
    tags = [OUTSIDE] * length
    for span in sorted(spans):
        if span.end > length:
            raise XnerError(f"span [{span.start}, {span.end}) {span.label} is beyond the {length} tokens")
        if any(tag != OUTSIDE for tag in tags[span.start : span.end]):
            raise XnerError(f"span [{span.start}, {span.end}) {span.label} overlaps another span")
        if len(span) == 1 and spec.single is not None:
            tags[span.start] = f"{spec.single}-{span.label}"
            continue
        tags[span.start] = f"{spec.begin}-{span.label}"
        for index in range(span.start + 1, span.end):
            tags[index] = f"{spec.inside}-{span.label}"
        if spec.end is not None:
            tags[span.end - 1] = f"{spec.end}-{span.label}"
    return tags


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrite IOB1 tags as IOB2 (every span starts with ``B-``).

    >>> iob1_to_iob2(["I-ORG", "I-ORG", "O", "I-PER", "B-PER"])
    ['B-ORG', 'I-ORG', 'O', 'B-PER', 'B-PER']
    """
    return spans_to_tags(tags_to_spans(tags, "iob1"), len(tags))
